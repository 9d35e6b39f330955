"""The company report in a real browser, on a laptop (1366 px) and a phone (390 px): the hand-built
joinery company of tests/observatory/test_report_next_steps.py reads its next steps, its tables
fit the screen without the page scrolling sideways, the chart is drawn, and axe-core finds no
serious or critical violation at either width."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, check_accessibility, login, screenshot
from tests.companies.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 900}


@pytest.fixture(autouse=True)
def _no_grid_recomputation(settings):
    settings.OBSERVATORY_AUTO_RECOMPUTE = False


@pytest.fixture
def world(migration_data, joinery):
    return joinery


def _no_sideways_scroll(page) -> int:
    """How far the page itself overflows its viewport sideways, in CSS pixels."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("viewport, name", [(LAPTOP, "desktop"), (PHONE, "phone")])
def test_the_report_reads_on_a_laptop_and_a_phone(page, live_server, world, viewport, name):
    page.set_viewport_size(viewport)
    login(page, live_server, "gerant", PASSWORD)
    page.goto(live_server.url + reverse("diagnostic_report", args=[world["diagnostic"].pk]))
    expect(page.get_by_role("heading", name="Rapport de Menuiserie Lefebvre")).to_be_visible()
    summary = page.locator(".report-summary")
    expect(summary).to_contain_text("Demander à Constructys une formation adaptée au métier « Menuisier »")
    expect(page.locator("#job-{} .report-step".format(world["carpenters"].pk))).to_contain_text("Constructys")
    expect(page.get_by_text("Tâches répétitives manuelles").first).to_be_visible()
    # The charts are drawn by plotly (an SVG inside each chart's container).
    expect(page.locator(".report-chart .main-svg").first).to_be_attached()
    assert _no_sideways_scroll(page) <= 0
    if name == "phone":
        # The task table stacks: each value carries its column's name, and fits the screen.
        table = page.locator(".report-stack").first
        box = table.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        cell = table.locator("td").first
        assert page.evaluate("(td) => getComputedStyle(td, '::before').content", cell.element_handle()) == (
            '"Vos réponses"'
        )
    screenshot(page, f"report-{name}")
    violations = check_accessibility(page)
    assert not violations, violations


@pytest.mark.parametrize("viewport, name", [(LAPTOP, "desktop"), (PHONE, "phone")])
def test_a_curator_adds_a_regional_contact(page, live_server, migration_data, curator, viewport, name):
    from companies.models import RegionalContact

    page.set_viewport_size(viewport)
    login(page, live_server, "curateur", "motdepasse-test-2026")
    page.goto(live_server.url + reverse("accounts:curation_contact_create"))
    page.get_by_label("Nom").fill("CCI Grand Lille")
    page.get_by_label("Type d'acteur").select_option("cci")
    page.get_by_label("Ce qu'il fait pour vous").fill("Ateliers de découverte de l'IA pour les dirigeants.")
    page.get_by_label("Site web").fill("javascript:alert(1)")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Saisissez une adresse web commençant par http:// ou https://.")).to_be_visible()
    screenshot(page, f"contacts-form-{name}")
    violations = check_accessibility(page)
    assert not violations, violations
    page.get_by_label("Site web").fill("https://www.grand-lille.cci.fr/")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("« CCI Grand Lille » est ajouté à l'annuaire.")).to_be_visible()
    expect(page.locator(".cur-summary")).to_contain_text("1 contact")
    assert RegionalContact.objects.get().website == "https://www.grand-lille.cci.fr/"
    violations = check_accessibility(page)
    assert not violations, violations
