"""Integer coding of hierarchical codes, shared by the cube and secrecy.

Millions of rows are never grouped on strings: each level's codes become dense integer
nodes once, and groupings combine nodes in mixed radix into one int64 key per row.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

UNKNOWN_CODE = "inconnu"  # member holding the rows whose code is missing at a level
# Below a parent, the unknown member is named after it (« inconnu-32 »: the communes of
# région 32 outside any EPCI), so that the unknown members of two parents never share a code
# once cells are stored without their parent. Longest: an unknown below an unknown parent.
UNKNOWN_PREFIX = f"{UNKNOWN_CODE}-"
CODE_MAX_LENGTH = 24  # what a stored cell code may hold, unknown members included


def unknown_code(parent: str) -> str:
    """The code of the unknown member below `parent` ("" for a roll-up: no qualifier)."""
    return f"{UNKNOWN_PREFIX}{parent}" if parent else UNKNOWN_CODE


def is_unknown(code) -> bool:
    """Whether `code` names an unknown member (of any parent): it starts with UNKNOWN_CODE,
    which no nomenclature's code does. The one rule, also written as an ORM lookup:
    `.exclude(occupation_code__startswith=UNKNOWN_CODE)`."""
    return isinstance(code, str) and code.startswith(UNKNOWN_CODE)


def unknown_mask(codes: pd.Series) -> np.ndarray:
    """`is_unknown` of every code of a column."""
    return codes.astype(str).str.startswith(UNKNOWN_CODE).to_numpy(dtype=bool)


def unknown_parent(code: str) -> str:
    """The parent an unknown member's code names ("" for an unqualified one)."""
    return code.removeprefix(UNKNOWN_PREFIX) if code.startswith(UNKNOWN_PREFIX) else ""


_INT64_SAFE = 2**62


@dataclass
class Level:
    """Members of one level of a dimension, as integer nodes.

    codes: node of each row (int32); labels: code of each node; parent: node of the parent
    level for each node (-1 for the "all" level). A node is a path (région, EPCI), so an EPCI
    straddling two régions would give two nodes.
    """

    codes: np.ndarray
    labels: np.ndarray
    parent: np.ndarray

    @property
    def size(self) -> int:
        return len(self.labels)


def all_level(n: int, label: str) -> Level:
    """The roll-up level: one node, `label`, holding all `n` rows."""
    return Level(
        codes=np.zeros(n, dtype=np.int32),
        labels=np.array([label], dtype=object),
        parent=np.array([-1], dtype=np.int64),
    )


def raw_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each value and the code labels as str; NaN and "" become UNKNOWN_CODE.

    Only the distinct values are turned into strings, never the rows.
    """
    ids, uniques = pd.factorize(values, use_na_sentinel=True)
    labels = [str(u).strip() or UNKNOWN_CODE for u in np.asarray(uniques, dtype=object)]
    labels.append(UNKNOWN_CODE)  # for the NaN sentinel -1, i.e. the last entry
    label_ids, label_uniques = pd.factorize(np.array(labels, dtype=object))
    return label_ids[ids].astype(np.int64), np.asarray(label_uniques, dtype=object)


def encode_level(values: pd.Series, parent: Level) -> Level:
    """The level whose code of each row is `values`, its nodes nested in `parent`'s; an
    unknown member below a parent that is not a roll-up is named after it (`unknown_code`)."""
    raw, raw_labels = raw_codes(values)
    width = len(raw_labels)
    nodes, paths = pd.factorize(parent.codes.astype(np.int64) * width + raw)
    labels = raw_labels[paths % width]
    parents = (paths // width).astype(np.int64)
    unknown = np.flatnonzero(labels == UNKNOWN_CODE)
    if len(unknown) and not (parent.parent < 0).all():  # a roll-up's parent is -1
        labels = labels.copy()
        labels[unknown] = [unknown_code(str(label)) for label in parent.labels[parents[unknown]]]
    return Level(codes=nodes.astype(np.int32), labels=labels, parent=parents)


def dense_ids(columns: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Group ids (numbered in order of first appearance) of rows keyed by integer columns.

    `columns`: (codes in [0, size), size) pairs. Returns the id of each row and the key of
    each group (refactorized on the way whenever the product of sizes nears 2**62).
    """
    key = np.zeros(len(columns[0][0]), dtype=np.int64)
    bound = 1
    for codes, size in columns:
        if bound * size > _INT64_SAFE:
            key, uniques = pd.factorize(key)
            bound = len(uniques)
        key = key * size + codes
        bound *= size
    ids, uniques = pd.factorize(key)
    return ids, uniques


def dense_codes(key: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids of integer keys in [0, bound), numbered in increasing key order, and the
    distinct keys (sorted).

    A lookup table when the range is small next to the number of keys, so that millions of
    keys are not hashed; `pd.factorize` otherwise.
    """
    if bound <= max(4 * len(key), 2**16) and bound <= 2**23:
        present = np.zeros(bound, dtype=bool)
        present[key] = True
        distinct = np.flatnonzero(present)
        del present
        lookup = np.zeros(bound, dtype=np.int32)
        lookup[distinct] = np.arange(len(distinct), dtype=np.int32)
        return lookup[key].astype(np.intp), distinct  # intp, as from factorize: ids * n must not wrap
    ids, distinct = pd.factorize(key, sort=True)
    return ids, distinct


def first_rows(ids: np.ndarray) -> np.ndarray:
    """Index of the first row of each group, for ids numbered in order of first appearance."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    seen = np.maximum.accumulate(ids)
    return np.flatnonzero(np.r_[True, ids[1:] > seen[:-1]])
