"""The occupation tree and what hangs on it directly: grands domaines, domaines
professionnels and fiches (→ Occupation), appellations (→ Appellation), mobilités (→ Mobility)
and NAF division links (→ NafDivisionOccupation)."""

from pathlib import Path

import pandas as pd
from django.db import transaction

from skills.models import Appellation, Mobility, NafDivisionOccupation, Occupation

from .._csv import RowChecker, read_csv
from ..base import ImportReport, RowError
from .common import (
    BATCH_SIZE,
    FICHE_CODE,
    FICHE_SHAPE,
    OGR_CODE,
    SyncReport,
    bulk_update,
    check_fiche,
    check_label,
    delete_pks,
    tally,
    upsert,
)

GRAND_DOMAINE_FILE = "unix_grand_domaine_v460_utf8.csv"
DOMAINE_FILE = "unix_domaine_professionnel_v460_utf8.csv"
FICHE_FILE = "unix_referentiel_code_rome_v460_utf8.csv"
APPELLATION_FILE = "unix_referentiel_appellation_v460_utf8.csv"
MOBILITY_FILE = "unix_rubrique_mobilite_v460_utf8.csv"
NAF_FILE = "unix_arborescence_secteur_naf_v460_utf8.csv"
REQUIRED_FILES = (GRAND_DOMAINE_FILE, DOMAINE_FILE, FICHE_FILE)

LABEL_LENGTH = 255  # Occupation.label, Appellation.label and short_label

GRAND_DOMAINE_CODE = r"[A-N]"
DOMAINE_CODE = r"[A-N][0-9]{2}"
NAF_DIVISION = r"[0-9]{1,2}"  # written without its leading zero in the export: "1" is 01
RANK = r"[1-9][0-9]{0,3}"

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
    check_label(check, "libelle_grand_domaine", LABEL_LENGTH)
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
    check_label(check, "libelle_domaine_professionnel", LABEL_LENGTH)
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
    check_label(check, "libelle_rome", LABEL_LENGTH)
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
    check_label(check, "libelle_appellation_long", LABEL_LENGTH)
    check.max_length("libelle_appellation_court", LABEL_LENGTH, "libellé court")
    check_fiche(check, "code_rome", known_fiches)
    check.one_of("peu_usite", FLAGS, "peu_usite")
    check.unique(["code_ogr"], "appellation « {code_ogr} »")
    return check.result()


def clean_mobilities(frame: pd.DataFrame, *, known_fiches: set[str]) -> tuple[pd.DataFrame, list[RowError]]:
    """A mobility from a fiche to itself says nothing: it is dropped, not an error (v460 has
    none)."""
    check = RowChecker(frame)
    check_fiche(check, "code_rome", known_fiches)
    check_fiche(check, "code_rome_cible", known_fiches, what="code ROME cible")
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
    check_fiche(check, "code_rome", known_fiches)
    check.unique(["naf_division", "code_rome"], "lien {naf_division} → {code_rome}")
    return check.result()


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
        outcome = upsert(Occupation, code, values, existing, to_create, to_update, fields)
        tally(reports[values["level"]], outcome)

    # A new fiche's ROME v3 parent may be a fiche created in the same batch or a later one:
    # insert without it, then set it once every fiche exists.
    v3_parents = {obj.pk: obj.rome_v3_parent_id for obj in to_create if obj.rome_v3_parent_id}
    for obj in to_create:
        obj.rome_v3_parent_id = None
    with transaction.atomic():
        Occupation.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        for obj in to_create:
            obj.rome_v3_parent_id = v3_parents.get(obj.pk)
        bulk_update(Occupation, to_update, fields)
        bulk_update(Occupation, [obj for obj in to_create if obj.pk in v3_parents], {"rome_v3_parent"})
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
        outcome = upsert(Appellation, row.code_ogr, values, existing, to_create, to_update, fields)
        tally(report, outcome)
    with transaction.atomic():
        Appellation.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        bulk_update(Appellation, to_update, fields)
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
        delete_pks(Mobility, gone)
        Mobility.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        bulk_update(Mobility, to_update, {"rank"})
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
        delete_pks(NafDivisionOccupation, gone)
        NafDivisionOccupation.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    return report
