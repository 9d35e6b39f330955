"""The map within the shared filters: sector, occupation and size band choose the cells drawn,
a département draws its EPCI, the colour scale is fitted to the values shown and its bounds
written, labels keep their contrast, links carry the filters, hostile values are refused."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from companies.models import Territory
from observatory.charts import choropleth
from observatory.maps import map_frame
from observatory.models import GridCell, GridRun, Lens, Methodology
from observatory.scope import Scope
from tests.companies.factories import CommuneFactory, DepartementFactory, SectionFactory
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.django_db

URL = reverse("observatory:map")


def _square(x, y, size=0.4):
    ring = [[x, y], [x, y + size], [x + size, y + size], [x + size, y], [x, y]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _cell(run, **fields) -> GridCell:
    defaults = {
        "territory_level": "departement",
        "territory_code": "59",
        "sector_level": "all",
        "sector_code": "",
        "occupation_level": "all",
        "occupation_code": "",
        "size_band": "all",
        "companies": 10,
        "establishments": 10,
        "employees": 100,
        "exposure_mean": 0.5,
        "share_high": 0.2,
        "share_medium": 0.3,
        "share_low": 0.5,
        "secret": False,
        "secret_reason": "",
    }
    return GridCell(run=run, **(defaults | fields))


@pytest.fixture
def edition():
    """A current generative-AI edition written by hand over three départements with outlines
    and two EPCI of the Nord (and one of the Somme), with cells for every sector and size,
    for section C, for size band 10-49 and for the grand domaine M."""
    SectionFactory(code="C", label="Industrie manufacturière")
    OccupationFactory(code="M1607", label="Secrétariat")
    departements = {}
    for position, (code, name) in enumerate((("59", "Nord"), ("62", "Pas-de-Calais"), ("80", "Somme"))):
        departements[code] = DepartementFactory(code=code, name=name, geometry=_square(2 + position, 50))
    for position, (code, name, departement) in enumerate(
        (("200093201", "Métropole Européenne de Lille", "59"), ("245900428", "CU de Dunkerque", "59"))
        + (("200070993", "CA Amiens Métropole", "80"),)
    ):
        epci = Territory.objects.create(level="epci", code=code, name=name, geometry=_square(position, 49, 0.3))
        CommuneFactory(code=f"{departement}{position:03d}", parent=departements[departement], epci=epci)
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
            _cell(run, territory_code="59", exposure_mean=0.61, employees=1000, share_high=0.4, share_medium=0.2),
            _cell(run, territory_code="62", exposure_mean=0.58, employees=800, share_high=0.1, share_medium=0.1),
            _cell(run, territory_code="80", secret=True, secret_reason="dominance", exposure_mean=0.99),
            _cell(run, territory_code="59", sector_level="section", sector_code="C", employees=300),
            _cell(run, territory_code="62", sector_level="section", sector_code="C", employees=40),
            _cell(run, territory_code="59", size_band="10-49", employees=77),
            _cell(run, territory_code="59", occupation_level="grand_domaine", occupation_code="M", employees=55),
            _cell(run, territory_level="epci", territory_code="200093201", employees=600, exposure_mean=0.63),
            _cell(run, territory_level="epci", territory_code="245900428", employees=400, exposure_mean=0.57),
            _cell(run, territory_level="epci", territory_code="200070993", employees=90, exposure_mean=0.40),
        ]
    )
    return run


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


def _coloured(response) -> dict:
    figure = json.loads(response.context["figure"])
    return next(trace for trace in figure["data"] if trace.get("zmax") is not None)


def test_the_sector_and_size_band_choose_the_cells(analyst_client, edition):
    section = analyst_client.get(URL, {"lens": "genai", "indicator": "employees", "sector": "section:C"})
    small = analyst_client.get(URL, {"lens": "genai", "indicator": "employees", "size_band": "10-49"})
    domaine = analyst_client.get(URL, {"lens": "genai", "indicator": "employees", "occupation": "grand_domaine:M"})

    assert dict(zip(_coloured(section)["locations"], _coloured(section)["z"], strict=True)) == {"59": 300, "62": 40}
    assert dict(zip(_coloured(small)["locations"], _coloured(small)["z"], strict=True)) == {"59": 77}
    assert dict(zip(_coloured(domaine)["locations"], _coloured(domaine)["z"], strict=True)) == {"59": 55}
    assert section.context["scope"] == Scope(sector_level="section", sector_code="C")


def test_a_departement_draws_its_epci(analyst_client, edition):
    response = analyst_client.get(URL, {"lens": "genai", "territory": "departement:59"})

    assert response.context["level"] == "epci"
    assert sorted(row["code"] for row in response.context["rows"]) == ["200093201", "245900428"]
    frame, _territories = map_frame(edition, "epci", Scope("departement", "59"), with_outlines=False)
    assert sorted(frame["code"]) == ["200093201", "245900428"]


def test_the_scale_is_fitted_to_the_values_shown_and_its_bounds_written(analyst_client, edition):
    response = analyst_client.get(URL, {"lens": "genai", "indicator": "exposure_mean"})

    coloured = _coloured(response)
    # Nord 0.61 and Pas-de-Calais 0.58; the Somme is secret and takes no part in the scale.
    assert (coloured["zmin"], coloured["zmax"]) == (pytest.approx(0.58), pytest.approx(0.61))
    assert response.context["legend"]["low"] == "0,58" and response.context["legend"]["high"] == "0,61"
    content = response.content.decode()
    assert "Échelle ajustée aux valeurs affichées" in content and "0,58" in content and "0,61" in content


def test_the_exposed_share_indicator(analyst_client, edition):
    response = analyst_client.get(URL, {"lens": "genai", "indicator": "exposed_share"})

    values = dict(zip(_coloured(response)["locations"], _coloured(response)["z"], strict=True))
    assert values == {"59": pytest.approx(0.6), "62": pytest.approx(0.2)}
    rows = {row["code"]: row for row in response.context["rows"]}
    assert rows["59"]["values"]["exposed_share"] == "60,0\xa0%"
    assert rows["59"]["values"]["exposed_employees"] == "600"
    assert rows["80"]["secret"] and rows["80"]["values"] == {}


def test_labels_keep_their_contrast_on_every_fill():
    for scale in (choropleth.WARM, choropleth.BLUE, choropleth.GREEN, choropleth.DIVERGING):
        for step in range(11):
            fill = choropleth.scale_colour(scale, step / 10)
            assert choropleth.contrast(choropleth.ink_for(fill), fill) >= 4.5, (scale, fill)
    assert choropleth.ink_for("#8f1d14") == choropleth.LIGHT_INK
    assert choropleth.ink_for("#fff3d6") == choropleth.DARK_INK


def test_labels_on_the_map_take_the_ink_of_their_fill(analyst_client, edition):
    response = analyst_client.get(URL, {"lens": "genai", "indicator": "exposure_mean"})

    figure = json.loads(response.context["figure"])
    inks = {
        text.split("<br>")[0]: trace["textfont"]["color"]
        for trace in figure["data"]
        if trace["type"] == "scattergeo"
        for text in trace["text"]
    }
    # The Nord is the top of the scale (darkest), the Pas-de-Calais its bottom (palest).
    assert inks["Nord"] == choropleth.LIGHT_INK and inks["Pas-de-Calais"] == choropleth.DARK_INK


def test_each_territory_links_to_its_grid_and_ranking_with_the_filters(analyst_client, edition):
    response = analyst_client.get(URL, {"lens": "genai", "sector": "section:C"})

    nord = next(row for row in response.context["rows"] if row["code"] == "59")
    assert nord["ranking_url"] == (
        reverse("observatory:ranking") + "?territory=departement%3A59&lens=genai&sector=section%3AC"
    )
    assert nord["grid_url"].startswith(reverse("observatory:grid") + "?territory=departement%3A59")
    assert nord["ranking_url"].replace("&", "&amp;") in response.content.decode()


def test_the_map_is_cached_per_filters(analyst_client, edition, monkeypatch):
    first = analyst_client.get(URL, {"lens": "genai", "sector": "section:C"}).context["figure"]

    def no_redraw(*args, **kwargs):
        raise AssertionError("the cached figure should have been used")

    monkeypatch.setattr(choropleth, "map_figure", no_redraw)
    assert analyst_client.get(URL, {"lens": "genai", "sector": "section:C"}).context["figure"] == first
    with pytest.raises(AssertionError):
        analyst_client.get(URL, {"lens": "genai", "size_band": "10-49"})


def test_queries_are_bounded(analyst_client, edition, django_assert_max_num_queries):
    analyst_client.get(URL, {"lens": "genai"})  # the reference and the filters' options, cached
    with django_assert_max_num_queries(9):
        response = analyst_client.get(URL, {"lens": "genai", "territory": "departement:59", "sector": "section:C"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"territory": 'departement:59"><script>'},
        {"territory": "commune:59350"},
        {"sector": "division:999"},
        {"occupation": "grand_domaine:M' OR 1=1"},
        {"size_band": "../../"},
    ],
)
def test_hostile_filters_are_refused(analyst_client, edition, params):
    response = analyst_client.get(URL, {"lens": "genai", **params})

    assert response.status_code == 400
    assert response.context["figure"] is None and response.context["rows"] == []
