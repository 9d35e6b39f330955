"""The map of the région: one indicator of a run's cells per département (or EPCI)."""

from urllib.parse import urlencode

from django.core.cache import cache
from django.http import Http404
from django.shortcuts import render

from .. import selectors
from ..charts import map as map_charts
from ..charts.common import figure_json
from ..models import Lens
from ..permissions import analyst_required
from .common import requested_run

LEVELS = {"departement": "Départements", "epci": "EPCI"}
LEVEL_PLURALS = {"departement": "départements", "epci": "EPCI"}
CACHE_SECONDS = 60 * 60


def run_or_none(request):
    """The run `?run=` or `?lens=` asks for, or None when no grid has been computed yet
    (the page then says so instead of failing). A wrong `?run=` is still a 404."""
    try:
        return requested_run(request)
    except Http404:
        if request.GET.get("run"):
            raise
        return None


def lens_tabs(request, run) -> list[dict]:
    """Links switching the lens, keeping the page's other parameters (but not `run`, which
    would pin one lens)."""
    params = {key: value for key, value in request.GET.items() if key not in ("lens", "run")}
    current = run.methodology.lens if run is not None and run.index_id is None else None
    return [
        {
            "value": value,
            "label": label,
            "url": f"{request.path}?{urlencode({**params, 'lens': value})}",
            "current": value == current,
        }
        for value, label in Lens.choices
    ]


def figure_cache_key(page: str, run, **params) -> str:
    """One cache entry per (page, run, normalised parameters): a new run gets new keys."""
    return f"observatory:{page}:run={run.pk}:{urlencode(sorted(params.items()))}"


@analyst_required
def map_page(request):
    level = request.GET.get("level")
    if level not in LEVELS:
        level = "departement"
    indicator = request.GET.get("indicator")
    if indicator not in map_charts.INDICATORS:
        indicator = map_charts.DEFAULT_INDICATOR
    run = run_or_none(request)
    outlines = selectors.territory_geometry_counts()
    has_outlines = outlines[level] > 0

    content = {"figure": None, "summary": None, "rows": []}
    if run is not None:
        # The cells of a finished run never change, so the figure and the table are cached
        # together; the outline count is in the key: loading the outlines redraws the map.
        key = figure_cache_key("map", run, level=level, indicator=indicator, outlines=outlines[level])
        content = cache.get(key)
        if content is None:
            content = _map_content(run, level, indicator, has_outlines)
            cache.set(key, content, CACHE_SECONDS)
    figure, summary, rows = content["figure"], content["summary"], content["rows"]

    context = {
        "run": run,
        "level": level,
        "level_label": LEVEL_PLURALS[level],
        "levels": [
            {
                "value": value,
                "label": label if outlines[value] else f"{label} (tableau seul : contours non chargés)",
                "has_outlines": bool(outlines[value]),
            }
            for value, label in LEVELS.items()
        ],
        "has_outlines": has_outlines,
        "epci_outlines": bool(outlines["epci"]),
        "indicator": indicator,
        "indicator_spec": map_charts.INDICATORS[indicator],
        "indicators": map_charts.INDICATORS,
        "figure": figure,
        "summary": summary,
        "rows": rows,
        "lens_tabs": lens_tabs(request, run),
        "secret_count": sum(1 for row in rows if row["secret"]),
    }
    return render(request, "observatory/map.html", context)


def _map_content(run, level, indicator, has_outlines) -> dict:
    """The figure (JSON, or None without outlines or cells), its one-sentence summary and the
    table rows of one map."""
    frame = selectors.map_cells_frame(run, level)
    figure = summary = None
    if has_outlines and frame["has_data"].any():
        geometries = selectors.territory_geometries(level)
        figure = figure_json(map_charts.map_figure(frame, geometries, indicator, label_names=level == "departement"))
        summary = map_charts.map_summary(frame[frame["has_geometry"]], indicator, LEVEL_PLURALS[level])
    return {"figure": figure, "summary": summary, "rows": _table_rows(frame[frame["has_data"]])}


def _table_rows(frame) -> list[dict]:
    """The table under the map: every figure already in French, secret rows without values."""
    rows = []
    for row in frame.itertuples():
        values = {}
        if not row.secret:
            values = {name: map_charts.format_indicator(getattr(row, name), name) for name in map_charts.INDICATORS}
            values["companies"] = map_charts.format_indicator(row.companies, "employees")
        rows.append(
            {
                "code": row.code,
                "name": row.name,
                "secret": row.secret,
                "secret_label": map_charts.secret_label(row.secret_reason) if row.secret else "",
                "values": values,
            }
        )
    return rows
