"""CSV and XLSX exports of the grid and CSV of the occupation scores. Secret cells keep their
coordinates and flag, never their figures."""

import io
import math

import pandas as pd
from django.http import HttpResponse, StreamingHttpResponse

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


def _csv_response(frame: pd.DataFrame, filename: str, chunk_rows: int = 20_000) -> StreamingHttpResponse:
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
    return _csv_response(grid_export_frame(raw), f"grille-{run.pk}.csv")


# Excel number formats of the figures (the reader's locale supplies the decimal separator).
XLSX_FORMATS = {
    "exposure_mean": "0.000",
    "rti_mean": "0.000",
    "share_high": "0.0%",
    "share_medium": "0.0%",
    "share_low": "0.0%",
    "training_need_share": "0.0%",
    "training_coverage": "0.0%",
}
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def grid_xlsx_response(run, cells=None, *, filters: dict | None = None) -> HttpResponse:
    """The same rows and columns as `grid_csv_response`, as a workbook: the sheet « grille »
    (GRID_COLUMNS, figures as numbers, secret cells without any figure) and the sheet
    « paramètres » saying which run and filters it holds.

    openpyxl's write-only mode streams rows to a temporary file instead of holding a cell
    object per value. It writes about 40 000 cells a second without lxml, hence the row limit
    of the download view.
    """
    from django.utils import timezone
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    raw = cells_export_frame(run) if cells is None else grid_cells_export_frame(run, cells)
    frame = grid_export_frame(raw)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("grille")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in GRID_COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    formats = [XLSX_FORMATS.get(name) for name in GRID_COLUMNS]
    for values in frame.itertuples(index=False, name=None):
        row = []
        for value, number_format in zip(values, formats, strict=True):
            value = _xlsx_text(sheet, _xlsx_value(value))
            if number_format and value is not None and not hasattr(value, "data_type"):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = number_format
                value = cell
            row.append(value)
        sheet.append(row)

    about = workbook.create_sheet("paramètres")
    methodology = run.methodology
    about.append(["calcul", run.pk])
    about.append(["lecture", str(methodology.get_lens_display())])
    about.append(["version de la méthode", methodology.version])
    about.append(["source de l'exposition", str(run.source_label)])
    finished = timezone.localtime(run.finished_at).replace(tzinfo=None) if run.finished_at else None
    about.append(["terminé le", finished])  # local time: Excel has no time zones
    for name, value in (filters or {}).items():
        about.append([f"filtre {name}", _xlsx_text(about, value)])
    about.append(["lignes", len(frame)])
    about.append(["secret statistique", "les cellules secrètes (secret = true) n'ont aucune valeur"])

    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="grille-{run.pk}.xlsx"'
    return response


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


def occupations_csv_response(run) -> StreamingHttpResponse:
    frame = mask_occupation_scores(
        occupation_scores_export_frame(run),
        secrecy=fiche_secrecy(run),
        min_companies=run.methodology.secrecy_min_companies,
    )
    frame["ref_items"] = frame["ref_items"].astype("Int64")
    frame["profile_source"] = run.profile_source
    return _csv_response(frame.reindex(columns=OCCUPATION_COLUMNS), f"metiers-{run.pk}.csv")
