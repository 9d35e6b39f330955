"""A grid over several régions, computed région by région and merged exactly.

A national observatory holds about twenty times the positions of one région: too many for
one process. Each région's positions go to a part (`region_part`, one Celery task each);
the merge (`merge_parts`) rebuilds the grid that `cube.build_cube` gives on all positions at
once:

- the cells of the régions, départements and EPCI are a part's own: every position of a
  région is in its part, so these cells are exact as the part computes them;
- the national cells (territory "all") add up the parts' contributions. Sums (employees and
  the headcount-weighted sums behind every mean and share, `cube.RAW_COLUMNS`) add up, and
  so do establishments, which lie in one commune each. Distinct counts of companies do not:
  a company present in two régions counts once in the nation. So the companies present in
  more than one région (`spanning_companies`, few) are left out of the parts' national
  contributions and aggregated once over all their positions; the others lie in one part
  each, so their counts, their diagnostics and their employees per cell add up as disjoint
  sets. The two largest companies of a national cell are the two largest of the parts' two
  largest and the spanning companies' two largest (each company's employees in the cell are
  in one of those sets, whole).

Means and shares are computed from the merged sums (`cube.cell_indicators`): the same
figures as one process gives, to the last bits of floating-point addition order.
"""

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from .codes import dense_ids, first_rows
from .cube import (
    CUBE_COLUMNS,
    LEVELS,
    RAW_COLUMNS,
    TERRITORY_LEVELS,
    build_cube,
    cell_indicators,
    two_largest,
)

COORDINATES = list(CUBE_COLUMNS[:10])
_ADDITIVE = ["companies", "establishments", "diagnostics", *RAW_COLUMNS]
_REGIONAL_LEVELS = tuple(level for level in TERRITORY_LEVELS if level != "all")


def _regions(positions: pd.DataFrame) -> np.ndarray:
    """The région code of each position as text, "" where it is unknown."""
    return positions["region"].astype(str).where(positions["region"].notna(), "").to_numpy()


def spanning_companies(positions: pd.DataFrame) -> np.ndarray:
    """Ids of the companies with positions in more than one région (an unknown région counts
    as one)."""
    pairs = pd.DataFrame({"company": positions["company"].to_numpy(), "region": _regions(positions)})
    counts = pairs.drop_duplicates().groupby("company", sort=True).size()
    return counts.index[counts.to_numpy() > 1].to_numpy()


def region_codes(positions: pd.DataFrame) -> list[str]:
    """The régions the positions lie in (code as text; "" for an unknown région), without
    copying a row."""
    return sorted(set(_regions(positions[["region"]].drop_duplicates())))


def split_by_region(positions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The positions of each région (code as text; "" for an unknown région)."""
    return dict(list(positions.groupby(_regions(positions), sort=True)))


def region_part(
    positions: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    spanning: np.ndarray,
    training_coverage: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """What one région's worker computes from its positions: `regional`, its cells below the
    nation (région, départements, EPCI), and `national`, the raw national cells of its
    companies present in no other région."""
    regional = build_cube(positions, scores, training_coverage=training_coverage, territory_levels=_REGIONAL_LEVELS)
    own = positions[~positions["company"].isin(spanning)]
    national = build_cube(own, scores, training_coverage=training_coverage, territory_levels=("all",), raw=True)
    return {"regional": regional, "national": national}


def spanning_part(
    positions: pd.DataFrame, scores: pd.DataFrame, *, training_coverage: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The raw national cells of the companies present in several régions, from all their
    positions (`positions` holds those companies' positions only)."""
    return build_cube(positions, scores, training_coverage=training_coverage, territory_levels=("all",), raw=True)


def merge_parts(
    parts: list[dict[str, pd.DataFrame]], spanning: pd.DataFrame | None, *, with_coverage: bool
) -> pd.DataFrame:
    """The grid of every position: the parts' regional cells, and national cells merged from
    the parts' contributions and the spanning companies' (`spanning_part`; None when no
    company spans two régions).

    Columns as `cube.build_cube` (without the raw sums); coordinates as categoricals.
    """
    extra = [] if spanning is None else [spanning]
    national = _merge_national([part["national"] for part in parts] + extra, with_coverage)
    return _concat([national, *(part["regional"][list(CUBE_COLUMNS)] for part in parts)])


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of cells one under the other, their coordinates' categories united (never
    turned into text: millions of rows)."""
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return pd.DataFrame(columns=list(CUBE_COLUMNS))
    columns = {}
    for column in frames[0].columns:
        if column in COORDINATES:
            pieces = [pd.Categorical(frame[column]) for frame in frames]
            columns[column] = union_categoricals(pieces, ignore_order=True)
        else:
            columns[column] = np.concatenate([frame[column].to_numpy() for frame in frames])
    cells = pd.DataFrame(columns, copy=False)
    for column, dim in (
        ("territory_level", "territory"),
        ("sector_level", "sector"),
        ("occupation_level", "occupation"),
    ):
        cells[column] = cells[column].cat.set_categories(list(LEVELS[dim]))
    return cells


def _merge_national(frames: list[pd.DataFrame], with_coverage: bool) -> pd.DataFrame:
    stacked = _concat(frames)
    if not len(stacked):
        return pd.DataFrame(columns=list(CUBE_COLUMNS))
    codes = [stacked[column].cat.codes.to_numpy().astype(np.int64) + 1 for column in COORDINATES]
    group, _ = dense_ids([(code, int(code.max()) + 1) for code in codes])
    n_cells = int(group.max()) + 1
    out = stacked.iloc[first_rows(group)][COORDINATES].reset_index(drop=True)
    sums = {
        column: np.bincount(group, weights=stacked[column].to_numpy(dtype=np.float64), minlength=n_cells)
        for column in _ADDITIVE
    }
    indicators = cell_indicators({name.removeprefix("sum_"): sums[name] for name in RAW_COLUMNS}, with_coverage)
    for name, values in indicators.items():
        out[name] = values
    for column in ("companies", "establishments", "diagnostics"):
        out[column] = np.rint(sums[column]).astype(np.int32)
    out["employees"] = out["employees"].astype(np.int64)
    # The two largest companies of a cell are among the parts' two largest (disjoint sets).
    values = np.concatenate(
        [
            stacked["max_company_employees"].to_numpy(np.float64),
            stacked["second_company_employees"].to_numpy(np.float64),
        ]
    )
    largest, second = two_largest(np.concatenate([group, group]), values, n_cells)
    out["max_company_employees"] = largest.astype(np.int64)
    out["second_company_employees"] = second.astype(np.int64)
    return out[list(CUBE_COLUMNS)]
