"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Playwright's own browser downloads are not used (`playwright install` is never needed): the
tests launch /usr/bin/chromium (`apt-get install chromium`, done by .ci/run) and skip where it
is absent. Accessibility checks inject axe-core from .npm/ (`make install`) and skip without it.
"""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import REPO_ROOT

# Playwright's sync API keeps an asyncio loop running in this thread, which Django's
# async-safety guard mistakes for async code: the ORM would refuse every query (as the
# pytest-django docs say for Playwright).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # runs as root in CI
    "--disable-gpu",
    # Nothing but the live server: no update checks, sync or QUIC probes to the network.
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
AXE_JS = REPO_ROOT / ".npm" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items):
    """Run the browser tests last. The session's Playwright loop stays "running" in the main
    thread until the session ends, and asgiref's async_to_sync (used by Django to call async
    views and receivers) refuses to run beside it: the tests after them would break."""
    here = Path(__file__).parent
    items.sort(key=lambda item: item.path.is_relative_to(here))


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: `apt-get install chromium` to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh French-speaking tab (no cookies from other tests), desktop-sized."""
    context = browser.new_context(locale="fr-FR", viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    # Every page is served with its Content-Security-Policy: what Chromium refuses under it is
    # a failure of the journey, whatever the test checked.
    refused = []

    def watch(message):
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", watch)
    yield page
    context.close()
    assert not refused, f"Content-Security-Policy violations: {refused}"


def login(page, live_server, username: str, password: str) -> None:
    """Fill and send the login form, then wait for the page it leads to."""
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()


def check_accessibility(page) -> list[dict]:
    """The serious and critical axe-core violations of the current page (WCAG and best
    practices), each as {"id", "impact", "help", "targets", "summary"}."""
    if not AXE_JS.exists():
        pytest.skip(f"{AXE_JS.relative_to(REPO_ROOT)} not found: `make install` fetches axe-core")
    # Evaluated through the DevTools protocol, which the page's CSP does not govern (a script
    # tag would be an inline script, refused).
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]],
            # What axe measured on the first element, e.g. the contrast ratio it found.
            "summary": violation["nodes"][0]["failureSummary"] if violation["nodes"] else "",
        }
        for violation in violations
        if violation["impact"] in {"serious", "critical"}
    ]


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG as test-artifacts/screenshots/<name>.png (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
