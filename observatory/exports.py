"""CSV exports of the grid and of the occupation scores. Secret cells keep their coordinates
and flag, never their figures."""

import pandas as pd
from django.http import StreamingHttpResponse

from .models import CATEGORIES
from .selectors import cells_export_frame, occupation_scores_export_frame

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
GRID_FIGURES = [
    "companies",
    "establishments",
    "employees",
    "exposure_mean",
    "share_high",
    "share_medium",
    "share_low",
    "rti_mean",
    "training_need_share",
    "training_coverage",
    "diagnostics",
]
OCCUPATION_COLUMNS = (
    ["code_rome", "label", "n_companies", "employees"]
    + [f"ref_{c}" for c in CATEGORIES]
    + [f"field_{c}" for c in CATEGORIES]
    + list(CATEGORIES)
    + ["exposure", "rti", "exposure_class"]
)
# Below this many reporting companies the field profile is not published (statistical secrecy).
FIELD_PROFILE_MIN_COMPANIES = 3


def _csv_response(frame: pd.DataFrame, filename: str, chunk_rows: int = 20_000) -> StreamingHttpResponse:
    """Stream a frame as CSV, a chunk of rows at a time (pandas writes each chunk)."""

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
    secret = frame["secret"].astype(bool)
    frame[GRID_FIGURES] = frame[GRID_FIGURES].astype(object)
    frame.loc[secret, GRID_FIGURES] = None
    frame["secret"] = frame["secret"].map({True: "true", False: "false"})
    return frame.reindex(columns=GRID_COLUMNS)


def grid_csv_response(run) -> StreamingHttpResponse:
    frame = grid_export_frame(cells_export_frame(run))
    return _csv_response(frame, f"grille-{run.pk}.csv")


def occupations_csv_response(run) -> StreamingHttpResponse:
    frame = occupation_scores_export_frame(run)
    hidden = frame["n_companies"] < FIELD_PROFILE_MIN_COMPANIES
    field_columns = [f"field_{c}" for c in CATEGORIES]
    frame.loc[hidden, field_columns] = None
    return _csv_response(frame.reindex(columns=OCCUPATION_COLUMNS), f"metiers-{run.pk}.csv")
