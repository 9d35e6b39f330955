"""A published occupation-level index (DESIGN.md, grid step 5) → ExposureIndex and one
ExposureIndexScore per ROME 4.0 fiche it reaches.

The file is any CSV with a code column and a score column (`,`, `;` or TAB, read from the
header line), in one of three nomenclatures:

- `rome`: ROME codes (`M1607`); a fiche absent from the file takes the score of its ROME v3
  parent when the file has it (indices built on ROME v3);
- `isco08`: ISCO-08 unit groups (`4120`; a code that lost its leading zero, `110`, is
  padded back to `0110`), e.g. the ILO 2025 generative-AI index (Gmyrek et al.);
- `soc2010`: US SOC 2010 (`43-6014`; O*NET-SOC `43-6014.00` is cut to its SOC code, and the
  O*NET occupations of one SOC code are averaged), e.g. Frey & Osborne, Felten et al.'s AIOE.

ISCO and SOC codes reach the fiches through the crosswalks of `import_crosswalks`: fiche →
its ROME v3 parent (itself for a historical fiche) → ISCO-08 (Pôle emploi table) → SOC 2010
(BLS table). A fiche reaching several external codes gets the mean of their scores.

Scores that are all in [0, 1] (probabilities, shares) are kept as published; any other scale
(standardised AIOE, ranks) is turned into percentile ranks in ]0, 1] over the file's codes,
so every index reads the same way as the task-based exposure. The published value stays in
`raw_score`. Re-importing under the same name replaces the index's scores.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.db import transaction

from skills.models import ExposureIndex, ExposureIndexScore, Occupation, OccupationCrosswalk

from ._csv import RowChecker, read_csv
from .base import ImportFailed, ImportReport, RowError

CodeSystem = ExposureIndex.CodeSystem
System = OccupationCrosswalk.System

DELIMITERS = (",", ";", "\t")
# Written forms accepted for each nomenclature, before normalisation.
CODE_SHAPES = {
    CodeSystem.ROME: (r"[A-Na-n][0-9]{4}", "une lettre de A à N et 4 chiffres"),
    CodeSystem.ISCO08: (r"[0-9]{1,4}", "un code CITP / ISCO-08 à 4 chiffres"),
    CodeSystem.SOC2010: (
        r"[0-9]{2}-[0-9]{4}(?:\.[0-9]{2})?",
        "un code SOC 2010 « 43-6014 » ou O*NET-SOC « 43-6014.00 »",
    ),
}
MATCHED_CODES_LENGTH = ExposureIndexScore._meta.get_field("matched_codes").max_length
BATCH_SIZE = 1000


@dataclass
class IndexReport(ImportReport):
    """Counts of the fiche scores of one index, and how much of the ROME it covers."""

    deleted: int = 0
    covered: int = 0
    fiches: int = 0
    rescaled: bool = False

    @property
    def coverage(self) -> float:
        return self.covered / self.fiches if self.fiches else 0.0

    def coverage_text(self) -> str:
        """« Couverture : 87,3 % des fiches ROME (1 383 / 1 584) »."""
        percent = f"{100 * self.coverage:.1f}".replace(".", ",")
        return f"Couverture : {percent} % des fiches ROME ({_thousands(self.covered)} / {_thousands(self.fiches)})"

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "deleted": self.deleted,
            "covered": self.covered,
            "fiches": self.fiches,
            "coverage": self.coverage,
            "rescaled": self.rescaled,
        }

    def __str__(self):
        return f"{super().__str__()}, {self.deleted} supprimé(s)"


class MissingCrosswalk(ImportFailed):
    """The index cannot reach the ROME: a crosswalk (or the ROME itself) is not loaded."""

    def __init__(self, message: str, source: str = ""):
        super().__init__([], source=source)
        self.args = (f"{source or 'Indice'} refusé, rien n'a été écrit : {message}",)


def import_index(
    path: Path,
    *,
    name: str,
    code_system: str,
    code_column: str = "code",
    score_column: str = "score",
    description: str = "",
) -> IndexReport:
    """Import the index of `path` under `name`, mapped onto the ROME 4.0 fiches.

    Raises ImportFailed, having written nothing, when a row is wrong (each error names its
    line) or when the crosswalks the code system needs are not loaded.
    """
    path = Path(path)
    source = path.name
    code_system = CodeSystem(code_system)
    fiches = read_fiches()
    if fiches.empty:
        raise MissingCrosswalk(
            "aucune fiche ROME n'est chargée : lancez import_rome avant d'importer un indice.",
            source,
        )
    crosswalks = read_crosswalks(code_system, source)

    frame = read_index(path, code_column=code_column, score_column=score_column)
    scores, errors = clean_index(frame, code_system=code_system, code_column=code_column, score_column=score_column)
    if errors:
        raise ImportFailed(errors, source)
    scores, rescaled = rescale(scores)
    by_fiche = map_to_fiches(scores, fiches, code_system=code_system, **crosswalks)
    return load_index(
        by_fiche,
        name=name,
        code_system=code_system,
        description=description,
        source_file=source,
        rescaled=rescaled,
        fiches=len(fiches),
    )


# Read.


def sniff_delimiter(path: Path, candidates=DELIMITERS) -> str:
    """The candidate found most often on the header line (the first one when none is)."""
    with open(path, "rb") as file:
        header = file.readline().decode("utf-8-sig", errors="replace")
    counts = [header.count(candidate) for candidate in candidates]
    return candidates[counts.index(max(counts))]


def read_index(path: Path, *, code_column: str, score_column: str) -> pd.DataFrame:
    return read_csv(path, [code_column, score_column], delimiter=sniff_delimiter(path))


def read_fiches() -> pd.DataFrame:
    """Every ROME 4.0 fiche with its ROME v3 parent (`code`, `v3`), in one query."""
    rows = Occupation.objects.fiches().values_list("code", "rome_v3_parent_id")
    fiches = pd.DataFrame(list(rows), columns=["code", "v3"], dtype=object)
    fiches["v3"] = fiches["v3"].fillna(fiches["code"])
    return fiches


def read_crosswalks(code_system: str, source: str = "") -> dict[str, pd.DataFrame]:
    """The crosswalk pairs `code_system` needs, as frames of (`source_code`, `target_code`),
    one query per pair of systems. Raises MissingCrosswalk when one is not loaded."""
    needed = {
        CodeSystem.ROME: [],
        CodeSystem.ISCO08: [("rome_to_isco", System.ROME_V3, System.ISCO08)],
        CodeSystem.SOC2010: [
            ("rome_to_isco", System.ROME_V3, System.ISCO08),
            ("isco_to_soc", System.ISCO08, System.SOC2010),
        ],
    }[code_system]
    frames = {}
    for key, source_system, target_system in needed:
        pairs = OccupationCrosswalk.objects.filter(
            source_system=source_system, target_system=target_system
        ).values_list("source_code", "target_code")
        frames[key] = pd.DataFrame(list(pairs), columns=["source_code", "target_code"], dtype=object)
        if frames[key].empty:
            raise MissingCrosswalk(
                f"Aucune table de correspondance {System(source_system).label} → "
                f"{System(target_system).label} n'est chargée : lancez import_crosswalks "
                f"avant d'importer un indice en {CodeSystem(code_system).label}.",
                source,
            )
    return frames


# Clean.


def parse_numbers(values: pd.Series) -> pd.Series:
    """Floats of a column of strings (a decimal comma is read as a point); NaN where a value
    is not a finite number."""
    numbers = pd.to_numeric(values.str.strip().str.replace(",", ".", regex=False), errors="coerce")
    return numbers.where(numbers.abs() != math.inf)


def normalise_codes(codes: pd.Series, code_system: str) -> pd.Series:
    """Codes in the written form of the crosswalks: `0110`, `43-6014`, `M1607`."""
    codes = codes.str.strip()
    if code_system == CodeSystem.ISCO08:
        return codes.str.zfill(4)
    if code_system == CodeSystem.SOC2010:
        return codes.str[:7]
    return codes.str.upper()


def clean_index(
    frame: pd.DataFrame, *, code_system: str, code_column: str, score_column: str
) -> tuple[pd.DataFrame, list[RowError]]:
    """Check every row and return one row per external code: `code` (normalised),
    `raw_score` (the mean of the file's rows for that code: several O*NET occupations may
    share a SOC code) and `lines`."""
    pattern, shape = CODE_SHAPES[code_system]
    numbers = parse_numbers(frame[score_column])
    codes = frame[code_column].str.strip()
    # The same code twice is an error; distinct O*NET-SOC codes of one SOC code are not.
    keys = codes if code_system == CodeSystem.SOC2010 else normalise_codes(codes, code_system)
    # Copies under fixed names, as the file's own column names may not fit a message template.
    frame = frame.assign(_code=codes, _key=keys, _score=frame[score_column])
    check = RowChecker(frame)
    check.required(code_column, "code")
    check.matches("_code", pattern, f"code « {{_code}} » invalide (attendu : {shape})")
    check.required(score_column, "score")
    check.flag(
        (frame[score_column] != "") & numbers.isna(),
        "score « {_score} » : un nombre est attendu",
    )
    check.unique(["_key"], "code « {_key} »")
    kept, errors = check.result()
    scores = pd.DataFrame(
        {
            "code": normalise_codes(kept["_code"], code_system),
            "raw_score": numbers.loc[kept.index],
        }
    )
    scores = scores.groupby("code", as_index=False, sort=True)["raw_score"].mean()
    return scores, errors


def rescale(scores: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Add `score` in [0, 1]: the published value when every value is in [0, 1], else its
    percentile rank among the file's codes (ties share their mean rank). Returns the frame
    and whether it was rescaled."""
    raw = scores["raw_score"]
    if raw.between(0, 1).all():
        return scores.assign(score=raw), False
    return scores.assign(score=raw.rank(pct=True)), True


# Map onto the fiches: frames merged along the crosswalks, no loop over rows.


def map_to_fiches(
    scores: pd.DataFrame,
    fiches: pd.DataFrame,
    *,
    code_system: str,
    rome_to_isco: pd.DataFrame | None = None,
    isco_to_soc: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per fiche reached: `occupation` (fiche code), `score` and `raw_score` (means
    over the external codes reached, each counted once) and `matched_codes` (those codes,
    comma-joined)."""
    if code_system == CodeSystem.ROME:
        own = fiches.merge(scores, on="code")
        parents = fiches[~fiches["code"].isin(own["code"])].merge(
            scores.rename(columns={"code": "matched"}), left_on="v3", right_on="matched"
        )
        links = pd.concat([own.assign(matched=own["code"]), parents], ignore_index=True)[["code", "matched"]]
    else:
        links = fiches.merge(rome_to_isco, left_on="v3", right_on="source_code")
        links = links[["code", "target_code"]].rename(columns={"target_code": "matched"})
        if code_system == CodeSystem.SOC2010:
            links = links.merge(isco_to_soc, left_on="matched", right_on="source_code")
            links = links[["code", "target_code"]].rename(columns={"target_code": "matched"})
    links = links.drop_duplicates().merge(scores.rename(columns={"code": "matched"}), on="matched")
    by_fiche = (
        links.sort_values(["code", "matched"])
        .groupby("code", as_index=False)
        .agg(score=("score", "mean"), raw_score=("raw_score", "mean"), matched=("matched", list))
    )
    by_fiche["matched_codes"] = by_fiche["matched"].map(_join_codes)
    return by_fiche.rename(columns={"code": "occupation"}).drop(columns="matched")


def _join_codes(codes: list[str]) -> str:
    """Comma-joined, cut to the field's length on a code boundary (with « … »)."""
    text = ",".join(codes)
    if len(text) <= MATCHED_CODES_LENGTH:
        return text
    cut = text[: MATCHED_CODES_LENGTH - 1].rsplit(",", 1)[0]
    return f"{cut},…"


# Load.


def load_index(
    by_fiche: pd.DataFrame,
    *,
    name: str,
    code_system: str,
    description: str,
    source_file: str,
    rescaled: bool,
    fiches: int,
) -> IndexReport:
    """Create or update the index `name` and make its scores exactly those of `by_fiche`."""
    report = IndexReport(source=f"{name} ({source_file})", covered=len(by_fiche), fiches=fiches, rescaled=rescaled)
    values = {
        "code_system": code_system,
        "description": description,
        "source_file": source_file,
        "rescaled": rescaled,
        "coverage": report.coverage,
    }
    index = ExposureIndex.objects.filter(name=name).first()
    existing = {}
    if index is not None:
        existing = {score.occupation_id: score for score in index.scores.all()}
        if not description:  # a re-import without a description keeps the one written
            values["description"] = index.description

    wanted = {
        row.occupation: {
            "score": float(row.score),
            "raw_score": float(row.raw_score),
            "matched_codes": row.matched_codes,
        }
        for row in by_fiche.itertuples(index=False)
    }
    to_create, to_update = [], []
    for occupation, fields in wanted.items():
        score = existing.get(occupation)
        if score is None:
            to_create.append(ExposureIndexScore(occupation_id=occupation, **fields))
        elif any(getattr(score, field) != value for field, value in fields.items()):
            for field, value in fields.items():
                setattr(score, field, value)
            to_update.append(score)
    gone = [score.pk for occupation, score in existing.items() if occupation not in wanted]
    report.created, report.updated, report.deleted = len(to_create), len(to_update), len(gone)
    report.unchanged = len(wanted) - report.created - report.updated

    with transaction.atomic():
        if index is None:
            index = ExposureIndex.objects.create(name=name, **values)
        elif to_create or to_update or gone or any(getattr(index, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(index, field, value)
            index.save()  # also stamps imported_at
        for score in to_create:
            score.index = index
        for start in range(0, len(gone), BATCH_SIZE):
            ExposureIndexScore.objects.filter(pk__in=gone[start : start + BATCH_SIZE]).delete()
        ExposureIndexScore.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        ExposureIndexScore.objects.bulk_update(
            to_update, ["score", "raw_score", "matched_codes"], batch_size=BATCH_SIZE
        )
    return report


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", " ")
