"""CSV and XLSX downloads of the grid: exactly the cells the page shows, the published column
order, no figure of a secret cell, and the analysts-only rule."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from companies.models import SizeBand
from observatory import services
from observatory.analysis import cube
from observatory.exports import GRID_COLUMNS, GRID_FIGURES, GRID_SPREADSHEET_COLUMNS, SIZE_WORDS
from observatory.models import GridCell

pytestmark = pytest.mark.django_db

CSV_URL = reverse("observatory:grid_export_csv")
XLSX_URL = reverse("observatory:grid_export_xlsx")
PAGE_URL = reverse("observatory:grid")


@pytest.fixture
def run(hand_worked):  # noqa: F811
    return services.grid_run_compute(services.grid_run_create().pk)


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    reader = csv.DictReader(io.StringIO(body))
    assert reader.fieldnames == GRID_COLUMNS
    return list(reader)


def _xlsx(response) -> tuple[list, list[dict], dict]:
    """Header, rows (dicts by column) of the sheet « grille » and the sheet « paramètres »."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="grille-' in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["paramètres", "grille"]
    values = list(workbook["grille"].iter_rows(values_only=True))
    # French headers, read back under the machine CSV's column names.
    names = {label: column for column, label, _kind in GRID_SPREADSHEET_COLUMNS}
    header = [names[label] for label in values[0]]
    rows = [dict(zip(header, row, strict=True)) for row in values[1:]]
    about = {row[0]: row[1] for row in workbook["paramètres"].iter_rows(values_only=True)}
    return header, rows, about


def test_filtered_csv_holds_the_cells_of_the_page(client, analyst, run):
    client.force_login(analyst)
    params = {"territory": "all", "size_band": "all", "rows": "section", "columns": "grand_domaine"}
    rows = _csv(client.get(CSV_URL, params))
    assert len(rows) == 1
    row = rows[0]
    assert (row["sector_code"], row["occupation_code"], row["size_band"]) == ("J", "M", "*")
    assert (row["territory_level"], row["territory_code"], row["territory_name"]) == ("all", "*", "Ensemble")
    assert (row["companies"], row["employees"], row["secret"]) == ("4", "65", "false")
    assert float(row["exposure_mean"]) == pytest.approx(5.6 / 9, abs=1e-6)
    assert float(row["training_need_share"]) == pytest.approx(20 / 65, abs=1e-6)
    assert row["occupation_label"] == "Support à l'entreprise"


def test_filtered_csv_empties_every_figure_of_a_secret_cell(client, analyst, run):
    client.force_login(analyst)
    rows = _csv(client.get(CSV_URL, {"territory": "departement:59", "rows": "section", "columns": "grand_domaine"}))
    assert len(rows) == 2  # size "all" and the one band, 10-49
    for row in rows:
        assert row["territory_name"] == "Nord"
        assert row["secret"] == "true" and row["secret_reason"] == "secondary"
        assert all(row[column] == "" for column in GRID_FIGURES)


def test_the_downloads_of_the_page_hold_every_row_of_its_table(client, analyst, many_cells):  # noqa: F811
    client.force_login(analyst)
    page = client.get(PAGE_URL, {"rows": "division", "columns": "domaine", "sort": "-employees"})
    table = page.context["page"]
    csv_url = page.context["csv_url"]
    rows = _csv(client.get(csv_url))
    assert len(rows) == table.paginator.count
    # Same order as the table: the first page of the table is the head of the file.
    assert [(r["sector_code"], r["occupation_code"]) for r in rows[: len(page.context["rows"])]] == [
        (r["sector_code"], r["occupation_code"]) for r in page.context["rows"]
    ]
    public = [int(r["employees"]) for r in rows if r["secret"] == "false"]
    assert public == sorted(public, reverse=True)
    assert all(r["secret"] == "true" for r in rows[len(public) :])

    header, xlsx_rows, about = _xlsx(client.get(page.context["xlsx_url"]))
    assert header == [column for column, _label, _kind in GRID_SPREADSHEET_COLUMNS]
    assert len(xlsx_rows) == len(rows)
    for from_csv, from_xlsx in zip(rows, xlsx_rows, strict=True):
        assert from_xlsx["sector_code"] == from_csv["sector_code"]
        assert from_xlsx["occupation_code"] == from_csv["occupation_code"]
        assert from_xlsx["secret"] is (from_csv["secret"] == "true")
        assert str(from_xlsx["employees"] if from_xlsx["employees"] is not None else "") == from_csv["employees"]
    assert about["édition n°"] == many_cells.pk
    assert about["filtre rows"] == "division" and about["filtre sort"] == "-employees"
    assert about["lignes"] == len(rows)


def test_xlsx_values_are_numbers_and_secret_cells_are_empty(client, analyst, run):
    client.force_login(analyst)
    _header, rows, about = _xlsx(
        client.get(XLSX_URL, {"territory": "all", "rows": "section", "columns": "grand_domaine", "size_band": "all"})
    )
    assert len(rows) == 1
    row = rows[0]
    assert row["run_id"] == run.pk
    assert (row["companies"], row["establishments"], row["employees"]) == (4, 4, 65)
    assert row["exposure_mean"] == pytest.approx(5.6 / 9)
    # E = 0.62 ≥ 0.48: high exposure.
    assert (row["share_high"], row["share_medium"], row["share_low"]) == pytest.approx((1, 0, 0))
    assert row["secret"] is False and row["secret_reason"] in ("", None)
    assert (row["sector_label"], row["territory_name"]) == ("Information et communication", "Ensemble")
    assert (
        about["filtre territory"] == "all" and about["lecture"] == "Par défaut" and about["version de la méthode"] == 2
    )

    _header, rows, _about = _xlsx(
        client.get(XLSX_URL, {"territory": "departement:62", "rows": "section", "columns": "grand_domaine"})
    )
    assert rows and all(r["secret"] is True and r["secret_reason"] == "moins de 3 entreprises" for r in rows)
    assert all(r[column] is None for r in rows for column in GRID_FIGURES)


def test_xlsx_without_filters_holds_the_whole_run(client, analyst, run):
    client.force_login(analyst)
    _header, rows, _about = _xlsx(client.get(XLSX_URL))
    assert len(rows) == GridCell.objects.filter(run=run).count()
    secret = [r for r in rows if r["secret"] is True]
    assert secret and all(r["employees"] is None and r["exposure_mean"] is None for r in secret)
    total = next(
        r
        for r in rows
        if r["territory_level"] == r["sector_level"] == r["occupation_level"] == "ensemble"
        and r["size_band"] == "toutes"
    )
    assert total["employees"] == 65 and total["exposure_mean"] == pytest.approx(5.6 / 9)


def test_exact_coordinate_filters_apply_too(client, analyst, run):
    client.force_login(analyst)
    rows = _csv(
        client.get(
            CSV_URL, {"territory_level": "all", "sector_level": "all", "occupation_level": "fiche", "size_band": "all"}
        )
    )
    assert [(r["occupation_code"], r["occupation_label"], r["employees"]) for r in rows] == [
        ("M1607", "Secrétaire", "65")
    ]


def test_invalid_filters_are_a_bad_request(client, analyst, run):
    client.force_login(analyst)
    assert client.get(CSV_URL, {"territory": "departement:99"}).status_code == 400
    assert client.get(XLSX_URL, {"rows": "fiche"}).status_code == 400


def test_a_download_of_another_run(client, analyst, run):
    newer = services.grid_run_compute(services.grid_run_create().pk)
    client.force_login(analyst)
    rows = _csv(client.get(CSV_URL, {"run": run.pk, "territory": "all"}))
    assert {r["run_id"] for r in rows} == {str(run.pk)} and newer.pk != run.pk
    assert client.get(XLSX_URL, {"run": 999999}).status_code == 404


def test_without_any_run_there_is_nothing_to_download(client, analyst):
    client.force_login(analyst)
    assert client.get(XLSX_URL).status_code == 404
    assert client.get(CSV_URL, {"territory": "all"}).status_code == 404


def test_downloads_run_a_bounded_number_of_queries(client, analyst, many_cells, django_assert_max_num_queries):  # noqa: F811
    client.force_login(analyst)
    for url in (CSV_URL, XLSX_URL):
        with django_assert_max_num_queries(12):
            response = client.get(url, {"territory": "departement:59", "rows": "division", "columns": "domaine"})
            if response.streaming:
                b"".join(response.streaming_content)


@pytest.mark.parametrize("url", [CSV_URL, XLSX_URL])
def test_anonymous_visitors_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/comptes/login/" in response["Location"]


@pytest.mark.parametrize("url", [CSV_URL, XLSX_URL])
def test_users_without_the_analyst_role_are_refused(client, plain_user, curator, url):
    for user in (plain_user, curator):
        client.force_login(user)
        assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", [CSV_URL, XLSX_URL])
def test_analysts_and_superusers_may_download(client, analyst, superuser, run, url):
    for user in (analyst, superuser):
        client.force_login(user)
        assert client.get(url, {"territory": "all"}).status_code == 200


def test_a_selection_too_large_for_a_workbook_points_to_the_csv(client, analyst, run, monkeypatch):
    from observatory.views import exports as export_views

    monkeypatch.setattr(export_views, "XLSX_MAX_ROWS", 5)
    client.force_login(analyst)
    response = client.get(XLSX_URL)
    assert response.status_code == 400
    assert "limité à 5 lignes" in response.content.decode() and "CSV" in response.content.decode()
    # A selection under the limit is served.
    assert client.get(XLSX_URL, {"territory": "all", "rows": "section", "columns": "grand_domaine"}).status_code == 200


# --- No formula from the outside --------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"territory_code": '=HYPERLINK("http://evil.example","clic")'}, "Code COG invalide"),
        ({"occupation_code": "@SUM(A1)"}, "Code ROME invalide"),
        ({"sort": "=1+1"}, "Tri inconnu"),
    ],
)
def test_a_formula_in_a_parameter_never_reaches_a_file(client, analyst, run, params, message):
    client.force_login(analyst)
    for url in (CSV_URL, XLSX_URL):
        response = client.get(url, params)
        assert response.status_code == 400, url
        assert message in response.content.decode()


def test_a_stored_text_that_looks_like_a_formula_stays_text(client, analyst, hand_worked):  # noqa: F811
    from skills.models import Occupation

    Occupation.objects.filter(pk="M1607").update(label='=HYPERLINK("http://evil.example","clic")')
    Occupation.objects.filter(pk="M16").update(label="+33 cmd|' /C calc'!A0")
    services.grid_run_compute(services.grid_run_create().pk)
    client.force_login(analyst)
    params = {"occupation_level": "fiche", "territory_level": "all", "sector_level": "all", "size_band": "all"}
    rows = _csv(client.get(CSV_URL, params))
    assert [r["occupation_label"] for r in rows] == ['\'=HYPERLINK("http://evil.example","clic")']
    domaine = _csv(client.get(CSV_URL, {**params, "occupation_level": "domaine"}))
    assert [r["occupation_label"] for r in domaine] == ["'+33 cmd|' /C calc'!A0"]
    response = client.get(XLSX_URL, params)
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook["grille"]
    column = [cell.value for cell in sheet[1]].index("Métier") + 1
    cell = sheet.cell(row=2, column=column)
    assert cell.value == '=HYPERLINK("http://evil.example","clic")' and cell.data_type == "s"


def test_the_size_bands_are_the_companies_everywhere():
    # The cube cannot import the model (it is pure); the three lists must agree.
    assert tuple(SizeBand.values) == cube.SIZE_BANDS
    assert set(SIZE_WORDS) == {"*", *SizeBand.values}
