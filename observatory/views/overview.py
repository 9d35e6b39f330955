"""The overview: key figures of a run, its most exposed occupations and class shares."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse

from .. import published
from ..charts.common import figure_json, format_number, format_percent
from ..charts.grid import class_shares_bar, secret_reason_label, top_occupations_bar
from ..filters import GridCellFilterSet
from ..key_figures import overview_figures
from ..models import GridCell, Lens
from ..permissions import analyst_required
from ..scope import Scope, read_scope, scope_title
from ..selectors import grid_reference_scope
from .common import run_or_none
from .filter_form import filter_fields

FORM_FIELDS = ("territory", "sector", "occupation", "size_band")
SHARE_TITLES = {"grand_domaine": "grand domaine", "domaine": "domaine professionnel", "fiche": "fiche métier"}


def _overview(run, scope: Scope) -> dict:
    """Figures and charts of a run within a scope, from the one cache per run and scope."""
    return published.cached("overview", run, scope=scope.key(), build=lambda: _draw_overview(run, scope))


def _draw_overview(run, scope: Scope) -> dict:
    figures = overview_figures(run, scope)
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
        "shares_summary": _shares_summary(shares, SHARE_TITLES[figures["share_level"]]),
        "share_title": SHARE_TITLES[figures["share_level"]],
    }
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


def _shares_summary(shares, member: str = "grand domaine") -> str:
    if shares.empty:
        return ""
    public = shares[~shares["secret"].astype(bool)]
    plural = " ".join(word + "s" for word in member.split(" "))
    text = f"Barres empilées : parts des salariés par classe d'exposition pour {len(shares)} {plural}"
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
    with grid_reference_scope():
        return _overview_page(request)


def _overview_page(request):
    run = run_or_none(request)
    lens = run.methodology.lens if run else request.GET.get("lens", Lens.DEFAULT)
    lens = lens if lens in Lens.values else Lens.DEFAULT
    scope, errors = read_scope(request.GET)
    form = GridCellFilterSet(
        {name: request.GET.get(name, "") for name in FORM_FIELDS}, queryset=GridCell.objects.none()
    ).form
    # The pages this one leads to get the same edition and filters.
    edition = {"run": request.GET["run"]} if request.GET.get("run") else {"lens": lens}
    scoped = urlencode({**edition, **scope.params()})
    context = {
        "run": run,
        "lens": lens,
        "lenses": Lens.choices,
        "lens_links": [
            (value, label, "?" + urlencode({"lens": value, **scope.params()})) for value, label in Lens.choices
        ],
        "filters": filter_fields(form, FORM_FIELDS),
        "errors": errors,
        "scope": scope,
        "scope_title": scope_title(scope),
        "grid_url": f"{reverse('observatory:grid')}?{scoped}",
        "ranking_url": f"{reverse('observatory:ranking')}?{scoped}",
        "map_url": f"{reverse('observatory:map')}?{scoped}",
        "edition_query": urlencode(edition),
    }
    if errors:
        return render(request, "observatory/overview.html", context, status=400)
    if run is not None:
        context.update(_overview(run, scope))
    return render(request, "observatory/overview.html", context)
