from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from skills.classification.lexicon import VERB_WEIGHT
from skills.models import TaskCategory
from skills.profiles import DOMAIN_DEFAULTS, IMPORTED, ROME_ITEMS
from skills.selectors import ITEM_STATUS_LABELS, item_classification_counts, reference_profiles_frame

from .. import services
from ..analysis.exposure import EXPOSURE_CLASSES, exposure, exposure_class
from ..charts.common import figure_json
from ..charts.method import exposure_histogram, exposure_histogram_summary
from ..forms import MethodologyVersionForm
from ..models import CATEGORIES, Lens, Methodology
from ..permissions import analyst_required

# The quantiles the class thresholds were set at (observatory/migrations/0007): « forte » is
# the most exposed tenth of the fiches, « changement significatif » the next quarter.
HIGH_QUANTILE, MEDIUM_QUANTILE = 0.90, 0.65


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
                "epci_detail": methodology.epci_detail,
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
        "verb_weight": VERB_WEIGHT,
        "classification": _classification_rows(),
    }
    if current is not None:
        context.update(_lens_distributions(lens, current))
    return render(request, "observatory/methodology.html", context)


def _classification_rows() -> list[dict]:
    """The savoir-faire of the ROME by how they are classified, for the table of the page."""
    counts = item_classification_counts()
    return [
        {"status": status, "label": ITEM_STATUS_LABELS[status], **row}
        for status, row in zip(counts.index, counts.to_dict("records"), strict=True)
    ]


def _lens_distributions(selected_lens: str, selected: Methodology) -> dict:
    """For the current version of every lens, the exposure of every fiche from its reference
    profile (no company data: what the classes mean on the ROME itself), its histogram, the
    share of fiches in each class and the quantiles the thresholds were set at.

    Lenses whose profile parameters agree share one computation of the profiles."""
    profiles = {}
    distributions = []
    for lens, lens_label in Lens.choices:
        methodology = selected if lens == selected_lens else Methodology.objects.current(lens)
        if methodology is None:
            continue
        params = methodology.profile_params()
        key = tuple(sorted(params.items()))
        if key not in profiles:
            profiles[key] = reference_profiles_frame(params)
        frame = profiles[key]
        if frame.empty:
            continue
        values = exposure(frame, methodology.susceptibility)
        high, medium = methodology.high_threshold, methodology.medium_threshold
        classes = exposure_class(values, high, medium)
        counts = classes.value_counts()
        shares = {name: float(counts.get(name, 0)) / len(values) for name in EXPOSURE_CLASSES}
        distributions.append(
            {
                "lens": lens,
                "lens_label": lens_label,
                "methodology": methodology,
                "fiches": len(values),
                "counts": {name: int(counts.get(name, 0)) for name in EXPOSURE_CLASSES},
                "shares": shares,
                "high_quantile": float(values.quantile(HIGH_QUANTILE)),
                "medium_quantile": float(values.quantile(MEDIUM_QUANTILE)),
                "figure_id": f"histogram-{lens}",
                "figure": figure_json(exposure_histogram(values, classes, high=high, medium=medium)),
                "summary": exposure_histogram_summary(lens_label, shares, high=high, medium=medium),
            }
        )
    selected_frame = profiles.get(tuple(sorted(selected.profile_params().items())))
    sources = selected_frame["source"].value_counts() if selected_frame is not None else {}
    return {
        "distributions": distributions,
        "profile_sources": {
            "rome_items": int(sources.get(ROME_ITEMS, 0)),
            "imported": int(sources.get(IMPORTED, 0)),
            "domain_defaults": int(sources.get(DOMAIN_DEFAULTS, 0)),
        },
    }
