"""Suggested transitions (observatory.analysis.transitions), on a hand-worked source fiche and
its ROME mobilités, without a database.

Source A1101 (exposure 0.60, medium) lists the savoir-faire i1 (core), i2, i3 and i4.

  target  exposure  class    savoir-faire (core marked *)   drop   shared  core held / core
  B1         0.50   medium   i1* i2* i5* i6                  0.10    2       2 / 3  → i5 to acquire
  B2         0.40   low      i1 i2* i7* i8*                  0.20    2       1 / 3  → i7, i8
  B3         0.57   medium   i1 i2 i3                        0.03    —       below the margin, same class
  B4         0.58   low      i1 i2 i3                        0.02    3       0 / 0  lower class: kept
  B5         0.70   high     i1                             −0.10    —       more exposed
  B6          —     —        i1                               —      —       no score
  B7         0.55   medium   i9*                             0.05    0       0 / 1  exactly the margin

Ranked by shared competences, then drop: B4 (3), B2 (2, drop .20), B1 (2, drop .10), B7 (0).
"""

import math

import numpy as np
import pandas as pd
import pytest

from observatory.analysis.transitions import TRANSITION_COLUMNS, rank_transitions, top_transitions

MARGIN = 0.05


def _mobilities(rows):
    return pd.DataFrame(
        rows,
        columns=["source", "target", "label", "rank", "source_exposure", "source_class", "exposure", "exposure_class"],
    )


def _links(rows):
    return pd.DataFrame(
        [(fiche, item, "principale" if core else "", f"Savoir-faire {item}") for fiche, item, core in rows],
        columns=["occupation", "item", "core", "label"],
    )


@pytest.fixture
def mobilities():
    source = ("A1101", 0.60, "medium")
    targets = [
        ("B1", 0.50, "medium"),
        ("B2", 0.40, "low"),
        ("B3", 0.57, "medium"),
        ("B4", 0.58, "low"),
        ("B5", 0.70, "high"),
        ("B6", np.nan, ""),
        ("B7", 0.55, "medium"),
    ]
    return _mobilities(
        [
            (source[0], code, f"Métier {code}", rank, source[1], source[2], exposure, klass)
            for rank, (code, exposure, klass) in enumerate(targets, start=1)
        ]
    )


@pytest.fixture
def links():
    rows = [("A1101", "i1", True), ("A1101", "i2", False), ("A1101", "i3", False), ("A1101", "i4", False)]
    rows += [("B1", "i1", True), ("B1", "i2", True), ("B1", "i5", True), ("B1", "i6", False)]
    rows += [("B2", "i1", False), ("B2", "i2", True), ("B2", "i7", True), ("B2", "i8", True)]
    rows += [("B3", item, False) for item in ("i1", "i2", "i3")]
    rows += [("B4", item, False) for item in ("i1", "i2", "i3")]
    rows += [("B5", "i1", False), ("B6", "i1", False), ("B7", "i9", True)]
    return _links(rows)


def test_only_less_exposed_targets_by_the_margin_or_a_lower_class_qualify(mobilities, links):
    ranked = rank_transitions(mobilities, links, margin=MARGIN)
    # B3 drops by 0.03 within the same class, B5 is more exposed, B6 has no score.
    assert set(ranked["target"]) == {"B1", "B2", "B4", "B7"}
    # B4 drops by 0.02 only, but into a lower class.
    b4 = ranked.set_index("target").loc["B4"]
    assert b4["drop"] == pytest.approx(0.02) and b4["exposure_class"] == "low"
    # B7 drops by 0.60 − 0.55, exactly the margin (0.04999… in floating point).
    assert ranked.set_index("target").loc["B7", "drop"] == pytest.approx(MARGIN)


def test_a_wider_margin_keeps_only_the_big_drops_and_the_lower_classes(mobilities, links):
    ranked = rank_transitions(mobilities, links, margin=0.15)
    assert list(ranked["target"]) == ["B4", "B2"]


def test_shared_competences_and_core_share_are_counted_exactly(mobilities, links):
    ranked = rank_transitions(mobilities, links, margin=MARGIN).set_index("target")
    assert ranked.loc["B1", ["shared", "target_core", "core_held"]].tolist() == [2, 3, 2]
    assert ranked.loc["B1", "core_share"] == pytest.approx(2 / 3)
    assert ranked.loc["B1", "core_to_acquire"] == ("Savoir-faire i5",)
    assert ranked.loc["B2", ["shared", "target_core", "core_held"]].tolist() == [2, 3, 1]
    assert ranked.loc["B2", "core_share"] == pytest.approx(1 / 3)
    assert ranked.loc["B2", "core_to_acquire"] == ("Savoir-faire i7", "Savoir-faire i8")
    # A target without any core savoir-faire: nothing to acquire, and no share to give.
    assert ranked.loc["B4", ["shared", "target_core", "core_held"]].tolist() == [3, 0, 0]
    assert math.isnan(ranked.loc["B4", "core_share"]) and ranked.loc["B4", "core_to_acquire"] == ()
    assert ranked.loc["B7", ["shared", "target_core", "core_held"]].tolist() == [0, 1, 0]
    assert ranked.loc["B7", "core_share"] == 0


def test_suggestions_are_ranked_by_shared_competences_then_by_the_drop(mobilities, links):
    ranked = rank_transitions(mobilities, links, margin=MARGIN)
    assert list(ranked["target"]) == ["B4", "B2", "B1", "B7"]
    assert list(ranked["position"]) == [1, 2, 3, 4]
    assert list(ranked["drop"]) == pytest.approx([0.02, 0.20, 0.10, 0.05])
    # The columns named in the docstring, the carried label among them.
    assert set(TRANSITION_COLUMNS) <= set(ranked.columns) and "label" in ranked.columns
    assert ranked.loc[0, "label"] == "Métier B4"


def test_equal_shared_and_drop_keep_the_rome_order(links):
    mobilities = _mobilities(
        [
            ("A1101", "B2", "", 2, 0.6, "medium", 0.4, "low"),
            ("A1101", "B1", "", 1, 0.6, "medium", 0.4, "low"),
        ]
    )
    same = links[links["occupation"] != "B1"]
    same = pd.concat([same, same[same["occupation"] == "B2"].assign(occupation="B1")])
    assert list(rank_transitions(mobilities, same, margin=MARGIN)["target"]) == ["B1", "B2"]


def test_each_source_is_ranked_on_its_own(mobilities, links):
    other = _mobilities([("C1101", "B1", "Métier B1", 1, 0.9, "high", 0.5, "medium")])
    links = pd.concat([links, _links([("C1101", "i5", False), ("C1101", "i6", False)])])
    ranked = rank_transitions(pd.concat([mobilities, other], ignore_index=True), links, margin=MARGIN)
    from_c = ranked[ranked["source"] == "C1101"]
    assert list(from_c["target"]) == ["B1"] and list(from_c["position"]) == [1]
    # C1101 lists i5 (B1's core item A1101 lacks) and i6.
    assert from_c.iloc[0]["shared"] == 2
    assert from_c.iloc[0]["core_to_acquire"] == ("Savoir-faire i1", "Savoir-faire i2")
    assert list(top_transitions(ranked, 2)["target"]) == ["B4", "B2", "B1"]


def test_no_qualifying_mobility_gives_an_empty_frame_with_the_columns(links):
    mobilities = _mobilities([("A1101", "B5", "", 1, 0.6, "medium", 0.7, "high")])
    ranked = rank_transitions(mobilities, links, margin=MARGIN)
    assert ranked.empty and set(TRANSITION_COLUMNS) <= set(ranked.columns)
    assert rank_transitions(mobilities.iloc[0:0], links.iloc[0:0], margin=MARGIN).empty


def test_a_source_without_a_score_suggests_nothing(links):
    mobilities = _mobilities([("A1101", "B2", "", 1, np.nan, "", 0.4, "low")])
    assert rank_transitions(mobilities, links, margin=MARGIN).empty
