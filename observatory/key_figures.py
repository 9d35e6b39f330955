"""The overview's key figures within a scope (observatory.scope): the cell of the scope, its
most exposed fiches and its employees by exposure class, one level of occupations below the
scope's.

Cells are read through the one door (`published.cells_frame`, `published.cell_figures`); the
top fiches are published ones only (a ranking of secret cells would tell their size).
"""

from skills.models import Occupation

from . import published
from .analysis.codes import UNKNOWN_CODE
from .models import GridCell
from .scope import Scope
from .selectors import grid_reference, occupation_label

TOP_FICHES = 10
# The occupations the class-shares panel breaks the scope into: one level below its own.
SHARE_LEVELS = {"all": "grand_domaine", "grand_domaine": "domaine", "domaine": "fiche"}


def overview_figures(run, scope: Scope) -> dict:
    """total (a dict of the scope's cell, figures None when secret; None without a cell),
    top_occupations and class_shares (frames with the columns of
    `key_figures.overview_figures`), share_level (the occupation level of class_shares), in
    four queries plus the cached reference."""
    coordinates = scope.cells()
    total = GridCell.objects.filter(run=run, **coordinates).first()
    if total is not None:
        total = {**published.cell_figures(total), "secret": total.secret, "secret_reason": total.secret_reason}

    # Every occupation of the scope's other coordinates, narrowed to the scope's occupation.
    others = {name: value for name, value in coordinates.items() if not name.startswith("occupation_")}
    within = GridCell.objects.filter(run=run, **others).order_by()
    if scope.occupation_level != "all":
        within = within.filter(occupation_code__startswith=scope.occupation_code)

    fiches = published.cells_frame(
        within.filter(occupation_level="fiche").exclude(occupation_code__startswith=UNKNOWN_CODE),
        ["occupation_code", "employees", "exposure_mean", "share_high", "share_medium", "secret"],
    )
    fiches = fiches[~fiches["secret"]]
    top = (
        published.with_exposed_employees(fiches)
        .loc[lambda frame: frame["exposed_employees"] > 0]
        .sort_values(["exposed_employees", "exposure_mean", "occupation_code"], ascending=[False, False, True])
        .head(TOP_FICHES)
        .reset_index(drop=True)
    )[["occupation_code", "employees", "exposed_employees", "exposure_mean", "share_high", "share_medium"]]
    labels = dict(
        Occupation.objects.filter(code__in=list(top["occupation_code"])).values_list("code", "label").order_by()
    )
    top.insert(1, "occupation_label", [labels.get(code, "") for code in top["occupation_code"]])

    share_level = SHARE_LEVELS.get(scope.occupation_level, "fiche")
    shares = published.cells_frame(
        within.filter(occupation_level=share_level).order_by("occupation_code"),
        ["occupation_code", "employees", "share_high", "share_medium", "share_low", "secret", "secret_reason"],
    )
    if share_level == "fiche":
        fiche_labels = dict(
            Occupation.objects.filter(code__in=list(shares["occupation_code"])).values_list("code", "label").order_by()
        )
        shares.insert(1, "occupation_label", [fiche_labels.get(c, "") for c in shares["occupation_code"]])
    else:
        reference = grid_reference()
        shares.insert(1, "occupation_label", [occupation_label(c, reference) for c in shares["occupation_code"]])
    return {"total": total, "top_occupations": top, "class_shares": shares, "share_level": share_level}
