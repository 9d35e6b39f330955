"""Why a fiche is as exposed as it is: its reference profile taken apart item by item, and its
exposure taken apart category by category.

A fiche's reference profile is built from its ROME 4.0 savoir-faire (skills/profiles.py,
`reference_profiles`): each classified item i has shares s_i over the five task categories
and a weight w_i (core, emerging or other item: methodology parameters), and the fiche's
evidence is E_items = Σ w_i. So item i holds w_i / E_items of the evidence, and category c
gets Σ_i w_i·s_ic / E_items of it before the profile is shrunk towards its domaine and
shifted by its work contexts. The exposure E = Σ_c α_c·s_c of the published profile s
splits into the contributions α_c·s_c / E, which sum to 1.

Pure functions over pandas frames, no Django: the selectors load the links and the run.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from skills.categories import CATEGORIES

# What an item is to the profile.
CLASSIFIED = "classified"  # has shares: weighs in the profile
NON_TASK = "non_task"  # matched by a « hors tâche » rule (« Respecter les règles… »): no shares
UNMATCHED = "unmatched"  # no rule of the lexicon matched it: no shares


def skill_breakdown(skills: pd.DataFrame) -> pd.DataFrame:
    """The savoir-faire of one fiche, each with its place in the reference profile.

    `skills`: one row per savoir-faire of the fiche with columns `item`, `label`, `core`
    ("principale", "emergente" or ""), `rule` (the lexicon's), `overridden` (a person's
    shares replace the lexicon's), `weight` (w_i, the methodology's weight of its core flag)
    and `rc`…`nrm` (the shares in force, fractions of 1; NaN when the item has none).

    Returns the same rows with the added columns:
    `status` (CLASSIFIED, NON_TASK or UNMATCHED), `category` (the category with the largest
    share, "" for an item without shares; a tie goes to the first of RC, RM, NRA, NRI, NRM),
    `main_share` (its share of that category), `evidence_share` (w_i / Σ w over classified
    items, NaN for the others), `profile_weight` (w_i·s_i,category / Σ w: what the item puts
    into its category, NaN for the others).
    Ordered by category (RC … NRM, then items without shares), `profile_weight` descending,
    label.
    """
    cats = list(CATEGORIES)
    frame = skills.reset_index(drop=True).copy()
    shares = frame[cats].astype(float).to_numpy()
    classified = ~np.isnan(shares).any(axis=1)
    weights = frame["weight"].astype(float).to_numpy()
    evidence = weights[classified].sum()

    main = np.nan_to_num(shares, nan=-1.0).argmax(axis=1)
    frame["status"] = np.where(
        classified, CLASSIFIED, np.where(frame["rule"].astype(str).str.startswith("hors_tache:"), NON_TASK, UNMATCHED)
    )
    frame["category"] = np.where(classified, np.array(cats, dtype=object)[main], "")
    frame["main_share"] = np.where(classified, shares[np.arange(len(frame)), main], np.nan)
    share_of_evidence = weights / evidence if evidence > 0 else np.full(len(frame), np.nan)
    frame["evidence_share"] = np.where(classified, share_of_evidence, np.nan)
    frame["profile_weight"] = frame["evidence_share"] * frame["main_share"]

    order = pd.Categorical(frame["category"], categories=[*cats, ""], ordered=True)
    frame = frame.assign(_order=order).sort_values(
        ["_order", "profile_weight", "label"], ascending=[True, False, True], na_position="last", kind="stable"
    )
    return frame.drop(columns="_order").reset_index(drop=True)


def category_evidence(breakdown: pd.DataFrame) -> pd.DataFrame:
    """Each category's part of the fiche's classified savoir-faire, from `skill_breakdown`'s
    result: index `rc`…`nrm`, columns `share` (Σ w_i·s_ic / Σ w_i, the mixed items' minor
    shares included; the column sums to 1 when any item is classified, else NaN) and `items`
    (items whose largest share is the category)."""
    cats = list(CATEGORIES)
    classified = breakdown[breakdown["status"] == CLASSIFIED]
    weighted = classified[cats].astype(float).mul(classified["weight"].astype(float), axis=0).sum()
    evidence = classified["weight"].astype(float).sum()
    share = weighted / evidence if evidence > 0 else pd.Series(np.nan, index=cats)
    items = classified["category"].value_counts().reindex(cats, fill_value=0)
    return pd.DataFrame({"share": share.reindex(cats).astype(float), "items": items.astype(int)})


def context_shifts(contexts: pd.DataFrame, rules: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """The work contexts of one fiche that move its reference profile, one row per context
    rule (a rule shifts a profile once however many of its contexts match).

    `contexts`: one row per work context of the fiche with columns `label` and `rule` (the
    context rule it matches, "" for none). `rules`: rule name → weights over the categories
    (summing to 1), as skills/classification/contexts.py sets them.

    Returns columns `rule`, `labels` (tuple of the fiche's contexts matching it, in label
    order), `rc`…`nrm` (the rule's weights) and `towards` (tuple of the categories it pushes
    towards, largest weight first). Ordered by the first label.
    """
    cats = list(CATEGORIES)
    matched = contexts[contexts["rule"].isin(list(rules))].sort_values("label", kind="stable")
    if matched.empty:
        return pd.DataFrame(columns=["rule", "labels", *cats, "towards"])
    grouped = matched.groupby("rule", sort=False)["label"].agg(tuple).rename("labels").reset_index()
    weights = pd.DataFrame([[float(rules[rule].get(c, 0.0)) for c in cats] for rule in grouped["rule"]], columns=cats)
    frame = pd.concat([grouped, weights], axis=1)
    ranked = np.argsort(-weights.to_numpy(), axis=1, kind="stable")
    names = np.array(cats, dtype=object)
    frame["towards"] = [tuple(names[order][weights.to_numpy()[row, order] > 0]) for row, order in enumerate(ranked)]
    return frame


def exposure_contributions(profile: Mapping[str, float], susceptibility: Mapping[str, float]) -> pd.DataFrame:
    """The exposure E = Σ α_c·s_c split by category: index `rc`…`nrm`, columns `share` (s_c,
    the published profile), `alpha` (α_c), `product` (α_c·s_c, summing to E) and
    `contribution` (α_c·s_c / E, summing to 1; NaN when E is 0 or a share is missing)."""
    cats = list(CATEGORIES)
    share = pd.Series({c: profile.get(c) for c in cats}, dtype=float)
    alpha = pd.Series({c: susceptibility.get(c) for c in cats}, dtype=float)
    product = share * alpha
    total = product.sum(skipna=False)
    contribution = product / total if total > 0 else pd.Series(np.nan, index=cats)
    return pd.DataFrame({"share": share, "alpha": alpha, "product": product, "contribution": contribution})
