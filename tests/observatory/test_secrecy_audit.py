"""The secrecy audit: what a reader solving every published total at once recovers, on
hand-worked tables, and the protection that leaves it nothing, on random cubes."""

import itertools
import threading
import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observatory.analysis.cube import build_cube
from observatory.analysis.memo import LastResult
from observatory.analysis.secrecy import (
    apply_secrecy,
    audit_secrecy,
    complementary_suppression,
    primary_secrecy,
    protection_interval,
    secondary_suppression,
    single_secret_groups,
    structural_floor,
)
from observatory.analysis.secrecy import audit as audit_module
from observatory.analysis.secrecy import suppression as suppression_module
from observatory.analysis.secrecy.system import reduce_system

from .test_analysis_cube import SCORES, positions_frames

# The example in miniature, on the sector and size dimensions (territory and
# occupation at "all"): sections C (divisions 24, 28, 29) and G (division 47).
#
#                 all    0-9   10-49  50-249
#   all           170     20     59     91
#   C             120     20     40     60
#     24            1      1      .      .
#     28            3      3      .      .
#     29          116     16     40     60
#   G              50      .     19     31
#     47           50      .     19     31
#
# Secret (·s): 24 and 28 (one company each) and « all, 50-249 » (two companies) are primary;
# the other secret cells are complementary. Every parent/children group holds 0 or at least
# 2 secret cells — the one-secret rule holds — and still, three chains of equations give
# « all, 50-249 » away:
#   sector, C:        24 + 28 = 120 − 116 = 4 (both only in 0-9, so 24 + 28 in 0-9 = 4 too);
#   sector, 0-9:      C 0-9 = 4 + 16 = 20, and « all, 0-9 » = C 0-9 (C is alone in 0-9);
#   size, all:        « all, 50-249 » = 170 − 59 − 20 = 91.
TABLE = {
    ("all", "", ""): {"all": 170, "0-9": 20, "10-49": 59, "50-249": 91},
    ("section", "C", ""): {"all": 120, "0-9": 20, "10-49": 40, "50-249": 60},
    ("division", "24", "C"): {"all": 1, "0-9": 1},
    ("division", "28", "C"): {"all": 3, "0-9": 3},
    ("division", "29", "C"): {"all": 116, "0-9": 16, "10-49": 40, "50-249": 60},
    ("section", "G", ""): {"all": 50, "10-49": 19, "50-249": 31},
    ("division", "47", "G"): {"all": 50, "10-49": 19, "50-249": 31},
}
PRIMARY = {("24", "all"), ("24", "0-9"), ("28", "all"), ("28", "0-9"), ("", "50-249")}
COMPLEMENTARY = {
    ("", "0-9"),
    ("C", "0-9"),
    ("C", "10-49"),
    ("C", "50-249"),
    ("29", "10-49"),
    ("29", "50-249"),
    ("G", "10-49"),
    ("G", "50-249"),
    ("47", "10-49"),
    ("47", "50-249"),
}


def _table(complementary=COMPLEMENTARY):
    rows = [
        (level, code, parent, band, employees)
        for (level, code, parent), bands in TABLE.items()
        for band, employees in bands.items()
    ]
    cells = pd.DataFrame(rows, columns=["sector_level", "sector_code", "sector_parent", "size_band", "employees"])
    for dim in ("territory", "occupation"):
        cells[f"{dim}_level"] = "all"
        cells[f"{dim}_code"] = ""
        cells[f"{dim}_parent"] = ""
    keys = list(zip(cells["sector_code"], cells["size_band"], strict=True))
    primary = np.array([key in PRIMARY for key in keys])
    secret = primary | np.array([key in complementary for key in keys])
    cells["secret"] = secret
    reason = np.where(primary, "companies", np.where(secret, "secondary", ""))
    cells["secret_reason"] = pd.Categorical(reason, categories=["", "companies", "dominance", "secondary"])
    return cells


def _by_key(audit, cells):
    """The audit's rows, keyed by (sector code, size band)."""
    return {
        (cells["sector_code"].iloc[hidden["row"]], cells["size_band"].iloc[hidden["row"]]): hidden
        for _, hidden in audit.hidden.iterrows()
    }


def test_the_one_secret_rule_holds_in_the_example():
    assert single_secret_groups(_table()) == 0


def test_three_chained_equations_determine_a_primary_cell():
    cells = _table()
    audit = audit_secrecy(cells)
    hidden = _by_key(audit, cells)

    determined = {key: row["value"] for key, row in hidden.items() if row["determined"]}
    assert determined == pytest.approx({("", "0-9"): 20, ("C", "0-9"): 20, ("", "50-249"): 91})
    assert hidden[("", "50-249")]["status"] == "determined"
    assert not audit.passed and audit.determined_primary == 1


def test_bounds_of_the_cells_left_undetermined_are_the_readers():
    # 24 + 28 = 4 with each ≥ 1 employee: 24 ∈ [1, 3] and 28 ∈ [1, 3].
    # 24 (1 employee) must stay uncertain up to 1 + 2 = 3: it does. Its lower end is 1,
    # which anyone knows. 28 (3 employees) must reach 3 + 2 = 5: it cannot, under-protected.
    cells = _table()
    hidden = _by_key(audit_secrecy(cells), cells)
    for key, (lower, upper, status) in {
        ("24", "all"): (1, 3, "protected"),
        ("24", "0-9"): (1, 3, "protected"),
        ("28", "all"): (1, 3, "under_protected"),
        ("28", "0-9"): (1, 3, "under_protected"),
    }.items():
        assert (hidden[key]["lower"], hidden[key]["upper"]) == pytest.approx((lower, upper)), key
        assert hidden[key]["status"] == status, key
    assert (hidden[("28", "all")]["required_lower"], hidden[("28", "all")]["required_upper"]) == (1, 5)
    # C 10-49 = u, then C 50-249 = 100 − u, G 10-49 = 59 − u, G 50-249 = u − 9, all ≥ 1:
    # u ∈ [10, 58] (a complementary cell: bounds are computed for primary cells only).
    assert np.isnan(hidden[("C", "10-49")]["lower"])


def test_one_more_complementary_cell_breaks_the_chain():
    # Masking « 29, 0-9 » (16 = y): C 0-9 = 4 + y, so « all, 50-249 » = 170 − 59 − (4 + y)
    # = 107 − y. y ≥ 1, and y = 116 − (29, 10-49) − (29, 50-249) ≤ 116 − 10 − 1 = 105 since
    # (29, 10-49) = u ≥ 10 (G 50-249 = u − 9 ≥ 1) and (29, 50-249) ≥ 1: the reader knows
    # « all, 50-249 » ∈ [2, 106], which holds [91 − 13.65, 91 + 13.65].
    cells = _table(COMPLEMENTARY | {("29", "0-9")})
    audit = audit_secrecy(cells)
    hidden = _by_key(audit, cells)
    assert not any(row["determined"] for row in hidden.values())
    assert (hidden[("", "50-249")]["lower"], hidden[("", "50-249")]["upper"]) == pytest.approx((2, 106))
    assert hidden[("", "50-249")]["status"] == "protected"
    # 28 is still bounded by 24 + 28 = 4, which the new mask does not touch.
    assert hidden[("28", "all")]["status"] == "under_protected"
    assert audit.under_protected == 2 and audit.determined_primary == 0


def test_the_protection_fixes_the_example():
    cells = _table()
    protected, history, _ = complementary_suppression(cells)
    audit = audit_secrecy(protected)
    assert audit.passed, audit.failing()
    assert history[-1]["passed"]
    # Primary cells keep their reason; the masks added are complementary.
    keys = list(zip(protected["sector_code"], protected["size_band"], strict=True))
    reasons = dict(zip(keys, protected["secret_reason"], strict=True))
    assert all(reasons[key] == "companies" for key in PRIMARY)
    added = protected["secret"].to_numpy() & ~cells["secret"].to_numpy()
    assert added.any() and (protected["secret_reason"].to_numpy()[added] == "secondary").all()


def test_a_component_too_large_for_one_program_is_proven_by_programs_over_neighbourhoods():
    # Components of two unknowns or more are beyond one program here: neighbourhoods of a
    # single unknown, grown fourfold, prove the same table protected.
    cells = _table()
    options = {"max_component": 1, "exact_component": 0, "local_size": 1}
    protected, history, witnesses = complementary_suppression(cells, **options)
    assert history[-1]["passed"] and all(round_["unverifiable"] == 0 for round_ in history)
    assert history[-1]["thorough"] and history[-1]["local_programs"] > 0
    audit = audit_secrecy(protected, **options)
    assert audit.passed and audit.stats["largest_component"] > 1
    # The tables those programs found are solutions of the reader's whole system: checked
    # against every equation, they alone prove every primary cell, no program run.
    alone = audit_secrecy(protected, witnesses=audit.witnesses, lp_seconds=0, max_component=1, exact_component=0)
    assert alone.passed and alone.stats["linear_programs"] == 0


def test_a_large_component_gets_neighbourhoods_between_its_first_program_and_its_batches(monkeypatch):
    # Every component is "large" here: one program over the whole of it pushes every open
    # side (a root is pushed one way at a time, so some are left), neighbourhoods of a
    # quarter of it take those, and programs over the whole component what they leave.
    protected, _, _ = complementary_suppression(_table())
    sizes = []
    solve = audit_module._Program.solve

    def watched(program, deadline=None):
        sizes.append(len(program.variables))
        return solve(program, deadline)

    monkeypatch.setattr(audit_module._Program, "solve", watched)
    audit = audit_secrecy(protected, local_component=0, exact_component=0)
    assert audit.passed and audit.stats["components"] == 1
    whole, local = audit.stats["largest_component"], audit.stats["local_programs"]
    assert whole > 4 and local > 0 and len(sizes) == audit.stats["linear_programs"]
    assert sizes[0] == whole
    assert all(size == whole // 4 for size in sizes[1 : 1 + local])
    assert all(size == whole for size in sizes[1 + local :])
    # Its tables alone prove the grid; under the default threshold the same component gets
    # programs over the whole of it only.
    assert audit_secrecy(protected, witnesses=audit.witnesses, lp_seconds=0, exact_component=0).passed
    sizes.clear()
    assert audit_secrecy(protected, exact_component=0).passed
    assert set(sizes) == {whole}


def test_the_protection_goes_on_while_each_round_proves_more(monkeypatch):
    # A clock that moves a second at each reading: a thorough round has time for one or two
    # neighbourhood programs, so the large component is proven over several rounds, each
    # starting from the tables the rounds before found.
    ticks = itertools.count()
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(ticks)))
    cells = _table()
    options = {"max_component": 1, "exact_component": 0, "local_size": 1, "lp_seconds": 4}
    protected, history, witnesses = complementary_suppression(cells, **options)
    unverifiable = [round_["unverifiable"] for round_ in history if round_["thorough"]]
    assert unverifiable[0] > 0 and unverifiable[-1] == 0 and history[-1]["passed"]
    assert all(later <= earlier for earlier, later in itertools.pairwise(unverifiable))
    # The tables of all those rounds prove the grid in the run's audit, no program needed.
    alone = audit_secrecy(protected, witnesses=witnesses, max_component=1, exact_component=0, lp_seconds=0)
    assert alone.passed


def test_cells_the_audit_cannot_prove_in_its_time_get_masks_around_them(monkeypatch):
    # No time for programs: the thorough rounds find nothing weak but prove no primary cell
    # beyond what propagation settles. Those left unproven get complementary masks, for a
    # limited number of rounds, when they are few enough among the primary cells; otherwise
    # the loop stops there.
    cells = _table()
    options = {"exact_component": 0, "lp_seconds": 0}
    monkeypatch.setattr(suppression_module, "SUSPECT_SHARE", 1.0)
    monkeypatch.setattr(suppression_module, "SUSPECT_ROUNDS", 1)
    protected, history, _ = complementary_suppression(cells, **options)
    assert [round_.get("suspects") for round_ in history[-2:]] == [5, None]
    assert history[-2]["thorough"] and history[-2]["skipped"] == 5
    assert history[-2]["determined"] == history[-2]["under_protected"] == 0
    # Its masks are what the last round read: two more secret cells, still all unproven.
    assert (history[-2]["secret"], history[-1]["secret"]) == (20, 22)
    assert history[-1]["skipped"] == 5 and protected["secret"].sum() == 22

    monkeypatch.setattr(suppression_module, "SUSPECT_SHARE", 0.0)
    plain, plain_history, _ = complementary_suppression(cells, **options)
    assert not any("suspects" in round_ for round_ in plain_history)
    # The same rounds up to there, then only more masks, all complementary: every published
    # cell of the unproven cells' equations. Those of 24 and 28 are all secret already;
    # « all, 50-249 » is in « all = 0-9 + 10-49 + 50-249 », whose 170 and 59 were published.
    before, after = plain["secret"].to_numpy(), protected["secret"].to_numpy()
    added = protected[after & ~before]
    assert sorted(zip(added["sector_code"], added["size_band"], added["employees"], strict=True)) == [
        ("", "10-49", 59),
        ("", "all", 170),
    ]
    assert not (before & ~after).any()
    assert (protected["secret_reason"].to_numpy()[after & ~before] == "secondary").all()
    assert audit_secrecy(protected).passed and audit_secrecy(plain).passed


def test_the_ring_of_a_cell_is_every_published_cell_of_its_equations():
    # Cells 0–5; equations {0, 1, 2}, {2, 3} and {4, 5}; only cell 1 is published. Cell 2's
    # equations hold cell 1; cell 4's hold none: it is surrounded.
    matrix = sp.csr_matrix((np.ones(7), ([0, 0, 0, 1, 1, 2, 2], [0, 1, 2, 2, 3, 4, 5])), shape=(3, 6))
    secret = np.array([True, False, True, True, True, True])
    around, surrounded = suppression_module._ring(matrix, matrix.tocsc(), np.array([2, 4]), secret)
    assert around.tolist() == [1] and surrounded.tolist() == [4]
    secret[3] = False  # now cell 2's second equation holds one more
    around, surrounded = suppression_module._ring(matrix, matrix.tocsc(), np.array([2, 4]), secret)
    assert around.tolist() == [1, 3] and surrounded.tolist() == [4]


def test_programs_over_neighbourhoods_stop_at_the_audit_deadline(monkeypatch):
    # Every program of a component too large for one program is given the audit's deadline,
    # so that one over a grown neighbourhood is cut there rather than overrunning it.
    cells, _, _ = complementary_suppression(_table())
    deadlines = []
    solve = audit_module._Program.solve

    def watched(program, deadline=None):
        deadlines.append(deadline)
        return solve(program, deadline)

    monkeypatch.setattr(audit_module._Program, "solve", watched)
    started = time.perf_counter()
    audit = audit_secrecy(cells, max_component=1, exact_component=0, local_size=1, lp_seconds=600)
    assert audit.passed and audit.stats["local_programs"] > 1
    assert len(deadlines) == audit.stats["linear_programs"]
    assert None not in deadlines and len(set(deadlines)) == 1
    assert started + 600 <= deadlines[0] <= time.perf_counter() + 600


def test_the_exact_programs_of_small_components_stop_at_the_audit_deadline():
    # The protected example is one small component: its primary cells get their exact
    # bounds from six programs within the budget; with none left, no program runs and the
    # cells stay skipped, so the audit fails rather than outlast its time.
    protected, _, _ = complementary_suppression(_table())
    timely = audit_secrecy(protected, exact_component=10**6)
    assert timely.passed and timely.stats["linear_programs"] == 6 and timely.stats["components"] == 1
    late = audit_secrecy(protected, exact_component=10**6, lp_seconds=0)
    assert late.stats["linear_programs"] == 0
    assert not late.passed and late.skipped == len(PRIMARY) and late.stats["unverifiable"] == 0


def test_the_projection_solves_its_draws_on_two_threads_at_once(monkeypatch):
    # The example's chained equations determine cells: one thread or two, the projection
    # finds the same cells with the same values. With two threads both draws are solved at
    # once: each solve waits at a barrier for the other, which one thread would never reach.
    cells = _table()
    barrier = threading.Barrier(2, timeout=10)
    shapes = []
    solve = audit_module._conjugate_gradients

    def watched(scaled, transposed, target):
        shapes.append(target.shape)
        if barrier is not None:
            barrier.wait()
        return solve(scaled, transposed, target)

    monkeypatch.setattr(audit_module, "_conjugate_gradients", watched)
    monkeypatch.setattr(audit_module, "_PROJECTIONS", LastResult())
    two = audit_secrecy(cells, projection_threads=2)
    assert len(shapes) == audit_module._NULL_VECTORS == 2
    assert all(len(shape) == 1 for shape in shapes)  # one vector each, not a block
    barrier = None
    audit_module._PROJECTIONS.clear()  # the same cells: else the projection is not run again
    one = audit_secrecy(cells, projection_threads=1)
    assert one.determined == two.determined == 3
    assert (one.hidden["determined"] == two.hidden["determined"]).all()
    assert np.allclose(one.hidden["value"], two.hidden["value"], equal_nan=True)


def test_the_projection_runs_once_for_the_same_published_cells(monkeypatch):
    # The same published cells make the same equations, which determine the same cells
    # whatever the draws: audited again (another seed, as the protection's next round or the
    # run's audit), they are not projected again; one more cell masked, they are.
    projections = []
    project = audit_module._projection

    def watched(matrix, seed, threads):
        projections.append(seed)
        return project(matrix, seed, threads)

    monkeypatch.setattr(audit_module, "_projection", watched)
    monkeypatch.setattr(audit_module, "_PROJECTIONS", LastResult())
    cells = _table()
    first = audit_secrecy(cells, seed=0)
    again = audit_secrecy(cells, seed=1)
    assert projections == [0]
    assert first.determined == again.determined == 3
    assert (first.hidden["determined"] == again.hidden["determined"]).all()
    assert np.array_equal(first.hidden["value"], again.hidden["value"], equal_nan=True)
    masked = audit_secrecy(_table(COMPLEMENTARY | {("", "10-49"), ("47", "all"), ("G", "all")}), seed=2)
    assert projections == [0, 2] and masked.determined != first.determined


def test_a_program_stops_at_its_deadline():
    # A transport problem of 640,000 variables that HiGHS's interior point method solves in
    # seconds, its presolve alone taking longer than the time left: given a deadline
    # already past, it stops at once (status 1, time limit) with no solution.
    rng = np.random.default_rng(7)
    sources = sinks = 800
    supply = rng.integers(1, 100, sources).astype(float)
    demand = np.full(sinks, supply.sum() / sinks)
    rows = np.concatenate([np.repeat(np.arange(sources), sinks), sources + np.tile(np.arange(sinks), sources)])
    columns = np.concatenate([np.arange(sources * sinks)] * 2)
    equations = sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(sources + sinks, sources * sinks))
    bounds = np.column_stack([np.zeros(sources * sinks), np.full(sources * sinks, np.inf)])
    cost = rng.uniform(1, 2, sources * sinks)
    program = audit_module._Program(
        np.arange(sources * sinks), cost, equations, np.concatenate([supply, demand]), bounds
    )
    stopped = program.solve(deadline=time.perf_counter() - 1)
    assert stopped.status == 1 and "Time limit" in stopped.message and stopped.x is None


def test_a_protection_that_no_program_can_prove_stops_at_the_round_that_finds_it():
    # No time for any program: the first thorough round leaves the primary cells of the
    # large component unproven and runs no program, so no later round would do better: the
    # protection stops there rather than masking on.
    cells = _table()
    options = {"max_component": 1, "exact_component": 0, "lp_seconds": 0}
    protected, history, _ = complementary_suppression(cells, **options)
    rounds = [(round_["thorough"], round_["unverifiable"] > 0) for round_ in history]
    assert rounds[-1] == (True, True) and set(rounds[:-1]) == {(False, False)}
    assert history[0]["determined"] == 3
    audit = audit_secrecy(protected, **options)
    assert not audit.passed and audit.stats["unverifiable"] == history[-1]["unverifiable"]
    assert audit.stats["largest_component"] > 1
    explanation = audit.explanation()
    assert f"{audit.stats['unverifiable']} de ces cellules appartiennent à un système de" in explanation
    assert "au-delà des 1 qu'un seul programme linéaire traite" in explanation
    # With the default limits the same table is protected and passes: nothing is unverifiable.
    protected, history, _ = complementary_suppression(cells)
    assert history[-1]["passed"] and all(round_["unverifiable"] == 0 for round_ in history)


def test_the_protection_interval():
    up, down = protection_interval(np.array([1.0, 3.0, 10.0, 100.0]), 0.15, 2, known_floor=np.array([1, 1, 4, 1]))
    assert up.tolist() == pytest.approx([2, 2, 2, 15])
    # Never below what the list of cells gives away: 1 employee, or 4 for the third cell.
    assert down.tolist() == pytest.approx([0, 2, 2, 15])


def test_the_list_of_cells_alone_gives_a_floor():
    # 29 has three bands, each ≥ 1: 29 ≥ 3, hence C ≥ 1 + 1 + 3 = 5 and « all » ≥ 5 + 2.
    cells = _table()
    floor = dict(zip(zip(cells["sector_code"], cells["size_band"], strict=True), structural_floor(cells), strict=True))
    assert floor[("29", "all")] == 3
    assert floor[("C", "all")] == 5
    assert floor[("47", "all")] == 2
    assert floor[("", "all")] == 7
    assert floor[("24", "0-9")] == 1


def test_the_reduction_is_exact():
    # x + y = 5, y − z = 1, z + w = 4, x + w = 4: each equation holds two unknowns, so they
    # chain x, y, z, w into one class, and the last one closes a cycle that does not cancel.
    matrix = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, -1, 0], [0, 0, 1, 1], [1, 0, 0, 1]], dtype=float))
    truth = np.array([2.0, 3.0, 2.0, 2.0])
    reduction = reduce_system(matrix, matrix @ truth)
    # x = 5 − y, y = 1 + z, w = 4 − z, so x + w = 8 − 2z = 4: z = 2, and every unknown is fixed.
    assert reduction.fixed.all()
    assert reduction.gamma == pytest.approx(truth)


def test_an_empty_frame_passes():
    cells = _table(set())
    cells["secret"] = False
    cells["secret_reason"] = ""
    assert audit_secrecy(cells).passed


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(positions_frames(), st.integers(1, 4), st.sampled_from([0.5, 0.85, 1.0]))
def test_after_protection_the_audit_finds_nothing(positions, min_companies, dominance):
    cube = build_cube(positions, SCORES)
    cells = apply_secrecy(cube, min_companies=min_companies, dominance=dominance)
    audit = audit_secrecy(cells)
    assert audit.passed, audit.failing()
    assert audit.determined_primary == 0 and audit.under_protected == 0 and audit.skipped == 0

    # Every primary secret is still secret, with its own reason; the rest are complementary.
    primary = primary_secrecy(cube, min_companies=min_companies, dominance=dominance)
    kept = primary["secret"].to_numpy()
    assert cells["secret"].to_numpy()[kept].all()
    assert (cells["secret_reason"].to_numpy()[kept] == primary["secret_reason"].to_numpy()[kept]).all()
    added = cells["secret"].to_numpy() & ~kept
    assert (cells["secret_reason"].to_numpy()[added] == "secondary").all()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(positions_frames())
def test_programs_over_neighbourhoods_prove_what_programs_over_whole_components_prove(positions):
    cells = apply_secrecy(build_cube(positions, SCORES))
    whole = audit_secrecy(cells)
    assert whole.passed
    # Every component too large for one program, neighbourhoods of three core variables.
    local = audit_secrecy(cells, max_component=0, exact_component=0, local_size=3)
    assert local.passed, local.failing()
    assert local.stats.get("local_programs", 0) == local.stats.get("linear_programs", 0)
    # Every component large: a program over all of it first, then neighbourhoods.
    mixed = audit_secrecy(cells, local_component=0, exact_component=0)
    assert mixed.passed, mixed.failing()
    # Its witnesses solve the reader's whole system (checked against every equation, and
    # each cell kept at one employee or more), and prove every primary cell by themselves.
    alone = audit_secrecy(cells, witnesses=local.witnesses, lp_seconds=0, max_component=0, exact_component=0)
    assert alone.passed and alone.stats.get("linear_programs", 0) == 0


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(positions_frames())
def test_the_one_secret_rule_alone_never_does_better_than_the_audit_driven_protection(positions):
    # The audit-driven protection starts from the one-secret rule and only adds masks.
    cube = primary_secrecy(build_cube(positions, SCORES))
    one_secret = secondary_suppression(cube)["secret"].to_numpy()
    protected = apply_secrecy(build_cube(positions, SCORES))["secret"].to_numpy()
    assert (protected >= one_secret).all()
