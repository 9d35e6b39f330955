"""INSEE Code officiel géographique, as packaged by Etalab in the npm package
@etalab/decoupage-administratif: one JSON array per level, one object per territory.

The package describes the whole of France; the observatory keeps one région (Hauts-de-France,
`32`): the région, its départements, its communes actuelles and the EPCI with at least one
member commune in it (some EPCI straddle a regional border, they are kept whole but only
their member communes of the région are linked to them).

read_cog(file) -> frame of the package's keys; clean_<level>(frame, …) -> (frame, errors);
load_cog(frames) -> one report per level, written in one transaction.
"""

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
from django.db import transaction

from companies.models import Territory
from skills.importers.base import ImportFailed, ImportReport, RowError

from ._csv import read_json_with_lines

REGIONS_FILE = "regions.json"
DEPARTEMENTS_FILE = "departements.json"
# The package ships national files; a région's extract, when present, is read first.
COMMUNES_FILES = ("communes-hauts-de-france.json", "communes.json")
EPCI_FILES = ("epci-hauts-de-france.json", "epci.json")

LINE = "line"  # line of the JSON file where the element starts
POSITION = "position"  # rank of the element in its array, from 1: the files of communes and
# EPCI are written on a single line, so the line alone does not find an element there.

# Only communes actuelles are territories of their own: a commune déléguée or associée lives
# inside a commune nouvelle, often under the very same code.
CURRENT_COMMUNE = "commune-actuelle"

REGION_CODE = re.compile(r"\d{2}")
DEPARTEMENT_CODE = re.compile(r"\d{2,3}|2[AB]")
COMMUNE_CODE = re.compile(r"[0-9][0-9AB]\d{3}")
SIREN = re.compile(r"\d{9}")

SOURCES = {
    Territory.Level.REGION: "COG régions",
    Territory.Level.DEPARTEMENT: "COG départements",
    Territory.Level.EPCI: "COG EPCI",
    Territory.Level.COMMUNE: "COG communes",
}
NAME_MAX_LENGTH = Territory._meta.get_field("name").max_length
EPCI_TYPE_MAX_LENGTH = Territory._meta.get_field("epci_type").max_length
BATCH_SIZE = 500


def import_cog(directory: Path, region_code: str = "32") -> list[ImportReport]:
    """Load région `region_code` from a folder of decoupage-administratif files. Every file
    is checked before anything is written; ImportFailed lists the faulty elements."""
    directory = Path(directory)
    paths = {
        "regions": directory / REGIONS_FILE,
        "departements": directory / DEPARTEMENTS_FILE,
        "communes": _first_existing(directory, COMMUNES_FILES),
        "epci": _first_existing(directory, EPCI_FILES),
    }
    frames = {key: read_cog(path) for key, path in paths.items()}
    sources = {key: path.name for key, path in paths.items()}
    cleaned, errors = clean_cog(frames, region_code, sources)
    if errors:
        raise ImportFailed(errors, f"COG ({directory})")
    return load_cog(cleaned)


# --- read ----------------------------------------------------------------------------------


def read_cog(path: Path) -> pd.DataFrame:
    """One row per element of a decoupage-administratif file, the package's keys as columns
    (values as decoded: codes are JSON strings already, nested lists stay lists), plus `line`
    and `position`. A missing key reads as NaN."""
    source = Path(path).name
    items, lines = read_json_with_lines(path, source=source)
    if not isinstance(items, list):
        raise ImportFailed([RowError(1, "un tableau JSON d'objets est attendu", source)], source)
    wrong = [
        RowError(line, f"élément n°{n} : un objet JSON est attendu", source)
        for n, (line, item) in enumerate(zip(lines, items, strict=True), 1)
        if not isinstance(item, dict)
    ]
    if wrong:
        raise ImportFailed(wrong, source)
    frame = pd.DataFrame(items, dtype=object)
    frame[LINE] = lines
    frame[POSITION] = range(1, len(items) + 1)
    return frame


# --- clean ---------------------------------------------------------------------------------


def clean_cog(
    frames: dict[str, pd.DataFrame], region_code: str, sources: dict[str, str] | None = None
) -> tuple[dict[str, pd.DataFrame], list[RowError]]:
    """Check the four files (keys `regions`, `departements`, `communes`, `epci`) and keep the
    région's territories. Returns frames of model values keyed by level, and all errors."""
    sources = {
        "regions": REGIONS_FILE,
        "departements": DEPARTEMENTS_FILE,
        "communes": COMMUNES_FILES[0],
        "epci": EPCI_FILES[0],
        **(sources or {}),
    }
    regions, errors = clean_regions(frames["regions"], region_code, sources["regions"])
    departements, more = clean_departements(frames["departements"], region_code, sources["departements"])
    errors += more
    communes, more = clean_communes(frames["communes"], region_code, set(departements["code"]), sources["communes"])
    errors += more
    epci, more = clean_epci(frames["epci"], set(communes["code"]), sources["epci"])
    errors += more
    membership = {commune: row["code"] for row in epci.to_dict("records") for commune in row["members"]}
    # object dtype keeps None for the communes of no EPCI (pandas would turn it into NaN).
    communes["epci_code"] = pd.Series(
        [membership.get(code) for code in communes["code"]], index=communes.index, dtype=object
    )
    cleaned = {
        Territory.Level.REGION: regions,
        Territory.Level.DEPARTEMENT: departements,
        Territory.Level.EPCI: epci.drop(columns="members"),
        Territory.Level.COMMUNE: communes,
    }
    return cleaned, errors


def clean_regions(
    frame: pd.DataFrame, region_code: str, source: str = REGIONS_FILE
) -> tuple[pd.DataFrame, list[RowError]]:
    """The région `region_code`, as a frame of `code`, `name`, `line`."""
    errors: list[RowError] = []
    rows, seen = [], {}
    for record in frame.to_dict("records"):
        check = _Checker(record, source, errors)
        if check.value("code") != region_code:
            continue
        name = check.text("nom")
        if check.unique(region_code, seen) and name:
            rows.append({"code": region_code, "name": name, LINE: record[LINE]})
    if not errors and not rows:
        errors.append(RowError(1, f"aucune région de code « {region_code} »", source))
    return _frame(rows, ["code", "name"]), errors


def clean_departements(
    frame: pd.DataFrame, region_code: str, source: str = DEPARTEMENTS_FILE
) -> tuple[pd.DataFrame, list[RowError]]:
    """The départements of the région: `code`, `name`, `parent_code` (the région), `line`."""
    errors: list[RowError] = []
    rows, seen = [], {}
    for record in frame.to_dict("records"):
        check = _Checker(record, source, errors)
        if check.value("region") != region_code:
            continue
        code, name = check.code("code", DEPARTEMENT_CODE), check.text("nom")
        if check.unique(code, seen) and name:
            rows.append({"code": code, "name": name, "parent_code": region_code, LINE: record[LINE]})
    if not errors and not rows:
        errors.append(RowError(1, f"aucun département dans la région « {region_code} »", source))
    return _frame(rows, ["code", "name", "parent_code"]), errors


def clean_communes(
    frame: pd.DataFrame, region_code: str, departement_codes: set[str], source: str
) -> tuple[pd.DataFrame, list[RowError]]:
    """The communes actuelles of the région: `code`, `name`, `parent_code` (the département),
    `population` (population municipale), `line`.

    Elements of other régions are not checked: the national file has overseas communes
    without a région, and they are none of our business."""
    errors: list[RowError] = []
    rows, seen = [], {}
    for record in frame.to_dict("records"):
        check = _Checker(record, source, errors)
        if check.value("region") != region_code or check.text("type") != CURRENT_COMMUNE:
            continue
        code, name = check.code("code", COMMUNE_CODE), check.text("nom")
        population, departement = check.count("population"), check.text("departement")
        if departement and departement not in departement_codes:
            check.fail(f"département « {departement} » inconnu ou hors de la région")
        elif check.unique(code, seen) and name and population is not None and departement:
            rows.append(
                {
                    "code": code,
                    "name": name,
                    "parent_code": departement,
                    "population": population,
                    LINE: record[LINE],
                }
            )
    columns = ["code", "name", "parent_code", "population"]
    return _frame(rows, columns), errors


def clean_epci(frame: pd.DataFrame, commune_codes: set[str], source: str) -> tuple[pd.DataFrame, list[RowError]]:
    """The EPCI with at least one member among `commune_codes`: `code` (SIREN), `name`,
    `epci_type`, `population` (populationMunicipale), `members` (their member communes within
    `commune_codes`), `line`. The members are checked on every EPCI since they decide which
    are kept; a commune claimed by two EPCI is an error."""
    errors: list[RowError] = []
    rows, seen = [], {}
    claimed: dict[str, str] = {}
    for record in frame.to_dict("records"):
        check = _Checker(record, source, errors)
        members = [code for code in check.members("membres") or [] if code in commune_codes]
        if not members:
            continue
        code, name = check.code("code", SIREN), check.text("nom")
        kind = check.text("type", max_length=EPCI_TYPE_MAX_LENGTH)
        population = check.count("populationMunicipale")
        if not (check.unique(code, seen) and name and kind and population is not None):
            continue
        for commune in members:
            if claimed.setdefault(commune, code) != code:
                check.fail(f"la commune {commune} est déjà membre de l'EPCI {claimed[commune]}")
        rows.append(
            {
                "code": code,
                "name": name,
                "epci_type": kind,
                "population": population,
                "members": members,
                LINE: record[LINE],
            }
        )
    columns = ["code", "name", "epci_type", "population", "members"]
    return _frame(rows, columns), errors


class _Checker:
    """Reads the keys of one element, recording an error for each missing or malformed one."""

    def __init__(self, record: dict, source: str, errors: list[RowError]):
        self.record, self.source, self.errors = record, source, errors

    def value(self, key: str) -> Any:
        value = self.record.get(key)
        # pandas fills the keys an element lacks with NaN.
        return None if isinstance(value, float) and math.isnan(value) else value

    def fail(self, message: str) -> None:
        code = self.value("code")
        where = f"élément n°{self.record[POSITION]}"
        if isinstance(code, str) and code:
            where += f" (code {code})"
        self.errors.append(RowError(self.record[LINE], f"{where} : {message}", self.source))

    def text(self, key: str, max_length: int = NAME_MAX_LENGTH) -> str | None:
        value = self.value(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            self.fail(f"clé « {key} » manquante ou vide")
        elif not isinstance(value, str):
            self.fail(f"« {key} » doit être une chaîne de caractères")
        elif len(value.strip()) > max_length:
            self.fail(f"« {key} » dépasse {max_length} caractères")
        else:
            return value.strip()
        return None

    def code(self, key: str, pattern: re.Pattern) -> str | None:
        value = self.text(key)
        if value is not None and not pattern.fullmatch(value):
            self.fail(f"code « {value} » de forme inattendue")
            return None
        return value

    def count(self, key: str) -> int | None:
        value = self.value(key)
        # bool is an int in Python, but `true` is no population.
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if value is None:
            self.fail(f"clé « {key} » manquante")
        else:
            self.fail(f"« {key} » doit être un entier positif ou nul (lu : {value!r})")
        return None

    def unique(self, code: str | None, seen: dict[str, int]) -> bool:
        """False, with an error, if `code` is missing or already met in this file."""
        if code is None:
            return False
        first = seen.setdefault(code, self.record[POSITION])
        if first != self.record[POSITION]:
            self.fail(f"code en double (déjà élément n°{first})")
            return False
        return True

    def members(self, key: str) -> list[str] | None:
        value = self.value(key)
        if not isinstance(value, list):
            self.fail(f"clé « {key} » manquante ou qui n'est pas une liste")
            return None
        codes = [m.get("code") for m in value if isinstance(m, dict)]
        if len(codes) != len(value) or not all(isinstance(c, str) and c for c in codes):
            self.fail(f"chaque élément de « {key} » doit être un objet avec un « code »")
            return None
        return codes


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[*columns, LINE], dtype=object)


def _first_existing(directory: Path, names: tuple[str, ...]) -> Path:
    for name in names:
        if (directory / name).is_file():
            return directory / name
    raise FileNotFoundError(f"aucun des fichiers {', '.join(names)} dans {directory}")


# --- load ----------------------------------------------------------------------------------


@transaction.atomic
def load_cog(frames: dict[str, pd.DataFrame]) -> list[ImportReport]:
    """Upsert the cleaned frames on (level, code), parents first so that children can point
    to them. Territories absent from the files are left alone (a merged commune may still be
    referenced by establishments)."""
    regions = _rows(frames, Territory.Level.REGION)
    region, region_ids = _upsert(
        Territory.Level.REGION,
        [{"code": r["code"], "name": r["name"], "parent_id": None} for r in regions],
    )
    departement, departement_ids = _upsert(
        Territory.Level.DEPARTEMENT,
        [
            {"code": r["code"], "name": r["name"], "parent_id": region_ids[r["parent_code"]]}
            for r in _rows(frames, Territory.Level.DEPARTEMENT)
        ],
    )
    # An EPCI straddling a regional border hangs under the région it was imported for.
    region_id = region_ids[regions[0]["code"]]
    epci, epci_ids = _upsert(
        Territory.Level.EPCI,
        [
            {
                "code": r["code"],
                "name": r["name"],
                "parent_id": region_id,
                "epci_type": r["epci_type"],
                "population": r["population"],
            }
            for r in _rows(frames, Territory.Level.EPCI)
        ],
    )
    commune, _ = _upsert(
        Territory.Level.COMMUNE,
        [
            {
                "code": r["code"],
                "name": r["name"],
                "parent_id": departement_ids[r["parent_code"]],
                "epci_id": epci_ids.get(r["epci_code"]),
                "population": r["population"],
            }
            for r in _rows(frames, Territory.Level.COMMUNE)
        ],
    )
    return [region, departement, epci, commune]


def _rows(frames: dict[str, pd.DataFrame], level: str) -> list[dict]:
    return sorted(frames[level].to_dict("records"), key=lambda row: row["code"])


def _upsert(level: str, rows: list[dict]) -> tuple[ImportReport, dict[str, int]]:
    """Create or update the territories of one level from dicts of model attribute values
    keyed by `code`; only real changes count as updates. Returns the report and the ids of
    the level's territories by code."""
    report = ImportReport(SOURCES[level])
    # The boundaries are another importer's business, and heavy: leave them in the database.
    existing = {t.code: t for t in Territory.objects.filter(level=level).defer("geometry")}
    fields = [key for key in rows[0] if key != "code"] if rows else []
    to_create, to_update = [], []
    for row in rows:
        values = {key: row[key] for key in fields}
        territory = existing.get(row["code"])
        if territory is None:
            to_create.append(Territory(level=level, code=row["code"], **values))
        elif any(getattr(territory, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(territory, key, value)
            to_update.append(territory)
        else:
            report.unchanged += 1
    Territory.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Territory.objects.bulk_update(to_update, fields, batch_size=BATCH_SIZE)
    report.created, report.updated = len(to_create), len(to_update)
    ids = dict(Territory.objects.filter(level=level).values_list("code", "id"))
    return report, ids
