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
    relations = _relations(out)

    counts = [np.bincount(r.group[secret & (r.group >= 0)], minlength=r.n_groups) for r in relations]
    added = np.zeros(len(out), dtype=bool)
    changed = True
    while changed:
        changed = False
        for relation, count in zip(relations, counts, strict=True):
            flagged = count == 1
            if not flagged.any():
                continue
            new = _pick_secondary(relation, flagged, secret, employees)
            if not len(new):
                continue
            secret[new] = True
            added[new] = True
            for other, other_count in zip(relations, counts, strict=True):
                groups = other.group[new]
                np.add.at(other_count, groups[groups >= 0], 1)
            changed = True

    out["secret"] = secret
    reason = out["secret_reason"].cat.set_categories(list(SECRET_REASONS))
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
    return int(
        sum(
            (np.bincount(r.group[secret & (r.group >= 0)], minlength=r.n_groups) == 1).sum() for r in _relations(cells)
        )
    )


class _Relation:
    """One parent/children relation along one dimension, e.g. région → EPCI.

    group: per cell, the group it belongs to in this relation (-1 if none); a member is a
    child when its level on the dimension (`level`, shared by the dimension's relations) is
    `child_level`, else it is the group's parent.
    """

    def __init__(self, group: np.ndarray, n_groups: int, level: np.ndarray, child_level: int):
        self.group = group
        self.n_groups = n_groups
        self.level = level
        self.child_level = child_level


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


def _dense(key: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids (int32) of integer keys in [0, bound) and the distinct keys, sorted.

    A lookup table when the range is small (no hashing of millions of keys), else a hash.
    """
    if bound <= 2**26:
        present = np.zeros(bound, dtype=bool)
        present[key] = True
        distinct = np.flatnonzero(present)
        del present
        lookup = np.zeros(bound, dtype=np.int32)
        lookup[distinct] = np.arange(len(distinct), dtype=np.int32)
        return lookup[key], distinct
    ids, distinct = pd.factorize(key, sort=True)
    return ids.astype(np.int32), distinct


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
    node, triples = _dense(key, len(levels) * width * width)
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
    return level_ids, node, node_parent, len(triples)


def _relations(cells: pd.DataFrame) -> list[_Relation]:
    """Every parent/children relation of every dimension, with each cell's group in it.

    A group is keyed by the cell's nodes on the three other dimensions and by the parent
    node on the relation's dimension (the cell's own node for the parent cell). In a cube
    from `build_cube` every group is complete; frames cut from one may hold partial groups.
    """
    nodes = {d: _dimension_nodes(cells, d) for d in DIMENSIONS}
    relations = []
    for dimension in DIMENSIONS:
        level, node, node_parent, n_nodes = nodes[dimension]
        levels = LEVELS[dimension]
        for child_level, parent_level in PARENT_LEVEL[dimension].items():
            child_code, parent_code = levels.index(child_level), levels.index(parent_level)
            is_child = level == child_code
            members = np.flatnonzero(is_child | (level == parent_code)).astype(np.int32)
            anchor = node[members]
            children = is_child[members]
            del is_child
            anchor[children] = node_parent[anchor[children]]
            key = np.zeros(len(members), dtype=np.int64)
            bound = 1
            for other in DIMENSIONS:
                codes, size = (
                    (anchor + 1, n_nodes + 1) if other == dimension else (nodes[other][1][members], nodes[other][3])
                )
                if bound * size > 2**62:  # refold, never in practice (a few 1e12)
                    key, distinct = pd.factorize(key)
                    bound = len(distinct)
                key *= size
                key += codes
                bound *= size
                del codes
            del anchor
            group_of_member, keys = pd.factorize(key)
            del key
            # Subtraction needs the parent cell and at least one child: a lone parent, or
            # children whose parent cell is absent from the frame, form no group.
            complete = (np.bincount(group_of_member[children], minlength=len(keys)) > 0) & (
                np.bincount(group_of_member[~children], minlength=len(keys)) > 0
            )
            group = np.full(len(cells), -1, dtype=np.int32)
            group[members] = np.where(complete[group_of_member], group_of_member, -1)
            relations.append(_Relation(group, len(keys), level, child_code))
            del group_of_member, keys, members, children
    return relations


def _pick_secondary(relation: _Relation, flagged: np.ndarray, secret: np.ndarray, employees: np.ndarray) -> np.ndarray:
    """One more cell to mask in each flagged group of a relation (indices of cells)."""
    group = relation.group
    in_flagged = np.flatnonzero(group >= 0)
    in_flagged = in_flagged[flagged[group[in_flagged]]]
    published = in_flagged[~secret[in_flagged]]
    is_child = relation.level[published] == relation.child_level
    children = published[is_child]
    # The smallest published child of each group: sort by (group, employees, cell index).
    children = children[np.lexsort((children, employees[children], group[children]))]
    child_group = group[children]
    chosen_children = children[np.r_[True, child_group[1:] != child_group[:-1]][: len(children)]]
    # Groups with no published child: mask their parent (the secret cell is an only child).
    has_child = np.zeros(len(flagged), dtype=bool)
    has_child[group[chosen_children]] = True
    parents = published[~is_child]
    chosen_parents = parents[~has_child[group[parents]]]
    return np.concatenate([chosen_children, chosen_parents]).astype(np.int64)
