"""The map of the région: one indicator of a run's cells per département (or EPCI), within
the shared filters (territory, sector, occupation, size band: observatory.scope).

As on the grid page, the part of the template that depends on the run (its line, the form,
the map and its table) is a cached fragment, keyed by the run, its methodology, the level,
the indicator, the outline counts, the filters and the lens or run the form keeps; nothing of the user,
since every analyst sees the same map. A page served from it reads no cell, no outline and
draws no figure.
"""

from functools import cached_property, partial
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from .. import selectors
from ..analysis.codes import is_unknown
from ..charts import choropleth
from ..charts.common import figure_json, secret_reason_text
from ..filters import GridCellFilterSet
from ..maps import map_frame, map_level
from ..models import GridCell
from ..permissions import analyst_required
from ..published import EDITION_CACHE_SECONDS, cached
from ..scope import Scope, read_scope
from ..selectors import grid_reference_scope
from .common import RunRef, chosen_run, lazy_run, lens_tabs
from .filter_form import filter_fields

LEVELS = {"departement": "Départements", "epci": "EPCI"}
LEVEL_PLURALS = {"departement": "départements", "epci": "EPCI"}
FRAGMENT = "observatory-map"
# Names and values are written on the map when it draws at most this many territories (the
# five départements, the EPCI of one); beyond, only « secret » is.
MAX_NAMED_TERRITORIES = 12
# The filters the map offers beside its own (indicator, level): the shared ones.
FORM_FIELDS = ("territory", "sector", "occupation", "size_band")


def map_fragment_key(
    run: RunRef,
    *,
    level: str,
    indicator: str,
    outlines: dict,
    requested_run: str,
    lens: str,
    scope: Scope | None = None,
) -> str:
    """The `vary_on` value of the map's cached fragment: the repr of a tuple, which cannot be
    ambiguous (the cache hashes it)."""
    return repr(
        (
            "map",
            run.pk,
            run.methodology_id,
            level,
            indicator,
            tuple(sorted(outlines.items())),
            requested_run,
            lens,
            (scope or Scope()).key(),
        )
    )


class MapContent:
    """The figure, its legend and summary and the table of one map, read on first use from
    the one cache (drawn on a miss)."""

    def __init__(self, ref: RunRef, run, level: str, indicator: str, outlines: dict, scope: Scope, links: dict):
        self.ref, self.run, self.level, self.indicator, self.outlines = ref, run, level, indicator, outlines
        self.scope, self.links = scope, links

    @cached_property
    def content(self) -> dict:
        # The cells of a finished run never change, so the figure and the table are cached
        # together; the outline count is in the key: loading the outlines redraws the map.
        outlines = self.outlines[self.level]
        return cached(
            "map",
            self.ref,
            level=self.level,
            indicator=self.indicator,
            outlines=outlines,
            scope=self.scope.key(),
            links=urlencode(sorted(self.links.items())),
            build=lambda: _map_content(self.run, self.level, self.indicator, outlines > 0, self.scope, self.links),
        )

    @cached_property
    def secret_count(self) -> int:
        return sum(1 for row in self.content["rows"] if row["secret"])


@analyst_required
def map_page(request):
    with grid_reference_scope():
        return _map_page(request)


def _map_page(request):
    level = request.GET.get("level")
    if level not in LEVELS:
        level = "departement"
    indicator = request.GET.get("indicator")
    if indicator not in choropleth.INDICATORS:
        indicator = choropleth.DEFAULT_INDICATOR
    scope, errors = read_scope(request.GET)
    level = map_level(level, scope)
    ref, run = chosen_run(request, selectors.grid_run_summaries())
    if ref is not None:
        run = run or lazy_run(ref)
    outlines = selectors.territory_geometry_counts()
    has_outlines = outlines[level] > 0
    # What the links to the grid and the ranking carry besides the territory: the edition and
    # the sector, occupation and size band shown.
    edition = {"run": request.GET["run"]} if request.GET.get("run") else {"lens": ref.lens if ref else ""}
    links = {
        **{k: v for k, v in edition.items() if v},
        **{k: v for k, v in scope.params().items() if k != "territory"},
    }

    fragment, fragment_key = None, ""
    data = {"figure": None, "legend": None, "summary": None, "rows": [], "secret_count": 0}
    if ref is not None and not errors:
        fragment_key = map_fragment_key(
            ref,
            level=level,
            indicator=indicator,
            outlines=outlines,
            requested_run=request.GET.get("run", ""),
            lens=request.GET.get("lens", ""),
            scope=scope,
        )
        fragment = cache.get(make_template_fragment_key(FRAGMENT, [fragment_key]))
        content = MapContent(ref, run, level, indicator, outlines, scope, links)
        if fragment is None:
            data = {**content.content, "secret_count": content.secret_count}
        else:
            # Served from the cache: the data stays unread unless someone asks for it.
            data = {
                name: SimpleLazyObject(partial(_content_item, content, name))
                for name in ("figure", "legend", "summary", "rows")
            }
            data["secret_count"] = SimpleLazyObject(lambda: content.secret_count)

    form = GridCellFilterSet(
        {name: request.GET.get(name, "") for name in FORM_FIELDS}, queryset=GridCell.objects.none()
    ).form
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
        "indicator_spec": choropleth.INDICATORS[indicator],
        "indicators": choropleth.INDICATORS,
        "scope": scope,
        "scope_params": scope.params(),
        # The run's version leaves these cells out (an EPCI crossed with a sector or occupation).
        "withheld_by_plan": level == "epci"
        and run is not None
        and not run.methodology.publishes(level, scope.sector_level, scope.occupation_level),
        # Drawn lazily: a page served from its cached fragment renders no <select>.
        "filters": SimpleLazyObject(lambda: filter_fields(form, FORM_FIELDS)),
        "errors": errors,
        **data,
        "lens_tabs": lens_tabs(request, ref),
        "fragment": fragment,
        "fragment_key": fragment_key,
        # Without a run the page is cheap and its form follows the query string: not kept.
        "fragment_timeout": EDITION_CACHE_SECONDS if ref is not None and not errors else 0,
    }
    return render(request, "observatory/map.html", context, status=400 if errors else 200)


def _content_item(content: MapContent, name: str):
    return content.content[name]


def _map_content(run, level, indicator, has_outlines, scope: Scope, links: dict) -> dict:
    """The figure (JSON, or None without outlines or cells), its legend, its one-sentence
    summary and the table rows of one map."""
    frame, territories = map_frame(run, level, scope, with_outlines=has_outlines)
    figure = legend = summary = None
    if has_outlines and frame["has_data"].any():
        outlined = territories[territories["has_geometry"]]
        geometries = dict(zip(outlined["code"], outlined["geometry"], strict=True))
        named = len(geometries) <= MAX_NAMED_TERRITORIES
        drawn, legend = choropleth.map_figure(frame, geometries, indicator, label_names=named)
        figure = figure_json(drawn)
        summary = choropleth.map_summary(frame[frame["has_geometry"]], indicator, LEVEL_PLURALS[level])
    return {
        "figure": figure,
        "legend": legend,
        "summary": summary,
        "rows": _table_rows(frame[frame["has_data"]], level, links),
    }


def _table_rows(frame, level: str, links: dict) -> list[dict]:
    """The table under the map: every figure already in French, secret rows without values,
    and for each territory the links to its grid and its ranking of occupations."""
    rows = []
    grid_url, ranking_url = reverse("observatory:grid"), reverse("observatory:ranking")
    for row in frame.itertuples():
        values = {}
        if not row.secret:
            values = {name: choropleth.format_indicator(getattr(row, name), name) for name in choropleth.INDICATORS}
            values["companies"] = choropleth.format_indicator(row.companies, "employees")
        query = "" if is_unknown(row.code) else urlencode({"territory": f"{level}:{row.code}", **links})
        rows.append(
            {
                "code": row.code,
                "name": row.name,
                "secret": row.secret,
                "secret_label": secret_reason_text(row.secret_reason) if row.secret else "",
                "values": values,
                "grid_url": f"{grid_url}?{query}" if query else "",
                "ranking_url": f"{ranking_url}?{query}" if query else "",
            }
        )
    return rows
