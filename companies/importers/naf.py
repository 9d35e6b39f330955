"""INSEE NAF rév. 2, the five levels, from the CSV export of INSEE's list of « postes »
(int_courts_naf_rev_2.csv): `;`-separated, UTF-8 with BOM, CRLF, header
`Code; Intitulés de la  NAF rév. 2, version finale `, one row per poste in tree order.

Codes are written as INSEE prints them: `SECTION A`, division `01`, groupe `01.1`, classe
`01.11`, sous-classe `01.11Z`; the level follows from the shape. Sections are stored under
their letter alone (`A`). Labels may be quoted, with `;` or line breaks inside.

read_naf(file) -> frame of the official columns; clean_naf(frame) -> (frame, errors);
load_naf(frame) -> one report per level, written in one transaction.
"""

import re
from operator import attrgetter
from pathlib import Path

import pandas as pd
from django.db import transaction

from companies.models import Sector
from skills.importers.base import ImportFailed, ImportReport, RowError

from ._csv import FIELD_COUNT, LINE, read_csv_with_lines

Level = Sector.Level
LEVELS = [Level.SECTION, Level.DIVISION, Level.GROUPE, Level.CLASSE, Level.SOUS_CLASSE]
SHAPES = {
    Level.SECTION: re.compile(r"(?:SECTION\s+)?([A-Z])"),
    Level.DIVISION: re.compile(r"(\d{2})"),
    Level.GROUPE: re.compile(r"(\d{2}\.\d)"),
    Level.CLASSE: re.compile(r"(\d{2}\.\d{2})"),
    Level.SOUS_CLASSE: re.compile(r"(\d{2}\.\d{2}[A-Z])"),
}
# Below the division, a parent's code is a prefix of its child's: 01.11Z → 01.11 → 01.1 → 01.
# A division's section is not written in its code: it is the section row above it.
PARENT_PREFIX = {Level.GROUPE: 2, Level.CLASSE: 4, Level.SOUS_CLASSE: 5}
PARENT_LEVEL = dict(zip(LEVELS[1:], LEVELS[:-1], strict=True))
SOURCES = {
    Level.SECTION: "NAF sections",
    Level.DIVISION: "NAF divisions",
    Level.GROUPE: "NAF groupes",
    Level.CLASSE: "NAF classes",
    Level.SOUS_CLASSE: "NAF sous-classes",
}
EXPECTED_SHAPES = "SECTION A, 01, 01.1, 01.11 ou 01.11Z"
CODE_HEADER = "Code"
LABEL_MAX_LENGTH = Sector._meta.get_field("label").max_length
BATCH_SIZE = 1000


def import_naf(path: Path) -> list[ImportReport]:
    """Load the NAF tree of an INSEE CSV export. Every row is checked before anything is
    written; ImportFailed lists the faulty lines."""
    source = Path(path).name
    frame, errors = clean_naf(read_naf(path), source)
    if errors:
        raise ImportFailed(errors, source)
    return load_naf(frame)


def read_naf(path: Path) -> pd.DataFrame:
    """The rows as strings under the file's own two column names, plus `line` (physical line
    where the row starts, header = 1) and `field_count`. Refuses a file whose header is not
    INSEE's."""
    source = Path(path).name
    frame = read_csv_with_lines(path, source=source, delimiter=";")
    header = [column for column in frame.columns if column not in (LINE, FIELD_COUNT)]
    if len(header) < 2 or header[0].strip() != CODE_HEADER:
        message = (
            f"en-tête inattendu « {';'.join(header)} » : une colonne « {CODE_HEADER} » puis "
            "une colonne d'intitulés, séparées par « ; », sont attendues"
        )
        raise ImportFailed([RowError(1, message, source)], source)
    return frame


def clean_naf(frame: pd.DataFrame, source: str = "") -> tuple[pd.DataFrame, list[RowError]]:
    """Check every row and work out its level and parent. Returns `code`, `level`, `label`
    (white space runs, line breaks included, made single spaces), `parent_code`, `line`."""
    columns = [column for column in frame.columns if column not in (LINE, FIELD_COUNT)]
    code_column, label_column = columns[0], columns[1]
    errors: list[RowError] = []
    rows = []
    seen: dict[str, tuple[str, int]] = {}  # code -> (level, line)
    section = None
    for record in frame.to_dict("records"):
        line = record[LINE]
        problems = []
        if record[FIELD_COUNT] > len(columns):
            problems.append(f"{record[FIELD_COUNT]} champs au lieu de {len(columns)}")
        raw_code = (record[code_column] or "").strip()
        label = " ".join((record[label_column] or "").split())
        if not label:
            problems.append(f"intitulé vide pour le code « {raw_code} »")
        elif len(label) > LABEL_MAX_LENGTH:
            problems.append(f"intitulé de plus de {LABEL_MAX_LENGTH} caractères")
        level, code = _level_and_code(raw_code)
        if level is None:
            problems.append(f"code « {raw_code} » de forme inconnue (attendu : {EXPECTED_SHAPES})")
        elif code in seen:
            problems.append(f"code {code} en double (déjà ligne {seen[code][1]})")
        else:
            seen[code] = (level, line)
            if level == Level.SECTION:
                section, parent = code, None
            elif level == Level.DIVISION:
                parent = section
                if section is None:
                    problems.append(f"la division {code} précède toute section")
            else:
                parent = code[: PARENT_PREFIX[level]]
            rows.append(
                {
                    "code": code,
                    "level": level.value,
                    "label": label,
                    "parent_code": parent,
                    LINE: line,
                }
            )
        errors.extend(RowError(line, problem, source) for problem in problems)
    # Below the division the parent follows from the code alone: look it up in the whole
    # file, wherever it stands.
    for row in rows:
        parent, level = row["parent_code"], Level(row["level"])
        if level in PARENT_PREFIX and seen.get(parent, (None,))[0] != PARENT_LEVEL[level]:
            expected = PARENT_LEVEL[level].label.lower()
            message = f"{level.label.lower()} {row['code']} : {expected} {parent} absent du fichier"
            errors.append(RowError(row[LINE], message, source))
    columns = ["code", "level", "label", "parent_code", LINE]
    return pd.DataFrame(rows, columns=columns, dtype=object), sorted(errors, key=attrgetter("line"))


def _level_and_code(raw: str) -> tuple[Level | None, str | None]:
    for level, shape in SHAPES.items():
        match = shape.fullmatch(raw)
        if match:
            return level, match.group(1)
    return None, None


@transaction.atomic
def load_naf(frame: pd.DataFrame) -> list[ImportReport]:
    """Upsert the sectors on their code, level by level from the sections down so that every
    parent has an id when its children are written. Sectors absent from the file are kept:
    establishments may point to them."""
    existing = {sector.code: sector for sector in Sector.objects.all()}
    ids = {code: sector.id for code, sector in existing.items()}
    reports = []
    for level in LEVELS:
        report = ImportReport(SOURCES[level])
        to_create, to_update = [], []
        for row in frame[frame["level"] == level.value].to_dict("records"):
            values = {
                "level": level.value,
                "label": row["label"],
                "parent_id": ids[row["parent_code"]] if row["parent_code"] else None,
            }
            sector = existing.get(row["code"])
            if sector is None:
                to_create.append(Sector(code=row["code"], **values))
            elif any(getattr(sector, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(sector, key, value)
                to_update.append(sector)
            else:
                report.unchanged += 1
        Sector.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        Sector.objects.bulk_update(to_update, ["level", "label", "parent"], batch_size=BATCH_SIZE)
        report.created, report.updated = len(to_create), len(to_update)
        # The children of the next level need the ids of the rows just created.
        ids.update(Sector.objects.filter(level=level).values_list("code", "id"))
        reports.append(report)
    return reports
