"""The two territory hierarchies, as a reader who knows the COG sees them: an EPCI inside
one département is part of it, so a département is the sum of its EPCI and of its shares of
the EPCI that straddle it. Attacks on hand-worked cubes, then random cubes protected and
audited with those equations."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from companies.models import Territory
from observatory.analysis import cube as cube_module
from observatory.analysis.cube import build_cube
from observatory.analysis.secrecy import apply_secrecy, audit_secrecy, primary_secrecy
from observatory.analysis.secrecy.audit import part_values
from observatory.analysis.secrecy.relations import equations
from observatory.selectors import epci_departements
from tests.companies.factories import CommuneFactory, DepartementFactory, RegionFactory

from .test_analysis_cube import SCORES, positions_frames
from .test_analysis_cube import _frame as positions_of

# What the COG says of the territories of `positions_frames` (all in région 32): E2
# straddles the Nord and the Pas-de-Calais, and the communes of the Pas-de-Calais outside any
# EPCI are the unknown member « inconnu-32 ».
INSIDE = {"E1": ("59",), "E2": ("59", "62"), "E3": ("80",), "inconnu-32": ("62",)}


def _flag(cells: pd.DataFrame, secret: np.ndarray) -> pd.DataFrame:
    """The cells with `secret` as primary secrets (too few companies), the others published."""
    out = cells.copy()
    out["secret"] = secret
    out["secret_reason"] = pd.Categorical(
        np.where(secret, "companies", ""), categories=["", "companies", "dominance", "secondary"]
    )
    return out


def _departement(cells: pd.DataFrame, codes) -> np.ndarray:
    return ((cells["territory_level"] == "departement") & cells["territory_code"].isin(codes)).to_numpy()


def _statuses(audit, cells: pd.DataFrame, rows: np.ndarray) -> list[str]:
    hidden = audit.hidden.set_index("row")
    return hidden.loc[rows, "status"].tolist()


def test_a_departement_whose_epci_are_published_is_recovered_from_them():
    # The Somme holds one EPCI, E3; the Pas-de-Calais's only position is outside any EPCI.
    # Both départements are secret in every cell, everything else is published. Along the
    # cube's trees alone, the région gives their sum (12) and each is anywhere from 1 to 11:
    # protected. With the COG, the Somme is E3 and the Pas-de-Calais « inconnu-32 ».
    cells = build_cube(
        positions_of(
            [
                (1, 11, 30, False, False, "59", "E1", "10", "M1607", "10-49"),
                (2, 21, 7, False, False, "80", "E3", "10", "M1607", "10-49"),
                (3, 31, 5, False, False, "62", "", "10", "M1607", "10-49"),
            ]
        ),
        SCORES,
    )
    secret = _departement(cells, ["62", "80"])
    cells = _flag(cells, secret)

    assert audit_secrecy(cells).passed

    audit = audit_secrecy(cells, inside=INSIDE)
    assert not audit.passed
    assert audit.determined_primary == secret.sum() == 2 * 4 * 3 * 2  # 2 départements × the other levels
    hidden = audit.hidden.set_index("row")
    rows = np.flatnonzero(secret)
    assert hidden.loc[rows, "value"].to_numpy() == pytest.approx(cells["employees"].to_numpy()[rows])
    assert "calculable(s) exactement" in audit.explanation()


def test_a_straddling_epci_shares_keep_a_departement_open_unless_one_side_is_empty():
    # E2 straddles the Nord and the Pas-de-Calais: Nord = E1 + its share of E2, and
    # Pas-de-Calais = the other share. For M1607 both départements hold E2's positions, so the
    # reader only knows that the two shares add up to E2 (20): the Pas-de-Calais is between 1
    # (a listed cell) and 20 (true 12, to be kept uncertain within ±2), the Nord between 30
    # and 49 (true 38, within ±5.7). For K2111 nobody works in the Pas-de-Calais: that cell is absent,
    # so zero, and the Nord's K2111 is E1 + E2 = 4 + 9 exactly.
    cells = build_cube(
        positions_of(
            [
                (1, 11, 30, False, False, "59", "E1", "10", "M1607", "10-49"),
                (2, 21, 8, False, False, "59", "E2", "10", "M1607", "10-49"),
                (3, 31, 12, False, False, "62", "E2", "10", "M1607", "10-49"),
                (4, 41, 4, False, False, "59", "E1", "10", "K2111", "10-49"),
                (5, 51, 9, False, False, "59", "E2", "10", "K2111", "10-49"),
            ]
        ),
        SCORES,
    )
    secret = _departement(cells, ["59", "62"])
    cells = _flag(cells, secret)
    fiche = (cells["occupation_level"] == "fiche").to_numpy()
    by_fiche = {code: secret & fiche & (cells["occupation_code"] == code).to_numpy() for code in ("M1607", "K2111")}

    audit = audit_secrecy(cells, inside=INSIDE)

    assert audit.stats["parts"] > 0
    assert set(_statuses(audit, cells, np.flatnonzero(by_fiche["M1607"]))) == {"protected"}
    nord_k = by_fiche["K2111"]
    assert set(_statuses(audit, cells, np.flatnonzero(nord_k))) == {"determined"}
    hidden = audit.hidden.set_index("row")
    assert hidden.loc[np.flatnonzero(nord_k), "value"].tolist() == pytest.approx([13.0] * int(nord_k.sum()))
    # The Pas-de-Calais's M1607 cells, bounded by the shares: 1 to 20 employees.
    pas_de_calais = np.flatnonzero(by_fiche["M1607"] & _departement(cells, ["62"]))
    assert hidden.loc[pas_de_calais, "lower"].tolist() == pytest.approx([1.0] * len(pas_de_calais))
    assert hidden.loc[pas_de_calais, "upper"].tolist() == pytest.approx([20.0] * len(pas_de_calais))


def test_an_epci_missing_from_the_cog_is_refused_rather_than_left_out():
    cells = build_cube(positions_of([(1, 11, 30, False, False, "59", "E9", "10", "M1607", "10-49")]), SCORES)
    with pytest.raises(ValueError, match="E9"):
        equations(cells, INSIDE)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(positions_frames())
def test_the_shares_satisfy_every_equation_of_a_cube(positions):
    # If a département's equation missed one of its EPCI, or counted one twice, no shares
    # at least zero would make the true cells add up.
    cells = build_cube(positions, SCORES)
    matrix = equations(cells, INSIDE)
    truth = cells["employees"].to_numpy(dtype=np.float64)
    shares = part_values(matrix, truth)
    assert (shares >= 0).all()
    assert np.abs(matrix @ np.concatenate([truth, shares])).max() == pytest.approx(0, abs=1e-6)
    # Beyond the tree's equations: one per département cell, and one per cell of E2 whose
    # group lists both the Nord and the Pas-de-Calais, with a share in each (« inconnu-32 »
    # lies in the Pas-de-Calais only, so it never splits).
    level = cells["territory_level"].astype(str)
    code = cells["territory_code"].astype(str)
    others = cells[["sector_code", "occupation_code", "size_band"]].astype(str).agg("|".join, axis=1)
    departements_of = others[level == "departement"].groupby(code[level == "departement"]).agg(set)
    both = departements_of.get("59", set()) & departements_of.get("62", set())
    split = int(others[(level == "epci") & (code == "E2")].isin(both).sum())
    tree = equations(cells).shape[0]
    assert matrix.shape == (tree + int((level == "departement").sum()) + split, len(cells) + 2 * split)


@pytest.mark.parametrize("plan", cube_module.EPCI_DETAILS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(positions_frames())
def test_after_protection_a_reader_of_the_cog_finds_nothing(plan, positions):
    # Under the plan that keeps only the EPCI's totals by band, the départements' equations
    # still tie those totals to the département cells: the attack must still find nothing.
    cube = cube_module.within_plan(build_cube(positions, SCORES), plan)
    cells = apply_secrecy(cube, inside=INSIDE)
    audit = audit_secrecy(cells, inside=INSIDE)
    assert audit.passed, audit.failing()
    assert audit.summary()["hidden"] == int(cells["secret"].sum())
    primary = primary_secrecy(cube)["secret"].to_numpy()
    assert cells["secret"].to_numpy()[primary].all()


@pytest.mark.django_db
def test_the_cog_gives_each_epci_its_departements():
    hauts_de_france = RegionFactory(code="32")
    nord = DepartementFactory(code="59", parent=hauts_de_france)
    somme = DepartementFactory(code="80", parent=hauts_de_france)
    aisne = DepartementFactory(code="02", parent=hauts_de_france)
    lille = Territory.objects.create(level=Territory.Level.EPCI, code="200093201", name="Métropole")
    est_somme = Territory.objects.create(level=Territory.Level.EPCI, code="200070985", name="CC Est de la Somme")
    CommuneFactory(code="59350", parent=nord, epci=lille)
    CommuneFactory(code="59009", parent=nord, epci=lille)
    CommuneFactory(code="80001", parent=somme, epci=est_somme)
    CommuneFactory(code="02001", parent=aisne, epci=est_somme)
    CommuneFactory(code="80002", parent=somme)  # in no EPCI
    CommuneFactory(code="02002", parent=aisne)  # in no EPCI

    assert epci_departements() == {
        "200093201": ("59",),
        "200070985": ("02", "80"),
        "inconnu-32": ("02", "80"),
    }
