"""The national benchmark's draw and its comparison of two grids."""

import pytest

from bench import national as bench_national
from observatory.analysis import cube
from observatory.analysis.national import spanning_companies
from observatory.reference import BUILTIN_REFERENCE_DIR, load_reference


@pytest.fixture
def reference(db):
    load_reference(BUILTIN_REFERENCE_DIR)


def test_the_national_draw_spreads_positions_over_real_regions_with_some_chains_across(reference):
    positions = bench_national.national_positions(20_000, 3, seed=3)
    assert len(positions) == 20_000
    assert positions["region"].nunique() == 3 and "32" in set(positions["region"])
    # Other régions keep their own départements (a département lies in one région).
    by_departement = positions.groupby("departement", observed=True)["region"].nunique()
    assert (by_departement == 1).all()
    assert set(positions.loc[positions["region"] == "32", "departement"]) <= {"02", "59", "60", "62", "80"}
    # Only chains span régions, and some do.
    spanning = spanning_companies(positions)
    establishments = positions.groupby("company")["establishment"].nunique()
    assert len(spanning) > 0
    assert (establishments.reindex(spanning) >= bench_national.CHAIN).all()
    # The same seed, the same draw.
    again = bench_national.national_positions(20_000, 3, seed=3)
    assert again["headcount"].sum() == positions["headcount"].sum()


def test_differing_cells_counts_what_differs(reference):
    positions = bench_national.national_positions(3_000, 2, seed=1)
    scores = bench_national._scores(positions)
    grid = cube.build_cube(positions, scores)
    assert bench_national.differing_cells(grid, grid.iloc[::-1]) == 0
    changed = grid.copy()
    changed.loc[changed.index[:3], "employees"] += 1
    assert bench_national.differing_cells(changed, grid) == 3
    assert bench_national.differing_cells(grid.iloc[1:], grid) >= 1
