"""The map of the région: one indicator of a run's cells per département (or EPCI).

As on the grid page, the part of the template that depends on the run (its line, the form,
the map and its table) is a cached fragment, keyed by the run, its methodology, the level,
the indicator, the outline counts and the lens or run the form keeps; nothing of the user,
since every analyst sees the same map. A page served from it reads no cell, no outline and
draws no figure.
"""

from functools import cached_property
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject

from .. import selectors
from ..charts import map as map_charts
from ..charts.common import figure_json
from ..models import Lens
from ..permissions import analyst_required
from .common import RunRef, chosen_run, lazy_run, run_or_none  # noqa: F401  (run_or_none: occupations)

LEVELS = {"departement": "Départements", "epci": "EPCI"}
LEVEL_PLURALS = {"departement": "départements", "epci": "EPCI"}
CACHE_SECONDS = 60 * 60
FRAGMENT = "observatory-map"


def lens_tabs(request, run) -> list[dict]:
    """Links switching the lens, keeping the page's other parameters (but not `run`, which
    would pin one lens). `run` is a GridRun or a RunRef."""
    params = {key: value for key, value in request.GET.items() if key not in ("lens", "run")}
    if isinstance(run, RunRef):
        current = run.lens if run.index_id is None else None
    else:
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


def map_fragment_key(run: RunRef, *, level: str, indicator: str, outlines: dict, requested_run: str, lens: str) -> str:
    """The `vary_on` value of the map's cached fragment: the repr of a tuple, which cannot be
    ambiguous (the cache hashes it)."""
    return repr(
        ("map", run.pk, run.methodology_id, level, indicator, tuple(sorted(outlines.items())), requested_run, lens)
    )


class MapContent:
    """The figure, its summary and the table of one map, read on first use from the cache of
    map data (drawn on a miss)."""

    def __init__(self, ref: RunRef, run, level: str, indicator: str, outlines: dict):
        self.ref, self.run, self.level, self.indicator, self.outlines = ref, run, level, indicator, outlines

    @cached_property
    def content(self) -> dict:
        # The cells of a finished run never change, so the figure and the table are cached
        # together; the outline count is in the key: loading the outlines redraws the map.
        outlines = self.outlines[self.level]
        key = figure_cache_key("map", self.ref, level=self.level, indicator=self.indicator, outlines=outlines)
        content = cache.get(key)
        if content is None:
            content = _map_content(self.run, self.level, self.indicator, outlines > 0)
            cache.set(key, content, CACHE_SECONDS)
        return content

    @cached_property
    def secret_count(self) -> int:
        return sum(1 for row in self.content["rows"] if row["secret"])


@analyst_required
def map_page(request):
    level = request.GET.get("level")
    if level not in LEVELS:
        level = "departement"
    indicator = request.GET.get("indicator")
    if indicator not in map_charts.INDICATORS:
        indicator = map_charts.DEFAULT_INDICATOR
    ref, run = chosen_run(request, selectors.grid_run_summaries())
    if ref is not None:
        run = run or lazy_run(ref)
    outlines = selectors.territory_geometry_counts()
    has_outlines = outlines[level] > 0

    fragment, fragment_key = None, ""
    data = {"figure": None, "summary": None, "rows": [], "secret_count": 0}
    if ref is not None:
        fragment_key = map_fragment_key(
            ref,
            level=level,
            indicator=indicator,
            outlines=outlines,
            requested_run=request.GET.get("run", ""),
            lens=request.GET.get("lens", ""),
        )
        fragment = cache.get(make_template_fragment_key(FRAGMENT, [fragment_key]))
        content = MapContent(ref, run, level, indicator, outlines)
        if fragment is None:
            data = {**content.content, "secret_count": content.secret_count}
        else:
            # Served from the cache: the data stays unread unless someone asks for it.
            data = {
                "figure": SimpleLazyObject(lambda: content.content["figure"]),
                "summary": SimpleLazyObject(lambda: content.content["summary"]),
                "rows": SimpleLazyObject(lambda: content.content["rows"]),
                "secret_count": SimpleLazyObject(lambda: content.secret_count),
            }

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
        **data,
        "lens_tabs": lens_tabs(request, ref),
        "fragment": fragment,
        "fragment_key": fragment_key,
        # Without a run the page is cheap and its form follows the query string: not kept.
        "fragment_timeout": CACHE_SECONDS if ref is not None else 0,
    }
    return render(request, "observatory/map.html", context)


def _map_content(run, level, indicator, has_outlines) -> dict:
    """The figure (JSON, or None without outlines or cells), its one-sentence summary and the
    table rows of one map."""
    territories = selectors.map_territories(level, with_outlines=has_outlines)
    frame = selectors.map_cells_frame(run, level, territories)
    figure = summary = None
    if has_outlines and frame["has_data"].any():
        outlined = territories[territories["has_geometry"]]
        geometries = dict(zip(outlined["code"], outlined["geometry"], strict=True))
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
