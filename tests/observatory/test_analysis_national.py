"""A grid over several régions merged from one part per région equals the grid of one
process, cell by cell, with companies spanning two régions."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observatory.analysis import national
from observatory.analysis.cube import CUBE_COLUMNS, build_cube
from tests.cube_positions import positions_frame

SCORES = pd.DataFrame(
    {
        "exposure": [0.8, 0.55, 0.3],
        "rti": [1.0, -0.5, -1.0],
        "exposure_class": ["high", "medium", "low"],
    },
    index=pd.Index(["M1607", "K2111", "N1101"], name="occupation"),
)
DEPARTEMENTS = {"59": "32", "62": "32", "75": "11", "92": "11", "69": "84"}
COVERAGE = pd.DataFrame(
    {"departement": ["59", "75", "69"], "occupation": ["M1607", "M1607", "K2111"], "covered": [True, True, True]}
)


def _frame(rows):
    """Positions from (company, establishment, headcount, need, diagnostic, departement, epci,
    division, fiche, band) tuples; the région from the département."""
    return positions_frame(rows, regions=DEPARTEMENTS)


def _merged(positions, coverage=COVERAGE):
    spanning = national.spanning_companies(positions)
    parts = [
        national.region_part(part, SCORES, spanning=spanning, training_coverage=coverage)
        for part in national.split_by_region(positions).values()
    ]
    across = national.spanning_part(positions[positions["company"].isin(spanning)], SCORES, training_coverage=coverage)
    return national.merge_parts(parts, across, with_coverage=coverage is not None)


def _sorted(cells):
    frame = cells[list(CUBE_COLUMNS)].copy()
    for column in CUBE_COLUMNS[:10]:
        frame[column] = frame[column].astype(str)
    return frame.sort_values(list(CUBE_COLUMNS[:10])).reset_index(drop=True)


def _assert_same_grid(merged, single):
    merged, single = _sorted(merged), _sorted(single)
    assert len(merged) == len(single)
    pd.testing.assert_frame_equal(merged[list(CUBE_COLUMNS[:10])], single[list(CUBE_COLUMNS[:10])])
    for column in ("companies", "establishments", "employees", "diagnostics"):
        np.testing.assert_array_equal(merged[column].to_numpy(), single[column].to_numpy(), err_msg=column)
    for column in ("max_company_employees", "second_company_employees"):
        np.testing.assert_array_equal(merged[column].to_numpy(), single[column].to_numpy(), err_msg=column)
    for column in ("exposure_mean", "share_high", "share_medium", "share_low", "rti_mean"):
        np.testing.assert_allclose(merged[column], single[column], rtol=1e-12, equal_nan=True, err_msg=column)
    for column in ("training_need_share", "training_coverage"):
        np.testing.assert_allclose(merged[column], single[column], rtol=1e-12, equal_nan=True, err_msg=column)


@pytest.fixture
def positions():
    # Company 1 has establishments in the Nord (32) and in Paris (11); company 5 in Lyon (84)
    # and Hauts-de-Seine (11); the others lie in one région each.
    return _frame(
        [
            (1, 11, 10, True, True, "59", "E1", "10", "M1607", "10-49"),
            (1, 12, 30, False, True, "75", "E75", "10", "M1607", "10-49"),
            (2, 21, 4, True, False, "59", "E2", "47", "K2111", "0-9"),
            (3, 31, 6, False, False, "62", "", "47", "M1607", "0-9"),
            (4, 41, 20, False, False, "92", "E92", "10", "M1607", "10-49"),
            (5, 51, 7, False, True, "69", "E69", "62", "K2111", "0-9"),
            (5, 52, 9, False, False, "92", "E92", "62", "K2111", "0-9"),
            (6, 61, 3, False, False, "75", "E75", "10", "M1607", "10-49"),
        ]
    )


def test_spanning_companies_are_those_in_two_regions(positions):
    assert national.spanning_companies(positions).tolist() == [1, 5]


def test_region_codes_are_those_the_split_gives(positions):
    positions = positions.astype({"region": "category"})
    assert national.region_codes(positions) == sorted(national.split_by_region(positions)) == ["11", "32", "84"]
    unknown = positions.assign(region=positions["region"].where(positions["company"] != 3))
    assert national.region_codes(unknown) == sorted(national.split_by_region(unknown)) == ["", "11", "32", "84"]


def test_the_merged_grid_is_the_grid_of_one_process(positions):
    merged = _merged(positions)
    _assert_same_grid(merged, build_cube(positions, SCORES, training_coverage=COVERAGE))


def _cell(cells, territory_level="all", sector=("all", ""), occupation=("all", ""), size="all"):
    match = cells[
        (cells["territory_level"].astype(str) == territory_level)
        & (cells["sector_level"].astype(str) == sector[0])
        & (cells["sector_code"].astype(str) == sector[1])
        & (cells["occupation_level"].astype(str) == occupation[0])
        & (cells["occupation_code"].astype(str) == occupation[1])
        & (cells["size_band"].astype(str) == size)
    ]
    assert len(match) == 1, match
    return match.iloc[0]


def test_hand_worked_national_cells(positions):
    merged = _merged(positions)
    # M1607 nationwide: companies 1 (10 + 30, two régions, counted once), 3, 4 and 6;
    # employees 10 + 30 + 6 + 20 + 3 = 69; company 1 is the largest with 40 (the sum of its
    # two régions, larger than company 4's 20 though each of its parts is not above 30).
    m1607 = _cell(merged, occupation=("fiche", "M1607"))
    assert (m1607["companies"], m1607["establishments"], m1607["employees"]) == (4, 5, 69)
    assert (m1607["max_company_employees"], m1607["second_company_employees"]) == (40, 20)
    assert m1607["diagnostics"] == 1
    # Its exposed employees covered by an offer: the Nord (10) and Paris (30 + 3) of 69.
    assert m1607["training_coverage"] == pytest.approx(43 / 69)
    # K2111 in division 62: company 5 alone, 7 + 9 employees in two régions.
    k2111 = _cell(merged, sector=("division", "62"), occupation=("fiche", "K2111"))
    assert (k2111["companies"], k2111["employees"], k2111["max_company_employees"]) == (1, 16, 16)
    # Every company and establishment once in the nation.
    total = _cell(merged)
    assert (total["companies"], total["establishments"], total["employees"]) == (6, 8, 89)


def test_a_single_region_merges_to_its_own_grid(positions):
    nord = positions[positions["region"] == "32"]
    _assert_same_grid(_merged(nord), build_cube(nord, SCORES, training_coverage=COVERAGE))


def test_without_training_coverage(positions):
    _assert_same_grid(_merged(positions, coverage=None), build_cube(positions, SCORES))


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(1, 6),  # company
            st.integers(0, 2),  # establishment of the company
            st.integers(1, 50),  # headcount
            st.booleans(),
            st.booleans(),
            st.sampled_from(sorted(DEPARTEMENTS)),
            st.sampled_from(["E1", "E2", ""]),
            st.sampled_from(["10", "47", "62"]),
            st.sampled_from(["M1607", "K2111", "N1101"]),
            st.sampled_from(["0-9", "10-49", "50-249"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_random_position_sets_merge_exactly(rows):
    # An establishment lies in one commune, one sector and one size band: the first row of
    # each (company, establishment) decides them.
    fixed = {}
    records = []
    for company, number, headcount, need, diagnostic, dep, epci, division, fiche, band in rows:
        establishment = company * 10 + number
        dep, epci, division, band = fixed.setdefault(
            establishment, (dep, f"{epci}{dep}" if epci else "", division, band)
        )
        records.append((company, establishment, headcount, need, diagnostic, dep, epci, division, fiche, band))
    positions = _frame(records)
    _assert_same_grid(_merged(positions), build_cube(positions, SCORES, training_coverage=COVERAGE))
