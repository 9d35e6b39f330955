"""The curators' pages of the training catalogue: the queue of offers and providers waiting
for a decision, each one's curation page with its history, and the imports of LHEO and RNCP
files. Curators and superusers only (companies.views_curation.curator_required); every
decision goes through trainings/services.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from companies.models import CompanyMembership
from companies.permissions import curator_required
from skills.models import SkillBlock

from . import selectors_curation, services
from .forms import AiFlagForm, BulkDecisionForm, DecisionForm, ImportUploadForm, ProviderFilterForm, QueueFilterForm
from .models import CurationStatus, ImportJob, TrainingOffer
from .tagging import matched_expression

PAGE_SIZE = 25
JOBS_SHOWN = 20
PROVIDER_OFFERS_SHOWN = 50


def _common(tab: str) -> dict:
    """What every catalogue page shows around its content: the tabs and their badges."""
    return {
        "tab": "catalogue",
        "subtab": tab,
        "counts": selectors_curation.queue_counts(),
        "pending_count": CompanyMembership.objects.filter(status=CompanyMembership.Status.PENDING).count(),
    }


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- The queues ----------------------------------------------------------------------------


@curator_required
def queue(request):
    """Offers waiting for a decision (GET), and a decision on the ticked ones (POST)."""
    filters = QueueFilterForm(request.GET or None)
    bulk = BulkDecisionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if bulk.is_valid():
            try:
                outcome = services.offers_decide_bulk(
                    offer_ids=bulk.cleaned_data["offers"],
                    user=request.user,
                    action=bulk.cleaned_data["action"],
                    reason=bulk.cleaned_data["reason"],
                )
            except ValidationError as error:
                bulk.add_error(None, error)
            else:
                _bulk_messages(request, outcome, bulk.cleaned_data["action"])
                return redirect(request.get_full_path())
        status = 400
    page = Paginator(selectors_curation.offer_queue(**filters.queue_filters()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ticked = set(bulk.cleaned_data.get("offers", [])) if bulk.is_bound and hasattr(bulk, "cleaned_data") else set()
    return render(
        request,
        "trainings/curation/queue.html",
        {
            **_common("offers"),
            "filters": filters,
            "bulk": bulk,
            "ticked": ticked,
            "page": page,
            "query": _query_without_page(request),
            "filtered": filters.filtered,
        },
        status=status,
    )


def _bulk_messages(request, outcome: services.BulkOutcome, action: str) -> None:
    label = services.Decision(action).label.lower()
    if outcome.done_count:
        messages.success(
            request,
            _("%(count)s offre(s) traitée(s) : « %(action)s ».") % {"count": outcome.done_count, "action": label},
        )
    if outcome.skipped_count:
        details = " ; ".join(skipped.why for skipped in outcome.skipped[:10])
        more = _(" (et %(n)s autre(s))") % {"n": outcome.skipped_count - 10} if outcome.skipped_count > 10 else ""
        messages.warning(
            request,
            _("%(count)s offre(s) laissée(s) telle(s) quelle(s) : %(details)s%(more)s.")
            % {"count": outcome.skipped_count, "details": details, "more": more},
        )


@curator_required
def providers(request):
    filters = ProviderFilterForm(request.GET or None)
    search = filters.cleaned_data.get("q", "") if filters.is_valid() else ""
    page = Paginator(selectors_curation.provider_queue(search=search), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "trainings/curation/providers.html",
        {
            **_common("providers"),
            "filters": filters,
            "page": page,
            "query": _query_without_page(request),
            "filtered": bool(search),
        },
    )


# --- One offer, one provider ---------------------------------------------------------------


@curator_required
def offer(request, pk):
    entry = selectors_curation.offer_for_curation(pk)
    if entry is None:
        raise Http404(_("Offre inconnue."))
    form = DecisionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.offer_decide(offer=entry, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _decided_message(entry.title, form.cleaned_data["action"]))
            return redirect("trainings:curation_offer", pk=entry.pk)
    skill_blocks = list(entry.skill_blocks.all())
    for block in skill_blocks:
        block.rule_match = matched_expression(block.label)
    return render(
        request,
        "trainings/curation/offer.html",
        {
            **_common("offers"),
            "offer": entry,
            "form": form,
            "actions": _actions_for(entry.status),
            "rule_match": matched_expression(entry.title, entry.objectives, entry.content),
            "skill_blocks": skill_blocks,
            "events": entry.curation_events.all(),
        },
        status=400 if form.is_bound else 200,
    )


@curator_required
def provider(request, pk):
    entry = selectors_curation.provider_for_curation(pk)
    if entry is None:
        raise Http404(_("Organisme inconnu."))
    form = DecisionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.provider_decide(provider=entry, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _decided_message(entry.name, form.cleaned_data["action"]))
            return redirect("trainings:curation_provider", pk=entry.pk)
    offers = selectors_curation.provider_offers(entry)
    return render(
        request,
        "trainings/curation/provider.html",
        {
            **_common("providers"),
            "provider": entry,
            "form": form,
            "actions": _actions_for(entry.status),
            "offers": offers[:PROVIDER_OFFERS_SHOWN],
            "offer_count": offers.count(),
            "published_count": offers.filter(status=CurationStatus.PUBLISHED).count(),
            "events": entry.curation_events.all(),
        },
        status=400 if form.is_bound else 200,
    )


def _actions_for(status: str) -> list[dict]:
    """The decisions the page offers for an entry in `status` (the table of services.py)."""
    return [
        {"value": action.value, "label": action.label, "needs_reason": action in services.REASON_REQUIRED}
        for action, transition in services.TRANSITIONS.items()
        if status in transition.sources
    ]


def _decided_message(name: str, action: str) -> str:
    target = CurationStatus(services.TRANSITIONS[services.Decision(action)].target).label.lower()
    return _("« %(name)s » : nouveau statut « %(status)s ».") % {"name": name, "status": target}


@curator_required
@require_POST
def offer_ai_flag(request, pk):
    entry = get_object_or_404(TrainingOffer.objects.only("pk", "title"), pk=pk)
    form = AiFlagForm(request.POST)
    if form.is_valid():
        services.offer_set_ai_flag(offer=entry, user=request.user, ai_related=form.cleaned_data["ai_related"])
        messages.success(request, _("Le lien avec l'IA de l'offre est fixé : la règle ne le changera plus."))
    else:
        messages.error(request, _("Choisissez « en lien avec l'IA » ou « sans lien avec l'IA »."))
    return redirect("trainings:curation_offer", pk=entry.pk)


@curator_required
@require_POST
def skill_block_ai_flag(request, pk):
    block = get_object_or_404(SkillBlock.objects.only("pk", "code"), pk=pk)
    form = AiFlagForm(request.POST)
    if form.is_valid():
        services.skill_block_set_ai_flag(
            skill_block=block, user=request.user, ai_related=form.cleaned_data["ai_related"]
        )
        messages.success(
            request,
            _("Le lien avec l'IA du bloc %(code)s est fixé : la règle ne le changera plus.") % {"code": block.code},
        )
    else:
        messages.error(request, _("Choisissez « en lien avec l'IA » ou « sans lien avec l'IA »."))
    return redirect(_safe_next(request, reverse("trainings:curation_queue")))


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


# --- Imports -------------------------------------------------------------------------------


@curator_required
def imports(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = services.import_job_create(
            kind=form.cleaned_data["kind"],
            filename=form.cleaned_data["file"].name,
            payload=form.payload(),
            user=request.user,
        )
        return redirect("trainings:curation_import_job", pk=job.pk)
    jobs = list(selectors_curation.import_jobs()[:JOBS_SHOWN])
    for job in jobs:
        job.totals = selectors_curation.import_job_totals(job)
    return render(
        request,
        "trainings/curation/imports.html",
        {
            **_common("imports"),
            "form": form,
            "jobs": jobs,
        },
        status=400 if form.is_bound else 200,
    )


@curator_required
def import_job(request, pk):
    job = get_object_or_404(selectors_curation.import_jobs(), pk=pk)
    return render(
        request,
        "trainings/curation/import_job.html",
        {
            **_common("imports"),
            "job": job,
            "progress": selectors_curation.import_job_progress(job.pk),
            "totals": selectors_curation.import_job_totals(job),
            "reports": (job.report or {}).get("reports", []),
            "errors": (job.report or {}).get("errors", []),
            "finished": job.state in (ImportJob.State.DONE, ImportJob.State.FAILED),
        },
    )


@never_cache
@curator_required
@require_GET
def import_job_progress(request, pk):
    """What the progress bar polls every second."""
    progress = selectors_curation.import_job_progress(pk)
    if progress is None:
        raise Http404(_("Import inconnu."))
    return JsonResponse(progress, json_dumps_params={"ensure_ascii": False})
