"""The occupation pages: search (without JavaScript), autocomplete, and the page of one fiche
with its task profiles, formulas, départements, mobilités, external indices and appellations."""

import json
import math

import pytest
from django.urls import reverse

from observatory import selectors, services
from observatory.models import Lens
from skills.models import Appellation, ExposureIndex, ExposureIndexScore, Mobility, OccupationTaskProfile
from tests.companies.factories import CommuneFactory, DepartementFactory, EstablishmentFactory, JobPositionFactory
from tests.observatory.test_grid_run import hand_worked  # noqa: F401  (fixture)
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.django_db

SEARCH_URL = reverse("observatory:occupations")
AUTOCOMPLETE_URL = reverse("observatory:occupation_autocomplete")


def detail_url(code):
    return reverse("observatory:occupation", args=[code])


def _compute(lens=Lens.DEFAULT):
    return services.grid_run_compute(services.grid_run_create(lens=lens).pk)


@pytest.fixture
def occupations(hand_worked):  # noqa: F811
    """The hand-worked Secrétaire (M1607) with two appellations, a less exposed target of
    mobility (Aide-soignant, J1501: mostly non-routine manual and interpersonal work) and a
    more exposed one (Comptable, M1203: mostly routine cognitive work), both reported by two
    companies only."""
    Appellation.objects.create(code="38660", label="Secrétaire médicale", occupation=hand_worked)
    Appellation.objects.create(code="38674", label="Assistant / Assistante de secrétariat", occupation=hand_worked)
    carer = OccupationFactory(code="J1501", label="Aide-soignant / Aide-soignante", parent__code="J15")
    OccupationTaskProfile.objects.create(occupation=carer, rc=0.05, rm=0.10, nra=0.05, nri=0.40, nrm=0.40)
    accountant = OccupationFactory(code="M1203", label="Comptable", parent__code="M12")
    OccupationTaskProfile.objects.create(occupation=accountant, rc=0.80, rm=0.05, nra=0.10, nri=0.05, nrm=0.0)
    Appellation.objects.create(code="10101", label="Aide-comptable", occupation=accountant)
    Mobility.objects.create(source=hand_worked, target=accountant, rank=1)
    Mobility.objects.create(source=hand_worked, target=carer, rank=2)
    amiens = CommuneFactory(code="80021", name="Amiens", parent=DepartementFactory(code="80", name="Somme"))
    for fiche in (carer, accountant):
        for _ in range(2):
            JobPositionFactory(establishment=EstablishmentFactory(commune=amiens), occupation=fiche, headcount=4)
    return hand_worked


@pytest.fixture
def run(occupations):
    return _compute()


# --- Access -----------------------------------------------------------------------------


ROUTES = [
    (SEARCH_URL, {}),
    (SEARCH_URL, {"q": "secr"}),
    (AUTOCOMPLETE_URL, {"q": "secr"}),
    (detail_url("M1607"), {}),
]


@pytest.mark.parametrize(("url", "params"), ROUTES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, run, url, params):
    response = client.get(url, params)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("role", ["plain_user", "curator"])
@pytest.mark.parametrize(("url", "params"), ROUTES)
def test_company_members_and_curators_are_refused(client, request, run, role, url, params):
    client.force_login(request.getfixturevalue(role))
    assert client.get(url, params).status_code == 403


@pytest.mark.parametrize("role", ["analyst", "superuser"])
@pytest.mark.parametrize(("url", "params"), ROUTES)
def test_analysts_and_superusers_are_served(client, request, run, role, url, params):
    client.force_login(request.getfixturevalue(role))
    assert client.get(url, params).status_code == 200


@pytest.mark.parametrize("code", ["Z9999", "M16", "M"])
def test_only_known_fiches_have_a_page(client, analyst, run, code):
    client.force_login(analyst)
    assert client.get(detail_url(code)).status_code == 404


# --- The page of a fiche ------------------------------------------------------------------


def test_the_page_shows_the_hand_worked_exposure_and_formula(client, analyst, run):
    """M1607: n = 4 reporting companies, m = 5, blended RC 5/9, RM .5/9, NRA 1.7/9, NRI 1.3/9,
    NRM .5/9; E = 5.6 / 9 = 0.622 (medium); RTI = ln(33) = 3.50; 65 employees."""
    client.force_login(analyst)
    response = client.get(detail_url("M1607"))
    html = response.content.decode()
    assert "<h1>Secrétaire" in html
    assert "Secrétariat et assistance" in html and "Support à l&#x27;entreprise" in html  # domaine, grand domaine
    assert response.context["score"].exposure == pytest.approx(5.6 / 9)
    assert "0,62" in html and "Changement significatif" in html
    # The formula written out with the run's α and the blended shares.
    assert "0,85 × 0,556 + 0,55 × 0,056 + 0,45 × 0,189 + 0,20 × 0,144 + 0,10 × 0,056 = <strong>0,622</strong>" in html
    assert "<em>n</em> = 4 entreprises déclarantes" in html and "<em>m</em> = 5,0" in html
    assert "E ≥ 0,70" in html and "de 0,50 à 0,70" in html
    assert f"= <strong>{math.log(33):.2f}".replace(".", ",") in html
    assert "ln(0,611) − ln(0,333) − ln(0,056)" in html
    # 65 employees in 4 companies over the whole area.
    total = response.context["territories"][0]
    assert (total["level"], total["employees"], total["companies"]) == ("all", 65, 4)
    assert "dans 4 entreprises" in html


def test_the_three_profiles_are_shown_with_the_category_labels(client, analyst, run):
    client.force_login(analyst)
    response = client.get(detail_url("M1607"))
    profile = {row["code"]: row for row in response.context["profile"]}
    assert profile["RC"]["label"] == "Routinier cognitif"
    assert profile["RC"]["reference"] == pytest.approx(0.6)
    assert profile["RC"]["field"] == pytest.approx(0.5)
    assert profile["RC"]["blended"] == pytest.approx(5 / 9)
    assert response.context["show_field"]
    figure = json.loads(response.context["profile_figure"])
    assert [trace["name"] for trace in figure["data"]] == ["Référence", "Terrain (entreprises)", "Mélangé (retenu)"]
    assert figure["data"][0]["x"][0] == pytest.approx(60)  # percent points
    html = response.content.decode()
    assert "Non routinier interpersonnel" in html and "55,6\u00a0%" in html
    assert 'data-figure="profile-figure" role="img" aria-label="Profil de tâches retenu' in html


def test_the_field_profile_is_hidden_below_three_reporting_companies(client, analyst, run):
    client.force_login(analyst)
    response = client.get(detail_url("M1203"))  # two reporting companies
    assert response.context["has_field"] and not response.context["show_field"]
    html = response.content.decode()
    assert "Les profils de terrain et retenu ne sont pas affichés" in html and "moins de 3 entreprises" in html
    assert '<th scope="col" class="num">Terrain</th>' not in html
    # The blend would give the two companies' answers back (the reference and m are public).
    assert not response.context["show_blended"]
    assert all(row["blended"] is None for row in response.context["profile"])
    assert response.context["rti_terms"] is None
    figure = json.loads(response.context["profile_figure"])
    assert [trace["name"] for trace in figure["data"]] == ["Référence"]
    # Nor is the exact number of reporting companies written out.
    assert "<em>n</em> = moins de 3" in html


def test_departements_are_listed_with_secrecy(client, analyst, run):
    client.force_login(analyst)
    rows = {row["code"]: row for row in client.get(detail_url("M1607")).context["territories"]}
    assert rows["62"]["secret"] and rows["62"]["secret_label"] == "moins de 3 entreprises"
    assert rows["59"]["secret"] and rows["59"]["secret_label"] == "secret secondaire"
    assert rows["59"]["employees"] is None and rows["62"]["employees"] is None
    assert rows["59"]["name"] == "Nord"


def test_mobilities_are_sorted_by_exposure_difference_less_exposed_highlighted(client, analyst, run):
    client.force_login(analyst)
    response = client.get(detail_url("M1607"))
    mobilities = response.context["mobilities"]
    assert [row["code"] for row in mobilities] == ["J1501", "M1203"]
    carer, accountant = mobilities
    assert carer["less_exposed"] and carer["difference"] < 0 and carer["difference_text"].startswith("−")
    assert not accountant["less_exposed"] and accountant["difference_text"].startswith("+")
    assert carer["rank"] == 2 and accountant["rank"] == 1  # the ROME's order is kept beside
    html = response.content.decode()
    assert html.count('class="is-less-exposed"') == 1


def test_external_indices_are_shown_side_by_side(client, analyst, run):
    client.force_login(analyst)
    assert "Aucun indice externe n'a encore été importé" in client.get(detail_url("M1607")).content.decode()
    index = ExposureIndex.objects.create(name="OIT 2025", code_system="isco08")
    ExposureIndexScore.objects.create(
        index=index, occupation_id="M1607", score=0.8, raw_score=0.58, matched_codes="4120"
    )
    response = client.get(detail_url("M1607"))
    html = response.content.decode()
    assert "OIT 2025" in html and "0,80" in html and "4120" in html
    figure = json.loads(response.context["indices_figure"])
    assert figure["data"][0]["y"] == ["Observatoire (Par défaut)", "OIT 2025"]
    assert figure["data"][0]["x"] == pytest.approx([5.6 / 9, 0.8])


def test_appellations_are_listed(client, analyst, run):
    client.force_login(analyst)
    html = client.get(detail_url("M1607")).content.decode()
    assert "Secrétaire médicale" in html and "Assistant / Assistante de secrétariat" in html


def test_the_lens_switch_changes_the_exposure(client, analyst, occupations):
    _compute(Lens.DEFAULT)
    _compute(Lens.GENAI)
    client.force_login(analyst)
    response = client.get(detail_url("M1607"), {"lens": "genai"})
    # Generative-AI α: (.90·5 + .10·.5 + .60·1.7 + .25·1.3 + .05·.5) / 9 = 5.92 / 9.
    assert response.context["score"].exposure == pytest.approx(5.92 / 9)
    assert "« IA générative », version 1" in response.content.decode()


def test_a_page_without_any_run_still_shows_the_reference_data(client, analyst, occupations):
    client.force_login(analyst)
    response = client.get(detail_url("M1607"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Aucune grille n'a encore été calculée" in html and "Secrétaire médicale" in html


# --- Search -------------------------------------------------------------------------------


def test_search_ignores_accents_and_case(client, analyst, run):
    client.force_login(analyst)
    response = client.get(SEARCH_URL, {"q": "SECRETAIRE"})
    results = response.context["results"]
    assert [row["code"] for row in results] == ["M1607"]
    assert results[0]["exposure"] == pytest.approx(5.6 / 9) and results[0]["exposure_class"] == "medium"
    html = response.content.decode()
    assert "1 résultat pour « SECRETAIRE »" in html
    assert f'href="{detail_url("M1607")}"' in html and "0,62" in html


def test_search_by_code_and_by_appellation(client, analyst, run):
    client.force_login(analyst)
    by_code = client.get(SEARCH_URL, {"q": "m12"}).context["results"]
    assert [row["code"] for row in by_code] == ["M1203"]
    by_appellation = client.get(SEARCH_URL, {"q": "secretariat"}).context["results"]
    assert [(row["code"], row["appellation"]) for row in by_appellation] == [
        ("M1607", "Assistant / Assistante de secrétariat")
    ]
    assert (
        "appellation « Assistant / Assistante de secrétariat »"
        in client.get(SEARCH_URL, {"q": "secretariat"}).content.decode()
    )


def test_search_ranks_code_and_label_matches_before_appellations(run):
    rows, more = selectors.occupation_search("compta", run)
    assert [row["code"] for row in rows] == ["M1203"] and not more
    rows, _ = selectors.occupation_search("aide", run)
    # « Aide-soignant » by its label, « Comptable » through « Aide-comptable ».
    assert [row["code"] for row in rows] == ["J1501", "M1203"]
    assert rows[1]["appellation"] == "Aide-comptable"


def test_the_search_page_without_a_query_lists_the_most_exposed(client, analyst, run):
    client.force_login(analyst)
    response = client.get(SEARCH_URL)
    codes = [row["code"] for row in response.context["results"]]
    assert codes[0] == "M1203" and set(codes) == {"M1203", "M1607", "J1501"}
    html = response.content.decode()
    # Works without JavaScript: a plain GET form to this page.
    assert f'action="{SEARCH_URL}"' in html and 'name="q"' in html
    assert 'for="occupation-q"' in html


def test_an_empty_search_says_so(client, analyst, run):
    client.force_login(analyst)
    html = client.get(SEARCH_URL, {"q": "astronaute"}).content.decode()
    assert "Aucun métier ne correspond à « astronaute »" in html


def test_the_search_pattern_ignores_accents_case_and_apostrophes():
    import re

    pattern = selectors.accent_insensitive_pattern("Secrétaire d'état")
    for label in ("Secrétaire d’État", "SECRETAIRE D ETAT", "secrétaire d'état"):
        assert re.search(pattern, label, re.IGNORECASE), label
    assert not re.search(pattern, "Secrétaire de direction", re.IGNORECASE)


# --- Autocomplete ---------------------------------------------------------------------------


def test_autocomplete_needs_two_characters(client, analyst, run):
    client.force_login(analyst)
    assert client.get(AUTOCOMPLETE_URL, {"q": "s"}).json() == []
    assert client.get(AUTOCOMPLETE_URL).json() == []


def test_autocomplete_returns_fiches_then_appellations(client, analyst, run):
    client.force_login(analyst)
    suggestions = client.get(AUTOCOMPLETE_URL, {"q": "secre"}).json()
    assert suggestions == [
        {"code": "M1607", "label": "Secrétaire", "appellation": None},
        {"code": "M1607", "label": "Secrétaire", "appellation": "Secrétaire médicale"},
        {"code": "M1607", "label": "Secrétaire", "appellation": "Assistant / Assistante de secrétariat"},
    ]


def test_autocomplete_returns_at_most_ten(client, analyst, run):
    for number in range(15):
        OccupationFactory(code=f"K21{number:02d}", label=f"Métier de test {number}", parent__code="K21")
    client.force_login(analyst)
    suggestions = client.get(AUTOCOMPLETE_URL, {"q": "metier de"}).json()
    assert len(suggestions) == 10
    assert set(suggestions[0]) == {"code", "label", "appellation"}


# --- Bounded queries ----------------------------------------------------------------------


def test_the_pages_run_a_bounded_number_of_queries(client, analyst, run, django_assert_max_num_queries):
    index = ExposureIndex.objects.create(name="OIT 2025", code_system="isco08")
    ExposureIndexScore.objects.create(index=index, occupation_id="M1607", score=0.8)
    client.force_login(analyst)
    # Session, user and groups, then the page's own reads (ten in all for a fiche).
    with django_assert_max_num_queries(10):
        assert client.get(detail_url("M1607")).status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get(SEARCH_URL, {"q": "secr"}).status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get(SEARCH_URL).status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get(AUTOCOMPLETE_URL, {"q": "aide"}).status_code == 200
