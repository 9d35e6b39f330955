"""Validation of the task profiles against published occupation-level indices (pure pandas).

The published indices are keyed by ISCO-08 (ILO 2025, Mihaylov & Tijdens 2019) or SOC 2010
(Frey & Osborne 2013); ROME 4.0 fiches reach ISCO-08 through their ROME v3 parent and the
Pôle emploi correspondence (one ISCO code per v3 fiche), and SOC 2010 through the BLS table.
The comparison is made at the ISCO-08 level: a code's value on our side is the mean over the
fiches mapped to it, a SOC-keyed index is averaged over the SOC codes of each ISCO code.

These indices only *validate* the method: nothing here feeds a profile back.
"""

import numpy as np
import pandas as pd

from skills.categories import CATEGORIES


def spearman(left: pd.Series, right: pd.Series) -> tuple[float, int]:
    """Spearman's rank correlation of two series on their common non-null index, with the
    number of pairs: Pearson's correlation of the average ranks (ties share their rank)."""
    pairs = pd.concat([left.rename("left"), right.rename("right")], axis=1, join="inner").dropna()
    if len(pairs) < 3:
        return float("nan"), len(pairs)
    ranks = pairs.rank()
    return float(ranks["left"].corr(ranks["right"])), len(pairs)


def by_isco(values: pd.DataFrame, isco_of_fiche: pd.Series) -> pd.DataFrame:
    """Mean of `values` (indexed by ROME fiche) over the fiches of each ISCO-08 code.

    `isco_of_fiche`: ISCO-08 code (4 characters) indexed by fiche; fiches without one drop."""
    codes = isco_of_fiche.reindex(values.index)
    known = codes.notna().to_numpy()
    return values[known].groupby(codes[known].to_numpy()).mean()


def soc_index_by_isco(scores: pd.Series, isco_to_soc: pd.DataFrame) -> pd.Series:
    """A SOC-keyed index (`scores` indexed by SOC 2010 code) averaged over the SOC codes of
    each ISCO-08 code. `isco_to_soc`: columns `isco`, `soc`."""
    pairs = isco_to_soc.assign(score=isco_to_soc["soc"].map(scores)).dropna(subset=["score"])
    return pairs.groupby("isco")["score"].mean()


def validation_figures(
    profiles: pd.DataFrame,
    susceptibilities: dict[str, dict[str, float]],
    isco_of_fiche: pd.Series,
    *,
    ilo: pd.Series,
    routine_intensity: pd.DataFrame,
    frey_osborne: pd.Series,
) -> list[tuple[str, float, int]]:
    """(name, Spearman, n) for each comparison the method is checked on.

    `profiles`: rc…nrm by fiche. `susceptibilities`: α by lens name ("genai", "automation",
    "default"). `ilo`: ILO 2025 mean score by ISCO-08. `routine_intensity`: Mihaylov &
    Tijdens by ISCO-08, columns rc…nrm and rti. `frey_osborne`: probability by ISCO-08
    (already averaged from SOC with `soc_index_by_isco`).
    """
    exposures = pd.DataFrame(
        {lens: sum(profiles[c] * alpha[c] for c in CATEGORIES) for lens, alpha in susceptibilities.items()}
    )
    ours = by_isco(pd.concat([profiles[list(CATEGORIES)], exposures], axis=1), isco_of_fiche)
    figures = []
    if "genai" in ours:
        figures.append(("genai_vs_ilo", *spearman(ours["genai"], ilo)))
    if "automation" in ours:
        figures.append(("automation_vs_rti", *spearman(ours["automation"], routine_intensity["rti"])))
        figures.append(("automation_vs_frey_osborne", *spearman(ours["automation"], frey_osborne)))
    if "default" in ours:
        figures.append(("default_vs_ilo", *spearman(ours["default"], ilo)))
        figures.append(("default_vs_rti", *spearman(ours["default"], routine_intensity["rti"])))
    for category in CATEGORIES:
        figures.append((f"share_{category}", *spearman(ours[category], routine_intensity[category])))
    routine = ours["rc"] + ours["rm"]
    published_routine = routine_intensity["rc"] + routine_intensity["rm"]
    figures.append(("share_routine", *spearman(routine, published_routine)))
    return [(name, (round(value, 3) if not np.isnan(value) else value), n) for name, value, n in figures]
