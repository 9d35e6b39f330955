"""The explorer's pages for anyone, without an account: the page of a job under the three
lenses (figures checked against the hand-worked case), what it is made of, the transitions
towards less exposed jobs with the offers nearby, and the way from one job to another."""

import html as html_module
import re

import pytest
from django.urls import reverse

from companies.models import RegionalContact, Territory
from observatory import services
from observatory.models import Lens
from tests.explorer.conftest import compute_editions

pytestmark = pytest.mark.django_db


def fiche_url(code, **params):
    url = reverse("explorer:occupation", args=[code])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def pathway_url(source, target, **params):
    url = reverse("explorer:pathway", args=[source, target])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def text(response) -> str:
    """The page's visible text, tags removed and spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def lens_card(page: str, title: str) -> str:
    """The text of one lens's card, from its title to the next card or section."""
    start = page.index(title)
    ends = [page.find(marker, start + 1) for marker in ("Face à l'", "Vue d'ensemble", "De quoi ce métier")]
    return page[start : min(end for end in ends if end > 0)]


# --- Access ---------------------------------------------------------------------------------


def test_anyone_reads_the_explorer_without_an_account(client, editions):
    for url in (
        reverse("explorer:search"),
        reverse("explorer:search") + "?q=secretaire",
        fiche_url("M1607"),
        pathway_url("M1607", "M1604"),
        reverse("explorer:suggestions") + "?q=secr",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "login" not in response.get("Location", "")


def test_the_navigation_offers_the_explorer_to_everyone(client, db):
    response = client.get(reverse("explorer:search"))
    assert f'href="{reverse("explorer:search")}" aria-current="page"' in response.content.decode()
    home = client.get(reverse("home")).content.decode()
    assert "Mon métier face à l&#x27;IA" in home or "Mon métier face à l'IA" in home


# --- The page of a job ----------------------------------------------------------------------


def test_the_three_lenses_show_the_hand_worked_exposures(client, editions):
    """Blended profile of M1607 (hand_worked, tests/conftest.py): RC 5/9, RM .5/9, NRA
    1.7/9, NRI 1.3/9, NRM .5/9, from the reference and the answers of 4 companies.
      IA générative (.90 .10 .60 .25 .05): (4.5 + .05 + 1.02 + .325 + .025) / 9 = 5.92 / 9
        = 0,658 → « 0,66 », RC 4.5 / 5.92 = 76 % of it, NRA 1.02 / 5.92 = 17 %;
      automatisation (.80 .90 .10 .05 .20): 4.785 / 9 = 0,532 → « 0,53 », RC 4 / 4.785 = 84 %,
        RM .45 / 4.785 = 9 %;
      vue d'ensemble (.85 .55 .45 .20 .10): 5.6 / 9 = 0,622 → « 0,62 », RC 76 %, NRA 14 %.
    Every one is above its lens's high threshold (.55, .42, .48)."""
    for lens, alpha in {
        Lens.GENAI: (0.90, 0.10, 0.60, 0.25, 0.05),
        Lens.AUTOMATION: (0.80, 0.90, 0.10, 0.05, 0.20),
        Lens.DEFAULT: (0.85, 0.55, 0.45, 0.20, 0.10),
    }.items():
        assert tuple(editions[lens].methodology.susceptibility.values()) == alpha

    page = text(client.get(fiche_url("M1607")))

    genai = lens_card(page, "Face à l'IA générative")
    assert "0,66 sur 1" in genai and "Fortement exposé" in genai
    assert "Traiter des informations selon des règles : 76 % de l'exposition" in genai
    assert "Analyser, concevoir, décider : 17 % de l'exposition" in genai
    automation = lens_card(page, "Face à l'automatisation")
    assert "0,53 sur 1" in automation
    assert "Traiter des informations selon des règles : 84 % de l'exposition" in automation
    assert "Gestes répétitifs : 9 % de l'exposition" in automation
    overall = lens_card(page, "Vue d'ensemble")
    assert "0,62 sur 1" in overall
    assert "Analyser, concevoir, décider : 14 % de l'exposition" in overall
    # Why, in the job's own words: its savoir-faire of the category, the core ones first.
    assert "par exemple « Saisir des documents », « Vérifier la conformité d'un dossier »." in genai
    # Four companies, none dominant, are at least the minimum of 3: their average counts.
    assert "réponses de 4 entreprises" in overall
    assert "Ce qui risque de changer" in genai and "Ce qui devrait rester" in genai


def test_the_page_says_what_the_job_is_made_of(client, editions):
    page = text(client.get(fiche_url("M1607")))

    assert "Secrétaire" in page and "Aussi appelé : Assistant / Assistante de secrétariat, Secrétaire médicale" in page
    # Savoir-faire by kind of task, with their share of the classified ones (56 % RC).
    assert "Traiter des informations selon des règles 56 %" in page
    assert "Saisir des documents essentiel" in page
    assert "Relations avec les personnes 24 %" in page
    assert "Travail répétitif ou cadence imposée" in page
    # Where the figures come from, edition by edition.
    run = editions[Lens.GENAI]
    assert f"Face à l'IA générative : édition n°{run.pk}" in page


def test_without_an_edition_the_page_still_describes_the_job(client, catalogue):
    page = text(client.get(fiche_url("M1607")))

    assert "Pas encore d'édition publiée" in page
    assert "Saisir des documents" in page
    assert "apparaîtront avec la première édition publiée" in page


def test_nothing_derived_from_too_few_companies_is_shown(client, catalogue):
    """With a minimum of 5 companies, the 4 reporting M1607 move nothing: each lens shows the
    exposure of the reference profile (.6 .1 .1 .1 .1): .85·.6 + .55·.1 + .45·.1 + .20·.1 +
    .10·.1 = 0,64 for the overall view, .90·.6 + .10·.1 + .60·.1 + .25·.1 + .05·.1 = 0,64 for
    IA générative; never the 0,62 or 0,66 their answers give, nor their number."""
    for lens in Lens.values:
        services.methodology_create_version(lens=lens, secrecy_min_companies=5, notes="Minimum relevé à 5.")
    runs = compute_editions()
    assert all(run.methodology.secrecy_min_companies == 5 for run in runs.values())

    page = text(client.get(fiche_url("M1607")))

    assert "0,64 sur 1" in lens_card(page, "Vue d'ensemble")
    assert "0,64 sur 1" in lens_card(page, "Face à l'IA générative")
    assert "0,62" not in page and "0,66" not in page
    assert "4 entreprises" not in page and "réponses de" not in page
    assert "65" not in page  # the companies' employees
    assert page.count("Calculé à partir de la fiche ROME du métier (profil de référence).") == 3
    assert "au moins 5 entreprises" in page


def test_transitions_lead_only_to_less_exposed_jobs(client, editions):
    """From M1607 (0,62 overall): Assistant de direction (0,495) shares two savoir-faire,
    Aide-soignant (0,24) one; Comptable (0,76) is more exposed and never offered."""
    response = client.get(fiche_url("M1607"))
    page = text(response)
    moves = page[page.index("Vers des métiers moins exposés") :]

    assert "Comptable" not in moves
    assert moves.index("Assistant / Assistante de direction") < moves.index("Aide-soignant / Aide-soignante")
    assert re.search(r"exposition 0,(49|50) sur 1, soit 0,13 de moins que ce métier", moves)
    assert "2 savoir-faire en commun" in moves and "2 à acquérir" in moves
    assert "Organiser des réunions" in moves and "Rédiger des comptes rendus" in moves
    assert pathway_url("M1607", "M1604") in response.content.decode()


def test_transitions_follow_the_lens_chosen(client, editions):
    """Under automation, M1607 is at 0,53 and Assistant de direction at .8·.3 + .1·.4 +
    .05·.3 = 0,295: still a transition, 0,24 lower."""
    page = text(client.get(fiche_url("M1607", lens="automation")))
    moves = page[page.index("Vers des métiers moins exposés") :]
    assert "exposition 0,29 sur 1, soit 0,24 de moins" in moves or "exposition 0,30 sur 1, soit 0,24 de moins" in moves


def test_offers_nearby_lead_to_the_transitions(client, editions):
    response = client.get(fiche_url("M1607", commune="Lille", rayon="20"))
    page = text(response)
    moves = page[page.index("Vers des métiers moins exposés") :]

    assert "Assistant de direction à Roubaix" in moves
    assert "Assistant de direction à Amiens" not in moves  # about 100 km away
    assert "Offre en brouillon" not in moves
    assert "Aide-soignant à Lille" in moves
    assert re.search(r"Roubaix à 1[0-3] km", moves)  # Lille–Roubaix: about 12 km


def test_a_commune_the_catalogue_does_not_know_is_said_and_the_region_shown(client, editions):
    page = text(client.get(fiche_url("M1607", commune="Nulle-Part", rayon="20")))
    assert "Aucune commune des Hauts-de-France ne correspond à « Nulle-Part »" in page
    assert "Assistant de direction à Amiens" in page  # the whole région


def test_the_fiche_page_runs_a_bounded_number_of_queries(client, editions, django_assert_max_num_queries):
    """About twenty: the fiche, its items, mobilités and the editions' scores in a fixed number,
    then the offers nearby of at most three transitions, three queries each."""
    with django_assert_max_num_queries(25):
        response = client.get(fiche_url("M1607", commune="Lille"))
    assert response.status_code == 200


# --- The way from one job to another --------------------------------------------------------


def test_the_pathway_lists_competences_blocks_and_offers_with_their_sessions(client, editions):
    response = client.get(pathway_url("M1607", "M1604", commune="Lille", rayon="20"))
    page = text(response)

    assert "De « Secrétaire » à « Assistant / Assistante de direction »" in page
    assert "Ce que vous savez déjà faire (2)" in page
    assert "Ce qu'il vous reste à acquérir (2)" in page
    # Blocks of the certification that targets M1604, the one covering the gaps first.
    blocks = page[page.index("Les blocs de compétences qui le certifient") : page.index("Les formations près")]
    assert blocks.index("RNCP36000BC01") < blocks.index("RNCP36000BC02")
    assert "En lien avec : Organiser des réunions ; Rédiger des comptes rendus." in blocks
    offers = page[page.index("Les formations près de chez vous") :]
    assert "Assistant de direction à Roubaix" in offers and "Assistant de direction à Amiens" not in offers
    assert "Prépare au bloc RNCP36000BC01" in offers
    # Its two coming sessions, not the past one.
    assert offers.count(" à Roubaix ;") + offers.count(" à Roubaix Modalité") >= 2
    assert "data-print" in response.content.decode()
    assert "http://testserver" + pathway_url("M1607", "M1604") in page


def test_the_pathway_compares_the_two_jobs_under_each_lens(client, editions):
    page = text(client.get(pathway_url("M1607", "M1604", lens="genai")))
    # IA générative: M1604 = .9·.3 + .6·.4 + .25·.3 = 0,585, below M1607's 0,66.
    assert "IA générative 0,66" in page and "0,58" in page or "0,59" in page
    assert "est moins exposé que Secrétaire" in page


def test_the_pathway_runs_a_bounded_number_of_queries(client, editions, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        response = client.get(pathway_url("M1607", "M1604", commune="Lille"))
    assert response.status_code == 200


# --- Hostile or mistaken addresses ----------------------------------------------------------


@pytest.mark.parametrize("code", ["Z9999", "M16", "M", "M1607X", "<script>", "M16071"])
def test_an_unknown_code_is_a_404(client, editions, code):
    assert client.get(fiche_url(code)).status_code == 404


def test_a_lower_case_code_redirects_to_the_fiche(client, editions):
    response = client.get(fiche_url("m1607"))
    assert response.status_code == 301 and response["Location"] == fiche_url("M1607")


def test_a_pathway_the_rome_does_not_list_is_a_404(client, editions):
    assert client.get(pathway_url("M1607", "M1607")).status_code == 404
    assert client.get(pathway_url("M1604", "M1607")).status_code == 404  # no mobilité that way
    assert client.get(pathway_url("M1607", "Z9999")).status_code == 404


def test_hostile_parameters_are_refused_or_ignored(client, editions):
    long_query = "secretaire " * 500
    assert client.get(reverse("explorer:search"), {"q": long_query}).status_code == 200
    assert client.get(reverse("explorer:suggestions"), {"q": long_query}).status_code == 200
    assert client.get(reverse("explorer:search"), {"q": "secr\x00etaire"}).status_code == 400
    response = client.get(
        fiche_url("M1607"), {"lens": "nimporte", "commune": "<script>alert(1)</script>", "rayon": "9999"}
    )
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert client.get(fiche_url("M1607"), {"commune": "x" * 5000}).status_code == 200


def test_an_older_edition_blending_too_few_companies_shows_no_exposure(client, editions):
    """An edition computed before blends followed the rule may hold a blend moved by fewer
    companies than the minimum (observatory.published): its exposure would give their answers
    back, so the page shows none, nor their number (here 2, below 3)."""
    from observatory.models import OccupationScore

    OccupationScore.objects.filter(run=editions[Lens.GENAI], occupation_id="M1607").update(n_companies=2)

    page = text(client.get(fiche_url("M1607")))

    genai = lens_card(page, "Face à l'IA générative")
    assert "L'exposition de ce métier n'est pas publiée dans cette édition." in genai
    assert "0,66" not in page and "2 entreprises" not in page
    assert "0,62 sur 1" in lens_card(page, "Vue d'ensemble")  # the other editions are untouched


# --- Whom to turn to ------------------------------------------------------------------------


@pytest.fixture
def contacts(catalogue):
    """Regional contacts: the Région's service for the whole région, France Travail's agencies
    of the Nord and of the Somme, Transitions Pro for every territory, and two a person is not
    shown: an OPCO (it serves companies) and an inactive service."""
    region = Territory.objects.get(level=Territory.Level.REGION, code="32")
    nord = Territory.objects.get(level=Territory.Level.DEPARTEMENT, code="59")
    somme = Territory.objects.get(level=Territory.Level.DEPARTEMENT, code="80")

    def contact(name, kind, territories=(), **fields):
        item = RegionalContact.objects.create(
            name=name, kind=kind, role=f"Le rôle de {name}.", website="https://www.example.fr/", **fields
        )
        item.territories.set(territories)
        return item

    contact("Proch'Emploi", RegionalContact.Kind.REGION, [region])
    contact("France Travail Nord", RegionalContact.Kind.FRANCE_TRAVAIL, [nord], phone="39 49")
    contact("France Travail Somme", RegionalContact.Kind.FRANCE_TRAVAIL, [somme])
    contact("Transitions Pro", RegionalContact.Kind.OTHER, email="contact@transitions.example.fr")
    contact("OPCO des entreprises", RegionalContact.Kind.OPCO, [region])
    contact("Service fermé", RegionalContact.Kind.FRANCE_TRAVAIL, [nord], active=False)


def contacts_section(page: str) -> str:
    return page[page.index("À qui s'adresser") : page.index("D'où viennent ces chiffres")]


def test_the_fiche_page_names_whom_to_turn_to_in_the_chosen_communes_departement(client, editions, contacts):
    section = contacts_section(text(client.get(fiche_url("M1607", commune="Lille"))))

    assert "ces services vous reçoivent dans le département Nord (59)" in section
    # The Région's services, then France Travail, then the other accompaniments.
    assert section.index("Proch'Emploi") < section.index("France Travail Nord") < section.index("Transitions Pro")
    assert "Le rôle de France Travail Nord." in section
    assert "39 49" in section and "contact@transitions.example.fr" in section
    assert "OPCO" not in section and "Service fermé" not in section


def test_without_a_commune_the_page_names_the_services_of_the_whole_region(client, editions, contacts):
    section = contacts_section(text(client.get(fiche_url("M1607"))))

    assert "ces services vous reçoivent dans toute la région" in section
    assert "Proch'Emploi" in section and "Transitions Pro" in section
    assert "France Travail Nord" not in section and "France Travail Somme" not in section
    assert "Indiquez votre commune pour voir aussi les services de votre département." in section


def test_the_pathway_names_whom_to_turn_to_near_the_commune_chosen(client, editions, contacts):
    section = contacts_section(text(client.get(pathway_url("M1607", "M1604", commune="Amiens", rayon="20"))))

    assert "dans le département Somme (80)" in section
    assert "France Travail Somme" in section and "France Travail Nord" not in section


def test_without_any_contact_the_section_is_left_out(client, editions):
    assert "À qui s'adresser" not in text(client.get(fiche_url("M1607", commune="Lille")))
