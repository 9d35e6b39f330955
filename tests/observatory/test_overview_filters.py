"""The overview within the shared filters: key figures, top fiches and class shares of the
scope, links to the ranking, grid and map carrying it, hostile values refused."""

import pytest
from django.urls import reverse

from observatory.key_figures import overview_figures
from observatory.models import GridCell
from observatory.scope import Scope
from tests.observatory.factories import GridCellFactory

pytestmark = pytest.mark.django_db

URL = reverse("observatory:overview")
NORD = {"lens": "genai", "territory": "departement:59"}


@pytest.fixture
def with_totals(edition):  # noqa: F811
    """The ranking's hand-worked edition, with the Nord's total and grands domaines."""
    GridCell.objects.bulk_create(
        [
            GridCellFactory.build(
                run=edition, occupation_level="all", employees=2100, companies=40, exposure_mean=0.41, share_high=0.2
            ),
            GridCellFactory.build(
                run=edition, occupation_level="grand_domaine", occupation_code="M", employees=650, share_high=0.6
            ),
            GridCellFactory.build(
                run=edition,
                occupation_level="grand_domaine",
                occupation_code="K",
                secret=True,
                secret_reason="companies",
            ),
        ]
    )
    return edition


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


def test_the_overview_shows_the_scope_asked(analyst_client, with_totals):
    response = analyst_client.get(URL, NORD)

    assert response.status_code == 200
    assert response.context["total"]["employees"] == 2100
    # The Nord's published fiches with exposed employees, most first; no secret one.
    assert [row["occupation_code"] for row in response.context["top"]] == ["D1106", "M1203", "M1607"]
    shares = {row["occupation_code"]: row for row in response.context["shares"]}
    assert shares["M"]["employees"] == 650 and shares["K"]["secret"] and shares["K"]["employees"] is None
    assert "Nord" in response.context["scope_title"]


def test_the_whole_area_is_the_default(analyst_client, with_totals):
    response = analyst_client.get(URL, {"lens": "genai"})

    # The hand-worked edition has no cell for the whole area.
    assert response.context["total"] is None and response.context["top"] == []


def test_an_occupation_narrows_the_panels(with_totals):
    figures = overview_figures(
        with_totals, Scope("departement", "59", occupation_level="grand_domaine", occupation_code="M")
    )

    assert list(figures["top_occupations"]["occupation_code"]) == ["M1203", "M1607"]
    assert figures["share_level"] == "domaine"


def test_links_carry_the_scope(analyst_client, with_totals):
    response = analyst_client.get(URL, NORD)

    query = "lens=genai&territory=departement%3A59"
    assert response.context["ranking_url"] == f"{reverse('observatory:ranking')}?{query}"
    assert response.context["grid_url"] == f"{reverse('observatory:grid')}?{query}"
    assert response.context["map_url"] == f"{reverse('observatory:map')}?{query}"
    content = response.content.decode()
    assert f'href="{reverse("observatory:ranking")}?lens=genai&amp;territory=departement%3A59"' in content
    # The lens tabs keep the territory.
    assert "?lens=automation&amp;territory=departement%3A59" in content


def test_queries_are_bounded(analyst_client, with_totals, django_assert_max_num_queries):
    analyst_client.get(URL, NORD)
    with django_assert_max_num_queries(6):
        analyst_client.get(URL, NORD)


@pytest.mark.parametrize("params", [{"territory": "departement:00"}, {"sector": "x"}, {"size_band": "<b>"}])
def test_hostile_filters_are_refused(analyst_client, with_totals, params):
    response = analyst_client.get(URL, {"lens": "genai", **params})

    assert response.status_code == 400
    assert "total" not in response.context
