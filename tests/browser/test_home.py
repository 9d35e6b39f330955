"""The first journey: open the site, sign in, fail to sign in; readable on a desktop and a phone."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, check_accessibility, login, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "Lille-Amiens-2024!"


@pytest.fixture
def user(transactional_db):
    # Committed (transactional_db): the live server answers from another thread.
    return get_user_model().objects.create_user(
        "claire.dupont", password=PASSWORD, first_name="Claire", last_name="Dupont"
    )


def test_home_page_has_french_title_and_landmarks(page, live_server):
    page.goto(live_server.url + reverse("home"))

    expect(page).to_have_title(re.compile("Observatoire IA Hauts-de-France"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("navigation", name="Navigation principale")).to_be_visible()
    expect(page.get_by_role("main")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("L'IA et le travail en Hauts-de-France")
    expect(page.get_by_role("link", name="Se connecter")).to_be_visible()


def test_login_with_a_real_user(page, live_server, user):
    login(page, live_server, "claire.dupont", PASSWORD)

    assert page.url == live_server.url + reverse("home")
    expect(page.locator(".account")).to_contain_text("Claire Dupont")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def test_wrong_password_shows_an_error(page, live_server, user):
    login(page, live_server, "claire.dupont", "pas-le-bon")

    assert page.url.startswith(live_server.url + reverse("login"))
    expect(page.get_by_role("alert")).to_contain_text("mot de passe valides")
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    screenshot(page, "login-error-desktop")


@pytest.mark.parametrize("url_name", ["home", "login"])
def test_no_serious_accessibility_violation(page, live_server, url_name):
    page.goto(live_server.url + reverse(url_name))

    violations = check_accessibility(page)
    assert not violations, "\n".join(f"{v['impact']} {v['id']} at {v['targets']}: {v['summary']}" for v in violations)


@pytest.mark.parametrize("size_name", ["desktop", "phone"])
@pytest.mark.parametrize("url_name", ["home", "login"])
def test_screenshots(page, live_server, url_name, size_name):
    size = {"desktop": DESKTOP, "phone": PHONE}[size_name]
    page.set_viewport_size(size)
    page.goto(live_server.url + reverse(url_name))

    # Nothing sticks out sideways (a horizontal scrollbar on a phone is the usual sign).
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= size["width"]
    assert screenshot(page, f"{url_name}-{size_name}").stat().st_size > 0
