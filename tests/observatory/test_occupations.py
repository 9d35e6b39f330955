"""The occupation pages: search (without JavaScript), autocomplete, and the page of one fiche
with its task profiles, why it is exposed (its ROME items), formulas, départements, suggested
transitions, external indices and appellations."""

import json
import math

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from observatory import selectors, services
from observatory.charts.common import format_number
from observatory.models import Lens
from skills.models import (
    ExposureIndex,
    ExposureIndexScore,
    ItemOverride,
    Mobility,
    OccupationTaskProfile,
    RomeItem,
)
from skills.text import accent_insensitive_pattern
from tests.rome_items import link_item
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.django_db

SEARCH_URL = reverse("observatory:occupations")
AUTOCOMPLETE_URL = reverse("observatory:occupation_autocomplete")


def detail_url(code):
    return reverse("observatory:occupation", args=[code])


def _compute(lens=Lens.DEFAULT):
    return services.grid_run_compute(services.grid_run_create(lens=lens).pk)


@pytest.fixture
def run(occupations):
    return _compute()


@pytest.fixture
def items_run(items):
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
    # Above the default lens's thresholds (0,48 and 0,44): high exposure.
    assert "0,62" in html and 'badge-high">Forte</span> sur une échelle' in html
    # The formula written out with the run's α and the blended shares.
    assert "0,85 × 0,556 + 0,55 × 0,056 + 0,45 × 0,189 + 0,20 × 0,144 + 0,10 × 0,056 = <strong>0,622</strong>" in html
    assert "<em>n</em> = 4 entreprises déclarantes" in html and "<em>m</em> = 5,0" in html
    assert "E ≥ 0,48" in html and "de 0,44 à 0,48" in html
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
    assert "Le profil de terrain n'est pas affiché et ne compte pas" in html and "moins de 3 entreprises" in html
    assert '<th scope="col" class="num">Terrain</th>' not in html
    # Two companies' answers do not move the blend (with the reference and m public they would
    # be solved back): the published profile is the reference, and shown as such.
    assert response.context["show_blended"]
    assert all(row["blended"] == pytest.approx(row["reference"]) for row in response.context["profile"])
    # Nor is the exact number of reporting companies written out.
    assert "<em>n</em> = moins de 3" in html


def test_departements_are_listed_with_secrecy(client, analyst, run):
    client.force_login(analyst)
    rows = {row["code"]: row for row in client.get(detail_url("M1607")).context["territories"]}
    assert rows["62"]["secret"] and rows["62"]["secret_label"] == "moins de 3 entreprises"
    assert rows["59"]["secret"] and rows["59"]["secret_label"] == "secret secondaire"
    assert rows["59"]["employees"] is None and rows["62"]["employees"] is None
    assert rows["59"]["name"] == "Nord"


# --- Why this exposure ---------------------------------------------------------------------


def _section(html, title_id):
    start = html.index(f'id="{title_id}"')
    return html[start : html.index("</section>", start)]


def test_the_savoir_faire_are_listed_under_their_category_with_weights_and_rules(client, analyst, items_run):
    client.force_login(analyst)
    response = client.get(detail_url("M1607"))
    breakdown = response.context["breakdown"]
    groups = {group["code"]: group for group in breakdown["groups"]}
    assert [item["label"] for item in groups["RC"]["items"]] == [
        "Saisir des documents",
        "Vérifier la conformité d'un dossier",
    ]
    assert [item["label"] for item in groups["NRI"]["items"]] == ["Accueillir une personne"]
    assert groups["NRA"]["items"] == [] and groups["RM"]["items"] == []
    assert groups["RC"]["share"] == pytest.approx(0.56) and groups["NRA"]["share"] == pytest.approx(0.20)
    assert groups["NRI"]["share"] == pytest.approx(0.24)
    entry, check = groups["RC"]["items"]
    assert entry["weight"] == pytest.approx(0.40) and entry["core"] == "principale"
    assert check["weight"] == pytest.approx(0.16) and check["mixed"]
    assert check["shares"] == "RC 80\u00a0%, NRA 20\u00a0%"
    assert breakdown["evidence"] == 3
    html = _section(response.content.decode(), "why-title")
    # Headings in category order, each followed by its own items.
    rc, nri = html.index('id="why-rc"'), html.index('id="why-nri"')
    assert rc < html.index("Saisir des documents") < html.index("Vérifier la conformité") < nri
    assert nri < html.index("Accueillir une personne")
    assert 'Routinier cognitif <span class="code">RC</span> — 56,0\u00a0% des savoir-faire classés' in html
    assert "40,0\u00a0%" in html and "16,0\u00a0%" in html and "24,0\u00a0%" in html
    assert "cœur de métier" in html
    assert "verbe « saisir » + objet « documents »" in html
    assert "verbe « vérifier » + objet « dossier »" in html
    # Items without shares weigh nothing, and say why.
    assert "2 savoir-faire sans effet sur le profil" in html
    assert 'Respecter les règles d&#x27;hygiène</a> — <span class="rule">hors tâche (« respecter »)' in html
    assert 'Piloter un drone</a> — <span class="rule">non classé' in html
    assert f'href="{reverse("observatory:item", args=["100001"])}"' in html


def test_a_corrected_item_names_who_corrected_it_and_when(client, analyst, items_run):
    client.force_login(analyst)
    response = client.get(detail_url("M1607"))
    (welcome,) = next(g for g in response.context["breakdown"]["groups"] if g["code"] == "NRI")["items"]
    override = ItemOverride.objects.get(item_id="100003")
    with translation.override("fr"):
        day = date_format(timezone.localtime(override.created_at), "j F Y")
    assert welcome["overridden"] and welcome["rule_display"] == f"correction de Camille Martin le {day}"
    assert f"correction de Camille Martin le {day}" in response.content.decode()
    # Made before the run: nothing to warn about.
    assert not response.context["breakdown"]["overridden_since_run"]
    ItemOverride.objects.create(item_id="100003", nri=1, rc=0, rm=0, nra=0, nrm=0, created_by=analyst)
    html = client.get(detail_url("M1607")).content.decode()
    assert "reclassé après ce calcul" in html


def test_the_contributions_split_the_exposure_and_sum_to_one_hundred_percent(client, analyst, items_run):
    """E = (.85·5 + .55·.5 + .45·1.7 + .20·1.3 + .10·.5) / 9: RC gives 4.25 / 5.6 = 75.9 %."""
    client.force_login(analyst)
    response = client.get(detail_url("M1607"))
    breakdown = response.context["breakdown"]
    rows = {row["code"]: row for row in breakdown["contributions"]}
    assert rows["RC"]["contribution"] == pytest.approx(4.25 / 5.6)
    assert rows["NRA"]["contribution"] == pytest.approx(0.765 / 5.6)
    assert sum(row["contribution"] for row in rows.values()) == pytest.approx(1)
    assert rows["RC"]["items_share"] == pytest.approx(0.56) and rows["RC"]["reference"] == pytest.approx(0.6)
    html = _section(response.content.decode(), "why-title")
    assert "<strong>75,9\u00a0%</strong>" in html and "<strong>100,0\u00a0%</strong>" in html
    figure = json.loads(breakdown["contributions_figure"])
    assert figure["data"][0]["x"] == pytest.approx([100 * v / 5.6 for v in (4.25, 0.275, 0.765, 0.26, 0.05)])
    assert 'data-figure="contributions-figure"' in html


def test_the_profile_source_and_the_work_contexts_are_shown(client, analyst, items):
    OccupationTaskProfile.objects.filter(occupation_id="M1607").delete()
    _compute()
    client.force_login(analyst)
    response = client.get(detail_url("M1607"))
    breakdown = response.context["breakdown"]
    assert breakdown["source"] == "rome_items"
    html = _section(response.content.decode(), "why-title")
    assert "Profil de référence : <strong>compétences de la fiche ROME 4.0</strong>" in html
    assert "établi à partir de 3 savoir-faire classés" in html
    assert "Travail répétitif ou cadence imposée → routinier manuel 70\u00a0%, routinier cognitif 30\u00a0%" in html
    assert "Travail le samedi" not in html  # no rule: it does not move the profile
    assert "chacun ajoute 0,04 aux catégories indiquées" in html


def test_an_imported_profile_says_it_replaces_the_items(client, analyst, items_run):
    client.force_login(analyst)
    response = client.get(detail_url("M1607"))
    assert response.context["breakdown"]["source"] == "imported"
    assert "Profil de référence : <strong>profil importé</strong>" in response.content.decode()


def test_contributions_are_hidden_with_the_blended_profile(client, analyst, items_run):
    from django.db.models import F

    from observatory.models import OccupationScore

    client.force_login(analyst)
    link_item("M1203", RomeItem.objects.get(code="100001"), "principale")
    # As a run computed before the blend followed the secrecy rule would hold: two companies'
    # answers moved M1203's blend. The blend is hidden, and the contributions with it.
    OccupationScore.objects.filter(run=items_run, occupation_id="M1203").update(
        rc=F("ref_rc") + 0.05, nra=F("ref_nra") - 0.05
    )
    response = client.get(detail_url("M1203"))
    breakdown = response.context["breakdown"]
    assert not breakdown["contributions_shown"] and breakdown["contributions_figure"] is None
    assert all(row["contribution"] is None and row["blended"] is None for row in breakdown["contributions"])
    html = _section(response.content.decode(), "why-title")
    assert "couvert par le secret statistique" in html and "Part de l&#x27;exposition" not in html


# --- Transitions worth taking -----------------------------------------------------------------


def test_transitions_are_ranked_by_shared_competences(client, analyst, items_run):
    client.force_login(analyst)
    response = client.get(detail_url("M1607"))
    transitions = response.context["transitions"]
    # Comptable (M1203) is more exposed: not suggested.
    assert [row["code"] for row in transitions] == ["M1604", "J1501"]
    assistant, carer = transitions
    assert assistant["shared"] == 2 and assistant["core_share"] == pytest.approx(1 / 3)
    assert assistant["drop"] == pytest.approx(5.6 / 9 - 0.495)
    assert assistant["to_acquire"] == ["Organiser des réunions", "Rédiger des comptes rendus"]
    assert carer["shared"] == 1 and carer["core_share"] == pytest.approx(1 / 7) and carer["target_core"] == 7
    # Aide-soignant is reported by two companies: its blended exposure, from the run.
    carer_exposure = selectors.occupation_score(items_run, "J1501").exposure
    assert carer["drop"] == pytest.approx(5.6 / 9 - carer_exposure)
    # Six core competences to acquire: five shown, « et 1 autre ».
    assert len(carer["to_acquire"]) == 5 and carer["to_acquire_more"] == 1
    html = _section(response.content.decode(), "mobility-title")
    assert html.index("Assistant / Assistante de direction") < html.index("Aide-soignant")
    assert "Comptable" not in html
    assert "−0,13" in html and "−" + format_number(5.6 / 9 - carer_exposure, 2) in html
    assert "33\u00a0%" in html and "14\u00a0%" in html
    assert "<li>et 1 autre</li>" in html


def test_the_transition_margin_comes_from_the_run_methodology(client, analyst, items):
    from observatory.models import Methodology

    Methodology.objects.filter(lens=Lens.DEFAULT).update(transition_margin=0.2)
    run = _compute()
    client.force_login(analyst)
    response = client.get(detail_url("M1607"))
    # Assistant de direction drops by 0,127 only, and stays in the same class as Secrétaire.
    scores = {code: selectors.occupation_score(run, code) for code in ("M1607", "M1604")}
    assert scores["M1604"].exposure_class == scores["M1607"].exposure_class
    assert [row["code"] for row in response.context["transitions"]] == ["J1501"]


def test_the_page_says_when_no_mobility_qualifies(client, analyst, run):
    Mobility.objects.filter(target_id="J1501").delete()  # only the more exposed Comptable is left
    client.force_login(analyst)
    response = client.get(detail_url("M1607"))
    assert response.context["transitions"] == []
    html = _section(response.content.decode(), "mobility-title")
    assert "Aucune des 1 mobilité que le ROME indique depuis cette fiche ne mène à un métier moins exposé" in html
    Mobility.objects.all().delete()
    html = _section(client.get(detail_url("M1607")).content.decode(), "mobility-title")
    assert "Le ROME ne liste pas de mobilité depuis cette fiche." in html


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
    assert "« IA générative », version 2" in response.content.decode()


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
    assert results[0]["exposure"] == pytest.approx(5.6 / 9) and results[0]["exposure_class"] == "high"
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

    pattern = accent_insensitive_pattern("Secrétaire d'état")
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
        {"code": "M1607", "label": "Secrétaire", "appellation": None, "value": "Secrétaire (M1607)"},
        {
            "code": "M1607",
            "label": "Secrétaire",
            "appellation": "Secrétaire médicale",
            "value": "Secrétaire médicale (M1607)",
        },
        {
            "code": "M1607",
            "label": "Secrétaire",
            "appellation": "Assistant / Assistante de secrétariat",
            "value": "Assistant / Assistante de secrétariat (M1607)",
        },
    ]


def test_autocomplete_returns_at_most_ten(client, analyst, run):
    for number in range(15):
        OccupationFactory(code=f"K21{number:02d}", label=f"Métier de test {number}", parent__code="K21")
    client.force_login(analyst)
    suggestions = client.get(AUTOCOMPLETE_URL, {"q": "metier de"}).json()
    assert len(suggestions) == 10
    assert set(suggestions[0]) == {"code", "label", "appellation", "value"}


# --- Bounded queries ----------------------------------------------------------------------


def test_the_pages_run_a_bounded_number_of_queries(client, analyst, run, django_assert_max_num_queries):
    index = ExposureIndex.objects.create(name="OIT 2025", code_system="isco08")
    ExposureIndexScore.objects.create(index=index, occupation_id="M1607", score=0.8)
    client.force_login(analyst)
    # Session, user and groups, then the page's own reads (ten in all for a fiche), and the
    # ROME items: the fiche's and its targets' links, the overrides in force.
    with django_assert_max_num_queries(13):
        assert client.get(detail_url("M1607")).status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get(SEARCH_URL, {"q": "secr"}).status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get(SEARCH_URL).status_code == 200
    # Session, user and groups, then the one suggestion selector (skills.selectors): titles,
    # and the typo corrections of a word that matches nothing as typed.
    with django_assert_max_num_queries(7):
        assert client.get(AUTOCOMPLETE_URL, {"q": "aide"}).status_code == 200


def test_the_page_with_items_and_a_correction_runs_a_bounded_number_of_queries(
    client, analyst, items_run, django_assert_max_num_queries
):
    client.force_login(analyst)
    # Twelve as above, and the authors of the corrections of the fiche's items.
    with django_assert_max_num_queries(14):
        response = client.get(detail_url("M1607"))
    assert response.status_code == 200 and response.context["transitions"]


def test_the_page_leads_to_the_catalogue_filtered_on_the_fiche(client, analyst, run):
    client.force_login(analyst)
    html = client.get(detail_url("M1607")).content.decode()
    assert f'href="{reverse("trainings:catalogue")}?metier=M1607"' in html
