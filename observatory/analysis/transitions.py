"""Transitions worth taking: the ROME mobilités from a fiche towards less exposed fiches,
ranked by what the person already knows of the target job.

The ROME lists, for each fiche, the fiches people move to (`unix_mobilite`). A mobilité is
suggested when its target, under the run shown, is less exposed than the source by at least
the methodology's `transition_margin` (a difference smaller than that is within what the
method's assumptions can tell apart), or falls in a lower exposure class. Suggestions are
ranked by the number of savoir-faire the two fiches share (the competences the person
brings), then by the drop in exposure, then by the ROME's own order.

For each suggestion the target's core competences (savoir-faire flagged « Principale » in
ROME 4.0's `coeur_metier`) are split between those the source fiche already lists and those
to acquire: the part of the move a training has to cover.
"""

import pandas as pd

from .exposure import EXPOSURE_CLASSES

CORE = "principale"
# Exposures are rounded floats: a drop equal to the margin on paper must count.
_TOLERANCE = 1e-9
CLASS_RANK = {name: rank for rank, name in enumerate(EXPOSURE_CLASSES)}

TRANSITION_COLUMNS = [
    "source",
    "target",
    "rank",
    "source_exposure",
    "source_class",
    "exposure",
    "exposure_class",
    "drop",
    "shared",
    "target_core",
    "core_held",
    "core_share",
    "core_to_acquire",
    "position",
]


def rank_transitions(mobilities: pd.DataFrame, links: pd.DataFrame, *, margin: float) -> pd.DataFrame:
    """The mobilités worth suggesting, best first for each source.

    `mobilities`: one row per ROME mobilité with columns `source`, `target` (ROME codes),
    `rank` (the ROME's order), `source_exposure`, `source_class`, `exposure` and
    `exposure_class` (the target's), exposures in [0, 1] (NaN where the run has none),
    classes "low" / "medium" / "high" ("" where none); any other column (a label) is carried
    through.
    `links`: one row per (fiche, savoir-faire) link of the sources and targets, with columns
    `occupation`, `item` (OGR code), `core` ("principale", "emergente" or "") and `label`.
    Only savoir-faire: the caller leaves savoir-être, savoirs and contexts out.
    `margin`: the smallest drop in exposure that makes a target worth suggesting on its own.

    A mobilité qualifies when both exposures are known and the target is less exposed by at
    least `margin`, or sits in a lower exposure class.

    Returns the qualifying rows with the columns of `mobilities` and:
    `drop` (source − target exposure, > 0), `shared` (savoir-faire both fiches list),
    `target_core` (the target's core savoir-faire), `core_held` (those the source lists too),
    `core_share` (core_held / target_core, NaN when the target has no core item),
    `core_to_acquire` (tuple of the labels of the target's core savoir-faire the source
    lacks, in label order) and `position` (1 for the best suggestion of each source).
    Ordered by source, then `shared` descending, `drop` descending, ROME rank, target code.
    """
    extra = [c for c in mobilities.columns if c not in TRANSITION_COLUMNS]
    columns = [*TRANSITION_COLUMNS[:-1], *extra, "position"]
    frame = mobilities.copy()
    frame["drop"] = frame["source_exposure"].astype(float) - frame["exposure"].astype(float)
    source_rank = frame["source_class"].map(CLASS_RANK)
    target_rank = frame["exposure_class"].map(CLASS_RANK)
    lower_class = (target_rank < source_rank).fillna(False).astype(bool)
    qualifies = frame["drop"].notna() & ((frame["drop"] >= margin - _TOLERANCE) | lower_class)
    frame = frame[qualifies & (frame["drop"] > 0)].reset_index(drop=True)
    if frame.empty:
        return pd.DataFrame(columns=columns)

    pairs = frame[["source", "target"]].drop_duplicates()
    held_items = links[["occupation", "item"]].drop_duplicates().rename(columns={"occupation": "source"})
    held_items["held"] = True
    target_items = (
        links[["occupation", "item", "core", "label"]]
        .drop_duplicates(["occupation", "item"])
        .rename(columns={"occupation": "target"})
    )
    # Every savoir-faire of each target, flagged when the source lists it too.
    items = pairs.merge(target_items, on="target").merge(held_items, on=["source", "item"], how="left")
    items["held"] = items["held"].fillna(False).astype(bool)
    items["is_core"] = items["core"] == CORE
    items["core_held"] = items["is_core"] & items["held"]
    counts = items.groupby(["source", "target"]).agg(
        shared=("held", "sum"), target_core=("is_core", "sum"), core_held=("core_held", "sum")
    )
    missing = items[items["is_core"] & ~items["held"]].sort_values("label", kind="stable")
    to_acquire = missing.groupby(["source", "target"])["label"].agg(tuple).rename("core_to_acquire")

    frame = frame.merge(counts.reset_index(), on=["source", "target"], how="left")
    frame = frame.merge(to_acquire.reset_index(), on=["source", "target"], how="left")
    for column in ("shared", "target_core", "core_held"):
        frame[column] = frame[column].fillna(0).astype(int)
    frame["core_share"] = frame["core_held"] / frame["target_core"].where(frame["target_core"] > 0)
    none = pd.Series([()] * len(frame), index=frame.index, dtype=object)
    frame["core_to_acquire"] = frame["core_to_acquire"].where(frame["core_to_acquire"].notna(), none)

    frame = frame.sort_values(
        ["source", "shared", "drop", "rank", "target"],
        ascending=[True, False, False, True, True],
        kind="stable",
    ).reset_index(drop=True)
    frame["position"] = frame.groupby("source").cumcount().to_numpy() + 1
    frame["drop"] = frame["drop"].astype(float)
    frame["core_share"] = frame["core_share"].astype(float)
    return frame[columns]


def top_transitions(ranked: pd.DataFrame, per_source: int) -> pd.DataFrame:
    """The first `per_source` suggestions of each source of `rank_transitions`' result."""
    return ranked[ranked["position"] <= per_source].reset_index(drop=True)
