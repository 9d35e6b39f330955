"""Statistical secrecy of the cube's cells (step 7 of the method, DESIGN.md).

The French rule for publishing statistics on companies (secret statistique, as INSEE and the
SSM apply it to business statistics, loi n° 51-711): a cell is not published when it counts
fewer than 3 companies (frequency rule), or when one company holds more than 85 % of it
(dominance rule, here on employees). These are the *primary* secrets.

A primary secret would still be recoverable by subtraction from its parent's total and its
published siblings, so *secondary* suppression masks more cells until, in every group made
of a parent cell and its children along any dimension (all other coordinates fixed), the
number of secret cells is never exactly one. This is the classic one-secret rule applied
iteratively across the four dimensions; it is not a full linear-programming audit of all
combinations of tables (τ-Argus style), which the observatory does not attempt.

The hierarchy comes from the cube's own columns (see `cube.PARENT_LEVEL`):
territory all > région > département, and région > EPCI (EPCI may straddle départements, so
they are children of their région); sector all > section > division; occupation all > grand
domaine > domaine > fiche; size all > band.

Values are never dropped here: `apply_secrecy` only flags cells (`secret`, `secret_reason`),
the engine stores values with their flag, and everything shown goes through `mask_values`.
"""

import numpy as np
import pandas as pd

from .codes import dense_codes
from .cube import ALL_SIZE, CUBE_COLUMNS, DIMENSIONS, LEVELS, PARENT_LEVEL

MIN_COMPANIES = 3
DOMINANCE = 0.85
SECRET_REASONS = ("", "companies", "dominance", "secondary")

# Value columns of a cube cell: everything that is not a coordinate.
VALUE_COLUMNS = tuple(CUBE_COLUMNS[10:])

# Absorbs binary rounding of `dominance × employees`, so that a company holding exactly 85 %
# of a cell (e.g. 17 of 20 employees) is not taken for one holding more.
_RELATIVE_TOLERANCE = 1e-9


def primary_secrecy(
    cells: pd.DataFrame, min_companies: int = MIN_COMPANIES, dominance: float = DOMINANCE
) -> pd.DataFrame:
    """Flag the cells that fail the frequency or the dominance rule.

    Expects columns companies (distinct companies), employees (headcount) and
    max_company_employees (headcount of the largest company). Returns a copy with
      secret         bool,
      secret_reason  categorical of SECRET_REASONS: "companies" when companies <
                     `min_companies`, else "dominance" when max_company_employees >
                     `dominance` × employees (strictly: exactly 85 % is published), else "".
    """
    out = cells.copy(deep=False)  # copy-on-write: only the columns set here are new
    companies = out["companies"].to_numpy(dtype=np.float64)
    employees = out["employees"].to_numpy(dtype=np.float64)
    largest = out["max_company_employees"].to_numpy(dtype=np.float64)
    few = companies < min_companies
    dominated = (largest - dominance * employees) > _RELATIVE_TOLERANCE * employees
    reason = np.where(few, 1, np.where(dominated, 2, 0)).astype(np.int8)
    out["secret"] = few | dominated
    out["secret_reason"] = pd.Categorical.from_codes(reason, categories=list(SECRET_REASONS))
    return out


def secondary_suppression(cells: pd.DataFrame) -> pd.DataFrame:
    """Mask more cells until no secret cell can be recovered by subtraction.

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
    relations = _relations(out, secret)

    added = np.zeros(len(out), dtype=bool)
    changed = True
    while changed:
        changed = False
        for relation in relations:
            flagged = np.flatnonzero(relation.count == 1)  # parent rows of groups to fix
            if not len(flagged):
                continue
            new = _pick_secondary(relation, flagged, secret, employees)
            if not len(new):  # cannot happen in a complete cube; guarantees the loop ends
                continue
            secret[new] = True
            added[new] = True
            for other in relations:
                other.add_secrets(new)
            changed = True

    out["secret"] = secret
    reason = out["secret_reason"].astype(pd.CategoricalDtype(list(SECRET_REASONS)))
    out["secret_reason"] = reason.where(~added, "secondary")
    return out


def apply_secrecy(
    cells: pd.DataFrame, min_companies: int = MIN_COMPANIES, dominance: float = DOMINANCE
) -> pd.DataFrame:
    """Primary then secondary secrecy: the cells with `secret` and `secret_reason` columns.

    Values of secret cells are kept (the engine stores them with their flag, for audit and
    recomputation); views, exports and the API show cells through `mask_values`.
    """
    return secondary_suppression(primary_secrecy(cells, min_companies, dominance))


def mask_values(cells: pd.DataFrame) -> pd.DataFrame:
    """A copy where every value column (VALUE_COLUMNS present) of a secret cell is NaN.

    Coordinates, `secret` and `secret_reason` are kept; counts become float columns so they
    can hold NaN.
    """
    out = cells.copy(deep=False)  # copy-on-write: only the columns set here are new
    published = ~out["secret"].to_numpy(dtype=bool)
    for column in VALUE_COLUMNS:
        if column in out.columns:
            out[column] = out[column].astype(np.float64).where(published)
    return out


def single_secret_groups(cells: pd.DataFrame) -> int:
    """Number of parent/children groups holding exactly one secret cell (0 once protected)."""
    secret = cells["secret"].to_numpy(dtype=bool)
    return int(sum((relation.count == 1).sum() for relation in _relations(cells, secret)))


class _Relation:
    """One parent/children relation along one dimension, e.g. région → EPCI.

    A group is a parent cell and its children, and is known by the parent's row. `level`
    (each cell's level on the dimension, int8) and `parent_row` (the row of each cell's
    parent cell on the dimension, -1 when it has none, int32) are shared by the relations of
    a dimension: a cell's level says in which of them it is a child. `count`, per row, is the
    number of secret cells in the group that row is the parent of, capped at 2 (only "one"
    matters), or -1 when the row is the parent of no group.
    """

    def __init__(self, level: np.ndarray, parent_row: np.ndarray, child_level: int, parent_level: int):
        self.level = level
        self.parent_row = parent_row
        self.child_level = child_level
        self.parent_level = parent_level
        self.count = np.full(len(level), -1, dtype=np.int8)

    def children(self, rows: np.ndarray) -> np.ndarray:
        """Those of `rows` that are a child in this relation and have their parent cell."""
        rows = rows[self.level[rows] == self.child_level]
        return rows[self.parent_row[rows] >= 0]

    def add_secrets(self, rows: np.ndarray) -> None:
        """Count newly secret cells (`rows`) in the groups they belong to."""
        own = rows[(self.level[rows] == self.parent_level) & (self.count[rows] >= 0)]
        groups, n = np.unique(np.concatenate([self.parent_row[self.children(rows)], own]), return_counts=True)
        self.count[groups] = np.minimum(self.count[groups] + n, 2)


def _codes_in(values: pd.Series, vocabulary: pd.Index) -> np.ndarray:
    """Position of each value in `vocabulary` (-1 when absent), hashing only distinct values."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        mapping = vocabulary.get_indexer(values.cat.categories.astype(object))
        codes = values.cat.codes.to_numpy()
    else:
        codes, uniques = pd.factorize(values)
        mapping = vocabulary.get_indexer(pd.Index(np.asarray(uniques, dtype=object)))
    mapping = np.append(mapping, -1).astype(np.int32)  # code -1 (NaN) maps to -1
    return mapping[codes]


def _distinct(values: pd.Series) -> np.ndarray:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return np.asarray(values.cat.categories, dtype=object)
    return np.asarray(pd.unique(values.dropna()), dtype=object)


def _dimension_nodes(cells: pd.DataFrame, dimension: str) -> tuple:
    """Members of one dimension as integer nodes.

    Returns (level of each cell as its index in LEVELS[dimension] (int8), node of each cell
    (int32), parent node of each node (-1 for "all"), number of nodes). A node is a (level,
    code, parent) triple, so an EPCI straddling two régions makes two nodes; parents are
    looked up by (level, code), which is unique at the levels that have children.
    """
    if dimension == "size":
        is_all = (cells["size_band"] == ALL_SIZE).to_numpy().astype(np.int8)
        level = pd.Series(pd.Categorical.from_codes(is_all, categories=["band", "all"]))
        code = cells["size_band"]
        parent = pd.Series(pd.Categorical.from_codes(is_all, categories=[ALL_SIZE, ""]))
    else:
        level = cells[f"{dimension}_level"]
        code = cells[f"{dimension}_code"]
        parent = cells[f"{dimension}_parent"]
    levels = LEVELS[dimension]
    level_ids = _codes_in(level, pd.Index(levels, dtype=object)).astype(np.int8)
    if (level_ids < 0).any():
        raise ValueError(f"unknown {dimension} level in {sorted(set(_distinct(level)))}")
    vocabulary = pd.Index(pd.unique(np.concatenate([_distinct(code), _distinct(parent)])))
    width = len(vocabulary) + 1  # codes are shifted by one so that -1 (missing) fits
    key = level_ids.astype(np.int64) * width + (_codes_in(code, vocabulary) + 1)
    key = key * width + (_codes_in(parent, vocabulary) + 1)
    node, triples = dense_codes(key, len(levels) * width * width)
    del key
    node_level = triples // (width * width)
    node_code = (triples // width) % width
    node_parent_code = triples % width

    by_level_code = pd.Series(np.arange(len(triples)), index=node_level * width + node_code)
    by_level_code = by_level_code[~by_level_code.index.duplicated()]
    parent_level = np.array([levels.index(PARENT_LEVEL[dimension][lv]) if lv != "all" else -1 for lv in levels])
    wanted = parent_level[node_level] * width + node_parent_code
    node_parent = by_level_code.reindex(wanted).fillna(-1).to_numpy(dtype=np.int64)
    node_parent[parent_level[node_level] < 0] = -1
    return level_ids, node.astype(np.int32), node_parent, len(triples)


def _relations(cells: pd.DataFrame, secret: np.ndarray) -> list[_Relation]:
    """Every parent/children relation of every dimension, with its groups' secret counts.

    A child's parent cell has the same nodes on the three other dimensions and the child's
    parent node on the relation's dimension. Parents are found by hashing the parent cells'
    keys only, and a lone parent, or children whose parent cell is absent from the frame,
    form no group (subtraction needs both). In a cube from `build_cube` every group is
    complete.
    """
    nodes = {d: _dimension_nodes(cells, d) for d in DIMENSIONS}
    relations = []
    for dimension in DIMENSIONS:
        level, node, node_parent, n_nodes = nodes[dimension]
        levels = LEVELS[dimension]
        parent_row = np.full(len(cells), -1, dtype=np.int32)
        for child_level, parent_level in PARENT_LEVEL[dimension].items():
            child_code, parent_code = levels.index(child_level), levels.index(parent_level)
            parents = np.flatnonzero(level == parent_code).astype(np.int32)
            children = np.flatnonzero(level == child_code).astype(np.int32)
            parent_keys = pd.Index(_cell_keys(nodes, dimension, parents, node[parents]))
            if not parent_keys.is_unique:
                raise ValueError(f"duplicate cells at {dimension} level {parent_level}")
            found = parent_keys.get_indexer(_cell_keys(nodes, dimension, children, node_parent[node[children]]))
            del parent_keys
            parents = np.append(parents, -1)  # so that "not found" (-1) reads -1
            parent_row[children] = parents[found]
            del found, parents

            relation = _Relation(level, parent_row, child_code, parent_code)
            children = children[parent_row[children] >= 0]
            is_group = np.zeros(len(cells), dtype=bool)
            is_group[parent_row[children]] = True  # the parents that have children
            count = np.bincount(parent_row[children[secret[children]]], minlength=len(cells))
            count += is_group & secret
            relation.count = np.where(is_group, np.minimum(count, 2), -1).astype(np.int8)
            relations.append(relation)
            del children, is_group, count
    return relations


def _cell_keys(nodes: dict, dimension: str, rows: np.ndarray, own: np.ndarray) -> np.ndarray:
    """One int64 per row from its nodes on every dimension, `own` standing for `dimension`'s
    (shifted by one so that a missing parent, -1, stays distinct)."""
    key = np.zeros(len(rows), dtype=np.int64)
    bound = 1
    for other in DIMENSIONS:
        codes, size = (
            (own + 1, nodes[other][3] + 1) if other == dimension else (nodes[other][1][rows], nodes[other][3])
        )
        if bound * size > 2**62:
            raise ValueError("too many members to key the cells")  # never: a few 1e12 at most
        key *= size
        key += codes
        bound *= size
    return key


def _pick_secondary(relation: _Relation, flagged: np.ndarray, secret: np.ndarray, employees: np.ndarray) -> np.ndarray:
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
