"""The public catalogue in a real browser: search by département, open an offer; accessible,
and readable on a laptop and a phone. Runs on the built-in reference set and the demo
catalogue, as `make run` shows them."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from observatory.reference import BUILTIN_REFERENCE_DIR, load_reference
from tests.browser.conftest import DESKTOP, PHONE, check_accessibility, screenshot
from trainings.demo import seed_catalogue
from trainings.selectors import published_offers

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
SHOTS = Path("/tmp/catalogue-screenshots")


@pytest.fixture
def catalogue(transactional_db):
    # Committed (transactional_db): the live server answers from another thread.
    load_reference(BUILTIN_REFERENCE_DIR)
    seed_catalogue(seed=7)


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    screenshot(page, f"catalogue-{name}")


def no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.usefixtures("catalogue")
def test_search_by_departement_then_open_an_offer(page, live_server):
    page.goto(live_server.url + reverse("home"))
    page.get_by_role("link", name="Formations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Les formations en Hauts-de-France")

    page.get_by_label("Département").select_option(label="Somme (80)")
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher").click()

    assert "departement=80" in page.url
    expected = published_offers().filter(provider__commune__parent__code="80").first()
    assert expected is not None
    results = page.locator(".cat-result")
    expect(results.first).to_be_visible()
    count_text = page.locator("#cat-results-title").inner_text()
    assert count_text.split()[0].isdigit() and int(count_text.split()[0]) >= 1
    expect(page.get_by_role("link", name="Formations")).to_have_attribute("aria-current", "page")
    title = results.first.locator("h3 a").inner_text()
    with page.expect_navigation():
        results.first.locator("h3 a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("heading", name="Sessions à venir")).to_be_visible()
    expect(page.get_by_role("heading", name="L'organisme")).to_be_visible()


@pytest.mark.usefixtures("catalogue")
def test_commune_suggestions_fill_the_field(page, live_server):
    page.goto(live_server.url + reverse("trainings:catalogue"))
    field = page.get_by_role("combobox", name="Près de la commune")
    field.fill("amie")
    option = page.get_by_role("listbox", name="Suggestions : Près de la commune").get_by_role("option").first
    expect(option).to_contain_text("Amiens")
    option.click()
    expect(field).to_have_value("Amiens (80021)")
    page.get_by_label("Dans un rayon de").select_option("50")
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#cat-results-title")).to_contain_text("à moins de 50 km de Amiens")
    expect(page.locator(".cat-distance").first).to_contain_text("km")


@pytest.mark.usefixtures("catalogue")
def test_no_serious_accessibility_violation_on_search_and_offer(page, live_server):
    offer = published_offers().filter(ai_related=True).order_by("pk").first()
    for url in (
        reverse("trainings:catalogue") + "?departement=59&ia=on",
        reverse("trainings:offer", args=[offer.pk]),
        reverse("trainings:provider", args=[offer.provider_id]),
    ):
        page.goto(live_server.url + url)
        violations = check_accessibility(page)
        assert not violations, (
            url + "\n" + "\n".join(f"{v['impact']} {v['id']} at {v['targets']}: {v['summary']}" for v in violations)
        )


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("size_name", ["laptop", "desktop", "phone"])
def test_screenshots(page, live_server, size_name):
    size = {"laptop": LAPTOP, "desktop": DESKTOP, "phone": PHONE}[size_name]
    page.set_viewport_size(size)
    offer = (
        published_offers().filter(ai_related=True, cpf_eligible=True, sessions__isnull=False).order_by("pk").first()
    )

    page.goto(live_server.url + reverse("trainings:catalogue") + "?commune=Lille&rayon=20&niveau=6")
    no_sideways_scroll(page, size["width"])
    shoot(page, f"search-{size_name}")
    page.goto(live_server.url + reverse("trainings:offer", args=[offer.pk]))
    no_sideways_scroll(page, size["width"])
    shoot(page, f"offer-{size_name}")
    page.goto(live_server.url + reverse("trainings:provider", args=[offer.provider_id]))
    no_sideways_scroll(page, size["width"])
    shoot(page, f"provider-{size_name}")
