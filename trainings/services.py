"""Curation of the training catalogue: the one place where a provider's or an offer's status
changes, where a curator fixes the AI-related flag, and where import jobs are created and run.

Writes are services (`<entity>_<action>(*, …)`) inside `transaction.atomic`, each row locked
with `select_for_update` before it is read, so that two curators deciding at once give one
decision and one history row. Reads (the queue, a page's history, a job's progress) are the
selectors at the end of the module.

The transitions a curator may make (the same for offers and providers):

    action            from                                   to
    approve           submitted, draft                       published
    reject            submitted, draft                       rejected    (reason required)
    request_changes   submitted, published, rejected,        draft       (reason required)
                      archived
    archive           submitted, draft, published, rejected  archived

`draft` is « waiting for changes »: the entry is back with its provider (or was imported as
a draft) and a curator may still approve or reject it. Asking for changes is also the way to
reopen a rejected or archived entry. Anything else (approving a published offer, rejecting a
published one…) is refused with a ValidationError in French and changes nothing.

A published offer always has a published provider, because the public catalogue and the
observatory's coverage show the offer under its provider's name:
- approving an offer whose provider is not published is refused (approve the provider first:
  checking its SIRET, NDA and Qualiopi is a decision of its own, not a side effect);
- when a provider leaves `published` (changes requested, archived), its published offers
  follow it to the same status, each with its own history row.

The observatory's training coverage counts published offers. After a transaction that
publishes or unpublishes an offer commits, `companies.signals.field_data_changed` is sent;
the observatory answers with one debounced recomputation of the grid.
"""

import io
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from companies.signals import field_data_changed
from skills.importers.base import ImportFailed
from skills.jobs import start_heartbeat
from skills.models import SkillBlock

from .models import CurationEvent, CurationStatus, ImportJob, Provider, TrainingOffer
from .tagging import matched_expression

logger = logging.getLogger(__name__)

S = CurationStatus
Action = CurationEvent.Action


class Decision(models.TextChoices):
    APPROVE = "approve", gettext_lazy("Approuver")
    REJECT = "reject", gettext_lazy("Refuser")
    REQUEST_CHANGES = "request_changes", gettext_lazy("Demander des modifications")
    ARCHIVE = "archive", gettext_lazy("Archiver")


@dataclass(frozen=True)
class Transition:
    sources: frozenset
    target: str
    event: str
    # Why the other statuses are refused, completing « … (statut actuel : X) : <rule>. »
    rule: str


TRANSITIONS = {
    Decision.APPROVE: Transition(
        frozenset({S.SUBMITTED, S.DRAFT}),
        S.PUBLISHED,
        Action.APPROVED,
        gettext_lazy("seule une fiche soumise ou en attente de modifications peut être approuvée"),
    ),
    Decision.REJECT: Transition(
        frozenset({S.SUBMITTED, S.DRAFT}),
        S.REJECTED,
        Action.REJECTED,
        gettext_lazy(
            "seule une fiche soumise ou en attente de modifications peut être refusée "
            "(une fiche publiée s'archive ou repart en modification)"
        ),
    ),
    Decision.REQUEST_CHANGES: Transition(
        frozenset({S.SUBMITTED, S.PUBLISHED, S.REJECTED, S.ARCHIVED}),
        S.DRAFT,
        Action.CHANGES_REQUESTED,
        gettext_lazy("des modifications sont déjà demandées"),
    ),
    Decision.ARCHIVE: Transition(
        frozenset({S.SUBMITTED, S.DRAFT, S.PUBLISHED, S.REJECTED}),
        S.ARCHIVED,
        Action.ARCHIVED,
        gettext_lazy("la fiche est déjà archivée"),
    ),
}
REASON_REQUIRED = frozenset({Decision.REJECT, Decision.REQUEST_CHANGES})
# The statuses the queue shows by default: what waits for a curator.
TO_REVIEW = (S.SUBMITTED, S.DRAFT)


# --- Decisions ---------------------------------------------------------------------------


def offer_decide(*, offer: TrainingOffer, user, action: str, reason: str = "") -> TrainingOffer:
    """Apply a curator's decision to one offer and write its history row; see the table above."""
    action, reason = _checked(action, reason)
    with transaction.atomic():
        locked = TrainingOffer.objects.select_for_update().select_related("provider").filter(pk=offer.pk).first()
        if locked is None:
            raise ValidationError(_("Cette offre n'existe plus."), code="missing")
        from_status = _offer_apply(locked, user=user, action=action, reason=reason)
        if _touches_publication(from_status, locked.status):
            _coverage_changed(1)
    return locked


def offers_decide_bulk(*, offer_ids, user, action: str, reason: str = "") -> "BulkOutcome":
    """The same decision on many offers, in one transaction. An offer the decision does not
    apply to (already published, provider not published, deleted meanwhile) is skipped with
    the reason why; the others are decided. A missing mandatory reason refuses the whole lot."""
    action, reason = _checked(action, reason)
    ids = sorted({int(pk) for pk in offer_ids})
    outcome = BulkOutcome()
    with transaction.atomic():
        # Locked in id order, so that two bulk decisions on overlapping pages cannot deadlock.
        locked = TrainingOffer.objects.select_for_update().select_related("provider").filter(pk__in=ids).order_by("pk")
        offers = {offer.pk: offer for offer in locked}
        publication_changes = 0
        for pk in ids:
            offer = offers.get(pk)
            if offer is None:
                outcome.skipped.append(Skipped(pk, "", _("cette offre n'existe plus")))
                continue
            try:
                from_status = _offer_apply(offer, user=user, action=action, reason=reason)
            except ValidationError as error:
                outcome.skipped.append(Skipped(pk, offer.title, " ".join(error.messages)))
                continue
            outcome.done.append(pk)
            publication_changes += _touches_publication(from_status, offer.status)
        if publication_changes:
            _coverage_changed(publication_changes)
    return outcome


@dataclass(frozen=True)
class Skipped:
    offer_id: int
    title: str
    why: str


@dataclass
class BulkOutcome:
    done: list[int] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def done_count(self) -> int:
        return len(self.done)

    @property
    def skipped_count(self) -> int:
        return len(self.skipped)


def provider_decide(*, provider: Provider, user, action: str, reason: str = "") -> Provider:
    """Apply a curator's decision to a provider. When it leaves `published`, its published
    offers follow it (to `draft` or `archived`), each with a history row naming the provider."""
    action, reason = _checked(action, reason)
    with transaction.atomic():
        locked = Provider.objects.select_for_update().filter(pk=provider.pk).first()
        if locked is None:
            raise ValidationError(_("Cet organisme n'existe plus."), code="missing")
        from_status = _transition(locked, action=action)
        locked.save(update_fields=["status", "updated_at"])
        CurationEvent.objects.create(
            provider=locked,
            action=TRANSITIONS[action].event,
            from_status=from_status,
            to_status=locked.status,
            reason=reason,
            user=user,
        )
        if from_status == S.PUBLISHED and locked.status != S.PUBLISHED:
            followed = _offers_follow_provider(locked, user=user, reason=reason)
            if followed:
                _coverage_changed(followed)
    return locked


def _checked(action: str, reason: str) -> tuple[Decision, str]:
    try:
        action = Decision(action)
    except ValueError:
        raise ValidationError(_("Décision inconnue : %(action)s.") % {"action": action}, code="action") from None
    reason = (reason or "").strip()
    if action in REASON_REQUIRED and not reason:
        raise ValidationError(
            _("Indiquez le motif : il est obligatoire pour refuser ou demander des modifications."),
            code="reason_required",
        )
    return action, reason


def _transition(entry, *, action: Decision) -> str:
    """Move a locked offer or provider to the action's status (unsaved), or refuse; returns
    the status it had."""
    transition = TRANSITIONS[action]
    if entry.status not in transition.sources:
        raise ValidationError(
            _("« %(name)s » (statut actuel : %(status)s) : %(rule)s.")
            % {"name": entry, "status": entry.get_status_display(), "rule": transition.rule},
            code="transition",
        )
    from_status = entry.status
    entry.status = transition.target
    return from_status


def _offer_apply(offer: TrainingOffer, *, user, action: Decision, reason: str) -> str:
    """Decide on a locked offer (with its provider) and write the history row; returns the
    status it had."""
    if action == Decision.APPROVE and offer.provider.status != S.PUBLISHED:
        raise ValidationError(
            _("« %(offer)s » : son organisme « %(provider)s » n'est pas publié (%(status)s) ; approuvez-le d'abord.")
            % {"offer": offer, "provider": offer.provider, "status": offer.provider.get_status_display()},
            code="provider_not_published",
        )
    from_status = _transition(offer, action=action)
    offer.save(update_fields=["status", "updated_at"])
    CurationEvent.objects.create(
        offer=offer,
        action=TRANSITIONS[action].event,
        from_status=from_status,
        to_status=offer.status,
        reason=reason,
        user=user,
    )
    return from_status


def _offers_follow_provider(provider: Provider, *, user, reason: str) -> int:
    offers = list(
        TrainingOffer.objects.select_for_update().filter(provider=provider, status=S.PUBLISHED).only("pk", "status")
    )
    if not offers:
        return 0
    why = _("Suit la décision sur l'organisme « %(provider)s »") % {"provider": provider.name}
    if reason:
        why = f"{why} : {reason}"
    now = timezone.now()
    TrainingOffer.objects.filter(pk__in=[o.pk for o in offers]).update(status=provider.status, updated_at=now)
    CurationEvent.objects.bulk_create(
        CurationEvent(
            offer_id=offer.pk,
            action=Action.CHANGES_REQUESTED if provider.status == S.DRAFT else Action.ARCHIVED,
            from_status=S.PUBLISHED,
            to_status=provider.status,
            reason=why,
            user=user,
        )
        for offer in offers
    )
    return len(offers)


def _touches_publication(from_status: str, to_status: str) -> bool:
    return (from_status == S.PUBLISHED) != (to_status == S.PUBLISHED)


def _coverage_changed(offers: int, *, source: str = "catalogue_curation") -> None:
    """Tell the observatory, once the transaction commits, that what its training coverage
    reads changed (published offers, their blocks, their providers' communes). `positions` is
    0: no job position was written; `offers` is how many offers entered or left publication."""
    transaction.on_commit(
        partial(field_data_changed.send, sender=TrainingOffer, source=source, positions=0, offers=offers)
    )


# --- The AI-related flag -------------------------------------------------------------------


def offer_set_ai_flag(*, offer: TrainingOffer, user, ai_related: bool) -> TrainingOffer:
    """A curator confirms or overrides the rule's flag; the rule never re-tags it afterwards."""
    with transaction.atomic():
        locked = TrainingOffer.objects.select_for_update().filter(pk=offer.pk).first()
        if locked is None:
            raise ValidationError(_("Cette offre n'existe plus."), code="missing")
        rule = matched_expression(locked.title, locked.objectives, locked.content)
        locked.ai_related = bool(ai_related)
        locked.ai_related_by_curator = True
        locked.save(update_fields=["ai_related", "ai_related_by_curator", "updated_at"])
        CurationEvent.objects.create(
            offer=locked,
            action=Action.AI_FLAG,
            from_status=locked.status,
            to_status=locked.status,
            reason=_ai_flag_reason(bool(ai_related), rule),
            user=user,
        )
    return locked


def skill_block_set_ai_flag(*, skill_block: SkillBlock, user, ai_related: bool) -> SkillBlock:
    """The same for a skills block (its history is not kept: CurationEvent is the catalogue's)."""
    with transaction.atomic():
        locked = SkillBlock.objects.select_for_update().filter(pk=skill_block.pk).first()
        if locked is None:
            raise ValidationError(_("Ce bloc de compétences n'existe plus."), code="missing")
        locked.ai_related = bool(ai_related)
        locked.ai_related_by_curator = True
        locked.save(update_fields=["ai_related", "ai_related_by_curator"])
    logger.info(
        "skill block %s AI flag set to %s by user %s", locked.code, locked.ai_related, getattr(user, "pk", None)
    )
    return locked


def _ai_flag_reason(ai_related: bool, rule: str | None) -> str:
    """The history line, saying whether the curator followed the rule or overrode it."""
    if ai_related and rule:
        return _("Lien avec l'IA confirmé (la règle relevait « %(rule)s »).") % {"rule": rule}
    if ai_related:
        return _("Lien avec l'IA ajouté (la règle ne relevait aucune expression).")
    if rule:
        return _("Lien avec l'IA retiré (la règle relevait « %(rule)s »).") % {"rule": rule}
    return _("Absence de lien avec l'IA confirmée.")


# --- Import jobs ---------------------------------------------------------------------------


def import_job_create(*, kind: str, filename: str, payload: bytes, user) -> ImportJob:
    """Store an uploaded file as a pending job and queue its import once the row is committed
    (a worker that looked for it earlier would not find it). A broker out of reach does not
    fail the upload: the job waits and import_jobs_reap sends it once the broker is back
    (the task's delay_on_commit only logs the error, skills.jobs.SentAfterCommit)."""
    from .tasks import run_import_job

    with transaction.atomic():
        job = ImportJob.objects.create(kind=kind, filename=filename[:255], payload=payload, created_by=user)
        run_import_job.delay_on_commit(job.pk)
    return job


def import_job_run(*, job_id: int, task_id: str | None = None) -> ImportJob | None:
    """Run one job: the importer on the stored file, then the report, or the errors.

    The whole import is one transaction: a file refused (ImportFailed) or a crash leaves the
    catalogue as it was. A job already finished is left alone, so a message delivered twice
    (acks_late) imports once; a job found `running` was interrupted and restarts cleanly,
    unless another Celery message is importing it (import_job_claim).
    """
    job, claimed = import_job_claim(job_id, task_id=task_id)
    if job is None:
        logger.warning("import job %s not found", job_id)
        return None
    if not claimed:
        return job
    progress = partial(_import_progress, job.pk)
    source = io.BytesIO(bytes(job.payload))
    source.name = job.filename  # so that the importer's errors name the file the curator sent
    state, report = ImportJob.State.DONE, {}
    # The heartbeat of import_jobs_reap, from a thread until the import's transaction locks
    # the job's row (its first progress): the reaper skips a locked row, which is alive.
    stop_beating = start_heartbeat(partial(_import_beat, job.pk, job.task_id), every=settings.RUN_HEARTBEAT_INTERVAL)
    try:
        with transaction.atomic():
            report = IMPORTERS[job.kind](source, user=job.created_by, progress=progress)
            if any(r["created"] or r["updated"] for r in report["reports"]):
                # New blocks, new occupations of a certification, an offer back in review, a
                # provider that moved: the coverage may differ.
                _coverage_changed(0, source=f"import_{job.kind}")
    except ImportFailed as error:
        state, report = ImportJob.State.FAILED, {"errors": [str(e) for e in error.errors] or [str(error)]}
    except SoftTimeLimitExceeded:
        state, report = (
            ImportJob.State.FAILED,
            {"errors": [_("L'import a dépassé le temps permis ; rien n'a été écrit.")]},
        )
    except Exception:
        # A crash must still end the job, or its page would wait forever; the log has the trace.
        logger.exception("import job %s crashed", job.pk)
        state = ImportJob.State.FAILED
        report = {
            "errors": [_("Erreur inattendue pendant l'import ; rien n'a été écrit. Prévenez l'équipe technique.")]
        }
    finally:
        stop_beating()
    ImportJob.objects.filter(pk=job.pk, task_id=job.task_id).update(
        state=state,
        progress=100 if state == ImportJob.State.DONE else (cache.get(_progress_key(job.pk)) or 0),
        report=report,
        finished_at=timezone.now(),
    )
    cache.delete(_progress_key(job.pk))
    job.refresh_from_db()
    return job


def import_job_claim(job_id: int, *, task_id: str | None = None) -> tuple[ImportJob | None, bool]:
    """Take a job for one attempt (state running, heartbeat now), or say why not: the job (None
    when it does not exist) and whether it was taken.

    Never taken: a finished job (done, or failed: refused, crashed, or reaped, whose curator
    uploads the file again). With a Celery message's `task_id`, also a job that another
    message is importing and that still beats. The same message delivered again (its worker
    died, the broker gave it back) takes its job over and starts again from a clean state.
    """
    now = timezone.now()
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).defer("payload").first()
        if job is None:
            return None, False
        if job.state in (ImportJob.State.DONE, ImportJob.State.FAILED):
            return job, False
        beats = job.heartbeat_at is not None and job.heartbeat_at > now - timedelta(
            seconds=settings.RUN_HEARTBEAT_TIMEOUT
        )
        if task_id is not None and job.state == ImportJob.State.RUNNING and job.task_id not in ("", task_id) and beats:
            return job, False
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.RUNNING, progress=0, report={}, task_id=task_id or "", heartbeat_at=now
        )
    return ImportJob.objects.select_related("created_by").get(pk=job_id), True


def _import_beat(job_id: int, task_id: str) -> None:
    """One heartbeat of a running import. Once the import's transaction has written a
    progress, it holds the row until it commits: skipped then, the lock says it is alive."""
    with transaction.atomic():
        alive = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, state=ImportJob.State.RUNNING, task_id=task_id)
            .values_list("pk", flat=True)
        )
        ImportJob.objects.filter(pk__in=alive).update(heartbeat_at=timezone.now())


# What the job's page says of a job the reaper failed (French: read by curators).
INTERRUPTED_ERROR = "L'import s'est interrompu (processus arrêté) ; rien n'a été écrit : déposez le fichier à nouveau."
ABANDONED_ERROR = (
    "L'import n'a été pris en charge par aucun processus après {sends} envois à la file d'attente ; rien "
    "n'a été écrit : vérifiez que Redis et un worker Celery tournent, puis déposez le fichier à nouveau."
)


def import_jobs_reap() -> dict:
    """Jobs always end (beat runs this every RUN_REAPER_INTERVAL seconds).

    A running job whose heartbeat stopped RUN_HEARTBEAT_TIMEOUT seconds ago lost its worker:
    its transaction was rolled back with it, so it fails with INTERRUPTED_ERROR. A job whose
    import's transaction holds its row is alive, and is skipped. A pending job not started
    RUN_PENDING_TIMEOUT seconds after it was queued never reached a worker: it is sent again,
    RUN_MAX_RESENDS times at most, then fails (a duplicate message is harmless:
    import_job_claim).

    Returns the ids of the jobs failed ("reaped", "abandoned") and sent again ("resent").
    """
    from .tasks import run_import_job

    now = timezone.now()
    stalled = now - timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    overdue = now - timedelta(seconds=settings.RUN_PENDING_TIMEOUT)
    jobs = ImportJob.objects.select_for_update(skip_locked=True)
    with transaction.atomic():
        reaped = list(
            jobs.filter(state=ImportJob.State.RUNNING)
            .alias(last_sign=Coalesce("heartbeat_at", "created_at"))
            .filter(last_sign__lt=stalled)
            .values_list("pk", flat=True)
        )
        ImportJob.objects.filter(pk__in=reaped).update(
            state=ImportJob.State.FAILED, report={"errors": [INTERRUPTED_ERROR]}, finished_at=now
        )
        waiting = list(
            jobs.filter(state=ImportJob.State.PENDING, heartbeat_at__isnull=True)
            .alias(due=Coalesce("due_at", "created_at"))
            .filter(due__lt=overdue)
            .values_list("pk", "resends")
        )
        abandoned = [pk for pk, resends in waiting if resends >= settings.RUN_MAX_RESENDS]
        resent = [pk for pk, resends in waiting if resends < settings.RUN_MAX_RESENDS]
        for pk, resends in waiting:
            if pk in abandoned:
                ImportJob.objects.filter(pk=pk).update(
                    state=ImportJob.State.FAILED,
                    report={"errors": [ABANDONED_ERROR.format(sends=resends + 1)]},
                    finished_at=now,
                )
        ImportJob.objects.filter(pk__in=resent).update(due_at=now, resends=models.F("resends") + 1)
        for pk in resent:
            run_import_job.delay_on_commit(pk)
    for pk in reaped:
        cache.delete(_progress_key(pk))
    if reaped or abandoned or resent:
        logger.warning("import jobs reaped %s, abandoned %s, sent again %s", reaped, abandoned, resent)
    return {"reaped": reaped, "abandoned": abandoned, "resent": resent}


def _import_lheo(source, *, user, progress) -> dict:
    from trainings.importers.lheo import import_lheo

    # import_lheo reports the fraction done (0 to 1).
    reports = import_lheo(source, user=user, progress=lambda fraction: progress(round(fraction * 100)))
    return {"reports": [r.as_dict() for r in reports]}


def _import_rncp(source, *, user, progress) -> dict:
    """RNCP certifications and their blocks, then the AI rule on the blocks (95 → 100 %)."""
    from skills.importers.rncp import import_rncp

    from .tagging import tag_skill_blocks

    # import_rncp reports the fraction done (0 to 1).
    reports = import_rncp(source, progress=lambda fraction: progress(round(fraction * 95)))
    progress(95)
    tagged = tag_skill_blocks(SkillBlock.objects.all())
    return {"reports": [r.as_dict() for r in reports], "tagged_skill_blocks": tagged}


IMPORTERS = {ImportJob.Kind.LHEO: _import_lheo, ImportJob.Kind.RNCP: _import_rncp}


def _progress_key(job_id: int) -> str:
    return f"trainings:import-job:{job_id}:progress"


def _import_progress(job_id: int, value) -> None:
    """The importer's progress callback. The row is updated, but inside the import's
    transaction that write is only seen at commit; the cache (Redis when REDIS_URL is set,
    shared by the worker and the web) carries the live value meanwhile."""
    value = max(0, min(100, int(value)))
    cache.set(_progress_key(job_id), value, timeout=60 * 60)
    # Also a heartbeat, seen at commit; meanwhile the row lock it takes says the job is alive.
    ImportJob.objects.filter(pk=job_id).update(progress=value, heartbeat_at=timezone.now())
