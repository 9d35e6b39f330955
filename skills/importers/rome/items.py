"""The description of the fiches: the ROME items (→ RomeItem) and which fiche names which
item (→ OccupationItem).

- `unix_item` lists every item: `code_ogr`, `libelle`, `code_rubrique` ("1" savoir-faire,
  "2" savoir-être professionnel, "3" savoir, empty for a work context).
- `unix_referentiel_contexte_travail` gives each work context its type
  (`libelle_type_cont_trav`: « Horaires et durée du travail »…). It completes `unix_item`
  and is read only with it.
- `unix_liens_rome_referentiels` links a fiche to codes, bloc by bloc of the fiche
  (`unix_composition_bloc`): bloc 5 « Compétences » (rubrique 1, 2 or 3) and bloc 6
  « Contextes de travail » (rubrique empty) name items; blocs 1 and 2 name the fiche itself
  and its appellations, which other files load, and are skipped.
- `unix_coherence_item` says for each of those pairs whether the item is at the heart of the
  job (`coeur_metier`: « Principale », « Émergente » or empty). It completes the links and
  is read only with them; a pair it does not list is not at the heart of the job.

The importer writes an item's kind, label and context type, never its classification
(`rc`…`nrm` and `rule` belong to skills.services.classify_rome_items) nor the people's
corrections (ItemOverride). Items gone from the export are kept, as corrections point to
them; the links of a fiche the file lists are exactly the file's.
"""

from pathlib import Path

import pandas as pd
from django.db import transaction

from skills.models import OccupationItem, RomeItem

from .._csv import RowChecker, read_csv
from ..base import ImportReport, RowError
from .common import (
    BATCH_SIZE,
    SyncReport,
    bulk_update,
    check_fiche,
    check_label,
    check_ogr_code,
    delete_pks,
    tally,
)

ITEM_FILE = "unix_item_v460_utf8.csv"
CONTEXT_FILE = "unix_referentiel_contexte_travail_v460_utf8.csv"
LINK_FILE = "unix_liens_rome_referentiels_v460_utf8.csv"
COHERENCE_FILE = "unix_coherence_item_v460_utf8.csv"

LABEL_LENGTH = 500  # RomeItem.label; the longest v460 label has 253 characters
CONTEXT_TYPE_LENGTH = 255  # RomeItem.context_type

Kind = RomeItem.Kind
Core = OccupationItem.Core

# `code_rubrique` of unix_item and of the links (unix_descriptif_rubrique: 1 « Savoir-faire »,
# 2 « Savoir-être professionnels », 3 « Savoirs »; empty in the bloc of work contexts).
KINDS = {"1": Kind.SKILL, "2": Kind.SOFT_SKILL, "3": Kind.KNOWLEDGE, "": Kind.CONTEXT}
# Blocs of a fiche whose links name items, with the rubriques each may hold.
ITEM_BLOCS = {"5": ("1", "2", "3"), "6": ("",)}
# Blocs whose links name the fiche's own OGR code and its appellations.
SKIPPED_BLOCS = ("1", "2")
CORES = {"Principale": Core.MAIN, "Émergente": Core.EMERGING, "": Core.OTHER}


# Read.


def read_items(path: Path) -> pd.DataFrame:
    return read_csv(path, ["code_ogr", "libelle", "code_rubrique"])


def read_contexts(path: Path) -> pd.DataFrame:
    return read_csv(path, ["code_ogr", "libelle_type_cont_trav"])


def read_links(path: Path) -> pd.DataFrame:
    return read_csv(path, ["code_rome", "code_compo_bloc", "code_rubrique", "code_ogr"])


def read_coherence(path: Path) -> pd.DataFrame:
    return read_csv(path, ["code_rome", "code_ogr", "coeur_metier"])


# Clean.


def clean_items(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[RowError]]:
    check = RowChecker(frame)
    check_ogr_code(check, "code_ogr")
    check_label(check, "libelle", LABEL_LENGTH)
    check.one_of("code_rubrique", KINDS, "code_rubrique")
    check.unique(["code_ogr"], "élément « {code_ogr} »")
    return check.result()


def item_kinds(items: pd.DataFrame) -> dict[str, str]:
    """OGR code → RomeItem.Kind of the items of an item frame as read, for the files that name
    them. A row refused for its label still says what its code is, so that the links to it
    are not refused too; a row whose rubrique is unknown says nothing."""
    items = items[items["code_rubrique"].isin(KINDS)].drop_duplicates("code_ogr")
    return dict(zip(items["code_ogr"], items["code_rubrique"].map(KINDS), strict=True))


def clean_contexts(frame: pd.DataFrame, *, kinds: dict[str, str]) -> tuple[pd.DataFrame, list[RowError]]:
    """`kinds` are the items of the item file read with this one (`item_kinds`)."""
    check = RowChecker(frame)
    code = frame["code_ogr"]
    check_ogr_code(check, "code_ogr")
    check.required("libelle_type_cont_trav", "type de contexte")
    check.max_length("libelle_type_cont_trav", CONTEXT_TYPE_LENGTH, "type de contexte")
    check.known(code, set(kinds), f"contexte « {{code_ogr}} » absent de {ITEM_FILE}")
    check.flag(
        ~check.bad & (code.map(kinds) != Kind.CONTEXT),
        lambda row: f"élément « {row['code_ogr']} » : un {_kind_label(kinds[row['code_ogr']])} dans {ITEM_FILE}, "
        "pas un contexte de travail",
    )
    check.unique(["code_ogr"], "contexte « {code_ogr} »")
    return check.result()


def clean_links(
    frame: pd.DataFrame, *, known_fiches: set[str], kinds: dict[str, str]
) -> tuple[pd.DataFrame, list[RowError]]:
    """Keep the links of blocs 5 and 6. `kinds` are the items a link may name (this export's
    and the database's) with their kind, which the link's rubrique must agree with."""
    frame = frame[~frame["code_compo_bloc"].isin(SKIPPED_BLOCS)]
    check = RowChecker(frame)
    bloc, rubrique, code = frame["code_compo_bloc"], frame["code_rubrique"], frame["code_ogr"]
    check_fiche(check, "code_rome", known_fiches)
    check.flag(
        ~bloc.isin(ITEM_BLOCS),
        "bloc « {code_compo_bloc} » inattendu (attendu : 1, 2, 5 ou 6)",
    )
    allowed = pd.Series(False, index=frame.index)
    for item_bloc, rubriques in ITEM_BLOCS.items():
        allowed |= (bloc == item_bloc) & rubrique.isin(rubriques)
    check.flag(
        ~check.bad & ~allowed,
        "rubrique « {code_rubrique} » inattendue dans le bloc {code_compo_bloc} "
        "(attendu : 1, 2 ou 3 dans le bloc 5, vide dans le bloc 6)",
    )
    check_ogr_code(check, "code_ogr")
    check.known(code, set(kinds), "élément « {code_ogr} » inconnu")
    check.flag(
        ~check.bad & (code.map(kinds) != rubrique.map(KINDS)),
        lambda row: f"élément « {row['code_ogr']} » : un {_kind_label(kinds[row['code_ogr']])}, "
        f"pas un {_kind_label(KINDS[row['code_rubrique']])} comme le dit la rubrique « {row['code_rubrique']} »",
    )
    check.unique(["code_rome", "code_ogr"], "lien {code_rome} → {code_ogr}")
    return check.result()


def linked_pairs(links: pd.DataFrame) -> set[str]:
    """The fiche–item pairs of a links frame as read (`pair_keys`), skipped blocs left out: a
    link refused for its bloc or rubrique is reported once, not again by its coherence row."""
    return set(pair_keys(links[~links["code_compo_bloc"].isin(SKIPPED_BLOCS)]))


def pair_keys(frame: pd.DataFrame) -> pd.Series:
    return frame["code_rome"] + " " + frame["code_ogr"]


def clean_coherence(
    frame: pd.DataFrame, *, known_fiches: set[str], linked: set[str]
) -> tuple[pd.DataFrame, list[RowError]]:
    """`linked` are the pairs of the links file read with this one (`linked_pairs`): a row
    about a pair those links do not name is refused."""
    check = RowChecker(frame)
    check_fiche(check, "code_rome", known_fiches)
    check_ogr_code(check, "code_ogr")
    check.known(
        pair_keys(frame),
        linked,
        f"élément « {{code_ogr}} » de la fiche {{code_rome}} absent de {LINK_FILE} (blocs 5 et 6)",
    )
    check.one_of("coeur_metier", CORES, "coeur_metier")
    check.unique(["code_rome", "code_ogr"], "cohérence {code_rome} → {code_ogr}")
    return check.result()


def _kind_label(kind: str) -> str:
    return str(Kind(kind).label).lower()


# Load: the caller holds the transaction.


def load_items(items: pd.DataFrame, contexts: pd.DataFrame | None = None) -> list[ImportReport]:
    """Upsert the items' kind and label and, when `contexts` is given, their context type ("" for
    an item it does not list). One report per file: the item file's counts the items whose kind
    or label changed, the context file's those whose type changed."""
    types = None
    if contexts is not None:
        types = dict(zip(contexts["code_ogr"], contexts["libelle_type_cont_trav"], strict=True))
    item_report, context_report = ImportReport(ITEM_FILE), ImportReport(CONTEXT_FILE)
    # Only the fields written here are read, and only those are written back.
    existing = RomeItem.objects.only("code", "kind", "label", "context_type").in_bulk()
    to_create, to_update, fields = [], [], set()
    for code, label, rubrique in zip(items["code_ogr"], items["libelle"], items["code_rubrique"], strict=True):
        values = {"kind": KINDS[rubrique], "label": label}
        listed = types is not None and code in types
        if types is not None:
            values["context_type"] = types.get(code, "")
        obj = existing.get(code)
        if obj is None:
            to_create.append(RomeItem(code=code, **values))
            tally(item_report, "created")
            if listed:
                tally(context_report, "created")
            continue
        changed = {name for name, value in values.items() if getattr(obj, name) != value}
        for name in changed:
            setattr(obj, name, values[name])
        if changed:
            to_update.append(obj)
            fields |= changed
        tally(item_report, "updated" if changed & {"kind", "label"} else "unchanged")
        if "context_type" in changed:  # also an item the context file no longer lists
            tally(context_report, "updated")
        elif listed:
            tally(context_report, "unchanged")
    with transaction.atomic():
        RomeItem.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        bulk_update(RomeItem, to_update, fields)
    return [item_report] if contexts is None else [item_report, context_report]


def load_links(links: pd.DataFrame, coherence: pd.DataFrame | None = None) -> list[ImportReport]:
    """Make each fiche of `links` name exactly the file's items (fiches the file does not list
    keep theirs) and, when `coherence` is given, set how central each pair is (without it, new
    pairs are not central and the others keep their `core`). One report per file: the links
    file's counts pairs, the coherence file's the pairs whose `core` changed."""
    cores = None
    if coherence is not None:
        cores = {
            (fiche, item): CORES[core]
            for fiche, item, core in zip(
                coherence["code_rome"], coherence["code_ogr"], coherence["coeur_metier"], strict=True
            )
        }
    wanted = list(zip(links["code_rome"], links["code_ogr"], strict=True))
    existing = {
        (fiche, item): (pk, core)
        for pk, fiche, item, core in OccupationItem.objects.values_list("pk", "occupation_id", "item_id", "core")
    }
    link_report, core_report = SyncReport(LINK_FILE), ImportReport(COHERENCE_FILE)
    to_create, to_update = [], []
    for pair in wanted:
        core = None if cores is None else cores.get(pair, Core.OTHER)
        listed = cores is not None and pair in cores
        if pair not in existing:
            fiche, item = pair
            core = Core.OTHER if core is None else core
            to_create.append(OccupationItem(occupation_id=fiche, item_id=item, core=core))
            tally(link_report, "created")
            if listed:
                tally(core_report, "created")
            continue
        tally(link_report, "unchanged")
        pk, old_core = existing[pair]
        if core is not None and core != old_core:  # also a pair the coherence file no longer lists
            to_update.append(OccupationItem(pk=pk, core=core))
            tally(core_report, "updated")
        elif listed:
            tally(core_report, "unchanged")
    fiches, kept = set(links["code_rome"]), set(wanted)
    gone = [pk for pair, (pk, _core) in existing.items() if pair[0] in fiches and pair not in kept]
    link_report.deleted = len(gone)
    with transaction.atomic():
        delete_pks(OccupationItem, gone)
        OccupationItem.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        bulk_update(OccupationItem, to_update, {"core"})
    return [link_report] if coherence is None else [link_report, core_report]
