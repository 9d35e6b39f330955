"""What the map page reads: one cell per territory of a level, at the sector, occupation and
size band of a scope (observatory.scope), read through the one door
(`published.cells_frame`: values of secret cells blanked as they are read).

A scope's territory chooses which territories are drawn: the région or the whole area draws
the level asked (départements or EPCI); a département draws its EPCI (those with a member
commune in it: an EPCI may straddle two départements); an EPCI draws itself.
"""

import pandas as pd

from companies.models import Territory

from . import published
from .analysis.codes import unknown_mask
from .models import GridCell
from .scope import Scope
from .selectors import MAP_VALUE_COLUMNS, map_territories

# Columns derived from the cells' shares: employees in a job of high exposure or significant
# change, and their share of the employees.
DERIVED_COLUMNS = ["exposed_employees", "exposed_share"]
FRAME_COLUMNS = ["code", "name", "has_geometry", "has_data", "secret", "secret_reason"]
FRAME_COLUMNS += [*MAP_VALUE_COLUMNS, *DERIVED_COLUMNS]


def map_level(level: str, scope: Scope) -> str:
    """The level drawn: EPCI inside a département or an EPCI, else the level asked."""
    return "epci" if scope.territory_level in ("departement", "epci") else level


def drawn_codes(scope: Scope) -> list[str] | None:
    """The codes of the territories drawn for the scope's territory, None for all of the
    level (one query for a département)."""
    if scope.territory_level == "epci":
        return [scope.territory_code]
    if scope.territory_level == "departement":
        return sorted(
            set(
                Territory.objects.filter(
                    level=Territory.Level.COMMUNE, parent__code=scope.territory_code, epci__isnull=False
                )
                .values_list("epci__code", flat=True)
                .order_by()
            )
        )
    return None


def map_frame(run, level: str, scope: Scope, *, with_outlines: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(frame, territories) of the map of `run` at `level` within `scope`, in two or three
    queries. `frame` has FRAME_COLUMNS, one row per territory drawn that has a cell or an
    outline, ordered by name (the « inconnu » member last); `territories` is what
    `map_territories` gives for those territories (with their GeoJSON when asked)."""
    codes = drawn_codes(scope)
    territories = map_territories(level, with_outlines=with_outlines)
    coordinates = scope.cells(territory_level=level)
    del coordinates["territory_code"]
    cells = GridCell.objects.filter(run=run, **coordinates)
    if codes is not None:
        territories = territories[territories["code"].isin(codes)]
        cells = cells.filter(territory_code__in=codes)
    columns = ["code", "secret", "secret_reason", *MAP_VALUE_COLUMNS]
    frame = published.cells_frame(cells.order_by(), ["territory_code", *columns[1:], "share_medium"]).rename(
        columns={"territory_code": "code"}
    )
    frame["has_data"] = True
    frame = published.with_exposed_employees(frame).drop(columns="share_medium")

    merged = territories[["code", "name", "has_geometry"]].merge(frame, on="code", how="outer")
    for column in ("has_data", "has_geometry", "secret"):
        merged[column] = merged[column].astype("boolean").fillna(False).astype(bool)
    merged["secret_reason"] = merged["secret_reason"].fillna("")
    merged = merged[merged["has_data"] | merged["has_geometry"]]
    unknown = unknown_mask(merged["code"])
    merged.loc[unknown, "name"] = "Territoire non renseigné"
    merged["name"] = merged["name"].fillna(merged["code"])
    merged = merged.assign(_unknown=unknown).sort_values(["_unknown", "name"]).drop(columns="_unknown")
    for column in (*MAP_VALUE_COLUMNS, *DERIVED_COLUMNS):
        merged[column] = merged[column].astype(float)
    return merged.reset_index(drop=True)[FRAME_COLUMNS], territories
