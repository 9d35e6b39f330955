"""Helpers shared by the observatory's views."""

from collections import namedtuple
from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.functional import SimpleLazyObject

from ..models import GridRun, Lens


def requested_run(request) -> GridRun:
    """`?run=ID` for a given edition (a published run), else the current edition of `?lens=`
    (default lens)."""
    run_id = request.GET.get("run")
    if run_id:
        if not run_id.isdigit():
            raise Http404("Identifiant de calcul invalide.")
        return get_object_or_404(GridRun.objects.published().select_related("methodology", "index"), pk=int(run_id))
    lens = request.GET.get("lens", Lens.DEFAULT)
    if lens not in Lens.values:
        lens = Lens.DEFAULT
    run = GridRun.objects.current(lens)
    if run is None:
        raise Http404("Aucune grille n'a encore été calculée.")
    return run


def run_or_none(request) -> GridRun | None:
    """The run of `requested_run`, or None when no run of the lens has been computed yet (the
    page then says so); an unknown `?run=` is still a 404."""
    try:
        return requested_run(request)
    except Http404:
        if request.GET.get("run"):
            raise
        return None


# The run a page shows, as `grid_run_summaries` gives it: enough to choose its cache keys.
RunRef = namedtuple("RunRef", ["pk", "methodology_id", "lens", "index_id"])


def chosen_run(request, summaries: list[tuple]) -> tuple[RunRef | None, GridRun | None]:
    """The run `run_or_none` gives, found among `summaries` (`grid_run_summaries`: the newest
    finished runs) without a query. One they do not hold (an older `?run=`, a current run
    older than them) is loaded by `run_or_none`, and a wrong `?run=` is still a 404. Returns
    the run's reference and its instance when it was loaded; (None, None) when the lens has
    no run yet."""
    run_id = request.GET.get("run")
    if run_id and run_id.isdigit():
        for pk, methodology_id, lens, index_id, _is_current in summaries:
            if pk == int(run_id):
                return RunRef(pk, methodology_id, lens, index_id), None
    elif not run_id:
        lens = request.GET.get("lens", Lens.DEFAULT)
        lens = lens if lens in Lens.values else Lens.DEFAULT
        # As GridRun.objects.current(lens): the current run of the lens, on the tasks.
        for pk, methodology_id, run_lens, index_id, is_current in summaries:
            if is_current and run_lens == lens and index_id is None:
                return RunRef(pk, methodology_id, run_lens, index_id), None
    run = run_or_none(request)
    if run is None:
        return None, None
    return RunRef(run.pk, run.methodology_id, run.methodology.lens, run.index_id), run


def lazy_run(ref: RunRef, candidates=()) -> GridRun:
    """The run's instance, read only when something uses it (a fragment being rendered):
    taken from `candidates` (runs already read, with their methodology and index) when they
    hold it, else in one query."""

    def load():
        for run in candidates:
            if run.pk == ref.pk:
                return run
        return GridRun.objects.select_related("methodology", "index").get(pk=ref.pk)

    return SimpleLazyObject(load)


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
