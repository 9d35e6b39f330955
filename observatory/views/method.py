from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from skills.models import TaskCategory

from .. import services
from ..forms import MethodologyVersionForm
from ..models import CATEGORIES, Lens, Methodology
from ..permissions import analyst_required


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
def methodology_page(request):
    """The method, rendered from the current version of each lens, and the form that
    creates the next version."""
    lens = request.GET.get("lens", Lens.DEFAULT)
    if lens not in Lens.values:
        lens = Lens.DEFAULT
    current = Methodology.objects.current(lens)
    if request.method == "POST":
        form = MethodologyVersionForm(request.POST, instance=Methodology(lens=lens))
        if form.is_valid():
            params = {name: form.cleaned_data[name] for name in form.Meta.fields if name != "notes"}
            methodology = services.methodology_create_version(
                lens=lens, user=request.user, notes=form.cleaned_data["notes"], **params
            )
            messages.success(
                request,
                f"Version {methodology.version} de la lecture « {methodology.get_lens_display()} » créée. "
                "Lancez un calcul pour l'appliquer.",
            )
            return redirect(f"{reverse('observatory:methodology')}?lens={lens}")
    else:
        initial = {name: getattr(current, name) for name in MethodologyVersionForm.Meta.fields} if current else {}
        initial["notes"] = ""
        form = MethodologyVersionForm(initial=initial)
    context = {
        "lens": lens,
        "lenses": Lens.choices,
        "methodology": current,
        "versions": Methodology.objects.filter(lens=lens).select_related("created_by")[:20],
        "categories": TaskCategory.objects.all(),
        "form": form,
    }
    return render(request, "observatory/methodology.html", context)
