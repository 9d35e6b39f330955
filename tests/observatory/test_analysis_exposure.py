"""Task profiles, exposure, RTI and classes, on frames worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from observatory.analysis.exposure import (
    CATEGORIES,
    DEFAULT_SUSCEPTIBILITY,
    blend_profiles,
    exposure,
    exposure_class,
    field_profiles,
    occupation_scores,
    rti,
)


def _positions(rows):
    return pd.DataFrame(rows, columns=["occupation", "company", "headcount", *CATEGORIES])


@pytest.fixture
def positions():
    # M1607 is reported by two companies; company 2 reports it in two positions.
    #   company 1: 10 employees, shares 50 10 20 10 10
    #   company 2: 20 + 10 = 30 employees, shares 30 10 20 30 10
    # Headcount-weighted: rc (10·50 + 30·30) / 40 = 35 %, rm 10 %, nra 20 %,
    # nri (10·10 + 30·30) / 40 = 25 %, nrm 10 %.
    # K2111 is reported by company 3 alone: 0 0 60 40 0.
    return _positions(
        [
            ("M1607", 1, 10, 50, 10, 20, 10, 10),
            ("M1607", 2, 20, 30, 10, 20, 30, 10),
            ("M1607", 2, 10, 30, 10, 20, 30, 10),
            ("K2111", 3, 5, 0, 0, 60, 40, 0),
        ]
    )


@pytest.fixture
def reference():
    return pd.DataFrame(
        {
            "rc": [0.2, 0.1, 0.8],
            "rm": [0.3, 0.5, 0.1],
            "nra": [0.1, 0.1, 0.1],
            "nri": [0.2, 0.1, 0.0],
            "nrm": [0.2, 0.2, 0.0],
        },
        index=pd.Index(["M1607", "A1101", "M1602"], name="occupation"),
    )


def test_field_profiles_are_headcount_weighted_fractions(positions):
    field = field_profiles(positions)

    assert list(field.index) == ["K2111", "M1607"]
    m1607 = field.loc["M1607"]
    assert [m1607[c] for c in CATEGORIES] == pytest.approx([0.35, 0.10, 0.20, 0.25, 0.10])
    assert m1607["n_companies"] == 2  # company 2 counts once
    assert m1607["employees"] == 40
    k2111 = field.loc["K2111"]
    assert [k2111[c] for c in CATEGORIES] == pytest.approx([0.0, 0.0, 0.6, 0.4, 0.0])
    assert (k2111["n_companies"], k2111["employees"]) == (1, 5)
    assert field[list(CATEGORIES)].sum(axis=1).to_numpy() == pytest.approx([1.0, 1.0])


def test_field_profiles_of_no_positions_is_empty():
    field = field_profiles(_positions([]))
    assert field.empty
    assert {*CATEGORIES, "n_companies", "employees"} <= set(field.columns)


def test_blend_shrinks_field_towards_reference(positions, reference):
    blended = blend_profiles(reference, field_profiles(positions), prior_strength=5)

    # M1607: n = 2 companies, m = 5: s = (2·field + 5·ref) / 7
    #   rc  (2·0.35 + 5·0.2) / 7 = 1.7 / 7     rm  (2·0.10 + 5·0.3) / 7 = 1.7 / 7
    #   nra (2·0.20 + 5·0.1) / 7 = 0.9 / 7     nri (2·0.25 + 5·0.2) / 7 = 1.5 / 7
    #   nrm (2·0.10 + 5·0.2) / 7 = 1.2 / 7
    m1607 = blended.loc["M1607"]
    assert [m1607[c] for c in CATEGORIES] == pytest.approx([1.7 / 7, 1.7 / 7, 0.9 / 7, 1.5 / 7, 1.2 / 7])
    assert m1607["n_companies"] == 2
    assert m1607["employees"] == 40
    # Both inputs stay visible.
    assert [m1607[f"ref_{c}"] for c in CATEGORIES] == pytest.approx([0.2, 0.3, 0.1, 0.2, 0.2])
    assert [m1607[f"field_{c}"] for c in CATEGORIES] == pytest.approx([0.35, 0.10, 0.20, 0.25, 0.10])
    assert blended[list(CATEGORIES)].sum(axis=1).to_numpy() == pytest.approx(np.ones(len(blended)))


def test_blend_without_field_data_is_the_reference(positions, reference):
    blended = blend_profiles(reference, field_profiles(positions), prior_strength=5)

    a1101 = blended.loc["A1101"]
    assert [a1101[c] for c in CATEGORIES] == pytest.approx([0.1, 0.5, 0.1, 0.1, 0.2])
    assert a1101["n_companies"] == 0
    assert a1101["employees"] == 0
    assert all(math.isnan(a1101[f"field_{c}"]) for c in CATEGORIES)


def test_blend_without_reference_is_the_field_profile(positions, reference):
    # K2111 has no reference profile: treated as m = 0, the field profile alone.
    blended = blend_profiles(reference, field_profiles(positions), prior_strength=5)

    k2111 = blended.loc["K2111"]
    assert [k2111[c] for c in CATEGORIES] == pytest.approx([0.0, 0.0, 0.6, 0.4, 0.0])
    assert all(math.isnan(k2111[f"ref_{c}"]) for c in CATEGORIES)
    assert sorted(blended.index) == ["A1101", "K2111", "M1602", "M1607"]


def test_blend_with_zero_prior_strength_keeps_field_and_reference(positions, reference):
    blended = blend_profiles(reference, field_profiles(positions), prior_strength=0)
    assert [blended.loc["M1607", c] for c in CATEGORIES] == pytest.approx([0.35, 0.10, 0.20, 0.25, 0.10])
    assert [blended.loc["A1101", c] for c in CATEGORIES] == pytest.approx([0.1, 0.5, 0.1, 0.1, 0.2])


def test_exposure_with_default_susceptibility():
    profiles = pd.DataFrame(
        [[1.7 / 7, 1.7 / 7, 0.9 / 7, 1.5 / 7, 1.2 / 7], [0.35, 0.10, 0.20, 0.25, 0.10]],
        columns=list(CATEGORIES),
        index=["blended", "field"],
    )
    e = exposure(profiles, DEFAULT_SUSCEPTIBILITY)
    # 0.85·1.7/7 + 0.55·1.7/7 + 0.45·0.9/7 + 0.20·1.5/7 + 0.10·1.2/7 = 3.205 / 7
    assert e["blended"] == pytest.approx(3.205 / 7)
    # 0.85·0.35 + 0.55·0.10 + 0.45·0.20 + 0.20·0.25 + 0.10·0.10 = 0.5025
    assert e["field"] == pytest.approx(0.5025)
    assert e.name == "exposure"


def test_exposure_is_clipped_to_the_unit_interval():
    profiles = pd.DataFrame([[1.0, 0, 0, 0, 0], [0, 0, 0, 0, 1.0]], columns=list(CATEGORIES))
    alpha = {"rc": 2.0, "rm": 0.5, "nra": 0.5, "nri": 0.5, "nrm": -1.0}
    assert exposure(profiles, alpha).tolist() == [1.0, 0.0]


def test_exposure_needs_every_category():
    profiles = pd.DataFrame([[0.2] * 5], columns=list(CATEGORIES))
    with pytest.raises(ValueError, match="nrm"):
        exposure(profiles, {"rc": 1, "rm": 1, "nra": 1, "nri": 1})


def test_rti():
    profiles = pd.DataFrame(
        [
            [0.35, 0.10, 0.20, 0.25, 0.10],  # ln 0.45 − ln 0.45 − ln 0.10 = ln 10
            [0.0, 0.0, 0.6, 0.4, 0.0],  # ln ε − ln 1 − ln ε = 0
            [0.5, 0.5, 0.0, 0.0, 0.0],  # ln 1 − ln ε − ln ε = 2 ln 100
        ],
        columns=list(CATEGORIES),
    )
    assert rti(profiles).tolist() == pytest.approx([math.log(10), 0.0, 2 * math.log(100)])
    # A coarser floor: ln 1 − ln 0.1 − ln 0.1 = 2 ln 10
    assert rti(profiles, epsilon=0.1)[2] == pytest.approx(2 * math.log(10))


def test_exposure_class_boundaries():
    e = pd.Series([0.0, 0.4999, 0.5, 0.6999, 0.7, 1.0, np.nan])
    classes = exposure_class(e)
    assert classes.tolist()[:6] == ["low", "low", "medium", "medium", "high", "high"]
    assert pd.isna(classes.iloc[6])
    assert list(classes.cat.categories) == ["low", "medium", "high"]


def test_exposure_class_absorbs_rounding_at_the_threshold():
    # 0.7 on paper that floating point computes a hair below.
    assert exposure_class(pd.Series([0.7 - 1e-12]))[0] == "high"
    assert exposure_class(pd.Series([0.55]), high=0.6, medium=0.55)[0] == "medium"


def test_occupation_scores(positions, reference):
    # Secrecy lifted (one company suffices, no dominance rule) to follow the arithmetic.
    params = {
        "susceptibility": DEFAULT_SUSCEPTIBILITY,
        "prior_strength": 5,
        "high_threshold": 0.7,
        "medium_threshold": 0.5,
        "min_companies": 1,
        "dominance": 1.0,
    }
    scores = occupation_scores(reference, positions, params)

    assert scores.loc["M1607", "exposure"] == pytest.approx(3.205 / 7)  # 0.458: low
    assert scores.loc["M1607", "exposure_class"] == "low"
    # M1602, reference only: 0.85·0.8 + 0.55·0.1 + 0.45·0.1 = 0.78: high
    assert scores.loc["M1602", "exposure"] == pytest.approx(0.78)
    assert scores.loc["M1602", "exposure_class"] == "high"
    # K2111, field only: 0.45·0.6 + 0.20·0.4 = 0.35
    assert scores.loc["K2111", "exposure"] == pytest.approx(0.35)
    assert scores.loc["K2111", "rti"] == pytest.approx(0.0)
    assert {"exposure", "rti", "exposure_class", "n_companies", "ref_rc", "field_rc"} <= set(scores.columns)


def test_field_profiles_give_the_largest_company_share(positions):
    field = field_profiles(positions)
    # M1607: company 2 holds 30 of 40 employees; K2111: company 3 alone.
    assert field.loc["M1607", "top_share"] == pytest.approx(0.75)
    assert field.loc["K2111", "top_share"] == pytest.approx(1.0)


def test_answers_of_too_few_companies_move_no_published_figure(positions, reference):
    """Two companies report M1607: under a minimum of 3 their answers must not move its
    exposure, RTI or class (with the reference and m public they would be solved back)."""
    params = {"susceptibility": DEFAULT_SUSCEPTIBILITY, "prior_strength": 5, "min_companies": 3, "dominance": 0.85}
    scores = occupation_scores(reference, positions, params)
    reference_only = occupation_scores(reference, positions.iloc[:0], params)
    for column in ("exposure", "rti", *CATEGORIES):
        assert scores.loc["M1607", column] == pytest.approx(reference_only.loc["M1607", column])
    assert scores.loc["M1607", "exposure_class"] == reference_only.loc["M1607", "exposure_class"]
    assert not scores.loc["M1607", "field_used"]
    # The field profile itself is still computed (the page decides whom it may be shown to)
    # and the count of reporting companies stays the true one.
    assert scores.loc["M1607", "field_rc"] == pytest.approx(0.35) and scores.loc["M1607", "n_companies"] == 2


def test_a_dominated_field_profile_moves_nothing_either(reference):
    """Three companies, one holding 90 % of the headcount (above 85 %): its answers would be
    nearly all of the field profile, so the blend stays the reference."""
    positions = _positions(
        [
            ("M1607", 1, 90, 50, 10, 20, 10, 10),
            ("M1607", 2, 5, 30, 10, 20, 30, 10),
            ("M1607", 3, 5, 30, 10, 20, 30, 10),
        ]
    )
    params = {"prior_strength": 5, "min_companies": 3, "dominance": 0.85}
    scores = occupation_scores(reference, positions, params)
    assert not scores.loc["M1607", "field_used"]
    assert scores.loc["M1607", "rc"] == pytest.approx(0.2)
    # Without the dominant company's excess, three companies move it: n = 3, m = 5.
    balanced = positions.assign(headcount=[10, 10, 10])
    moved = occupation_scores(reference, balanced, params)
    assert moved.loc["M1607", "field_used"]
    assert moved.loc["M1607", "rc"] == pytest.approx((3 * (50 + 30 + 30) / 300 + 5 * 0.2) / 8)
