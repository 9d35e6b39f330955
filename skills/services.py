"""Writes of the skills app that are more than an import: the classification of ROME items
into task categories, and people's corrections of it."""

from dataclasses import dataclass

import pandas as pd
from django.db import transaction

from skills.categories import CATEGORIES
from skills.classification import classify_items
from skills.models import ItemOverride, RomeItem

BATCH_SIZE = 2000


@dataclass
class ClassificationReport:
    """Counts of one `classify_rome_items`: items whose stored classification changed,
    matched by a rule, and left unmatched (savoir-faire and contexts only)."""

    changed: int = 0
    matched: int = 0
    unmatched: int = 0

    def __str__(self):
        return (
            f"Classement des éléments du ROME : {self.matched} classé(s) par une règle, "
            f"{self.unmatched} sans règle, {self.changed} modifié(s)"
        )


@transaction.atomic
def classify_rome_items() -> ClassificationReport:
    """Run the lexicon over every stored item and write what changed (idempotent: a second
    run writes nothing). Overrides are separate rows and are never touched here."""
    fields = ["code", "kind", "label", "rule", *CATEGORIES]
    stored = pd.DataFrame.from_records(RomeItem.objects.values_list(*fields), columns=fields)
    report = ClassificationReport()
    if stored.empty:
        return report
    decided = classify_items(stored[["code", "kind", "label"]])
    merged = stored.merge(decided, on="code", suffixes=("_old", ""))
    classified_kinds = merged["kind"].isin([RomeItem.Kind.SKILL, RomeItem.Kind.CONTEXT])
    report.matched = int((classified_kinds & (merged["rule"] != "")).sum())
    report.unmatched = int((classified_kinds & (merged["rule"] == "")).sum())
    changed = merged["rule"] != merged["rule_old"]
    for category in CATEGORIES:
        old, new = merged[f"{category}_old"], merged[category]
        changed |= ~((old.isna() & new.isna()) | ((old - new).abs() < 1e-9))
    rows = merged[changed]
    report.changed = len(rows)
    objs = [
        RomeItem(
            code=row.code,
            rule=row.rule,
            **{c: (None if pd.isna(getattr(row, c)) else float(getattr(row, c))) for c in CATEGORIES},
        )
        for row in rows.itertuples(index=False)
    ]
    RomeItem.objects.bulk_update(objs, ["rule", *CATEGORIES], batch_size=BATCH_SIZE)
    return report


@transaction.atomic
def item_override_create(*, item: RomeItem, shares: dict[str, float] | None, user, reason: str = "") -> ItemOverride:
    """Record a person's categories for an item (`shares` over the five categories, summing
    to 1), or hand it back to the lexicon (`shares=None`)."""
    if shares is not None:
        missing = set(CATEGORIES) - set(shares)
        if missing:
            raise ValueError(f"Catégories manquantes : {', '.join(sorted(missing))}")
        if any(shares[c] < 0 for c in CATEGORIES):
            raise ValueError("Une part ne peut pas être négative.")
        total = sum(shares[c] for c in CATEGORIES)
        if abs(total - 1) > 0.005:
            raise ValueError(f"Les parts doivent faire 100 % (elles font {total:.0%}).")
        shares = {c: shares[c] / total for c in CATEGORIES}
    return ItemOverride.objects.create(item=item, created_by=user, reason=reason, **(shares or {}))
