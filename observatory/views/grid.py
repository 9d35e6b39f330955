"""The grid page: heatmap sector × occupation of a run's cells, their table and downloads."""

from urllib.parse import urlencode

from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from ..charts.common import figure_json
from ..charts.grid import exposure_heatmap, heatmap_min_width, heatmap_summary, secret_reason_label
from ..filters import COLUMN_LEVELS, ROW_LEVELS, GridCellFilterSet, grid_page_params
from ..models import GridCell, Lens
from ..permissions import analyst_required
from ..selectors import (
    GRID_SORT_FIELDS,
    grid_cells_ordered,
    grid_heatmap_frame,
    grid_reference,
    grid_run_choices,
    grid_table_rows,
)
from . import exports
from .common import requested_run

PER_PAGE = 50
# A run's cells never change once it is ready and the run id is in the key, so a figure only
# ages through the labels of its codes (a nomenclature re-imported): an hour is plenty.
FIGURE_TIMEOUT = 3600
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


def run_or_none(request):
    """The run of `requested_run`, or None when no run of the lens has been computed yet (the
    page then says so); an unknown `?run=` is still a 404."""
    try:
        return requested_run(request)
    except Http404:
        if request.GET.get("run"):
            raise
        return None


def _heatmap(run, params: dict, filterset) -> dict:
    """The heatmap of the filtered cells as JSON with its summary, cached per (run, filters)."""
    key = f"observatory:grid-heatmap:v1:{run.pk}:{urlencode(sorted(params.items()))}"
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


def _options(choices, selected: str):
    """<option>s (and <optgroup>s) of a select. Built here rather than by Django's select
    widget, which renders one template per option: a few hundred options cost most of the
    page's time."""

    def option(value, label):
        value = str(value)
        return format_html(
            '<option value="{}"{}>{}</option>', value, mark_safe(" selected") if value == selected else "", label
        )

    parts = []
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            inner = mark_safe("".join(option(v, lbl) for v, lbl in label))
            parts.append(format_html('<optgroup label="{}">{}</optgroup>', value, inner))
        else:
            parts.append(option(value, label))
    return mark_safe("".join(parts))


def _filter_fields(form) -> list[dict]:
    """The grid page's filters with their options, label and errors."""
    return [
        {
            "name": name,
            "id": f"id_{name}",
            "label": form.fields[name].label,
            "options": _options(form.fields[name].choices, str(form[name].value() or "")),
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


@analyst_required
def grid_page(request):
    run = run_or_none(request)
    lens = run.methodology.lens if run else request.GET.get("lens", Lens.DEFAULT)
    context = {
        "run": run,
        "lens": lens if lens in Lens.values else Lens.DEFAULT,
        "lenses": Lens.choices,
        "runs": grid_run_choices(),
        "requested_run": request.GET.get("run", ""),
    }
    if run is None:
        return render(request, "observatory/grid.html", context)

    params = grid_page_params(request.GET)
    filterset = GridCellFilterSet(params, queryset=GridCell.objects.filter(run=run))
    context["filterset"] = filterset
    context["filters"] = _filter_fields(filterset.form)
    if not filterset.is_valid():
        return render(request, "observatory/grid.html", context, status=400)

    sort = request.GET.get("sort", "")
    if sort.removeprefix("-") not in GRID_SORT_FIELDS:
        sort = ""
    # What a shared link needs: the filters and the run (or lens) shown.
    selection = {"run": run.pk} if context["requested_run"] else {"lens": run.methodology.lens}
    query = {**selection, **params}
    page = Paginator(grid_cells_ordered(filterset.qs, sort), PER_PAGE).get_page(request.GET.get("page"))
    rows = grid_table_rows(page.object_list, grid_reference())
    for row in rows:
        row["secret_label"] = secret_reason_label(row["secret_reason"]) if row["secret"] else ""
    download = urlencode({"run": run.pk, **params, **({"sort": sort} if sort else {})})
    context.update(
        {
            "heatmap": _heatmap(run, params, filterset),
            "page": page,
            "rows": rows,
            "headers": _sort_headers(sort, query),
            "sort": sort,
            "page_query": urlencode({**query, **({"sort": sort} if sort else {})}),
            "csv_url": f"{reverse('observatory:grid_export_csv')}?{download}",
            "xlsx_url": f"{reverse('observatory:grid_export_xlsx')}?{download}",
        }
    )
    return render(request, "observatory/grid.html", context)


# The route is declared on this module; the download shares the CSV's selection of cells.
grid_export_xlsx = exports.grid_export_xlsx
