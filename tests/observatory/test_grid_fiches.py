"""The grid's fiche level and totals: a « tous secteurs » row and a « tous métiers » column on
the heatmap, and, beyond what a screen can draw, the ranking offered instead."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from observatory.models import GridCell, GridRun, Lens, Methodology
from observatory.views import grid
from tests.companies.factories import DepartementFactory, SectionFactory

pytestmark = pytest.mark.django_db

URL = reverse("observatory:grid")


def _cell(run, **fields) -> GridCell:
    defaults = {
        "territory_level": "all",
        "territory_code": "",
        "sector_level": "section",
        "sector_code": "C",
        "occupation_level": "fiche",
        "occupation_code": "M1607",
        "size_band": "all",
        "companies": 5,
        "establishments": 5,
        "employees": 100,
        "exposure_mean": 0.5,
    }
    return GridCell(run=run, **(defaults | fields))


@pytest.fixture
def edition():
    DepartementFactory(code="59", name="Nord")
    SectionFactory(code="C", label="Industrie manufacturière")
    now = timezone.now()
    run = GridRun.objects.create(
        methodology=Methodology.objects.current(Lens.GENAI),
        status=GridRun.Status.READY,
        progress=100,
        finished_at=now,
        published_at=now,
        is_current=True,
    )
    GridCell.objects.bulk_create(
        [
            _cell(run, occupation_code="M1607", exposure_mean=0.7),
            _cell(run, occupation_code="M1203", exposure_mean=0.6),
            _cell(run, sector_level="all", sector_code="", occupation_code="M1607", exposure_mean=0.71),
            _cell(run, sector_level="all", sector_code="", occupation_code="M1203", exposure_mean=0.61),
            _cell(run, occupation_level="all", occupation_code="", exposure_mean=0.66),
            _cell(
                run, sector_level="all", sector_code="", occupation_level="all", occupation_code="", exposure_mean=0.4
            ),
            _cell(
                run, sector_level="all", sector_code="", occupation_level="all", occupation_code="", size_band="0-9"
            ),
        ]
    )
    return run


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


def test_the_heatmap_has_totals_on_both_axes(analyst_client, edition):
    response = analyst_client.get(URL, {"lens": "genai", "columns": "fiche"})

    figure = json.loads(response.context["heatmap"]["figure"])
    values = figure["data"][0]
    assert values["x"][-1] == "Σ · Tous métiers" and values["y"][-1] == "Σ · Tous secteurs"
    # Rows: section C, then every sector; columns: M1203, M1607, then every occupation.
    assert values["z"] == [
        [pytest.approx(0.6), pytest.approx(0.7), pytest.approx(0.66)],
        [pytest.approx(0.61), pytest.approx(0.71), pytest.approx(0.4)],
    ]
    # The table below keeps the cells of the grid itself.
    assert response.context["page"].paginator.count == 2


def test_too_many_fiches_offer_the_ranking(analyst_client, edition, monkeypatch):
    monkeypatch.setattr(grid, "MAX_HEATMAP_MEMBERS", 1)

    response = analyst_client.get(URL, {"lens": "genai", "columns": "fiche", "territory": "all"})

    heatmap = response.context["heatmap"]
    assert heatmap["figure"] is None and heatmap["too_many"] == 2
    assert response.context["ranking_url"] == reverse("observatory:ranking") + "?lens=genai"
    content = response.content.decode()
    assert "Voir le classement des métiers de ce périmètre" in content
