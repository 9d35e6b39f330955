"""The method page explains how a fiche's reference profile is built, counts how the
savoir-faire are classified, and draws, for each lens, the exposure of every fiche with the
lens's class thresholds."""

import json
from html import unescape

import pytest
from django.urls import reverse

from observatory.charts.common import format_percent
from observatory.models import Lens, Methodology
from skills.models import OccupationItem, OccupationTaskProfile, RomeItem
from skills.services import item_override_create
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.django_db

URL = reverse("observatory:methodology")
CORE, OTHER = OccupationItem.Core.MAIN, OccupationItem.Core.OTHER


def skill(code, label, rule="", **shares):
    values = {c: shares.get(c, 0.0) for c in ("rc", "rm", "nra", "nri", "nrm")} if shares else {}
    return RomeItem.objects.create(code=code, kind=RomeItem.Kind.SKILL, label=label, rule=rule, **values)


@pytest.fixture
def rome(analyst):
    """Three fiches in two domaines. « Saisir » (RC), « Conseiller » (NRI) and « Conditionner »
    (RM) are classified by the lexicon; « Élaborer » by nobody but a person (NRA); one item is
    hors tâche and one unmatched."""
    m1601, m1602, h2101 = (OccupationFactory(code=code) for code in ("M1601", "M1602", "H2101"))
    enter = skill("100001", "Saisir des documents", "verbe:saisir", rc=1.0)
    advise = skill("100002", "Conseiller un client", "verbe:conseiller", nri=1.0)
    pack = skill("100003", "Conditionner des produits", "verbe:conditionner", rm=1.0)
    plan = skill("100004", "Élaborer un plan de formation")
    conduct = skill("100005", "Respecter les règles d'hygiène", "hors_tache:respecter")
    odd = skill("100006", "Orchestrer des sessions")
    links = [
        (m1601, enter, CORE),
        (m1601, advise, OTHER),
        (m1601, plan, OTHER),
        (m1601, conduct, OTHER),
        (m1602, advise, CORE),
        (m1602, conduct, OTHER),
        (h2101, pack, CORE),
        (h2101, enter, OTHER),
        (h2101, odd, OTHER),
    ]
    OccupationItem.objects.bulk_create(OccupationItem(occupation=o, item=i, core=c) for o, i, c in links)
    item_override_create(item=plan, shares={"rc": 0, "rm": 0, "nra": 1, "nri": 0, "nrm": 0}, user=analyst)
    return {"fiches": [m1601, m1602, h2101]}


def hand_profiles():
    """The reference profiles of the `rome` fixture, by hand (skills/profiles.py formula, with
    the default parameters: core items weigh 2, others 1, k = 8, no work context).

    M1601: Saisir (core, RC) + Conseiller (NRI) + Élaborer (corrected: NRA) → evidence 4,
    sums RC 2, NRI 1, NRA 1. M1602: Conseiller (core) → evidence 2, NRI 2. Domaine M16 pools
    them: RC 2/6, NRI 3/6, NRA 1/6. H2101: Conditionner (core, RM) + Saisir → RM 2/3, RC 1/3,
    the same as its domaine H21, so shrinkage leaves it there."""
    k = 8
    prior = {"rc": 2 / 6, "nri": 3 / 6, "nra": 1 / 6}
    m1601 = {c: (own + k * prior[c]) / (4 + k) for c, own in {"rc": 2, "nri": 1, "nra": 1}.items()}
    m1602 = {c: (own + k * prior[c]) / (2 + k) for c, own in {"rc": 0, "nri": 2, "nra": 0}.items()}
    h2101 = {"rm": 2 / 3, "rc": 1 / 3}
    return {"M1601": m1601, "M1602": m1602, "H2101": h2101}


def hand_exposures(methodology):
    alpha = methodology.susceptibility
    return {code: sum(alpha[c] * share for c, share in profile.items()) for code, profile in hand_profiles().items()}


def test_the_page_explains_how_a_reference_profile_is_built(client, analyst, rome):
    client.force_login(analyst)
    body = unescape(client.get(URL).content.decode())
    for words in ("verbe de tête", "indices d'objet", "éléments mixtes", "hors tâche", "cœur de métier"):
        assert words in body, words
    assert "s(o) = (e(o) · s<sub>brut</sub>(o) + k · s<sub>domaine</sub>(d)) / (e(o) + k), avec k = 8" in body
    assert "un savoir-faire cœur de métier pèse 2" in body
    assert "c = 0,04" in body
    assert "moins exposée d'au moins 0,05" in body
    assert "Un profil importé prime" in body


def test_the_page_counts_how_the_savoir_faire_are_classified(client, analyst, rome):
    client.force_login(analyst)
    response = client.get(URL)
    rows = {row["status"]: row for row in response.context["classification"]}
    # 9 links in all: 5 to the 3 items the lexicon classified, 1 corrected, 2 hors tâche, 1 unmatched.
    assert {status: (row["items"], row["links"]) for status, row in rows.items()} == {
        "classe": (3, 5),
        "corrige": (1, 1),
        "hors_tache": (1, 2),
        "non_classe": (1, 1),
    }
    assert rows["classe"]["link_share"] == pytest.approx(5 / 9)
    body = unescape(response.content.decode())
    assert format_percent(5 / 9) in body and format_percent(2 / 9) in body
    assert "Corrigé par une personne" in body and "Non classé" in body


def test_each_lens_draws_the_exposure_of_every_fiche_with_its_thresholds(client, analyst, rome):
    client.force_login(analyst)
    response = client.get(URL)
    body = unescape(response.content.decode())
    distributions = {item["lens"]: item for item in response.context["distributions"]}
    assert set(distributions) == set(Lens.values)
    for lens in Lens.values:
        methodology = Methodology.objects.current(lens)
        item = distributions[lens]
        assert item["methodology"] == methodology
        figure = json.loads(item["figure"])
        # Every fiche once, in the trace of its class, at its exposure computed by hand.
        drawn = {}
        for trace in figure["data"]:
            assert trace["type"] == "histogram"
            drawn[trace["name"]] = trace["x"]
        expected = hand_exposures(methodology)
        high, medium = methodology.high_threshold, methodology.medium_threshold
        by_class = {
            "Forte": sorted((c for c, e in expected.items() if e >= high)),
            "Changement significatif": sorted((c for c, e in expected.items() if medium <= e < high)),
            "Faible": sorted((c for c, e in expected.items() if e < medium)),
        }
        for name, codes in by_class.items():
            assert drawn[name] == pytest.approx([expected[code] for code in codes]), (lens, name)
        # The two thresholds are drawn as labelled vertical lines.
        lines = sorted(shape["x0"] for shape in figure["layout"]["shapes"])
        assert lines == pytest.approx(sorted([medium, high]))
        labels = " ".join(note["text"] for note in figure["layout"]["annotations"])
        assert f"Forte ≥ {high:.2f}".replace(".", ",") in labels
        assert f"Changement significatif ≥ {medium:.2f}".replace(".", ",") in labels
        # And the sentence under the histogram says what share of fiches falls in each class.
        assert f"Les seuils de cette lecture, {high:.2f} et {medium:.2f}".replace(".", ",") in body
        shares = {name: len(codes) / 3 for name, codes in by_class.items()}
        assert item["shares"] == pytest.approx(
            {"high": shares["Forte"], "medium": shares["Changement significatif"], "low": shares["Faible"]}
        )
        sentence = (
            f"{format_percent(shares['Forte'])} sont en exposition forte, "
            f"{format_percent(shares['Changement significatif'])} en changement significatif et "
            f"{format_percent(shares['Faible'])} en exposition faible"
        )
        assert sentence in body, lens
    assert "90<sup>e</sup> et 65<sup>e</sup> centiles" in body
    assert body.count('data-figure="histogram-') == 3


def test_the_default_lens_classes_the_fiches_as_computed_by_hand(client, analyst, rome):
    """With the default lens (v2: thresholds 0.48 and 0.44), M1601 (E ≈ 0.501) and H2101
    (E = 0.65) are in « forte », M1602 (E ≈ 0.407) in « faible »."""
    client.force_login(analyst)
    distributions = {item["lens"]: item for item in client.get(URL).context["distributions"]}
    default = distributions["default"]
    assert default["counts"] == {"low": 1, "medium": 0, "high": 2}
    assert hand_exposures(default["methodology"])["M1601"] == pytest.approx(
        0.85 * 14 / 36 + 0.2 * 5 / 12 + 0.45 * 14 / 72
    )


def test_an_imported_profile_takes_precedence(client, analyst, rome):
    OccupationTaskProfile.objects.create(occupation_id="M1602", rc=0, rm=0, nra=0, nri=0, nrm=1, source="test")
    client.force_login(analyst)
    response = client.get(URL)
    assert response.context["profile_sources"] == {"rome_items": 2, "imported": 1, "domain_defaults": 0}
    default = {item["lens"]: item for item in response.context["distributions"]}["default"]
    drawn = sorted(x for trace in json.loads(default["figure"])["data"] for x in trace["x"])
    methodology = default["methodology"]
    expected = hand_exposures(methodology) | {"M1602": methodology.alpha_nrm}
    assert drawn == pytest.approx(sorted(expected.values()))


def test_lenses_with_other_profile_parameters_get_their_own_profiles(client, analyst, rome):
    from observatory import services

    services.methodology_create_version(lens="genai", user=analyst, profile_shrinkage=0.0)
    client.force_login(analyst)
    distributions = {item["lens"]: item for item in client.get(URL).context["distributions"]}
    genai = distributions["genai"]
    drawn = sorted(x for trace in json.loads(genai["figure"])["data"] for x in trace["x"])
    alpha = genai["methodology"].susceptibility
    # Without shrinkage each fiche is read from its own items alone.
    raw = {
        "M1601": {"rc": 2 / 4, "nri": 1 / 4, "nra": 1 / 4},
        "M1602": {"nri": 1.0},
        "H2101": {"rm": 2 / 3, "rc": 1 / 3},
    }
    expected = sorted(sum(alpha[c] * s for c, s in profile.items()) for profile in raw.values())
    assert drawn == pytest.approx(expected)


def test_the_page_runs_a_bounded_number_of_queries(client, analyst, rome, django_assert_max_num_queries):
    client.force_login(analyst)
    client.get(URL)  # the session and the role names are read once
    with django_assert_max_num_queries(16):
        assert client.get(URL).status_code == 200
    # More fiches and items do not add queries.
    more = [OccupationFactory(code=f"M16{n:02d}") for n in range(10, 30)]
    item = RomeItem.objects.get(code="100001")
    OccupationItem.objects.bulk_create(OccupationItem(occupation=o, item=item) for o in more)
    with django_assert_max_num_queries(16):
        assert client.get(URL).status_code == 200


def test_the_page_works_without_any_fiche(client, analyst):
    client.force_login(analyst)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["distributions"] == []
    assert "ne peut pas être tracée" in unescape(response.content.decode())
