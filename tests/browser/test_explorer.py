"""A job seeker in a real browser: finds « secrétaire comptable » by typing it roughly, reads
why the job is exposed, looks for training near Lille, opens a less exposed job and the way
there with its offers and next sessions. Every page is checked with axe-core on a laptop
(1366 px) and a phone (390 px), photographed, and never scrolls sideways.

Runs on the built-in reference set (real ROME 4.0 fiches and items, real communes) and the
demo catalogue, plus Secrétaire comptable (M1608) with its real appellation and mobilités:
the built-in extract does not hold that fiche."""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from companies.models import Territory
from explorer import selectors as explorer_selectors
from observatory import services
from observatory.models import Lens
from observatory.reference import BUILTIN_REFERENCE_DIR, load_reference
from skills.models import Appellation, Mobility, Occupation, OccupationItem, OccupationTaskProfile
from tests.browser.conftest import PHONE, check_accessibility, screenshot
from tests.companies.factories import EstablishmentFactory, JobPositionFactory
from tests.trainings.factories import ProviderFactory, SessionFactory, TrainingOfferFactory
from trainings.demo import seed_catalogue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def explorer_data(migration_data):
    """Committed (transactional): the live server answers from another thread."""
    load_reference(BUILTIN_REFERENCE_DIR)
    seed_catalogue(seed=7)
    # Secrétaire comptable (ROME 4.0 M1608), as the v460 export describes it: its appellation
    # 19370 and its mobilités towards fiches of the built-in extract. Its savoir-faire are
    # those of Secrétaire and Comptable, which it combines; its profile, mostly routine
    # cognitive work, is set as an imported one so that the journey does not depend on the
    # lexicon's classification.
    fiche = Occupation.objects.create(
        code="M1608", level=Occupation.Level.FICHE, label="Secrétaire comptable", parent_id="M16"
    )
    Appellation.objects.create(code="19370", label="Secrétaire comptable", occupation=fiche)
    for target, rank in (("M1203", 1), ("M1604", 2), ("M1605", 3), ("C1401", 6)):
        Mobility.objects.create(source=fiche, target_id=target, rank=rank)
    links = {}
    for link in OccupationItem.objects.filter(occupation_id__in=["M1607", "M1203"]).order_by("occupation_id"):
        links.setdefault(link.item_id, link.core)
    OccupationItem.objects.bulk_create(
        OccupationItem(occupation=fiche, item_id=item, core=core) for item, core in links.items()
    )
    OccupationTaskProfile.objects.create(
        occupation=fiche, rc=0.6, rm=0.05, nra=0.15, nri=0.15, nrm=0.05, source="test du parcours"
    )
    # A few companies of Lille report accountants (the grid has field data to publish).
    lille = Territory.objects.get(level=Territory.Level.COMMUNE, code="59350")
    for headcount in (4, 6, 9):
        JobPositionFactory(
            establishment=EstablishmentFactory(commune=lille), occupation_id="M1203", headcount=headcount
        )
    runs = {lens: services.grid_run_compute(services.grid_run_create(lens=lens).pk) for lens in Lens.values}

    # The first transition of the overall view, with an offer in Lille starting next month.
    mobilities, scores, item_links = explorer_selectors.fiche_page_data("M1608", runs)
    ranked = explorer_selectors.rank_published_transitions(
        runs[Lens.DEFAULT], mobilities, scores, item_links, Lens.DEFAULT
    )
    assert not ranked.empty, "Secrétaire comptable should lead to a less exposed job"
    target = Occupation.objects.get(code=ranked.iloc[0]["target"])
    offer = TrainingOfferFactory(
        title=f"Devenir {target.label.split(' / ')[0].lower()} — parcours certifiant",
        provider=ProviderFactory(commune=lille, name="Centre de formation de Lille-Moulins"),
    )
    offer.occupations.add(target)
    SessionFactory(offer=offer, start=datetime.date.today() + datetime.timedelta(days=30), commune=lille)
    return target


def axe_clean(page, name: str) -> None:
    for size_name, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        violations = check_accessibility(page)
        assert not violations, f"{name} ({size_name}):\n" + "\n".join(
            f"{v['impact']} {v['id']} at {v['targets']}: {v['summary']}" for v in violations
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], f"{name} scrolls sideways"
        screenshot(page, f"explorer-{name}-{size_name}")
    page.set_viewport_size(LAPTOP)


def test_a_job_seeker_finds_her_job_and_a_way_towards_a_less_exposed_one(page, live_server, explorer_data):
    target = explorer_data
    page.set_viewport_size(LAPTOP)
    page.goto(live_server.url + reverse("home"))
    page.get_by_role("link", name="Mon métier face à l'IA").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon métier face à l'IA")
    axe_clean(page, "search")

    # Typed without accents and shortened, as people do.
    field = page.get_by_role("combobox", name="Votre métier, ou celui que vous visez")
    field.fill("secretaire compta")
    option = page.get_by_role("listbox", name="Métiers suggérés").get_by_role("option").first
    expect(option).to_contain_text("Secrétaire comptable")
    with page.expect_navigation():
        option.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Secrétaire comptable")

    # Why it is exposed, lens by lens, in the job's own words.
    genai = page.get_by_role("article", name="Face à l'IA générative")
    expect(genai.get_by_role("heading", name="Pourquoi")).to_be_visible()
    expect(genai).to_contain_text("Traiter des informations selon des règles")
    expect(genai.get_by_role("heading", name="Ce qui risque de changer")).to_be_visible()
    expect(page.get_by_role("heading", name="De quoi ce métier est fait")).to_be_visible()
    axe_clean(page, "fiche")

    # Training near Lille, chosen among the suggested communes.
    section = page.locator("section.ex-transitions")
    commune = section.get_by_role("combobox", name="Près de quelle commune ?")
    commune.fill("lill")
    choice = section.get_by_role("listbox", name="Communes suggérées").get_by_role("option").first
    expect(choice).to_contain_text("Lille")
    choice.click()
    expect(commune).to_have_value("Lille (59350)")
    with page.expect_navigation():
        section.get_by_role("button", name="Voir les formations").click()
    assert "commune=Lille" in page.url
    move = page.locator(".ex-move").first
    expect(move.get_by_role("heading", level=3)).to_have_text(target.label)
    expect(move).to_contain_text("Centre de formation de Lille-Moulins")

    with page.expect_navigation():
        move.get_by_role("link", name="Voir le parcours vers ce métier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"De « Secrétaire comptable » à « {target.label} »")
    expect(page.get_by_role("heading", name="Ce qu'il vous reste à acquérir", exact=False)).to_be_visible()
    offers = page.locator("section.ex-pathway-offers")
    expect(offers).to_contain_text("Centre de formation de Lille-Moulins")
    expect(offers.get_by_text("Prochaines sessions").first).to_be_visible()
    expect(page.get_by_role("button", name="Imprimer ce parcours")).to_be_visible()
    # Shareable: the address carries the commune and the lens.
    assert "commune=Lille" in page.url and "lens=" in page.url
    axe_clean(page, "pathway")

    # Printed, the page keeps the way and the offers, not the forms and buttons.
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Imprimer ce parcours")).to_be_hidden()
    expect(page.get_by_role("button", name="Voir les formations")).to_be_hidden()
    expect(offers.get_by_text("Centre de formation de Lille-Moulins")).to_be_visible()
    screenshot(page, "explorer-pathway-print")
    page.emulate_media(media="screen")
