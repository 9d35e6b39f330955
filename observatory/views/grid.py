"""The grid page: heatmap sector × occupation of a run's cells, their table and downloads.

The page is read again and again, by every analyst, for a handful of views of runs whose
cells never change once ready. So its template caches three fragments (`{% cache %}`): the
run's line with the filter form, the heatmap and the table. Their keys carry the run id
and its methodology (a new run gets new keys), every filter, the sort and the page, and the
state of the run picker; never anything of the user, because these pages are reserved to
analysts and show them all the same thing (the name in the header is outside the
fragments). The view fetches the three fragments in one round trip: when all are cached it
reads no cell and validates nothing (a cached fragment was valid when it was stored), and
the data it would have shown is offered to the template lazily, read only if used. On a
miss, the heatmap's data come from the one cache of the read layer
(`observatory.published.cached`); the fragments keep the HTML drawn from them, which costs
about three times as much to render again (`make bench`, `grid_page_rendered_vs_fragments`).
"""

from functools import cached_property, partial
from urllib.parse import urlencode

import pandas as pd
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from ..charts.common import figure_json
from ..charts.grid import exposure_heatmap, heatmap_min_width, heatmap_summary, secret_reason_label
from ..filters import COLUMN_LEVELS, ROW_LEVELS, GridCellFilterSet, grid_page_params, split_member
from ..models import GridCell, Lens
from ..permissions import analyst_required
from ..published import EDITION_CACHE_SECONDS, cached
from ..selectors import (
    GRID_REFERENCE_TIMEOUT,
    GRID_SORT_FIELDS,
    grid_cells_ordered,
    grid_heatmap_frame,
    grid_reference,
    grid_reference_scope,
    grid_run_choices,
    grid_run_summaries,
    grid_table_rows,
)
from . import exports
from .common import RunRef, chosen_run, lazy_run
from .filter_form import filter_fields, select_option

PER_PAGE = 50
# A run's cells never change once it is ready and the run id is in the key, so a figure only
# ages through the labels of its codes (a nomenclature re-imported): an hour is plenty.
# The template's fragments. The form and the table carry labels of the nomenclatures, so they
# follow a re-imported one as quickly as the cached reference does; the heatmap keeps the
# figure's hour.
FRAGMENTS = {
    "form": ("observatory-grid-form", GRID_REFERENCE_TIMEOUT),
    "heatmap": ("observatory-grid-heatmap", EDITION_CACHE_SECONDS),
    "table": ("observatory-grid-table", GRID_REFERENCE_TIMEOUT),
}
# Runs offered by the run picker (newest first).
RUN_CHOICES = 30
ROW_TITLES = dict(ROW_LEVELS)
COLUMN_TITLES = dict(COLUMN_LEVELS)
# Table columns: (sort field, header, kind).
TABLE_COLUMNS = [
    ("sector_code", "Secteur", "text"),
    ("occupation_code", "Métier", "text"),
    ("companies", "Entreprises", "number"),
    ("employees", "Salariés", "number"),
    ("exposure_mean", "Exposition moyenne", "exposure"),
    ("share_high", "Exposition forte", "percent"),
    ("share_medium", "Changement significatif", "percent"),
    ("training_need_share", "Besoin de formation", "percent"),
]


def run_picker_state(summaries: list[tuple]) -> str:
    """What the run picker shows, as a string for the cache keys: its runs and which of them
    are current. A run that finishes or becomes current changes it."""
    return ",".join(f"{pk}{'*' if is_current else ''}" for pk, _m, _l, _i, is_current in summaries)


def fragment_keys(ref: RunRef, *, picker: str, requested: str, params: dict, sort: str, page: str) -> dict:
    """The `vary_on` value of each cached fragment of the page: the repr of a tuple, which
    cannot be ambiguous (the cache hashes it). Every one names the run and its methodology;
    the form adds the run picker's state, the lens or run asked for and the filters; the
    heatmap the filters and the sort (its download links keep it); the table the filters,
    the sort, the page and what its links select."""
    run = (ref.pk, ref.methodology_id)
    filters = tuple(sorted(params.items()))
    selection = (requested, ref.lens)
    return {
        "form": repr(("form", run, picker, selection, filters)),
        "heatmap": repr(("heatmap", run, filters, sort)),
        "table": repr(("table", run, selection, filters, sort, page)),
    }


def cached_fragments(keys: dict) -> dict:
    """The fragments already in the cache, by name, in one round trip."""
    cache_keys = {name: make_template_fragment_key(FRAGMENTS[name][0], [key]) for name, key in keys.items()}
    found = cache.get_many(list(cache_keys.values()))
    return {name: found[key] for name, key in cache_keys.items() if key in found}


def _heatmap(run, params: dict, filterset) -> dict:
    """The heatmap of the filtered cells, with its « tous secteurs » row and « tous métiers »
    column, as JSON with its summary, from the one cache per (run, filters). Beyond
    MAX_HEATMAP_MEMBERS members on an axis (the fiches) nothing is drawn: the page offers
    their ranking."""
    return cached("grid-heatmap", run, build=lambda: _draw_heatmap(run, filterset), **params)


def _draw_heatmap(run, filterset) -> dict:
    sector_level, occupation_level = filterset.grid_levels()
    row_title, column_title = ROW_TITLES[sector_level], COLUMN_TITLES[occupation_level]
    reference = grid_reference()
    cells = grid_heatmap_frame(filterset.qs, reference)
    members = max(cells["sector_code"].nunique(), cells["occupation_code"].nunique()) if len(cells) else 0
    too_many = members > MAX_HEATMAP_MEMBERS
    drawn = cells
    if len(cells) and not too_many:
        drawn = pd.concat([cells, _heatmap_totals(filterset, run, reference)], ignore_index=True)
    return {
        "cells": len(cells),
        "secret": int(cells["secret"].astype(bool).sum()) if len(cells) else 0,
        "row_title": row_title,
        "column_title": column_title,
        "too_many": members if too_many else 0,
        "min_width": heatmap_min_width(drawn) if len(drawn) and not too_many else 0,
        "summary": heatmap_summary(drawn, row_title=str(row_title), column_title=str(column_title)),
        "figure": figure_json(exposure_heatmap(drawn, row_title=str(row_title), column_title=str(column_title)))
        if len(drawn) and not too_many
        else None,
    }


# More members than this on an axis (1 584 fiches métier) make lines no screen can show.
MAX_HEATMAP_MEMBERS = 100
# The code and label of the totals' row and column: Σ sorts after every NAF and ROME code, so
# the totals come last, where a table's totals are read.
TOTAL_CODE = "Σ"
TOTAL_LABELS = {"sector": "Tous secteurs", "occupation": "Tous métiers"}


def _heatmap_totals(filterset, run, reference) -> pd.DataFrame:
    """The cells of every sector together (one per column), of every occupation together
    (one per row) and of both (the corner), for the same territory and size band, and the
    same sector or occupation filter on the other axis; one query."""
    data = filterset.form.cleaned_data
    sector_level, occupation_level = filterset.grid_levels()
    base = GridCell.objects.filter(run_id=run.pk, size_band=data.get("size_band") or "all")
    base = filterset.filter_territory(base, "territory", data.get("territory") or "all")
    by_column = base.filter(sector_level="all", occupation_level=occupation_level)
    if data.get("occupation"):
        by_column = filterset.filter_occupation(by_column, "occupation", data["occupation"])
    by_row = base.filter(occupation_level="all", sector_level=sector_level)
    if data.get("sector"):
        by_row = filterset.filter_sector(by_row, "sector", data["sector"])
    corner = base.filter(sector_level="all", occupation_level="all")
    totals = grid_heatmap_frame(by_column | by_row | corner, reference)
    # A roll-up's code is empty: that is how a total's row and column are told apart.
    every_sector, every_occupation = totals["sector_code"] == "", totals["occupation_code"] == ""
    totals.loc[every_sector, ["sector_code", "sector_label"]] = [TOTAL_CODE, TOTAL_LABELS["sector"]]
    totals.loc[every_occupation, ["occupation_code", "occupation_label"]] = [TOTAL_CODE, TOTAL_LABELS["occupation"]]
    return totals


# The name the page-caching tests know the helper by.
_select = select_option


def _sort_headers(sort: str, query: dict) -> list[dict]:
    """Each column's header with the link that sorts by it (ascending first, then reversed)
    and its aria-sort state."""
    headers = []
    for field, label, kind in TABLE_COLUMNS:
        state = "ascending" if sort == field else "descending" if sort == f"-{field}" else None
        next_sort = f"-{field}" if sort == field else field
        headers.append(
            {
                "field": field,
                "label": label,
                "kind": kind,
                "aria_sort": state,
                "url": "?" + urlencode({**query, "sort": next_sort}),
            }
        )
    return headers


class GridResults:
    """What the page shows of a run's filtered cells, each part built on first use: a page
    served from its cached fragments builds none of them."""

    def __init__(self, ref: RunRef, *, params: dict, sort: str, page: str, requested: str):
        self.ref, self.params, self.sort, self.page_number = ref, params, sort, page
        # What a shared link needs: the filters and the run (or lens) shown.
        self.query = {**({"run": ref.pk} if requested else {"lens": ref.lens}), **params}

    @cached_property
    def filterset(self):
        return GridCellFilterSet(self.params, queryset=GridCell.objects.filter(run_id=self.ref.pk))

    @cached_property
    def filters(self) -> list[dict]:
        return filter_fields(self.filterset.form)

    @cached_property
    def territory_level(self) -> str:
        """The level of the territory shown: a version may publish less at some levels."""
        return split_member(self.params.get("territory") or "all")[0]

    @cached_property
    def heatmap(self) -> dict:
        return _heatmap(self.ref, self.params, self.filterset)

    @cached_property
    def page(self):
        return Paginator(grid_cells_ordered(self.filterset.qs, self.sort), PER_PAGE).get_page(self.page_number)

    @cached_property
    def rows(self) -> list[dict]:
        rows = grid_table_rows(self.page.object_list, grid_reference())
        for row in rows:
            row["secret_label"] = secret_reason_label(row["secret_reason"]) if row["secret"] else ""
        return rows

    @cached_property
    def headers(self) -> list[dict]:
        return _sort_headers(self.sort, self.query)

    @cached_property
    def page_query(self) -> str:
        return urlencode({**self.query, **({"sort": self.sort} if self.sort else {})})

    @cached_property
    def download_query(self) -> str:
        return urlencode({"run": self.ref.pk, **self.params, **({"sort": self.sort} if self.sort else {})})

    @cached_property
    def csv_url(self) -> str:
        return f"{reverse('observatory:grid_export_csv')}?{self.download_query}"

    @cached_property
    def xlsx_url(self) -> str:
        return f"{reverse('observatory:grid_export_xlsx')}?{self.download_query}"

    @cached_property
    def ranking_url(self) -> str:
        """The ranking of the fiches of the same edition, territory, sector and size band."""
        shared = ("run", "lens", "territory", "sector", "occupation", "size_band")
        query = {name: value for name, value in self.query.items() if name in shared and value not in ("", "all")}
        return f"{reverse('observatory:ranking')}?{urlencode(query)}"


# What the template reads of GridResults: the form's, then the heatmap's and the table's.
FORM_DATA = ("filterset", "filters")
RESULTS_DATA = (
    "territory_level",
    "heatmap",
    "page",
    "rows",
    "headers",
    "page_query",
    "csv_url",
    "xlsx_url",
    "ranking_url",
)


@analyst_required
def grid_page(request):
    with grid_reference_scope():
        return _grid_page(request)


def _grid_page(request):
    summaries = grid_run_summaries(RUN_CHOICES)
    ref, run = chosen_run(request, summaries)
    choices = SimpleLazyObject(lambda: grid_run_choices(RUN_CHOICES))
    lens = ref.lens if ref else request.GET.get("lens", Lens.DEFAULT)
    context = {
        "run": None,
        "lens": lens if lens in Lens.values else Lens.DEFAULT,
        "lenses": Lens.choices,
        "runs": choices,
        "requested_run": request.GET.get("run", ""),
    }
    if ref is None:
        return render(request, "observatory/grid.html", context)
    context["run"] = run or lazy_run(ref, choices)

    params = grid_page_params(request.GET)
    sort = request.GET.get("sort", "")
    if sort.removeprefix("-") not in GRID_SORT_FIELDS:
        sort = ""
    page = request.GET.get("page", "")
    picker = run_picker_state(summaries)
    keys = fragment_keys(ref, picker=picker, requested=context["requested_run"], params=params, sort=sort, page=page)
    fragments = cached_fragments(keys)
    timeouts = {name: timeout for name, (_fragment, timeout) in FRAGMENTS.items()}
    results = GridResults(ref, params=params, sort=sort, page=page, requested=context["requested_run"])
    if len(fragments) == len(FRAGMENTS):
        # Served from the cache: the data stays unread unless someone asks for it.
        invalid = False
        data = {name: SimpleLazyObject(partial(getattr, results, name)) for name in (*FORM_DATA, *RESULTS_DATA)}
    else:
        invalid = not results.filterset.is_valid()
        data = {name: getattr(results, name) for name in (FORM_DATA if invalid else (*FORM_DATA, *RESULTS_DATA))}
    if invalid:
        # Errors are shown, never stored: a timeout of 0 tells {% cache %} not to keep them.
        fragments, timeouts = {}, dict.fromkeys(FRAGMENTS, 0)
        keys = {name: f"{key}, invalid" for name, key in keys.items()}
    context.update(
        {
            **data,
            "sort": sort,
            "invalid": invalid,
            "fragments": fragments,
            "fragment_keys": keys,
            "fragment_timeouts": timeouts,
        }
    )
    return render(request, "observatory/grid.html", context, status=400 if invalid else 200)


# The route is declared on this module; the download shares the CSV's selection of cells.
grid_export_xlsx = exports.grid_export_xlsx
