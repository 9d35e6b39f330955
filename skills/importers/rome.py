"""France Travail ROME 4.0 export (« RefRomeCsv » v460) → Occupation, Appellation, Mobility
and NafDivisionOccupation.

The export is a folder of CSV files (UTF-8, `,`, every field quoted, header row). The grand
domaine, domaine and fiche files build the occupation tree and are required; the others add
to it and may be left out of the folder. Every file is read and checked before anything is
written, then everything is written in one transaction: a folder with one bad line changes
nothing. Upserts compare with what the database holds, so a second run writes nothing.
"""

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.db import models, transaction

from skills.models import Appellation, Mobility, NafDivisionOccupation, Occupation

from ._csv import RowChecker, read_csv
from .base import ImportFailed, ImportReport, RowError

GRAND_DOMAINE_FILE = "unix_grand_domaine_v460_utf8.csv"
DOMAINE_FILE = "unix_domaine_professionnel_v460_utf8.csv"
FICHE_FILE = "unix_referentiel_code_rome_v460_utf8.csv"
APPELLATION_FILE = "unix_referentiel_appellation_v460_utf8.csv"
MOBILITY_FILE = "unix_rubrique_mobilite_v460_utf8.csv"
NAF_FILE = "unix_arborescence_secteur_naf_v460_utf8.csv"
REQUIRED_FILES = (GRAND_DOMAINE_FILE, DOMAINE_FILE, FICHE_FILE)

BATCH_SIZE = 1000
LABEL_LENGTH = 255  # Occupation.label, Appellation.label and short_label

GRAND_DOMAINE_CODE = r"[A-N]"
DOMAINE_CODE = r"[A-N][0-9]{2}"
FICHE_CODE = r"[A-N][0-9]{4}"
OGR_CODE = r"[0-9]{1,12}"
NAF_DIVISION = r"[0-9]{1,2}"  # written without its leading zero in the export: "1" is 01
RANK = r"[1-9][0-9]{0,3}"

FICHE_SHAPE = "une lettre de A à N et 4 chiffres"

# Labels of the `transition_eco` column → Occupation.EcologicalTransition.
TRANSITION_ECO = {
    "Emploi Blanc": Occupation.EcologicalTransition.WHITE,
    "Emploi Vert": Occupation.EcologicalTransition.GREEN,
    "Emploi Brun": Occupation.EcologicalTransition.BROWN,
    "Emploi stratégique pour la Transition écologique": Occupation.EcologicalTransition.STRATEGIC,
    "": Occupation.EcologicalTransition.NONE,
}
# The O/N columns of the export; empty means France Travail does not say.
FLAGS = {"O": True, "N": False, "": None}
FICHE_FLAGS = {
    "transition_num": "transition_num",
    "transition_demo": "transition_demo",
    "emploi_reglemente": "regulated",
    "emploi_cadre": "managerial",
}


@dataclass
class SyncReport(ImportReport):
    """The report of a load where the file is the whole truth: pairs gone from it are deleted."""

    deleted: int = 0

    def as_dict(self) -> dict:
        return {**super().as_dict(), "deleted": self.deleted}

    def __str__(self):
        return f"{super().__str__()}, {self.deleted} supprimé(s)"


class MissingFiles(ImportFailed):
    """The folder lacks a file the occupation tree cannot be built without."""

    def __init__(self, directory: Path, names: list[str]):
        super().__init__([], source=str(directory))
        self.args = (
            f"Export ROME refusé, rien n'a été écrit : fichier(s) obligatoire(s) absent(s) du "
            f"dossier {directory} : {', '.join(names)}",
        )


# Read: one function per file, official column names, every value a string.


def read_grand_domaines(path: Path) -> pd.DataFrame:
    return read_csv(path, ["code_grand_domaine", "libelle_grand_domaine"])


def read_domaines(path: Path) -> pd.DataFrame:
    return read_csv(path, ["code_domaine_professionnel", "libelle_domaine_professionnel"])


def read_fiches(path: Path) -> pd.DataFrame:
    columns = ["code_rome", "code_ogr", "libelle_rome", "transition_eco", *FICHE_FLAGS]
    return read_csv(path, [*columns, "code_rome_parent"])


def read_appellations(path: Path) -> pd.DataFrame:
    columns = ["code_ogr", "libelle_appellation_long", "libelle_appellation_court", "code_rome"]
    return read_csv(path, [*columns, "peu_usite"])


def read_mobilities(path: Path) -> pd.DataFrame:
    return read_csv(path, ["code_rome", "code_rome_cible", "numero_ordre"])


def read_naf_links(path: Path) -> pd.DataFrame:
    return read_csv(path, ["code_secteur_naf", "code_rome"])


# Clean: check every row; `known_*` are the codes a row may point to (this export's and the
# database's). Each returns the rows that passed and the errors of the others.


def clean_grand_domaines(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[RowError]]:
    check = RowChecker(frame)
    check.required("code_grand_domaine", "code du grand domaine")
    check.matches(
        "code_grand_domaine",
        GRAND_DOMAINE_CODE,
        "code de grand domaine « {code_grand_domaine} » invalide (attendu : une lettre de A à N)",
    )
    _check_label(check, "libelle_grand_domaine")
    check.unique(["code_grand_domaine"], "grand domaine « {code_grand_domaine} »")
    return check.result()


def clean_domaines(frame: pd.DataFrame, *, known_grand_domaines: set[str]) -> tuple[pd.DataFrame, list[RowError]]:
    check = RowChecker(frame)
    code = frame["code_domaine_professionnel"]
    check.required("code_domaine_professionnel", "code du domaine professionnel")
    check.matches(
        "code_domaine_professionnel",
        DOMAINE_CODE,
        "code de domaine « {code_domaine_professionnel} » invalide (attendu : une lettre de A à N et 2 chiffres)",
    )
    _check_label(check, "libelle_domaine_professionnel")
    check.known(
        code.str[:1],
        known_grand_domaines,
        lambda row: f"grand domaine « {row['code_domaine_professionnel'][:1]} » inconnu",
    )
    check.unique(["code_domaine_professionnel"], "domaine « {code_domaine_professionnel} »")
    return check.result()


def clean_fiches(
    frame: pd.DataFrame, *, known_domaines: set[str], known_fiches: set[str] = frozenset()
) -> tuple[pd.DataFrame, list[RowError]]:
    """`code_rome_parent` may name any fiche of this file (before or after the row) or of
    `known_fiches`."""
    check = RowChecker(frame)
    code = frame["code_rome"]
    check.required("code_rome", "code ROME")
    check.matches("code_rome", FICHE_CODE, f"code ROME « {{code_rome}} » invalide (attendu : {FICHE_SHAPE})")
    _check_label(check, "libelle_rome")
    check.matches("code_ogr", OGR_CODE, "code OGR « {code_ogr} » invalide (attendu : des chiffres)")
    check.one_of("transition_eco", TRANSITION_ECO, "transition écologique")
    for column in FICHE_FLAGS:
        check.one_of(column, FLAGS, column)
    check.matches(
        "code_rome_parent",
        FICHE_CODE,
        f"code ROME parent « {{code_rome_parent}} » invalide (attendu : {FICHE_SHAPE})",
    )
    check.known(
        code.str[:3],
        known_domaines,
        lambda row: f"domaine professionnel « {row['code_rome'][:3]} » inconnu",
    )
    check.known(
        frame["code_rome_parent"],
        set(known_fiches) | set(code),
        "code ROME parent « {code_rome_parent} » inconnu",
    )
    check.unique(["code_rome"], "fiche « {code_rome} »")
    return check.result()


def clean_appellations(frame: pd.DataFrame, *, known_fiches: set[str]) -> tuple[pd.DataFrame, list[RowError]]:
    check = RowChecker(frame)
    check.required("code_ogr", "code OGR")
    check.matches("code_ogr", OGR_CODE, "code OGR « {code_ogr} » invalide (attendu : des chiffres)")
    _check_label(check, "libelle_appellation_long")
    check.max_length("libelle_appellation_court", LABEL_LENGTH, "libellé court")
    _check_fiche(check, "code_rome", known_fiches)
    check.one_of("peu_usite", FLAGS, "peu_usite")
    check.unique(["code_ogr"], "appellation « {code_ogr} »")
    return check.result()


def clean_mobilities(frame: pd.DataFrame, *, known_fiches: set[str]) -> tuple[pd.DataFrame, list[RowError]]:
    """A mobility from a fiche to itself says nothing: it is dropped, not an error (v460 has
    none)."""
    check = RowChecker(frame)
    _check_fiche(check, "code_rome", known_fiches)
    _check_fiche(check, "code_rome_cible", known_fiches, what="code ROME cible")
    check.required("numero_ordre", "numéro d'ordre")
    check.matches("numero_ordre", RANK, "numéro d'ordre « {numero_ordre} » invalide (attendu : 1 à 9999)")
    check.unique(["code_rome", "code_rome_cible"], "mobilité {code_rome} → {code_rome_cible}")
    frame, errors = check.result()
    return frame[frame["code_rome"] != frame["code_rome_cible"]], errors


def clean_naf_links(frame: pd.DataFrame, *, known_fiches: set[str]) -> tuple[pd.DataFrame, list[RowError]]:
    """Adds `naf_division`, the two-digit NAF code of `code_secteur_naf`."""
    frame = frame.assign(naf_division=frame["code_secteur_naf"].str.zfill(2))
    check = RowChecker(frame)
    check.required("code_secteur_naf", "code du secteur NAF")
    check.matches(
        "code_secteur_naf",
        NAF_DIVISION,
        "code de secteur NAF « {code_secteur_naf} » invalide (attendu : une division NAF, 1 ou 2 chiffres)",
    )
    _check_fiche(check, "code_rome", known_fiches)
    check.unique(["naf_division", "code_rome"], "lien {naf_division} → {code_rome}")
    return check.result()


def _check_label(check: RowChecker, column: str) -> None:
    check.required(column, "libellé")
    check.max_length(column, LABEL_LENGTH, "libellé")


def _check_fiche(check: RowChecker, column: str, known: set[str], what: str = "code ROME") -> None:
    check.required(column, what)
    check.matches(column, FICHE_CODE, f"{what} « {{{column}}} » invalide (attendu : {FICHE_SHAPE})")
    check.known(check.frame[column], known, f"{what} « {{{column}}} » inconnu")


# Load: upsert on the natural key against one read of the table; the caller holds the
# transaction.


def load_occupations(grand_domaines: pd.DataFrame, domaines: pd.DataFrame, fiches: pd.DataFrame) -> list[ImportReport]:
    """Upsert the three levels of the tree; occupations gone from the export are kept, as job
    positions and certifications may still point to them."""
    Level = Occupation.Level
    wanted = {}  # code → field values, parents before their children
    for row in grand_domaines.itertuples():
        wanted[row.code_grand_domaine] = {
            "level": Level.GRAND_DOMAINE,
            "label": row.libelle_grand_domaine,
            "parent_id": None,
        }
    for row in domaines.itertuples():
        code = row.code_domaine_professionnel
        wanted[code] = {
            "level": Level.DOMAINE,
            "label": row.libelle_domaine_professionnel,
            "parent_id": code[:1],
        }
    for row in fiches.itertuples():
        wanted[row.code_rome] = {
            "level": Level.FICHE,
            "label": row.libelle_rome,
            "parent_id": row.code_rome[:3],
            "rome_v3_parent_id": row.code_rome_parent or None,
            "ogr_code": row.code_ogr,
            "transition_eco": TRANSITION_ECO[row.transition_eco],
            **{field: FLAGS[getattr(row, column)] for column, field in FICHE_FLAGS.items()},
        }

    reports = {
        level: ImportReport(source)
        for level, source in [
            (Level.GRAND_DOMAINE, GRAND_DOMAINE_FILE),
            (Level.DOMAINE, DOMAINE_FILE),
            (Level.FICHE, FICHE_FILE),
        ]
    }
    existing = Occupation.objects.in_bulk()
    to_create, to_update, fields = [], [], set()
    for code, values in wanted.items():
        outcome = _apply(Occupation, code, values, existing, to_create, to_update, fields)
        _count(reports[values["level"]], outcome)

    # A new fiche's ROME v3 parent may be a fiche created in the same batch or a later one:
    # insert without it, then set it once every fiche exists.
    v3_parents = {obj.pk: obj.rome_v3_parent_id for obj in to_create if obj.rome_v3_parent_id}
    for obj in to_create:
        obj.rome_v3_parent_id = None
    with transaction.atomic():
        Occupation.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        for obj in to_create:
            obj.rome_v3_parent_id = v3_parents.get(obj.pk)
        _bulk_update(Occupation, to_update, fields)
        _bulk_update(Occupation, [obj for obj in to_create if obj.pk in v3_parents], {"rome_v3_parent"})
    return list(reports.values())


def load_appellations(frame: pd.DataFrame) -> ImportReport:
    """Upsert appellations; those gone from the export are kept (other data may name them)."""
    report = ImportReport(APPELLATION_FILE)
    existing = Appellation.objects.in_bulk()
    to_create, to_update, fields = [], [], set()
    for row in frame.itertuples():
        values = {
            "label": row.libelle_appellation_long,
            "short_label": row.libelle_appellation_court,
            "occupation_id": row.code_rome,
            "rarely_used": FLAGS[row.peu_usite] is True,
        }
        outcome = _apply(Appellation, row.code_ogr, values, existing, to_create, to_update, fields)
        _count(report, outcome)
    with transaction.atomic():
        Appellation.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        _bulk_update(Appellation, to_update, fields)
    return report


def load_mobilities(frame: pd.DataFrame) -> SyncReport:
    """Make the table hold exactly the file's mobilities: the file is the whole list."""
    wanted = {(row.code_rome, row.code_rome_cible): int(row.numero_ordre) for row in frame.itertuples()}
    existing = {
        (source, target): (pk, rank)
        for pk, source, target, rank in Mobility.objects.values_list("pk", "source_id", "target_id", "rank")
    }
    report = SyncReport(MOBILITY_FILE)
    to_create, to_update = [], []
    for (source, target), rank in wanted.items():
        if (source, target) not in existing:
            to_create.append(Mobility(source_id=source, target_id=target, rank=rank))
        elif existing[source, target][1] != rank:
            to_update.append(Mobility(pk=existing[source, target][0], rank=rank))
    gone = [pk for pair, (pk, _rank) in existing.items() if pair not in wanted]
    report.created, report.updated, report.deleted = len(to_create), len(to_update), len(gone)
    report.unchanged = len(wanted) - len(to_create) - len(to_update)
    with transaction.atomic():
        _delete(Mobility, gone)
        Mobility.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        _bulk_update(Mobility, to_update, {"rank"})
    return report


def load_naf_links(frame: pd.DataFrame) -> SyncReport:
    """Make the table hold exactly the file's NAF division → fiche links."""
    wanted = set(zip(frame["naf_division"], frame["code_rome"], strict=True))
    existing = {
        (division, code): pk
        for pk, division, code in NafDivisionOccupation.objects.values_list("pk", "naf_division", "occupation_id")
    }
    to_create = [
        NafDivisionOccupation(naf_division=division, occupation_id=code)
        for division, code in sorted(wanted - existing.keys())
    ]
    gone = [pk for pair, pk in existing.items() if pair not in wanted]
    report = SyncReport(NAF_FILE, created=len(to_create), deleted=len(gone))
    report.unchanged = len(wanted) - len(to_create)
    with transaction.atomic():
        _delete(NafDivisionOccupation, gone)
        NafDivisionOccupation.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    return report


def _apply(model, pk, values, existing, to_create, to_update, fields) -> str:
    """Queue `values` for the row `pk`: a new instance in `to_create`, or the existing one
    with its changed fields set in `to_update` (their names added to `fields`). Returns which
    of the report's counts the row adds to."""
    obj = existing.get(pk)
    if obj is None:
        to_create.append(model(pk=pk, **values))
        return "created"
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return "unchanged"
    for name in changed:
        setattr(obj, name, values[name])
    to_update.append(obj)
    fields.update(model._meta.get_field(name).name for name in changed)
    return "updated"


def _count(report: ImportReport, outcome: str) -> None:
    setattr(report, outcome, getattr(report, outcome) + 1)


def _bulk_update(model: type[models.Model], objs: list, fields: set[str]) -> None:
    if objs and fields:
        model.objects.bulk_update(objs, sorted(fields), batch_size=BATCH_SIZE)


def _delete(model: type[models.Model], pks: list) -> None:
    for start in range(0, len(pks), BATCH_SIZE):
        model.objects.filter(pk__in=pks[start : start + BATCH_SIZE]).delete()


# The whole export.

READERS = {
    GRAND_DOMAINE_FILE: read_grand_domaines,
    DOMAINE_FILE: read_domaines,
    FICHE_FILE: read_fiches,
    APPELLATION_FILE: read_appellations,
    MOBILITY_FILE: read_mobilities,
    NAF_FILE: read_naf_links,
}


def import_rome(directory: Path) -> list[ImportReport]:
    """Import the ROME export in `directory`: one report per file read, in file order.

    Raises ImportFailed, having written nothing, when a required file is missing or when
    any row of any file is wrong.
    """
    directory = Path(directory)
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing:
        raise MissingFiles(directory, missing)

    frames, errors = {}, []
    for name, read in READERS.items():
        if (directory / name).is_file():
            try:
                frames[name] = read(directory / name)
            except ImportFailed as exc:
                errors += exc.errors
    if not errors:
        frames, errors = clean_rome(frames)
    if errors:
        sources = {error.source for error in errors}
        source = sources.pop() if len(sources) == 1 else f"Export ROME ({directory})"
        raise ImportFailed(errors, source)

    with transaction.atomic():
        reports = load_occupations(frames[GRAND_DOMAINE_FILE], frames[DOMAINE_FILE], frames[FICHE_FILE])
        if APPELLATION_FILE in frames:
            reports.append(load_appellations(frames[APPELLATION_FILE]))
        if MOBILITY_FILE in frames:
            reports.append(load_mobilities(frames[MOBILITY_FILE]))
        if NAF_FILE in frames:
            reports.append(load_naf_links(frames[NAF_FILE]))
    return reports


def clean_rome(frames: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list[RowError]]:
    """Clean every file read (keyed by file name); rows may point to codes of the export or
    of the database (one query)."""
    in_db = defaultdict(set)
    for code, level in Occupation.objects.values_list("code", "level"):
        in_db[level].add(code)
    Level = Occupation.Level
    grand_domaines = in_db[Level.GRAND_DOMAINE] | set(frames[GRAND_DOMAINE_FILE]["code_grand_domaine"])
    domaines = in_db[Level.DOMAINE] | set(frames[DOMAINE_FILE]["code_domaine_professionnel"])
    fiches = in_db[Level.FICHE] | set(frames[FICHE_FILE]["code_rome"])

    cleaners = {
        GRAND_DOMAINE_FILE: clean_grand_domaines,
        DOMAINE_FILE: lambda f: clean_domaines(f, known_grand_domaines=grand_domaines),
        FICHE_FILE: lambda f: clean_fiches(f, known_domaines=domaines, known_fiches=fiches),
        APPELLATION_FILE: lambda f: clean_appellations(f, known_fiches=fiches),
        MOBILITY_FILE: lambda f: clean_mobilities(f, known_fiches=fiches),
        NAF_FILE: lambda f: clean_naf_links(f, known_fiches=fiches),
    }
    cleaned, errors = {}, []
    for name, frame in frames.items():
        cleaned[name], file_errors = cleaners[name](frame)
        errors += file_errors
    return cleaned, errors
