"""PostgreSQL's binary COPY format, written from a frame's columns with numpy.

A CSV of two million cells is about 490 MB of text that PostgreSQL parses (7 s here, most
of the time a run takes to write its cells). In the binary format a number is its bytes:
nothing to print, nothing to parse.

The format (PostgreSQL documentation, « COPY », binary format): a header (signature, flags,
extension length), then per row the number of fields (int16) and per field its length
(int32, −1 for NULL) and its bytes, big-endian; then −1 (int16). Supported column types:
`int8`, `int4`, `float8` (NaN is NULL), `bool` and `text` (categoricals or strings; UTF-8).

How, without a Python loop over rows: every field gets a slot of fixed width in a matrix of
one row per frame row — its length word, then room for its longest payload — and a mask of
the same shape says which bytes of each slot are real (a NULL has no payload, a text only
its own length). The stream is the matrix's masked bytes in row order: `matrix[mask]`. Each
column is one block assignment (a text column gathers its categories' padded bytes by
code), and the compression is one pass over the matrix.
"""

import numpy as np
import pandas as pd

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
_FIXED = {"int8": ">i8", "int4": ">i4", "float8": ">f8", "bool": "u1"}
_LENGTH = np.dtype(">i4")


def encode_rows(frame: pd.DataFrame, types: dict[str, str]) -> bytes:
    """The rows of `frame` in the binary format, without header nor trailer (a COPY stream
    is HEADER, any number of these, TRAILER). `types`: PostgreSQL type of each column, in
    the order of the COPY's column list."""
    n = len(frame)
    if not n:
        return b""
    slots = [_slot(frame[column], kind) for column, kind in types.items()]
    width = 2 + sum(slot.block.shape[1] for slot in slots)
    matrix = np.empty((n, width), dtype=np.uint8)
    mask = np.ones((n, width), dtype=bool)
    matrix[:, :2] = np.frombuffer(np.array(len(slots), dtype=">i2").tobytes(), dtype=np.uint8)
    at = 2
    for slot in slots:
        end = at + slot.block.shape[1]
        matrix[:, at:end] = slot.block
        if slot.present is not None:
            mask[:, at:end] = slot.present
        at = end
    return matrix[mask].tobytes()


class _Slot:
    """A column's bytes, one row per frame row: length word then payload padded to the
    widest; `present` (same shape, or None when every byte is real) marks the real ones."""

    __slots__ = ("block", "present")

    def __init__(self, block: np.ndarray, present: np.ndarray | None):
        self.block, self.present = block, present


def _slot(series: pd.Series, kind: str) -> _Slot:
    if kind in _FIXED:
        return _fixed(series, kind)
    if kind == "text":
        return _text(series)
    raise ValueError(f"unsupported type {kind!r}")


def _fixed(series: pd.Series, kind: str) -> _Slot:
    n = len(series)
    if kind == "float8":
        values = series.to_numpy(dtype=np.float64)
        null = np.isnan(values)
    else:
        if series.isna().any():
            raise ValueError(f"column {series.name!r} ({kind}) holds NULL values")
        values = series.to_numpy()
        null = None
    encoded = values.astype(_FIXED[kind])
    size = encoded.dtype.itemsize
    block = np.empty((n, 4 + size), dtype=np.uint8)
    block[:, :4] = np.frombuffer(np.array(size, dtype=_LENGTH).tobytes(), dtype=np.uint8)
    block[:, 4:] = encoded.view(np.uint8).reshape(n, size)
    if null is None or not null.any():
        return _Slot(block, None)
    block[null, :4] = np.frombuffer(np.array(-1, dtype=_LENGTH).tobytes(), dtype=np.uint8)
    present = np.ones((n, 4 + size), dtype=bool)
    present[null, 4:] = False
    return _Slot(block, present)


def _text(series: pd.Series) -> _Slot:
    categorical = series if isinstance(series.dtype, pd.CategoricalDtype) else series.astype("category")
    codes = categorical.cat.codes.to_numpy()
    if (codes < 0).any():
        raise ValueError(f"column {series.name!r} (text) holds NULL values")
    encoded = [str(category).encode() for category in categorical.cat.categories]
    widest = max((len(value) for value in encoded), default=0)
    # One row per category: its length word and its bytes, padded to the widest.
    table = np.zeros((len(encoded), 4 + widest), dtype=np.uint8)
    sizes = np.array([len(value) for value in encoded], dtype=np.int64)
    table[:, :4] = sizes.astype(_LENGTH).view(np.uint8).reshape(len(encoded), 4)
    for row, value in enumerate(encoded):  # the categories, not the rows
        table[row, 4 : 4 + len(value)] = np.frombuffer(value, dtype=np.uint8)
    block = table[codes]
    if (sizes == widest).all():
        return _Slot(block, None)
    present = np.arange(4 + widest) < (4 + sizes)[:, None]
    return _Slot(block, present[codes])
