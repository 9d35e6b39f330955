"""The company diagnostic's pages, under /diagnostic/.

Access is decided in one place, `member_required` / `diagnostic_required`: anonymous visitors
go to the login page; a signed-in person without an active company membership (an analyst, a
curator, someone awaiting approval) gets a 403 page that names no diagnostic; a member gets a
404 for any diagnostic id outside their companies, whether or not it exists, so ids cannot be
probed. Views parse a form, call a service from companies/diagnostic/services.py and render.
"""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.views.decorators.http import require_GET, require_POST

from .. import maturity
from ..models import Diagnostic, SizeBand
from ..permissions import diagnostic_required, member_required
from . import selectors, services
from .forms import IdentityForm, JobForm, MaturityForm
from .services import IDENTITY, JOBS, MATURITY, REVIEW, STEPS

STEP_URL_NAMES = {
    IDENTITY: "diagnostic:identity",
    MATURITY: "diagnostic:maturity",
    JOBS: "diagnostic:jobs",
    REVIEW: "diagnostic:review",
}
MAX_QUERY_LENGTH = 100
SUGGEST_MIN_LENGTH = 2


# --- Access ----------------------------------------------------------------------------------


# --- Helpers -----------------------------------------------------------------------------------


def _posted_version(request) -> int:
    """The version the page was rendered from; a missing or altered one can only conflict."""
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return 0


def _action(request) -> str:
    action = request.POST.get("action", "continue")
    return action if action in ("continue", "draft", "add", "save") else "continue"


def _submitted_on(diagnostic: Diagnostic) -> str:
    return date_format(localtime(diagnostic.submitted_at), "j F Y") if diagnostic.submitted_at else ""


def _refusal(request, diagnostic: Diagnostic):
    """A redirect to the read-only summary when the diagnostic may no longer change."""
    # A refused change is an error; opening a step again (the back button) only informs.
    level = messages.ERROR if request.method == "POST" else messages.INFO
    if diagnostic.is_submitted:
        messages.add_message(
            request,
            level,
            f"Ce diagnostic a été envoyé le {_submitted_on(diagnostic)} : il ne peut plus être modifié.",
        )
        return redirect("diagnostic:detail", diagnostic.pk)
    if not diagnostic.campaign.is_current:
        messages.add_message(
            request, level, f"La {diagnostic.campaign.name} est close : ce diagnostic ne peut plus être modifié."
        )
        return redirect("diagnostic:detail", diagnostic.pk)
    return None


def _read_only_redirect(request, diagnostic: Diagnostic):
    messages.error(request, "Ce diagnostic vient d'être envoyé : il ne peut plus être modifié.")
    return redirect("diagnostic:detail", diagnostic.pk)


def _job_count(diagnostic: Diagnostic) -> int:
    return diagnostic.jobs.count()


def _steps(diagnostic: Diagnostic, current: str, job_count: int) -> dict:
    """The step indicator: each step's number, label, link and whether it is complete."""
    problems = {step for step, _message in services.submission_problems(diagnostic, job_count=job_count)}
    steps = []
    for number, (key, label) in enumerate(STEPS, start=1):
        steps.append(
            {
                "number": number,
                "key": key,
                "label": label,
                "url": reverse(STEP_URL_NAMES[key], args=[diagnostic.pk]),
                "current": key == current,
                "complete": key != REVIEW and key not in problems,
            }
        )
    number = next(step["number"] for step in steps if step["current"])
    return {"steps": steps, "step_number": number, "step_total": len(steps), "step_label": steps[number - 1]["label"]}


def _next_url(diagnostic: Diagnostic, step: str) -> str:
    keys = [key for key, _label in STEPS]
    return reverse(STEP_URL_NAMES[keys[keys.index(step) + 1]], args=[diagnostic.pk])


def _after_save(request, diagnostic: Diagnostic, action: str, step: str):
    if action == "draft":
        messages.success(request, "Brouillon enregistré. Vous pourrez reprendre où vous en étiez.")
        return redirect("diagnostic:home")
    return redirect(_next_url(diagnostic, step))


def _resume_url(diagnostic: Diagnostic) -> str:
    """Where a draft is taken up again: the identity step when nothing was saved yet (what was
    prefilled or copied must be checked), else the first incomplete step, else the review."""
    if not diagnostic.last_step:
        return reverse(STEP_URL_NAMES[IDENTITY], args=[diagnostic.pk])
    problems = services.submission_problems(diagnostic, job_count=_job_count(diagnostic))
    step = problems[0][0] if problems else REVIEW
    return reverse(STEP_URL_NAMES[step], args=[diagnostic.pk])


def _report_url(diagnostic: Diagnostic) -> str:
    # The report is built in the observatory app (it needs the grid); a URL name is no import.
    return reverse("diagnostic_report", args=[diagnostic.pk])


def _step_context(diagnostic: Diagnostic, step: str, job_count: int, **extra) -> dict:
    context = {"diagnostic": diagnostic, "version": diagnostic.version, "step": step}
    context.update(_steps(diagnostic, step, job_count))
    context.update(extra)
    return context


def _empty(value) -> str:
    return str(value) if value not in (None, "") else "(sans réponse)"


# --- Overview and start -------------------------------------------------------------------------


@require_GET
@member_required
def diagnostic_home(request):
    """The current campaign's diagnostic of each of the member's companies, and their history."""
    campaign = selectors.current_campaign()
    diagnostics = selectors.diagnostics_of(request.member_companies)
    companies = []
    for company in request.member_companies:
        own = [diagnostic for diagnostic in diagnostics if diagnostic.company_id == company.pk]
        current = next((d for d in own if campaign and d.campaign_id == campaign.pk), None)
        earlier = [d for d in own if campaign is None or d.campaign.year < campaign.year]
        companies.append(
            {
                "company": company,
                "current": current,
                "current_url": None if current is None else reverse("diagnostic:detail", args=[current.pk]),
                "previous": earlier[0] if earlier else None,
                "history": [d for d in own if d is not current],
            }
        )
    return render(request, "diagnostic/home.html", {"campaign": campaign, "companies": companies})


@require_POST
@member_required
def diagnostic_start(request):
    """Start (or take up) the current campaign's diagnostic of one of the member's companies,
    blank or from the previous campaign's answers."""
    campaign = selectors.current_campaign()
    if campaign is None:
        messages.error(request, "Aucune campagne de diagnostic n'est ouverte pour le moment.")
        return redirect("diagnostic:home")
    company = next((c for c in request.member_companies if str(c.pk) == request.POST.get("company")), None)
    if company is None:
        raise Http404("Entreprise introuvable.")
    previous = None
    if request.POST.get("from") == "previous":
        previous = selectors.previous_diagnostic(company=company, campaign=campaign)
    if previous is not None:
        try:
            diagnostic = services.diagnostic_copy_from(previous=previous, campaign=campaign, user=request.user)
        except services.DiagnosticAlreadyStarted as error:
            messages.info(request, str(error))
            diagnostic = services.diagnostic_get_or_create_for(company=company, campaign=campaign, user=request.user)
        else:
            messages.success(
                request,
                f"Le diagnostic reprend vos réponses de la {previous.campaign.name} : "
                "vérifiez-les et mettez-les à jour.",
            )
    else:
        diagnostic = services.diagnostic_get_or_create_for(company=company, campaign=campaign, user=request.user)
    if diagnostic.is_submitted:
        return redirect("diagnostic:detail", diagnostic.pk)
    return redirect(_resume_url(diagnostic))


@require_GET
@diagnostic_required
def diagnostic_detail(request, diagnostic):
    """A submitted diagnostic (or one of a closed campaign): its read-only summary. A draft:
    where to take it up."""
    if not diagnostic.is_submitted and diagnostic.campaign.is_current:
        return redirect(_resume_url(diagnostic))
    jobs = selectors.diagnostic_jobs(diagnostic)
    context = {
        "diagnostic": diagnostic,
        "jobs": jobs,
        "maturity": maturity.summary(diagnostic.maturity),
        "submitted_on": _submitted_on(diagnostic),
        "report_url": _report_url(diagnostic) if diagnostic.is_submitted else None,
        "editable": False,
    }
    return render(request, "diagnostic/summary.html", context)


# --- Steps ----------------------------------------------------------------------------------


def _identity_initial(diagnostic: Diagnostic) -> dict:
    return {
        "siret": diagnostic.siret,
        "company_name": diagnostic.company_name,
        "sector": selectors.sector_value(diagnostic.sector) if diagnostic.sector else "",
        "commune": selectors.commune_value(diagnostic.commune) if diagnostic.commune else "",
        "size_band": diagnostic.size_band,
    }


def _identity_differences(form: IdentityForm, saved: Diagnostic) -> list[dict]:
    """The answers a colleague saved that differ from this person's, to show on a conflict."""
    shown = {
        "siret": saved.siret,
        "company_name": saved.company_name,
        "sector": selectors.sector_value(saved.sector) if saved.sector else "",
        "commune": selectors.commune_value(saved.commune) if saved.commune else "",
        "size_band": SizeBand(saved.size_band).label if saved.size_band else "",
    }
    mine = {
        "siret": form.cleaned_data.get("siret") or "",
        "company_name": form.cleaned_data.get("company_name") or "",
        "sector": selectors.sector_value(form.cleaned_data["sector"]) if form.cleaned_data.get("sector") else "",
        "commune": selectors.commune_value(form.cleaned_data["commune"]) if form.cleaned_data.get("commune") else "",
        "size_band": SizeBand(form.cleaned_data["size_band"]).label if form.cleaned_data.get("size_band") else "",
    }
    return [
        {"label": form.fields[name].label, "saved": _empty(shown[name])}
        for name in ("siret", "company_name", "sector", "commune", "size_band")
        if shown[name] != mine[name]
    ]


def _maturity_differences(form: MaturityForm, saved: Diagnostic) -> dict[str, str]:
    """{item key: the colleague's answer} where it differs, shown under each question."""
    mine, theirs = form.answers(), maturity.clean_answers(saved.maturity)
    differences = {}
    for item in maturity.ITEMS:
        if mine.get(item.key) != theirs.get(item.key):
            level = theirs.get(item.key)
            differences[item.key] = _empty(None if level is None else f"{level} — {item.levels[level]}")
    return differences


def _conflict_context(conflict, differences: list[dict] | None = None, inline: bool = False) -> dict:
    """What a page re-rendered after a conflict shows: the message, the colleague's answers
    that differ (listed, or `inline` under each question), and the current version, so that
    saving again is a deliberate choice."""
    return {
        "conflict": str(conflict),
        "differences": differences or [],
        "differences_inline": inline,
        "version": conflict.current_version,
    }


@diagnostic_required
def diagnostic_identity(request, diagnostic):
    if refusal := _refusal(request, diagnostic):
        return refusal
    extra = {}
    if request.method == "POST":
        action = _action(request)
        form = IdentityForm(request.POST, company=diagnostic.company, complete=action != "draft")
        if form.is_valid():
            try:
                services.diagnostic_save_step(
                    diagnostic=diagnostic,
                    step=IDENTITY,
                    data=form.cleaned_data,
                    expected_version=_posted_version(request),
                    user=request.user,
                )
            except services.DiagnosticReadOnly:
                return _read_only_redirect(request, diagnostic)
            except services.DiagnosticConflict as conflict:
                saved = selectors.diagnostic_for(request.user, diagnostic.pk)
                extra = _conflict_context(conflict, _identity_differences(form, saved))
            else:
                return _after_save(request, diagnostic, action, IDENTITY)
    else:
        form = IdentityForm(initial=_identity_initial(diagnostic), company=diagnostic.company)
    context = _step_context(diagnostic, IDENTITY, _job_count(diagnostic), form=form, **extra)
    return render(request, "diagnostic/identity.html", context)


@diagnostic_required
def diagnostic_maturity(request, diagnostic):
    if refusal := _refusal(request, diagnostic):
        return refusal
    extra = {}
    if request.method == "POST":
        action = _action(request)
        form = MaturityForm(request.POST, complete=action != "draft")
        if form.is_valid():
            try:
                services.diagnostic_save_step(
                    diagnostic=diagnostic,
                    step=MATURITY,
                    data=form.answers(),
                    expected_version=_posted_version(request),
                    user=request.user,
                )
            except services.DiagnosticReadOnly:
                return _read_only_redirect(request, diagnostic)
            except services.DiagnosticConflict as conflict:
                saved = selectors.diagnostic_for(request.user, diagnostic.pk)
                form.saved_answers = _maturity_differences(form, saved)
                extra = _conflict_context(conflict, inline=bool(form.saved_answers))
            else:
                return _after_save(request, diagnostic, action, MATURITY)
    else:
        form = MaturityForm(initial=maturity.clean_answers(diagnostic.maturity))
    context = _step_context(diagnostic, MATURITY, _job_count(diagnostic), form=form, **extra)
    return render(request, "diagnostic/maturity.html", context)


def _offer_blocks(form: JobForm, job=None) -> None:
    """The skills blocks the form offers: those of the fiche named in the form (or of the
    edited job), and the ones already chosen, so that no choice disappears."""
    occupation = form.chosen_occupation() or (job.occupation if job else None)
    blocks = selectors.skill_blocks_for_occupation(occupation.code if occupation else None)
    if job is not None:
        listed = {block.pk for block in blocks}
        blocks += [block for block in job.wished_skill_blocks.all() if block.pk not in listed]
    form.offer_skill_blocks(blocks)
    form.blocks_for = occupation


def _job_initial(job) -> dict:
    initial = {name: getattr(job, name) for name in ("headcount", "rc", "rm", "nra", "nri", "nrm", "training_need")}
    initial["occupation"] = selectors.occupation_value(job.occupation.code, job.occupation.label)
    initial["wished_skill_blocks"] = [block.pk for block in job.wished_skill_blocks.all()]
    return initial


@diagnostic_required
def diagnostic_jobs(request, diagnostic):
    """The jobs step: the jobs described so far (edit, remove) and the form to add one. The
    step's buttons also add what is typed in that form, so nothing typed is lost."""
    if refusal := _refusal(request, diagnostic):
        return refusal
    jobs = selectors.diagnostic_jobs(diagnostic)
    taken = {job.occupation_id for job in jobs}
    extra = {}
    if request.method == "POST":
        action = _action(request)
        form = JobForm(request.POST, taken=taken)
        try:
            if action in ("continue", "draft") and form.is_blank():
                services.diagnostic_save_step(
                    diagnostic=diagnostic, step=JOBS, data={}, expected_version=diagnostic.version, user=request.user
                )
                return _after_save(request, diagnostic, action, JOBS)
            if form.is_valid():
                job = services.diagnostic_job_add(
                    diagnostic=diagnostic,
                    data=form.cleaned_data,
                    expected_version=_posted_version(request),
                    user=request.user,
                )
                messages.success(request, f"« {job.occupation.label} » est ajouté au diagnostic.")
                if action == "add":
                    return redirect(reverse("diagnostic:jobs", args=[diagnostic.pk]) + "#metiers-decrits")
                return _after_save(request, diagnostic, action, JOBS)
        except services.DiagnosticReadOnly:
            return _read_only_redirect(request, diagnostic)
        except services.DiagnosticConflict as conflict:
            jobs = selectors.diagnostic_jobs(diagnostic)
            extra = _conflict_context(conflict)
            form = JobForm(request.POST, taken={job.occupation_id for job in jobs})
            form.is_valid()
    else:
        form = JobForm()
    _offer_blocks(form)
    context = _step_context(diagnostic, JOBS, len(jobs), form=form, jobs=jobs, **extra)
    return render(request, "diagnostic/jobs.html", context)


@diagnostic_required
def diagnostic_job_edit(request, diagnostic, job_id):
    if refusal := _refusal(request, diagnostic):
        return refusal
    job = selectors.diagnostic_job(diagnostic, job_id)
    if job is None:
        raise Http404("Métier introuvable.")
    taken = set(diagnostic.jobs.exclude(pk=job.pk).values_list("occupation_id", flat=True))
    extra = {}
    if request.method == "POST":
        form = JobForm(request.POST, taken=taken)
        if form.is_valid():
            try:
                services.diagnostic_job_update(
                    diagnostic=diagnostic,
                    job=job,
                    data=form.cleaned_data,
                    expected_version=_posted_version(request),
                    user=request.user,
                )
            except services.DiagnosticReadOnly:
                return _read_only_redirect(request, diagnostic)
            except services.DiagnosticConflict as conflict:
                extra = _conflict_context(conflict)
            else:
                messages.success(request, f"« {job.occupation.label} » est enregistré.")
                return redirect(reverse("diagnostic:jobs", args=[diagnostic.pk]) + "#metiers-decrits")
    else:
        form = JobForm(initial=_job_initial(job), taken=taken)
    _offer_blocks(form, job)
    context = _step_context(diagnostic, JOBS, len(taken) + 1, form=form, job=job, **extra)
    return render(request, "diagnostic/job_edit.html", context)


@require_POST
@diagnostic_required
def diagnostic_job_remove(request, diagnostic, job_id):
    if refusal := _refusal(request, diagnostic):
        return refusal
    job = selectors.diagnostic_job(diagnostic, job_id)
    if job is None:
        raise Http404("Métier introuvable.")
    try:
        services.diagnostic_job_remove(
            diagnostic=diagnostic, job=job, expected_version=_posted_version(request), user=request.user
        )
    except services.DiagnosticReadOnly:
        return _read_only_redirect(request, diagnostic)
    except services.DiagnosticConflict:
        messages.warning(
            request,
            "Un autre membre de votre entreprise a modifié ce diagnostic entre-temps : rien n'a été retiré. "
            "Vérifiez la liste à jour ci-dessous avant de recommencer.",
        )
    else:
        messages.success(request, f"« {job.occupation.label} » est retiré du diagnostic.")
    return redirect(reverse("diagnostic:jobs", args=[diagnostic.pk]) + "#metiers-decrits")


@require_GET
@diagnostic_required
def diagnostic_review(request, diagnostic):
    if refusal := _refusal(request, diagnostic):
        return refusal
    jobs = selectors.diagnostic_jobs(diagnostic)
    problems = [
        {"step": step, "message": message, "url": reverse(STEP_URL_NAMES[step], args=[diagnostic.pk])}
        for step, message in services.submission_problems(diagnostic, job_count=len(jobs))
    ]
    context = _step_context(
        diagnostic,
        REVIEW,
        len(jobs),
        jobs=jobs,
        maturity=maturity.summary(diagnostic.maturity),
        problems=problems,
        editable=True,
    )
    return render(request, "diagnostic/review.html", context)


@require_POST
@diagnostic_required
def diagnostic_submit(request, diagnostic):
    """Submit; a second POST (double click, back button, another tab) changes nothing and
    shows the summary."""
    if diagnostic.is_submitted:
        messages.info(request, f"Ce diagnostic a déjà été envoyé le {_submitted_on(diagnostic)}.")
        return redirect("diagnostic:detail", diagnostic.pk)
    if refusal := _refusal(request, diagnostic):
        return refusal
    try:
        submitted = services.diagnostic_submit(
            diagnostic=diagnostic, user=request.user, expected_version=_posted_version(request)
        )
    except services.DiagnosticConflict:
        messages.warning(
            request,
            "Un autre membre de votre entreprise a modifié ce diagnostic pendant votre relecture : rien n'a été "
            "envoyé. Relisez le récapitulatif à jour ci-dessous, puis envoyez-le.",
        )
        return redirect("diagnostic:review", diagnostic.pk)
    except services.DiagnosticIncomplete as incomplete:
        for _step, message in incomplete.problems:
            messages.error(request, message)
        return redirect("diagnostic:review", diagnostic.pk)
    if submitted.submitted_by_id == request.user.pk and submitted.version == _posted_version(request) + 1:
        messages.success(request, "Merci ! Votre diagnostic est envoyé.")
    else:
        messages.info(request, f"Ce diagnostic a déjà été envoyé le {_submitted_on(submitted)}.")
    return redirect("diagnostic:detail", diagnostic.pk)


# --- Look-ups for the text fields (JSON) -----------------------------------------------------


def _query(request) -> str:
    return request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]


def _json(data, status=200):
    return JsonResponse(data, safe=False, status=status, json_dumps_params={"ensure_ascii": False})


@require_GET
@member_required
def occupation_lookup(request):
    """`?q=`: [{code, label, appellation, value}], at most 10, from 2 characters.
    `?code=M1607`: that fiche and the skills blocks leading to it, for the job form."""
    code = request.GET.get("code", "").strip().upper()[:5]
    if code:
        occupation = selectors.resolve_occupation(code)[0]
        if occupation is None:
            return _json({"error": "Fiche métier inconnue."}, status=404)
        blocks = selectors.skill_blocks_for_occupation(occupation.code)
        return _json(
            {
                "code": occupation.code,
                "label": occupation.label,
                "skill_blocks": [{"id": block.pk, "code": block.code, "label": block.label} for block in blocks],
            }
        )
    return _suggest(request, selectors.occupation_suggestions)


def _suggest(request, finder):
    """Suggestions from `finder` for ?q=, none below SUGGEST_MIN_LENGTH characters."""
    query = _query(request)
    return _json(finder(query) if len(query) >= SUGGEST_MIN_LENGTH else [])


@require_GET
@member_required
def commune_lookup(request):
    """[{code, label, detail, value}]: communes of Hauts-de-France, from 2 characters."""
    return _suggest(request, selectors.commune_suggestions)


@require_GET
@member_required
def sector_lookup(request):
    """[{code, label, value}]: NAF sous-classes, from 2 characters."""
    return _suggest(request, selectors.sector_suggestions)
