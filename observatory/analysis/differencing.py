"""Secrecy between editions: the difference of two editions must reveal no single company.

A reader holding two editions subtracts them cell by cell. Where the cell is published in
both and only one or two companies changed in it between the two (a new diagnostic, a
corrected headcount, a company gone), the difference is their own contribution: +5, +12
employees on a fiche, secret cells of the single edition included. So a new edition is
compared with every edition already published, on the positions each was computed from:

1. the companies whose positions changed (`changed_companies`): a company's positions are
   summarised by an order-free digest (the sum and count of its rows' hashes), compared
   between the two position sets; a company present in only one of them changed;
2. the cells they touch, with how many of them (`changed_contributors`): the cube of their
   positions, old and new together, whose `companies` column counts each changed company
   once per cell;
3. the cells to withhold (`withheld_cells`): published in the old edition, not secret in the
   new one by their own rule, with a different additive figure (employees, companies,
   establishments), and changed by at least one but fewer than the minimum of companies.

A withheld cell becomes a primary secret of the new edition (reason "edition"), protected
by the complementary suppression and checked by the audit like the others: a reader who
knows the old value exactly gets the new one, hence the difference, only within the
protection interval. It is published again once the companies that changed in it since the
last edition that published it are numerous enough.

The figures compared here are the additive ones, which a single company moves by its own
contribution. Exposure, RTI, classes and task shares move with a fiche's profile, shared by
every cell of the fiche: its field profile enters a published figure only from the
methodology's minimum of companies (`exposure.blend_profiles`), but two editions one
reporting company apart would still differ by that company's weight in the blend. So the
companies whose answers for a fiche changed are counted too (`changed_reporters`), and a
fiche that fewer than the minimum changed keeps the field profile it was published with
(observatory.editions.freeze_field_profiles).
"""

import io

import numpy as np
import pandas as pd

from skills.categories import CATEGORIES

from .cube import build_cube

# What moves a cell's additive figures: the position's company, establishment, coordinates,
# headcount and declared training need.
DIGEST_COLUMNS = (
    "company",
    "establishment",
    "headcount",
    "training_need",
    "diagnostic",
    "occupation",
    "naf_division",
    "departement",
    "epci",
    "size_band",
)
COMPARED_FIGURES = ("employees", "companies", "establishments")
COORDINATES = (
    "territory_level",
    "territory_code",
    "sector_level",
    "sector_code",
    "occupation_level",
    "occupation_code",
    "size_band",
)


def _digests(plain: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per value of `keys` (columns of `plain`): `hash`, the sum of its rows' hashes
    over every column of `plain` (modulo 2⁶⁴, so that row order does not matter), and `rows`."""
    hashes = pd.util.hash_pandas_object(plain, index=False).to_numpy(dtype=np.uint64)
    frame = plain[keys].assign(hash=hashes)
    with np.errstate(over="ignore"):
        return frame.groupby(keys, sort=False).agg(hash=("hash", "sum"), rows=("hash", "size"))


def _differing(before: pd.DataFrame, after: pd.DataFrame) -> pd.Index:
    """The keys of two `_digests` frames whose digests differ, or that only one of them has."""
    both = before.merge(after, how="outer", left_index=True, right_index=True, suffixes=("_old", "_new"))
    differ = (
        both["hash_old"].isna()
        | both["hash_new"].isna()
        | (both["hash_old"] != both["hash_new"])
        | (both["rows_old"] != both["rows_new"])
    )
    return both.index[differ.to_numpy()]


def company_digests(positions: pd.DataFrame) -> pd.DataFrame:
    """One row per company: `hash` (sum of its rows' hashes, modulo 2⁶⁴) and `rows`."""
    columns = [column for column in DIGEST_COLUMNS if column in positions.columns]
    # Categorical columns hash their values, not their codes: two frames whose categories
    # differ still hash equal rows equally.
    plain = positions[columns].astype({c: str for c in columns if isinstance(positions[c].dtype, pd.CategoricalDtype)})
    return _digests(plain, ["company"])


def changed_companies(old: pd.DataFrame, new: pd.DataFrame) -> np.ndarray:
    """Ids of the companies whose positions differ between the two position sets."""
    return _differing(company_digests(old), company_digests(new)).to_numpy()


# What a fiche's field profile is made of (exposure.field_profiles): each company's answers.
REPORT_COLUMNS = ("company", "occupation", "headcount", *CATEGORIES)


def report_digests(positions: pd.DataFrame) -> pd.DataFrame:
    """One row per (occupation, company): `hash` (sum of its rows' hashes over REPORT_COLUMNS,
    modulo 2⁶⁴) and `rows`, indexed by (occupation, company) with occupation codes as text."""
    # Values, not dtypes: a code kept as a categorical or as text, a count as int32 or int64,
    # hash alike.
    plain = pd.DataFrame(
        {
            "company": positions["company"].to_numpy(dtype=np.int64),
            "occupation": positions["occupation"].astype(str).to_numpy(dtype=object),
            **{c: positions[c].to_numpy(dtype=np.int64) for c in REPORT_COLUMNS[2:]},
        }
    )
    return _digests(plain, ["occupation", "company"])


def changed_reporters(old: pd.DataFrame, new: pd.DataFrame) -> pd.Series:
    """For each fiche, how many companies' answers for it differ between the two position
    sets (a company that reports the fiche in only one of them counts): an int Series
    indexed by occupation code, fiches with no change left out."""
    changed = _differing(report_digests(old), report_digests(new))
    return pd.Series(0, index=changed).groupby(level="occupation").size().astype(np.int64).rename("changed")


def changed_contributors(old: pd.DataFrame, new: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The cells the changed companies touch, with `changed`: how many of them are in it."""
    changed = changed_companies(old, new)
    if not len(changed):
        return pd.DataFrame(columns=[*COORDINATES, "changed"])
    moved = pd.concat([frame[frame["company"].isin(changed)] for frame in (old, new)], ignore_index=True)
    for column in moved.columns:
        if isinstance(old[column].dtype, pd.CategoricalDtype) or isinstance(new[column].dtype, pd.CategoricalDtype):
            moved[column] = moved[column].astype(str).astype("category")
    cells = build_cube(moved, scores)
    out = cells[list(COORDINATES)].copy()
    out["changed"] = cells["companies"].to_numpy()
    return out


def withheld_cells(
    cells: pd.DataFrame, published_before: pd.DataFrame, changed: pd.DataFrame, *, min_companies: int
) -> np.ndarray:
    """Which of the new `cells` to withhold: a bool array aligned on `cells`.

    `cells`: the new edition's cube after the primary rules (`secret`); `published_before`:
    the cells the old edition published (coordinates and COMPARED_FIGURES, secret cells left
    out); `changed`: `changed_contributors` of the two position sets.
    """
    if cells.empty or published_before.empty or changed.empty:
        return np.zeros(len(cells), dtype=bool)
    keys = list(COORDINATES)
    left = cells[keys].astype(str).reset_index(drop=True)
    left["_row"] = np.arange(len(cells))
    for figure in COMPARED_FIGURES:
        left[figure] = cells[figure].to_numpy(dtype=np.float64)
    before = published_before[[*keys, *COMPARED_FIGURES]].astype(dict.fromkeys(keys, str))
    moved = changed[[*keys, "changed"]].astype(dict.fromkeys(keys, str))
    merged = left.merge(before, on=keys, suffixes=("", "_before")).merge(moved, on=keys)
    differ = np.zeros(len(merged), dtype=bool)
    for figure in COMPARED_FIGURES:
        differ |= merged[figure].to_numpy() != merged[f"{figure}_before"].to_numpy(dtype=np.float64)
    few = (merged["changed"].to_numpy() >= 1) & (merged["changed"].to_numpy() < min_companies)
    out = np.zeros(len(cells), dtype=bool)
    out[merged["_row"].to_numpy()[differ & few]] = True
    return out & ~cells["secret"].to_numpy(dtype=bool)


def frame_to_bytes(frame: pd.DataFrame, *, compress: bool = True) -> bytes:
    """A position set as compressed numpy arrays (no pickle): categorical columns as their
    codes and categories, the others as their values. `compress=False` for a frame read
    back soon (a part of a split run): several times faster to write."""
    arrays = {}
    for column in frame.columns:
        values = frame[column]
        plain = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
        if not plain and not isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype("category")  # text (or an empty column): never pickled
        if isinstance(values.dtype, pd.CategoricalDtype):
            arrays[f"codes:{column}"] = values.cat.codes.to_numpy()
            arrays[f"categories:{column}"] = np.asarray(values.cat.categories.astype(str), dtype=str)
        else:
            arrays[f"values:{column}"] = values.to_numpy()
    buffer = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def frame_from_bytes(data: bytes) -> pd.DataFrame:
    """The frame `frame_to_bytes` wrote (refusing pickled objects)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        columns = {}
        for name in stored.files:
            kind, column = name.split(":", 1)
            if kind == "values":
                columns[column] = stored[name]
            elif kind == "codes":
                columns[column] = pd.Categorical.from_codes(stored[name], categories=stored[f"categories:{column}"])
    return pd.DataFrame(columns)
