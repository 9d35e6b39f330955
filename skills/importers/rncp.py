"""France Compétences « export-fiches-csv » (RNCP and Répertoire spécifique) → Certification and
SkillBlock, with their ROME occupations.

The export is a zip of CSV files (`;`, every non-empty value double-quoted, UTF-8, CRLF, header
row) named `export_fiches_CSV_<Part>_<YYYY_MM_DD>.csv`. The parts used here are Standard (one
row per fiche: required), Blocs_De_Compétences, Rome, Formacode, Nsf and Certificateurs; the
others (Partenaires, VoixdAccès, CCN, Ancienne_Nouvelle_Certification) are ignored. Curators
upload the zip; the command also takes the unzipped folder.

Every row of every part is checked before anything is written, then everything is written in
one transaction: an export with one bad line changes nothing. Upserts compare with what the
database holds, so a second run of the same export writes nothing.

What the database keeps of a fiche that the export does not say:

- The export gives ROME codes per fiche, not per bloc: a bloc's occupations are its
  certification's ROME fiches. Codes absent from `skills.Occupation` (ROME v3 codes retired
  from ROME 4.0, or a ROME not imported yet) are counted and reported, not refused.
- A part absent from the export leaves the matching fields as they are (no Rome file: the
  occupation links are kept), and blocs or fiches absent from the export are kept, as
  training offers may point to them.
"""

import contextlib
import os
import re
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from django.db import transaction

from skills.models import Certification, Occupation, SkillBlock

from ._csv import RowChecker, read_csv
from .base import ImportFailed, ImportReport, RowError

# The parts read, by their name in the file names.
STANDARD = "Standard"
BLOCS = "Blocs_De_Compétences"
ROME = "Rome"
FORMACODE = "Formacode"
NSF = "Nsf"
CERTIFIERS = "Certificateurs"

# Columns each part must have (the others of the official export are not read).
COLUMNS = {
    STANDARD: ["Numero_Fiche", "Intitule", "Nomenclature_Europe_Niveau", "Date_Fin_Enregistrement", "Actif"],
    BLOCS: ["Numero_Fiche", "Bloc_Competences_Code", "Bloc_Competences_Libelle"],
    ROME: ["Numero_Fiche", "Codes_Rome_Code"],
    FORMACODE: ["Numero_Fiche", "Formacode_Code"],
    NSF: ["Numero_Fiche", "Nsf_Code"],
    CERTIFIERS: ["Numero_Fiche", "Nom_Certificateur"],
}
# Checked as dates when the Standard file has them.
DATE_COLUMNS = ["Date_dernier_jo", "Date_Decision", "Date_Fin_Enregistrement", "Date_Effet"]

FILE_NAME = re.compile(r"export_fiches_CSV_(?P<part>.+)_(?P<date>[0-9]{4}_[0-9]{2}_[0-9]{2})\.csv", re.IGNORECASE)

FICHE_CODE = r"(?:RNCP|RS)[0-9]{1,12}"
BLOC_CODE = r"(?P<fiche>(?:RNCP|RS)[0-9]{1,12})BC[0-9]{1,6}"
ROME_CODE = r"[A-N][0-9]{4}"
FORMACODE_CODE = r"[0-9]{5}"
NSF_CODE = r"[0-9]{1,3}[A-Za-z]?"  # 3 digits and a letter for a speciality (« 221w »)
DATE = r"[0-9]{2}/[0-9]{2}/[0-9]{4}"

# Nomenclature_Europe_Niveau → Certification.level. « REPRISE » marks the old fiches taken over
# without a level (« Sans niveau »); RS fiches have no level at all (empty).
LEVELS = {f"NIV{digit}": digit for digit in range(3, 9)}
NO_LEVEL = "REPRISE"
ACTIVE = {"ACTIVE": True, "INACTIVE": False}

TITLE_LENGTH = 500  # Certification.title
BLOC_LABEL_LENGTH = 1000  # SkillBlock.label
CERTIFIERS_LENGTH = 1000  # Certification.certifiers
BATCH_SIZE = 1000


@dataclass
class CertificationReport(ImportReport):
    """The certifications' report, with the ROME codes of the Rome file that name no fiche of
    `skills.Occupation` (their links are skipped)."""

    unknown_rome_codes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "unknown_rome_codes": self.unknown_rome_codes}

    def __str__(self):
        text = super().__str__()
        if self.unknown_rome_codes:
            shown = ", ".join(self.unknown_rome_codes[:10])
            more = " …" if len(self.unknown_rome_codes) > 10 else ""
            text += (
                f", {len(self.unknown_rome_codes)} code(s) ROME absent(s) du référentiel importé, "
                f"liens ignorés : {shown}{more}"
            )
        return text


class ExportRefused(ImportFailed):
    """An export that cannot be read at all (no Standard file, a broken zip): no line to name."""

    def __init__(self, source: str, reason: str):
        super().__init__([], source=source)
        self.args = (f"{source} refusé, rien n'a été écrit : {reason}",)


# Read


def read_rncp(source: Path | str | BinaryIO) -> dict[str, pd.DataFrame]:
    """Read the export in `source` (a folder, a `.zip` file, or a binary file object of a zip)
    into one frame of strings per part used, keyed by part name (`STANDARD`, `BLOCS`…).

    Each frame is indexed by physical line number (header = line 1) and carries its file name
    in `attrs["source"]`. Raises ImportFailed when the Standard file is missing, a part comes
    twice, a file lacks a column, is not UTF-8 or has a malformed line, or the zip is broken.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            names = {entry.name: entry for entry in path.iterdir() if entry.is_file()}
            return _read_parts(names, str(path))
        if not path.is_file():
            raise ExportRefused(str(path), "dossier ou archive zip introuvable")
        with path.open("rb") as file:
            return _read_zip(file, path.name)
    return _read_zip(source, Path(getattr(source, "name", "") or "archive zip").name)


# An archive is opened with limits (a zip bomb holds gigabytes of zeros in a few megabytes):
# the files used may add up to at most this many bytes once uncompressed (the whole national
# export is about a tenth of it), and none may be compressed more than this ratio (CSV text
# compresses about ten times). Both are counted on the bytes actually read, not on what the
# archive declares, and reading stops at the first byte over.
MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
CHUNK_BYTES = 1024 * 1024


def _read_zip(file: BinaryIO, where: str) -> dict[str, pd.DataFrame]:
    """Extract the parts used into a temporary folder (under names of our own, whatever paths
    the archive holds), streaming each within the limits above, and read them from there."""
    try:
        with zipfile.ZipFile(file) as archive, tempfile.TemporaryDirectory() as folder:
            members = {}
            total = 0
            for info in archive.infolist():
                name = _member_name(info)
                if not info.is_dir() and _part_of(name) is not None:
                    if name in members:
                        raise ExportRefused(where, f"fichier {name} présent deux fois dans l'archive")
                    target = Path(folder) / name
                    total = _extract_bounded(archive, info, target, total, where)
                    members[name] = target
            return _read_parts(members, where)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ExportRefused(where, "archive zip illisible ou tronquée") from exc


def _extract_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, total: int, where: str) -> int:
    """Copy one member to `target` a chunk at a time; the bytes read so far, all members
    together, are returned. Refuses the archive at the first byte over a limit."""
    # What the archive declares is checked first (an honest bomb is refused without reading a
    # byte); what it holds is counted while reading (a lying one is refused all the same).
    too_large = (
        f"archive trop volumineuse une fois décompressée (plus de {MAX_UNCOMPRESSED_BYTES // 2**20} Mo)"
    )
    if total + info.file_size > MAX_UNCOMPRESSED_BYTES:
        raise ExportRefused(where, too_large)
    if info.file_size > CHUNK_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        raise ExportRefused(
            where,
            f"fichier {info.filename} : {info.file_size // 2**20} Mo une fois décompressé pour "
            f"{info.compress_size // 2**10} Ko dans l'archive, archive refusée (bombe de décompression ?)",
        )
    written = 0
    with archive.open(info) as source, target.open("wb") as sink:
        while chunk := source.read(CHUNK_BYTES):
            written += len(chunk)
            if total + written > MAX_UNCOMPRESSED_BYTES:
                raise ExportRefused(where, too_large)
            if written > MAX_COMPRESSION_RATIO * max(info.compress_size, 1) and written > CHUNK_BYTES:
                raise ExportRefused(
                    where,
                    f"fichier {info.filename} compressé plus de {MAX_COMPRESSION_RATIO} fois : "
                    "archive refusée (bombe de décompression ?)",
                )
            sink.write(chunk)
    return total + written


def _member_name(info: zipfile.ZipInfo) -> str:
    """The file name of a zip member, without its folders. Archives made without the UTF-8
    flag are decoded as cp437 by zipfile: undo that when the bytes were UTF-8 after all."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("utf-8")
    return unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])


def _part_key(text: str) -> str:
    """`Blocs_De_Compétences` and `blocs_de_competences` (or its NFD spelling) are one part."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


PART_KEYS = {_part_key(part): part for part in COLUMNS}


def _part_of(name: str) -> str | None:
    """The part a file name is of, or None for the parts not used and for other files."""
    match = FILE_NAME.fullmatch(unicodedata.normalize("NFC", name))
    return PART_KEYS.get(_part_key(match["part"])) if match else None


def _read_parts(files: dict[str, Path], where: str) -> dict[str, pd.DataFrame]:
    """Read the files of `files` (name → path) whose names are parts used; every file is read
    so that all their errors are reported together."""
    by_part = {}
    for name, path in sorted(files.items()):
        part = _part_of(name)
        if part is not None:
            by_part.setdefault(part, []).append(path)
    twice = {part: paths for part, paths in by_part.items() if len(paths) > 1}
    if twice:
        shown = "; ".join(", ".join(path.name for path in paths) for paths in twice.values())
        raise ExportRefused(where, f"plusieurs fichiers pour la même partie de l'export : {shown}")
    if STANDARD not in by_part:
        raise ExportRefused(where, "fichier export_fiches_CSV_Standard_<date>.csv absent")

    frames, errors = {}, []
    for part in COLUMNS:
        if part in by_part:
            try:
                frames[part] = read_csv(by_part[part][0], COLUMNS[part], delimiter=";")
            except ImportFailed as exc:
                errors += exc.errors
    if errors:
        raise ImportFailed(errors, _source_of(errors, where))
    return frames


# Clean


def clean_rncp(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Check every row of every part read; return the frames with the values converted.

    The Standard frame gains `register` (RNCP/RS), `level` (3..8 or None), `active` (bool) and
    `end_date` (a date or None); the frames of the other parts are returned without their
    repeated rows. Every fiche named in another part must be in the Standard file. Raises
    ImportFailed with the errors of all parts when any row is wrong.
    """
    standard = frames[STANDARD]
    fiches = set(standard["Numero_Fiche"])
    standard_source = standard.attrs.get("source", STANDARD)
    cleaners = {
        STANDARD: _clean_standard,
        BLOCS: lambda frame: _clean_blocs(frame, fiches, standard_source),
        ROME: lambda frame: _clean_codes(frame, "Codes_Rome_Code", ROME_CODE, "code ROME", fiches, standard_source),
        FORMACODE: lambda frame: _clean_codes(
            frame, "Formacode_Code", FORMACODE_CODE, "code Formacode", fiches, standard_source
        ),
        NSF: lambda frame: _clean_codes(frame, "Nsf_Code", NSF_CODE, "code NSF", fiches, standard_source),
        CERTIFIERS: lambda frame: _clean_certifiers(frame, fiches, standard_source),
    }
    clean, errors = {}, []
    for part, frame in frames.items():
        clean[part], part_errors = cleaners[part](frame)
        errors += part_errors
    if errors:
        raise ImportFailed(errors, _source_of(errors, "Export RNCP / RS"))
    return clean


def _clean_standard(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[RowError]]:
    check = RowChecker(frame)
    code, level = frame["Numero_Fiche"], frame["Nomenclature_Europe_Niveau"]
    check.required("Numero_Fiche", "numéro de fiche")
    check.matches(
        "Numero_Fiche",
        FICHE_CODE,
        "numéro de fiche « {Numero_Fiche} » invalide (attendu : RNCP ou RS suivi de chiffres)",
    )
    check.required("Intitule", "intitulé")
    check.max_length("Intitule", TITLE_LENGTH, "intitulé")
    check.one_of("Nomenclature_Europe_Niveau", [*LEVELS, NO_LEVEL, ""], "niveau européen")
    check.flag(
        code.str.startswith("RNCP") & (level == ""),
        "niveau européen vide : obligatoire pour une fiche RNCP (NIV3 à NIV8, ou REPRISE)",
    )
    for column in DATE_COLUMNS:
        if column in frame.columns:
            _check_date(check, column)
    check.one_of("Actif", ACTIVE, "Actif")
    check.unique(["Numero_Fiche"], "fiche « {Numero_Fiche} »")
    frame, errors = check.result()
    if errors:
        return frame, errors
    # Python values in object columns (not NaN-padded floats), as the model fields take them.
    end_dates = _dates(frame["Date_Fin_Enregistrement"])
    converted = {
        "register": frame["Numero_Fiche"].str.extract(r"^(RNCP|RS)", expand=False),
        "level": [LEVELS.get(value) for value in frame["Nomenclature_Europe_Niveau"]],
        "active": [ACTIVE[value] for value in frame["Actif"]],
        "end_date": [None if pd.isna(value) else value.date() for value in end_dates],
    }
    for name, values in converted.items():
        converted[name] = pd.Series(list(values), index=frame.index, dtype=object)
    return frame.assign(**converted), errors


def _check_date(check: RowChecker, column: str) -> None:
    values = check.frame[column]
    wrong = (values != "") & (~values.str.fullmatch(DATE) | _dates(values).isna())
    check.flag(wrong, f"{column} : date « {{{column}}} » invalide (attendu : jj/mm/aaaa)")


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, format="%d/%m/%Y", errors="coerce")


def _check_fiche(check: RowChecker, fiches: set[str], standard_source: str) -> None:
    check.required("Numero_Fiche", "numéro de fiche")
    check.known(
        check.frame["Numero_Fiche"],
        fiches,
        f"fiche « {{Numero_Fiche}} » inconnue : absente du fichier {standard_source}",
    )


def _clean_blocs(frame: pd.DataFrame, fiches: set[str], standard_source: str) -> tuple[pd.DataFrame, list[RowError]]:
    check = RowChecker(frame)
    code = frame["Bloc_Competences_Code"]
    check.required("Bloc_Competences_Code", "code du bloc")
    check.matches(
        "Bloc_Competences_Code",
        BLOC_CODE,
        "code de bloc « {Bloc_Competences_Code} » invalide (attendu : le numéro de fiche, BC et des chiffres)",
    )
    _check_fiche(check, fiches, standard_source)
    fiche_of_code = code.str.extract(f"^{BLOC_CODE}$", expand=True)["fiche"].fillna("")
    check.flag(
        ~check.bad & (fiche_of_code != frame["Numero_Fiche"]),
        "bloc « {Bloc_Competences_Code} » d'une autre fiche que « {Numero_Fiche} »",
    )
    check.required("Bloc_Competences_Libelle", "libellé du bloc")
    check.max_length("Bloc_Competences_Libelle", BLOC_LABEL_LENGTH, "libellé du bloc")
    check.unique(["Bloc_Competences_Code"], "bloc « {Bloc_Competences_Code} »")
    return check.result()


def _clean_codes(
    frame: pd.DataFrame, column: str, pattern: str, what: str, fiches: set[str], standard_source: str
) -> tuple[pd.DataFrame, list[RowError]]:
    """A part listing codes per fiche (Rome, Formacode, Nsf); a pair given twice is kept once."""
    check = RowChecker(frame)
    _check_fiche(check, fiches, standard_source)
    check.required(column, what)
    check.matches(column, pattern, f"{what} « {{{column}}} » invalide")
    frame, errors = check.result()
    return frame.drop_duplicates(["Numero_Fiche", column]), errors


def _clean_certifiers(
    frame: pd.DataFrame, fiches: set[str], standard_source: str
) -> tuple[pd.DataFrame, list[RowError]]:
    # The SIRET (with the TAB the export puts before it) is trimmed by read_csv and not stored.
    check = RowChecker(frame)
    _check_fiche(check, fiches, standard_source)
    check.required("Nom_Certificateur", "nom du certificateur")
    frame, errors = check.result()
    return frame.drop_duplicates(["Numero_Fiche", "Nom_Certificateur"]), errors


# Load


def load_rncp(clean: dict[str, pd.DataFrame]) -> list[ImportReport]:
    """Upsert the certifications and blocs of a cleaned export in one transaction; returns
    their two reports. A certification or bloc whose occupation links change counts as
    updated."""
    standard = clean[STANDARD]
    cert_report = CertificationReport(standard.attrs.get("source", STANDARD))
    blocs = clean.get(BLOCS)
    bloc_report = ImportReport(blocs.attrs.get("source", BLOCS) if blocs is not None else f"{BLOCS} (fichier absent)")

    wanted = _certification_values(clean)
    with transaction.atomic():
        fiches_of = None  # certification code → its ROME fiches, when the export has a Rome file
        if ROME in clean:
            known = set(Occupation.objects.fiches().values_list("code", flat=True))
            rome = clean[ROME]
            fiches_of = _codes_by_fiche(rome[rome["Codes_Rome_Code"].isin(known)], "Codes_Rome_Code")
            cert_report.unknown_rome_codes = sorted(set(rome["Codes_Rome_Code"]) - known)

        cert_ids, changed = _upsert(Certification, wanted, cert_report)
        if fiches_of is not None:
            links = {cert_ids[code]: set(fiches_of.get(code, ())) for code in wanted}
            relinked = _sync_links(Certification.occupations.through, "certification_id", links)
            _count_relinked(cert_report, relinked - {cert_ids[code] for code in changed})

        if blocs is not None:
            wanted_blocs = {
                row.Bloc_Competences_Code: {
                    "label": row.Bloc_Competences_Libelle,
                    "certification_id": cert_ids[row.Numero_Fiche],
                }
                for row in blocs.itertuples()
            }
            bloc_ids, changed = _upsert(SkillBlock, wanted_blocs, bloc_report)
            if fiches_of is not None:
                links = {
                    bloc_ids[row.Bloc_Competences_Code]: set(fiches_of.get(row.Numero_Fiche, ()))
                    for row in blocs.itertuples()
                }
                relinked = _sync_links(SkillBlock.occupations.through, "skillblock_id", links)
                _count_relinked(bloc_report, relinked - {bloc_ids[code] for code in changed})
    return [cert_report, bloc_report]


def _certification_values(clean: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """Certification code → its field values; the fields of a part absent from the export are
    left out, so that the database keeps them."""
    lists = {}
    if FORMACODE in clean:
        lists["formacodes"] = _codes_by_fiche(clean[FORMACODE], "Formacode_Code")
    if NSF in clean:
        lists["nsf_codes"] = _codes_by_fiche(clean[NSF], "Nsf_Code")
    names = _codes_by_fiche(clean[CERTIFIERS], "Nom_Certificateur") if CERTIFIERS in clean else None

    wanted = {}
    for row in clean[STANDARD].itertuples():
        values = {
            "register": row.register,
            "title": row.Intitule,
            "level": row.level,
            "active": row.active,
            "end_date": row.end_date,
        }
        for name, by_fiche in lists.items():
            values[name] = by_fiche.get(row.Numero_Fiche, [])
        if names is not None:
            values["certifiers"] = join_names(names.get(row.Numero_Fiche, []))
        wanted[row.Numero_Fiche] = values
    return wanted


def join_names(names: list[str], limit: int = CERTIFIERS_LENGTH) -> str:
    """The names joined by ", ", cut to `limit` characters by naming how many are left out
    (some university diplomas have dozens of certifiers)."""
    text = ", ".join(names)
    kept = list(names)
    while len(text) > limit and kept:
        kept.pop()
        text = f"{', '.join(kept)} et {len(names) - len(kept)} autre(s)"
    return text


def _codes_by_fiche(frame: pd.DataFrame, column: str) -> dict[str, list[str]]:
    """Fiche number → the values of `column` in file order."""
    by_fiche = {}
    for fiche, value in zip(frame["Numero_Fiche"], frame[column], strict=True):
        by_fiche.setdefault(fiche, []).append(value)
    return by_fiche


def _upsert(model, wanted: dict[str, dict], report: ImportReport) -> tuple[dict[str, int], set[str]]:
    """Create or update the rows of `model` keyed by `code`; count them in `report`. Returns
    every code's primary key and the codes created or updated."""
    existing = model.objects.in_bulk(field_name="code")
    to_create, to_update, fields, changed = [], [], set(), set()
    for code, values in wanted.items():
        obj = existing.get(code)
        if obj is None:
            to_create.append(model(code=code, **values))
            changed.add(code)
            continue
        differ = [name for name, value in values.items() if getattr(obj, name) != value]
        if differ:
            for name in differ:
                setattr(obj, name, values[name])
            to_update.append(obj)
            fields.update(model._meta.get_field(name).name for name in differ)
            changed.add(code)
    model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    if to_update:
        model.objects.bulk_update(to_update, sorted(fields), batch_size=BATCH_SIZE)
    report.created += len(to_create)
    report.updated += len(to_update)
    report.unchanged += len(wanted) - len(to_create) - len(to_update)
    # Not every database returns the primary keys of bulk_create: read them back.
    return dict(model.objects.order_by().values_list("code", "pk")), changed


def _sync_links(through, owner_field: str, wanted: dict[int, set[str]]) -> set[int]:
    """Make the many-to-many table `through` hold exactly `wanted` (owner pk → occupation
    codes) for the owners of `wanted`; returns the owners whose links changed."""
    existing = {}
    for pk, owner, occupation in through.objects.order_by().values_list("pk", owner_field, "occupation_id"):
        if owner in wanted:
            existing.setdefault(owner, {})[occupation] = pk
    gone, to_create, changed = [], [], set()
    for owner, codes in wanted.items():
        held = existing.get(owner, {})
        gone += [pk for code, pk in held.items() if code not in codes]
        to_create += [through(**{owner_field: owner, "occupation_id": code}) for code in sorted(codes - held.keys())]
        if codes != held.keys():
            changed.add(owner)
    for start in range(0, len(gone), BATCH_SIZE):
        through.objects.filter(pk__in=gone[start : start + BATCH_SIZE]).delete()
    through.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    return changed


def _count_relinked(report: ImportReport, owners: set[int]) -> None:
    """Rows unchanged but for their occupation links are updated ones."""
    report.updated += len(owners)
    report.unchanged -= len(owners)


def _source_of(errors: list[RowError], default: str) -> str:
    sources = {error.source for error in errors}
    return sources.pop() if len(sources) == 1 else default


# The whole export


def import_rncp(
    source: Path | str | BinaryIO, *, progress: Callable[[float], None] | None = None
) -> list[ImportReport]:
    """Import the export in `source` (folder, zip path or zip file object): read → clean →
    load. Returns the reports of the certifications and the blocs. `progress`, if given, is
    called with the fraction done (0 to 1) after each step.

    Raises ImportFailed, having written nothing, when the export or any of its rows is wrong.
    """
    notify = progress or (lambda fraction: None)
    frames = read_rncp(source)
    notify(0.4)
    clean = clean_rncp(frames)
    notify(0.6)
    reports = load_rncp(clean)
    notify(1.0)
    return reports
