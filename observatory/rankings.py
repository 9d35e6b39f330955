"""The occupation ranking: the fiches métier of one territory, sector and size band of an
edition, ranked by exposed employees, by mean exposure or by employees.

Read like every published figure: one cell per fiche (`occupation_level="fiche"`) at the
scope's coordinates, through the one door (`published.cells_frame`: values of secret cells
blanked as they are read). Secret fiches come last, in code order, whatever the order asked: their place in
the list must not tell their value.
"""

import numpy as np
import pandas as pd
from django.utils.translation import gettext_lazy as _

from skills.models import Occupation

from . import published
from .analysis.codes import UNKNOWN_CODE
from .models import GridCell
from .scope import Scope

# The orders a ranking offers: (column sorted descending, label). Ties are broken by the
# other figures, then by the code, so that a ranking is the same at every reading.
RANKING_ORDERS = {
    "exposed": ("exposed_employees", _("Salariés exposés")),
    "exposure": ("exposure_mean", _("Exposition moyenne")),
    "employees": ("employees", _("Salariés")),
}
DEFAULT_ORDER = "exposed"
# How many fiches a ranking shows; 0 is every fiche of the scope.
RANKING_LIMITS = (10, 25, 50, 100, 0)
DEFAULT_LIMIT = 25

CELL_COLUMNS = ["occupation_code", "companies", "employees", "exposure_mean", "share_high", "share_medium"]
RANKING_COLUMNS = [
    "rank",
    "occupation_code",
    "occupation_label",
    "companies",
    "employees",
    "exposed_employees",
    "exposed_share",
    "exposure_mean",
    "secret",
    "secret_reason",
]


def occupation_ranking(run, scope: Scope, *, order: str = DEFAULT_ORDER) -> pd.DataFrame:
    """Every fiche of `scope` in `run` (the scope's occupation, when it names a grand domaine
    or a domaine, narrows the fiches to those it contains), ranked by `order` (a key of
    RANKING_ORDERS), in two queries.

    Columns (RANKING_COLUMNS): rank (1, 2, …; <NA> for a secret fiche), occupation_code,
    occupation_label, companies, employees, exposed_employees (employees whose fiche is in
    the high or significant-change exposure class), exposed_share (exposed / employees),
    exposure_mean, secret, secret_reason. Figures of secret fiches are NaN.
    """
    sort_column = RANKING_ORDERS[order][0]
    coordinates = scope.cells(occupation_level="fiche")
    del coordinates["occupation_code"]  # every fiche: the scope's occupation narrows them below
    cells = GridCell.objects.filter(run=run, **coordinates)
    if scope.occupation_level in ("grand_domaine", "domaine"):
        # ROME codes nest by prefix: M16 holds M1601…M1610.
        cells = cells.filter(occupation_code__startswith=scope.occupation_code)
    # The cube's unknown members (« inconnu », « inconnu-M16 »: positions without a fiche)
    # are no occupation to rank; no ROME code starts with the word.
    cells = cells.exclude(occupation_code__startswith=UNKNOWN_CODE)
    frame = published.cells_frame(cells.order_by(), [*CELL_COLUMNS, "secret", "secret_reason"])

    frame = published.with_exposed_employees(frame)

    tie_breaks = [column for column in ("exposed_employees", "exposure_mean", "employees") if column != sort_column]
    frame = frame.sort_values(
        ["secret", sort_column, *tie_breaks, "occupation_code"],
        ascending=[True, False, False, False, True],
        na_position="last",
        kind="mergesort",
    ).reset_index(drop=True)
    public = ~frame["secret"]
    frame["rank"] = pd.array(np.where(public, np.cumsum(public), 0), dtype="Int64")
    frame.loc[~public, "rank"] = pd.NA

    labels = dict(
        Occupation.objects.filter(code__in=list(frame["occupation_code"])).values_list("code", "label").order_by()
    )
    frame["occupation_label"] = [labels.get(code, "") for code in frame["occupation_code"]]
    return frame[RANKING_COLUMNS]


def limit_ranking(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The first `limit` rows of a ranking (0: all of them): what the page shows and its
    downloads hold. Secret fiches, last, appear once every published one is shown."""
    return frame.head(limit) if limit else frame
