"""Reads of the catalogue's curation pages: the queues, an offer or a provider with everything
its page shows, and the import jobs with their progress. Each in a fixed number of queries."""

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet

from skills.models import SkillBlock
from skills.text import accent_insensitive_pattern

from .models import CurationEvent, ImportJob, Provider, Session, TrainingOffer
from .services import TO_REVIEW, _progress_key


def offer_queue(
    *, statuses=TO_REVIEW, provider: Provider | None = None, ai_related: bool | None = None, search: str = ""
) -> QuerySet[TrainingOffer]:
    """The offers a curator works through: oldest change first, so nothing waits forever."""
    offers = TrainingOffer.objects.filter(status__in=list(statuses))
    if provider is not None:
        offers = offers.filter(provider=provider)
    if ai_related is not None:
        offers = offers.filter(ai_related=ai_related)
    if search:
        offers = offers.filter(title__iregex=accent_insensitive_pattern(search))
    return (
        offers.select_related("provider", "certification")
        .annotate(session_count=Count("sessions", distinct=True))
        .only(
            "pk",
            "title",
            "status",
            "ai_related",
            "ai_related_by_curator",
            "updated_at",
            "lheo_number",
            "provider__id",
            "provider__name",
            "provider__status",
            "certification__id",
            "certification__code",
        )
        .order_by("updated_at", "pk")
    )


def provider_queue(*, statuses=TO_REVIEW, search: str = "") -> QuerySet[Provider]:
    providers = Provider.objects.filter(status__in=list(statuses))
    if search:
        providers = providers.filter(
            Q(name__iregex=accent_insensitive_pattern(search)) | Q(siret__startswith=search.strip())
        )
    return (
        providers.select_related("commune")
        .annotate(
            offer_count=Count("offers", distinct=True),
            offers_to_review=Count("offers", filter=Q(offers__status__in=list(TO_REVIEW)), distinct=True),
        )
        .order_by("updated_at", "pk")
    )


def queue_counts() -> dict:
    """How many offers and providers wait for a curator (the sub-tabs' badges), in two queries."""
    return {
        "offers": TrainingOffer.objects.filter(status__in=list(TO_REVIEW)).count(),
        "providers": Provider.objects.filter(status__in=list(TO_REVIEW)).count(),
    }


def offer_for_curation(pk: int) -> TrainingOffer | None:
    """An offer with everything its curation page shows, in a fixed number of queries."""
    return (
        TrainingOffer.objects.select_related("provider", "provider__commune", "certification")
        .prefetch_related(
            Prefetch("sessions", queryset=Session.objects.select_related("commune")),
            Prefetch("skill_blocks", queryset=SkillBlock.objects.select_related("certification").order_by("code")),
            "occupations",
            Prefetch("curation_events", queryset=CurationEvent.objects.select_related("user")),
        )
        .filter(pk=pk)
        .first()
    )


def provider_for_curation(pk: int) -> Provider | None:
    return (
        Provider.objects.select_related("commune", "commune__parent")
        .prefetch_related(Prefetch("curation_events", queryset=CurationEvent.objects.select_related("user")))
        .filter(pk=pk)
        .first()
    )


def provider_offers(provider: Provider) -> QuerySet[TrainingOffer]:
    return provider.offers.select_related("certification").only(
        "pk", "title", "status", "ai_related", "updated_at", "provider_id", "certification__code"
    )


def import_jobs() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("created_by").defer("payload")


def import_job_progress(job_id: int) -> dict | None:
    """What the progress bar polls: the row's state, and the live percentage of a running job."""
    job = ImportJob.objects.filter(pk=job_id).only("pk", "state", "progress").first()
    if job is None:
        return None
    progress = job.progress
    if job.state == ImportJob.State.RUNNING:
        progress = max(progress, cache.get(_progress_key(job.pk)) or 0)
    finished = job.state in (ImportJob.State.DONE, ImportJob.State.FAILED)
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "progress": 100 if job.state == ImportJob.State.DONE else progress,
        "finished": finished,
    }


def import_job_totals(job: ImportJob) -> dict:
    """Created / updated / unchanged / rejected over the job's reports (one per file read)."""
    reports = (job.report or {}).get("reports", [])
    return {key: sum(r.get(key, 0) for r in reports) for key in ("created", "updated", "unchanged", "rejected")}
