"""PostgreSQL's binary COPY format, written from a frame's columns with numpy.

A CSV of two million cells is about 490 MB of text that PostgreSQL parses (7 s here, most
of the time a run takes to write its cells). In the binary format a number is its bytes:
nothing to print, nothing to parse. Every row is written at once, column by column, by
scattering each column's bytes to their offsets in one buffer: no Python loop over rows.

The format (PostgreSQL documentation, « COPY », binary format): a header (signature, flags,
extension length), then per row the number of fields (int16) and per field its length
(int32, −1 for NULL) and its bytes, big-endian; then −1 (int16). Supported column types:
`int8`, `int4`, `float8` (NaN is NULL), `bool` and `text` (categoricals or strings; UTF-8).
"""

import numpy as np
import pandas as pd

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
_FIXED = {"int8": ">i8", "int4": ">i4", "float8": ">f8", "bool": "u1"}


def encode_rows(frame: pd.DataFrame, types: dict[str, str]) -> bytes:
    """The rows of `frame` in the binary format, without header nor trailer (a COPY stream
    is HEADER, any number of these, TRAILER). `types`: PostgreSQL type of each column, in
    the order of the COPY's column list."""
    n = len(frame)
    if not n:
        return b""
    columns = list(types)
    lengths, payloads = [], []
    for column in columns:
        length, payload = _column(frame[column], types[column])
        lengths.append(length)
        payloads.append(payload)
    # Bytes each row takes: the field count, then per field its length word and payload.
    row_bytes = np.full(n, 2, dtype=np.int64)
    for length in lengths:
        row_bytes += 4 + np.maximum(length, 0)
    row_start = np.concatenate([[0], np.cumsum(row_bytes)[:-1]])
    buffer = np.zeros(int(row_bytes.sum()), dtype=np.uint8)
    _scatter(buffer, row_start, np.full(n, len(columns), dtype=">i2"))
    offset = row_start + 2
    for length, payload in zip(lengths, payloads, strict=True):
        _scatter(buffer, offset, length.astype(">i4"))
        payload(buffer, offset + 4)
        offset = offset + 4 + np.maximum(length, 0)
    return buffer.tobytes()


def _scatter(buffer: np.ndarray, offsets: np.ndarray, values: np.ndarray, present: np.ndarray | None = None) -> None:
    """Write each value's bytes (big-endian already) at its offset."""
    raw = values.view(np.uint8).reshape(len(values), values.dtype.itemsize)
    if present is not None:
        raw, offsets = raw[present], offsets[present]
    width = raw.shape[1]
    buffer[offsets[:, None] + np.arange(width)] = raw


def _column(series: pd.Series, kind: str):
    """(length of each field, −1 for NULL; a function writing the payloads at given offsets)."""
    n = len(series)
    if kind in _FIXED:
        if kind == "float8":
            values = series.to_numpy(dtype=np.float64)
            present = ~np.isnan(values)
        else:
            if series.isna().any():
                raise ValueError(f"column {series.name!r} ({kind}) holds NULL values")
            values = series.to_numpy()
            present = None
        encoded = values.astype(_FIXED[kind])
        width = encoded.dtype.itemsize
        length = np.full(n, width, dtype=np.int64)
        if present is not None:
            length[~present] = -1
        return length, lambda buffer, offsets: _scatter(buffer, offsets, encoded, present)
    if kind == "text":
        return _text(series)
    raise ValueError(f"unsupported type {kind!r}")


def _text(series: pd.Series):
    categorical = series.astype("category") if not isinstance(series.dtype, pd.CategoricalDtype) else series
    codes = categorical.cat.codes.to_numpy().astype(np.int64)
    if (codes < 0).any():
        raise ValueError(f"column {series.name!r} (text) holds NULL values")
    encoded = [str(category).encode() for category in categorical.cat.categories]
    sizes = np.array([len(value) for value in encoded], dtype=np.int64)
    pool = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    length = sizes[codes]

    def write(buffer: np.ndarray, offsets: np.ndarray) -> None:
        total = int(length.sum())
        if not total:
            return
        within = np.arange(total) - np.repeat(np.cumsum(length) - length, length)
        buffer[np.repeat(offsets, length) + within] = pool[np.repeat(starts[codes], length) + within]

    return length, write
