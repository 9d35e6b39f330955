"""The analysts' journeys through the observatory in a real browser, on the hand-worked case:
filter the grid to the Nord and download exactly that as CSV, the map, the occupation page and
its search, the history of runs; company members and anonymous visitors are refused. Every
page is checked with axe-core, photographed on a laptop and a phone, and asks nothing of any
host but the live server."""

import csv
import io
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from companies.importers.geometry import import_geometry
from companies.models import Company, CompanyMembership, Territory
from observatory import services
from observatory.models import Lens
from tests.browser.conftest import DESKTOP, PHONE, check_accessibility, login, screenshot
from tests.conftest import REPO_ROOT

# The live server answers from another thread: the data must be committed.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Observatoire-Lille-2026!"
DRAWN = '[data-figure][data-drawn="true"]'
# The simplified IGN outlines the map is made for (clockwise rings, as plotly.js expects).
OUTLINES = REPO_ROOT / "reference" / "france-geojson" / "departements-hauts-de-france.geojson"


@pytest.fixture(scope="module")
def shared_tab(browser):
    """One tab for the whole module. Its renderer keeps plotly.js (4 MB) compiled from one
    test to the next: a fresh tab spends two to three seconds parsing it again."""
    context = browser.new_context(locale="fr-FR", viewport=DESKTOP)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(shared_tab, live_server):
    """The shared tab, desktop-sized and without the cookies of the tests before. It stays on
    its last page between tests: leaving for about:blank would throw the compiled code away."""
    shared_tab.context.clear_cookies()
    shared_tab.set_viewport_size(DESKTOP)
    yield shared_tab
    shared_tab.context.clear_cookies()


@pytest.fixture
def observatory(migration_data, hand_worked):  # noqa: F811
    """The hand-worked case with the real outlines of its two départements, computed for the default
    and the generative-AI lenses, an analyst and a company member (not an analyst)."""
    import_geometry(OUTLINES, Territory.Level.DEPARTEMENT)
    default = services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    genai = services.grid_run_compute(services.grid_run_create(lens=Lens.GENAI).pk)

    users = get_user_model().objects
    analyst = users.create_user("analyste.lille", password=PASSWORD, first_name="Inès", last_name="Martin")
    analyst.groups.add(Group.objects.get(name="analyst"))
    member = users.create_user("membre.arras", password=PASSWORD, first_name="Paul", last_name="Leroy")
    CompanyMembership.objects.create(
        user=member, company=Company.objects.first(), status=CompanyMembership.Status.ACTIVE
    )
    return SimpleNamespace(default=default, genai=genai, analyst=analyst, member=member)


@pytest.fixture
def requests_made(page, live_server):
    """Every URL the tab asks for. Checked after the test: nothing but the live server (no
    CDN, no font, no map tiles), or data and blob URLs made by the page itself."""
    urls = []

    def collect(request):
        urls.append(request.url)

    page.on("request", collect)
    yield urls
    page.remove_listener("request", collect)
    outside = [url for url in urls if not url.startswith((live_server.url + "/", "data:", "blob:"))]
    assert not outside, f"requests outside the live server: {outside}"


def signed_in(page, live_server, user) -> None:
    """Give the tab the session of a signed-in user without going through the form (which the
    journeys below exercise): faster, and no login attempts counted by django-axes."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])


def axe_report(violations) -> str:
    return "\n".join(f"{v['impact']} {v['id']} ({v['help']}) at {v['targets']}: {v['summary']}" for v in violations)


# --- The journeys -------------------------------------------------------------------------


def test_an_analyst_filters_the_grid_to_the_nord_and_downloads_it(page, live_server, observatory, requests_made):
    grid_url = live_server.url + reverse("observatory:grid")
    # Anonymous first: the grid sends to the login page, which brings back to the grid.
    page.goto(grid_url)
    assert urlsplit(page.url).path == reverse("login")
    assert parse_qs(urlsplit(page.url).query)["next"] == [reverse("observatory:grid")]
    page.get_by_label("Nom d’utilisateur").fill("analyste.lille")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    assert page.url == grid_url
    expect(page.get_by_role("heading", level=1)).to_have_text("Grille d'analyse")
    page.wait_for_selector(DRAWN)

    page.get_by_label("Territoire", exact=True).select_option("departement:59")
    with page.expect_navigation():
        page.get_by_role("button", name="Appliquer").click()

    # The filter is in the address, so that the view can be shared by its link.
    query = parse_qs(urlsplit(page.url).query)
    assert query["territory"] == ["departement:59"]
    expect(page.get_by_label("Territoire", exact=True)).to_have_value("departement:59")
    heatmap = page.locator('[data-figure="heatmap-data"]')
    expect(heatmap).to_have_attribute("data-drawn", "true")
    expect(heatmap).to_have_attribute("aria-label", re.compile(r"\S"))
    # The Nord is masked (secondary secrecy): its cells show the reason, never a number.
    table = page.locator("table.grid-table")
    expect(table).to_contain_text("secret")
    expect(table).to_contain_text("secret secondaire")
    expect(table.locator("td.num")).to_have_count(0)

    # The heatmap downloads as a PNG (plotly.js's own downloadImage, offline).
    with page.expect_download() as picture_info:
        page.get_by_role("button", name="Télécharger le graphique (PNG)").click()
    assert picture_info.value.suggested_filename == "grille-exposition-ia.png"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV machine").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("run_id,territory_level")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows, "the download holds the Nord's cells"
    assert {(row["territory_level"], row["territory_code"]) for row in rows} == {("departement", "59")}
    assert {row["run_id"] for row in rows} == {str(observatory.default.pk)}
    # Secret cells keep their coordinates, never their figures.
    assert all(row["employees"] == "" for row in rows if row["secret"] in ("True", "true", "1"))


def test_the_map_draws_the_departements_and_their_table(page, live_server, observatory, requests_made):
    signed_in(page, live_server, observatory.analyst)
    page.goto(live_server.url + reverse("observatory:map"))

    chart = page.locator('[data-figure="map-figure"]')
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(chart.locator("svg").first).to_be_visible()
    # Two départements, each filled inside its outline. A ring wound the other way round still
    # draws, but fills the whole map frame except the département (d3-geo's convention).
    shapes = chart.locator("path.choroplethlocation")
    expect(shapes).to_have_count(2)
    frame = chart.locator("g.geo").first.bounding_box()
    for index in range(2):
        box = shapes.nth(index).bounding_box()
        assert box["width"] * box["height"] < 0.75 * frame["width"] * frame["height"], (box, frame)
    table = page.locator("table.map-table")
    expect(table).to_be_visible()
    expect(table.get_by_role("rowheader", name=re.compile("Nord"))).to_be_visible()
    expect(table.get_by_role("rowheader", name=re.compile("Pas-de-Calais"))).to_be_visible()
    # Both départements are secret in the hand-worked case: the reasons, no figure.
    expect(table).to_contain_text("moins de 3 entreprises")
    expect(table).to_contain_text("secret secondaire")

    # Another indicator keeps the map drawn and says so in the address.
    page.get_by_label("Indicateur", exact=True).select_option("employees")
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher").click()
    assert parse_qs(urlsplit(page.url).query)["indicator"] == ["employees"]
    expect(page.locator('[data-figure="map-figure"]')).to_have_attribute("data-drawn", "true")


def test_the_occupation_page_draws_its_profile_and_the_search_suggests(page, live_server, observatory, requests_made):
    signed_in(page, live_server, observatory.analyst)
    page.goto(live_server.url + reverse("observatory:occupation", args=["M1607"]))

    expect(page.get_by_role("heading", level=1)).to_contain_text("Secrétaire")
    expect(page.locator('[data-figure="profile-figure"]')).to_have_attribute("data-drawn", "true")
    # The hand-worked exposure: 5.6 / 9 = 0,62, medium class, in French notation.
    key_figures = page.locator(".key-figures")
    expect(key_figures).to_contain_text("0,62")
    expect(key_figures).to_contain_text("65")

    search = page.get_by_role("combobox")
    search.press_sequentially("secr", delay=20)
    suggestion = page.get_by_role("option", name=re.compile("Secrétaire"))
    expect(suggestion).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    # Choosing it with the keyboard opens its page (the same fiche here).
    search.press("ArrowDown")
    with page.expect_navigation():
        search.press("Enter")
    assert urlsplit(page.url).path == reverse("observatory:occupation", args=["M1607"])


def test_the_runs_page_shows_the_history(page, live_server, observatory, requests_made):
    signed_in(page, live_server, observatory.analyst)
    page.goto(live_server.url + reverse("observatory:runs"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Calculs de la grille")
    history = page.locator("table.runs-table tbody tr")
    expect(history).to_have_count(2)
    for run in (observatory.default, observatory.genai):
        row = page.locator(f"#run-{run.pk}")
        expect(row).to_contain_text(f"n°{run.pk}")
        expect(row).to_contain_text("Terminé")
        expect(row).to_contain_text("en vigueur")
    expect(page.locator("#runs-current tbody tr")).to_have_count(2)


def test_a_company_member_is_refused_and_an_anonymous_visitor_sent_to_login(
    page, live_server, observatory, requests_made
):
    grid = reverse("observatory:grid")
    response = page.goto(live_server.url + grid)
    assert urlsplit(page.url).path == reverse("login") and response.status == 200

    login(page, live_server, "membre.arras", PASSWORD)
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    response = page.goto(live_server.url + grid)
    assert response.status == 403
    assert urlsplit(page.url).path == grid
    expect(page.locator("body")).not_to_contain_text("Secrétaire")
    expect(page.locator("[data-figure]")).to_have_count(0)


# --- Every page: accessibility, screenshots, no request outside ----------------------------

PAGES = {
    "overview": lambda data: reverse("observatory:overview"),
    "grid": lambda data: reverse("observatory:grid"),
    "map": lambda data: reverse("observatory:map"),
    "occupations": lambda data: reverse("observatory:occupations"),
    "occupation": lambda data: reverse("observatory:occupation", args=["M1607"]),
    "runs": lambda data: reverse("observatory:runs"),
    "run-compare": lambda data: f"{reverse('observatory:run_compare')}?a={data.default.pk}&b={data.genai.pk}",
    "methodology": lambda data: reverse("observatory:methodology"),
}


@pytest.mark.parametrize("name", PAGES)
def test_page_is_accessible_and_holds_on_a_laptop_and_a_phone(page, live_server, observatory, requests_made, name):
    signed_in(page, live_server, observatory.analyst)
    url = live_server.url + PAGES[name](observatory)

    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        response = page.goto(url)
        assert response.status == 200
        charts = page.locator("[data-figure]")
        # Every chart is drawn (plotly.js from the site itself) before anything is judged.
        expect(page.locator(DRAWN)).to_have_count(charts.count())
        # Both sizes: a table that only scrolls on a phone must be reachable by keyboard there.
        violations = check_accessibility(page)
        assert not violations, f"{name} ({size_name}):\n{axe_report(violations)}"
        # Nothing sticks out sideways: wide tables and heatmaps scroll inside their own box.
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= size["width"], f"{name} is {scroll_width}px wide on a {size['width']}px screen"
        assert screenshot(page, f"observatory-{name}-{size_name}").stat().st_size > 0


def test_an_analyst_reading_an_epci_under_the_totals_plan_is_told_where_the_detail_is(
    page, live_server, observatory, requests_made
):
    metropole = Territory.objects.create(
        level=Territory.Level.EPCI, code="200093201", name="Métropole Européenne de Lille"
    )
    Territory.objects.filter(level=Territory.Level.COMMUNE, code="59350").update(epci=metropole)
    services.methodology_create_version(lens=Lens.DEFAULT, epci_detail="size")
    planned = services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    signed_in(page, live_server, observatory.analyst)

    page.goto(f"{live_server.url}{reverse('observatory:grid')}?run={planned.pk}&territory=epci:200093201")
    notice = page.locator("#plan-epci")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("ne publie que les totaux tous secteurs et tous métiers")
    expect(notice).to_contain_text("se lit au niveau du département")
    assert not (violations := check_accessibility(page)), axe_report(violations)
    screenshot(page, "grille-epci-plan-totaux")

    # The Nord keeps its crossings: no notice, and its heatmap is drawn.
    page.goto(f"{live_server.url}{reverse('observatory:grid')}?run={planned.pk}&territory=departement:59")
    page.wait_for_selector(DRAWN)
    expect(page.locator("#plan-epci")).to_have_count(0)
