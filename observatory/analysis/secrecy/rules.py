"""The primary rules of statistical secrecy, and the masking of secret cells.

The French rule for publishing statistics on companies (secret statistique, as INSEE and the
SSM apply it to business statistics, loi n° 51-711): a cell is not published when it counts
fewer than 3 companies (frequency rule), or when one company holds more than 85 % of it
(dominance rule, here on employees). These are the *primary* secrets.
"""

import numpy as np
import pandas as pd

from ..cube import CUBE_COLUMNS

MIN_COMPANIES = 3
DOMINANCE = 0.85
SECRET_REASONS = ("", "companies", "dominance", "secondary", "edition")
# "edition": withheld because too few companies changed in it since an edition that
# published it (observatory.analysis.differencing); protected like the two rules' cells.
PRIMARY_REASONS = ("companies", "dominance", "edition")

# Value columns of a cube cell: everything that is not a coordinate.
VALUE_COLUMNS = tuple(CUBE_COLUMNS[10:])

# Absorbs binary rounding of `dominance × employees`, so that a company holding exactly 85 %
# of a cell (e.g. 17 of 20 employees) is not taken for one holding more.
_RELATIVE_TOLERANCE = 1e-9


def primary_secrecy(
    cells: pd.DataFrame, min_companies: int = MIN_COMPANIES, dominance: float = DOMINANCE
) -> pd.DataFrame:
    """Flag the cells that fail the frequency or the dominance rule.

    Expects columns companies (distinct companies), employees (headcount) and
    max_company_employees (headcount of the largest company). Returns a copy with
      secret         bool,
      secret_reason  categorical of SECRET_REASONS: "companies" when companies <
                     `min_companies`, else "dominance" when max_company_employees >
                     `dominance` × employees (strictly: exactly 85 % is published), else "".
    """
    out = cells.copy(deep=False)  # copy-on-write: only the columns set here are new
    companies = out["companies"].to_numpy(dtype=np.float64)
    employees = out["employees"].to_numpy(dtype=np.float64)
    largest = out["max_company_employees"].to_numpy(dtype=np.float64)
    few = companies < min_companies
    dominated = (largest - dominance * employees) > _RELATIVE_TOLERANCE * employees
    reason = np.where(few, 1, np.where(dominated, 2, 0)).astype(np.int8)
    out["secret"] = few | dominated
    out["secret_reason"] = pd.Categorical.from_codes(reason, categories=list(SECRET_REASONS))
    return out


def withhold(cells: pd.DataFrame, withheld) -> pd.DataFrame:
    """`cells` (primary rules applied) with the `withheld` cells (bool array) made primary
    secrets of reason "edition" where no rule of their own hides them already."""
    out = cells.copy(deep=False)
    added = np.asarray(withheld, dtype=bool) & ~out["secret"].to_numpy(dtype=bool)
    out["secret"] = out["secret"].to_numpy(dtype=bool) | added
    out["secret_reason"] = (
        out["secret_reason"].astype(pd.CategoricalDtype(list(SECRET_REASONS))).where(~added, "edition")
    )
    return out


def is_primary(cells: pd.DataFrame) -> np.ndarray:
    """Whether each cell is a primary secret (its own rule, not a complementary suppression)."""
    return cells["secret"].to_numpy(dtype=bool) & cells["secret_reason"].isin(PRIMARY_REASONS).to_numpy()


def mask_values(cells: pd.DataFrame) -> pd.DataFrame:
    """A copy where every value column (VALUE_COLUMNS present) of a secret cell is NaN.

    Coordinates, `secret` and `secret_reason` are kept; counts become float columns so they
    can hold NaN.
    """
    out = cells.copy(deep=False)  # copy-on-write: only the columns set here are new
    published = ~out["secret"].to_numpy(dtype=bool)
    for column in VALUE_COLUMNS:
        if column in out.columns:
            out[column] = out[column].astype(np.float64).where(published)
    return out
