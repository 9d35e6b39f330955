"""The secrecy audit: attack the published cells as a reader who solves every total at once.

The reader (`system`): every published figure, zero for every cell absent from the
publication, and `parent = Σ children` along the nine relations of the cube (territory,
twice under the région; sector; occupation; size band) for every combination of the other
coordinates; and what the COG says of the two territory hierarchies, when `inside` is
given (`relations.inclusion_equations`: a département is the sum of the EPCI inside it and
of its shares, unknown and at least zero, of those that straddle it). A listed secret cell
has at least one company, hence at least one employee.
The audit works on employees, the one figure additive along every dimension (companies and
establishments are distinct counts: a company present in two départements counts once in
their région).

For every secret cell the audit finds

1. whether it is **determined** — equal in every solution of the published equations — and
   its value then. Exact reduction first (`system.reduce_system`: one- and two-unknown
   equations, substituted until none is left), then, on the core that remains, the
   projection of a few random vectors onto the null space of the core's equations
   (conjugate gradients on the normal equations, one draw per thread, and once per core:
   the protection's later rounds and the run's audit often attack the same equations): a
   core variable is determined when its component is zero in all of them, and its value
   is then the true one, which every solution gives it;
2. for every **primary** secret cell, whether the reader can bound it within its
   **protection interval** `[v − p, v + p]`, `p = max(protection × v, floor)` (by default
   ±15 % and at least 2 employees). The lower end never goes below what the list of cells
   alone gives away (`structural_floor`: a listed cell has an employee, a parent at least
   its children's floors): no publication can be blamed for it, and no mask can hide it.
   The reader's best bounds are `min` and `max` of the cell subject to the equations and
   every secret cell ≥ 1: linear programs (HiGHS), settled per core component:
   - *proof of weakness*: bound propagation along the equations gives bounds any reader
     reaches; when they are narrower than the protection interval, the cell is
     under-protected, no linear program needed;
   - *proof of protection*: any solution of the equations is a table the reader cannot
     tell from the true one. Witness tables found earlier (by the protection) are checked
     against the equations first; then linear programs push the open bounds towards their
     targets, all at once while that settles many, then in smaller and smaller random
     batches, down to one bound at a time, whose program gives the reader's exact bound when
     it falls short. They stop after `lp_seconds`, a program running then cut short; what
     is left is *skipped*.
   Small components (`exact_component` core variables or fewer) get the exact `min` and
   `max` of every primary cell, reported as its bounds, within the same `lp_seconds` (they
   come first, smallest first). Components larger than `max_component` (a région at a
   million positions: the core is one component of several hundred thousand variables)
   get programs over neighbourhoods of their open sides instead
   (`_Core.certify_locally`), every other variable held at its true value, so that each
   solution, with the rest of the table true, is a solution of the whole system. Such a
   program proves protection, never weakness: what they leave open is skipped, and counted
   as "unverifiable". Components between `local_component` and `max_component` (the
   EPCI's totals-only plan at a million positions: some 90,000 variables, minutes per
   program) get both: one program over the whole component pushes every open side, then
   neighbourhoods take the sides it left open, then batches over the whole component what
   those left, which they can prove weak. Programs run one at a time: two HiGHS side by
   side on two cores ran fewer programs between them than one alone (bench README); the
   projection of step 1 solves its two draws on two threads instead.

A primary cell is then "determined", "under_protected", "skipped" or "protected"; the audit
passes when every primary cell is protected (a skipped cell fails it: what is not proven is
not published). Nothing here knows which cells were meant to protect which: the attack sees
the published frame (`mask_values`) only; the true values enter only to judge the result
and to steer the search for witness tables.

On the demonstration (54,403 cells, 53,198 of them secret once protected against a reader
of the COG) the reduction leaves a core of about 11,800 variables in one component; the
audit takes about 40 seconds from scratch, 1.7 seconds with the protection's witnesses.
"""

import functools
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from ..memo import LastResult
from .relations import equations
from .rules import is_primary, mask_values
from .system import core_components, reduce_system

PROTECTION = 0.15  # ± share of a primary cell's value the reader must not get within
PROTECTION_FLOOR = 2  # employees: the protection is never narrower than this
CELL_FLOOR = 1  # a listed secret cell has at least one company, so at least one employee
MAX_COMPONENT = 200_000  # core variables: larger components get programs over neighbourhoods
LOCAL_COMPONENT = 40_000  # core variables: larger components get neighbourhood programs too
LOCAL_SIZE = 5_000  # core variables of a first neighbourhood program in such a component
LOCAL_LIMIT = 80_000  # … grown fourfold for a side it leaves open, up to this many
EXACT_COMPONENT = 300  # core variables: smaller components get exact bounds for every cell
LP_SECONDS = 600.0  # budget of the per-cell linear programs: well within the task's hour, so a
# loaded machine slows a run down rather than failing its audit

STATUSES = ("protected", "determined", "under_protected", "skipped")
# What the modelled reader knows, stored with each audit: 1, the cube's trees; 2, and the COG
# (`inside`: which EPCI lie in which département). A grid audited under an earlier model is
# not proven against today's attack.
AUDIT_MODEL = 2

_NULL_VECTORS = 2  # random draws projected, one per thread of the projection
_CG_TOLERANCE = 1e-12
_DETERMINED = 1e-6  # a null-space component below this (of N(0, 1) draws) is zero
_BATCH_SHARE = 0.25  # all open sides are pushed together while a program settles this share
_FIRST_BATCH = 16  # then random batches of this many sides, halved when they mostly fail
_IPM_SIZE = 2000  # variables above which HiGHS's interior point beats its simplex here
_SLACK = 1e-6  # relative tolerance when comparing bounds with the protection interval
# HiGHS ignores a time limit that falls within its presolve: its interior point method then
# solves to the end (seen here: limits of 0.05 to 1 s on 640,000 variables, solved in 4 s).
# A program with less than this left before its deadline is solved without presolve.
_PRESOLVE_SECONDS = 10.0
_LEAST_SECONDS = 0.01  # time limit of a program started at or past its deadline
PROJECTION_THREADS = 2  # threads of the projection, each projecting its own draws


class SecrecyAuditFailed(Exception):
    """A run's cells failed the audit: the message says why, in French, for the runs page."""


@dataclass
class SecrecyAudit:
    """What the reader can learn about each secret cell, and the verdict.

    `hidden`: one row per secret cell of the audited frame, with
      row            its position in the frame,
      primary        bool, a primary secret (its own rule) rather than a complementary one,
      employees      its true value,
      determined     bool, the published figures give it exactly,
      value          the value they give (NaN when not determined),
      lower, upper   the reader's exact bounds (LP) where the audit computed them, else NaN
                     (upper may be inf: nothing bounds the cell from above),
      required_lower, required_upper   the protection interval (primary cells),
      status         "protected", "determined", "under_protected", "skipped" for primary
                     cells, "" for the others,
      group          cells that the equations tie together (one moves, all move) share it.
    `witnesses`: the tables that proved cells protected, each (rows of the secret cells it
    changes, their values): solutions of the published equations with every secret cell at
    one employee or more. Masking more cells keeps them solutions, so the protection passes
    them from round to round, and to the run's audit, which checks them again.
    """

    hidden: pd.DataFrame
    seconds: float = 0.0
    stats: dict = field(default_factory=dict)
    witnesses: list = field(default_factory=list)

    @property
    def determined(self) -> int:
        return int(self.hidden["determined"].sum())

    @property
    def determined_primary(self) -> int:
        return int((self.hidden["status"] == "determined").sum())

    @property
    def under_protected(self) -> int:
        """Primary cells the reader can bound within their protection interval (determined
        ones included: their interval has no width)."""
        return int(self.hidden["status"].isin(["determined", "under_protected"]).sum())

    @property
    def skipped(self) -> int:
        return int((self.hidden["status"] == "skipped").sum())

    @property
    def passed(self) -> bool:
        return self.under_protected == 0 and self.skipped == 0

    def failing(self) -> pd.DataFrame:
        """The primary cells that are not protected."""
        return self.hidden[self.hidden["primary"] & (self.hidden["status"] != "protected")]

    def summary(self) -> dict:
        """The verdict as JSON-ready numbers (what a run stores)."""
        return {
            "passed": self.passed,
            "model": self.stats.get("model", 1),
            "hidden": len(self.hidden) - self.stats.get("parts", 0),
            "primary": int(self.hidden["primary"].sum()),
            "determined": self.determined,
            "determined_primary": self.determined_primary,
            "under_protected": self.under_protected,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            **self.stats,
        }

    def explanation(self) -> str:
        """Why the audit failed, in French, for the runs page ("" when it passed)."""
        if self.passed:
            return ""
        parts = []
        if self.determined_primary:
            parts.append(f"{self.determined_primary} cellule(s) secrète(s) calculable(s) exactement")
        weak = self.under_protected - self.determined_primary
        if weak:
            parts.append(f"{weak} cellule(s) secrète(s) encadrée(s) plus étroitement que l'intervalle de protection")
        if self.skipped:
            parts.append(f"{self.skipped} cellule(s) secrète(s) non vérifiée(s) (système trop grand)")
        text = (
            "Audit du secret statistique non satisfait : "
            + ", ".join(parts)
            + " à partir des totaux publiés. Le calcul n'est pas publié."
        )
        if self.stats.get("unverifiable"):
            text += (
                f" {self.stats['unverifiable']} de ces cellules appartiennent à un système de"
                f" {self.stats['largest_component']} inconnues liées, au-delà des {self.stats['max_component']}"
                " qu'un seul programme linéaire traite, et les programmes sur leur voisinage ne les ont pas"
                " prouvées protégées dans le temps imparti : la grille est trop détaillée pour ce volume de données."
            )
        return text


def protection_interval(
    values: np.ndarray,
    protection: float = PROTECTION,
    floor: float = PROTECTION_FLOOR,
    known_floor: np.ndarray | float = CELL_FLOOR,
) -> tuple[np.ndarray, np.ndarray]:
    """How far up and down from its value a primary cell must stay uncertain (employees).

    Up: `p = max(protection × v, floor)`. Down: the same, but never below `known_floor`,
    what anyone knows without a published figure (`structural_floor`).
    """
    values = np.asarray(values, dtype=np.float64)
    up = np.maximum(protection * values, floor)
    down = np.clip(np.minimum(up, values - known_floor), 0.0, None)
    return up, down


def structural_floor(cells: pd.DataFrame, inside: dict | None = None, max_rounds: int = 1000) -> np.ndarray:
    """The least value of each cell that the list of cells alone gives away (employees).

    The list of cells is published, figures or not: a listed cell has at least one employee,
    and a parent at least the sum of its children's least values, along every relation. With
    every figure hidden, the reader's system is `M x = 0, x ≥ CELL_FLOOR`; its bounds, by the
    exact reduction and bound propagation (`_Core.propagate`), are a floor under which no
    publication can be blamed for what the reader knows: the protection interval never goes
    below it. Needs the cube's coordinate columns only (and `inside`, as `audit_secrecy`);
    returns one floor per cell (the shares of straddling EPCI are at least zero).
    """
    n = len(cells)
    if not n:
        return np.zeros(0)
    matrix = equations(cells, inside)
    n_all = matrix.shape[1]
    used = np.diff(matrix.indptr) > 0
    reduction = reduce_system(matrix[used], np.zeros(int(used.sum())))
    lowest = np.concatenate([np.full(n, float(CELL_FLOOR)), np.zeros(n_all - n)])
    # Any positive values do for the root values here: only the propagated bounds are read.
    core = _Core(reduction, np.full(n_all, float(CELL_FLOOR)), np.zeros(n_all), np.zeros(n_all), lowest)
    core.propagate(max_rounds)
    return np.maximum(core.member_bounds()["outer_lower"][:n], CELL_FLOOR)


def audit_secrecy(
    cells: pd.DataFrame,
    *,
    protection: float = PROTECTION,
    protection_floor: float = PROTECTION_FLOOR,
    max_component: int = MAX_COMPONENT,
    local_component: int = LOCAL_COMPONENT,
    exact_component: int = EXACT_COMPONENT,
    local_size: int = LOCAL_SIZE,
    local_limit: int = LOCAL_LIMIT,
    lp_seconds: float = LP_SECONDS,
    projection_threads: int = PROJECTION_THREADS,
    witnesses: list | None = None,
    floor: np.ndarray | None = None,
    thorough: bool = True,
    seed: int = 0,
    inside: dict | None = None,
    shares: np.ndarray | None = None,
) -> SecrecyAudit:
    """Attack the published version of `cells` and judge each primary secret cell.

    `cells`: the cube's coordinate columns, employees (true values), secret and
    secret_reason (as `apply_secrecy` leaves them). The attack reads `mask_values(cells)`.
    `inside` (optional): EPCI code → its départements (`relations.inclusion_equations`),
    what a reader of the COG knows of the two territory hierarchies; the shares of the
    straddling EPCI are then unknowns too (at least zero, never primary, listed in
    `hidden` after the cells, `stats["parts"]` of them).
    `witnesses` (optional): tables found earlier (`SecrecyAudit.witnesses`, e.g. by the
    protection), each checked here against the published equations before it proves
    anything; the linear programs then only look for what they do not show.
    `floor` (optional): `structural_floor(cells)`, when the caller already has it; `shares`
    (optional) likewise the values of the straddling EPCI's shares (`part_values`): neither
    depends on which cells are secret, so the protection's rounds compute them once.
    `projection_threads`: threads of the projection.
    `thorough=False` (the protection loop's quick rounds) leaves out the projection, so that
    only the reduction finds determined cells, and the linear programs of the components
    larger than `exact_component`, whose primary cells that propagation does not settle are
    then "skipped".
    """
    clock = time.perf_counter()
    model = AUDIT_MODEL if inside is not None else 1
    published = mask_values(cells)
    n = len(cells)
    if not published["secret"].any():
        empty = np.zeros(0, dtype=np.int64)
        hidden = _hidden_frame(empty, np.zeros(0, dtype=bool), np.zeros(0))
        return SecrecyAudit(hidden, time.perf_counter() - clock, {"model": model})

    # The reader's system, from the published frame only (and the COG).
    matrix = equations(published, inside)
    n_parts = matrix.shape[1] - n
    cell_truth = cells["employees"].to_numpy(dtype=np.float64)
    if shares is None:
        shares = part_values(matrix, cell_truth)
    all_truth = np.concatenate([cell_truth, shares])
    secret = np.concatenate([published["secret"].to_numpy(dtype=bool), np.ones(n_parts, dtype=bool)])
    lowest = np.concatenate([np.full(n, float(CELL_FLOOR)), np.zeros(n_parts)])
    unknown = np.flatnonzero(secret)
    truth = all_truth[unknown]
    primary = np.concatenate([is_primary(cells), np.zeros(n_parts, dtype=bool)])[unknown]
    known = np.concatenate([np.nan_to_num(published["employees"].to_numpy(dtype=np.float64)), np.zeros(n_parts)])
    rhs = -(matrix @ np.where(secret, 0.0, known))
    system = matrix[:, unknown].tocsr()
    used = np.diff(system.indptr) > 0
    reduction = reduce_system(system[used], rhs[used])

    if floor is None:
        floor = structural_floor(cells, inside)
    floor = np.concatenate([floor, np.zeros(n_parts)])
    up, down = protection_interval(truth, protection, protection_floor, floor[unknown])
    up, down = np.where(primary, up, 0.0), np.where(primary, down, 0.0)
    core = _Core(reduction, truth, up, down, lowest[unknown])
    if thorough:
        determined_core = _determined(core, seed, projection_threads)
    else:
        determined_core = np.zeros(len(core.value), dtype=bool)
    core.propagate()
    core.mark_determined(determined_core)
    # Each candidate witness: (the table as given or None, the core variables it moves, their
    # values); the others keep their true values.
    candidates = []
    for witness in witnesses or ():
        if _verified(witness, matrix, secret, all_truth, lowest):
            root_values = core.root_values(witness_values(witness, all_truth)[unknown])
            moved = np.flatnonzero(root_values != core.value)
            core.reached(moved, root_values[moved])
            candidates.append((witness, moved, root_values[moved]))

    n_components, component = core_components(core.matrix)
    sizes = np.bincount(component, minlength=n_components)
    rng = np.random.default_rng(seed)
    budget = time.perf_counter() + lp_seconds
    by_component = np.argsort(component, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    for label in np.argsort(sizes, kind="stable"):  # small components first
        members = by_component[starts[label] : starts[label + 1]]
        if sizes[label] <= exact_component:
            core.solve_each(members, budget)
        elif thorough and core.open_sides(members).any():
            if sizes[label] > max_component:
                core.certify_locally(members, rng, budget, local_size, local_limit)
            elif sizes[label] > local_component:
                # Neighbourhoods of a quarter of it: at a million positions, those of 5,000
                # unknowns closed 30 of the 1,694 sides its first program left open in 1,168
                # programs, those of 20,000 closed 601 in 395 (bench README).
                quarter = max(1, min(local_limit, sizes[label] // 4))
                core.certify(members, rng, budget, local=(quarter, quarter))
            else:
                core.certify(members, rng, budget)
    candidates.extend((None, roots, solution) for roots, solution in core.solutions)
    members = _Members(reduction)
    kept = _merged(
        [
            witness if witness is not None else members.witness(roots, values, unknown, truth)
            for witness, roots, values in _extremes(core, candidates)
        ],
        len(secret),
    )

    determined = reduction.fixed.copy()
    values = np.where(reduction.fixed, reduction.gamma, np.nan)
    live = np.flatnonzero(~reduction.fixed)
    on_core = live[determined_core[reduction.root[live]]]
    determined[on_core] = True
    values[on_core] = truth[on_core]  # what every solution gives it, the true table's included
    bounds = core.member_bounds()
    full_up, full_down = protection_interval(truth, protection, protection_floor, floor[unknown])
    required_lower, required_upper = truth - full_down, truth + full_up
    slack = _SLACK * np.maximum(truth, 1.0)
    reaches_upper = bounds["inner_upper"] >= required_upper - slack
    reaches_lower = bounds["inner_lower"] <= required_lower + slack
    weak = ((bounds["outer_upper"] < required_upper - slack) & ~reaches_upper) | (
        (bounds["outer_lower"] > required_lower + slack) & ~reaches_lower
    )
    status = np.select(
        [determined, weak, reaches_upper & reaches_lower], ["determined", "under_protected", "protected"], "skipped"
    )
    hidden = _hidden_frame(unknown, primary, truth)
    hidden["determined"] = determined
    hidden["value"] = values
    hidden["lower"] = np.where(determined, values, bounds["lower"])
    hidden["upper"] = np.where(determined, values, bounds["upper"])
    hidden["required_lower"] = np.where(primary, required_lower, np.nan)
    hidden["required_upper"] = np.where(primary, required_upper, np.nan)
    hidden["status"] = np.where(primary, status, "")
    hidden["group"] = reduction.group
    # Primary cells that the neighbourhood programs of a component too large for one program
    # left unproven (thorough audits only: the quick ones run no program at all).
    oversized = np.zeros(len(unknown), dtype=bool)
    oversized[live] = sizes[component[reduction.root[live]]] > max_component
    unverifiable = int((primary & (status == "skipped") & oversized).sum()) if thorough else 0
    stats = {
        "core_unknowns": int(core.matrix.shape[1]),
        "core_equations": int(core.matrix.shape[0]),
        "components": int(n_components),
        "largest_component": int(sizes.max()) if n_components else 0,
        "linear_programs": core.linear_programs,
        "local_programs": core.local_programs,
        "witnesses": len(kept),
        "unverifiable": unverifiable,
        "max_component": int(max_component),
        "parts": int(n_parts),
        "model": model,
    }
    return SecrecyAudit(hidden, time.perf_counter() - clock, stats, kept)


def witness_values(witness: tuple[np.ndarray, np.ndarray], truth: np.ndarray) -> np.ndarray:
    """A witness table as employees per cell: its listed cells, the true value elsewhere."""
    rows, values = witness
    table = truth.copy()
    table[rows] = values
    return table


def part_values(matrix: sp.csr_matrix, truth: np.ndarray) -> np.ndarray:
    """Values of the shares of the straddling EPCI (the columns of `matrix` after the
    cells': `relations.inclusion_equations`) that, with the cells' true values `truth`,
    satisfy every equation: a table the reader cannot exclude, from which the audit starts.
    The cells do not give the true shares, and no share is judged, so any such values do.
    A feasibility program of HiGHS (each group's shares are a small transport problem)."""
    n = len(truth)
    if matrix.shape[1] == n:
        return np.zeros(0)
    parts = matrix[:, n:].tocsc()
    rows = np.unique(parts.indices)
    ties = matrix[rows]
    result = linprog(
        np.zeros(parts.shape[1]),
        A_eq=ties[:, n:],
        b_eq=-(ties[:, :n] @ truth),
        bounds=(0, None),
        method="highs",
    )
    if result.status != 0:
        raise ValueError("the départements and their EPCI do not add up: the cells are not a cube")
    return np.clip(result.x, 0.0, None)


def _verified(witness, matrix: sp.csr_matrix, secret: np.ndarray, truth: np.ndarray, lowest: np.ndarray) -> bool:
    """Whether a witness is a table the reader cannot exclude: it changes unknowns only,
    keeps each at its least value (`lowest`: CELL_FLOOR for a cell, 0 for a share) or more,
    and satisfies every equation."""
    rows, _ = witness
    if len(rows) and (rows.max() >= len(secret) or not secret[rows].all()):
        return False
    table = witness_values(witness, truth)
    if (table[secret] < lowest[secret] - _SLACK).any():
        return False
    scale = abs(matrix) @ np.abs(table)
    return bool((np.abs(matrix @ table) <= _SLACK * np.maximum(scale, 1.0)).all())


def _extremes(core: "_Core", candidates: list) -> list:
    """The candidate witnesses worth keeping: for every core variable with a primary member,
    one reaching its highest value and one its lowest (when any moves it). The others reach
    nothing these do not. Candidates are (witness, core variables moved, their values): one
    pass over them, never a table of every candidate's every variable."""
    highest, lowest = core.value.copy(), core.value.copy()
    best_high = np.full(len(core.value), -1)
    best_low = np.full(len(core.value), -1)
    for k, (_, roots, values) in enumerate(candidates):
        up, down = values > highest[roots], values < lowest[roots]
        highest[roots[up]], best_high[roots[up]] = values[up], k
        lowest[roots[down]], best_low[roots[down]] = values[down], k
    wanted = core.has_primary
    keep = np.unique(np.concatenate([best_high[wanted], best_low[wanted]]))
    return [candidates[k] for k in keep[keep >= 0]]


class _Members:
    """The unknowns of each core variable (those the reduction writes as affine functions of
    it), to turn a table of a few core variables into the cells it changes without a pass
    over every unknown."""

    def __init__(self, reduction):
        live = np.flatnonzero(~reduction.fixed)
        self.member = live[np.argsort(reduction.root[live], kind="stable")]
        self.start = np.searchsorted(reduction.root[self.member], np.arange(reduction.matrix.shape[1] + 1))
        self.reduction = reduction

    def witness(self, roots, values, unknown, truth) -> tuple[np.ndarray, np.ndarray]:
        """The core variables `roots` at `values` (the others at their true values) as the
        secret cells the table changes and their values."""
        counts = self.start[roots + 1] - self.start[roots]
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        at = self.member[np.repeat(self.start[roots], counts) + offsets]
        reduction = self.reduction
        moved = reduction.sigma[at] * np.repeat(values, counts) + reduction.gamma[at]
        changed = np.abs(moved - truth[at]) > _SLACK * np.maximum(truth[at], 1.0)
        order = np.argsort(at[changed], kind="stable")
        return unknown[at[changed]][order], moved[changed][order]


def _merged(witnesses: list, n: int) -> list:
    """The witnesses with disjoint cells added into one another (first fit): the changes of
    two solutions of the equations add up to a solution, and where no cell is changed by
    both, each keeps the value, hence the bounds, its own table gave it. Far fewer tables to
    check in the next audit, proving the same."""
    merged = []  # (cells taken, its witnesses)
    for witness in witnesses:
        rows = witness[0]
        for taken, parts in merged:
            if not taken[rows].any():
                taken[rows] = True
                parts.append(witness)
                break
        else:
            taken = np.zeros(n, dtype=bool)
            taken[rows] = True
            merged.append((taken, [witness]))
    out = []
    for _, parts in merged:
        rows = np.concatenate([part[0] for part in parts])
        values = np.concatenate([part[1] for part in parts])
        order = np.argsort(rows, kind="stable")
        out.append((rows[order], values[order]))
    return out


def _hidden_frame(unknown: np.ndarray, primary: np.ndarray, truth: np.ndarray) -> pd.DataFrame:
    n = len(unknown)
    return pd.DataFrame(
        {
            "row": unknown,
            "primary": primary,
            "employees": truth,
            "determined": np.zeros(n, dtype=bool),
            "value": np.full(n, np.nan),
            "lower": np.full(n, np.nan),
            "upper": np.full(n, np.nan),
            "required_lower": np.full(n, np.nan),
            "required_upper": np.full(n, np.nan),
            "status": np.where(primary, "protected", ""),
            "group": np.arange(n),
        }
    )


def _determined(core: "_Core", seed: int, threads: int = PROJECTION_THREADS) -> np.ndarray:
    """`_projection`'s result, computed once for a given core matrix: which variables its
    equations determine is theirs alone, whatever the random draws that find it. The
    protection's thorough rounds audit the same published cells again while their programs
    prove more, and the run's audit then attacks the cells of the protection's last round:
    at a million positions each projection takes minutes."""
    determined = _PROJECTIONS.get(_digest(core.matrix), lambda: _projection(core.matrix, seed, threads))
    return determined.copy()


# The last projection (`_determined`), under the digest of its core matrix.
_PROJECTIONS: LastResult[np.ndarray] = LastResult()


def _digest(matrix: sp.csr_matrix) -> str:
    hashed = hashlib.sha256(repr((matrix.shape, matrix.dtype)).encode())
    for part in (matrix.indptr, matrix.indices, matrix.data):
        hashed.update(np.ascontiguousarray(part).tobytes())
    return hashed.hexdigest()


def _projection(matrix: sp.csr_matrix, seed: int, threads: int = PROJECTION_THREADS) -> np.ndarray:
    """Which variables the equations `matrix` (the core's) determine.

    A variable is determined when it is orthogonal to the null space of the core matrix A.
    Random vectors z are projected onto that null space, z − Aᵀ(AAᵀ)⁺Az, by conjugate
    gradients on AAᵀw = Az (rows scaled to unit norm, which changes neither the null space
    nor the solution set); a component that vanishes in every projection is zero in the null
    space, up to a probability nil for Gaussian draws (a free variable taken for determined
    only costs a mask more). A determined variable has the same value in every solution of
    the equations, the true table's included: what the reader finds is its true value, so no
    solution is computed. The draws are independent: `threads` threads project them, one
    draw each at a time (scipy's sparse products release the GIL).
    """
    n = matrix.shape[1]
    if n == 0:
        return np.zeros(0, dtype=bool)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scaled = (sp.diags(1.0 / norms) @ matrix).tocsr()
    transposed = scaled.T.tocsr()
    draws = np.random.default_rng(seed).standard_normal((n, _NULL_VECTORS))
    targets = scaled @ draws
    solve = functools.partial(_conjugate_gradients, scaled, transposed)
    with ThreadPoolExecutor(max(1, min(threads, _NULL_VECTORS))) as pool:
        w = np.column_stack(list(pool.map(solve, targets.T)))
    null_components = draws - transposed @ w
    return (np.abs(null_components) < _DETERMINED).all(axis=1)


def _conjugate_gradients(scaled: sp.csr_matrix, transposed: sp.csr_matrix, target: np.ndarray) -> np.ndarray:
    """w with AAᵀw = target, A = `scaled`, by conjugate gradients: one vector at a time,
    since scipy multiplies a sparse matrix by two vectors at once three times slower than by
    one (bench README)."""
    w = np.zeros_like(target)
    residual = target.copy()
    direction = residual.copy()
    squared = residual @ residual
    stop = _CG_TOLERANCE**2 * max(squared, 1e-300)
    for _ in range(max(1000, 20 * scaled.shape[1])):
        product = scaled @ (transposed @ direction)
        curvature = direction @ product
        if curvature <= 0:
            break
        step = squared / curvature
        w += step * direction
        residual -= step * product
        new_squared = residual @ residual
        if new_squared <= stop:
            break
        direction = residual + (new_squared / squared) * direction
        squared = new_squared
    return w


def _others(terms: np.ndarray, row: np.ndarray, m: int, unbounded: float) -> np.ndarray:
    """For each term, the sum of the other terms of its equation (`row`); `unbounded` (±∞)
    where one of them is infinite."""
    infinite = ~np.isfinite(terms)
    if not infinite.any():
        return np.bincount(row, terms, m)[row] - terms
    finite = np.where(infinite, 0.0, terms)
    count = np.bincount(row, infinite, m)[row] - infinite
    return np.where(count > 0, unbounded, np.bincount(row, finite, m)[row] - finite)


@dataclass(frozen=True, eq=False)
class _Program:
    """A linear program over some core variables: min cost·y, equations·y = rhs, y within
    bounds."""

    variables: np.ndarray
    cost: np.ndarray
    equations: sp.csr_matrix
    rhs: np.ndarray
    bounds: np.ndarray

    def solve(self, deadline: float | None = None):
        """HiGHS's result; with a `deadline` (a `time.perf_counter` reading), stopped there
        (status 1, no solution) however large the program."""
        options = {}
        if deadline is not None:
            remaining = deadline - time.perf_counter()
            options["time_limit"] = max(remaining, _LEAST_SECONDS)
            options["presolve"] = remaining > _PRESOLVE_SECONDS
        method = "highs-ipm" if len(self.variables) > _IPM_SIZE else "highs"
        return linprog(
            self.cost, A_eq=self.equations, b_eq=self.rhs, bounds=self.bounds, method=method, options=options
        )


class _Core:
    """The core variables with what is known of each: true value, the box the members'
    floors give it, how far it must move up and down for its primary members, and the
    bounds proven so far — `inner` (values reached by solutions found: the reader cannot
    exclude them) and `outer` (bounds the reader can prove). A side is settled when the
    inner bound reaches the requirement, or the outer one proves it cannot."""

    def __init__(self, reduction, truth: np.ndarray, up: np.ndarray, down: np.ndarray, lowest: np.ndarray):
        self.matrix = reduction.matrix.tocsr()
        self.rhs = reduction.rhs
        self.n_unknowns = len(reduction.root)
        n = self.matrix.shape[1]
        live = np.flatnonzero(~reduction.fixed)
        self.member = live
        self.root = reduction.root[live]
        self.sigma = reduction.sigma[live]
        self.gamma = reduction.gamma[live]
        self.fixed_value = reduction.gamma  # the values of the fixed unknowns
        self.value = np.zeros(n)
        self.value[self.root] = (truth[live] - self.gamma) / self.sigma
        rising = self.sigma > 0
        # Every member ≥ its least value: a bound on its root, from below or above by sigma's sign.
        bound = (lowest[live] - self.gamma) / self.sigma
        self.low = np.full(n, -np.inf)
        self.high = np.full(n, np.inf)
        np.maximum.at(self.low, self.root[rising], bound[rising])
        np.minimum.at(self.high, self.root[~rising], bound[~rising])
        magnitude = np.abs(self.sigma)
        self.need_up = np.zeros(n)
        self.need_down = np.zeros(n)
        np.maximum.at(self.need_up, self.root, np.where(rising, up[live], down[live]) / magnitude)
        np.maximum.at(self.need_down, self.root, np.where(rising, down[live], up[live]) / magnitude)
        self.has_primary = np.zeros(n, dtype=bool)
        self.has_primary[self.root[(up[live] > 0) | (down[live] > 0)]] = True
        self.inner_low = self.value.copy()
        self.inner_high = self.value.copy()
        self.outer_low = self.low.copy()
        self.outer_high = self.high.copy()
        self.exact_low = np.zeros(n, dtype=bool)
        self.exact_high = np.zeros(n, dtype=bool)
        self.linear_programs = 0
        self.local_programs = 0  # those of them over a neighbourhood (`certify_locally`)
        self.solutions = []  # (roots, solution) of every program solved
        self._tolerance = _SLACK * np.maximum(np.abs(self.value), 1.0)

    @functools.cached_property
    def by_variable(self) -> sp.csc_matrix:
        """The core matrix by column: the equations of a few variables without a pass over all."""
        return self.matrix.tocsc()

    # --- What is settled ------------------------------------------------------------------

    def open_sides(self, roots: np.ndarray) -> np.ndarray:
        """(up, down) open per root of `roots`: required, not reached, not disproved."""
        up_target = self.value[roots] + self.need_up[roots] - self._tolerance[roots]
        down_target = self.value[roots] - self.need_down[roots] + self._tolerance[roots]
        up = (self.need_up[roots] > 0) & (self.inner_high[roots] < up_target) & (self.outer_high[roots] >= up_target)
        down = (
            (self.need_down[roots] > 0)
            & (self.inner_low[roots] > down_target)
            & (self.outer_low[roots] <= down_target)
        )
        return np.column_stack([up, down])

    def mark_determined(self, determined: np.ndarray) -> None:
        for array in (self.inner_low, self.inner_high, self.outer_low, self.outer_high):
            array[determined] = self.value[determined]
        self.exact_low |= determined
        self.exact_high |= determined

    def root_values(self, unknown_values: np.ndarray) -> np.ndarray:
        """The core variables of a table of the unknowns (read on one member of each)."""
        values = self.value.copy()
        roots, first = np.unique(self.root, return_index=True)
        values[roots] = (unknown_values[self.member[first]] - self.gamma[first]) / self.sigma[first]
        return values

    def reached(self, roots: np.ndarray, solution: np.ndarray) -> None:
        np.minimum.at(self.inner_low, roots, solution)
        np.maximum.at(self.inner_high, roots, solution)

    # --- Proofs ---------------------------------------------------------------------------

    def propagate(self, max_rounds: int = 100) -> None:
        """Bounds any reader reaches by propagating the boxes along the equations (interval
        constraint propagation): for each equation Σ aⱼxⱼ = b and each of its variables,
        aₖxₖ = b − Σⱼ≠ₖ aⱼxⱼ bounds xₖ by the others' bounds. Sound at every round.

        At a million positions the bounds creep along long cycles of equations and every
        round moves most of them, so each round is a few passes over the terms: the terms
        are read by column once (`by_variable`), so that each variable's new bound is one
        `reduceat` over its terms, and the bookkeeping of infinite bounds is skipped once
        none is left among the terms.
        """
        by_variable = self.by_variable
        column = np.repeat(np.arange(by_variable.shape[1]), np.diff(by_variable.indptr))
        row, a = by_variable.indices, by_variable.data
        present = np.flatnonzero(np.diff(by_variable.indptr))  # variables with terms
        starts = by_variable.indptr[present]
        m = self.matrix.shape[0]
        rhs = self.rhs[row]
        low, high = self.outer_low, self.outer_high
        positive = a > 0
        for _ in range(max_rounds):
            with np.errstate(invalid="ignore"):
                low_term, high_term = a * low[column], a * high[column]
                least = np.where(positive, low_term, high_term)
                most = np.where(positive, high_term, low_term)
            # The other terms of the equation lie in [others_least, others_most].
            others_least = _others(least, row, m, -np.inf)
            others_most = _others(most, row, m, np.inf)
            term_low, term_high = rhs - others_most, rhs - others_least
            new_low = np.maximum.reduceat(np.where(positive, term_low, term_high) / a, starts)
            new_high = np.minimum.reduceat(np.where(positive, term_high, term_low) / a, starts)
            tolerance = self._tolerance[present]
            rising = new_low > low[present] + tolerance
            falling = new_high < high[present] - tolerance
            np.maximum(low[present], new_low, out=new_low)
            np.minimum(high[present], new_high, out=new_high)
            low[present], high[present] = new_low, new_high
            if not (rising.any() or falling.any()):
                break

    def certify(
        self, roots: np.ndarray, rng: np.random.Generator, budget: float, local: tuple[int, int] | None = None
    ) -> None:
        """Solutions reaching the protection bounds of the open sides of the component
        `roots`: linear programs that push open sides towards their targets, capped there (a
        solution of the capped program solves the reader's), with random weights so that
        sides competing for the same slack take turns.

        First every open side at once, while that settles many; then random batches, halved
        whenever a batch settles less than half of its sides, down to one side at a time —
        whose capped program gives the exact bound when it stops short of the target.
        `local` (a neighbourhood's first size and its limit), for a component whose every
        program takes minutes: between the first program and the batches, the sides it left
        open get programs over their neighbourhoods (`certify_locally`), seconds each; the
        batches then take what those leave open, and can prove it weak.
        Stops when the clock passes `budget`; the sides still open are left undecided.
        """
        batch = None  # all open sides
        started = False  # whether the first program has run
        while time.perf_counter() < budget:
            sides = self.open_sides(roots)
            open_root, open_side = np.nonzero(sides)
            if not len(open_root):
                return
            if started and local is not None:
                self.certify_locally(roots, rng, budget, *local)
                local = None
                continue
            started = True
            if batch is not None and batch < len(open_root):
                pick = rng.choice(len(open_root), size=batch, replace=False)
                open_root, open_side = open_root[pick], open_side[pick]
            result, open_root, open_side = self._push(roots, open_root, open_side, rng, budget)
            if result.status != 0:
                return
            pushed = roots[open_root]
            still = self.open_sides(pushed)[np.arange(len(pushed)), open_side]
            if len(pushed) == 1 and still[0]:
                # Alone and capped above its optimum: the optimum is the reader's bound.
                root = pushed[0]
                if open_side[0] == 0:
                    self.outer_high[root] = result.x[open_root[0]]
                    self.exact_high[root] = True
                else:
                    self.outer_low[root] = result.x[open_root[0]]
                    self.exact_low[root] = True
            settled = len(pushed) - int(still.sum())
            if batch is None:
                if settled < _BATCH_SHARE * len(pushed):
                    batch = _FIRST_BATCH
            elif settled * 2 < len(pushed):
                batch = max(1, batch // 2)

    def certify_locally(self, roots: np.ndarray, rng: np.random.Generator, budget: float, size: int, limit: int):
        """`certify` for a component too large for one program: programs over neighbourhoods
        of its open sides, every other core variable held at its true value. The true values
        solve every equation, so a solution of such a program, with the rest of the table
        left true, solves the reader's system: what it reaches, the reader cannot exclude.

        A neighbourhood grows from one open root along the equations (breadth first) to
        `size` core variables; its program pushes every open side in it at once, then, if the
        seed's side is still open, the seed's alone. A seed left open gets a neighbourhood
        four times larger next time, up to `limit` (or its whole component); one left open
        there is given up. A restricted program proves no bound — the reader is not
        restricted — so what stays open here is left undecided ("skipped"), never weak.
        Stops when the clock passes `budget`, a program running then cut short there.
        """
        reach = {}  # root → size of its next neighbourhood
        given_up = np.zeros(len(self.value), dtype=bool)
        # Roots with an open side, still tried; a program moves its neighbourhood only, so
        # only there can a side close.
        pending = np.zeros(len(self.value), dtype=bool)
        pending[roots] = self.open_sides(roots).any(axis=1)
        while time.perf_counter() < budget:
            candidates = np.flatnonzero(pending)
            if not len(candidates):
                return
            seed = candidates[rng.integers(len(candidates))]
            sides = self.open_sides(np.array([seed]))[0]
            seed_side = int(np.flatnonzero(sides)[rng.integers(sides.sum())])
            variables = self._neighbourhood(seed, reach.get(seed, size), rng)
            open_root, open_side = np.nonzero(self.open_sides(variables))
            at = int(np.searchsorted(variables, seed))
            for picked in ((open_root, open_side), (np.array([at]), np.array([seed_side]))):
                self._push(variables, *picked, rng, budget)
                self.local_programs += 1
                if not self.open_sides(np.array([seed]))[0, seed_side] or time.perf_counter() >= budget:
                    break
            else:  # the seed's side is still open, even pushed alone
                if len(variables) >= min(limit, len(roots)) or reach.get(seed, size) >= limit:
                    given_up[seed] = True
                else:
                    reach[seed] = min(4 * reach.get(seed, size), limit)
            pending[variables] = self.open_sides(variables).any(axis=1) & ~given_up[variables]

    def _neighbourhood(self, seed: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """Up to `size` core variables around `seed` (sorted): the seed, then the variables
        of its equations, then theirs, breadth first; the last layer drawn at random where it
        overflows."""
        taken = np.zeros(len(self.value), dtype=bool)
        taken[seed] = True
        count, frontier = 1, np.array([seed])
        while len(frontier) and count < size:
            rows = np.unique(self.by_variable[:, frontier].indices)
            layer = np.unique(self.matrix[rows].indices)
            layer = layer[~taken[layer]]
            if count + len(layer) > size:
                layer = rng.choice(layer, size - count, replace=False)
            taken[layer] = True
            count += len(layer)
            frontier = layer
        return np.flatnonzero(taken)

    def _push(self, variables: np.ndarray, open_at: np.ndarray, open_side: np.ndarray, rng, deadline=None):
        """One program over `variables` pushing the given open sides (positions in
        `variables`, 0 up and 1 down) towards their targets, capped there, with random
        weights so that sides competing for the same slack take turns (a root given both
        ways is pushed one of them), stopped at `deadline`. Returns the result, and the
        sides pushed."""
        order = rng.permutation(len(open_at))
        open_at, open_side = open_at[order], open_side[order]
        open_at, first = np.unique(open_at, return_index=True)
        open_side = open_side[first]
        go_up = np.zeros(len(variables), dtype=bool)
        go_down = np.zeros(len(variables), dtype=bool)
        go_up[open_at[open_side == 0]] = True
        go_down[open_at[open_side == 1]] = True
        weight = rng.uniform(0.5, 1.5, len(variables))
        cost = np.where(go_up, -weight, np.where(go_down, weight, 0.0))
        low, high = self.low[variables].copy(), self.high[variables].copy()
        target = self.value[variables]
        high[go_up] = np.minimum(high[go_up], target[go_up] + self.need_up[variables][go_up])
        low[go_down] = np.maximum(low[go_down], target[go_down] - self.need_down[variables][go_down])
        return self._solve(variables, cost, low, high, deadline), open_at, open_side

    def solve_each(self, roots: np.ndarray, deadline: float) -> None:
        """The exact min and max of every root with a primary member (small components),
        until `deadline`: a program running then is cut short, and what is left open stays
        skipped."""
        for root in roots[self.has_primary[roots]]:
            for side, sign in ((0, -1.0), (1, 1.0)):
                if time.perf_counter() >= deadline:
                    return
                position = int(np.searchsorted(roots, root))
                cost = np.zeros(len(roots))
                cost[position] = sign
                result = self._solve(roots, cost, self.low[roots], self.high[roots], deadline)
                if result.status == 3 and side == 0:  # unbounded: nothing bounds it from above
                    self.inner_high[root] = self.outer_high[root] = np.inf
                    self.exact_high[root] = True
                if result.status != 0:
                    continue
                optimum = result.x[position]
                if side == 0:
                    self.inner_high[root] = self.outer_high[root] = optimum
                    self.exact_high[root] = True
                else:
                    self.inner_low[root] = self.outer_low[root] = optimum
                    self.exact_low[root] = True

    def _solve(self, variables: np.ndarray, cost, low, high, deadline: float | None = None):
        """min cost·y over the core variables `variables` (sorted), every other one held at
        its true value, stopped at `deadline`; the result, recorded."""
        program = self._program(variables, cost, low, high)
        return self._record(program, program.solve(deadline))

    def _program(self, variables: np.ndarray, cost, low, high) -> "_Program":
        """The program min cost·y over the core variables `variables` (sorted), every other
        one held at its true value (none of them is in the equations of a whole component):
        their terms move to the right-hand side."""
        rows = np.unique(self.by_variable[:, variables].indices)
        equations = self.matrix[rows]
        inside = equations[:, variables]
        held = equations @ self.value - inside @ self.value[variables]
        return _Program(variables, cost, inside, self.rhs[rows] - held, np.column_stack([low, high]))

    def _record(self, program: "_Program", result):
        """Count a solved program and keep what its solution reaches."""
        self.linear_programs += 1
        if result.status == 0:
            self.reached(program.variables, result.x)
            self.solutions.append((program.variables, result.x))
        return result

    # --- Back to the cells ----------------------------------------------------------------

    def member_bounds(self) -> dict[str, np.ndarray]:
        """Each unknown's inner, outer and exact (NaN where not computed) bounds, from its
        root's; a fixed unknown's are its value."""
        out = {name: self.fixed_value.copy() for name in ("inner_lower", "inner_upper", "outer_lower", "outer_upper")}
        out["lower"] = self.fixed_value.copy()
        out["upper"] = self.fixed_value.copy()
        rising = self.sigma > 0

        def image(low, high):
            with np.errstate(invalid="ignore"):
                a = self.sigma * low[self.root] + self.gamma
                b = self.sigma * high[self.root] + self.gamma
            return np.where(rising, a, b), np.where(rising, b, a)

        for kind, low, high in (
            ("inner", self.inner_low, self.inner_high),
            ("outer", self.outer_low, self.outer_high),
        ):
            lower, upper = image(low, high)
            out[f"{kind}_lower"][self.member] = lower
            out[f"{kind}_upper"][self.member] = upper
        exact_low = np.where(self.exact_low, self.outer_low, np.nan)
        exact_high = np.where(self.exact_high, self.outer_high, np.nan)
        lower, upper = image(exact_low, exact_high)
        out["lower"][self.member] = lower
        out["upper"][self.member] = upper
        return out
