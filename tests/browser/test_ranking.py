"""The analyst's question « quels métiers du Nord sont les plus exposés à l'IA générative, et
combien de salariés ? », answered in a real browser from the overview in three clicks; the
ranking's first row is the database's; axe-core finds nothing serious on a laptop or a phone,
and the page asks nothing of any host but the live server."""

from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from observatory import services
from observatory.charts.common import format_number
from observatory.models import GridCell, Lens
from skills.models import OccupationTaskProfile
from tests.browser.conftest import PHONE, check_accessibility, screenshot
from tests.companies.factories import CommuneFactory, DepartementFactory, EstablishmentFactory, JobPositionFactory
from tests.skills.factories import OccupationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RANKING_DESKTOP = {"width": 1366, "height": 900}
# Three fiches of the Nord, three companies each (no other département, so that no cell of the
# Nord is needed to protect another one): task shares in %, and each company's headcount.
FICHES = {
    "M1607": ("Secrétariat", {"rc": 70, "rm": 0, "nra": 20, "nri": 10, "nrm": 0}, (10, 20, 30)),
    "M1203": ("Comptabilité", {"rc": 50, "rm": 0, "nra": 40, "nri": 10, "nrm": 0}, (15, 15, 15)),
    "K2204": ("Nettoyage de locaux", {"rc": 0, "rm": 20, "nra": 0, "nri": 10, "nrm": 70}, (50, 50, 50)),
}


@pytest.fixture
def nord(migration_data):
    departement = DepartementFactory(code="59", name="Nord")
    lille = CommuneFactory(code="59350", name="Lille", parent=departement)
    for code, (label, shares, headcounts) in FICHES.items():
        occupation = OccupationFactory(code=code, label=label)
        OccupationTaskProfile.objects.create(occupation=occupation, **{k: v / 100 for k, v in shares.items()})
        for headcount in headcounts:
            JobPositionFactory(
                establishment=EstablishmentFactory(commune=lille), occupation=occupation, headcount=headcount, **shares
            )
    genai = services.grid_run_compute(services.grid_run_create(lens=Lens.GENAI).pk)
    services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    analyst = get_user_model().objects.create_user("analyste.nord", password="Observatoire-Nord-2026!")
    analyst.groups.add(Group.objects.get(name="analyst"))
    return SimpleNamespace(run=genai, analyst=analyst)


def _signed_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])


def _expected_first_row(run) -> tuple[str, str]:
    """The Nord's published fiche with the most exposed employees, read from the database."""
    cells = GridCell.objects.filter(
        run=run,
        territory_level="departement",
        territory_code="59",
        sector_level="all",
        occupation_level="fiche",
        size_band="all",
        secret=False,
    )
    ranked = sorted(
        cells,
        key=lambda c: (-(c.employees * ((c.share_high or 0) + (c.share_medium or 0))), -c.exposure_mean),
    )
    first = ranked[0]
    exposed = round(first.employees * ((first.share_high or 0) + (first.share_medium or 0)))
    return first.occupation_code, format_number(exposed)


def test_the_most_exposed_occupations_of_the_nord_in_three_clicks(page, live_server, nord):
    outside = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith((live_server.url + "/", "data:", "blob:"))
            else None
        ),
    )
    page.set_viewport_size(RANKING_DESKTOP)
    _signed_in(page, live_server, nord.analyst)
    page.goto(live_server.url + reverse("observatory:overview"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vue d'ensemble")

    # 1. The generative-AI reading.
    with page.expect_navigation():
        page.get_by_role("navigation", name="Lecture de l'exposition").get_by_role(
            "link", name="IA générative"
        ).click()
    # 2. The Nord.
    page.get_by_label("Territoire", exact=True).select_option("departement:59")
    with page.expect_navigation():
        page.get_by_role("button", name="Appliquer").click()
    # 3. The ranking of that scope.
    with page.expect_navigation():
        page.get_by_role("link", name="Classement des métiers les plus exposés").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Classement des métiers")
    query = parse_qs(urlsplit(page.url).query)
    assert query["lens"] == ["genai"] and query["territory"] == ["departement:59"]
    expect(page.get_by_label("Territoire", exact=True)).to_have_value("departement:59")
    expect(page.get_by_role("heading", level=2, name="Métiers classés par salariés exposés — Nord")).to_be_visible()

    code, exposed = _expected_first_row(nord.run)
    first = page.locator(".ranking-table tbody tr").first
    expect(first.locator("td").first).to_have_text("1")
    expect(first.locator("th .code")).to_have_text(code)
    expect(first.locator("td").nth(1)).to_have_text(exposed)

    assert check_accessibility(page) == []
    screenshot(page, "ranking-nord-1366")
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator(".ranking-table tbody tr").first.locator("th .code")).to_have_text(code)
    assert check_accessibility(page) == []
    screenshot(page, "ranking-nord-390")

    # The row leads to the occupation page, in the same reading.
    with page.expect_navigation():
        first.locator("th a").click()
    assert urlsplit(page.url).path == reverse("observatory:occupation", args=[code])
    assert parse_qs(urlsplit(page.url).query)["lens"] == ["genai"]
    assert outside == []
