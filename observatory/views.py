from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render

from . import exports
from .models import CATEGORIES, GridRun, Lens, Methodology
from .permissions import analyst_required
from .selectors import reference_counts


def home(request):
    """What the observatory holds: the loaded nomenclatures and the field data."""
    return render(request, "home.html", {"counts": reference_counts()})


def _requested_run(request) -> GridRun:
    """`?run=ID` for a given run, else the current run of the default lens."""
    run_id = request.GET.get("run")
    if run_id:
        if not run_id.isdigit():
            raise Http404("Identifiant de calcul invalide.")
        return get_object_or_404(GridRun, pk=int(run_id), status=GridRun.Status.READY)
    run = GridRun.objects.current(request.GET.get("lens", Lens.DEFAULT))
    if run is None:
        raise Http404("Aucune grille n'a encore été calculée.")
    return run


@analyst_required
def methodology_json(request):
    """The current version of the method (default lens, or `?lens=`), as JSON."""
    lens = request.GET.get("lens", Lens.DEFAULT)
    if lens not in Lens.values:
        raise Http404("Lecture inconnue.")
    methodology = Methodology.objects.current(lens)
    if methodology is None:
        raise Http404("Aucune version de la méthode.")
    return JsonResponse(
        {
            "lens": methodology.lens,
            "lens_label": str(methodology.get_lens_display()),
            "version": methodology.version,
            "susceptibility": {c: getattr(methodology, f"alpha_{c}") for c in CATEGORIES},
            "exposure_thresholds": {"high": methodology.high_threshold, "medium": methodology.medium_threshold},
            "prior_strength": methodology.prior_strength,
            "secrecy": {
                "min_companies": methodology.secrecy_min_companies,
                "dominance": methodology.secrecy_dominance,
            },
            "rti_epsilon": 0.01,
            "created_at": methodology.created_at.isoformat(),
            "notes": methodology.notes,
        },
        json_dumps_params={"ensure_ascii": False},
    )


@analyst_required
def grid_export_csv(request):
    return exports.grid_csv_response(_requested_run(request))


@analyst_required
def occupations_export_csv(request):
    return exports.occupations_csv_response(_requested_run(request))
