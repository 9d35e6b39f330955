"""Published occupation crosswalks → OccupationCrosswalk, so that indices keyed by ISCO-08 or
SOC 2010 codes reach the ROME fiches (see indices.py).

Two files of a folder, each optional (a missing one is skipped):

- `Correspondance_ROME_ISCO08_rome_to_isco.csv` — Pôle emploi's ROME v3 → ISCO-08 table
  (the one used on EURES), 532 rows, one ISCO-08 unit group per ROME v3 fiche. `,`, CRLF,
  columns Code ROME, Libellé codes ROME, ISCO08 14SI4, Code ISCO08, Libellé codes ISCO08.
  "Code ISCO08" is the mapping; "ISCO08 14SI4" is another coding and is ignored. The table
  went through a spreadsheet, so ISCO codes lost their leading zero (`110` is `0110`): they
  are padded back to four digits.
- `BLS_ISCO08_to_SOC2010.csv` — the US Bureau of Labor Statistics ISCO-08 → SOC 2010
  crosswalk (2012, updated 2015), many to many. `,`, CRLF, columns ISCO-08 Code, ISCO-08
  Title EN, part, 2010 SOC Code, 2010 SOC Title, Comment 8/17/11. Codes carry stray spaces
  (`55-1011 `): they are stripped. Its ISCO codes are written as text with their zeros; the
  two 3-digit ones (`211`, `315`) are ISCO minor groups, as its comment column says, and
  are kept as written.

For each pair of systems the file is the whole table: pairs gone from it are deleted.
Every file present is checked before anything is written, in one transaction.
"""

from pathlib import Path

import pandas as pd
from django.db import transaction

from skills.models import OccupationCrosswalk

from ._csv import RowChecker, read_csv
from .base import ImportFailed, ImportReport, RowError
from .rome import SyncReport

System = OccupationCrosswalk.System

ROME_ISCO_FILE = "Correspondance_ROME_ISCO08_rome_to_isco.csv"
ISCO_SOC_FILE = "BLS_ISCO08_to_SOC2010.csv"

ROME_CODE = "Code ROME"
ISCO_CODE = "Code ISCO08"
BLS_ISCO_CODE = "ISCO-08 Code"
BLS_SOC_CODE = "2010 SOC Code"

ROME_V3 = r"[A-N][0-9]{4}"
ISCO_LOST_ZERO = r"[0-9]{3,4}"  # 110 → 0110
ISCO_BLS = r"[0-9]{3,4}"  # 4-digit unit groups, and two 3-digit minor groups
SOC = r"[0-9]{2}-[0-9]{4}"
BATCH_SIZE = 1000


def import_crosswalks(directory: Path) -> list[ImportReport]:
    """Import the crosswalk files found in `directory`, one report per file, in the order of
    the chain (ROME → ISCO → SOC). Raises ImportFailed, having written nothing, when the
    folder holds neither file or when any row of either is wrong."""
    directory = Path(directory)
    present = [(name, spec) for name, spec in FILES.items() if (directory / name).is_file()]
    if not present:
        raise NoCrosswalkFile(directory)

    pairs, errors = {}, []
    for name, (read, clean, _systems) in present:
        try:
            frame, file_errors = clean(read(directory / name))
        except ImportFailed as exc:
            errors += exc.errors
            continue
        pairs[name] = frame
        errors += file_errors
    if errors:
        sources = {error.source for error in errors}
        source = sources.pop() if len(sources) == 1 else f"Correspondances ({directory})"
        raise ImportFailed(errors, source)

    with transaction.atomic():
        return [load_crosswalk(frame, *FILES[name][2], source=name) for name, frame in pairs.items()]


class NoCrosswalkFile(ImportFailed):
    """The folder holds neither crosswalk file (or does not exist)."""

    def __init__(self, directory: Path):
        super().__init__([], source=str(directory))
        self.args = (
            f"Correspondances refusées, rien n'a été écrit : aucun des fichiers attendus "
            f"({', '.join(FILES)}) dans le dossier {directory}",
        )


# Read: the official columns, every value a string.


def read_rome_to_isco(path: Path) -> pd.DataFrame:
    return read_csv(path, [ROME_CODE, ISCO_CODE])


def read_isco_to_soc(path: Path) -> pd.DataFrame:
    return read_csv(path, [BLS_ISCO_CODE, BLS_SOC_CODE])


# Clean: each returns the pairs (`source_code`, `target_code`) of the rows that passed, in
# the written form of OccupationCrosswalk, and the errors of the others.


def clean_rome_to_isco(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[RowError]]:
    frame = frame.assign(_source=frame[ROME_CODE], _target=frame[ISCO_CODE].str.zfill(4))
    check = RowChecker(frame)
    check.required(ROME_CODE, "code ROME")
    check.matches(
        ROME_CODE,
        ROME_V3,
        lambda row: f"code ROME « {row[ROME_CODE]} » invalide (attendu : une lettre et 4 chiffres)",
    )
    check.required(ISCO_CODE, "code ISCO-08")
    check.matches(
        ISCO_CODE,
        ISCO_LOST_ZERO,
        lambda row: f"code ISCO-08 « {row[ISCO_CODE]} » invalide (attendu : 3 ou 4 chiffres)",
    )
    return _pairs(check)


def clean_isco_to_soc(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[RowError]]:
    frame = frame.assign(_source=frame[BLS_ISCO_CODE], _target=frame[BLS_SOC_CODE])
    check = RowChecker(frame)
    check.required(BLS_ISCO_CODE, "code ISCO-08")
    check.matches(
        BLS_ISCO_CODE,
        ISCO_BLS,
        lambda row: f"code ISCO-08 « {row[BLS_ISCO_CODE]} » invalide (attendu : 4 chiffres)",
    )
    check.required(BLS_SOC_CODE, "code SOC 2010")
    check.matches(
        BLS_SOC_CODE,
        SOC,
        lambda row: f"code SOC 2010 « {row[BLS_SOC_CODE]} » invalide (attendu : « 43-6014 »)",
    )
    return _pairs(check)


def _pairs(check: RowChecker) -> tuple[pd.DataFrame, list[RowError]]:
    """Reject repeated pairs and return the others as (`source_code`, `target_code`)."""
    check.unique(["_source", "_target"], "correspondance {_source} → {_target}")
    kept, errors = check.result()
    return kept[["_source", "_target"]].set_axis(["source_code", "target_code"], axis=1), errors


FILES = {
    ROME_ISCO_FILE: (read_rome_to_isco, clean_rome_to_isco, (System.ROME_V3, System.ISCO08)),
    ISCO_SOC_FILE: (read_isco_to_soc, clean_isco_to_soc, (System.ISCO08, System.SOC2010)),
}


# Load.


def load_crosswalk(frame: pd.DataFrame, source_system: str, target_system: str, *, source: str) -> SyncReport:
    """Make the pairs from `source_system` to `target_system` exactly those of `frame`."""
    wanted = set(zip(frame["source_code"], frame["target_code"], strict=True))
    table = OccupationCrosswalk.objects.filter(source_system=source_system, target_system=target_system)
    rows = table.values_list("pk", "source_code", "target_code")
    existing = {(code, target): pk for pk, code, target in rows}
    to_create = [
        OccupationCrosswalk(
            source_system=source_system,
            source_code=code,
            target_system=target_system,
            target_code=target,
        )
        for code, target in sorted(wanted - existing.keys())
    ]
    gone = [pk for pair, pk in existing.items() if pair not in wanted]
    report = SyncReport(source, created=len(to_create), deleted=len(gone))
    report.unchanged = len(wanted) - len(to_create)
    with transaction.atomic():
        for start in range(0, len(gone), BATCH_SIZE):
            OccupationCrosswalk.objects.filter(pk__in=gone[start : start + BATCH_SIZE]).delete()
        OccupationCrosswalk.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    return report
