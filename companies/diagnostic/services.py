"""Writes of the company diagnostic: start (blank or from last campaign's answers), save a
step, add / edit / remove a job, submit.

Two members may fill the same diagnostic at once. Every save names the `version` it started
from and is one `UPDATE … WHERE version = expected` that also bumps it: when a colleague saved
in between, no row matches and `DiagnosticConflict` is raised instead of overwriting their
answers. A submitted diagnostic matches no such update either (`status = draft` is in the
WHERE): it is read-only.

Submitting is idempotent: the row is locked, and a second call (double click, back button,
second tab) finds it submitted and returns it unchanged. The submission turns each job into a
`JobPosition` (source « diagnostic ») of the company's establishment and, once the transaction
has committed, sends `field_data_changed` so the observatory recomputes its grid — when the
company is verified: until then its answers count in no published figure.
"""

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import maturity
from ..models import TASK_FIELDS, Campaign, Company, Diagnostic, DiagnosticJob, Establishment, JobPosition
from ..signals import field_data_changed

# The steps, in order: (key stored in `last_step`, label shown to people).
IDENTITY, MATURITY, JOBS, REVIEW = "identite", "maturite", "metiers", "verification"
STEPS = (
    (IDENTITY, _("Identité de l'entreprise")),
    (MATURITY, _("Maturité IA")),
    (JOBS, _("Métiers")),
    (REVIEW, _("Vérification et envoi")),
)
STEP_KEYS = tuple(key for key, _label in STEPS)
IDENTITY_FIELDS = ("siret", "company_name", "sector", "commune", "size_band")
JOB_FIELDS = ("occupation", "headcount", *TASK_FIELDS, "training_need")


class DiagnosticError(Exception):
    """A diagnostic write refused; the message is for the person, in French."""


class DiagnosticConflict(DiagnosticError):
    """Someone saved the diagnostic since `expected_version` was read."""

    def __init__(self, current_version: int):
        self.current_version = current_version
        super().__init__(
            _(
                "Un autre membre de votre entreprise a enregistré ce diagnostic pendant que vous le "
                "remplissiez. Vos réponses n'ont pas été enregistrées : elles sont conservées ci-dessous."
            )
        )


class DiagnosticReadOnly(DiagnosticError):
    def __init__(self):
        super().__init__(_("Ce diagnostic a été envoyé : il ne peut plus être modifié."))


class DiagnosticIncomplete(DiagnosticError):
    """What is missing before the diagnostic can be submitted: [(step key, message)]."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__(_("Le diagnostic est incomplet."))


class DiagnosticAlreadyStarted(DiagnosticError):
    def __init__(self):
        super().__init__(_("Un diagnostic est déjà commencé pour cette campagne : reprenez-le."))


# --- Reads that decide what may be written --------------------------------------------------


def submission_problems(diagnostic: Diagnostic, *, job_count: int) -> list[tuple[str, str]]:
    """What must still be answered before submitting, step by step: [(step key, message)]."""
    problems = []
    answers = {
        "siret": diagnostic.siret,
        "company_name": diagnostic.company_name,
        "sector": diagnostic.sector_id,
        "commune": diagnostic.commune_id,
        "size_band": diagnostic.size_band,
    }
    missing_identity = [
        str(Diagnostic._meta.get_field(name).verbose_name) for name in IDENTITY_FIELDS if not answers[name]
    ]
    if missing_identity:
        problems.append((IDENTITY, _("À compléter : %(fields)s.") % {"fields": ", ".join(missing_identity)}))
    elif not diagnostic.siret.startswith(diagnostic.company.siren):
        problems.append(
            (
                IDENTITY,
                _("Le SIRET doit commencer par le SIREN de l'entreprise (%(siren)s).")
                % {"siren": diagnostic.company.siren},
            )
        )
    missing = maturity.missing_items(diagnostic.maturity)
    if missing:
        problems.append(
            (
                MATURITY,
                _("%(count)s question(s) sans réponse sur %(total)s.")
                % {"count": len(missing), "total": len(maturity.ITEMS)},
            )
        )
    if job_count == 0:
        problems.append((JOBS, _("Décrivez au moins un métier de l'entreprise.")))
    return problems


# --- Services -------------------------------------------------------------------------------


def diagnostic_get_or_create_for(*, company: Company, campaign: Campaign, user) -> Diagnostic:
    """The company's diagnostic for `campaign`, created blank when missing, its identity
    prefilled from what is known (the company's name; its establishment when it has one)."""
    defaults = {"company_name": company.name, "created_by": user}
    establishments = list(company.establishments.order_by("siret")[:2])
    if len(establishments) == 1:
        establishment = establishments[0]
        defaults.update(
            siret=establishment.siret,
            sector_id=establishment.sector_id,
            commune_id=establishment.commune_id,
            size_band=establishment.size_band,
        )
    with transaction.atomic():
        # get_or_create retries the read when a concurrent request created it first.
        diagnostic, _created = Diagnostic.objects.get_or_create(campaign=campaign, company=company, defaults=defaults)
    return diagnostic


def diagnostic_copy_from(*, previous: Diagnostic, campaign: Campaign, user) -> Diagnostic:
    """Start `campaign`'s diagnostic of the same company from `previous`'s answers (identity,
    maturity, jobs with their wished skills blocks), as a draft. Calling it again returns the
    same copy; a diagnostic started otherwise for that campaign raises DiagnosticAlreadyStarted."""
    if previous.campaign_id == campaign.pk:
        raise ValueError("A diagnostic is copied into another campaign.")
    with transaction.atomic():
        existing = Diagnostic.objects.filter(campaign=campaign, company_id=previous.company_id).first()
        if existing is None:
            try:
                with transaction.atomic():
                    copy = Diagnostic.objects.create(
                        campaign=campaign,
                        company_id=previous.company_id,
                        siret=previous.siret,
                        company_name=previous.company_name,
                        sector_id=previous.sector_id,
                        commune_id=previous.commune_id,
                        size_band=previous.size_band,
                        maturity=maturity.clean_answers(previous.maturity),
                        copied_from=previous,
                        created_by=user,
                    )
            except IntegrityError:
                existing = Diagnostic.objects.get(campaign=campaign, company_id=previous.company_id)
        if existing is not None:
            if existing.copied_from_id == previous.pk:
                return existing
            raise DiagnosticAlreadyStarted()

        jobs = list(previous.jobs.prefetch_related("wished_skill_blocks"))
        copies = DiagnosticJob.objects.bulk_create(
            [
                DiagnosticJob(
                    diagnostic=copy, position=job.position, **{name: getattr(job, name) for name in JOB_FIELDS}
                )
                for job in jobs
            ]
        )
        Through = DiagnosticJob.wished_skill_blocks.through
        Through.objects.bulk_create(
            [
                Through(diagnosticjob_id=new.pk, skillblock_id=block.pk)
                for old, new in zip(jobs, copies, strict=True)
                for block in old.wished_skill_blocks.all()
            ]
        )
    return copy


def _save_versioned(diagnostic: Diagnostic, expected_version: int, **fields) -> None:
    """Write `fields` and bump the version, only if nobody saved since `expected_version`
    and the diagnostic is still a draft; raise otherwise. Updates `diagnostic` in place."""
    now = timezone.now()
    updated = Diagnostic.objects.filter(
        pk=diagnostic.pk, version=expected_version, status=Diagnostic.Status.DRAFT
    ).update(version=F("version") + 1, updated_at=now, **fields)
    if not updated:
        current = Diagnostic.objects.filter(pk=diagnostic.pk).values("status", "version").first()
        if current is None:
            raise Diagnostic.DoesNotExist()
        if current["status"] == Diagnostic.Status.SUBMITTED:
            raise DiagnosticReadOnly()
        raise DiagnosticConflict(current_version=current["version"])
    for name, value in fields.items():
        setattr(diagnostic, name, value)
    diagnostic.version = expected_version + 1
    diagnostic.updated_at = now


def diagnostic_save_step(*, diagnostic: Diagnostic, step: str, data: dict, expected_version: int, user) -> Diagnostic:
    """Save one step's answers as a draft.

    - `identite`: `data` holds siret, company_name, sector (a sous-classe), commune,
      size_band (missing keys are saved empty: a draft may be partial);
    - `maturite`: `data` is {item key: level 0–4} (see companies/maturity.py); unanswered
      items are left out;
    - `metiers`, `verification`: nothing to save but the step reached (`data` and
      `expected_version` are ignored: moving on changes no answer, so it never conflicts);
      jobs are written by `diagnostic_job_add` / `_update` / `_remove`.

    Raises DiagnosticConflict when someone saved since `expected_version`, DiagnosticReadOnly
    once submitted.
    """
    if step not in STEP_KEYS:
        raise ValueError(f"Unknown step {step!r}.")
    if step in (JOBS, REVIEW):
        if not Diagnostic.objects.filter(pk=diagnostic.pk, status=Diagnostic.Status.DRAFT).update(last_step=step):
            raise DiagnosticReadOnly()
        diagnostic.last_step = step
        return diagnostic
    fields = {"last_step": step}
    if step == IDENTITY:
        fields.update(
            siret=(data.get("siret") or "").strip(),
            company_name=(data.get("company_name") or "").strip(),
            sector=data.get("sector"),
            commune=data.get("commune"),
            size_band=data.get("size_band") or "",
        )
    elif step == MATURITY:
        fields["maturity"] = maturity.clean_answers(data)
    with transaction.atomic():
        _save_versioned(diagnostic, expected_version, **fields)
    return diagnostic


def _job_values(data: dict) -> dict:
    return {name: data.get(name) if name != "training_need" else bool(data.get(name)) for name in JOB_FIELDS}


def diagnostic_job_add(*, diagnostic: Diagnostic, data: dict, expected_version: int, user) -> DiagnosticJob:
    """Add a job: `data` holds occupation (a fiche), headcount, the five shares in percent
    summing to 100, training_need and wished_skill_blocks (skills blocks, may be empty)."""
    with transaction.atomic():
        _save_versioned(diagnostic, expected_version, last_step=JOBS)
        position = diagnostic.jobs.aggregate(last=Max("position"))["last"]
        job = DiagnosticJob.objects.create(
            diagnostic=diagnostic, position=0 if position is None else position + 1, **_job_values(data)
        )
        job.wished_skill_blocks.set(data.get("wished_skill_blocks") or [])
    return job


def diagnostic_job_update(
    *, diagnostic: Diagnostic, job: DiagnosticJob, data: dict, expected_version: int, user
) -> DiagnosticJob:
    if job.diagnostic_id != diagnostic.pk:
        raise ValueError("The job belongs to another diagnostic.")
    with transaction.atomic():
        _save_versioned(diagnostic, expected_version, last_step=JOBS)
        for name, value in _job_values(data).items():
            setattr(job, name, value)
        job.save()
        job.wished_skill_blocks.set(data.get("wished_skill_blocks") or [])
    return job


def diagnostic_job_remove(*, diagnostic: Diagnostic, job: DiagnosticJob, expected_version: int, user) -> None:
    if job.diagnostic_id != diagnostic.pk:
        raise ValueError("The job belongs to another diagnostic.")
    with transaction.atomic():
        _save_versioned(diagnostic, expected_version, last_step=JOBS)
        job.delete()


def _establishment_for(diagnostic: Diagnostic) -> Establishment:
    """The establishment of the diagnostic's SIRET, created from its identity step when the
    observatory does not know it yet. A known establishment keeps its reference data (SIRENE
    is its source); the diagnostic's own answers stay on the diagnostic."""
    establishment = Establishment.objects.filter(siret=diagnostic.siret).first()
    if establishment is None:
        try:
            with transaction.atomic():
                establishment = Establishment.objects.create(
                    siret=diagnostic.siret,
                    company=diagnostic.company,
                    sector_id=diagnostic.sector_id,
                    commune_id=diagnostic.commune_id,
                    size_band=diagnostic.size_band,
                )
        except IntegrityError:
            establishment = Establishment.objects.get(siret=diagnostic.siret)
    if establishment.company_id != diagnostic.company_id:
        raise DiagnosticIncomplete([(IDENTITY, _("Ce SIRET est celui d'un établissement d'une autre entreprise."))])
    return establishment


def diagnostic_submit(*, diagnostic: Diagnostic, user, expected_version: int) -> Diagnostic:
    """Submit the diagnostic: its jobs become job positions (field data of the observatory).

    Idempotent: the row is locked first, so concurrent calls run one after the other, and a
    call finding the diagnostic already submitted returns it without writing anything (even
    with an older `expected_version`: the person's intent was the same submission). Raises
    DiagnosticConflict when a colleague changed the answers since `expected_version` (the
    person must see them before submitting), DiagnosticIncomplete when something is missing.
    """
    with transaction.atomic():
        locked = Diagnostic.objects.select_for_update().select_related("company").get(pk=diagnostic.pk)
        if locked.is_submitted:
            return locked
        if locked.version != expected_version:
            raise DiagnosticConflict(current_version=locked.version)
        jobs = list(locked.jobs.all())
        problems = submission_problems(locked, job_count=len(jobs))
        if problems:
            raise DiagnosticIncomplete(problems)
        establishment = _establishment_for(locked)

        # SQLite ignores SELECT … FOR UPDATE: the conditional update is the guard there.
        now = timezone.now()
        updated = Diagnostic.objects.filter(
            pk=locked.pk, status=Diagnostic.Status.DRAFT, version=expected_version
        ).update(
            status=Diagnostic.Status.SUBMITTED,
            submitted_at=now,
            submitted_by=user,
            updated_at=now,
            last_step=REVIEW,
            version=F("version") + 1,
        )
        if not updated:
            locked.refresh_from_db()
            if locked.is_submitted:
                return locked
            raise DiagnosticConflict(current_version=locked.version)

        # Positions left by an earlier submission (a diagnostic reopened in the admin) are
        # replaced, so a diagnostic never counts twice in the grid.
        JobPosition.objects.filter(diagnostic=locked).delete()
        positions = JobPosition.objects.bulk_create(
            [
                JobPosition(
                    establishment=establishment,
                    occupation_id=job.occupation_id,
                    headcount=job.headcount,
                    training_need=job.training_need,
                    source=JobPosition.Source.DIAGNOSTIC,
                    campaign_id=locked.campaign_id,
                    diagnostic=locked,
                    **{name: getattr(job, name) for name in TASK_FIELDS},
                )
                for job in jobs
            ]
        )
        count = len(positions)
        # A company nobody verified changes no published figure: its positions wait, and the
        # grid is recomputed when a curator verifies it (companies/accounts).
        if Diagnostic.objects.counted_in_statistics().filter(pk=locked.pk).exists():
            transaction.on_commit(
                lambda: field_data_changed.send(sender=Diagnostic, source="diagnostic", positions=count)
            )
    locked.refresh_from_db()
    return locked
