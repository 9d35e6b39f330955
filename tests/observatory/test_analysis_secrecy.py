"""Statistical secrecy: the primary rules, secondary suppression, masking."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observatory.analysis.cube import build_cube
from observatory.analysis.memo import LastResult
from observatory.analysis.secrecy import (
    apply_secrecy,
    mask_values,
    primary_secrecy,
    secondary_suppression,
    single_secret_groups,
    suppression,
)

from .test_analysis_cube import SCORES, positions_frames, relation_groups


def _cells(rows):
    """Cells on the sector and size dimensions (territory and occupation at "all") from
    (sector level, code, parent, size band, employees, companies, largest company) tuples."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "sector_level",
            "sector_code",
            "sector_parent",
            "size_band",
            "employees",
            "companies",
            "max_company_employees",
        ],
    )
    for dim in ("territory", "occupation"):
        frame[f"{dim}_level"] = "all"
        frame[f"{dim}_code"] = ""
        frame[f"{dim}_parent"] = ""
    return frame


def _with_secrets(cells, secret_codes):
    """Mark as primary secret (reason "companies") the cells whose (sector code, band) is listed."""
    cells = primary_secrecy(cells, min_companies=0, dominance=1.0)
    keys = list(zip(cells["sector_code"], cells["size_band"], strict=True))
    secret = np.array([key in secret_codes for key in keys])
    cells["secret"] = secret
    cells["secret_reason"] = cells["secret_reason"].where(~secret, "companies")
    return cells


def _secret(cells):
    return {
        (code, band): reason
        for code, band, secret, reason in zip(
            cells["sector_code"], cells["size_band"], cells["secret"], cells["secret_reason"], strict=True
        )
        if secret
    }


def test_fewer_than_three_companies_is_secret():
    cells = primary_secrecy(_cells([("section", "C", "", "all", 100, 2, 50), ("section", "G", "", "all", 100, 3, 40)]))
    assert cells["secret"].tolist() == [True, False]
    assert cells["secret_reason"].tolist() == ["companies", ""]


def test_a_dominant_company_makes_the_cell_secret():
    cells = primary_secrecy(
        _cells(
            [
                ("section", "A", "", "all", 100, 3, 90),  # 90 %
                ("section", "B", "", "all", 100, 3, 86),  # 86 % > 85 %
                ("section", "C", "", "all", 100, 3, 85),  # exactly 85 %: published
                ("section", "D", "", "all", 20, 4, 17),  # 17 / 20 = 85 %: published
                ("section", "E", "", "all", 100, 3, 50),
            ]
        )
    )
    assert cells["secret"].tolist() == [True, True, False, False, False]
    assert cells["secret_reason"].tolist() == ["dominance", "dominance", "", "", ""]


def test_the_frequency_rule_comes_first_and_thresholds_are_parameters():
    cells = _cells([("section", "A", "", "all", 100, 2, 95)])
    assert primary_secrecy(cells)["secret_reason"].tolist() == ["companies"]
    relaxed = primary_secrecy(cells, min_companies=2, dominance=0.96)
    assert relaxed["secret"].tolist() == [False]


def test_secondary_masks_the_smallest_other_child():
    # Section C = 100 employees, divisions 10 (50), 11 (30, secret) and 12 (20):
    # 11 = 100 − 50 − 20 unless one more child is masked, the smallest: 12.
    cells = _with_secrets(
        _cells(
            [
                ("section", "C", "", "all", 100, 9, 10),
                ("division", "10", "C", "all", 50, 5, 10),
                ("division", "11", "C", "all", 30, 2, 10),
                ("division", "12", "C", "all", 20, 3, 10),
            ]
        ),
        {("11", "all")},
    )
    result = secondary_suppression(cells)
    assert _secret(result) == {("11", "all"): "companies", ("12", "all"): "secondary"}


def test_secondary_masks_the_parent_of_an_only_child():
    cells = _with_secrets(
        _cells([("section", "G", "", "all", 30, 2, 20), ("division", "47", "G", "all", 30, 2, 20)]),
        {("47", "all")},
    )
    assert _secret(secondary_suppression(cells)) == {("47", "all"): "companies", ("G", "all"): "secondary"}


def test_secondary_masks_a_child_when_the_parent_alone_is_secret():
    cells = _with_secrets(
        _cells(
            [
                ("section", "C", "", "all", 100, 9, 10),
                ("division", "10", "C", "all", 60, 5, 10),
                ("division", "11", "C", "all", 40, 4, 10),
            ]
        ),
        {("C", "all")},
    )
    assert _secret(secondary_suppression(cells)) == {("C", "all"): "companies", ("11", "all"): "secondary"}


def test_secondary_suppression_propagates_across_dimensions():
    #              all   0-9   10-49
    #   section C  100    60     40
    #   div 10      70    40     30
    #   div 11      30    20     10   ← (11, 10-49) primary secret
    # Along the sector: (10, 10-49) is masked; then along the size, in both divisions,
    # the 0-9 cells: the classic rectangle of four secret cells.
    rows = []
    for code, parent, level, values in (
        ("C", "", "section", (100, 60, 40)),
        ("10", "C", "division", (70, 40, 30)),
        ("11", "C", "division", (30, 20, 10)),
    ):
        for band, employees in zip(("all", "0-9", "10-49"), values, strict=True):
            rows.append((level, code, parent, band, employees, 5, 1))
    result = secondary_suppression(_with_secrets(_cells(rows), {("11", "10-49")}))

    assert _secret(result) == {
        ("11", "10-49"): "companies",
        ("10", "10-49"): "secondary",
        ("10", "0-9"): "secondary",
        ("11", "0-9"): "secondary",
    }
    assert single_secret_groups(result) == 0


def test_apply_secrecy_keeps_values_and_mask_values_hides_them():
    cells = _cells(
        [
            ("section", "C", "", "all", 100, 5, 30),
            ("division", "10", "C", "all", 60, 3, 30),
            ("division", "11", "C", "all", 40, 2, 30),
        ]
    )
    cells["exposure_mean"] = [0.5, 0.6, 0.35]
    flagged = apply_secrecy(cells)
    assert flagged["secret"].tolist() == [False, True, True]
    assert flagged["secret_reason"].tolist() == ["", "secondary", "companies"]
    assert flagged["employees"].tolist() == [100, 60, 40]  # stored with the flag

    masked = mask_values(flagged)
    assert masked["employees"].iloc[0] == 100
    assert masked[["employees", "companies", "exposure_mean", "max_company_employees"]].iloc[1:].isna().all().all()
    assert masked["sector_code"].tolist() == ["C", "10", "11"]
    assert masked["secret"].tolist() == [False, True, True]
    assert flagged["employees"].tolist() == [100, 60, 40]  # the input is not modified


def test_the_protection_of_the_same_cells_is_computed_once(monkeypatch):
    # Every lens of one set of positions asks for the same protection: the second call
    # reuses the first one's pattern and report; another threshold computes it again.
    calls = []
    protect = suppression.complementary_suppression

    def watched(cells, **options):
        calls.append(len(cells))
        return protect(cells, **options)

    monkeypatch.setattr(suppression, "complementary_suppression", watched)
    monkeypatch.setattr(suppression, "_PROTECTIONS", LastResult())
    rows = [
        ("section", "C", "", "all", 100, 5, 30),
        ("division", "10", "C", "all", 60, 3, 30),
        ("division", "11", "C", "all", 40, 2, 30),
    ]
    first_report, second_report = {}, {}
    first = apply_secrecy(_cells(rows), report=first_report)
    second = apply_secrecy(_cells(rows), report=second_report)
    assert calls == [3]
    assert second["secret"].tolist() == first["secret"].tolist() == [False, True, True]
    assert second["secret_reason"].tolist() == ["", "secondary", "companies"]
    assert second_report["summary"] == first_report["summary"] and first_report["summary"]["secondary"] == 1
    stricter = apply_secrecy(_cells(rows), min_companies=4)
    assert calls == [3, 3]
    assert stricter["secret_reason"].tolist() == ["", "companies", "companies"]


def test_secrecy_of_an_empty_cube():
    assert apply_secrecy(_cells([])).empty


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(positions_frames(), st.integers(1, 4), st.sampled_from([0.5, 0.85, 1.0]))
def test_no_secret_cell_can_be_recovered_by_subtraction(positions, min_companies, dominance):
    cells = apply_secrecy(build_cube(positions, SCORES), min_companies=min_companies, dominance=dominance)
    secret = cells["secret"].to_numpy()
    for relation, members in relation_groups(cells):
        counts = members.assign(secret=secret[members["row"]]).groupby("group")["secret"].sum()
        assert not (counts == 1).any(), relation

    # Primary secrets are kept with their reason; every other secret is secondary.
    primary = primary_secrecy(build_cube(positions, SCORES), min_companies=min_companies, dominance=dominance)
    assert (cells["secret"] >= primary["secret"]).all()
    kept = primary["secret"].to_numpy()
    assert (cells["secret_reason"].to_numpy()[kept] == primary["secret_reason"].to_numpy()[kept]).all()
    added = cells["secret"].to_numpy() & ~kept
    assert (cells["secret_reason"].to_numpy()[added] == "secondary").all()
    assert single_secret_groups(cells) == 0


@pytest.mark.parametrize("companies, largest, secret", [(3, 85, False), (3, 86, True), (2, 10, True)])
def test_primary_boundaries(companies, largest, secret):
    cells = primary_secrecy(_cells([("section", "C", "", "all", 100, companies, largest)]))
    assert cells["secret"].tolist() == [secret]
