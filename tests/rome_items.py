"""ROME items and their links to fiches, written by hand for the tests."""

from skills.models import OccupationItem, RomeItem


def rome_item(code, label, kind=RomeItem.Kind.SKILL, rule="", **shares):
    """An item; with `shares` (any of rc … nrm), the missing categories are 0."""
    values = {c: shares.get(c, 0.0) if shares else None for c in ("rc", "rm", "nra", "nri", "nrm")}
    return RomeItem.objects.create(code=code, kind=kind, label=label, rule=rule, **values)


def link_item(fiche, item, core=""):
    OccupationItem.objects.create(occupation_id=fiche, item=item, core=core)
