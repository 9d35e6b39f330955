"""The cube engines benchmark's DuckDB cube: the same cells as build_cube, on a tiny frame
(the 1M comparison is `python -m bench --only cube_engines`)."""

import argparse

import pandas as pd
import pytest
from hypothesis import given, settings

from bench import BENCHMARKS, cube_engines
from observatory.analysis.cube import build_cube
from tests.cube_positions import positions_frame
from tests.observatory.test_analysis_cube import SCORES as CUBE_SCORES
from tests.observatory.test_analysis_cube import positions_frames

pytest.importorskip("duckdb", reason="duckdb is not installed (pip install -e '.[dev]')")

SCORES = pd.DataFrame(
    {
        "exposure": [0.8, 0.55, 0.3],
        "rti": [1.0, -0.5, -1.0],
        "exposure_class": ["high", "medium", "low"],
    },
    index=pd.Index(["M1607", "K2111", "N1101"], name="occupation"),
)
COVERAGE = pd.DataFrame(
    {"departement": ["59", "62"], "occupation": ["M1607", "K2111"], "covered": [True, True]},
)


def _positions(rows) -> pd.DataFrame:
    """Positions from (company, establishment, headcount, need, diagnostic, département, EPCI,
    division, fiche, band) tuples, all in région 32."""
    return positions_frame(rows)


@pytest.fixture
def positions():
    # Company 1 has an establishment in each département; company 2's commune is in no EPCI.
    return _positions(
        [
            # company, establishment, headcount, need, diagnostic, dep, epci, division, fiche, band
            (1, 11, 10, True, True, "59", "E1", "10", "M1607", "10-49"),
            (1, 11, 5, False, True, "59", "E1", "10", "K2111", "10-49"),
            (1, 12, 8, False, False, "62", "E2", "10", "M1607", "10-49"),
            (2, 21, 4, True, False, "62", "", "47", "K2111", "0-9"),
            (2, 21, 3, False, False, "62", "", "47", "N1101", "0-9"),
        ]
    )


def _cell(cells, territory=("all", ""), occupation=("all", ""), size="all"):
    match = cells[
        (cells["territory_level"] == territory[0])
        & (cells["territory_code"] == territory[1])
        & (cells["sector_level"] == "all")
        & (cells["occupation_level"] == occupation[0])
        & (cells["occupation_code"] == occupation[1])
        & (cells["size_band"] == size)
    ]
    assert len(match) == 1, match
    return match.iloc[0]


def test_registered_and_its_options():
    assert "cube_engines" in BENCHMARKS
    parser = argparse.ArgumentParser()
    cube_engines.add_arguments(parser)
    assert parser.parse_args([]).engines_positions is None
    assert parser.parse_args(["--engines-positions", "20000"]).engines_positions == 20_000


@pytest.mark.parametrize("coverage", [None, COVERAGE], ids=["without_coverage", "with_coverage"])
def test_duckdb_cube_equals_build_cube_cell_by_cell(positions, coverage):
    expected = build_cube(positions, SCORES, training_coverage=coverage)
    actual = cube_engines.duckdb_cube(positions, SCORES, training_coverage=coverage)

    assert len(actual) == len(expected)
    assert cube_engines.compare_cubes(expected, actual) == {"cells": len(expected), "differing": 0, "detail": ""}
    assert list(actual.columns) == list(expected.columns)


@settings(max_examples=40, deadline=None)
@given(positions=positions_frames())
def test_duckdb_cube_equals_build_cube_on_random_frames(positions):
    # The cube tests' frames: missing and empty EPCI, several companies per cell, ties.
    expected = build_cube(positions, CUBE_SCORES, training_coverage=COVERAGE)
    actual = cube_engines.duckdb_cube(positions, CUBE_SCORES, training_coverage=COVERAGE)

    assert cube_engines.compare_cubes(expected, actual)["differing"] == 0


def test_hand_worked_cells(positions):
    cells = cube_engines.duckdb_cube(positions, SCORES, training_coverage=COVERAGE)

    # Company 1 lies in both départements: counted once in the région.
    region = _cell(cells, territory=("region", "32"))
    assert (region["companies"], region["establishments"], region["employees"]) == (2, 3, 30)
    assert _cell(cells, territory=("departement", "59"))["companies"] == 1
    assert _cell(cells, territory=("departement", "62"))["companies"] == 2
    # (10·0.8 + 5·0.55 + 8·0.8 + 4·0.55 + 3·0.3) / 30
    assert region["exposure_mean"] == pytest.approx(20.25 / 30)
    # Company 1 has 23 employees, company 2 has 7; only company 1 answered a diagnostic.
    assert (region["max_company_employees"], region["second_company_employees"]) == (23, 7)
    assert region["diagnostics"] == 1
    # Exposed employees (M1607 high, K2111 medium): 27, of whom covered 10 (59, M1607) + 4 (62, K2111).
    assert region["training_coverage"] == pytest.approx(14 / 27)

    # The commune outside any EPCI: an "inconnu" EPCI under its région.
    unknown = _cell(cells, territory=("epci", "inconnu-32"))
    assert unknown["territory_parent"] == "32"
    assert (unknown["companies"], unknown["employees"]) == (1, 7)
    fiche = _cell(cells, territory=("epci", "inconnu-32"), occupation=("fiche", "N1101"), size="0-9")
    assert fiche["occupation_parent"] == "N11"
    assert (fiche["employees"], fiche["share_low"], fiche["second_company_employees"]) == (3, 1.0, 0)


def test_an_establishment_in_two_departements_is_counted_once():
    # Not what the database holds (an establishment has one commune), but build_cube counts
    # such an establishment once per cell, and so must the DuckDB cube (its DISTINCT path).
    positions = _positions(
        [
            (1, 11, 10, False, False, "59", "E1", "10", "M1607", "10-49"),
            (1, 11, 5, False, False, "62", "E2", "10", "M1607", "10-49"),
            (2, 21, 4, False, False, "62", "E2", "47", "K2111", "0-9"),
        ]
    )
    expected = build_cube(positions, SCORES)
    actual = cube_engines.duckdb_cube(positions, SCORES)

    assert cube_engines.compare_cubes(expected, actual)["differing"] == 0
    assert _cell(actual, territory=("region", "32"))["establishments"] == 2


def test_a_differing_cell_is_counted(positions):
    expected = build_cube(positions, SCORES)
    actual = cube_engines.duckdb_cube(positions, SCORES)
    actual.loc[actual.index[0], "employees"] += 1
    actual.loc[actual.index[1], "exposure_mean"] *= 1 + 1e-6

    comparison = cube_engines.compare_cubes(expected, actual.iloc[:-1])

    assert comparison["differing"] == 3  # two figures, one missing cell
    assert comparison["detail"] == "coordinates 1, employees 1, exposure_mean 1"
