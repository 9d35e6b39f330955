"""Occupation task profiles, AI exposure, routine task intensity and exposure classes.

Steps 1 to 4 of the grille d'analyse (DESIGN.md, "The grille d'analyse — method"), as pure
functions over pandas frames. Every frame here is indexed by ROME fiche code (`occupation`)
and carries the five task categories as lower-case columns `rc rm nra nri nrm`:

- in job positions, percent of working time (0–100, a row sums to 100), as companies report
  them;
- in profiles (reference, field, blended), fractions of 1 (a row sums to 1).
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from skills.categories import CATEGORIES

from .secrecy.rules import DOMINANCE, MIN_COMPANIES

# Autor–Levy–Murnane / Acemoglu–Autor five-way split: routine cognitive, routine manual,
# non-routine analytical, non-routine interpersonal, non-routine manual.

# AI susceptibility α_c of each category: an assumption of the methodology, not a
# measurement. The default sits between the two published lenses below (DESIGN.md, step 2).
DEFAULT_SUSCEPTIBILITY = {"rc": 0.85, "rm": 0.55, "nra": 0.45, "nri": 0.20, "nrm": 0.10}

# OECD task-based studies: high exposure from 0.7, significant change from 0.5.
HIGH_THRESHOLD = 0.7
MEDIUM_THRESHOLD = 0.5
# The weight m of a fiche's reference profile in its blend, in reporting companies.
PRIOR_STRENGTH = 5.0
EXPOSURE_CLASSES = ("low", "medium", "high")
RTI_EPSILON = 0.01

# Absorbs binary rounding at the class thresholds, so that a profile whose exposure is 0.7
# on paper (and 0.69999999999999996 in floating point) is classed high.
_THRESHOLD_TOLERANCE = 1e-9

_PROFILE_COLUMNS = list(CATEGORIES)


def field_profiles(positions: pd.DataFrame) -> pd.DataFrame:
    """Field task profile of each occupation: what companies reported, headcount-weighted.

    Expects one row per job position with columns
      occupation  ROME fiche code (str),
      company     company id (any hashable; only distinct values matter),
      headcount   employees in the position (int > 0),
      rc … nrm    percent of working time on each category (0–100, a row sums to 100).

    Returns a frame indexed by `occupation` (sorted) with columns
      rc … nrm     headcount-weighted mean of the reported shares, as fractions of 1,
      n_companies  number of distinct companies reporting the occupation (int),
      employees    total headcount reported for it (int),
      top_share    the largest reporting company's share of that headcount (0–1).
    """
    if positions.empty:
        empty = pd.DataFrame(
            {
                **{c: pd.Series(dtype=float) for c in CATEGORIES},
                "n_companies": pd.Series(dtype="int64"),
                "employees": pd.Series(dtype="int64"),
                "top_share": pd.Series(dtype=float),
            }
        )
        empty.index = pd.Index([], dtype=object, name="occupation")
        return empty

    headcount = positions["headcount"].to_numpy(dtype=np.float64)
    weighted = pd.DataFrame({c: positions[c].to_numpy(dtype=np.float64) * headcount for c in CATEGORIES})
    weighted["employees"] = headcount
    weighted["occupation"] = positions["occupation"].to_numpy()
    grouped = weighted.groupby("occupation", sort=True, observed=True)
    sums = grouped.sum()

    profiles = sums[_PROFILE_COLUMNS].div(sums["employees"] * 100.0, axis=0)
    profiles["n_companies"] = (
        positions.groupby("occupation", sort=True, observed=True)["company"]
        .nunique()
        .reindex(profiles.index)
        .astype("int64")
    )
    profiles["employees"] = np.rint(sums["employees"]).astype("int64")
    by_company = positions.groupby(["occupation", "company"], sort=False, observed=True)["headcount"].sum()
    largest = by_company.groupby(level="occupation", sort=True, observed=True).max().reindex(profiles.index)
    profiles["top_share"] = largest.to_numpy(dtype=np.float64) / sums["employees"].to_numpy()
    profiles.index.name = "occupation"
    return profiles


def blend_profiles(
    reference: pd.DataFrame,
    field: pd.DataFrame,
    prior_strength: float,
    *,
    min_companies: int = 1,
    dominance: float = 1.0,
) -> pd.DataFrame:
    """Blend reference and field profiles by shrinkage: s = (n·s_field + m·s_ref) / (n + m).

    Field answers move a profile only where they are publishable under statistical secrecy:
    at least `min_companies` reporting companies and none holding more than `dominance` of the
    reported headcount (`top_share`, when `field` has it). Elsewhere n counts as 0 and the
    blend is the reference: with the reference and m public, a blend of one or two companies'
    answers could be solved back to them (DESIGN.md, step 1).

    `reference`: indexed by occupation, columns rc … nrm as fractions of 1 (other columns are
    ignored). `field`: the output of `field_profiles` (rc … nrm fractions, n_companies).
    `prior_strength` m is the weight of the reference, counted in reporting companies: with
    m = 5, five companies' reports weigh as much as the reference.

    n is the number of reporting companies (0 where there is no field data, so the blend is
    the reference). An occupation with field data but no reference profile has nothing to
    shrink towards: it is treated as m = 0, i.e. the field profile alone. With m = 0 and no
    field data the reference is used as it is.

    Returns a frame indexed by `occupation` (the sorted union of both inputs) with columns
      rc … nrm        blended profile, fractions of 1,
      n_companies     reporting companies (int, 0 without field data),
      field_used      whether the field profile moved the blend (bool),
      employees       headcount behind the field profile (int, 0 without field data; only
                      when `field` has that column),
      ref_rc …        the reference profile (NaN where there is none),
      field_rc …      the field profile (NaN where there is no field data).
    """
    index = reference.index.union(field.index).sort_values()
    index.name = "occupation"
    ref = reference[_PROFILE_COLUMNS].astype(np.float64).reindex(index)
    fld = field[_PROFILE_COLUMNS].astype(np.float64).reindex(index)
    reported = field["n_companies"].reindex(index).fillna(0).to_numpy(dtype=np.float64)
    top_share = field["top_share"].reindex(index).fillna(0) if "top_share" in field else pd.Series(0.0, index=index)
    usable = (reported >= max(min_companies, 1)) & (top_share.to_numpy(dtype=np.float64) <= dominance)
    n = np.where(usable, reported, 0.0)
    has_ref = ref.notna().all(axis=1).to_numpy()
    m = np.where(has_ref, float(prior_strength), 0.0)

    total = n + m
    with np.errstate(invalid="ignore", divide="ignore"):
        field_weight = np.where(total > 0, n / total, np.where(has_ref, 0.0, 1.0))
    blended = fld.fillna(0.0).mul(field_weight, axis=0) + ref.fillna(0.0).mul(1.0 - field_weight, axis=0)

    out = blended
    out["n_companies"] = reported.astype("int64")
    out["field_used"] = usable
    if "employees" in field.columns:
        out["employees"] = field["employees"].reindex(index).fillna(0).astype("int64")
    for c in CATEGORIES:
        out[f"ref_{c}"] = ref[c]
    for c in CATEGORIES:
        out[f"field_{c}"] = fld[c]
    return out


def exposure(profiles: pd.DataFrame, susceptibility: Mapping[str, float]) -> pd.Series:
    """AI exposure E = Σ_c α_c · s_c, clipped to [0, 1].

    `profiles`: columns rc … nrm as fractions of 1. `susceptibility`: α for each of the five
    categories (unitless, 0–1). Returns a float Series named `exposure` on the same index.
    """
    missing = [c for c in CATEGORIES if c not in susceptibility]
    if missing:
        raise ValueError(f"susceptibility lacks the categories {missing}")
    alpha = np.array([float(susceptibility[c]) for c in CATEGORIES])
    values = profiles[_PROFILE_COLUMNS].to_numpy(dtype=np.float64) @ alpha
    return pd.Series(np.clip(values, 0.0, 1.0), index=profiles.index, name="exposure")


def rti(profiles: pd.DataFrame, epsilon: float = RTI_EPSILON) -> pd.Series:
    """Routine task intensity RTI = ln(RC+RM) − ln(NRA+NRI) − ln(NRM).

    `profiles`: columns rc … nrm as fractions of 1. Each of the three terms is floored at
    `epsilon` (a fraction) so that a profile without, say, manual non-routine work has a large
    but finite RTI. Returns a float Series (natural-log units) named `rti`.
    """
    routine = np.maximum(profiles["rc"] + profiles["rm"], epsilon)
    abstract = np.maximum(profiles["nra"] + profiles["nri"], epsilon)
    manual = np.maximum(profiles["nrm"], epsilon)
    return (np.log(routine) - np.log(abstract) - np.log(manual)).rename("rti")


def exposure_class(e: pd.Series, high: float = HIGH_THRESHOLD, medium: float = MEDIUM_THRESHOLD) -> pd.Series:
    """Exposure class: `high` when E ≥ high, `medium` when medium ≤ E < high, `low` below.

    `e`: exposure in [0, 1]. Returns an ordered categorical Series named `exposure_class`
    with categories low < medium < high (NaN where E is NaN).
    """
    values = e.to_numpy(dtype=np.float64)
    codes = np.select(
        [
            np.isnan(values),
            values >= high - _THRESHOLD_TOLERANCE,
            values >= medium - _THRESHOLD_TOLERANCE,
        ],
        [-1, 2, 1],
        default=0,
    )
    classes = pd.Categorical.from_codes(codes, categories=list(EXPOSURE_CLASSES), ordered=True)
    return pd.Series(classes, index=e.index, name="exposure_class")


def occupation_scores(
    reference: pd.DataFrame, positions: pd.DataFrame, params: Mapping, *, field: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Field profiles → blend → exposure, RTI and class, for every occupation.

    `reference` and `positions` as for `blend_profiles` and `field_profiles`; `field`, when
    given, is used instead of `field_profiles(positions)` (a field frame where some fiches
    keep an earlier edition's profile: observatory.editions.freeze_field_profiles). `params` is a
    plain dict of the methodology parameters:
      susceptibility    {category: α} (default: DEFAULT_SUSCEPTIBILITY),
      prior_strength    m, in reporting companies (default PRIOR_STRENGTH),
      high_threshold, medium_threshold   default HIGH_THRESHOLD, MEDIUM_THRESHOLD,
      rti_epsilon       default 0.01,
      min_companies     field data count from this many companies (default: the secrecy
                        rule's MIN_COMPANIES),
      dominance         … and where no company holds more than this share (DOMINANCE).

    Returns the `blend_profiles` frame plus `exposure` (0–1), `rti` and `exposure_class`.
    """
    if field is None:
        field = field_profiles(positions)
    scores = blend_profiles(
        reference,
        field,
        params.get("prior_strength", PRIOR_STRENGTH),
        min_companies=params.get("min_companies", MIN_COMPANIES),
        dominance=params.get("dominance", DOMINANCE),
    )
    scores["exposure"] = exposure(scores, params.get("susceptibility", DEFAULT_SUSCEPTIBILITY))
    scores["rti"] = rti(scores, params.get("rti_epsilon", RTI_EPSILON))
    scores["exposure_class"] = exposure_class(
        scores["exposure"],
        high=params.get("high_threshold", HIGH_THRESHOLD),
        medium=params.get("medium_threshold", MEDIUM_THRESHOLD),
    )
    return scores
