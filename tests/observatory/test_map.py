"""The map page: a choropleth of the départements (or EPCI) from the stored outlines, the same
figures as a table, secrecy, lens and run switches, caching, access and bounded queries."""

import json

import pytest
from django.urls import reverse

from companies.models import Territory
from observatory import selectors, services
from observatory.charts import choropleth
from observatory.charts.common import SECRET_COLOUR
from observatory.maps import map_frame
from observatory.models import GridCell, Lens
from observatory.scope import Scope
from tests.companies.factories import CommuneFactory, DepartementFactory, EstablishmentFactory, JobPositionFactory
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.django_db

URL = reverse("observatory:map")


def _square(x, y, size=0.5):
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _compute(lens=Lens.DEFAULT):
    return services.grid_run_compute(services.grid_run_create(lens=lens).pk)


def _figure(response) -> dict:
    return json.loads(response.context["figure"])


@pytest.fixture
def run(hand_worked):  # noqa: F811
    return _compute()


@pytest.fixture
def outlines(hand_worked):  # noqa: F811
    """Outlines for the Nord and the Pas-de-Calais of the hand-worked case."""
    Territory.objects.filter(level="departement", code="59").update(geometry=_square(3.0, 50.3))
    Territory.objects.filter(level="departement", code="62").update(geometry=_square(2.3, 50.3))


@pytest.fixture
def three_departements(hand_worked):  # noqa: F811
    """The hand-worked case plus the Aisne, where three companies have 10 employees each on
    M1607: enough companies for one more département to be published."""
    aisne = DepartementFactory(code="02", name="Aisne")
    laon = CommuneFactory(code="02408", name="Laon", parent=aisne)
    for _ in range(3):
        JobPositionFactory(
            establishment=EstablishmentFactory(commune=laon),
            occupation=hand_worked,
            headcount=10,
            rc=50,
            rm=0,
            nra=30,
            nri=20,
            nrm=0,
        )
    for code, x in (("02", 3.3), ("59", 3.0), ("62", 2.3)):
        Territory.objects.filter(level="departement", code=code).update(geometry=_square(x, 49.6))
    return _compute()


@pytest.fixture
def many_cells():
    """45 companies in five départements and three EPCI, on eight fiches of two domaines and
    three size bands: a run of over a thousand cells."""
    departements = [
        DepartementFactory(code=code, name=name)
        for code, name in (("02", "Aisne"), ("59", "Nord"), ("60", "Oise"), ("62", "Pas-de-Calais"), ("80", "Somme"))
    ]
    region = departements[0].parent
    epcis = [
        Territory.objects.create(level="epci", code=f"2000000{i:02d}", name=f"CA {i}", parent=region) for i in range(3)
    ]
    communes = [
        CommuneFactory(code=f"{d.code}{100 + i:03d}", name=f"Commune {d.code}-{i}", parent=d, epci=epcis[i % 3])
        for d in departements
        for i in range(3)
    ]
    fiches = [OccupationFactory(code=f"M16{i:02d}") for i in range(1, 5)]
    fiches += [OccupationFactory(code=f"K13{i:02d}", label=f"Aide {i}") for i in range(1, 5)]
    for n in range(45):
        establishment = EstablishmentFactory(
            commune=communes[n % len(communes)], size_band=("0-9", "10-49", "50-249")[n % 3]
        )
        for k in range(3):
            JobPositionFactory(
                establishment=establishment, occupation=fiches[(n + k) % len(fiches)], headcount=5 + n + k
            )
    for index, departement in enumerate(departements):
        Territory.objects.filter(pk=departement.pk).update(geometry=_square(2 + index * 0.5, 49.5))
    run = _compute()
    assert GridCell.objects.filter(run=run).count() > 1000
    return run


# --- Access -----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("role", ["plain_user", "curator"])
def test_company_members_and_curators_are_refused(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize("role", ["analyst", "superuser"])
def test_analysts_and_superusers_see_the_map(client, request, role, run):
    client.force_login(request.getfixturevalue(role))
    response = client.get(URL)
    assert response.status_code == 200
    assert "Carte de l'exposition" in response.content.decode()


def test_without_any_run_the_page_says_so(client, analyst):
    client.force_login(analyst)
    response = client.get(URL)
    assert response.status_code == 200
    assert "Aucune grille n'a encore été calculée" in response.content.decode()


@pytest.mark.parametrize("run_param", ["999999", "abc"])
def test_an_unknown_run_is_not_found(client, analyst, run, run_param):
    client.force_login(analyst)
    assert client.get(URL, {"run": run_param}).status_code == 404


# --- Without outlines: a message and the table ---------------------------------------------


def test_without_outlines_the_figures_come_as_a_table(client, analyst, run):
    client.force_login(analyst)
    response = client.get(URL)
    html = response.content.decode()
    assert response.context["figure"] is None
    assert "Les contours des départements ne sont pas chargés" in html
    assert 'data-figure="map-figure"' not in html
    # Both départements of the hand-worked case are secret: named, with their reason, no value.
    rows = {row["code"]: row for row in response.context["rows"]}
    assert rows["62"]["secret"] and rows["62"]["secret_label"] == "moins de 3 entreprises"
    assert rows["59"]["secret"] and rows["59"]["secret_label"] == "secret secondaire"
    assert rows["59"]["values"] == {} and rows["62"]["values"] == {}
    assert html.count('<span class="badge badge-secret">secret</span>') == 2


def test_epci_without_outlines_are_offered_as_a_table_only(client, analyst, run):
    client.force_login(analyst)
    html = client.get(URL).content.decode()
    assert "Les contours des EPCI ne sont pas chargés" in html
    assert "EPCI (tableau seul : contours non chargés)" in html
    response = client.get(URL, {"level": "epci"})
    assert response.context["level"] == "epci" and response.context["figure"] is None
    assert (
        "Les contours des EPCI ne sont pas chargés : la carte ne peut pas être dessinée" in response.content.decode()
    )


# --- The choropleth -------------------------------------------------------------------------


def test_the_choropleth_is_drawn_from_the_stored_outlines(client, analyst, run, outlines):
    client.force_login(analyst)
    response = client.get(URL)
    figure = _figure(response)
    choropleths = [trace for trace in figure["data"] if trace["type"] == "choropleth"]
    assert choropleths and all(trace["featureidkey"] == "properties.code" for trace in choropleths)
    assert figure["layout"]["geo"]["fitbounds"] == "locations"
    assert figure["layout"]["geo"]["visible"] is False  # no base map: nothing is downloaded
    codes = {feature["properties"]["code"] for trace in choropleths for feature in trace["geojson"]["features"]}
    assert codes == {"59", "62"}
    html = response.content.decode()
    assert 'role="img"' in html and 'aria-label="Carte des départements' in html
    assert "js/plotly-geo-assets.js" in html  # an empty topology: plotly.js fetches none
    # The table is always shown under the map.
    assert "Les chiffres par département" in html


def test_secret_territories_are_grey_and_labelled_never_valued(client, analyst, run, outlines):
    client.force_login(analyst)
    figure = _figure(client.get(URL, {"indicator": "employees"}))
    secret_trace = next(trace for trace in figure["data"] if trace["type"] == "choropleth")
    assert secret_trace["colorscale"][0][1] == SECRET_COLOUR
    assert secret_trace["z"] == [0, 0]
    hovers = {row[0]: row[1] for row in secret_trace["customdata"]}
    assert hovers == {"Nord": "secret : secret secondaire", "Pas-de-Calais": "secret : moins de 3 entreprises"}
    labels = [text for trace in figure["data"] if trace["type"] == "scattergeo" for text in trace["text"]]
    assert sorted(labels) == ["Nord<br>secret", "Pas-de-Calais<br>secret"]
    # Neither the Nord's 60 employees nor the Pas-de-Calais's 5 appear anywhere in the figure.
    text = json.dumps([{key: trace.get(key) for key in ("z", "customdata", "text")} for trace in figure["data"]])
    assert '"60"' not in text and '"5"' not in text and "60" not in str(secret_trace["z"])


def test_published_territories_carry_their_value(client, analyst, three_departements):
    """Nord: 3 companies, 60 employees, published. Pas-de-Calais: 1 company, secret. Aisne:
    3 companies but masked so that the Pas-de-Calais cannot be recovered from the région.
    With n = 7 reporting companies and m = 5, the blended profile of M1607 is
    RC 6.5/12, RM .5/12, NRA 2.6/12, NRI 1.9/12, NRM .5/12, so E = 7.4 / 12 = 0.6167."""
    client.force_login(analyst)
    response = client.get(URL, {"indicator": "employees"})
    figure = _figure(response)
    coloured = next(trace for trace in figure["data"] if trace.get("zmax") is not None)
    assert dict(zip(coloured["locations"], coloured["z"], strict=True)) == {"59": 60}
    assert coloured["customdata"] == [["Nord", "60", "60", "3"]]
    secret = next(
        trace for trace in figure["data"] if trace["type"] == "choropleth" and trace.get("showscale") is False
    )
    assert sorted(secret["locations"]) == ["02", "62"]

    rows = {row["code"]: row for row in response.context["rows"]}
    assert rows["59"]["values"]["employees"] == "60"
    assert rows["59"]["values"]["companies"] == "3"
    assert rows["59"]["values"]["exposure_mean"] == "0,62"
    assert GridCell.objects.get(
        run=three_departements,
        territory_level="departement",
        territory_code="59",
        sector_level="all",
        occupation_level="all",
        size_band="all",
    ).exposure_mean == pytest.approx(7.4 / 12)
    assert rows["02"]["secret"] and rows["02"]["values"] == {} and rows["02"]["secret_label"] == "secret secondaire"
    labels = [text for trace in figure["data"] if trace["type"] == "scattergeo" for text in trace["text"]]
    assert sorted(labels) == ["Aisne<br>secret", "Nord<br>60", "Pas-de-Calais<br>secret"]


def test_the_exposure_scale_is_fitted_to_the_values_shown(client, analyst, three_departements):
    """One published département (the Nord, 0.6167): the scale surrounds its value instead of
    spanning 0–1, and its bounds are written under the map (observatory.charts.choropleth)."""
    client.force_login(analyst)
    response = client.get(URL, {"indicator": "exposure_mean"})
    coloured = next(trace for trace in _figure(response)["data"] if trace.get("zmax") is not None)
    assert coloured["zmin"] < 7.4 / 12 < coloured["zmax"]
    assert coloured["zmax"] - coloured["zmin"] < 0.1
    assert response.context["legend"]["low"] == "0,59" and response.context["legend"]["high"] == "0,65"


def test_an_unknown_indicator_or_level_falls_back_to_the_defaults(client, analyst, run):
    client.force_login(analyst)
    response = client.get(URL, {"indicator": "drop table", "level": "commune"})
    assert response.status_code == 200
    assert response.context["indicator"] == "exposure_mean" and response.context["level"] == "departement"


def test_the_lens_switch_shows_the_run_of_that_lens(client, analyst, hand_worked):  # noqa: F811
    default = _compute(Lens.DEFAULT)
    genai = _compute(Lens.GENAI)
    client.force_login(analyst)
    assert client.get(URL).context["run"] == default
    response = client.get(URL, {"lens": "genai", "indicator": "share_high"})
    assert response.context["run"] == genai
    tabs = {tab["value"]: tab for tab in response.context["lens_tabs"]}
    assert tabs["genai"]["current"] and not tabs["default"]["current"]
    assert "indicator=share_high" in tabs["automation"]["url"]
    assert client.get(URL, {"run": default.pk}).context["run"] == default


def test_the_figure_is_cached_per_run_and_parameters(client, analyst, run, outlines, monkeypatch):
    client.force_login(analyst)
    first = client.get(URL, {"indicator": "employees"}).context["figure"]

    def no_redraw(*args, **kwargs):
        raise AssertionError("the cached figure should have been used")

    monkeypatch.setattr(choropleth, "map_figure", no_redraw)
    assert client.get(URL, {"indicator": "employees"}).context["figure"] == first
    with pytest.raises(AssertionError):
        client.get(URL, {"indicator": "share_high"})  # other parameters: another figure


# --- Selectors and charts -----------------------------------------------------------------


def test_the_map_frame_blanks_secret_values(run):
    frame, _territories = map_frame(run, "departement", Scope(), with_outlines=False)
    frame = frame.set_index("code")
    assert list(frame.index) == ["59", "62"]
    assert frame["secret"].all()
    assert frame[selectors.MAP_VALUE_COLUMNS].isna().all().all()


def test_the_summary_names_the_range_and_the_secret_territories(three_departements):
    frame, _territories = map_frame(three_departements, "departement", Scope(), with_outlines=False)
    summary = choropleth.map_summary(frame, "employees", "départements")
    assert summary.startswith("Carte des départements, salariés")
    assert "sous secret statistique" in summary


def test_indicator_values_are_written_in_french():
    assert choropleth.format_indicator(12345.0, "employees") == "12\u202f345"
    assert choropleth.format_indicator(0.234, "share_high") == "23,4\u00a0%"
    assert choropleth.format_indicator(5.6 / 9, "exposure_mean") == "0,62"
    assert choropleth.format_indicator(-0.32, "rti_mean") == "−0,32"
    assert choropleth.format_indicator(float("nan"), "rti_mean") == "—"


# --- Bounded queries ----------------------------------------------------------------------


def test_the_map_runs_a_bounded_number_of_queries(client, analyst, many_cells, django_assert_max_num_queries):
    client.force_login(analyst)
    # Session, user and groups; run; outline counts; cells; territory names; outlines; and,
    # once per cache lifetime, the reference data (three) for the filters' options.
    for params in ({}, {"indicator": "share_high"}, {"level": "epci"}, {"indicator": "rti_mean"}):
        with django_assert_max_num_queries(12):
            response = client.get(URL, params)
        assert response.status_code == 200
    # Cached: neither the cells nor the outlines are read again.
    with django_assert_max_num_queries(5):
        client.get(URL)


def test_epci_filtered_by_sector_under_a_totals_only_plan_say_why_nothing_is_shown(client, analyst, hand_worked):  # noqa: F811
    services.methodology_create_version(lens=Lens.DEFAULT, epci_detail="size")
    run = _compute()
    client.force_login(analyst)
    by_sector = client.get(URL, {"run": run.pk, "level": "epci", "occupation": "grand_domaine:M"}).content.decode()
    assert 'id="plan-epci"' in by_sector and "Choisissez « Tous secteurs » et « Tous métiers »" in by_sector
    # Their totals are published: no notice, and the unknown EPCI's row is there.
    totals = client.get(URL, {"run": run.pk, "level": "epci"})
    assert 'id="plan-epci"' not in totals.content.decode()
    assert [row["code"] for row in totals.context["rows"]] == ["inconnu-32"]
    # The départements keep their crossings.
    by_departement = client.get(URL, {"run": run.pk, "occupation": "grand_domaine:M"}).content.decode()
    assert 'id="plan-epci"' not in by_departement
