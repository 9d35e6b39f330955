"""What the parts of the ROME importer share: the code patterns, the report of a synced
table, the row checks every file makes, and the batched writes."""

from dataclasses import dataclass

from django.db import models

from .._csv import RowChecker
from ..base import ImportReport

BATCH_SIZE = 1000

FICHE_CODE = r"[A-N][0-9]{4}"
FICHE_SHAPE = "une lettre de A à N et 4 chiffres"
# OGR codes identify fiches, appellations and items alike; RomeItem.code holds 12 characters.
OGR_CODE = r"[0-9]{1,12}"


@dataclass
class SyncReport(ImportReport):
    """The report of a load where the file is the whole truth: pairs gone from it are deleted."""

    deleted: int = 0

    def as_dict(self) -> dict:
        return {**super().as_dict(), "deleted": self.deleted}

    def __str__(self):
        return f"{super().__str__()}, {self.deleted} supprimé(s)"


# Clean.


def check_label(check: RowChecker, column: str, length: int) -> None:
    check.required(column, "libellé")
    check.max_length(column, length, "libellé")


def check_fiche(check: RowChecker, column: str, known: set[str], what: str = "code ROME") -> None:
    check.required(column, what)
    check.matches(column, FICHE_CODE, f"{what} « {{{column}}} » invalide (attendu : {FICHE_SHAPE})")
    check.known(check.frame[column], known, f"{what} « {{{column}}} » inconnu")


def check_ogr_code(check: RowChecker, column: str, what: str = "code OGR") -> None:
    check.required(column, what)
    check.matches(column, OGR_CODE, f"{what} « {{{column}}} » invalide (attendu : 1 à 12 chiffres)")


# Load: upsert on the natural key against one read of the table; the caller holds the
# transaction.


def upsert(model, pk, values, existing, to_create, to_update, fields) -> str:
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


def tally(report: ImportReport, outcome: str) -> None:
    setattr(report, outcome, getattr(report, outcome) + 1)


def bulk_update(model: type[models.Model], objs: list, fields: set[str] | list[str]) -> None:
    if objs and fields:
        model.objects.bulk_update(objs, sorted(fields), batch_size=BATCH_SIZE)


def delete_pks(model: type[models.Model], pks: list) -> None:
    for start in range(0, len(pks), BATCH_SIZE):
        model.objects.filter(pk__in=pks[start : start + BATCH_SIZE]).delete()
