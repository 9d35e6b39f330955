"""Finding a job by its title (skills.selectors.occupation_suggestions and the explorer's
search page): accents, case, shortened words and typos, on the small ROME fixture and, with
`-m realdata`, on the 13,120 appellations of the real ROME 4.0 export."""

import pandas as pd
import pytest
from django.urls import reverse

from skills.importers.rome import import_rome
from skills.models import Appellation, Occupation
from skills.selectors import MAX_QUERY_LENGTH, clean_query, occupation_suggestions, typo_distance

SUGGESTIONS_URL = reverse("explorer:suggestions")
SEARCH_URL = reverse("explorer:search")


def values(query, **kwargs):
    return [item["value"] for item in occupation_suggestions(query, **kwargs)]


# --- Pure parts -----------------------------------------------------------------------------


def test_typo_distance_counts_swaps_as_one():
    assert typo_distance("secretaire", "secretaire", 2) == 0
    assert typo_distance("secretiare", "secretaire", 2) == 1  # two letters swapped
    assert typo_distance("secretare", "secretaire", 2) == 1  # one missing
    assert typo_distance("sekretere", "secretaire", 2) == 3  # beyond the limit: limit + 1


def test_a_query_is_cut_and_control_characters_refused():
    assert clean_query("  comptable  ") == "comptable"
    assert len(clean_query("a" * 5000)) == MAX_QUERY_LENGTH
    assert clean_query("secr\x00etaire") == ""
    assert clean_query("ligne\nsuivante") == ""
    assert clean_query(None) == ""


# --- On the ROME fixture ----------------------------------------------------------------------


@pytest.fixture
def rome(db, fixtures_dir):
    """13 fiches and 14 appellations cut from the real v460 export (tests/fixtures/rome)."""
    import_rome(fixtures_dir / "rome")


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("secretaire", "Secrétaire (M1607)"),
        ("SECRÉTAIRE", "Secrétaire (M1607)"),
        ("developpeuse web", "Développeur / Développeuse web (M1855)"),
        ("dévelopeur web", "Développeur / Développeuse web (M1855)"),  # one « p »
        ("archeologue", "Archéologue (K2125)"),
        ("archeolgoue", "Archéologue (K2125)"),  # two letters swapped
        ("assistante admin", "Assistant administratif / Assistante administrative (M1607)"),
        ("data engi", "Data engineer (M1811)"),
        ("M1607", "Secrétaire (M1607)"),
        ("m18", "Expert / Experte systèmes et réseaux informatiques (M1802)"),
    ],
)
def test_titles_are_found_whatever_the_accents_case_and_typos(rome, query, first):
    assert values(query)[0] == first


def test_an_appellation_leads_to_its_fiche(rome):
    item = next(s for s in occupation_suggestions("agente administrative") if s["code"] == "M1602")
    assert item["label"] == "Agent administratif / Agente administrative"
    # The appellation spelt as its fiche is not repeated.
    assert values("agent administratif") == ["Agent administratif / Agente administrative (M1602)"]
    through = occupation_suggestions("assistante administrative")[0]
    assert (through["code"], through["label"], through["appellation"]) == (
        "M1607",
        "Secrétaire",
        "Assistant administratif / Assistante administrative",
    )


def test_nothing_is_found_for_nonsense_and_the_limit_holds(rome):
    assert occupation_suggestions("zzzzqqq") == []
    assert occupation_suggestions("") == []
    assert occupation_suggestions("!!!") == []
    assert len(occupation_suggestions("in", limit=3)) <= 3


def test_the_index_follows_a_new_import(rome):
    assert values("boulanger") == []
    fiche = Occupation.objects.create(code="D1102", level=Occupation.Level.FICHE, label="Boulanger / Boulangère")
    Appellation.objects.create(code="11573", label="Boulanger-pâtissier / Boulangère-pâtissière", occupation=fiche)
    assert values("boulangere patissiere")[0] == "Boulanger-pâtissier / Boulangère-pâtissière (D1102)"


def test_the_suggestions_endpoint_answers_anyone_with_json(client, rome, django_assert_max_num_queries):
    occupation_suggestions("x")  # the title index, built once per process
    with django_assert_max_num_queries(2):
        response = client.get(SUGGESTIONS_URL, {"q": "secretaire"})
    assert response.status_code == 200
    assert response.json()[0] == {
        "code": "M1607",
        "label": "Secrétaire",
        "appellation": None,
        "value": "Secrétaire (M1607)",
    }
    assert client.get(SUGGESTIONS_URL, {"q": "s"}).json() == []  # from two characters


def test_the_search_page_lists_one_line_per_job_without_javascript(client, rome):
    response = client.get(SEARCH_URL, {"q": "developpeur"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count(reverse("explorer:occupation", args=["M1855"])) == 1
    assert "Développeur / Développeuse informatique" in page  # its appellation « Analyste développeur » too
    assert "Aucun métier ne correspond" in client.get(SEARCH_URL, {"q": "zzzzqqq"}).content.decode()


# --- On the real ROME 4.0 appellations --------------------------------------------------------


@pytest.fixture
def real_titles(db, shared_data):
    """The 1,584 fiches and 13,120 appellations of the real v460 export, written straight
    from its two files (the full import, items and links included, takes half a minute)."""
    folder = shared_data / "rome4-francetravail"
    fiches = pd.read_csv(folder / "unix_referentiel_code_rome_v460_utf8.csv", dtype=str, keep_default_na=False)
    titles = pd.read_csv(folder / "unix_referentiel_appellation_v460_utf8.csv", dtype=str, keep_default_na=False)
    Occupation.objects.bulk_create(
        Occupation(code=code, level=Occupation.Level.FICHE, label=label)
        for code, label in zip(fiches["code_rome"], fiches["libelle_rome"], strict=True)
    )
    Appellation.objects.bulk_create(
        Appellation(code=code, label=label, occupation_id=fiche, rarely_used=rare == "O")
        for code, label, fiche, rare in zip(
            titles["code_ogr"],
            titles["libelle_appellation_long"],
            titles["code_rome"],
            titles["peu_usite"],
            strict=True,
        )
    )
    assert Appellation.objects.count() == 13120


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("secretaire compta", "Secrétaire comptable (M1608)"),
        ("secrétaire comptable", "Secrétaire comptable (M1608)"),
        ("secretiare comptable", "Secrétaire comptable (M1608)"),
        ("SECRETAIRE COMPTABLE", "Secrétaire comptable (M1608)"),
        ("comptbale", "Comptable (M1203)"),
        ("aide soignante", "Aide-soignant / Aide-soignante (J1501)"),
        ("aide-soigant", "Aide-soignant / Aide-soignante (J1501)"),
        ("cariste", "Cariste (N1101)"),
        ("boulangere", "Boulanger / Boulangère (D1102)"),
        ("developeur web", "Développeur / Développeuse web (M1855)"),
        ("macon", "Maçon / Maçonne (F1703)"),
        ("plombier", "Plombier / Plombière sanitaire (F1603)"),  # the fiche before its appellations
    ],
)
def test_real_titles_are_found_with_accents_and_typos(real_titles, query, first):
    assert values(query)[0] == first


@pytest.mark.realdata
def test_the_real_search_page_finds_secretaire_comptable(client, real_titles):
    page = client.get(SEARCH_URL, {"q": "secretaire compta"}).content.decode()
    assert reverse("explorer:occupation", args=["M1608"]) in page
