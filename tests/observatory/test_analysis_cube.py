"""The cube: hand-worked cells, a brute-force comparison and roll-up properties."""

import threading
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observatory.analysis import cube
from observatory.analysis.codes import is_unknown, unknown_parent
from observatory.analysis.cube import PARENT_LEVEL, build_cube, cube_levels
from tests.cube_positions import OCCUPATIONS, positions_frame

SCORES = pd.DataFrame(
    {
        "exposure": [0.8, 0.55, 0.6, 0.3],
        "rti": [1.0, -0.5, 0.2, -1.0],
        "exposure_class": ["high", "medium", "medium", "low"],
    },
    index=pd.Index(["M1607", "K2111", "M1602", "N1101"], name="occupation"),
)


def _frame(rows):
    """Positions from (company, establishment, headcount, need, diagnostic, departement, epci,
    division, occupation, size band) tuples, all in région 32."""
    return positions_frame(rows)


@pytest.fixture
def positions():
    # company 1 has one establishment in each département; EPCI E2 straddles 59 and 62;
    # position 5's commune is in no EPCI.
    return _frame(
        [
            # company, establishment, headcount, need, diagnostic, dep, epci, division, fiche, band
            (1, 11, 10, True, True, "59", "E1", "10", "M1607", "10-49"),
            (1, 11, 5, False, True, "59", "E1", "10", "K2111", "10-49"),
            (1, 12, 15, False, True, "62", "E2", "10", "M1607", "10-49"),
            (2, 21, 4, True, False, "59", "E2", "47", "K2111", "0-9"),
            (3, 31, 6, False, False, "62", "", "47", "M1607", "0-9"),
            (4, 41, 20, False, False, "62", "E2", "10", "K2111", "0-9"),
        ]
    )


@pytest.fixture
def coverage():
    return pd.DataFrame(
        {
            "departement": ["59", "62", "62"],
            "occupation": ["M1607", "K2111", "M1607"],
            "covered": [True, True, False],
        }
    )


def _cell(cells, territory=("all", ""), sector=("all", ""), occupation=("all", ""), size="all"):
    match = cells[
        (cells["territory_level"] == territory[0])
        & (cells["territory_code"] == territory[1])
        & (cells["sector_level"] == sector[0])
        & (cells["sector_code"] == sector[1])
        & (cells["occupation_level"] == occupation[0])
        & (cells["occupation_code"] == occupation[1])
        & (cells["size_band"] == size)
    ]
    assert len(match) == 1, match
    return match.iloc[0]


def test_cube_levels_are_the_96_combinations():
    levels = cube_levels()
    assert len(levels) == len(set(levels)) == 96
    assert ("all", "all", "all", "all") in levels
    assert ("epci", "division", "fiche", "band") in levels


def test_every_level_combination_has_cells(positions, coverage):
    cells = build_cube(positions, SCORES, training_coverage=coverage)
    combos = cells.assign(size_level=np.where(cells["size_band"] == "all", "all", "band"))[
        ["territory_level", "sector_level", "occupation_level", "size_level"]
    ].drop_duplicates()
    assert len(combos) == 96
    keys = ["territory_level", "territory_code", "sector_level", "sector_code"]
    keys += ["occupation_level", "occupation_code", "size_band", "territory_parent"]
    assert not cells.duplicated(keys).any()


def test_grand_total_cell(positions, coverage):
    total = _cell(build_cube(positions, SCORES, training_coverage=coverage))

    assert total["employees"] == 60  # 10 + 5 + 15 + 4 + 6 + 20
    assert total["companies"] == 4
    assert total["establishments"] == 5
    # M1607: 31 employees at 0.8, K2111: 29 at 0.55 → (24.8 + 15.95) / 60
    assert total["exposure_mean"] == pytest.approx(40.75 / 60)
    assert total["share_high"] == pytest.approx(31 / 60)
    assert total["share_medium"] == pytest.approx(29 / 60)
    assert total["share_low"] == 0
    assert total["rti_mean"] == pytest.approx((31 * 1.0 - 29 * 0.5) / 60)
    assert total["training_need_share"] == pytest.approx(14 / 60)
    # Every employee is exposed; covered: M1607 in 59 (10) and K2111 in 62 (20).
    assert total["training_coverage"] == pytest.approx(30 / 60)
    assert total["diagnostics"] == 1
    assert total["max_company_employees"] == 30  # company 1: 10 + 5 + 15
    assert total["second_company_employees"] == 20


def test_departement_cell(positions, coverage):
    cells = build_cube(positions, SCORES, training_coverage=coverage)
    nord = _cell(cells, territory=("departement", "59"))

    assert nord["territory_parent"] == "32"
    assert nord["employees"] == 19  # positions 1, 2, 4
    assert (nord["companies"], nord["establishments"]) == (2, 2)
    assert nord["exposure_mean"] == pytest.approx((10 * 0.8 + 9 * 0.55) / 19)
    assert nord["share_high"] == pytest.approx(10 / 19)
    assert nord["training_need_share"] == pytest.approx(14 / 19)
    assert nord["training_coverage"] == pytest.approx(10 / 19)
    assert (nord["max_company_employees"], nord["second_company_employees"]) == (15, 4)

    pas_de_calais = _cell(cells, territory=("departement", "62"))
    assert pas_de_calais["employees"] == 41
    assert pas_de_calais["companies"] == 3


def test_distinct_companies_across_roll_ups(positions):
    cells = build_cube(positions, SCORES)
    # Company 1 is in both départements: 2 + 3 companies there, 4 in the région.
    assert _cell(cells, territory=("region", "32"))["companies"] == 4
    assert _cell(cells, territory=("region", "32"))["establishments"] == 5
    # Section C: companies 1 (two establishments) and 4.
    section_c = _cell(cells, sector=("section", "C"))
    assert (section_c["employees"], section_c["companies"], section_c["establishments"]) == (50, 2, 3)
    # Fiche M1607 in band 10-49: company 1's two establishments.
    m1607 = _cell(cells, occupation=("fiche", "M1607"), size="10-49")
    assert (m1607["employees"], m1607["companies"], m1607["establishments"]) == (25, 1, 2)
    assert m1607["occupation_parent"] == "M16"


def test_the_unknown_members_of_two_parents_have_codes_of_their_own():
    # A commune outside any EPCI in each of two régions, and a fiche outside any domaine.
    positions = positions_frame(
        [
            (1, 11, 4, False, False, "59", "", "10", "M1607", "0-9"),
            (2, 21, 6, False, False, "75", "", "10", "M1607", "0-9"),
            (3, 31, 5, False, False, "75", "E9", "10", "K2111", "0-9"),
        ],
        regions={"75": "11"},
    )
    positions.loc[2, "domaine"] = ""
    cells = build_cube(positions, SCORES)
    coordinates = cells[["territory_level", "territory_code", "territory_parent"]].drop_duplicates()
    epci = coordinates[coordinates["territory_level"] == "epci"]

    assert sorted(map(tuple, epci[["territory_code", "territory_parent"]].to_numpy())) == [
        ("E9", "11"),
        ("inconnu-11", "11"),
        ("inconnu-32", "32"),
    ]
    assert _cell(cells, territory=("epci", "inconnu-11"))["employees"] == 6
    domaine = _cell(cells, occupation=("domaine", "inconnu-K"))
    assert (domaine["occupation_parent"], domaine["employees"]) == ("K", 5)
    assert _cell(cells, occupation=("fiche", "K2111"))["occupation_parent"] == "inconnu-K"
    assert [is_unknown(code) for code in ("inconnu", "inconnu-32", "inconnu-inconnu", "E9", "", None)] == [
        True, True, True, False, False, False,
    ]  # fmt: skip
    assert [unknown_parent(code) for code in ("inconnu-32", "inconnu-inconnu", "inconnu")] == ["32", "inconnu", ""]


def test_epci_are_children_of_the_region_with_an_unknown_member(positions):
    cells = build_cube(positions, SCORES)
    epci = cells[(cells["territory_level"] == "epci") & (cells["sector_level"] == "all")]
    epci = epci[(epci["occupation_level"] == "all") & (epci["size_band"] == "all")]

    assert dict(zip(epci["territory_code"], epci["employees"], strict=True)) == {"E1": 15, "E2": 39, "inconnu-32": 6}
    assert set(epci["territory_parent"]) == {"32"}
    # E2 straddles both départements: companies 1, 2 and 4.
    assert _cell(cells, territory=("epci", "E2"))["companies"] == 3


def test_the_size_plan_keeps_only_the_epci_totals_by_band(positions, coverage):
    cells = build_cube(positions, SCORES, training_coverage=coverage)
    planned = cube.within_plan(cells, cube.EPCI_SIZE)

    epci = planned[planned["territory_level"] == "epci"]
    assert set(epci["sector_level"]) == {"all"} and set(epci["occupation_level"]) == {"all"}
    # E1, E2 and the unknown member, each in total and in the bands they have positions in:
    # E1 in 10-49; E2 in 10-49 and 0-9; the unknown one in 0-9.
    assert sorted(zip(epci["territory_code"], epci["size_band"], epci["employees"], strict=True)) == [
        ("E1", "10-49", 15),
        ("E1", "all", 15),
        ("E2", "0-9", 24),
        ("E2", "10-49", 15),
        ("E2", "all", 39),
        ("inconnu-32", "0-9", 6),
        ("inconnu-32", "all", 6),
    ]
    # Every other territory level is left whole, its rows unchanged.
    others = cells[cells["territory_level"] != "epci"].reset_index(drop=True)
    pd.testing.assert_frame_equal(planned[planned["territory_level"] != "epci"].reset_index(drop=True), others)
    assert len(planned) == len(others) + 7


def test_the_full_plan_keeps_every_cell_and_an_unknown_plan_is_refused(positions):
    cells = build_cube(positions, SCORES)
    assert cube.within_plan(cells, cube.EPCI_FULL) is cells
    with pytest.raises(ValueError, match="publication plan"):
        cube.within_plan(cells, "commune")
    with pytest.raises(ValueError, match="publication plan"):
        cube.within_plan(cells.iloc[:0], "commune")


def test_one_rule_says_what_a_plan_publishes_of_one_combination_or_of_every_cell(positions):
    # The pages ask it of one combination; within_plan of every cell at once.
    assert cube.plan_publishes(cube.EPCI_SIZE, "epci", "all", "all") is True
    assert not cube.plan_publishes(cube.EPCI_SIZE, "epci", "section", "all")
    assert not cube.plan_publishes(cube.EPCI_SIZE, "epci", "all", "fiche")
    assert cube.plan_publishes(cube.EPCI_SIZE, "departement", "division", "fiche")
    assert cube.plan_publishes(cube.EPCI_FULL, "epci", "division", "fiche") is True
    cells = build_cube(positions, SCORES)
    levels = [cells[f"{dim}_level"].to_numpy() for dim in ("territory", "sector", "occupation")]
    for plan in cube.EPCI_DETAILS:
        kept = cube.plan_publishes(plan, *levels)
        assert kept.shape == (len(cells),)
        assert kept.sum() == len(cube.within_plan(cells, plan))
    with pytest.raises(ValueError, match="publication plan"):
        cube.plan_publishes("commune", "epci", "all", "all")


def test_finest_cell(positions):
    cell = _cell(
        build_cube(positions, SCORES),
        territory=("departement", "62"),
        sector=("division", "10"),
        occupation=("fiche", "M1607"),
        size="10-49",
    )
    assert (cell["employees"], cell["companies"], cell["exposure_mean"]) == (15, 1, 0.8)
    assert (cell["sector_parent"], cell["occupation_parent"]) == ("C", "M16")


def test_training_coverage_is_nan_without_frame_or_exposed_employees(positions):
    cells = build_cube(positions, SCORES)
    assert cells["training_coverage"].isna().all()

    low = _frame([(5, 51, 3, False, False, "80", "E9", "11", "N1101", "0-9")])
    cells = build_cube(low, SCORES, training_coverage=pd.DataFrame(columns=["departement", "occupation", "covered"]))
    assert cells["training_coverage"].isna().all()
    assert _cell(cells)["share_low"] == 1


def test_unscored_occupation_counts_but_is_not_averaged(positions):
    unknown = _frame([(9, 91, 40, False, False, "59", "E1", "10", "M1607", "0-9")])
    unknown["occupation"] = "Z9999"
    total = _cell(build_cube(pd.concat([positions, unknown], ignore_index=True), SCORES))
    assert total["employees"] == 100
    assert total["companies"] == 5
    assert total["exposure_mean"] == pytest.approx(40.75 / 60)
    assert total["share_high"] + total["share_medium"] + total["share_low"] == pytest.approx(1)


def test_empty_positions_give_an_empty_cube():
    cells = build_cube(_frame([]), SCORES)
    assert cells.empty
    assert "max_company_employees" in cells.columns


# --- Brute force and properties ------------------------------------------------------------

LEVEL_COLUMNS = {
    "territory": {"region": ["region"], "departement": ["region", "departement"], "epci": ["region", "epci"]},
    "sector": {"section": ["naf_section"], "division": ["naf_section", "naf_division"]},
    "occupation": {
        "grand_domaine": ["grand_domaine"],
        "domaine": ["grand_domaine", "domaine"],
        "fiche": ["grand_domaine", "domaine", "occupation"],
    },
    "size": {"band": ["size_band"]},
}


BRUTE_FORCE_FIGURES = [
    *["employees", "companies", "establishments", "max_company_employees", "second_company_employees"],
    *["diagnostics", "exposure_mean"],
]


def brute_force_cube(positions: pd.DataFrame) -> pd.DataFrame:
    """The cube's counts by one plain pandas groupby per level combination."""
    # The commune outside any EPCI is in the unknown EPCI of its région.
    epci = positions["epci"].astype(object).replace("", np.nan)
    frame = positions.assign(epci=epci.fillna("inconnu-" + positions["region"].astype(str)))
    frames = []
    for levels in cube_levels():
        keys, names = [], []
        for dim, level in zip(("territory", "sector", "occupation", "size"), levels, strict=True):
            if level != "all":
                keys += LEVEL_COLUMNS[dim][level]
                names.append(LEVEL_COLUMNS[dim][level][-1])
        by = keys or ["_all"]
        frame = frame.assign(_all=0)
        grouped = frame.groupby(by)
        per_company = frame.groupby([*by, "company"])["headcount"].sum().sort_values(ascending=False)
        ranked = per_company.groupby(level=list(range(len(by))))
        exposure = frame["occupation"].astype(str).map(SCORES["exposure"]).astype(float)
        scored = frame.assign(_w=frame["headcount"] * exposure, _den=frame["headcount"].where(exposure.notna(), 0))
        weighted = scored.groupby(by)[["_w", "_den"]].sum()
        out = pd.DataFrame(
            {
                "employees": grouped["headcount"].sum(),
                "companies": grouped["company"].nunique(),
                "establishments": grouped["establishment"].nunique(),
                "max_company_employees": ranked.nth(0).groupby(level=list(range(len(by)))).sum(),
                "second_company_employees": ranked.nth(1).groupby(level=list(range(len(by)))).sum(),
                "diagnostics": frame[frame["diagnostic"]].groupby(by)["company"].nunique(),
                "exposure_mean": weighted["_w"] / weighted["_den"].where(weighted["_den"] > 0),
            }
        )
        out[["second_company_employees", "diagnostics"]] = out[["second_company_employees", "diagnostics"]].fillna(0)
        out = out.reset_index()
        out["levels"] = [levels] * len(out)
        out["codes"] = list(zip(*(out[n] for n in names), strict=True)) if names else [()] * len(out)
        frames.append(out[["levels", "codes", *BRUTE_FORCE_FIGURES]])
    return pd.concat(frames, ignore_index=True)


def _keyed(cells: pd.DataFrame) -> pd.DataFrame:
    size_level = np.where(cells["size_band"] == "all", "all", "band")
    levels = list(
        zip(cells["territory_level"], cells["sector_level"], cells["occupation_level"], size_level, strict=True)
    )
    codes = []
    for row in zip(
        cells["territory_code"],
        cells["sector_code"],
        cells["occupation_code"],
        cells["size_band"],
        levels,
        strict=True,
    ):
        codes.append(tuple(code for code, level in zip(row[:4], row[4], strict=True) if level != "all"))
    return cells.assign(levels=levels, codes=codes)


@pytest.mark.parametrize("band_of", ["company", "establishment"])
@pytest.mark.parametrize("one_place_per_establishment", [True, False])
def test_cube_matches_a_brute_force_groupby(one_place_per_establishment, band_of):
    rng = np.random.default_rng(7)
    n = 300
    company = rng.integers(0, 25, n)
    establishment = company * 3 + rng.integers(0, 3, n)
    places = np.array([("59", "E1"), ("59", "E2"), ("62", "E2"), ("62", ""), ("80", "E3")], dtype=object)
    divisions = np.array(["10", "11", "47"])
    if one_place_per_establishment:
        place, division = places[establishment % 5], divisions[company % 3]
    else:  # establishments spread over territories and sectors (the slower, general path)
        place, division = places[rng.integers(0, 5, n)], divisions[rng.integers(0, 3, n)]
    fiches = np.array(list(OCCUPATIONS))[rng.integers(0, 4, n)]
    rows = [
        (c, e, hc, need, diag, dep, epci, div, occ, band)
        for c, e, hc, need, diag, (dep, epci), div, occ, band in zip(
            company,
            establishment,
            rng.integers(1, 40, n),
            rng.random(n) < 0.3,
            rng.random(n) < 0.2,
            place,
            division,
            fiches,
            # By establishment, a company's establishments of two bands count it once in the
            # size roll-up, which adds up the cells of its bands.
            np.array(["0-9", "10-49", "50-249"])[(company if band_of == "company" else establishment) % 3],
            strict=True,
        )
    ]
    positions = _frame(rows)
    cells = _keyed(build_cube(positions, SCORES))
    expected = brute_force_cube(positions)

    merged = cells.merge(expected, on=["levels", "codes"], how="outer", suffixes=("", "_expected"), indicator=True)
    assert (merged["_merge"] == "both").all()
    for column in BRUTE_FORCE_FIGURES[:-1]:
        assert (merged[column] == merged[f"{column}_expected"]).all(), column
    assert np.allclose(merged["exposure_mean"], merged["exposure_mean_expected"], rtol=1e-12, equal_nan=True)


@st.composite
def positions_frames(draw):
    """Small random positions: up to 5 companies with 1 or 2 establishments each; an
    establishment has one territory, its company one division and one size band."""
    places = [("59", "E1"), ("59", "E2"), ("62", "E2"), ("62", ""), ("62", None), ("80", "E3")]
    rows = []
    for company in range(draw(st.integers(1, 5))):
        division = draw(st.sampled_from(["10", "11", "47"]))
        band = draw(st.sampled_from(["0-9", "10-49", "5000+"]))
        for establishment in range(draw(st.integers(1, 2))):
            dep, epci = draw(st.sampled_from(places))
            for _ in range(draw(st.integers(1, 3))):
                rows.append(
                    (
                        company,
                        company * 10 + establishment,
                        draw(st.integers(1, 60)),
                        draw(st.booleans()),
                        draw(st.booleans()),
                        dep,
                        epci,
                        division,
                        draw(st.sampled_from(list(OCCUPATIONS))),
                        band,
                    )
                )
    return _frame(rows)


def dimension_columns(cells: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """level, code and parent of every cell on one dimension, as plain strings."""
    if dimension == "size":
        band = cells["size_band"].astype(str)
        return pd.DataFrame(
            {
                "level": np.where(band == "all", "all", "band"),
                "code": band,
                "parent": np.where(band == "all", "", "all"),
            }
        )
    return pd.DataFrame(
        {
            "level": cells[f"{dimension}_level"].astype(str).to_numpy(),
            "code": cells[f"{dimension}_code"].astype(str).to_numpy(),
            "parent": cells[f"{dimension}_parent"].astype(str).to_numpy(),
        }
    )


def relation_groups(cells: pd.DataFrame):
    """Every (relation, members) pair: for each dimension and each parent → children level,
    a frame of the member cells (their row positions in `cells`) with their group key and
    role. Written independently of the code under test, with plain string keys."""
    dims = {d: dimension_columns(cells, d) for d in ("territory", "sector", "occupation", "size")}
    for dimension, parents in PARENT_LEVEL.items():
        others = [d for d in dims if d != dimension]
        other_key = pd.Series([""] * len(cells))
        for d in others:
            other_key = other_key + "|" + dims[d]["level"] + ":" + dims[d]["code"] + "<" + dims[d]["parent"]
        own = dims[dimension]
        for child_level, parent_level in parents.items():
            is_child = (own["level"] == child_level).to_numpy()
            is_parent = (own["level"] == parent_level).to_numpy()
            anchor = np.where(is_child, own["parent"], own["code"])
            members = pd.DataFrame(
                {
                    "row": np.flatnonzero(is_child | is_parent),
                    "group": (other_key + "#" + anchor)[is_child | is_parent].to_numpy(),
                    "is_child": is_child[is_child | is_parent],
                }
            )
            yield (dimension, child_level, parent_level), members


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(positions_frames())
def test_roll_ups_equal_the_sum_of_their_children(positions):
    cells = build_cube(positions, SCORES)
    values = pd.DataFrame(
        {
            "employees": cells["employees"],
            "exposure": cells["exposure_mean"] * cells["employees"],
            "need": cells["training_need_share"] * cells["employees"],
        }
    )
    for relation, members in relation_groups(cells):
        frame = pd.concat([members, values.iloc[members["row"]].reset_index(drop=True)], axis=1)
        children = frame[frame["is_child"]].groupby("group")[list(values.columns)].sum().sort_index()
        parents = frame[~frame["is_child"]].set_index("group")[list(values.columns)].sort_index()
        assert list(children.index) == list(parents.index), relation
        assert (children["employees"] == parents["employees"]).all(), relation
        assert children[["exposure", "need"]].to_numpy() == pytest.approx(parents[["exposure", "need"]].to_numpy())


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(positions_frames())
def test_shares_sum_to_one_and_counts_are_consistent(positions):
    cells = build_cube(positions, SCORES)
    shares = cells["share_high"] + cells["share_medium"] + cells["share_low"]
    assert shares.to_numpy() == pytest.approx(np.ones(len(cells)))
    assert (cells["companies"] <= cells["establishments"]).all()
    assert (cells["max_company_employees"] <= cells["employees"]).all()
    assert (cells["second_company_employees"] <= cells["max_company_employees"]).all()
    assert (cells["diagnostics"] <= cells["companies"]).all()
    total = cells[
        (cells["territory_level"] == "all")
        & (cells["sector_level"] == "all")
        & (cells["occupation_level"] == "all")
        & (cells["size_band"] == "all")
    ]
    assert total["employees"].tolist() == [positions["headcount"].sum()]
    assert total["companies"].tolist() == [positions["company"].nunique()]


def test_the_groupings_computed_by_two_threads_give_the_cube_of_one(monkeypatch, positions, coverage):
    threads = set()
    groupings = cube._groupings

    def spy(*args, **kwargs):
        threads.add(threading.get_ident())
        time.sleep(0.001)  # long enough for the second thread to take a level pair
        return groupings(*args, **kwargs)

    monkeypatch.setattr(cube, "_groupings", spy)
    monkeypatch.setattr(cube, "CUBE_THREADS", 1)
    one = build_cube(positions, SCORES, training_coverage=coverage)
    assert len(threads) == 1
    threads.clear()
    monkeypatch.setattr(cube, "CUBE_THREADS", 2)
    two = build_cube(positions, SCORES, training_coverage=coverage)
    assert len(threads) == 2
    pd.testing.assert_frame_equal(one, two)  # the same cells, in the same order
