"""The additive relations of the cube: every parent cell is the sum of its children.

A relation is one parent → children level along one dimension (see `cube.PARENT_LEVEL`):
territory all > région > département, and région > EPCI (EPCI may straddle départements, so
they are children of their région: the région has two sets of children, two equations);
sector all > section > division; occupation all > grand domaine > domaine > fiche; size
all > band. A group is a parent cell and its children along one relation, all other
coordinates fixed: nine relations, and one equation per group, `parent = Σ children`.

These equations are what a reader of the published cells can solve: the one-secret rule
counts secret cells per group, and the audit builds its linear system from them.

The two territory hierarchies are not independent for a reader who knows the COG: an EPCI
whose communes all lie in one département is part of it, so a département is the sum of the
EPCI inside it and of its share of the EPCI that straddle it (and of the communes outside
any EPCI, the « inconnu-32 » member). `equations(cells, inside)` adds those equations: the
shares are unknowns of their own (`parts`), never published, at least zero, and an EPCI that
straddles is the sum of its shares.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..codes import dense_codes
from ..cube import ALL_SIZE, DIMENSIONS, LEVELS, PARENT_LEVEL


class Relation:
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

    def all_children(self) -> np.ndarray:
        """Every row that is a child in this relation and has its parent cell."""
        return self.children(np.arange(len(self.level)))

    def add_secrets(self, rows: np.ndarray) -> None:
        """Count newly secret cells (`rows`) in the groups they belong to."""
        own = rows[(self.level[rows] == self.parent_level) & (self.count[rows] >= 0)]
        groups, n = np.unique(np.concatenate([self.parent_row[self.children(rows)], own]), return_counts=True)
        self.count[groups] = np.minimum(self.count[groups] + n, 2)


def relations(cells: pd.DataFrame, secret: np.ndarray) -> list[Relation]:
    """Every parent/children relation of every dimension, with its groups' secret counts.

    A child's parent cell has the same nodes on the three other dimensions and the child's
    parent node on the relation's dimension. Parents are found by hashing the parent cells'
    keys only, and a lone parent, or children whose parent cell is absent from the frame,
    form no group (subtraction needs both). In a cube from `build_cube` every group is
    complete.
    """
    nodes = {d: _dimension_nodes(cells, d) for d in DIMENSIONS}
    found_relations = []
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

            relation = Relation(level, parent_row, child_code, parent_code)
            children = children[parent_row[children] >= 0]
            is_group = np.zeros(len(cells), dtype=bool)
            is_group[parent_row[children]] = True  # the parents that have children
            count = np.bincount(parent_row[children[secret[children]]], minlength=len(cells))
            count += is_group & secret
            relation.count = np.where(is_group, np.minimum(count, 2), -1).astype(np.int8)
            found_relations.append(relation)
            del children, is_group, count
    return found_relations


def equations(cells: pd.DataFrame, inside: dict | None = None) -> sp.csr_matrix:
    """The additive equations of the cells, one row per group: +1 on each child, -1 on the
    parent, so that `M @ employees == 0` for the cells of a cube (float64, groups × cells).

    Rows come relation after relation, in the order of `relations`, and within a relation in
    the order of the parent rows. With `inside` (EPCI code → the codes of the départements
    its communes lie in, see `inclusion_equations`), the equations that tie the départements
    to their EPCI follow, and the matrix has one more column per share of a straddling EPCI
    (groups × (cells + parts)): the cells' columns come first, as without.
    """
    base = _tree_equations(cells)
    if inside is None:
        return base
    inclusion = inclusion_equations(cells, inside)
    base.resize((base.shape[0], inclusion.shape[1]))
    return sp.vstack([base, inclusion]).tocsr()


def inclusion_equations(cells: pd.DataFrame, inside: dict) -> sp.csr_matrix:
    """The equations a reader of the COG adds between départements and EPCI.

    `inside` maps each EPCI code of the cells (« inconnu-32 » included: the communes of
    région 32 outside any EPCI) to the départements of its communes. For every cell of a
    département D, all other coordinates fixed:

        D = Σ EPCI cells lying in D only + Σ shares in D of the EPCI cells straddling D

    and for every straddling EPCI cell E: E = Σ its shares. A share is an unknown of its
    own (a column after the cells' columns), one per (EPCI cell, département cell of its
    group): a département absent from a group is zero there, and so is the share in it, so
    an EPCI straddling two départements but listed beside one of them in a group lies in that
    one there. An EPCI below one région only counts the départements of that région (an
    EPCI straddling régions is split by région in the cube already).

    Raises ValueError when an EPCI of the cells is missing from `inside`: a département's
    equation would lack its share, and the reader would be assumed to know less than it does.
    """
    n = len(cells)
    level = cells["territory_level"].astype(str).to_numpy()
    departements = np.flatnonzero(level == "departement")
    epcis = np.flatnonzero(level == "epci")
    if not len(departements) or not len(epcis):
        return sp.csr_matrix((0, n))
    codes = cells["territory_code"].astype(str).to_numpy()
    parents = cells["territory_parent"].astype(str).to_numpy()
    missing = sorted(set(codes[epcis]) - set(inside))
    if missing:
        raise ValueError(f"EPCI without their départements: {', '.join(missing[:5])}")
    # One key per cell for its coordinates on the three other dimensions.
    nodes = {d: _dimension_nodes(cells, d) for d in DIMENSIONS if d != "territory"}
    others = np.zeros(n, dtype=np.int64)
    for dimension in ("sector", "occupation", "size"):
        others = others * nodes[dimension][3] + nodes[dimension][1]
    departement_rows = pd.DataFrame(
        {
            "drow": departements,
            "departement": codes[departements],
            "region": parents[departements],
            "key": others[departements],
        }
    )
    links = pd.DataFrame(
        [(epci, departement) for epci, within in inside.items() for departement in within],
        columns=["epci", "departement"],
    )
    epci_rows = pd.DataFrame({"erow": epcis, "epci": codes[epcis], "region": parents[epcis], "key": others[epcis]})
    pairs = epci_rows.merge(links, on="epci").merge(departement_rows, on=["departement", "region", "key"])
    drow = pairs["drow"].to_numpy(dtype=np.int64)
    erow = pairs["erow"].to_numpy(dtype=np.int64)
    # One equation per département cell with EPCI in its group, then one per straddling EPCI cell.
    equation_of_departement, departement_equation = np.unique(drow, return_inverse=True)
    shares_of = np.bincount(erow, minlength=n)[erow]
    straddles = shares_of > 1
    straddling, epci_equation = np.unique(erow[straddles], return_inverse=True)
    n_departements = len(equation_of_departement)
    part_column = n + np.arange(int(straddles.sum()))
    rows = [
        np.arange(n_departements),  # −D
        departement_equation[~straddles],  # + an EPCI inside D
        departement_equation[straddles],  # + a share in D
        n_departements + np.arange(len(straddling)),  # −E
        n_departements + epci_equation,  # + each share of E
    ]
    columns = [equation_of_departement, erow[~straddles], part_column, straddling, part_column]
    values = [
        -np.ones(n_departements),
        np.ones(int((~straddles).sum())),
        np.ones(len(part_column)),
        -np.ones(len(straddling)),
        np.ones(len(part_column)),
    ]
    return sp.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
        shape=(n_departements + len(straddling), n + len(part_column)),
    )


def _tree_equations(cells: pd.DataFrame) -> sp.csr_matrix:
    rows, columns, values = [], [], []
    n_equations = 0
    for relation in relations(cells, np.zeros(len(cells), dtype=bool)):
        children = relation.all_children()
        parents, equation = np.unique(relation.parent_row[children], return_inverse=True)
        rows += [equation + n_equations, np.arange(len(parents)) + n_equations]
        columns += [children, parents]
        values += [np.ones(len(children)), -np.ones(len(parents))]
        n_equations += len(parents)
    if not n_equations:
        return sp.csr_matrix((0, len(cells)))
    return sp.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))), shape=(n_equations, len(cells))
    )


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
