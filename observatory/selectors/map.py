"""Reads of the map (/observatoire/carte/)."""

import logging

import pandas as pd
from django.core.cache import cache
from django.db.models import Count, Q

from companies.models import Territory

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
