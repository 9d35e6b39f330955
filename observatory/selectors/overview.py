"""Key figures of a run for the overview (/observatoire/)."""

import logging

import pandas as pd
from django.db.models.functions import Coalesce

from skills.models import Occupation

from .. import published
from ..models import CELL_FIGURES, GridCell
from .grid import grid_reference, occupation_label
from .reference import labels

logger = logging.getLogger(__name__)


def overview_figures(run) -> dict:
    """Key figures of a run for the overview, in three queries plus the cached reference.

    total: the cell of the whole area, every sector, occupation and size (a dict, figures
    None when secret); top_occupations: the ten non-secret fiche cells of that scope with
    the most employees in an exposed job (high exposure or significant change), columns
    occupation_code, occupation_label, employees, exposed_employees, exposure_mean,
    share_high, share_medium; class_shares: the grand domaine cells of that scope with
    occupation_code, occupation_label, employees, share_high, share_medium, share_low,
    secret, secret_reason (values blanked when secret).
    """
    from django.db.models import F, FloatField

    scope = GridCell.objects.filter(run=run, territory_level="all", sector_level="all", size_band="all").order_by()
    totals = published.cells_frame(
        scope.filter(occupation_level="all")[:1], [*CELL_FIGURES, "secret", "secret_reason"]
    )
    total = None
    if len(totals):
        total = totals.astype(object).where(totals.notna(), None).iloc[0].to_dict()
        for name in ("companies", "establishments", "employees", "diagnostics"):
            if total.get(name) is not None:
                total[name] = int(total[name])

    exposed = F("employees") * (
        Coalesce("share_high", 0.0, output_field=FloatField())
        + Coalesce("share_medium", 0.0, output_field=FloatField())
    )
    top_columns = ["occupation_code", "employees", "exposed_employees", "exposure_mean", "share_high", "share_medium"]
    top = pd.DataFrame.from_records(
        list(
            scope.filter(occupation_level="fiche", secret=False)
            .annotate(exposed_employees=exposed)
            .filter(exposed_employees__gt=0)
            .order_by("-exposed_employees", "-exposure_mean", "occupation_code")
            .values_list(*top_columns)[:10]
        ),
        columns=top_columns,
    )
    fiche_labels = labels(Occupation, set(top["occupation_code"]))
    top.insert(1, "occupation_label", [fiche_labels.get(code, "") for code in top["occupation_code"]])

    share_columns = ["occupation_code", "employees", "share_high", "share_medium", "share_low"]
    share_columns += ["secret", "secret_reason"]
    shares = published.cells_frame(
        scope.filter(occupation_level="grand_domaine").order_by("occupation_code"), share_columns
    )
    reference = grid_reference()
    shares.insert(1, "occupation_label", [occupation_label(c, reference) for c in shares["occupation_code"]])
    return {"total": total, "top_occupations": top, "class_shares": shares}
