"""The frames the CSV and XLSX exports write (cells masked through observatory.published)."""

import logging

import pandas as pd

from companies.models import Sector, Territory
from skills.models import Occupation

from .. import published
from ..models import GridCell, OccupationScore
from .reference import labels

logger = logging.getLogger(__name__)


def cells_export_frame(run) -> pd.DataFrame:
    """The cells of a run with the names of their territory, sector and occupation."""
    fields = [f.name for f in GridCell._meta.fields if f.name not in ("id", "run")]
    frame = published.cells_frame(GridCell.objects.filter(run=run).order_by(), fields)
    frame.insert(0, "run_id", run.pk)
    territory_names = {
        f"{level}:{code}": name for level, code, name in Territory.objects.values_list("level", "code", "name")
    }
    keys = frame["territory_level"] + ":" + frame["territory_code"]
    frame["territory_name"] = keys.map(territory_names).fillna("")
    frame.loc[frame["territory_level"] == "all", "territory_name"] = "Ensemble"
    sector_labels = dict(Sector.objects.values_list("code", "label"))
    frame["sector_label"] = frame["sector_code"].map(sector_labels).fillna("")
    occupation_labels = dict(Occupation.objects.values_list("code", "label"))
    frame["occupation_label"] = frame["occupation_code"].map(occupation_labels).fillna("")
    return frame


def occupation_scores_export_frame(run) -> pd.DataFrame:
    fields = [f.name for f in OccupationScore._meta.fields if f.name not in ("id", "run", "occupation")]
    rows = OccupationScore.objects.filter(run=run).values_list("occupation_id", "occupation__label", *fields)
    frame = pd.DataFrame.from_records(rows.order_by("occupation_id"), columns=["code_rome", "label", *fields])
    return frame


def grid_cells_export_frame(run, queryset) -> pd.DataFrame:
    """The cells of `queryset` (cells of `run`, in its order) with run_id and the names of
    their territory, sector and occupation, as `cells_export_frame` gives them: one query for
    the cells and one per dimension for the labels of the codes present."""
    fields = [f.name for f in GridCell._meta.fields if f.name not in ("id", "run")]
    frame = published.cells_frame(queryset, fields)
    frame.insert(0, "run_id", run.pk)
    territory_codes = set(frame["territory_code"]) - {""}
    names = {}
    if territory_codes:
        rows = Territory.objects.filter(code__in=territory_codes).values_list("level", "code", "name").order_by()
        names = {(level, code): name for level, code, name in rows}
    frame["territory_name"] = [
        "Ensemble" if level == "all" else names.get((level, code), "")
        for level, code in zip(frame["territory_level"], frame["territory_code"], strict=True)
    ]
    sector_labels = labels(Sector, set(frame["sector_code"]))
    frame["sector_label"] = [sector_labels.get(code, "") for code in frame["sector_code"]]
    occupation_labels = labels(Occupation, set(frame["occupation_code"]))
    frame["occupation_label"] = [occupation_labels.get(code, "") for code in frame["occupation_code"]]
    return frame
