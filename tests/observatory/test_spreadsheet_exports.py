"""The « CSV pour tableur » (French headers, `;`, decimal comma, BOM) and the typed workbooks:
the same figures as the machine CSV, rounded as README.md documents, nothing a spreadsheet
would run as a formula, and the analysts-only rule."""

import io

import openpyxl
import pandas as pd
import pytest
from django.urls import reverse

from observatory import services
from observatory.exports import (
    GRID_COLUMNS,
    GRID_SPREADSHEET_COLUMNS,
    OCCUPATION_COLUMNS,
    OCCUPATION_SPREADSHEET_COLUMNS,
)
from tests.companies.factories import CompanyFactory

pytestmark = pytest.mark.django_db

GRID_CSV = reverse("observatory:grid_export_csv")
GRID_XLSX = reverse("observatory:grid_export_xlsx")
OCCUPATIONS_CSV = reverse("observatory:occupations_export_csv")
RANKING_CSV = reverse("observatory:ranking_export_csv")
RANKING_XLSX = reverse("observatory:ranking_export_xlsx")
SPREADSHEET = {"format": "tableur"}
DECIMALS = {"exposure": 3, "share": 1}


@pytest.fixture
def run(hand_worked):
    return services.grid_run_compute(services.grid_run_create().pk)


def _body(response) -> bytes:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content)


def _machine(response) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(_body(response)), dtype=str, keep_default_na=False)


def _spreadsheet(response) -> pd.DataFrame:
    body = _body(response)
    assert body.startswith("\ufeff".encode())  # Excel reads UTF-8 only after a BOM
    assert "tableur" in response["Content-Disposition"]
    return pd.read_csv(io.BytesIO(body), sep=";", decimal=",", encoding="utf-8-sig")


def _same_figures(machine: pd.DataFrame, spreadsheet: pd.DataFrame, columns) -> None:
    """Every figure of the spreadsheet CSV is the machine CSV's, rounded as documented:
    exposure and RTI to 3 decimals, shares in percent to one decimal, counts unchanged."""
    assert len(machine) == len(spreadsheet)
    for column, header, kind in columns:
        if kind not in ("count", "exposure", "share"):
            continue
        expected = pd.to_numeric(machine[column].replace("", None))
        if kind == "share":
            expected = expected * 100
        expected = expected.round(DECIMALS.get(kind, 0))
        got = spreadsheet[header].astype(float)
        # The machine CSV holds 6 significant digits: a tie may round the other way.
        tolerance = 10 ** -DECIMALS.get(kind, 0) * 0.5 + 1e-9 if kind != "count" else 0
        assert (expected.isna() == got.isna()).all(), header
        assert ((expected - got).abs()[expected.notna()] <= tolerance).all(), header


def test_grid_spreadsheet_csv_has_the_machine_figures(client, analyst, run):
    client.force_login(analyst)
    machine = _machine(client.get(GRID_CSV))
    spreadsheet = _spreadsheet(client.get(GRID_CSV, SPREADSHEET))
    assert list(machine.columns) == GRID_COLUMNS  # the machine CSV is unchanged
    assert list(spreadsheet.columns) == [header for _column, header, _kind in GRID_SPREADSHEET_COLUMNS]
    _same_figures(machine, spreadsheet, GRID_SPREADSHEET_COLUMNS)
    assert set(spreadsheet["Secret statistique"]) == {"oui", "non"}
    total = spreadsheet[
        (spreadsheet["Niveau territorial"] == "ensemble")
        & (spreadsheet["Niveau sectoriel"] == "ensemble")
        & (spreadsheet["Niveau métier"] == "ensemble")
        & (spreadsheet["Taille (salariés)"] == "toutes")
    ].iloc[0]
    assert total["Salariés"] == 65 and total["Exposition moyenne"] == round(5.6 / 9, 3)
    secret = spreadsheet[spreadsheet["Secret statistique"] == "oui"]
    assert secret["Salariés"].isna().all() and (secret["Motif du secret"] != "").all()
    assert "secret secondaire" in set(secret["Motif du secret"])


def test_grid_spreadsheet_csv_writes_decimal_commas_and_semicolons(client, analyst, run):
    client.force_login(analyst)
    text = _body(client.get(GRID_CSV, {**SPREADSHEET, "territory": "all", "size_band": "all"})).decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert header.startswith("Édition;Niveau territorial;Code territoire;Territoire;")
    assert ";0,622;" in first and ";100,0;" in first  # E = 5.6 / 9, every employee highly exposed
    # Words, not « 10-49 », which a spreadsheet would read as a date.
    assert first.startswith(f"{run.pk};ensemble;*;Ensemble;ensemble;") and ";toutes;4;4;65;" in first


def test_occupations_spreadsheet_csv_has_the_machine_figures(client, analyst, run):
    client.force_login(analyst)
    machine = _machine(client.get(OCCUPATIONS_CSV))
    spreadsheet = _spreadsheet(client.get(OCCUPATIONS_CSV, SPREADSHEET))
    assert list(machine.columns) == OCCUPATION_COLUMNS
    assert list(spreadsheet.columns) == [header for _column, header, _kind in OCCUPATION_SPREADSHEET_COLUMNS]
    _same_figures(machine, spreadsheet, OCCUPATION_SPREADSHEET_COLUMNS)
    secretary = spreadsheet[spreadsheet["Code ROME"] == "M1607"].iloc[0]
    assert secretary["Terrain RC (%)"] == 50.0 and secretary["Profil RC (%)"] == round(500 / 9, 1)
    assert secretary["Classe d'exposition"] == "forte" and secretary["Secret statistique"] == "non"


def test_an_unknown_format_is_refused(client, analyst, run):
    client.force_login(analyst)
    for url in (GRID_CSV, OCCUPATIONS_CSV, RANKING_CSV):
        response = client.get(url, {"format": "=1+1"})
        assert response.status_code == 400 and "Format inconnu" in response.content.decode()


def _workbook(response):
    assert response.status_code == 200, response.content
    return openpyxl.load_workbook(io.BytesIO(response.content))


def test_grid_workbook_is_typed_and_says_what_it_holds(client, analyst, run):
    client.force_login(analyst)
    workbook = _workbook(client.get(GRID_XLSX, {"territory": "all", "rows": "section", "columns": "grand_domaine"}))
    assert workbook.sheetnames == ["paramètres", "grille"]
    about = {row[0]: row[1] for row in workbook["paramètres"].iter_rows(values_only=True)}
    assert about["édition n°"] == run.pk and about["lecture"] == "Par défaut"
    assert about["filtre territory"] == "all" and about["filtre rows"] == "section"
    assert about["terminé le"].year >= 2024  # a date, not a text
    sheet = workbook["grille"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
    header = [cell.value for cell in sheet[1]]
    assert header == [label for _column, label, _kind in GRID_SPREADSHEET_COLUMNS]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    public = next(r for r in rows if r["Secret statistique"] is False)
    assert public["Salariés"] == 65 and isinstance(public["Exposition moyenne"], float)
    assert public["Exposition moyenne"] == pytest.approx(5.6 / 9)
    column = header.index("Secret statistique") + 1
    assert sheet.cell(row=2, column=column).data_type == "b"
    assert sheet.cell(row=2, column=header.index("Salariés") + 1).data_type == "n"

    sheet = _workbook(client.get(GRID_XLSX, {"territory": "departement:59"}))["grille"]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    secret = [r for r in rows if r["Secret statistique"] is True]
    assert secret and all(r["Salariés"] is None and r["Motif du secret"] == "secret secondaire" for r in secret)


def test_ranking_workbook_is_typed(client, analyst, run):
    client.force_login(analyst)
    workbook = _workbook(client.get(RANKING_XLSX, {"territory": "departement:59"}))
    assert workbook.sheetnames == ["paramètres", "classement"]
    about = {row[0]: row[1] for row in workbook["paramètres"].iter_rows(values_only=True)}
    assert about["édition n°"] == run.pk and about["périmètre"]
    sheet = workbook["classement"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert rows and all(isinstance(r["Secret statistique"], bool) for r in rows)


def test_ranking_spreadsheet_csv(client, analyst, run):
    client.force_login(analyst)
    frame = _spreadsheet(client.get(RANKING_CSV, {**SPREADSHEET, "territory": "departement:59"}))
    assert list(frame.columns[:3]) == ["Rang", "Code ROME", "Métier"]
    assert set(frame["Secret statistique"]) <= {"oui", "non"}


FORMULA = '=HYPERLINK("http://evil.example","clic")'


@pytest.mark.parametrize("url", [GRID_CSV, GRID_XLSX])
def test_a_formula_in_a_filter_is_refused_in_the_new_variants(client, analyst, run, url):
    client.force_login(analyst)
    params = {"territory_code": FORMULA, **(SPREADSHEET if url == GRID_CSV else {})}
    response = client.get(url, params)
    assert response.status_code == 400 and "Code COG invalide" in response.content.decode()


def test_a_stored_formula_stays_text_in_the_new_variants(client, analyst, hand_worked):
    from skills.models import Occupation

    Occupation.objects.filter(pk="M1607").update(label=FORMULA)
    services.grid_run_compute(services.grid_run_create().pk)
    client.force_login(analyst)
    params = {"occupation_level": "fiche", "territory_level": "all", "sector_level": "all", "size_band": "all"}
    frame = _spreadsheet(client.get(GRID_CSV, {**params, **SPREADSHEET}))
    assert list(frame["Métier"]) == ["'" + FORMULA]
    occupations = _spreadsheet(client.get(OCCUPATIONS_CSV, SPREADSHEET))
    assert "'" + FORMULA in set(occupations["Métier"])
    sheet = _workbook(client.get(GRID_XLSX, params))["grille"]
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("Métier") + 1)
    assert cell.value == FORMULA and cell.data_type == "s"


def test_a_formula_in_the_ranking_scope_stays_out_of_the_workbook(client, analyst, run):
    client.force_login(analyst)
    response = client.get(RANKING_XLSX, {"territory": FORMULA})
    assert response.status_code == 400
    response = client.get(RANKING_CSV, {**SPREADSHEET, "territory": FORMULA})
    assert response.status_code == 400


URLS = [
    (GRID_CSV, SPREADSHEET),
    (OCCUPATIONS_CSV, SPREADSHEET),
    (RANKING_CSV, SPREADSHEET),
    (GRID_XLSX, {}),
    (RANKING_XLSX, {}),
]


@pytest.mark.parametrize(("url", "params"), URLS)
def test_only_analysts_download_the_spreadsheets(client, analyst, curator, plain_user, run, url, params):
    from companies.models import CompanyMembership

    CompanyMembership.objects.create(user=plain_user, company=CompanyFactory())
    response = client.get(url, params)
    assert response.status_code == 302 and "/comptes/login/" in response["Location"]
    for user in (plain_user, curator):
        client.force_login(user)
        assert client.get(url, params).status_code == 403
    client.force_login(analyst)
    response = client.get(url, params)
    assert response.status_code == 200
    if response.streaming:
        b"".join(response.streaming_content)


@pytest.mark.parametrize(("url", "params"), URLS)
def test_spreadsheet_downloads_run_a_bounded_number_of_queries(
    client, analyst, run, url, params, django_assert_max_num_queries
):
    client.force_login(analyst)
    client.get(RANKING_CSV, {"territory": "departement:59"})  # warms the reference cache
    with django_assert_max_num_queries(12):
        response = client.get(url, {**params, "territory": "departement:59"})
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200


def test_pages_offer_both_csv_and_explain_secret_cells(client, analyst, run):
    client.force_login(analyst)
    grid = client.get(reverse("observatory:grid"), {"territory": "departement:59"}).content.decode()
    assert "format=tableur" in grid and "CSV pour tableur" in grid and "CSV machine" in grid
    # The legend under the heatmap says why a cell is secret, without hovering.
    assert 'class="secret-legend"' in grid and "secret secondaire" in grid and "moins de 3 entreprises" in grid
    ranking = client.get(reverse("observatory:ranking"), {"territory": "departement:59"}).content.decode()
    assert "CSV pour tableur" in ranking and "format=tableur" in ranking
    search = client.get(reverse("observatory:occupations")).content.decode()
    assert f"{OCCUPATIONS_CSV}?run={run.pk}&amp;format=tableur" in search
