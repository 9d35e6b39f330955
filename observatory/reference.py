"""Load the reference nomenclatures (territories, sectors, occupations) from one folder laid
out like the official downloads: the project's small built-in set in `reference/`, or the
full official files named by the REFERENCE_DATA setting.

The importers live in the apps that own the models; this module only runs them in the order
their foreign keys need (territories before their geometry, and the NAF before anything that
looks sectors up), inside one transaction so that a refused file leaves the database as it
was.
"""

from pathlib import Path

from django.conf import settings
from django.db import transaction

from companies.importers.cog import import_cog
from companies.importers.geometry import import_geometry
from companies.importers.naf import import_naf
from skills.importers.base import ImportReport
from skills.importers.crosswalks import import_crosswalks
from skills.importers.rome import import_rome

BUILTIN_REFERENCE_DIR = Path(settings.BASE_DIR) / "reference"

COG_DIR = "cog-decoupage-administratif"
GEOMETRY_FILES = (
    ("france-geojson/departements-hauts-de-france.geojson", "departement"),
    ("france-geojson/communes-hauts-de-france.geojson", "commune"),
)
NAF_FILE = "naf-rev2/int_courts_naf_rev_2.csv"
ROME_DIR = "rome4-francetravail"


CROSSWALKS_DIR = "crosswalks"


def default_reference_dir() -> Path:
    """REFERENCE_DATA when it names a folder, else the built-in subset."""
    configured = getattr(settings, "REFERENCE_DATA", "")
    return Path(configured) if configured else BUILTIN_REFERENCE_DIR


def load_reference(directory: Path, stdout=None) -> list[ImportReport]:
    """Import every reference file of `directory` and return the reports in order.

    Raises ImportFailed when a file is refused (nothing is written then, not even the files
    loaded before it) and FileNotFoundError when a mandatory file or folder is missing. The
    geometry files are optional: maps stay blank without them. `stdout`, when given, receives
    each report as soon as it is done (a long load shows progress).
    """
    directory = Path(directory)

    def say(line):
        if stdout is not None:
            stdout.write(str(line))

    for mandatory in (COG_DIR, NAF_FILE, ROME_DIR):
        if not (directory / mandatory).exists():
            raise FileNotFoundError(f"{directory / mandatory} introuvable")

    reports: list[ImportReport] = []

    def record(result):
        for report in result if isinstance(result, list | tuple) else [result]:
            reports.append(report)
            say(report)

    with transaction.atomic():
        record(import_cog(directory / COG_DIR))
        for relative, level in GEOMETRY_FILES:
            path = directory / relative
            if path.exists():
                record(import_geometry(path, level))
            else:
                say(f"{relative} absent : contours de niveau « {level} » non chargés.")
        record(import_naf(directory / NAF_FILE))
        record(import_rome(directory / ROME_DIR))
        # The crosswalks map external indices (ISCO-08, SOC 2010) onto ROME fiches.
        if (directory / CROSSWALKS_DIR).is_dir():
            record(import_crosswalks(directory / CROSSWALKS_DIR))
        else:
            say(f"{CROSSWALKS_DIR}/ absent : tables de correspondance ROME–CITP–SOC non chargées.")
    return reports
