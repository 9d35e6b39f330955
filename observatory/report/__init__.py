"""The company's report (/diagnostic/<id>/rapport/ and its PDF): pure reads that put one
diagnostic beside the current default-lens grid, in words a company manager acts on.

- jobs.py: each job in the questionnaire's words — its exposure and class explained, the
  profile the observatory retains and how it is weighed, what in the fiche's tasks exposes it
  most, its transitions, and one next step for every job (a training need always gets one);
- mobility.py: the transitions to less exposed jobs, with the competences held and to acquire;
- training.py: the skills blocks and the published offers nearby;
- company.py: the sector and département comparison and the AI maturity with its advice;
- pdf.py: the same report drawn as a PDF.

Every figure of other companies goes through the secrecy the rest of the site applies: secret
cells say why in plain words and never give a value, the profiles of a fiche are shown as
observatory.published decides, and the sector's maturity average needs at least the
methodology's minimum of other companies, counting only the diagnostics that enter published
statistics (`Diagnostic.objects.counted_in_statistics`: verified companies), so that made-up
companies cannot give a real one's answers back.

A fixed number of queries whatever the number of jobs (about twenty-five with the offers).
"""

from django.db.models import Prefetch

from companies.contacts import contacts_for
from companies.models import Diagnostic
from skills.models import SkillBlock
from skills.selectors import item_links_frame

from .. import selectors
from ..charts.common import CLASS_LABELS
from ..models import GridRun, Lens, OccupationScore
from ..published import fiche_secrecy, score_visibility
from . import company, jobs, mobility
from .jobs import BLOCKS_PER_JOB, BLOCKS_PER_MOBILITY, OFFERS_PER_JOB, JobReport, category_words
from .training import distance_km

__all__ = ["BLOCKS_PER_JOB", "company_report", "category_words", "distance_km"]

EXPOSURE_EXPLAINED = (
    "L'exposition d'un métier à l'IA va de 0 à 1 : c'est la part de son temps de travail passée sur des tâches "
    "que l'IA sait faire ou transformer, chaque type de tâche du questionnaire comptant selon sa sensibilité à l'IA."
)


def company_report(diagnostic: Diagnostic, *, with_figures: bool = True) -> dict:
    """Everything the report page and its PDF show about `diagnostic` (fetched with its
    commune's département, sector and campaign); the PDF leaves the plotly figures out."""
    run = GridRun.objects.current(lens=Lens.DEFAULT)
    wished = Prefetch("wished_skill_blocks", SkillBlock.objects.select_related("certification"))
    diagnostic_jobs = list(diagnostic.jobs.select_related("occupation").prefetch_related(wished).order_by("pk"))
    codes = {job.occupation_id for job in diagnostic_jobs}
    min_companies = run.methodology.secrecy_min_companies if run is not None else 3
    scores, secrecy = {}, {}
    if run is not None and codes:
        scores = {
            score.occupation_id: score for score in OccupationScore.objects.filter(run=run, occupation_id__in=codes)
        }
        secrecy = fiche_secrecy(run, codes)

    reports = []
    for job in diagnostic_jobs:
        score = scores.get(job.occupation_id)
        show_field, show_blended = (
            score_visibility(score, min_companies=min_companies) if score is not None else (False, False)
        )
        rows = jobs.profile_rows(job, score, show_blended)
        report = JobReport(
            job=job,
            score=score,
            profile_rows=rows,
            show_blended=show_blended,
            field_counted=show_field,
            figure=jobs.profile_figure(rows, with_blended=show_field and show_blended) if with_figures else None,
            class_label=CLASS_LABELS.get(score.exposure_class) if score else None,
            exposure_text=jobs.exposure_text(score, run),
            own_exposure=jobs.own_exposure(job, run) if score is not None else None,
        )
        if report.show_retained:
            report.blend_text = jobs.blend_text(score, run, secrecy.get(job.occupation_id, (True, ""))[0])
        reports.append(report)

    _fiche_reads(run, reports, diagnostic)
    section = company.section_of(diagnostic.sector)
    contacts = list(contacts_for(diagnostic.commune.code if diagnostic.commune else None, section and section.code))
    catalogue = jobs.catalogue_url()
    for report in reports:
        report.next_step = jobs.next_step(report, contacts, catalogue)
    return {
        "run": run,
        "jobs": reports,
        "headcount": sum(job.headcount for job in diagnostic_jobs),
        "company_exposure": _company_exposure(reports),
        "exposure_explained": EXPOSURE_EXPLAINED,
        "comparison": company.comparison(run, diagnostic),
        "maturity": company.maturity_report(diagnostic, section),
        "exposed": [report for report in reports if report.is_exposed],
        "contacts": contacts,
        "contact_needed": any(report.next_step.kind == "contact" for report in reports),
        "catalogue_url": catalogue,
    }


def _fiche_reads(run: GridRun | None, reports: list[JobReport], diagnostic: Diagnostic) -> None:
    """What the fiches' ROME items, skills blocks and offers say of each job, in a fixed number
    of queries: one for the mobilités, two for the item links (with people's corrections),
    three for the skills blocks, four for the offers."""
    from .training import blocks_by_fiche, offers_by_fiche

    exposed = {report.job.occupation_id for report in reports if report.is_exposed}
    training = {report.job.occupation_id for report in reports if report.shows_training}
    suggestions: dict[str, list] = {}
    targets: set[str] = set()
    if run is not None and reports:
        mobilities = selectors.mobilities_frame(run, exposed) if exposed else None
        if mobilities is not None:
            targets = set(mobilities["target"])
        codes = {report.job.occupation_id for report in reports}
        links = item_links_frame(occupations=codes | targets)
        if exposed:
            suggestions = mobility.transitions(run, exposed, mobilities, links)
        for report in reports:
            report.drivers = jobs.drivers(report, run, links)
            report.mobilities = suggestions.get(report.job.occupation_id, [])
    targets = {m["target"].code for moves in suggestions.values() for m in moves}
    if not training and not targets:
        return
    wished = {r.job.occupation_id: list(r.job.wished_skill_blocks.all()) for r in reports if r.shows_training}
    blocks, certifications = blocks_by_fiche(training | targets, wished)
    offers = offers_by_fiche(
        diagnostic.commune,
        {code: blocks[code] for code in training},
        {code: certifications[code] for code in training},
    )
    for report in reports:
        code = report.job.occupation_id
        if code in training:
            report.skill_blocks = blocks[code][:BLOCKS_PER_JOB]
            report.skill_blocks_total = len(blocks[code])
            report.offers = offers[code][:OFFERS_PER_JOB]
            report.offers_total = len(offers[code])
        for move in report.mobilities:
            move["skill_blocks"] = blocks[move["target"].code][:BLOCKS_PER_MOBILITY]


def _company_exposure(reports: list[JobReport]) -> float | None:
    """The headcount-weighted mean exposure of the company's jobs that have one."""
    scored = [(r.job.headcount, r.score.exposure) for r in reports if r.score and r.score.exposure is not None]
    headcount = sum(weight for weight, _exposure in scored)
    return sum(weight * exposure for weight, exposure in scored) / headcount if headcount else None
