"""The grid page: filters in the URL, the heatmap, the sortable and paginated table, secrecy,
access and a bounded number of queries."""

import json
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companies.models import Territory
from observatory import services
from observatory.models import GridCell, Lens

pytestmark = pytest.mark.django_db

URL = reverse("observatory:grid")


@pytest.fixture
def run(hand_worked):  # noqa: F811
    return services.grid_run_compute(services.grid_run_create().pk)


def _cell(run, **coordinates):
    defaults = {"territory_level": "all", "territory_code": "", "size_band": "all"}
    return GridCell.objects.get(run=run, **(defaults | coordinates))


def _figure(response, script_id="heatmap-data"):
    """The plotly figure embedded in the page by json_script (a JSON string inside JSON)."""
    match = re.search(
        rf'<script id="{script_id}" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert match, f"no {script_id} in the page"
    return json.loads(json.loads(match.group(1)))


# --- Access ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/comptes/login/" in response["Location"]


def test_users_without_the_analyst_role_are_refused(client, plain_user, curator):
    for user in (plain_user, curator):
        client.force_login(user)
        assert client.get(URL).status_code == 403


def test_analysts_and_superusers_see_the_grid(client, analyst, superuser, run):
    for user in (analyst, superuser):
        client.force_login(user)
        assert client.get(URL).status_code == 200


def test_without_any_run_the_page_says_so(client, analyst):
    client.force_login(analyst)
    response = client.get(URL)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Aucune grille n'a encore été calculée" in content
    assert reverse("observatory:runs") in content


def test_an_unknown_run_is_not_found(client, analyst, run):
    client.force_login(analyst)
    assert client.get(URL, {"run": 999999}).status_code == 404
    assert client.get(URL, {"run": "abc"}).status_code == 404


# --- What the page shows ---------------------------------------------------------------


def test_default_view_is_sections_by_grands_domaines_with_the_hand_worked_figures(client, analyst, run):
    client.force_login(analyst)
    response = client.get(URL)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["sector_code"], row["sector_label"]) == ("J", "Information et communication")
    assert (row["occupation_code"], row["occupation_label"]) == ("M", "Support à l'entreprise")
    assert (row["companies"], row["employees"]) == (4, 65)
    assert row["exposure_mean"] == pytest.approx(5.6 / 9)
    content = response.content.decode()
    # French formats: exposure 0,62, training need 20 / 65 = 30,8 %.
    assert '<td class="num">65</td>' in content
    assert '<td class="num">0,62</td>' in content
    assert "30,8\xa0%" in content
    assert 'role="img"' in content and 'aria-label="Carte de chaleur' in content

    figure = _figure(response)
    values = figure["data"][0]
    # The cell, then the « tous métiers » column and the « tous secteurs » row: one sector and
    # one grand domaine, so every total is the same cell's figure.
    assert values["z"] == [[pytest.approx(5.6 / 9)] * 2] * 2
    assert values["x"][-1] == "Σ · Tous métiers" and values["y"][-1] == "Σ · Tous secteurs"
    assert values["zmin"] == 0 and values["zmax"] == 1
    assert "Salariés : 65" in values["customdata"][0][0]
    assert "Entreprises : 4" in values["customdata"][0][0]
    assert len(figure["data"]) == 1  # no secret layer when nothing is secret


def test_filters_are_kept_in_the_links(client, analyst, run):
    client.force_login(analyst)
    response = client.get(URL, {"territory": "region:32", "size_band": "10-49"})
    content = response.content.decode()
    expected = "&amp;".join(
        [
            f"run={run.pk}",
            "territory=region%3A32",
            "sector=",
            "occupation=",
            "size_band=10-49",
            "rows=section",
            "columns=grand_domaine",
        ]
    )
    assert f"/observatoire/grille/export.csv?{expected}" in content
    assert f"/observatoire/grille/export.xlsx?{expected}" in content
    assert 'value="region:32" selected' in content
    assert response.context["rows"][0]["employees"] == 65


def test_a_secret_cell_shows_its_reason_and_never_a_figure(client, analyst, run):
    client.force_login(analyst)
    # The Nord would give the Pas-de-Calais away by subtraction: secondary secret.
    nord = _cell(
        run,
        territory_level="departement",
        territory_code="59",
        sector_level="section",
        sector_code="J",
        occupation_level="grand_domaine",
        occupation_code="M",
    )
    assert nord.secret and nord.employees == 60  # stored, never shown
    response = client.get(URL, {"territory": "departement:59"})
    row = response.context["rows"][0]
    assert row["secret"] and row["secret_label"] == "secret secondaire"
    assert row["employees"] is None and row["exposure_mean"] is None and row["companies"] is None
    content = response.content.decode()
    assert '<span class="badge badge-secret">secret</span> secret secondaire' in content
    assert '<td class="num">60</td>' not in content

    figure = _figure(response)
    # The Nord's cell and its totals (every sector, every occupation) are all secret.
    assert figure["data"][0]["z"] == [[None, None], [None, None]]
    secret_layer = figure["data"][1]
    assert secret_layer["text"][0][0] == "secret"
    assert "secret secondaire" in secret_layer["customdata"][0][0]
    assert "Salariés" not in json.dumps(figure) and "60" not in json.dumps(secret_layer["customdata"])

    # The Pas-de-Calais has a single company.
    response = client.get(URL, {"territory": "departement:62"})
    assert response.context["rows"][0]["secret_label"] == "moins de 3 entreprises"
    assert "moins de 3 entreprises" in _figure(response)["data"][1]["customdata"][0][0]


def test_division_rows_and_domaine_columns(client, analyst, many_cells):
    client.force_login(analyst)
    response = client.get(URL, {"rows": "division", "columns": "domaine", "sector": "section:J"})
    rows = response.context["rows"]
    assert {row["sector_code"] for row in rows} == {"62"}
    assert {row["occupation_code"] for row in rows} == {"D15", "H21", "M16"}
    assert rows[0]["sector_label"] == "Programmation, conseil et autres activités informatiques"
    assert response.context["heatmap"]["row_title"] == "Divisions NAF"
    assert response.context["heatmap"]["column_title"] == "Domaines professionnels"


def test_a_finer_sector_or_occupation_than_the_axes_wins(client, analyst, many_cells):
    client.force_login(analyst)
    response = client.get(URL, {"rows": "section", "sector": "division:47", "occupation": "domaine:D15"})
    rows = response.context["rows"]
    assert [(row["sector_code"], row["occupation_code"]) for row in rows] == [("47", "D15")]
    expected = _cell(
        many_cells, sector_level="division", sector_code="47", occupation_level="domaine", occupation_code="D15"
    )
    assert rows[0]["employees"] == expected.employees


def test_an_occupation_filter_keeps_its_own_subtree(client, analyst, many_cells):
    client.force_login(analyst)
    response = client.get(URL, {"occupation": "grand_domaine:H", "columns": "domaine"})
    assert {row["occupation_code"] for row in response.context["rows"]} == {"H21"}
    assert {row["sector_code"] for row in response.context["rows"]} == {"C", "G", "J"}


def test_invalid_filters_are_reported(client, analyst, run):
    client.force_login(analyst)
    response = client.get(URL, {"territory": "departement:99", "rows": "fiche"})
    assert response.status_code == 400
    content = response.content.decode()
    assert "Certains filtres ne sont pas valides" in content
    assert "heatmap-data" not in content


def test_the_section_labels_read_in_sentence_case(client, analyst, many_cells):
    client.force_login(analyst)
    labels = {row["sector_code"]: row["sector_label"] for row in client.get(URL).context["rows"]}
    assert labels["G"] == "Commerce ; réparation d'automobiles et de motocycles"


# --- Sort and pagination ---------------------------------------------------------------


def test_sort_by_employees_keeps_secret_cells_last(client, analyst, many_cells):
    client.force_login(analyst)
    for sort in ("-employees", "employees"):
        rows = client.get(URL, {"sort": sort}).context["rows"]
        public = [row for row in rows if not row["secret"]]
        secret = [row for row in rows if row["secret"]]
        assert public and secret
        assert rows == public + secret  # secret cells never interleave with published ones
        employees = [row["employees"] for row in public]
        assert employees == sorted(employees, reverse=sort.startswith("-"))


def test_sort_marks_the_column_and_reverses_on_a_second_click(client, analyst, many_cells):
    client.force_login(analyst)
    response = client.get(URL, {"sort": "exposure_mean"})
    header = next(h for h in response.context["headers"] if h["field"] == "exposure_mean")
    assert header["aria_sort"] == "ascending" and "sort=-exposure_mean" in header["url"]
    assert 'aria-sort="ascending"' in response.content.decode()
    # An unknown column falls back to the default order (codes).
    rows = client.get(URL, {"sort": "secret_reason"}).context["rows"]
    codes = [(row["sector_code"], row["occupation_code"]) for row in rows]
    assert codes == sorted(codes)


def test_the_table_is_paginated(client, analyst, many_cells, monkeypatch):
    from observatory.views import grid

    monkeypatch.setattr(grid, "PER_PAGE", 4)
    client.force_login(analyst)
    first = client.get(URL)
    total = first.context["page"].paginator.count
    assert total > 4 and len(first.context["rows"]) == 4
    last = client.get(URL, {"page": first.context["page"].paginator.num_pages})
    seen = []
    for number in range(1, first.context["page"].paginator.num_pages + 1):
        seen += [(r["sector_code"], r["occupation_code"]) for r in client.get(URL, {"page": number}).context["rows"]]
    assert len(seen) == len(set(seen)) == total
    assert "Page 1 sur" in first.content.decode()
    assert last.status_code == 200


# --- Speed -----------------------------------------------------------------------------


def test_the_page_runs_a_bounded_number_of_queries(client, analyst, many_cells, django_assert_max_num_queries):
    assert many_cells.cells.count() > 1000
    client.force_login(analyst)
    for params in (
        {},
        {"rows": "division", "columns": "domaine"},
        {"territory": "departement:59", "sort": "-employees"},
    ):
        cache.clear()
        with django_assert_max_num_queries(13):
            assert client.get(URL, params).status_code == 200


def test_the_heatmap_is_cached_per_run_and_filters(client, analyst, many_cells):
    client.force_login(analyst)
    first = client.get(URL, {"rows": "division"})
    with CaptureQueriesContext(connection) as again:
        response = client.get(URL, {"rows": "division"})
    # Served from the cached fragments: no cell is read again, not even the table's page.
    heatmap_reads = [q for q in again.captured_queries if "observatory_gridcell" in q["sql"]]
    assert len(heatmap_reads) == 0
    assert len(again.captured_queries) <= 3  # session, user, groups
    assert _figure(response) == _figure(first)
    assert response.context["heatmap"]["figure"]
    other = client.get(URL, {"rows": "section"})
    assert other.context["heatmap"]["figure"] != response.context["heatmap"]["figure"]
    assert _figure(other) != _figure(response)


def test_lens_and_run_choose_the_cells(client, analyst, hand_worked):  # noqa: F811
    default = services.grid_run_compute(services.grid_run_create().pk)
    genai = services.grid_run_compute(services.grid_run_create(lens=Lens.GENAI).pk)
    client.force_login(analyst)
    row = client.get(URL, {"lens": "genai"}).context["rows"][0]
    assert row["exposure_mean"] == pytest.approx(5.92 / 9)
    response = client.get(URL, {"run": default.pk, "lens": "genai"})
    assert response.context["run"] == default
    assert response.context["rows"][0]["exposure_mean"] == pytest.approx(5.6 / 9)
    assert genai.pk != default.pk


def test_an_epci_under_a_totals_only_plan_says_where_its_detail_is_read(client, analyst, hand_worked):  # noqa: F811
    metropole = Territory.objects.create(
        level=Territory.Level.EPCI, code="200093201", name="Métropole Européenne de Lille"
    )
    Territory.objects.filter(level=Territory.Level.COMMUNE, code="59350").update(epci=metropole)
    client.force_login(analyst)
    epci = {"territory": "epci:200093201"}
    full = services.grid_run_compute(services.grid_run_create().pk)
    assert 'id="plan-epci"' not in client.get(URL, {"run": full.pk, **epci}).content.decode()

    services.methodology_create_version(lens=Lens.DEFAULT, epci_detail="size")
    planned = services.grid_run_compute(services.grid_run_create().pk)
    page = client.get(URL, {"run": planned.pk, **epci}).content.decode()
    assert 'id="plan-epci"' in page
    assert f"version {planned.methodology.version} de la méthode" in page
    assert "se lit au niveau du département" in page
    # The département shows its crossings: no notice there.
    assert 'id="plan-epci"' not in client.get(URL, {"run": planned.pk, "territory": "departement:59"}).content.decode()
