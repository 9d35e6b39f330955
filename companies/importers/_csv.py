"""Line-numbered reading shared by the importers of `companies` (CSV, and JSON arrays).

An error is only useful if it says where to look. pandas' `read_csv` numbers records, not
lines: as soon as a quoted label spans two lines (INSEE files have some), its row index is off.
So CSV files go through the `csv` module, which knows how many physical lines it has consumed,
and only the parsed records are handed to pandas. `json.load` forgets positions altogether, so
JSON arrays are walked element by element with the decoder's `raw_decode`.
"""

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from skills.importers.base import ImportFailed, RowError

LINE = "line"  # physical line where the record starts, the header being line 1
FIELD_COUNT = "field_count"  # fields found on the record, to spot shifted rows in `clean`


def read_csv_with_lines(path: Path, *, source: str, delimiter: str = ";", encoding: str = "utf-8-sig") -> pd.DataFrame:
    """Return the records of a CSV file as strings under the header's own column names, plus
    `line` and `field_count`. Blank lines are skipped. Short records are padded with None;
    empty trailing fields beyond the header (a stray final `;`) are not counted.

    Raises ImportFailed for an empty file, broken quoting or bytes that are not `encoding`.
    """
    text = read_text(path, source=source, encoding=encoding)
    # newline="": lines are split on CRLF, LF or CR but kept as they are, which is what the
    # csv module needs to see line breaks inside quoted fields, and what a text editor counts.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header = _next_record(reader, 1, source)
    if header is None:
        raise ImportFailed([RowError(1, "fichier vide", source)], source)
    width = len(header)
    records, lines, counts = [], [], []
    while True:
        start = reader.line_num + 1
        row = _next_record(reader, start, source)
        if row is None:
            break
        if not any(field.strip() for field in row):
            continue
        while len(row) > width and not row[-1].strip():
            row.pop()
        counts.append(len(row))
        lines.append(start)
        records.append((row + [None] * width)[:width])
    frame = pd.DataFrame(records, columns=header, dtype=object)
    frame[LINE] = lines
    frame[FIELD_COUNT] = counts
    return frame


def read_text(path: Path, *, source: str, encoding: str = "utf-8-sig") -> str:
    """The whole file as text (a UTF-8 BOM is dropped). Decoding it in one go, rather than
    through a stream, lets a bad byte be reported with its line."""
    data = Path(path).read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        # With utf-8-sig the positions count from after the BOM, in `exc.object`.
        line = exc.object.count(b"\n", 0, exc.start) + 1
        offset = len(data) - len(exc.object) + exc.start + 1
        message = f"octets illisibles en {encoding} (octet n°{offset}) : {exc.reason}"
        raise ImportFailed([RowError(line, message, source)], source) from exc


def _next_record(reader, start: int, source: str) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise ImportFailed([RowError(start, f"CSV illisible : {exc}", source)], source) from exc


def read_json_with_lines(path: Path, *, source: str, array_key: str | None = None) -> tuple[Any, list[int]]:
    """Decode a JSON file and give the line where each element of its array starts: the
    document itself, or the member `array_key` of a top-level object (a GeoJSON
    FeatureCollection's `features`). Raises ImportFailed, with the line, if it does not parse."""
    text = read_text(path, source=source)
    try:
        return parse_json_with_lines(text, array_key)
    except json.JSONDecodeError as exc:
        message = f"JSON illisible (colonne {exc.colno}) : {exc.msg}"
        raise ImportFailed([RowError(exc.lineno, message, source)], source) from exc


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def parse_json_with_lines(text: str, array_key: str | None = None) -> tuple[Any, list[int]]:
    """json.loads, walking the one array whose elements we want to locate by hand so that the
    C decoder's `raw_decode` tells where each element starts; everything else is decoded by
    the json module itself. Raises json.JSONDecodeError."""
    starts: list[int] = []

    def skip(i: int) -> int:
        return _WHITESPACE.match(text, i).end()

    def array_at(i: int) -> tuple[list, int]:
        starts.clear()  # a repeated key: the last one wins, as with json.loads
        items: list = []
        i = skip(i + 1)
        if text.startswith("]", i):
            return items, i + 1
        while True:
            starts.append(i)
            item, i = _DECODER.raw_decode(text, i)
            items.append(item)
            i = skip(i)
            if text.startswith(",", i):
                i = skip(i + 1)
            elif text.startswith("]", i):
                return items, i + 1
            else:
                raise json.JSONDecodeError("« , » ou « ] » attendu", text, i)

    def object_at(i: int) -> tuple[dict, int]:
        members: dict = {}
        i = skip(i + 1)
        if text.startswith("}", i):
            return members, i + 1
        while True:
            if not text.startswith('"', i):
                raise json.JSONDecodeError("nom de propriété attendu", text, i)
            key, i = _DECODER.raw_decode(text, i)
            i = skip(i)
            if not text.startswith(":", i):
                raise json.JSONDecodeError("« : » attendu", text, i)
            i = skip(i + 1)
            if key == array_key and text.startswith("[", i):
                members[key], i = array_at(i)
            else:
                members[key], i = _DECODER.raw_decode(text, i)
            i = skip(i)
            if text.startswith(",", i):
                i = skip(i + 1)
            elif text.startswith("}", i):
                return members, i + 1
            else:
                raise json.JSONDecodeError("« , » ou « } » attendu", text, i)

    i = skip(0)
    if array_key is None and text.startswith("[", i):
        document, i = array_at(i)
    elif array_key is not None and text.startswith("{", i):
        document, i = object_at(i)
    else:
        document, i = _DECODER.raw_decode(text, i)
    i = skip(i)
    if i != len(text):
        raise json.JSONDecodeError("contenu en trop après le document", text, i)

    lines, line, previous = [], 1, 0
    for start in starts:
        line += text.count("\n", previous, start)
        lines.append(line)
        previous = start
    return document, lines
