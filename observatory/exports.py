"""CSV and XLSX exports of the grid, CSV of the occupation scores. Secret cells keep their
coordinates and flag, never their figures.

Each CSV comes in two variants: the machine CSV (English headers, `,`, decimal point, 6
significant digits; stable for scripts, its columns documented in README.md) and, with
`?format=tableur`, the CSV for a spreadsheet (`spreadsheet_frame`: French headers, `;`,
decimal comma, figures rounded to what they mean, UTF-8 with a BOM). Workbooks
(`xlsx_response`) hold typed cells under the same French headers, after a sheet « paramètres »."""

import datetime
import io
import math

import pandas as pd
from django.http import HttpResponse, StreamingHttpResponse

from companies.models import SizeBand

from .analysis.secrecy import mask_values
from .models import CATEGORIES, CELL_FIGURES
from .published import fiche_secrecy, mask_occupation_scores
from .selectors import cells_export_frame, grid_cells_export_frame, occupation_scores_export_frame

GRID_COLUMNS = [
    "run_id",
    "territory_level",
    "territory_code",
    "territory_name",
    "sector_level",
    "sector_code",
    "sector_label",
    "occupation_level",
    "occupation_code",
    "occupation_label",
    "size_band",
    "companies",
    "establishments",
    "employees",
    "exposure_mean",
    "share_high",
    "share_medium",
    "share_low",
    "rti_mean",
    "training_need_share",
    "diagnostics",
    "secret",
    "secret_reason",
    "training_coverage",
]
GRID_FIGURES = list(CELL_FIGURES)
OCCUPATION_COLUMNS = (
    ["code_rome", "label", "n_companies", "employees"]
    + [f"ref_{c}" for c in CATEGORIES]
    + [f"field_{c}" for c in CATEGORIES]
    + list(CATEGORIES)
    + ["exposure", "rti", "exposure_class"]
    # Where the fiche's reference profile came from (rome_items, domain_defaults, imported) and
    # the classified savoir-faire it rests on; then the run's tag of all its reference profiles.
    + ["ref_source", "ref_items", "profile_source"]
    # Whether the fiche's counts are secret (its cell for the whole région is).
    + ["secret"]
)


# A text that a spreadsheet would read as a formula (OWASP « CSV injection »): =, +, -, @, a tab
# or a carriage return first. In a CSV it is written after an apostrophe, and stays text; in a
# workbook it is stored as a text cell (`_xlsx_text`).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value):
    """`value` as a spreadsheet must hold it: a text that would start a formula gets a leading
    apostrophe; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _neutralise_texts(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text column of `frame` through `spreadsheet_text`, vectorised."""
    texts = [
        name for name in frame.columns if frame[name].dtype == object or pd.api.types.is_string_dtype(frame[name])
    ]
    if not texts:
        return frame
    frame = frame.copy()
    for name in texts:
        column = frame[name]
        kind = pd.api.types.infer_dtype(column, skipna=True)
        if kind == "string":
            starts = column.str.startswith(FORMULA_START, na=False)
            if starts.any():
                frame.loc[starts, name] = "'" + column[starts]
        elif kind.startswith("mixed"):  # texts among numbers: value by value
            frame[name] = column.map(spreadsheet_text)
    return frame


def csv_response(frame: pd.DataFrame, filename: str, chunk_rows: int = 20_000) -> StreamingHttpResponse:
    """Stream a frame as CSV, a chunk of rows at a time (pandas writes each chunk); texts that a
    spreadsheet would read as formulas are neutralised."""
    frame = _neutralise_texts(frame)

    def chunks():
        yield ",".join(frame.columns) + "\n"
        for start in range(0, len(frame), chunk_rows):
            yield frame.iloc[start : start + chunk_rows].to_csv(
                header=False, index=False, float_format="%.6g", na_rep="", lineterminator="\n"
            )

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def grid_export_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """Roll-ups get the code `*`; secret cells have every figure emptied."""
    frame = cells.copy()
    for column in ("territory_code", "sector_code", "occupation_code"):
        frame[column] = frame[column].mask(frame[column] == "", "*")
    frame["size_band"] = frame["size_band"].replace({"all": "*"})
    frame["secret"] = frame["secret"].astype(bool)
    counts = [c for c in GRID_FIGURES if pd.api.types.is_integer_dtype(frame[c])]
    frame = mask_values(frame)
    frame[counts] = frame[counts].astype("Int64")  # masking made them floats; counts stay whole
    frame["secret"] = frame["secret"].map({True: "true", False: "false"})
    return frame.reindex(columns=GRID_COLUMNS)


def grid_csv_response(run, cells=None) -> StreamingHttpResponse:
    """The whole run, or the cells of the queryset `cells` (filtered and ordered as a page
    shows them)."""
    raw = cells_export_frame(run) if cells is None else grid_cells_export_frame(run, cells)
    return csv_response(grid_export_frame(raw), f"grille-{run.pk}.csv")


# The spreadsheet variants (« CSV pour tableur » and XLSX) of the grid: (column, French header,
# kind). The kind says how a figure is written for people: `exposure` rounded to 3 decimals
# (an index in [0, 1]), `share` in percent with one decimal (a fraction in [0, 1] in the
# machine CSV), `bool` as oui / non (a true boolean in a workbook), `reason`, `level`, `size`
# and `class` in words.
GRID_SPREADSHEET_COLUMNS = [
    ("run_id", "Édition", "count"),
    ("territory_level", "Niveau territorial", "level"),
    ("territory_code", "Code territoire", "text"),
    ("territory_name", "Territoire", "text"),
    ("sector_level", "Niveau sectoriel", "level"),
    ("sector_code", "Code NAF", "text"),
    ("sector_label", "Secteur", "text"),
    ("occupation_level", "Niveau métier", "level"),
    ("occupation_code", "Code ROME", "text"),
    ("occupation_label", "Métier", "text"),
    ("size_band", "Taille (salariés)", "size"),
    ("companies", "Entreprises", "count"),
    ("establishments", "Établissements", "count"),
    ("employees", "Salariés", "count"),
    ("exposure_mean", "Exposition moyenne", "exposure"),
    ("share_high", "Part exposition forte (%)", "share"),
    ("share_medium", "Part changement significatif (%)", "share"),
    ("share_low", "Part exposition faible (%)", "share"),
    ("rti_mean", "Intensité routinière moyenne (RTI)", "exposure"),
    ("training_need_share", "Part avec besoin de formation (%)", "share"),
    ("diagnostics", "Diagnostics", "count"),
    ("secret", "Secret statistique", "bool"),
    ("secret_reason", "Motif du secret", "reason"),
    ("training_coverage", "Couverture en formation (%)", "share"),
]
OCCUPATION_SPREADSHEET_COLUMNS = (
    [
        ("code_rome", "Code ROME", "text"),
        ("label", "Métier", "text"),
        ("n_companies", "Entreprises", "count"),
        ("employees", "Salariés", "count"),
    ]
    + [(f"ref_{c}", f"Référence {c.upper()} (%)", "share") for c in CATEGORIES]
    + [(f"field_{c}", f"Terrain {c.upper()} (%)", "share") for c in CATEGORIES]
    + [(c, f"Profil {c.upper()} (%)", "share") for c in CATEGORIES]
    + [
        ("exposure", "Exposition", "exposure"),
        ("rti", "Intensité routinière (RTI)", "exposure"),
        ("exposure_class", "Classe d'exposition", "class"),
        ("ref_source", "Source du profil de référence", "text"),
        ("ref_items", "Savoir-faire classés", "count"),
        ("profile_source", "Source des profils de l'édition", "text"),
        ("secret", "Secret statistique", "bool"),
    ]
)
# Decimals kept for people: the exposure and the RTI are read to the thousandth, shares to the
# tenth of a percent; the machine CSV keeps 6 significant digits.
SPREADSHEET_DECIMALS = {"exposure": 3, "share": 1}
# Excel number formats of the typed cells (the reader's locale supplies the decimal separator);
# shares stay fractions in a workbook, shown as percents.
XLSX_FORMATS = {"exposure": "0.000", "share": "0.0%", "count": "0"}
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPOSURE_CLASS_WORDS = {"high": "forte", "medium": "changement significatif", "low": "faible"}
# Levels and size bands in words: a spreadsheet opening a CSV reads « 10-49 » as a date.
LEVEL_WORDS = {
    "all": "ensemble",
    "region": "région",
    "departement": "département",
    "epci": "EPCI",
    "section": "section",
    "division": "division",
    "grand_domaine": "grand domaine",
    "domaine": "domaine",
    "fiche": "fiche",
}
SIZE_WORDS = {
    "*": "toutes",
    SizeBand.MICRO: "0 à 9",
    SizeBand.SMALL: "10 à 49",
    SizeBand.MEDIUM: "50 à 249",
    SizeBand.LARGE: "250 à 4 999",
    SizeBand.VERY_LARGE: "5 000 et plus",
}
SPREADSHEET_FORMAT = "tableur"


def _as_bool(value) -> bool | None:
    """The grid writes `secret` as "true"/"false", the occupations export as a boolean."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value == "true"
    return bool(value)


def spreadsheet_frame(frame: pd.DataFrame, columns, *, methodology=None, for_workbook: bool = False) -> pd.DataFrame:
    """`frame` (machine columns) as people read it: the columns of `columns` (column, header,
    kind) under their French headers, figures rounded to what they mean, secret as oui / non,
    a secret cell's reason and an exposure class in words. For a workbook, figures keep their
    precision (the cell's number format rounds them) and booleans stay booleans."""
    from .charts.common import secret_reason_text

    out = {}
    for column, header, kind in columns:
        values = frame[column] if column in frame else pd.Series([None] * len(frame), index=frame.index)
        if kind == "bool":
            flags = values.map(_as_bool)
            values = flags if for_workbook else flags.map({True: "oui", False: "non"})
        elif kind == "reason":
            values = values.map(lambda reason: secret_reason_text(reason, methodology) if reason else "")
        elif kind == "count":  # a selection's counts may come as floats: whole numbers here
            values = pd.to_numeric(values, errors="coerce").round().astype("Int64")
        elif kind in ("class", "level", "size"):
            words = {"class": EXPOSURE_CLASS_WORDS, "level": LEVEL_WORDS, "size": SIZE_WORDS}[kind]
            values = values.map(lambda value, words=words: words.get(value, value))
        elif kind in SPREADSHEET_DECIMALS and not for_workbook:
            values = pd.to_numeric(values, errors="coerce")
            values = (values * 100 if kind == "share" else values).round(SPREADSHEET_DECIMALS[kind])
        out[header] = values
    return pd.DataFrame(out, index=frame.index)


def spreadsheet_csv_response(frame: pd.DataFrame, filename: str, chunk_rows: int = 20_000) -> StreamingHttpResponse:
    """Stream a frame (already `spreadsheet_frame`) as a CSV that Excel and LibreOffice open
    right in a French locale: `;` between fields, decimal comma, UTF-8 with a byte order mark
    (without it Excel reads the accents as Windows-1252). Formulas neutralised as in
    `csv_response`."""
    frame = _neutralise_texts(frame)
    options = {"sep": ";", "decimal": ",", "index": False, "na_rep": "", "lineterminator": "\r\n"}

    def chunks():
        yield "\ufeff" + frame.iloc[:0].to_csv(**options)
        for start in range(0, len(frame), chunk_rows):
            yield frame.iloc[start : start + chunk_rows].to_csv(header=False, **options)

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def run_parameters(run, filters: dict | None = None) -> list[tuple[str, object]]:
    """The sheet « paramètres » of a workbook: which edition, lens and method it reads, when
    it was computed, and the filters asked (texts from a request: `_xlsx_text` applies)."""
    from django.utils import timezone

    def local(moment):  # Excel has no time zones: the local time, naive
        return timezone.localtime(moment).replace(tzinfo=None) if moment else None

    methodology = run.methodology
    rows = [
        ("calcul", run.pk),
        ("édition n°", run.pk),
        ("lecture", str(methodology.get_lens_display())),
        ("version de la méthode", methodology.version),
        ("source de l'exposition", str(run.source_label)),
        ("terminé le", local(run.finished_at)),
        ("publié le", local(run.published_at)),
    ]
    rows += [(f"filtre {name}", value) for name, value in (filters or {}).items()]
    return rows


def xlsx_response(
    frame: pd.DataFrame, columns, *, sheet_title: str, parameters: list[tuple[str, object]], filename: str
) -> HttpResponse:
    """A workbook of two sheets: « paramètres » first (what it holds: edition, lens, date,
    filters), then `sheet_title` with `frame` (already `spreadsheet_frame(for_workbook=True)`)
    under its French headers: numbers as numbers, booleans as booleans, dates as dates, header
    row frozen and filterable. Every text goes through `_xlsx_text`: nothing is a formula.

    openpyxl's write-only mode streams rows to a temporary file instead of holding a cell
    object per value. It writes about 40 000 cells a second without lxml, hence the row limit
    of the download views.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    about = workbook.create_sheet("paramètres")
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 60
    for label, value in [*parameters, ("lignes", len(frame))]:
        cell = WriteOnlyCell(about, value=label)
        cell.font = bold
        value = _xlsx_text(about, _xlsx_value(value))
        if isinstance(value, datetime.datetime):
            value = WriteOnlyCell(about, value=value)
            value.number_format = "dd/mm/yyyy hh:mm"
        about.append([cell, value])
    about.append(["secret statistique", "une cellule secrète n'a aucune valeur ; son motif est écrit en clair"])

    sheet = workbook.create_sheet(sheet_title)
    sheet.freeze_panes = "A2"
    width = len(columns)
    sheet.auto_filter.ref = f"A1:{get_column_letter(width)}{len(frame) + 1}"
    for position, (_column, header, _kind) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = max(10, min(40, len(header) + 2))
    header = []
    for _column, label, _kind in columns:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    formats = [XLSX_FORMATS.get(kind) for _column, _label, kind in columns]
    for values in frame.itertuples(index=False, name=None):
        row = []
        for value, number_format in zip(values, formats, strict=True):
            value = _xlsx_text(sheet, _xlsx_value(value))
            if number_format and isinstance(value, int | float) and not isinstance(value, bool):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = number_format
                value = cell
            row.append(value)
        sheet.append(row)

    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def grid_spreadsheet_csv_response(run, cells=None) -> StreamingHttpResponse:
    """The rows of `grid_csv_response` as a « CSV pour tableur » (GRID_SPREADSHEET_COLUMNS)."""
    raw = cells_export_frame(run) if cells is None else grid_cells_export_frame(run, cells)
    frame = spreadsheet_frame(grid_export_frame(raw), GRID_SPREADSHEET_COLUMNS, methodology=run.methodology)
    return spreadsheet_csv_response(frame, f"grille-{run.pk}-tableur.csv")


def grid_xlsx_response(run, cells=None, *, filters: dict | None = None) -> HttpResponse:
    """The same rows as `grid_csv_response`, as a workbook: « paramètres » (the run and the
    filters) then « grille » (GRID_SPREADSHEET_COLUMNS, typed, secret cells without figures)."""
    raw = cells_export_frame(run) if cells is None else grid_cells_export_frame(run, cells)
    frame = spreadsheet_frame(
        grid_export_frame(raw), GRID_SPREADSHEET_COLUMNS, methodology=run.methodology, for_workbook=True
    )
    return xlsx_response(
        frame,
        GRID_SPREADSHEET_COLUMNS,
        sheet_title="grille",
        parameters=run_parameters(run, filters),
        filename=f"grille-{run.pk}.xlsx",
    )


def _xlsx_value(value):
    """A cell value openpyxl writes: None for missing, numpy scalars as Python numbers."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _xlsx_text(sheet, value):
    """A text openpyxl would store as a formula (it starts with =) as a text cell instead; a
    text cell is never evaluated, whatever it starts with."""
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def occupations_export_frame(run) -> pd.DataFrame:
    """The fiches' scores of `run` in OCCUPATION_COLUMNS, masked by the published read layer."""
    frame = mask_occupation_scores(
        occupation_scores_export_frame(run),
        secrecy=fiche_secrecy(run),
        min_companies=run.methodology.secrecy_min_companies,
    )
    frame["ref_items"] = frame["ref_items"].astype("Int64")
    frame["profile_source"] = run.profile_source
    return frame.reindex(columns=OCCUPATION_COLUMNS)


def occupations_csv_response(run) -> StreamingHttpResponse:
    return csv_response(occupations_export_frame(run), f"metiers-{run.pk}.csv")


def occupations_spreadsheet_csv_response(run) -> StreamingHttpResponse:
    """The rows of `occupations_csv_response` as a « CSV pour tableur »."""
    frame = spreadsheet_frame(occupations_export_frame(run), OCCUPATION_SPREADSHEET_COLUMNS)
    return spreadsheet_csv_response(frame, f"metiers-{run.pk}-tableur.csv")
