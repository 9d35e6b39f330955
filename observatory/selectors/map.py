"""Reads of the map (/observatoire/carte/)."""

import logging

import pandas as pd
from django.core.cache import cache
from django.db.models import Count, Q

from companies.models import Territory

from .. import published
from ..models import GridCell
from .grid import GRID_REFERENCE_TIMEOUT

logger = logging.getLogger(__name__)


# --- Map and occupation pages -----------------------------------------------------------
# Reads of the map (/observatoire/carte/) and of the occupation search and detail pages
# (/observatoire/metiers/). Values of secret cells are blanked (NaN) as soon as they are read,
# through `secrecy.mask_values`, so that no template can show one by mistake. Imports sit
# inside the functions because this block is appended below the module's imports.

MAP_TERRITORY_LEVELS = ("departement", "epci")
MAP_VALUE_COLUMNS = [
    "companies",
    "employees",
    "exposure_mean",
    "share_high",
    "rti_mean",
    "training_need_share",
    "training_coverage",
]


OUTLINE_COUNTS_CACHE_KEY = "observatory:outline-counts:v1"


def territory_geometry_counts() -> dict[str, int]:
    """Number of territories whose outline is loaded, per map level: one query, cached with
    the reference data (GRID_REFERENCE_TIMEOUT), since outlines change only when a GeoJSON
    file is imported. The map's cache keys carry these counts, so loading outlines redraws
    the map once this entry expires."""
    counts = cache.get(OUTLINE_COUNTS_CACHE_KEY)
    if counts is None:
        with_outline = ~Q(geometry="")
        counts = Territory.objects.aggregate(
            **{level: Count("pk", filter=Q(level=level) & with_outline) for level in MAP_TERRITORY_LEVELS}
        )
        cache.set(OUTLINE_COUNTS_CACHE_KEY, counts, GRID_REFERENCE_TIMEOUT)
    return counts


def map_territories(level: str, *, with_outlines: bool) -> pd.DataFrame:
    """The territories of `level`, in one query: code, name, has_geometry and, when asked
    (some 50 kB per département), their GeoJSON text in `geometry` ("" without outline)."""
    columns = ["code", "name", "has_geometry"] + (["geometry"] if with_outlines else [])
    territories = Territory.objects.filter(level=level).annotate(has_outline=~Q(geometry=""))
    fields = ["code", "name", "has_outline"] + (["geometry"] if with_outlines else [])
    return pd.DataFrame.from_records(territories.values_list(*fields).order_by(), columns=columns)


def map_cells_frame(run, level: str, territories: pd.DataFrame | None = None) -> pd.DataFrame:
    """The run's cells of every territory of `level` (all sectors, occupations and sizes),
    one row per territory, in two queries (one when `territories`, from `map_territories`,
    is given).

    Columns: code, name, has_geometry (bool), has_data (bool: a cell exists), secret (bool),
    secret_reason, and MAP_VALUE_COLUMNS (NaN when secret or without data). Territories appear
    when they have a cell or an outline; the cube's "inconnu" member (positions without a code
    at that level) comes last. Ordered by name.
    """
    from ..analysis import cube

    cells = GridCell.objects.filter(
        run=run,
        territory_level=level,
        sector_level="all",
        occupation_level="all",
        size_band="all",
    ).order_by()
    frame = published.cells_frame(cells, ["territory_code", "secret", "secret_reason", *MAP_VALUE_COLUMNS])
    frame = frame.rename(columns={"territory_code": "code"})
    frame["has_data"] = True

    if territories is None:
        territories = map_territories(level, with_outlines=False)
    merged = territories[["code", "name", "has_geometry"]].merge(frame, on="code", how="outer")
    merged["has_data"] = merged["has_data"].astype("boolean").fillna(False).astype(bool)
    merged["has_geometry"] = merged["has_geometry"].astype("boolean").fillna(False).astype(bool)
    merged["secret"] = merged["secret"].astype("boolean").fillna(False).astype(bool)
    merged["secret_reason"] = merged["secret_reason"].fillna("")
    merged = merged[merged["has_data"] | merged["has_geometry"]]
    unknown = merged["code"] == cube.UNKNOWN_CODE
    merged.loc[unknown, "name"] = "Territoire non renseigné"
    merged["name"] = merged["name"].fillna(merged["code"])
    merged = merged.assign(_unknown=unknown).sort_values(["_unknown", "name"]).drop(columns="_unknown")
    for column in MAP_VALUE_COLUMNS:
        merged[column] = merged[column].astype(float)
    return merged.reset_index(drop=True)[
        ["code", "name", "has_geometry", "has_data", "secret", "secret_reason", *MAP_VALUE_COLUMNS]
    ]
