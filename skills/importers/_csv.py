"""Reading official CSV exports into frames of strings, and the row checks importers share.

A frame read here has the file's official column names, every value as a `str` (codes keep
their leading zeros, an empty field stays ""), and the physical line number of each row in
the file as its index (the header is line 1), so that every error can name its line.
"""

import csv
import io
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from .base import ImportFailed, RowError


def read_csv(path: Path, columns: Iterable[str], *, delimiter: str = ",") -> pd.DataFrame:
    """Read `path` (UTF-8, header row) and return its rows as a frame indexed by line number.

    The stdlib csv reader parses, not pandas.read_csv, because it says on which physical
    line each record starts (a quoted field may span lines) and lets a row with too few or
    too many fields be reported as a row error instead of being padded or aborting the read.
    Raises ImportFailed when the file is not UTF-8, is empty or lacks a column of `columns`.
    """
    path = Path(path)
    source = path.name
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        error = RowError(line, "caractère invalide : le fichier doit être encodé en UTF-8", source)
        raise ImportFailed([error], source) from exc

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip() for name in next(reader, [])]
    if not any(header):
        raise ImportFailed([RowError(1, "fichier vide : ligne d'en-tête absente", source)], source)
    missing = [name for name in columns if name not in header]
    if missing:
        message = f"colonne(s) absente(s) de l'en-tête : {', '.join(missing)}"
        raise ImportFailed([RowError(1, message, source)], source)

    rows, lines, errors = [], [], []
    line_end = reader.line_num
    try:
        for record in reader:
            line_start, line_end = line_end + 1, reader.line_num
            if not record:  # a blank line
                continue
            if len(record) != len(header):
                message = f"{len(record)} champ(s) au lieu de {len(header)}"
                errors.append(RowError(line_start, message, source))
                continue
            rows.append([value.strip() for value in record])
            lines.append(line_start)
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"ligne illisible : {exc}", source))
    if errors:
        raise ImportFailed(errors, source)

    frame = pd.DataFrame(rows, columns=header, index=pd.Index(lines, name="line"), dtype=str)
    frame.attrs["source"] = source
    return frame


class RowChecker:
    """Collects the errors of one frame, check after check, and keeps the rows with none.

    Messages are templates filled with the row's values (`"code « {code_rome} » invalide"`).
    Reference and uniqueness checks skip rows already rejected, so that one bad code gives
    one error and not three.
    """

    def __init__(self, frame: pd.DataFrame, source: str = ""):
        self.frame = frame
        self.source = source or frame.attrs.get("source", "")
        self.errors: list[RowError] = []
        self.bad = pd.Series(False, index=frame.index)

    def flag(self, mask: pd.Series, message: str | Callable[[dict], str]) -> None:
        """Reject the rows where `mask` is true."""
        mask = mask.fillna(True).astype(bool)
        for line, row in self.frame[mask].iterrows():
            values = row.to_dict()
            text = message(values) if callable(message) else message.format(**values)
            self.errors.append(RowError(int(line), text, self.source))
        self.bad |= mask

    def required(self, column: str, what: str) -> None:
        self.flag(self.frame[column] == "", f"{what} vide")

    def matches(self, column: str, pattern: str, message: str) -> None:
        """Reject non-empty values that do not match `pattern` whole (empty ones are for
        `required` to judge)."""
        values = self.frame[column]
        self.flag((values != "") & ~values.str.fullmatch(pattern), message)

    def max_length(self, column: str, length: int, what: str) -> None:
        too_long = self.frame[column].str.len() > length
        self.flag(too_long, f"{what} trop long : {length} caractères au plus")

    def one_of(self, column: str, allowed: Iterable[str], what: str) -> None:
        allowed = list(allowed)
        shown = ", ".join(f"« {value} »" for value in allowed if value)
        if "" in allowed:
            shown += " ou vide"
        message = f"{what} : valeur « {{{column}}} » inconnue (attendu : {shown})"
        self.flag(~self.frame[column].isin(allowed), message)

    def known(self, values: pd.Series, known: set[str], message: str) -> None:
        """Reject rows whose `values` (a column, or a series derived from one) are not in
        `known`."""
        self.flag(~self.bad & (values != "") & ~values.isin(known), message)

    def unique(self, columns: list[str], what: str) -> None:
        """Reject the second and later occurrences of the same key, naming the first line.
        `what` is a template filled with the row's values, like the other messages."""
        candidates = self.frame[~self.bad]
        repeated = candidates.duplicated(columns, keep="first")
        if not repeated.any():
            return
        keys = candidates[columns].apply(tuple, axis=1)
        first_line = {}
        for line, key in keys.items():
            first_line.setdefault(key, line)
        mask = pd.Series(False, index=self.frame.index)
        mask[repeated[repeated].index] = True

        def message(row):
            line = first_line[tuple(row[column] for column in columns)]
            return f"{what.format(**row)} en double (déjà ligne {line})"

        self.flag(mask, message)

    def result(self) -> tuple[pd.DataFrame, list[RowError]]:
        """The rows without error, and the errors in line order."""
        errors = sorted(self.errors, key=lambda error: error.line)
        return self.frame[~self.bad], errors
