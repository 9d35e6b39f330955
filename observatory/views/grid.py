"""The grid page: heatmap sector × occupation of a run's cells, their table and downloads.

The page is read again and again, by every analyst, for a handful of views of runs whose
cells never change once ready. So its template caches three fragments (`{% cache %}`): the
run's line with the filter form, the heatmap and the table. Their keys carry the run id
and its methodology (a new run gets new keys), every filter, the sort and the page, and the
state of the run picker; never anything of the user, because these pages are reserved to
analysts and show them all the same thing (the name in the header is outside the
fragments). The view fetches the three fragments in one round trip: when all are cached it
reads no cell and validates nothing (a cached fragment was valid when it was stored), and
the data it would have shown is offered to the template lazily, read only if used.
"""

from functools import cached_property, partial
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from ..charts.common import figure_json
from ..charts.grid import exposure_heatmap, heatmap_min_width, heatmap_summary, secret_reason_label
from ..filters import COLUMN_LEVELS, ROW_LEVELS, GridCellFilterSet, grid_page_params
from ..models import GridCell, Lens
from ..permissions import analyst_required
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
from .common import RunRef, chosen_run, lazy_run, run_or_none  # noqa: F401  (run_or_none: overview)

PER_PAGE = 50
# A run's cells never change once it is ready and the run id is in the key, so a figure only
# ages through the labels of its codes (a nomenclature re-imported): an hour is plenty.
FIGURE_TIMEOUT = 3600
# The template's fragments. The form and the table carry labels of the nomenclatures, so they
# follow a re-imported one as quickly as the cached reference does; the heatmap keeps the
# figure's hour.
FRAGMENTS = {
    "form": ("observatory-grid-form", GRID_REFERENCE_TIMEOUT),
    "heatmap": ("observatory-grid-heatmap", FIGURE_TIMEOUT),
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
    """The heatmap of the filtered cells as JSON with its summary, cached per (run, filters)."""
    key = f"observatory:grid-heatmap:v2:{run.pk}:{run.methodology_id}:{urlencode(sorted(params.items()))}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    sector_level, occupation_level = filterset.grid_levels()
    row_title, column_title = ROW_TITLES[sector_level], COLUMN_TITLES[occupation_level]
    cells = grid_heatmap_frame(filterset.qs, grid_reference())
    heatmap = {
        "cells": len(cells),
        "secret": int(cells["secret"].astype(bool).sum()) if len(cells) else 0,
        "row_title": row_title,
        "column_title": column_title,
        "min_width": heatmap_min_width(cells) if len(cells) else 0,
        "summary": heatmap_summary(cells, row_title=str(row_title), column_title=str(column_title)),
        "figure": figure_json(exposure_heatmap(cells, row_title=str(row_title), column_title=str(column_title)))
        if len(cells)
        else None,
    }
    cache.set(key, heatmap, FIGURE_TIMEOUT)
    return heatmap


FILTER_FIELDS = ("territory", "sector", "occupation", "size_band", "rows", "columns")
OPTIONS_CACHE_KEY = "observatory:grid-filter-options:v1"


def _options(choices) -> str:
    """<option>s (and <optgroup>s) of a select, none selected. Built here rather than by
    Django's select widget, which renders one template per option: a few hundred options
    cost most of the page's time."""

    def option(value, label):
        return format_html('<option value="{}">{}</option>', str(value), label)

    parts = []
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            inner = mark_safe("".join(option(v, lbl) for v, lbl in label))
            parts.append(format_html('<optgroup label="{}">{}</optgroup>', value, inner))
        else:
            parts.append(option(value, label))
    return mark_safe("".join(parts))


def _filter_options(form) -> dict[str, str]:
    """The <option>s of every filter, none selected: they depend only on the nomenclatures,
    so they are rendered once and kept as long as the cached reference data."""
    key = f"{OPTIONS_CACHE_KEY}:{get_language()}"
    options = cache.get(key)
    if options is None:
        options = {name: _options(form.fields[name].choices) for name in FILTER_FIELDS}
        cache.set(key, options, GRID_REFERENCE_TIMEOUT)
    return options


def _select(options: str, selected: str) -> str:
    """`options` with the option(s) of value `selected` marked selected. Labels are escaped,
    so the opening tag of an option cannot occur inside one."""
    tag = f'<option value="{escape(selected)}"'
    return mark_safe(options.replace(f"{tag}>", f"{tag} selected>"))


def _filter_fields(form) -> list[dict]:
    """The grid page's filters with their options, label and errors."""
    options = _filter_options(form)
    return [
        {
            "name": name,
            "id": f"id_{name}",
            "label": form.fields[name].label,
            "options": _select(options[name], str(form[name].value() or "")),
            "errors": form.errors.get(name, []),
        }
        for name in FILTER_FIELDS
    ]


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
        return _filter_fields(self.filterset.form)

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


# What the template reads of GridResults: the form's, then the heatmap's and the table's.
FORM_DATA = ("filterset", "filters")
RESULTS_DATA = ("heatmap", "page", "rows", "headers", "page_query", "csv_url", "xlsx_url")


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
