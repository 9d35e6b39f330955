"""Reads of the skills app that feed computations: the classified items of every fiche and the
reference task profiles built from them (DESIGN.md, step 1)."""

import hashlib

import numpy as np
import pandas as pd
from django.db.models import Case, CharField, Count, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from skills.models import ItemOverride, Occupation, OccupationItem, OccupationTaskProfile, RomeItem
from skills.profiles import (
    CATEGORIES,
    DOMAIN_DEFAULTS,
    IMPORTED,
    PROFILE_METHOD_VERSION,
    ROME_ITEMS,
    default_profile,
    reference_profiles,
)
from skills.text import accent_insensitive_pattern

LINK_COLUMNS = ["occupation", "item", "kind", "core", "label", "rule", *CATEGORIES, "overridden"]


def item_overrides_frame() -> pd.DataFrame:
    """The decision in force for each overridden item (its newest override row): `item`,
    `rc`…`nrm` (NaN when the decision hands the item back to the lexicon)."""
    rows = ItemOverride.objects.order_by("item_id", "-created_at", "-pk").values_list("item_id", *CATEGORIES)
    frame = pd.DataFrame.from_records(rows, columns=["item", *CATEGORIES])
    return frame.drop_duplicates("item").set_index("item")


def item_links_frame(occupations=None, *, labels: bool = True) -> pd.DataFrame:
    """Every (fiche, item) link with the item's classification in force: a person's override
    where one applies, else the lexicon's. Columns: LINK_COLUMNS (`overridden` True where a
    person's shares replaced the lexicon's). `occupations`, when given, limits the fiches;
    `labels=False` leaves `label` empty, for computations over the whole ROME that never show
    an item (its 100,000 links' labels are most of what the query would carry)."""
    links = OccupationItem.objects.all()
    if occupations is not None:
        links = links.filter(occupation_id__in=list(occupations))
    label = "item__label" if labels else Value("", output_field=CharField())
    fields = ["occupation_id", "item_id", "item__kind", "core", label, "item__rule"]
    fields += [f"item__{c}" for c in CATEGORIES]
    frame = pd.DataFrame.from_records(links.order_by().values_list(*fields), columns=LINK_COLUMNS[:-1])
    frame[list(CATEGORIES)] = frame[list(CATEGORIES)].astype(float)
    overrides = item_overrides_frame()
    applied = overrides.dropna(subset=list(CATEGORIES))
    frame["overridden"] = frame["item"].isin(applied.index)
    if frame["overridden"].any():
        rows = frame["overridden"].to_numpy()
        frame.loc[rows, list(CATEGORIES)] = applied.loc[frame.loc[rows, "item"], list(CATEGORIES)].to_numpy()
    return frame


def reference_profiles_frame(params: dict | None = None) -> pd.DataFrame:
    """The reference task profile of every fiche, indexed by ROME code: `rc`…`nrm` (fractions
    of 1), `evidence`, `items` and `source`.

    An imported profile (`import_task_profiles`) takes precedence; otherwise the profile is
    built from the fiche's classified ROME items (skills.profiles.reference_profiles with the
    methodology's `params`); where no item of the ROME is loaded at all, the hand-set
    default of the fiche's domaine.
    """
    fiches = list(Occupation.objects.fiches().values_list("code", flat=True))
    links = item_links_frame(labels=False)
    if links.empty:
        frame = pd.DataFrame([default_profile(code) for code in fiches], index=fiches, columns=list(CATEGORIES))
        frame["evidence"], frame["items"], frame["source"] = 0.0, 0, DOMAIN_DEFAULTS
    else:
        skills = links[links["kind"] == RomeItem.Kind.SKILL]
        contexts = links.loc[(links["kind"] == RomeItem.Kind.CONTEXT) & (links["rule"] != ""), ["occupation", "rule"]]
        frame = reference_profiles(skills, contexts, fiches, params=params)
    imported = pd.DataFrame.from_records(
        OccupationTaskProfile.objects.values_list("occupation_id", *CATEGORIES), columns=["occupation", *CATEGORIES]
    ).set_index("occupation")
    rows = imported.index.intersection(frame.index)
    if len(rows):
        frame.loc[rows, list(CATEGORIES)] = imported.loc[rows, list(CATEGORIES)].to_numpy(dtype=float)
        frame.loc[rows, "source"] = IMPORTED
    frame.index.name = "occupation"
    return frame


def profile_source_tag(frame: pd.DataFrame) -> str:
    """What a run records of the profiles it used: the main source, its method version, the
    number of imported profiles, and a digest of the shares (two runs with the same tag used
    the same profiles). E.g. `rome_items:v1+3 importés:5f1c2a9b`."""
    sources = frame["source"].value_counts()
    main = ROME_ITEMS if sources.get(ROME_ITEMS, 0) else DOMAIN_DEFAULTS
    tag = f"{main}:{PROFILE_METHOD_VERSION[main]}"
    if sources.get(IMPORTED, 0):
        tag += f"+{sources[IMPORTED]} importés"
    shares = np.round(frame.sort_index()[list(CATEGORIES)].to_numpy(dtype=float), 6)
    digest = hashlib.sha256(shares.tobytes() + "|".join(frame.index.sort_values()).encode()).hexdigest()[:8]
    return f"{tag}:{digest}"


# --- The classification of savoir-faire as people read it: the method page, the corrections ---

# Where a savoir-faire stands: a person's shares in force win over the lexicon; otherwise the
# lexicon either matched a task rule, matched a rule of conduct (no shares), or nothing.
CLASSIFIED, OVERRIDDEN, NON_TASK, UNMATCHED = "classe", "corrige", "hors_tache", "non_classe"
ITEM_STATUS_LABELS = {
    CLASSIFIED: "Classé par le lexique",
    OVERRIDDEN: "Corrigé par une personne",
    NON_TASK: "Hors tâche",
    UNMATCHED: "Non classé",
}
# The rule the lexicon writes for an item that opens with a verb of conduct (skills/classification).
NON_TASK_RULE_PREFIX = "hors_tache:"


def with_item_status(items: QuerySet) -> QuerySet:
    """`items` (RomeItem) annotated with `status` (a key of ITEM_STATUS_LABELS) and `links`
    (number of fiches the item is linked to). An item is corrected when its newest override
    carries shares, as `item_links_frame` applies them; one handed back to the lexicon is read
    from its rule again."""
    newest = ItemOverride.objects.filter(item=OuterRef("pk")).order_by("-created_at", "-pk")
    links = (
        OccupationItem.objects.filter(item=OuterRef("pk"))
        .order_by()
        .values("item")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return items.annotate(
        override_rc=Subquery(newest.values("rc")[:1]),
        links=Coalesce(Subquery(links, output_field=IntegerField()), 0),
        status=Case(
            When(override_rc__isnull=False, then=Value(OVERRIDDEN)),
            When(rule="", then=Value(UNMATCHED)),
            When(rule__startswith=NON_TASK_RULE_PREFIX, then=Value(NON_TASK)),
            default=Value(CLASSIFIED),
            output_field=CharField(),
        ),
    )


def skill_items(*, query: str = "", status: str = "") -> QuerySet:
    """Savoir-faire items for the corrections page, most-linked first: `query` searches the
    label whatever its accents and case, `status` keeps one ITEM_STATUS_LABELS key."""
    items = with_item_status(RomeItem.objects.filter(kind=RomeItem.Kind.SKILL))
    if query.strip():
        items = items.filter(label__iregex=accent_insensitive_pattern(query.strip()))
    if status in ITEM_STATUS_LABELS:
        items = items.filter(status=status)
    return items.order_by("-links", "label", "code")


def item_classification_counts() -> pd.DataFrame:
    """How the savoir-faire of the ROME are classified, in one query: indexed by status (every
    key of ITEM_STATUS_LABELS, in its order), columns `items` (savoir-faire), `links` (their
    fiche–item links) and `link_share` (fraction of all savoir-faire links, 0 when none)."""
    rows = (
        with_item_status(RomeItem.objects.filter(kind=RomeItem.Kind.SKILL))
        .order_by()
        .values("status")
        .annotate(items=Count("pk"), total_links=Sum("links"))
        .values_list("status", "items", "total_links")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["status", "items", "links"]).set_index("status")
    frame = frame.reindex(list(ITEM_STATUS_LABELS), fill_value=0).fillna(0).astype(int)
    total = frame["links"].sum()
    frame["link_share"] = frame["links"] / total if total else 0.0
    return frame


def item_override_history(item: RomeItem) -> QuerySet:
    """The decisions on one item, newest first (the first one applies), with who took them."""
    return item.overrides.select_related("created_by").order_by("-created_at", "-pk")


def item_fiches(item: RomeItem, limit: int = 50) -> QuerySet:
    """The fiches an item describes (core items first), with their labels."""
    return (
        OccupationItem.objects.filter(item=item)
        .select_related("occupation")
        .order_by("-core", "occupation_id")[:limit]
    )
