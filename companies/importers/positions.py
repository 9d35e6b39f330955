"""Job positions surveyed in companies (field data of DESIGN.md, grid step 1) → Company,
Establishment and JobPosition.

The survey file is a CSV, `;`-separated, UTF-8 (a BOM is accepted), whose header is exactly

    siret;raison_sociale;naf;commune;rome;effectif;rc;rm;nra;nri;nrm;besoin_formation

one row per job of an establishment: its ROME fiche, its headcount, the percentages of
working time spent on the five task categories (integers summing to 100) and whether the
company declared a training need (`oui` / `non`). The NAF code may be written `62.01Z` or
`6201Z`; the commune is its INSEE code (`02408`: a leading zero is part of the code).

Loading upserts on natural keys: the company on its SIREN (the SIRET's first nine digits,
named after the first row of that SIREN), the establishment on its SIRET (its size band from
the headcount the file gives it), the position on (establishment, fiche) among the positions
of the survey source (diagnostic and demo positions are other sources and are left alone).
Positions absent from the file are kept: a survey may come in several files. Once the
transaction commits, `field_data_changed` tells the observatory to recompute.

read_positions(path) -> frame; clean_positions(frame, …) -> (frame, errors);
load_positions(frame, …) -> report, in one transaction.
"""

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd
from django.db import transaction
from django.utils import timezone

from companies.models import (
    TASK_FIELDS,
    Company,
    Establishment,
    JobPosition,
    Sector,
    SizeBand,
    Territory,
)
from companies.signals import field_data_changed
from companies.validators import is_valid_siren, is_valid_siret
from skills.importers._csv import RowChecker, read_csv
from skills.importers.base import ImportFailed, ImportReport, RowError
from skills.models import Occupation

HEADER = [
    "siret",
    "raison_sociale",
    "naf",
    "commune",
    "rome",
    "effectif",
    *TASK_FIELDS,
    "besoin_formation",
]
TRAINING_NEED = {"oui": True, "non": False}
NAME_LENGTH = Company._meta.get_field("name").max_length

SIRET = r"[0-9]{14}"
NAF = r"[0-9]{2}\.?[0-9]{2}[A-Z]"  # 62.01Z or 6201Z
COMMUNE = r"(?:[0-9]{2}|2[AB])[0-9]{3}"  # INSEE code, Corsica included
FICHE = r"[A-N][0-9]{4}"
HEADCOUNT = r"[0-9]{1,9}"
SHARE = r"[0-9]{1,3}"
# Identity of an establishment: the same on every row of a SIRET.
IDENTITY = {"raison_sociale": "la raison sociale", "_naf": "le code NAF", "commune": "la commune"}

BATCH_SIZE = 1000
LOOKUP_BATCH = 5000  # codes per `IN (…)` lookup


@dataclass
class PositionsReport(ImportReport):
    """Counts of the job positions, plus the companies and establishments written with them."""

    companies_created: int = 0
    companies_updated: int = 0
    establishments_created: int = 0
    establishments_updated: int = 0

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "companies_created": self.companies_created,
            "companies_updated": self.companies_updated,
            "establishments_created": self.establishments_created,
            "establishments_updated": self.establishments_updated,
        }

    def __str__(self):
        return (
            f"{super().__str__()} ; entreprises : {self.companies_created} créée(s), "
            f"{self.companies_updated} mise(s) à jour ; établissements : "
            f"{self.establishments_created} créé(s), {self.establishments_updated} mis à jour"
        )


def import_positions(path: Path) -> PositionsReport:
    """Import the survey file `path`. Raises ImportFailed, having written nothing, when any
    row is wrong; the signal is sent only once the data is committed."""
    path = Path(path)
    frame = read_positions(path)
    nafs = frame["naf"].str.upper().str.replace(".", "", regex=False)
    sectors = dict(
        Sector.objects.filter(
            level=Sector.Level.SOUS_CLASSE,
            code__in={f"{code[:2]}.{code[2:]}" for code in nafs if len(code) == 5},
        ).values_list("code", "pk")
    )
    communes = dict(
        Territory.objects.filter(level=Territory.Level.COMMUNE, code__in=set(frame["commune"])).values_list(
            "code", "pk"
        )
    )
    fiches = set(
        Occupation.objects.fiches().filter(code__in=set(frame["rome"].str.upper())).values_list("code", flat=True)
    )
    frame, errors = clean_positions(
        frame, known_sectors=set(sectors), known_communes=set(communes), known_fiches=fiches
    )
    if errors:
        raise ImportFailed(errors, path.name)
    return load_positions(frame, sectors=sectors, communes=communes, source=path.name)


# Read.


def read_positions(path: Path) -> pd.DataFrame:
    """The rows as strings under the official column names, indexed by line. Refuses a file
    whose header is not exactly HEADER (a `,` file, a renamed or missing column)."""
    path = Path(path)
    with open(path, "rb") as file:
        first_line = file.readline().decode("utf-8-sig", errors="replace")
    header = [name.strip() for name in first_line.rstrip("\r\n").split(";")]
    if header != HEADER:
        message = f"en-tête inattendu « {first_line.strip()} » (attendu : « {';'.join(HEADER)} », séparateur « ; »)"
        raise ImportFailed([RowError(1, message, path.name)], path.name)
    return read_csv(path, HEADER, delimiter=";")


# Clean.


def clean_positions(
    frame: pd.DataFrame,
    *,
    known_sectors: set[str],
    known_communes: set[str],
    known_fiches: set[str],
) -> tuple[pd.DataFrame, list[RowError]]:
    """Check every row. Returns the rows that passed with `naf` in its dotted form (`62.01Z`),
    `rome` in capitals, `effectif` and the shares as integers and `need` as a boolean."""
    naf = frame["naf"].str.upper()
    digits = naf.str.replace(".", "", regex=False)
    frame = frame.assign(
        _naf=digits.str[:2] + "." + digits.str[2:],
        _rome=frame["rome"].str.upper(),
        _need=frame["besoin_formation"].str.lower(),
    )
    headcount = _integers(frame["effectif"], HEADCOUNT)
    shares = pd.DataFrame({column: _integers(frame[column], SHARE) for column in TASK_FIELDS})
    shares_ok = (shares <= 100).all(axis=1)
    frame["_total"] = shares.sum(axis=1).astype("Int64")
    check = RowChecker(frame)

    siret = frame["siret"]
    siret_shape = siret.str.fullmatch(SIRET)
    check.required("siret", "SIRET")
    check.flag((siret != "") & ~siret_shape, "SIRET « {siret} » invalide : 14 chiffres attendus")
    luhn = siret.map(is_valid_siret)
    check.flag(siret_shape & ~luhn, "SIRET « {siret} » invalide : la clé de contrôle est fausse")
    siren_ok = siret.str[:9].map(is_valid_siren)
    check.flag(
        siret_shape & luhn & ~siren_ok,
        lambda row: (
            f"SIRET « {row['siret']} » invalide : son SIREN « {row['siret'][:9]} » a une clé de contrôle fausse"
        ),
    )
    siret_ok = siret_shape & luhn & siren_ok

    name = frame["raison_sociale"]
    check.required("raison_sociale", "raison sociale")
    check.max_length("raison_sociale", NAME_LENGTH, "raison sociale")
    name_ok = (name != "") & (name.str.len() <= NAME_LENGTH)

    naf_shape = naf.str.fullmatch(NAF)
    check.required("naf", "code NAF")
    check.flag(
        (naf != "") & ~naf_shape,
        "code NAF « {naf} » invalide (attendu : une sous-classe, « 62.01Z » ou « 6201Z »)",
    )
    naf_ok = naf_shape & frame["_naf"].isin(known_sectors)
    check.flag(naf_shape & ~naf_ok, "sous-classe NAF « {_naf} » inconnue")

    commune = frame["commune"]
    commune_shape = commune.str.fullmatch(COMMUNE)
    check.required("commune", "code commune")
    check.flag(
        (commune != "") & ~commune_shape,
        "code commune « {commune} » invalide (attendu : code INSEE à 5 caractères, « 02408 »)",
    )
    commune_ok = commune_shape & commune.isin(known_communes)
    check.flag(commune_shape & ~commune_ok, "commune « {commune} » inconnue")

    rome = frame["_rome"]
    rome_shape = rome.str.fullmatch(FICHE)
    check.required("rome", "code ROME")
    check.flag(
        (rome != "") & ~rome_shape,
        "code ROME « {rome} » invalide (attendu : une lettre et 4 chiffres)",
    )
    rome_ok = rome_shape & rome.isin(known_fiches)
    check.flag(rome_shape & ~rome_ok, "fiche ROME « {rome} » inconnue")

    check.required("effectif", "effectif")
    check.flag(
        (frame["effectif"] != "") & ~(headcount >= 1),
        "effectif « {effectif} » invalide : un nombre entier de salariés, au moins 1, est attendu",
    )

    for column in TASK_FIELDS:
        check.required(column, f"part {column}")
        check.flag(
            (frame[column] != "") & ~(shares[column] <= 100),
            f"part {column} « {{{column}}} » invalide : un entier de 0 à 100 est attendu",
        )
    check.flag(
        shares_ok & (frame["_total"] != 100),
        "la somme des parts de tâches fait {_total} % (attendu : exactement 100 %)",
    )

    check.required("besoin_formation", "besoin de formation")
    check.flag(
        (frame["_need"] != "") & ~frame["_need"].isin(TRAINING_NEED),
        "besoin de formation « {besoin_formation} » invalide (attendu : « oui » ou « non »)",
    )

    _check_same_identity(check, siret_ok & name_ok & naf_ok & commune_ok)
    _check_unique_pairs(check, siret_ok & rome_ok)

    kept, errors = check.result()
    kept = kept.assign(
        naf=kept["_naf"],
        rome=kept["_rome"],
        effectif=headcount.loc[kept.index].astype(int),
        need=kept["_need"].map(TRAINING_NEED),
        **{column: shares.loc[kept.index, column].astype(int) for column in TASK_FIELDS},
    )
    return kept[["siret", "raison_sociale", "naf", "commune", "rome", "effectif", *TASK_FIELDS, "need"]], errors


def _integers(values: pd.Series, pattern: str) -> pd.Series:
    """Integers where `values` match `pattern`, NaN elsewhere."""
    return pd.to_numeric(values.where(values.str.fullmatch(pattern)), errors="coerce")


def _check_same_identity(check: RowChecker, valid: pd.Series) -> None:
    """Every row of a SIRET names the same company, sector and commune as its first row."""
    rows = check.frame[valid]
    first = rows.groupby("siret")[list(IDENTITY)].transform("first")
    first_line = rows.reset_index().groupby("siret")["line"].first()
    for column, what in IDENTITY.items():
        differs = pd.Series(False, index=check.frame.index)
        differs[rows.index] = rows[column] != first[column]

        def message(row, column=column, what=what):
            line = first_line[row["siret"]]
            expected = check.frame.loc[line, column]
            return (
                f"SIRET {row['siret']} : {what} diffère de celle de la ligne {line} "
                f"(« {row[column]} » au lieu de « {expected} »)"
            )

        check.flag(differs, message)


def _check_unique_pairs(check: RowChecker, valid: pd.Series) -> None:
    """One row per (SIRET, fiche): the same job twice would be counted twice."""
    rows = check.frame[valid]
    repeated = rows.duplicated(["siret", "_rome"], keep="first")
    if not repeated.any():
        return
    first_line = rows.reset_index().groupby(["siret", "_rome"])["line"].first()
    mask = pd.Series(False, index=check.frame.index)
    mask[repeated[repeated].index] = True
    check.flag(
        mask,
        lambda row: (
            f"poste {row['_rome']} du SIRET {row['siret']} en double "
            f"(déjà ligne {first_line[row['siret'], row['_rome']]})"
        ),
    )


# Load.


def load_positions(
    frame: pd.DataFrame, *, sectors: dict[str, int], communes: dict[str, int], source: str
) -> PositionsReport:
    """Upsert the companies, establishments and positions of a cleaned frame, in one
    transaction; `sectors` and `communes` map codes to primary keys."""
    report = PositionsReport(source)
    now = timezone.now()
    frame = frame.assign(siren=frame["siret"].str[:9])
    sirens = frame.drop_duplicates("siren").set_index("siren")["raison_sociale"].to_dict()
    establishments = frame.groupby("siret", sort=True).agg(
        siren=("siren", "first"),
        naf=("naf", "first"),
        commune=("commune", "first"),
        headcount=("effectif", "sum"),
    )

    # Companies.
    companies = {c.siren: c for c in _in_batches(Company.objects.all(), "siren", list(sirens))}
    new_companies, changed_companies = [], []
    for siren, name in sirens.items():
        company = companies.get(siren)
        if company is None:
            new_companies.append(Company(siren=siren, name=name))
        elif company.name != name:
            company.name = name
            changed_companies.append(company)
    report.companies_created = len(new_companies)
    report.companies_updated = len(changed_companies)

    # Establishments: company_id is filled in once new companies have their keys.
    existing_establishments = {
        establishment.siret: establishment
        for establishment in _in_batches(Establishment.objects.all(), "siret", list(establishments.index))
    }
    new_establishments, changed_establishments, fields = [], [], set()
    for siret, row in establishments.iterrows():
        values = {
            "sector_id": sectors[row["naf"]],
            "commune_id": communes[row["commune"]],
            "size_band": SizeBand.for_headcount(int(row["headcount"])),
        }
        establishment = existing_establishments.get(siret)
        if establishment is None:
            new_establishments.append(Establishment(siret=siret, **values))
            continue
        changed = [name for name, value in values.items() if getattr(establishment, name) != value]
        for name in changed:
            setattr(establishment, name, values[name])
        if changed:
            changed_establishments.append(establishment)
            fields.update(name.removesuffix("_id") for name in changed)
    report.establishments_created = len(new_establishments)
    report.establishments_updated = len(changed_establishments)

    # Positions of the survey source, keyed by (SIRET, fiche).
    survey = JobPosition.objects.filter(source=JobPosition.Source.SURVEY)
    existing_positions = {
        (position.establishment.siret, position.occupation_id): position
        for position in _in_batches(
            survey.select_related("establishment"),
            "establishment__siret",
            list(establishments.index),
        )
    }
    new_positions, changed_positions = [], []
    for row in frame.itertuples(index=False):
        values = {
            "headcount": int(row.effectif),
            **{column: int(getattr(row, column)) for column in TASK_FIELDS},
            "training_need": bool(row.need),
        }
        position = existing_positions.get((row.siret, row.rome))
        if position is None:
            new_positions.append((row.siret, JobPosition(occupation_id=row.rome, **values)))
        elif any(getattr(position, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(position, name, value)
            position.updated_at = now  # bulk_update does not run auto_now
            changed_positions.append(position)
        else:
            report.unchanged += 1
    report.created, report.updated = len(new_positions), len(changed_positions)

    with transaction.atomic():
        Company.objects.bulk_create(new_companies, batch_size=BATCH_SIZE)
        Company.objects.bulk_update(changed_companies, ["name"], batch_size=BATCH_SIZE)
        if new_establishments:
            # Keys read back rather than trusted from bulk_create (not every backend returns
            # them).
            company_ids = dict(_in_batches(Company.objects.values_list("siren", "pk"), "siren", list(sirens)))
            for establishment in new_establishments:
                establishment.company_id = company_ids[establishment.siret[:9]]
            Establishment.objects.bulk_create(new_establishments, batch_size=BATCH_SIZE)
        if changed_establishments:
            Establishment.objects.bulk_update(changed_establishments, sorted(fields), batch_size=BATCH_SIZE)
        if new_positions:
            establishment_ids = dict(
                _in_batches(
                    Establishment.objects.values_list("siret", "pk"),
                    "siret",
                    list(establishments.index),
                )
            )
            for siret, position in new_positions:
                position.establishment_id = establishment_ids[siret]
                position.source = JobPosition.Source.SURVEY
            JobPosition.objects.bulk_create([position for _siret, position in new_positions], batch_size=BATCH_SIZE)
        JobPosition.objects.bulk_update(
            changed_positions,
            ["headcount", *TASK_FIELDS, "training_need", "updated_at"],
            batch_size=BATCH_SIZE,
        )
        written = report.created + report.updated
        if written or report.establishments_created or report.establishments_updated:
            transaction.on_commit(
                partial(
                    field_data_changed.send,
                    sender=JobPosition,
                    source="import_positions",
                    positions=written,
                )
            )
    return report


def _in_batches(queryset, field: str, values: list) -> list:
    """The rows of `queryset` whose `field` is in `values`: one query per LOOKUP_BATCH values,
    so one for a survey of ordinary size, and never more parameters than SQLite takes."""
    rows = []
    for start in range(0, len(values), LOOKUP_BATCH):
        chunk = values[start : start + LOOKUP_BATCH]
        rows.extend(queryset.filter(**{f"{field}__in": chunk}))
    return rows
