"""Reads of the skills app that feed computations: the classified items of every fiche and the
reference task profiles built from them (DESIGN.md, step 1)."""

import hashlib

import numpy as np
import pandas as pd

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

LINK_COLUMNS = ["occupation", "item", "kind", "core", "label", "rule", *CATEGORIES, "overridden"]


def item_overrides_frame() -> pd.DataFrame:
    """The decision in force for each overridden item (its newest override row): `item`,
    `rc`…`nrm` (NaN when the decision hands the item back to the lexicon)."""
    rows = ItemOverride.objects.order_by("item_id", "-created_at", "-pk").values_list("item_id", *CATEGORIES)
    frame = pd.DataFrame.from_records(rows, columns=["item", *CATEGORIES])
    return frame.drop_duplicates("item").set_index("item")


def item_links_frame(occupations=None) -> pd.DataFrame:
    """Every (fiche, item) link with the item's classification in force: a person's override
    where one applies, else the lexicon's. Columns: LINK_COLUMNS (`overridden` True where a
    person's shares replaced the lexicon's). `occupations`, when given, limits the fiches."""
    links = OccupationItem.objects.all()
    if occupations is not None:
        links = links.filter(occupation_id__in=list(occupations))
    fields = ["occupation_id", "item_id", "item__kind", "core", "item__label", "item__rule"]
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
    links = item_links_frame()
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
