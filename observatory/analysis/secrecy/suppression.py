"""Secondary (complementary) suppression: more cells masked so that no primary secret can be
recovered from the published totals.

Two stages. The one-secret rule first (`secondary_suppression`): in every group made of a
parent cell and its children along one relation, never exactly one secret cell — cheap,
vectorised, and most of what is needed. It does not stop a reader who solves every equation
at once (the secret cells of one group fall out of another's, down a chain), so the audit
then attacks the result (`audit.audit_secrecy`) and `complementary_suppression` masks more
cells around each primary secret it proves determined or under-protected: the cheapest
published cells (fewest employees, among those that can absorb the protection interval) of
the equations holding the cell or the cells tied to it — one, then one more each round the
cell fails again, and after three failures the largest published cell of each of its
equations (the total a dominant cell is bounded by). Then the one-secret rule again, then
another audit, until the audit proves nothing weak, within a bounded number of rounds.

The rounds are quick (exact reduction and bound propagation) until they find nothing, then
thorough (projection and linear programs). A solution of the published equations stays a
solution when more cells are masked, so the witness tables one round found prove the same
cells protected in the next, and in the run's own audit.

A component too large for one linear program (beyond `max_component`) is proven by
programs over neighbourhoods, within the audit's time budget; the primary cells they leave
unproven are the audit's "unverifiable". The protection then goes on with the next thorough
round, which starts from the tables already found (and with neighbourhoods four times larger
after a round that proved nothing new), and stops when a round runs no program or proves
nothing new with the largest neighbourhoods: the run's audit would refuse the grid anyway.

A thorough round that finds nothing weak but leaves a few primary cells unproven (at most
`SUSPECT_SHARE` of them: at a million positions under the EPCI's totals-only plan, large
cells of one or two companies whose protection needs moves of hundreds of employees, which
the programs over a component of 90,000 unknowns do not reach in their time) masks every
published cell of their equations; those whose equations hold none get complements further
away and the largest cells there. For at most `SUSPECT_ROUNDS` rounds: what cannot be
proven protected is protected more.
"""

import hashlib
import logging
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..cube import CUBE_COLUMNS
from ..memo import LastResult
from .audit import (
    LOCAL_LIMIT,
    LOCAL_SIZE,
    PROTECTION,
    PROTECTION_FLOOR,
    audit_secrecy,
    part_values,
    protection_interval,
    structural_floor,
)
from .relations import Relation, equations, relations
from .rules import DOMINANCE, MIN_COMPANIES, SECRET_REASONS, primary_secrecy, withhold

logger = logging.getLogger(__name__)

MAX_ROUNDS = 40  # audit rounds of the complementary suppression before giving up
_MOST_PER_GROUP = 4  # masks added in one round for one group of failing cells
_STUBBORN = 3  # rounds a cell fails before the largest published cell of its equations goes
# Primary cells a thorough round leaves unproven, nothing weak besides, get masks around them
# when they are at most this share of the primary cells, for at most this many rounds. At a
# million positions under the EPCI's totals-only plan: 3,694 of 59,785 left unproven, then
# 304, then none, each round about 620 s (bench README).
SUSPECT_SHARE = 0.10
SUSPECT_ROUNDS = 2
COORDINATES = tuple(CUBE_COLUMNS[:10])


def secondary_suppression(cells: pd.DataFrame) -> pd.DataFrame:
    """Mask more cells until no secret cell can be recovered by subtraction in one group.

    Expects the cube's coordinate columns (territory_level, territory_code, territory_parent,
    the same for sector and occupation, size_band), employees, and secret / secret_reason as
    set by `primary_secrecy`. Returns a copy where more cells are secret, with secret_reason
    "secondary".

    In each group "parent cell + its children" along one dimension (all other coordinates
    fixed) holding exactly one secret cell, one more cell is masked: the published child
    with the fewest employees (ties: the first in the frame); when there is none, i.e. the
    secret cell is an only child, its parent. Suppressions propagate across dimensions, so
    this repeats until no group holds exactly one secret cell. Each pass is vectorised over
    all groups of a relation; only the passes and the nine relations are looped over.
    """
    out = cells.copy(deep=False)  # copy-on-write: only the columns set here are new
    if not len(out):
        return out
    secret = out["secret"].to_numpy(dtype=bool).copy()
    employees = out["employees"].to_numpy()
    found = relations(out, secret)

    added = np.zeros(len(out), dtype=bool)
    changed = True
    while changed:
        changed = False
        for relation in found:
            flagged = np.flatnonzero(relation.count == 1)  # parent rows of groups to fix
            if not len(flagged):
                continue
            new = _pick_secondary(relation, flagged, secret, employees)
            if not len(new):  # cannot happen in a complete cube; guarantees the loop ends
                continue
            secret[new] = True
            added[new] = True
            for other in found:
                other.add_secrets(new)
            changed = True
    return _with_secrets(out, secret, added)


def complementary_suppression(
    cells: pd.DataFrame,
    *,
    protection: float = PROTECTION,
    protection_floor: float = PROTECTION_FLOOR,
    max_rounds: int = MAX_ROUNDS,
    inside: dict | None = None,
    **audit_options,
) -> tuple[pd.DataFrame, list[dict], list]:
    """The one-secret rule, then audit-driven suppression until the audit passes.

    Expects what `secondary_suppression` expects; `inside` is the audit's (EPCI code → its
    départements: the reader knows the COG). Returns the cells with more secrets
    (reason "secondary"), per audit round the audit's summary, and the witness tables of the
    last audit (`SecrecyAudit.witnesses`). When `max_rounds` pass without a clean audit, the
    last frame is returned as it is: the run's own audit then fails it.
    """
    out = secondary_suppression(cells)
    history = []
    witnesses = []
    if not out["secret"].any():
        return out, history, witnesses
    matrix = equations(out, inside)
    by_cell = matrix.tocsc()
    # The shares of straddling EPCI (columns after the cells') are unknowns, never published.
    employees = out["employees"].to_numpy(dtype=np.float64)
    shares = part_values(matrix, employees)
    employees = np.concatenate([employees, shares])
    unpublished = np.ones(matrix.shape[1] - len(out), dtype=bool)
    floor = structural_floor(out, inside)
    strikes = np.zeros(len(out), dtype=np.int64)  # rounds each primary cell has failed
    # Quick rounds (the exact reduction and bound propagation only) while they still find
    # weak cells — a second each on the demonstration — then thorough ones.
    thorough = False
    unproven = None  # primary cells the last thorough round left unverifiable
    suspect_rounds = 0  # rounds that masked around unproven cells
    local_size = audit_options.pop("local_size", LOCAL_SIZE)
    local_limit = audit_options.get("local_limit", LOCAL_LIMIT)
    for round_number in range(max_rounds):
        audit = audit_secrecy(
            out,
            protection=protection,
            protection_floor=protection_floor,
            witnesses=witnesses,
            floor=floor,
            thorough=thorough,
            inside=inside,
            shares=shares,
            local_size=local_size,
            seed=round_number,
            **audit_options,
        )
        history.append({**audit.summary(), "secret": int(out["secret"].sum()), "thorough": thorough})
        logger.debug("secrecy round %d: %s", len(history), history[-1])
        hidden = audit.hidden
        witnesses = audit.witnesses
        unverifiable = audit.stats.get("unverifiable", 0)
        if unverifiable:
            # Primary cells of a component too large for one program that its neighbourhood
            # programs left unproven (audit.py, "unverifiable"). The tables they found stay
            # solutions, so the next round starts where this one stopped: the protection goes
            # on while each round proves more. A round that proves nothing new starts the next
            # one's neighbourhoods four times larger; at the limit, or when a round runs no
            # program at all, the protection stops (the run's audit cannot pass then).
            stalled = unproven is not None and unverifiable >= unproven
            if stalled and local_size < local_limit:
                local_size, stalled = min(4 * local_size, local_limit), False
            if stalled or not audit.stats.get("local_programs"):
                logger.warning("secrecy: %d primary cells cannot be verified", unverifiable)
                break
            unproven = unverifiable
        # Cells proven weak get masks. An unverified cell (its programs ran out of time) may
        # well be protected, and masking around every one of them is what made the first
        # version of this loop hide nearly every cell of a large grid; but once a thorough
        # round finds nothing weak, a few left unproven (large cells of one or two companies,
        # whose protection needs moves of hundreds of employees) get masks too, for a few
        # rounds: what cannot be proven protected is protected more. Otherwise, when only
        # unverified cells are left, the loop stops and the run's audit says so.
        failing = audit.failing()
        weak = failing[failing["status"] != "skipped"]
        if weak.empty:
            if not thorough:
                thorough = True  # nothing left that the quick rounds see: now the thorough audit
                continue
            if unverifiable:
                continue  # the next round's neighbourhoods go on (above)
            few = len(failing) <= SUSPECT_SHARE * hidden["primary"].sum()
            if failing.empty or not few or suspect_rounds >= SUSPECT_ROUNDS:
                break
            suspect_rounds += 1
            history[-1]["suspects"] = len(failing)
        else:
            failing = weak
        secret = np.concatenate([out["secret"].to_numpy(dtype=bool), unpublished])
        need = protection_interval(failing["employees"].to_numpy(), protection, protection_floor)[0]
        rows = failing["row"].to_numpy()
        count = np.minimum(1 + strikes[rows], _MOST_PER_GROUP)
        stubborn = rows[strikes[rows] >= _STUBBORN]
        strikes[rows] += 1
        around = np.zeros(0, dtype=np.int64)
        if weak.empty:
            # Unproven cells: every published cell of their equations. At a million positions
            # that left 304 of 3,694 unproven where the cheapest complements left 1,021 of
            # 3,551, for as many masks (bench README). Those whose equations hold no published
            # cell get complements further away and the largest cells there, at once.
            around, surrounded = _ring(matrix, by_cell, rows, secret)
            keep = np.isin(rows, surrounded)
            failing, need, count, stubborn = failing[keep], need[keep], count[keep], surrounded
        chosen = np.union1d(
            np.union1d(around, _complements(matrix, by_cell, hidden, failing, need, count, secret, employees)),
            _largest_in_equations(matrix, by_cell, stubborn, secret, employees),
        )
        if not len(chosen):
            break
        added = np.zeros(len(out), dtype=bool)
        added[chosen] = True
        out = secondary_suppression(_with_secrets(out, secret[: len(out)] | added, added))
    return out, history, witnesses


def apply_secrecy(
    cells: pd.DataFrame,
    min_companies: int = MIN_COMPANIES,
    dominance: float = DOMINANCE,
    *,
    protection: float = PROTECTION,
    protection_floor: float = PROTECTION_FLOOR,
    report: dict | None = None,
    withheld=None,
    inside: dict | None = None,
    **audit_options,
) -> pd.DataFrame:
    """Primary secrecy (with the `withheld` cells, a bool array, made primary secrets of
    reason "edition": see observatory.analysis.differencing), then complementary suppression
    checked by the audit: the cells with `secret` and `secret_reason` columns.

    Values of secret cells are kept (the engine stores them with their flag, for audit and
    recomputation); views, exports and the API show cells through `mask_values`.

    When a dict is passed as `report`, it receives "witnesses" (the tables that proved the
    protection, for the run's audit to check instead of searching for them again) and
    "summary": the cost — cells, primary, secondary cells with the one-secret rule alone
    ("secondary_one_secret_rule") and in the end ("secondary") — and what the first audit
    found in the one-secret rule's cells (determined cells, primary ones among them, primary
    cells proven under-protected without linear programs), the rounds and the seconds.

    The pattern depends only on the coordinates, employees, companies and largest company of
    the cells and on the parameters, which every lens of one set of positions shares: the
    last result is kept, and a call with the same inputs reuses it.
    """
    clock = time.perf_counter()
    primary = primary_secrecy(cells, min_companies, dominance)
    if withheld is not None:
        primary = withhold(primary, withheld)
    links = sorted((epci, tuple(sorted(within))) for epci, within in (inside or {}).items())
    key = _digest(primary, min_companies, dominance, protection, protection_floor, audit_options, links)

    def protect() -> tuple:
        out, history, witnesses = complementary_suppression(
            primary, protection=protection, protection_floor=protection_floor, inside=inside, **audit_options
        )
        first = history[0] if history else {}
        summary = {
            "cells": len(out),
            "primary": int(primary["secret"].sum()),
            "secondary_one_secret_rule": int(first.get("secret", 0)) - int(primary["secret"].sum()) if history else 0,
            "secondary": int((out["secret_reason"] == "secondary").sum()),
            "determined_before": int(first.get("determined", 0)),
            "determined_primary_before": int(first.get("determined_primary", 0)),
            "under_protected_before": int(first.get("under_protected", 0)),
            "rounds": len(history),
            # Rounds that masked around primary cells left unproven (SUSPECT_SHARE).
            "unproven_rounds": sum("suspects" in round_ for round_ in history),
            "seconds": round(time.perf_counter() - clock, 3),
        }
        return out["secret"].to_numpy(), out["secret_reason"].copy(), witnesses, summary

    secret, reason, witnesses, summary = _PROTECTIONS.get(key, protect)
    out = primary.copy(deep=False)
    out["secret"] = secret
    out["secret_reason"] = reason
    if report is not None:
        report["witnesses"] = witnesses
        report["summary"] = summary
    return out


# The last protection computed (see apply_secrecy), under its inputs' digest.
_PROTECTIONS: LastResult[tuple] = LastResult()


def _digest(cells: pd.DataFrame, *params) -> str:
    columns = [
        c
        for c in (*COORDINATES, "employees", "companies", "max_company_employees", "secret", "secret_reason")
        if c in cells
    ]
    hashed = pd.util.hash_pandas_object(cells[columns], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes() + repr(params).encode()).hexdigest()


def single_secret_groups(cells: pd.DataFrame) -> int:
    """Number of parent/children groups holding exactly one secret cell (0 once protected)."""
    secret = cells["secret"].to_numpy(dtype=bool)
    return int(sum((relation.count == 1).sum() for relation in relations(cells, secret)))


def _with_secrets(cells: pd.DataFrame, secret: np.ndarray, added: np.ndarray) -> pd.DataFrame:
    out = cells.copy(deep=False)
    out["secret"] = secret
    reason = out["secret_reason"].astype(pd.CategoricalDtype(list(SECRET_REASONS)))
    out["secret_reason"] = reason.where(~added, "secondary")
    return out


def _pick_secondary(relation: Relation, flagged: np.ndarray, secret: np.ndarray, employees: np.ndarray) -> np.ndarray:
    """One more cell to mask in each group to fix (`flagged`: their parents' rows)."""
    is_flagged = np.zeros(len(secret) + 1, dtype=bool)  # shifted by one: parent_row -1 → False
    is_flagged[flagged + 1] = True
    children = np.flatnonzero(
        (relation.level == relation.child_level) & ~secret & is_flagged[relation.parent_row.astype(np.intp) + 1]
    )
    group = relation.parent_row[children]
    # The smallest published child of each group: sort by (group, employees, row).
    order = np.lexsort((children, employees[children], group))
    children, group = children[order], group[order]
    first = np.r_[True, group[1:] != group[:-1]][: len(children)]
    chosen = children[first]
    # Groups with no published child: mask their parent (the secret cell is an only child).
    without_child = np.setdiff1d(flagged, group[first])
    return np.concatenate([chosen, without_child[~secret[without_child]]]).astype(np.int64)


def _complements(
    matrix: sp.csr_matrix,
    by_cell: sp.csc_matrix,
    hidden: pd.DataFrame,
    failing: pd.DataFrame,
    need: np.ndarray,
    count: np.ndarray,
    secret: np.ndarray,
    employees: np.ndarray,
) -> np.ndarray:
    """Published cells to mask for each group of failing cells.

    A group is the failing cell and the secret cells the equations tie to it (`group` of the
    audit). Candidates are the published cells of the equations holding a cell of the group;
    when there is none, of the equations one step further (through the secret cells of those
    equations), and so on. Among the candidates that can absorb the largest protection
    amount `need` of the group's failing cells (employees − 1 ≥ need), those with the fewest
    employees; when none can, those with the most. `count` (per failing cell) is how many to
    take: one, and one more each round the cell failed before, so that a cell a single mask
    did not protect is not left to crawl one mask per round.
    """
    frame = pd.DataFrame({"group": failing["group"].to_numpy(), "need": need, "count": count})
    by_group = frame.groupby("group").max()
    groups = by_group.index.to_numpy()
    group_need = by_group["need"].to_numpy()
    group_count = by_group["count"].to_numpy()
    member_group = hidden["group"].to_numpy()
    in_failing = np.isin(member_group, groups)
    seeds = hidden["row"].to_numpy()[in_failing]
    seed_group = np.searchsorted(groups, member_group[in_failing])
    found = np.zeros(len(groups), dtype=bool)
    chosen = []
    for _ in range(4):
        keep = ~found[seed_group]
        seeds, seed_group = seeds[keep], seed_group[keep]
        if not len(seeds):
            break
        # (group, equation) pairs, then (group, cell) pairs over those equations' cells.
        touching = by_cell[:, seeds].tocoo()
        pair_group, pair_row = seed_group[touching.col], touching.row
        pairs = np.unique(pair_group.astype(np.int64) * matrix.shape[0] + pair_row)
        pair_group, pair_row = pairs // matrix.shape[0], pairs % matrix.shape[0]
        cells_of = matrix[pair_row].tocoo()
        cell_group, cell = pair_group[cells_of.row], cells_of.col
        published = ~secret[cell]
        candidates = np.unique(cell_group[published].astype(np.int64) * len(secret) + cell[published])
        candidate_group, candidate = candidates // len(secret), candidates % len(secret)
        if len(candidate):
            room = employees[candidate] - 1 >= group_need[candidate_group]
            # Adequate first, then the fewest employees; inadequate ones by the most employees.
            score = np.where(room, employees[candidate], -employees[candidate])
            order = np.lexsort((candidate, score, ~room, candidate_group))
            ordered_group = candidate_group[order]
            start = np.searchsorted(ordered_group, ordered_group)  # first position of each group
            rank = np.arange(len(order)) - start
            take = order[rank < group_count[ordered_group]]
            chosen.append(candidate[take])
            found[candidate_group] = True
        # One step further for the groups still without a candidate.
        secret_cells = ~published
        seeds = np.concatenate([seeds, cell[secret_cells]])
        seed_group = np.concatenate([seed_group, cell_group[secret_cells]])
        dedup = np.unique(seed_group.astype(np.int64) * len(secret) + seeds)
        seed_group, seeds = dedup // len(secret), dedup % len(secret)
    return np.unique(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def _largest_in_equations(
    matrix: sp.csr_matrix, by_cell: sp.csc_matrix, rows: np.ndarray, secret: np.ndarray, employees: np.ndarray
) -> np.ndarray:
    """In every equation holding one of `rows`, the published cell with the most employees;
    when those equations hold no published cell, the same one step further (through their
    secret cells), up to four steps.

    For cells that cheap masks did not protect: a cell holding most of a published total
    (a dominant company's, or a large cell with small siblings) is bounded by that total
    whatever its siblings do, and only masking the total itself, the largest cell of the
    equation, widens it.
    """
    reached = np.zeros(len(secret), dtype=bool)
    reached[rows] = True
    seeds = rows
    for _ in range(4):
        if not len(seeds):
            break
        equations_of = np.unique(by_cell[:, seeds].tocoo().row)
        entries = matrix[equations_of].tocoo()
        published = ~secret[entries.col]
        if published.any():
            equation, cell = entries.row[published], entries.col[published]
            order = np.lexsort((cell, -employees[cell], equation))
            first = order[np.r_[True, equation[order][1:] != equation[order][:-1]]]
            return np.unique(cell[first])
        seeds = np.unique(entries.col[~reached[entries.col]])
        reached[seeds] = True
    return np.zeros(0, dtype=np.int64)


def _ring(matrix: sp.csr_matrix, by_cell: sp.csc_matrix, rows: np.ndarray, secret: np.ndarray):
    """Every published cell of the equations holding one of `rows`, and those of `rows`
    whose equations hold none (every cell around them is secret already)."""
    touching = by_cell[:, rows].tocoo()  # (equation, position in rows)
    pairs = np.unique(touching.col.astype(np.int64) * matrix.shape[0] + touching.row)
    pair_owner, pair_equation = pairs // matrix.shape[0], pairs % matrix.shape[0]
    entries = matrix[pair_equation].tocoo()
    owner, cell = pair_owner[entries.row], entries.col
    published = ~secret[cell]
    surrounded = np.ones(len(rows), dtype=bool)
    surrounded[owner[published]] = False
    return np.unique(cell[published]).astype(np.int64), rows[surrounded]
