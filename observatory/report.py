"""The company's report (/diagnostic/<id>/rapport/): pure reads that put one diagnostic beside
the current default-lens grid. Every figure of other companies goes through the secrecy the
rest of the site applies: secret cells give their reason and never a value, the field and
blended profiles of a fiche reported by one or two companies are not shown, and the sector's
maturity average needs at least `PEER_MIN_COMPANIES` other companies.

A fixed number of queries whatever the number of jobs (about ten).
"""

from dataclasses import dataclass, field

import plotly.graph_objects as go
from django.db.models import Q

from companies import maturity
from companies.models import Diagnostic, DiagnosticJob, Sector
from skills.models import Mobility, SkillBlock, TaskCategory

from .charts.common import CLASS_LABELS, base_layout, figure_json, format_percent
from .charts.grid import SECRET_REASONS
from .exports import FIELD_PROFILE_MIN_COMPANIES
from .models import CATEGORIES, GridCell, GridRun, Lens, OccupationScore

# Below this many other companies of the section, their average maturity would come close to
# giving one company's answers back.
PEER_MIN_COMPANIES = 3
MOBILITIES_PER_JOB = 3
EXPOSED_CLASSES = ("high", "medium")
CATEGORY_LABELS = {code.lower(): str(label) for code, label in TaskCategory.Code.choices}
SERIES = {
    "company": ("Votre entreprise", "#1d4f91"),
    "reference": ("Référence du métier", "#a9b4c2"),
    "blended": ("Profil retenu par l'observatoire", "#6f9bd1"),
}


@dataclass
class JobReport:
    job: DiagnosticJob
    score: OccupationScore | None
    profile_rows: list[dict]
    show_blended: bool
    figure: str | None
    class_label: str | None
    skill_blocks: list[SkillBlock] = field(default_factory=list)
    mobilities: list[dict] = field(default_factory=list)

    @property
    def figure_id(self) -> str:
        return f"report-figure-{self.job.pk}"

    @property
    def is_exposed(self) -> bool:
        return self.score is not None and self.score.exposure_class in EXPOSED_CLASSES


def _section_of(sector: Sector | None) -> Sector | None:
    """The NAF section above a sous-classe, in one query (at most four levels up)."""
    if sector is None:
        return None
    node = Sector.objects.select_related("parent__parent__parent__parent").filter(pk=sector.pk).first()
    while node is not None and node.level != Sector.Level.SECTION:
        node = node.parent
    return node


def _under(section: Sector) -> Q:
    """Diagnostics whose sous-classe lies anywhere under `section`."""
    path = "sector__parent"
    condition = Q()
    for _ in range(4):
        condition |= Q(**{path: section})
        path += "__parent"
    return condition


def _profile_rows(job: DiagnosticJob, score: OccupationScore | None, show_blended: bool) -> list[dict]:
    rows = []
    for category in CATEGORIES:
        rows.append(
            {
                "code": category.upper(),
                "label": CATEGORY_LABELS.get(category, category.upper()),
                "company": getattr(job, category) / 100,
                "reference": getattr(score, f"ref_{category}") if score else None,
                "blended": getattr(score, category) if score and show_blended else None,
            }
        )
    return rows


def _profile_figure(rows: list[dict]) -> str:
    """Grouped bars: the company's shares beside the fiche's reference (and blended) profile."""
    figure = go.Figure()
    ticks = [row["code"] for row in rows]
    for key, (name, colour) in SERIES.items():
        values = [row[key] for row in rows]
        if all(value is None for value in values):
            continue
        figure.add_trace(
            go.Bar(
                x=ticks,
                y=[None if value is None else value * 100 for value in values],
                name=name,
                marker={"color": colour},
                customdata=[format_percent(value, 0) for value in values],
                hovertemplate=f"{name} : %{{customdata}}<extra>%{{x}}</extra>",
            )
        )
    figure.update_layout(
        **base_layout(
            barmode="group",
            height=300,
            margin={"l": 10, "r": 10, "t": 30, "b": 30},
            legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            yaxis={"ticksuffix": "\u00a0%", "rangemode": "tozero", "gridcolor": "#e6e9ee", "fixedrange": True},
            xaxis={"fixedrange": True},
        )
    )
    return figure_json(figure)


def _cell_view(cell: GridCell | None) -> dict:
    if cell is None:
        return {"state": "empty"}
    if cell.secret:
        return {"state": "secret", "reason": SECRET_REASONS.get(cell.secret_reason, "secret statistique")}
    return {
        "state": "value",
        "exposure": cell.exposure_mean,
        "companies": cell.companies,
        "employees": cell.employees,
    }


def _comparison(run: GridRun | None, diagnostic: Diagnostic) -> dict | None:
    """The mean exposure of the company's division and of all sectors in its département."""
    if run is None or diagnostic.commune is None or diagnostic.sector is None:
        return None
    departement = diagnostic.commune.parent
    division = diagnostic.sector.code[:2]
    common = {
        "territory_level": "departement",
        "territory_code": departement.code,
        "occupation_level": "all",
        "size_band": "all",
    }
    cells = {
        (cell.sector_level, cell.sector_code): cell
        for cell in GridCell.objects.filter(run=run, **common).filter(
            Q(sector_level="division", sector_code=division) | Q(sector_level="all")
        )
    }
    return {
        "departement": departement,
        "division": division,
        "sector": _cell_view(cells.get(("division", division))),
        "all": _cell_view(cells.get(("all", ""))),
    }


def _maturity(diagnostic: Diagnostic) -> dict:
    """The company's score per dimension beside the mean of the other companies of its NAF
    section that submitted a diagnostic in the same campaign, when enough of them did."""
    own = maturity.dimension_scores(diagnostic.maturity)
    section = _section_of(diagnostic.sector)
    peers = []
    if section is not None:
        peers = list(
            Diagnostic.objects.filter(
                _under(section), campaign=diagnostic.campaign, status=Diagnostic.Status.SUBMITTED
            )
            .exclude(company=diagnostic.company_id)
            .values_list("maturity", flat=True)
        )
    shown = len(peers) >= PEER_MIN_COMPANIES
    rows = []
    for dimension in maturity.DIMENSIONS:
        average = None
        if shown:
            scores = [
                s for s in (maturity.dimension_scores(answers)[dimension.key] for answers in peers) if s is not None
            ]
            average = sum(scores) / len(scores) if scores else None
        rows.append({"label": dimension.label, "score": own[dimension.key], "average": average})
    return {
        "rows": rows,
        "overall": maturity.overall_score(diagnostic.maturity),
        "section": section,
        "peers": len(peers),
        "shown": shown,
        "min_peers": PEER_MIN_COMPANIES,
    }


def _next_steps(run: GridRun | None, jobs: list[JobReport]) -> None:
    """Skills blocks and mobilités of the exposed jobs (two to three queries)."""
    exposed = [report for report in jobs if report.is_exposed]
    codes = {report.job.occupation_id for report in exposed}
    if not codes:
        return
    links = SkillBlock.occupations.through.objects.filter(occupation_id__in=codes).select_related("skillblock")
    blocks: dict[str, list[SkillBlock]] = {}
    for link in links.order_by("skillblock__code"):
        blocks.setdefault(link.occupation_id, []).append(link.skillblock)
    mobilities = list(
        Mobility.objects.filter(source_id__in=codes).select_related("target").order_by("source_id", "rank")
    )
    target_scores = {
        score.occupation_id: score
        for score in OccupationScore.objects.filter(
            run=run, occupation_id__in={m.target_id for m in mobilities}, exposure__isnull=False
        )
    }
    for report in exposed:
        report.skill_blocks = blocks.get(report.job.occupation_id, [])
        source = report.score.exposure
        for mobility in mobilities:
            if mobility.source_id != report.job.occupation_id or source is None:
                continue
            target = target_scores.get(mobility.target_id)
            if target is None or target.exposure >= source:
                continue
            report.mobilities.append(
                {
                    "target": mobility.target,
                    "exposure": target.exposure,
                    "class_label": CLASS_LABELS.get(target.exposure_class),
                    "difference": target.exposure - source,
                }
            )
            if len(report.mobilities) == MOBILITIES_PER_JOB:
                break


def company_report(diagnostic: Diagnostic) -> dict:
    """Everything the report page shows about `diagnostic` (fetched with its commune's
    département, sector and campaign)."""
    run = GridRun.objects.current(lens=Lens.DEFAULT)
    jobs = list(diagnostic.jobs.select_related("occupation").order_by("pk"))
    scores = {}
    if run is not None:
        scores = {
            score.occupation_id: score
            for score in OccupationScore.objects.filter(run=run, occupation_id__in={job.occupation_id for job in jobs})
        }
    reports = []
    for job in jobs:
        score = scores.get(job.occupation_id)
        show_blended = score is not None and not (0 < score.n_companies < FIELD_PROFILE_MIN_COMPANIES)
        rows = _profile_rows(job, score, show_blended)
        reports.append(
            JobReport(
                job=job,
                score=score,
                profile_rows=rows,
                show_blended=show_blended,
                figure=_profile_figure(rows),
                class_label=CLASS_LABELS.get(score.exposure_class) if score else None,
            )
        )
    _next_steps(run, reports)
    return {
        "run": run,
        "jobs": reports,
        "headcount": sum(job.headcount for job in jobs),
        "comparison": _comparison(run, diagnostic),
        "maturity": _maturity(diagnostic),
        "exposed": [report for report in reports if report.is_exposed],
    }
