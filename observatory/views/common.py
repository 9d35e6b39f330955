"""Helpers shared by the observatory's views."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from ..models import GridRun, Lens


def requested_run(request) -> GridRun:
    """`?run=ID` for a given finished run, else the current run of `?lens=` (default lens)."""
    run_id = request.GET.get("run")
    if run_id:
        if not run_id.isdigit():
            raise Http404("Identifiant de calcul invalide.")
        return get_object_or_404(
            GridRun.objects.select_related("methodology", "index"), pk=int(run_id), status=GridRun.Status.READY
        )
    lens = request.GET.get("lens", Lens.DEFAULT)
    if lens not in Lens.values:
        lens = Lens.DEFAULT
    run = GridRun.objects.current(lens)
    if run is None:
        raise Http404("Aucune grille n'a encore été calculée.")
    return run
