"""Runs pages: the history of grid computations with their live progress, the launch of a
run by an analyst, and the comparison of two runs (or two exposure sources) cell by cell."""

import logging

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .. import published, selectors, services
from ..charts.common import figure_json, format_number, secret_reason_text
from ..charts.runs import difference_heatmap, signed
from ..forms import OCCUPATION_LEVEL_CHOICES, SECTOR_LEVEL_CHOICES, RunCompareForm, RunLaunchForm
from ..models import GridRun, Lens
from ..permissions import analyst_required

logger = logging.getLogger(__name__)

HISTORY_PER_PAGE = 20
DIFFERENCES_PER_PAGE = 25
STEP_LABELS = {
    "load": _("Lecture des données"),
    "scores": _("Scores des métiers"),
    "cube": _("Agrégation du cube"),
    "secrecy": _("Secret statistique"),
    "write": _("Enregistrement"),
}
LENS_ORDER = {lens: position for position, lens in enumerate(Lens.values)}
# Sort keys of the table of differences: column, ascending. Secret rows carry no value and
# always come last, ordered by their codes only.
SORTS = {
    "ecart": ("abs_difference", False),
    "hausse": ("difference", False),
    "baisse": ("difference", True),
    "secteur": ("sector_code", True),
    "metier": ("occupation_code", True),
    "exposition_a": ("exposure_a", False),
    "exposition_b": ("exposure_b", False),
    "salaries": ("employees_b", False),
}


def _duration_text(seconds) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{format_number(seconds, 1)} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _decorate(run: GridRun) -> GridRun:
    """What the history row shows, computed once here rather than in the template."""
    run.trigger_label = run.get_trigger_display()
    run.duration_text = _duration_text(run.duration)
    run.timing_rows = [
        (STEP_LABELS.get(step, step), _duration_text(seconds)) for step, seconds in (run.timings or {}).items()
    ]
    started = timezone.localtime(run.started_at) if run.started_at else None
    finished = timezone.localtime(run.finished_at) if run.finished_at else None
    run.started_text = started.strftime("%d/%m/%Y %H:%M:%S") if started else "—"
    # The finishing date only when it is not the starting one, to keep the column short.
    if finished and started and finished.date() == started.date():
        run.finished_text = finished.strftime("%H:%M:%S")
    else:
        run.finished_text = finished.strftime("%d/%m/%Y %H:%M:%S") if finished else "—"
    run.in_progress = run.status in (GridRun.Status.PENDING, GridRun.Status.RUNNING)
    return run


@analyst_required
def run_list(request):
    """The history of runs (paginated), the runs in force, and the form that launches one."""
    page = Paginator(selectors.grid_runs_history(), HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    for run in page:
        _decorate(run)
    context = {
        "page": page,
        "current_runs": sorted(
            selectors.current_grid_runs(), key=lambda run: (run.index_id is not None, LENS_ORDER[run.methodology.lens])
        ),
        "form": RunLaunchForm(indices=selectors.exposure_indices()),
    }
    return render(request, "observatory/run_list.html", context)


@analyst_required
@require_POST
def run_launch(request):
    """Launch a run of a lens on a source, unless one is already waiting or computing."""
    form = RunLaunchForm(request.POST, indices=selectors.exposure_indices())
    if not form.is_valid():
        messages.error(request, _("Choisissez une lecture et une source d'exposition valides."))
        return redirect("observatory:runs")
    lens, index = form.cleaned_data["lens"], form.cleaned_data["index"]
    source = index.name if index else _("les tâches")
    lens_label = Lens(lens).label
    try:
        run = services.grid_run_launch(lens=lens, index=index, user=request.user)
    except services.RunAlreadyActive as refused:
        messages.warning(
            request,
            _(
                "Un calcul « %(lens)s » sur %(source)s est déjà %(status)s (n°%(id)s) : "
                "attendez qu'il se termine avant d'en lancer un autre."
            )
            % {
                "lens": lens_label,
                "source": source,
                "status": refused.active.get_status_display().lower(),
                "id": refused.active.pk,
            },
        )
        return redirect("observatory:runs")
    except ValueError:
        messages.error(request, _("Aucune version de la méthode n'existe pour cette lecture."))
        return redirect("observatory:runs")
    run.refresh_from_db(fields=["status", "stats", "error"])
    if run.status == GridRun.Status.READY:
        messages.success(
            request,
            _("Calcul n°%(id)s « %(lens)s » sur %(source)s terminé : %(cells)s cellules.")
            % {"id": run.pk, "lens": lens_label, "source": source, "cells": format_number(run.stats.get("cells", 0))},
        )
    elif run.status == GridRun.Status.FAILED:
        messages.error(request, _("Le calcul n°%(id)s a échoué : %(error)s") % {"id": run.pk, "error": run.error})
    else:
        messages.success(
            request,
            _("Calcul n°%(id)s « %(lens)s » sur %(source)s lancé : son avancement s'affiche ci-dessous.")
            % {"id": run.pk, "lens": lens_label, "source": source},
        )
    return redirect("observatory:runs")


@analyst_required
@require_POST
def run_publish(request, run_id):
    """Publish an internal run as its lens's edition, with the other lenses of its batch."""
    run = get_object_or_404(GridRun.objects.select_related("methodology"), pk=run_id)
    try:
        services.grid_run_publish(run=run, user=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        if run.batch:
            messages.success(
                request,
                _(
                    "Calcul n°%(id)s publié avec les autres lectures de son lot : "
                    "c'est désormais l'édition en vigueur de chaque lecture."
                )
                % {"id": run.pk},
            )
        else:
            messages.success(
                request, _("Calcul n°%(id)s publié : c'est désormais l'édition en vigueur.") % {"id": run.pk}
            )
    return redirect("observatory:runs")


@never_cache
@analyst_required
def run_progress(request, run_id):
    """What the progress bar polls every two seconds."""
    progress = selectors.grid_run_progress(run_id)
    if progress is None:
        raise Http404("Calcul inconnu.")
    return JsonResponse(progress, json_dumps_params={"ensure_ascii": False})


def _default_pair(runs: list) -> tuple[int | None, int | None]:
    """Without a choice: the current default-lens grid against the current generative-AI
    one, the two readings the method contrasts; else the two newest finished runs."""
    current = {(run.methodology.lens, run.index_id): run.pk for run in runs if run.is_current}
    a = current.get((Lens.DEFAULT, None))
    b = current.get((Lens.GENAI, None))
    if a and b:
        return a, b
    if len(runs) >= 2:
        return runs[1].pk, runs[0].pk
    return None, None


def _comparison(run_a, run_b, rows: str, cols: str) -> dict:
    """The comparison's frame, summary and figure, from the one cache per (runs, levels):
    sorting or paging the table reuses the same entry."""
    return published.cached(
        "run-comparison", run_a, run_b, rows=rows, cols=cols, build=lambda: _compare(run_a, run_b, rows, cols)
    )


def _compare(run_a, run_b, rows: str, cols: str) -> dict:
    compared = selectors.run_comparison_frame(run_a, run_b, sector_level=rows, occupation_level=cols)
    # The summary covers the whole cubes, whatever the levels shown: its own entry.
    summary = published.cached(
        "run-comparison-summary", run_a, run_b, build=lambda: selectors.run_comparison_summary(run_a, run_b)
    )
    figure = difference_heatmap(compared)
    public = compared[(~compared["secret"]) & compared["difference"].notna()]
    widest = public.loc[public["abs_difference"].idxmax()] if len(public) else None
    result = {
        "frame": compared,
        "summary": summary,
        "figure": figure_json(figure),
        "figure_summary": {
            "sectors": compared["sector_code"].nunique(),
            "occupations": compared["occupation_code"].nunique(),
            "cells": len(compared),
            "secret": int(compared["secret"].sum()),
            "widest": None
            if widest is None
            else {
                "sector": widest["sector_label"] or widest["sector_code"],
                "occupation": widest["occupation_label"] or widest["occupation_code"],
                "difference": signed(widest["difference"]),
            },
        },
    }
    return result


def _table_rows(frame, sort: str) -> list[dict]:
    column, ascending = SORTS[sort]
    ordered = frame.sort_values(
        [column, "sector_code", "occupation_code"], ascending=[ascending, True, True], na_position="last"
    )
    rows = []
    for row in ordered.itertuples(index=False):
        rows.append(
            {
                "sector_code": row.sector_code,
                "sector_label": row.sector_label,
                "occupation_code": row.occupation_code,
                "occupation_label": row.occupation_label,
                "secret": bool(row.secret),
                "secret_text": secret_reason_text(row.secret_reason, default="") if row.secret else "",
                "presence": row.presence,
                # Masked already (compare_cells): NaN is "not shown".
                "employees_a": None if row.employees_a != row.employees_a else row.employees_a,
                "employees_b": None if row.employees_b != row.employees_b else row.employees_b,
                "exposure_a": None if row.exposure_a != row.exposure_a else row.exposure_a,
                "exposure_b": None if row.exposure_b != row.exposure_b else row.exposure_b,
                "difference": signed(row.difference),
                "direction": "up" if row.difference > 0 else "down" if row.difference < 0 else "",
            }
        )
    return rows


@analyst_required
def run_compare(request):
    """Two finished runs (two lenses, two exposure sources or two dates) cell by cell."""
    params = request.GET.copy()
    requested = [int(params[name]) for name in ("a", "b") if params.get(name, "").isdigit()]
    runs = selectors.ready_grid_runs(include=requested)
    if "a" not in params and "b" not in params:
        a, b = _default_pair(runs)
        if a and b:
            params["a"], params["b"] = str(a), str(b)
    params.setdefault("rows", "section")
    params.setdefault("cols", "grand_domaine")
    form = RunCompareForm(params, runs=runs)
    context = {"form": form, "runs_available": len(runs)}
    if params.get("a") and params.get("b") and form.is_valid():
        run_a, run_b = form.runs[form.cleaned_data["a"]], form.runs[form.cleaned_data["b"]]
        rows, cols = form.cleaned_data["rows"], form.cleaned_data["cols"]
        sort = form.cleaned_data["tri"] or "ecart"
        comparison = _comparison(run_a, run_b, rows, cols)
        page = Paginator(_table_rows(comparison["frame"], sort), DIFFERENCES_PER_PAGE).get_page(params.get("page"))
        context.update(
            {
                "run_a": run_a,
                "run_b": run_b,
                "rows_label": dict(SECTOR_LEVEL_CHOICES)[rows],
                "cols_label": dict(OCCUPATION_LEVEL_CHOICES)[cols],
                "summary": comparison["summary"],
                "fig_json": comparison["figure"],
                "figure_summary": comparison["figure_summary"],
                "page": page,
                "sort": sort,
                "sort_headers": _sort_headers(sort),
                "grid_url": reverse("observatory:grid"),
            }
        )
    return render(request, "observatory/run_compare.html", context)


def _sort_headers(sort: str) -> dict:
    """aria-sort of each sortable column of the table of differences."""
    directions = {"secteur": "ascending", "metier": "ascending", "baisse": "ascending"}
    column_of = {"hausse": "ecart", "baisse": "ecart"}
    current = column_of.get(sort, sort)
    direction = directions.get(sort, "descending")
    return {current: direction, "arrow": "▲" if direction == "ascending" else "▼", "column": current}
