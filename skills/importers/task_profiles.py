"""Reference task profiles of ROME fiches (DESIGN.md, grid step 1) → OccupationTaskProfile.

The file is a CSV with the header `code_rome,rc,rm,nra,nri,nrm`: one fiche per row and the
percentage of its working time spent on each of the five task categories. The separator is
`,` or `;` (read from the header line); numbers may have decimals, written `12.5` or, in a
`;` file as a French spreadsheet saves it, `12,5`. A row must sum to 100 % give or take 0.5
(rounding in the source), each share lying in [0, 100].

Profiles are stored as fractions of 1, renormalised by the row's own sum so that a row of
99.8 % still describes the whole of the job. The file name is kept as the profile's source.
Fiches absent from the file keep the profile they have (the file adds to the reference, it
is not the whole list).

read_task_profiles(path) -> frame; clean_task_profiles(frame, known_fiches=…) -> (frame,
errors); load_task_profiles(frame, source) -> report, in one transaction.
"""

from pathlib import Path

import pandas as pd
from django.db import transaction
from django.utils import timezone

from skills.models import Occupation, OccupationTaskProfile

from ._csv import RowChecker, read_csv
from .base import ImportFailed, ImportReport, RowError
from .indices import parse_numbers, sniff_delimiter

CODE = "code_rome"
SHARES = ("rc", "rm", "nra", "nri", "nrm")
COLUMNS = (CODE, *SHARES)
# Rows whose shares sum to 100 ± this many points are accepted (rounding in the source).
SUM_TOLERANCE = 0.5
FICHE_CODE = r"[A-N][0-9]{4}"
BATCH_SIZE = 1000


def import_task_profiles(path: Path) -> ImportReport:
    """Import the task profiles of `path`. Raises ImportFailed, having written nothing, when
    any row is wrong."""
    path = Path(path)
    frame = read_task_profiles(path)
    known = set(Occupation.objects.fiches().values_list("code", flat=True))
    frame, errors = clean_task_profiles(frame, known_fiches=known)
    if errors:
        raise ImportFailed(errors, path.name)
    return load_task_profiles(frame, source=path.name)


def read_task_profiles(path: Path) -> pd.DataFrame:
    return read_csv(path, COLUMNS, delimiter=sniff_delimiter(path, (",", ";")))


def clean_task_profiles(frame: pd.DataFrame, *, known_fiches: set[str]) -> tuple[pd.DataFrame, list[RowError]]:
    """Check every row; the rows that pass come back with their shares as floats (percent)
    and their code in capitals."""
    shares = pd.DataFrame({column: parse_numbers(frame[column]) for column in SHARES})
    total = shares.sum(axis=1, min_count=len(SHARES))
    frame = frame.assign(**{CODE: frame[CODE].str.upper()}, _total=total.map(_french, na_action="ignore"))
    check = RowChecker(frame)
    check.required(CODE, "code ROME")
    check.matches(CODE, FICHE_CODE, "code ROME « {code_rome} » invalide (attendu : une lettre et 4 chiffres)")
    check.known(frame[CODE], known_fiches, "fiche ROME « {code_rome} » inconnue")
    for column in SHARES:
        check.required(column, f"part {column}")
        check.flag(
            (frame[column] != "") & shares[column].isna(),
            f"part {column} « {{{column}}} » : un nombre est attendu",
        )
        check.flag(
            (shares[column] < 0) | (shares[column] > 100),
            f"part {column} « {{{column}}} » hors de l'intervalle 0–100",
        )
    check.flag(
        ~check.bad & ((total - 100).abs() > SUM_TOLERANCE),
        f"la somme des parts fait {{_total}} % (attendu : 100 %, à {_french(SUM_TOLERANCE)} point près)",
    )
    check.unique([CODE], "fiche « {code_rome} »")
    kept, errors = check.result()
    kept = kept.drop(columns="_total").assign(**{column: shares.loc[kept.index, column] for column in SHARES})
    return kept, errors


def load_task_profiles(frame: pd.DataFrame, *, source: str) -> ImportReport:
    """Upsert one profile per fiche of `frame` (shares in percent), in fractions of 1."""
    report = ImportReport(source)
    fractions = frame[list(SHARES)].div(frame[list(SHARES)].sum(axis=1), axis=0)
    existing = OccupationTaskProfile.objects.in_bulk(list(frame[CODE]))
    now = timezone.now()
    to_create, to_update = [], []
    for code, row in zip(frame[CODE], fractions.itertuples(index=False), strict=True):
        values = {"source": source, **{column: float(getattr(row, column)) for column in SHARES}}
        profile = existing.get(code)
        if profile is None:
            to_create.append(OccupationTaskProfile(occupation_id=code, **values))
        elif any(getattr(profile, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(profile, name, value)
            # bulk_update does not run auto_now.
            profile.updated_at = now
            to_update.append(profile)
        else:
            report.unchanged += 1
    report.created, report.updated = len(to_create), len(to_update)
    with transaction.atomic():
        OccupationTaskProfile.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        OccupationTaskProfile.objects.bulk_update(to_update, [*SHARES, "source", "updated_at"], batch_size=BATCH_SIZE)
    return report


def _french(number: float) -> str:
    return f"{number:g}".replace(".", ",")
