"""France Travail ROME 4.0 export (« RefRomeCsv » v460) → the occupation tree (Occupation,
Appellation, Mobility, NafDivisionOccupation) and the items that describe the fiches
(RomeItem, OccupationItem).

The export is a folder of CSV files (UTF-8, `,`, every field quoted, header row). The grand
domaine, domaine and fiche files build the occupation tree and are required; the others add
to it and may be left out of the folder, save that the work-context file is read only with
the item file and the coherence file only with the links. Every file is read and checked
before anything is written, then everything is written in one transaction: a folder with one
bad line changes nothing. Upserts compare with what the database holds, so a second run
writes nothing. When items were loaded, the lexicon classifies them in the same transaction.

`occupations.py` and `items.py` read, clean and load each file; this module runs them over a
folder.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from django.db import transaction

from skills.models import Occupation, RomeItem
from skills.services import ClassificationReport, classify_rome_items

from ..base import ImportFailed, ImportReport, RowError
from .common import SyncReport
from .items import (
    COHERENCE_FILE,
    CONTEXT_FILE,
    ITEM_FILE,
    LINK_FILE,
    clean_coherence,
    clean_contexts,
    clean_items,
    clean_links,
    item_kinds,
    linked_pairs,
    load_items,
    load_links,
    read_coherence,
    read_contexts,
    read_items,
    read_links,
)
from .occupations import (
    APPELLATION_FILE,
    DOMAINE_FILE,
    FICHE_FILE,
    GRAND_DOMAINE_FILE,
    MOBILITY_FILE,
    NAF_FILE,
    REQUIRED_FILES,
    clean_appellations,
    clean_domaines,
    clean_fiches,
    clean_grand_domaines,
    clean_mobilities,
    clean_naf_links,
    load_appellations,
    load_mobilities,
    load_naf_links,
    load_occupations,
    read_appellations,
    read_domaines,
    read_fiches,
    read_grand_domaines,
    read_mobilities,
    read_naf_links,
)

__all__ = [
    "APPELLATION_FILE",
    "COHERENCE_FILE",
    "CONTEXT_FILE",
    "DOMAINE_FILE",
    "FICHE_FILE",
    "GRAND_DOMAINE_FILE",
    "ITEM_FILE",
    "LINK_FILE",
    "MOBILITY_FILE",
    "NAF_FILE",
    "REQUIRED_FILES",
    "ClassificationStep",
    "MissingFiles",
    "SyncReport",
    "clean_rome",
    "import_rome",
]

# In file order: the order of the reports.
READERS = {
    GRAND_DOMAINE_FILE: read_grand_domaines,
    DOMAINE_FILE: read_domaines,
    FICHE_FILE: read_fiches,
    APPELLATION_FILE: read_appellations,
    MOBILITY_FILE: read_mobilities,
    NAF_FILE: read_naf_links,
    ITEM_FILE: read_items,
    CONTEXT_FILE: read_contexts,
    LINK_FILE: read_links,
    COHERENCE_FILE: read_coherence,
}
# A file that completes another, and cannot be checked without it.
COMPANION_OF = {CONTEXT_FILE: ITEM_FILE, COHERENCE_FILE: LINK_FILE}


class MissingFiles(ImportFailed):
    """The folder lacks a file the occupation tree cannot be built without, or one that
    another file of the folder completes."""

    def __init__(self, directory: Path, required: list[str], companions: dict[str, str]):
        super().__init__([], source=str(directory))
        problems = []
        if required:
            problems.append(f"fichier(s) obligatoire(s) absent(s) du dossier {directory} : {', '.join(required)}")
        problems += [
            f"{name} ne se lit qu'avec {main}, absent du dossier {directory}" for name, main in companions.items()
        ]
        self.args = (f"Export ROME refusé, rien n'a été écrit : {' ; '.join(problems)}",)


@dataclass
class ClassificationStep(ImportReport):
    """The classification run after the items are loaded, listed with the files' reports so
    that the commands print it and `load_reference` counts the items it changed as updated."""

    classification: ClassificationReport = field(default_factory=ClassificationReport)

    def __post_init__(self):
        self.updated = self.classification.changed

    def as_dict(self) -> dict:
        classification = self.classification
        return {**super().as_dict(), "matched": classification.matched, "unmatched": classification.unmatched}

    def __str__(self):
        return str(self.classification)


def import_rome(directory: Path) -> list[ImportReport]:
    """Import the ROME export in `directory`: one report per file read, in file order, then
    the classification's when items were loaded.

    Raises ImportFailed, having written nothing, when a required file is missing, when a file
    is there without the one it completes, or when any row of any file is wrong.
    """
    directory = Path(directory)
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    alone = {
        name: main
        for name, main in COMPANION_OF.items()
        if (directory / name).is_file() and not (directory / main).is_file()
    }
    if missing or alone:
        raise MissingFiles(directory, missing, alone)

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
        if ITEM_FILE in frames:
            reports += load_items(frames[ITEM_FILE], frames.get(CONTEXT_FILE))
        if LINK_FILE in frames:
            reports += load_links(frames[LINK_FILE], frames.get(COHERENCE_FILE))
        if ITEM_FILE in frames:
            reports.append(ClassificationStep("classement des éléments du ROME", classification=classify_rome_items()))
    return reports


def clean_rome(frames: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list[RowError]]:
    """Clean every file read (keyed by file name), in file order; rows may point to codes of
    the export or of the database (one query per table)."""
    in_db = defaultdict(set)
    for code, level in Occupation.objects.values_list("code", "level"):
        in_db[level].add(code)
    Level = Occupation.Level
    grand_domaines = in_db[Level.GRAND_DOMAINE] | set(frames[GRAND_DOMAINE_FILE]["code_grand_domaine"])
    domaines = in_db[Level.DOMAINE] | set(frames[DOMAINE_FILE]["code_domaine_professionnel"])
    fiches = in_db[Level.FICHE] | set(frames[FICHE_FILE]["code_rome"])

    cleaned, errors = {}, []

    def clean(name, cleaner):
        if name in frames:
            cleaned[name], file_errors = cleaner(frames[name])
            errors.extend(file_errors)

    clean(GRAND_DOMAINE_FILE, clean_grand_domaines)
    clean(DOMAINE_FILE, lambda f: clean_domaines(f, known_grand_domaines=grand_domaines))
    clean(FICHE_FILE, lambda f: clean_fiches(f, known_domaines=domaines, known_fiches=fiches))
    clean(APPELLATION_FILE, lambda f: clean_appellations(f, known_fiches=fiches))
    clean(MOBILITY_FILE, lambda f: clean_mobilities(f, known_fiches=fiches))
    clean(NAF_FILE, lambda f: clean_naf_links(f, known_fiches=fiches))
    clean(ITEM_FILE, clean_items)
    # The items of this export; links may also name items already in the database.
    kinds = item_kinds(frames[ITEM_FILE]) if ITEM_FILE in frames else {}
    clean(CONTEXT_FILE, lambda f: clean_contexts(f, kinds=kinds))
    if LINK_FILE in frames:
        known_items = {**dict(RomeItem.objects.values_list("code", "kind")), **kinds}
        clean(LINK_FILE, lambda f: clean_links(f, known_fiches=fiches, kinds=known_items))
        linked = linked_pairs(frames[LINK_FILE])
        clean(COHERENCE_FILE, lambda f: clean_coherence(f, known_fiches=fiches, linked=linked))
    return cleaned, errors
