"""Two runs compared cell by cell (pure pandas): the runs page's comparison."""

import pandas as pd

from .secrecy import mask_values

COMPARED_COLUMNS = ["employees", "exposure_mean", "secret", "secret_reason"]


def compare_cells(cells_a: pd.DataFrame, cells_b: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Align the cells of two runs on their coordinates `keys` (pure pandas).

    Both frames hold `keys` + employees, exposure_mean, secret, secret_reason. Returns one row
    per coordinate present in either run with employees_a/_b, exposure_a/_b, difference
    (b − a), abs_difference, presence ("both", "a", "b"), secret (secret in EITHER run) and
    secret_reason (run a's reason first). The values of a secret row are blanked here, before
    any sort, so that not even the order of a table can give them away.
    """
    columns = [*keys, *COMPARED_COLUMNS]
    cells_a, cells_b = (mask_values(cells.reindex(columns=columns)) for cells in (cells_a, cells_b))
    merged = cells_a.merge(cells_b, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    merged["presence"] = merged.pop("_merge").map({"both": "both", "left_only": "a", "right_only": "b"})
    secret_a = merged["secret_a"].fillna(False).astype(bool)
    secret_b = merged["secret_b"].fillna(False).astype(bool)
    merged["secret"] = secret_a | secret_b
    reason_a = merged["secret_reason_a"].where(secret_a, "")
    reason_b = merged["secret_reason_b"].where(secret_b, "")
    merged["secret_reason"] = reason_a.where(reason_a != "", reason_b).fillna("")
    merged = merged.rename(columns={"exposure_mean_a": "exposure_a", "exposure_mean_b": "exposure_b"})
    for column in ("exposure_a", "exposure_b", "employees_a", "employees_b"):
        merged[column] = merged[column].astype(float)
    merged["difference"] = merged["exposure_b"] - merged["exposure_a"]
    masked = ["exposure_a", "exposure_b", "employees_a", "employees_b", "difference"]
    merged.loc[merged["secret"], masked] = float("nan")
    merged["abs_difference"] = merged["difference"].abs()
    merged = merged.drop(columns=["secret_a", "secret_b", "secret_reason_a", "secret_reason_b"])
    return merged.sort_values(keys).reset_index(drop=True)


def rank_correlation(compared: pd.DataFrame) -> tuple[float | None, int]:
    """Spearman's rank correlation between exposure_a and exposure_b of a `compare_cells`
    frame, over the rows known in both runs (secret rows are already blank): the Pearson
    correlation of average ranks. None when fewer than 3 rows or a constant side."""
    pairs = compared[["exposure_a", "exposure_b"]].dropna()
    if len(pairs) < 3:
        return None, len(pairs)
    rho = pairs["exposure_a"].rank().corr(pairs["exposure_b"].rank())
    return (None if pd.isna(rho) else float(rho)), len(pairs)
