"""The overview: key figures of a run, its most exposed occupations and class shares."""

from django.core.cache import cache
from django.shortcuts import render

from ..charts.common import figure_json, format_number, format_percent
from ..charts.grid import class_shares_bar, secret_reason_label, top_occupations_bar
from ..models import Lens
from ..permissions import analyst_required
from ..selectors import overview_figures
from .grid import FIGURE_TIMEOUT, run_or_none


def _overview(run) -> dict:
    """Figures and charts of a run, cached per run (its cells never change once ready)."""
    key = f"observatory:overview:v1:{run.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    figures = overview_figures(run)
    top, shares = figures["top_occupations"], figures["class_shares"]
    total = figures["total"]
    data = {
        "total": total,
        "total_secret_label": secret_reason_label(total["secret_reason"], run.methodology)
        if total and total["secret"]
        else "",
        "top": _records(top, run.methodology),
        "shares": _records(shares, run.methodology),
        "top_figure": figure_json(top_occupations_bar(top)) if len(top) else None,
        "shares_figure": figure_json(class_shares_bar(shares)) if len(shares) else None,
        "top_summary": _top_summary(top),
        "shares_summary": _shares_summary(shares),
    }
    cache.set(key, data, FIGURE_TIMEOUT)
    return data


def _records(frame, methodology) -> list[dict]:
    """Rows for a template: NaN becomes None (shown « — »), secret rows get their reason."""
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for record in records:
        if record.get("secret"):
            record["secret_label"] = secret_reason_label(record["secret_reason"], methodology)
    return records


def _top_summary(top) -> str:
    if top.empty:
        return ""
    first = top.iloc[0]
    return (
        f"Barres horizontales : les {len(top)} métiers comptant le plus de salariés dans un emploi exposé. "
        f"En tête, {first['occupation_label']} ({format_number(first['employees'])} salariés, exposition "
        f"{format_number(first['exposure_mean'], 2)}). Détail dans le tableau qui suit."
    )


def _shares_summary(shares) -> str:
    if shares.empty:
        return ""
    public = shares[~shares["secret"].astype(bool)]
    text = f"Barres empilées : parts des salariés par classe d'exposition pour {len(shares)} grands domaines"
    if not public.empty:
        top = public.sort_values("share_high", ascending=False).iloc[0]
        text += (
            f" ; la plus forte part en exposition forte : {top['occupation_label']} "
            f"({format_percent(top['share_high'] or 0)})"
        )
    secret = len(shares) - len(public)
    if secret:
        text += f" ; {secret} secret{'s' if secret > 1 else ''}"
    return text + ". Détail dans le tableau qui suit."


@analyst_required
def overview(request):
    run = run_or_none(request)
    lens = run.methodology.lens if run else request.GET.get("lens", Lens.DEFAULT)
    context = {
        "run": run,
        "lens": lens if lens in Lens.values else Lens.DEFAULT,
        "lenses": Lens.choices,
    }
    if run is not None:
        context.update(_overview(run))
    return render(request, "observatory/overview.html", context)
