"""The company's report (/diagnostic/<id>/rapport/): pure reads that put one diagnostic beside
the current default-lens grid. Every figure of other companies goes through the secrecy the
rest of the site applies: secret cells give their reason and never a value, the field and
blended profiles of a fiche reported by one or two companies are not shown, and the sector's
maturity average needs at least the methodology's minimum of other companies, counting only
the diagnostics that enter published statistics (`Diagnostic.objects.counted_in_statistics`:
verified companies), so that made-up companies cannot give a real one's answers back.

For each exposed job it recommends skills blocks (linked to the fiche, or blocks of a
certification that targets the fiche) and the published training offers leading there,
nearest to the company first, and the transitions worth taking: the same suggestions as the
occupation page (observatory.analysis.transitions), with the core competences to acquire.

A fixed number of queries whatever the number of jobs (about twenty with the training offers).
"""

import datetime
import math
from dataclasses import dataclass, field, replace

import plotly.graph_objects as go
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from companies import maturity
from companies.models import Diagnostic, DiagnosticJob, Sector, Territory
from skills.models import Certification, Occupation, SkillBlock, TaskCategory
from trainings.models import CurationStatus, Session, TrainingOffer

from . import selectors
from .analysis import transitions
from .charts.common import (
    CLASS_LABELS,
    base_layout,
    figure_json,
    format_number,
    format_percent,
    secret_reason_text,
)
from .models import CATEGORIES, GridCell, GridRun, Lens, Methodology, OccupationScore
from .published import score_visibility

# The French rule's minimum of companies (observatory.forms refuses less), for a database
# without any methodology yet.
PEER_MIN_COMPANIES = 3
MOBILITIES_PER_JOB = 3
# Core competences of a suggested target listed as « to acquire », then « et N autres ».
CORE_SKILLS_SHOWN = 5
BLOCKS_PER_JOB = 6
BLOCKS_PER_MOBILITY = 3
OFFERS_PER_JOB = 5
# The public page of an offer (trainings/urls_public.py), linked from the HTML and PDF reports.
OFFER_ROUTE = "trainings:offer"
# Mean Earth radius (IUGG), for great-circle distances between commune centres.
EARTH_RADIUS_KM = 6371.0
EXPOSED_CLASSES = ("high", "medium")
CATEGORY_LABELS = {code.lower(): str(label) for code, label in TaskCategory.Code.choices}
SERIES = {
    "company": ("Votre entreprise", "#1d4f91"),
    "reference": ("Référence du métier", "#a9b4c2"),
    "blended": ("Profil retenu par l'observatoire", "#6f9bd1"),
}


@dataclass(frozen=True)
class BlockRecommendation:
    """A skills block recommended for a fiche, linked to it directly or reached through a
    certification that targets it (`certification` is then set)."""

    block: SkillBlock
    certification: Certification | None = None

    @property
    def code(self) -> str:
        return self.block.code

    @property
    def label(self) -> str:
        return self.block.label

    @property
    def ai_related(self) -> bool:
        return self.block.ai_related


@dataclass(frozen=True)
class NearbyOffer:
    """A published offer and where it is given nearest to the company: the commune of one of
    its coming sessions (of the provider when no session names one)."""

    offer: TrainingOffer
    commune: Territory | None
    distance_km: float | None
    same_commune: bool
    same_departement: bool
    next_session: datetime.date | None
    reason: str = ""  # why it is recommended for a given fiche, e.g. « prépare au bloc RNCP…BC01 »

    @property
    def url(self) -> str:
        return reverse(OFFER_ROUTE, args=[self.offer.pk])

    @property
    def sort_key(self) -> tuple:
        """Nearest first; without coordinates, the same département before the rest of the
        region; then the sooner session, then the title."""
        if self.same_commune:
            place = (0, 0.0)
        elif self.distance_km is not None:
            place = (0, self.distance_km)
        elif self.same_departement:
            place = (1, 0.0)
        else:
            place = (2 if self.commune is not None else 3, 0.0)
        return (*place, self.next_session or datetime.date.max, self.offer.title, self.offer.pk)


@dataclass(frozen=True)
class FicheRef:
    """A fiche named in the report: its ROME code and label."""

    code: str
    label: str


@dataclass
class JobReport:
    job: DiagnosticJob
    score: OccupationScore | None
    profile_rows: list[dict]
    show_blended: bool
    figure: str | None
    class_label: str | None
    # Whether other companies' answers on the fiche count in the observatory's profile (enough
    # of them, none dominant): otherwise the profile retained is the reference.
    field_counted: bool = False
    skill_blocks: list[BlockRecommendation] = field(default_factory=list)
    skill_blocks_total: int = 0
    offers: list[NearbyOffer] = field(default_factory=list)
    offers_total: int = 0
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
        return {"state": "secret", "reason": secret_reason_text(cell.secret_reason)}
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


def _peer_min_companies() -> int:
    """How many other companies a peer average needs: the secrecy minimum of the current
    default-lens methodology (the one analysts set for what is published next)."""
    methodology = Methodology.objects.current(Lens.DEFAULT)
    return methodology.secrecy_min_companies if methodology is not None else PEER_MIN_COMPANIES


def _maturity(diagnostic: Diagnostic) -> dict:
    """The company's score per dimension beside the mean of the other companies of its NAF
    section whose diagnostic of the same campaign counts in the statistics (submitted, by a
    verified company), when at least the secrecy minimum of them do; a dimension that fewer
    of them answered gets no mean either."""
    own = maturity.dimension_scores(diagnostic.maturity)
    section = _section_of(diagnostic.sector)
    min_peers = _peer_min_companies()
    peers = []
    if section is not None:
        peers = list(
            Diagnostic.objects.counted_in_statistics()
            .filter(_under(section), campaign=diagnostic.campaign)
            .exclude(company=diagnostic.company_id)
            .values_list("maturity", flat=True)
        )
    shown = len(peers) >= min_peers
    rows = []
    for dimension in maturity.DIMENSIONS:
        average = None
        if shown:
            scores = [
                s for s in (maturity.dimension_scores(answers)[dimension.key] for answers in peers) if s is not None
            ]
            average = sum(scores) / len(scores) if len(scores) >= min_peers else None
        rows.append({"label": dimension.label, "score": own[dimension.key], "average": average})
    return {
        "rows": rows,
        "overall": maturity.overall_score(diagnostic.maturity),
        "section": section,
        "peers": len(peers),
        "shown": shown,
        "min_peers": min_peers,
    }


def distance_km(a: Territory, b: Territory) -> float | None:
    """Great-circle (haversine) distance between two communes' centres, in km; None when
    either has no coordinates."""
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _blocks_by_fiche(codes: set[str]) -> tuple[dict[str, list[BlockRecommendation]], dict[str, set[int]]]:
    """The skills blocks leading to each fiche and the certifications that target it (three
    queries). A block linked to the fiche and also reached through a certification counts
    once, as linked. Blocks of certifications no longer registered (`active` false) are left
    out: nobody can obtain them any more. Order: AI-related first, then the blocks linked to
    the fiche, then by code."""
    found: dict[str, dict[int, BlockRecommendation]] = {code: {} for code in codes}
    links = SkillBlock.occupations.through.objects.filter(
        occupation_id__in=codes, skillblock__certification__active=True
    ).select_related("skillblock")
    for link in links:
        found[link.occupation_id].setdefault(link.skillblock_id, BlockRecommendation(link.skillblock))
    certifications: dict[str, set[int]] = {code: set() for code in codes}
    fiches_of: dict[int, list[str]] = {}
    targets = Certification.occupations.through.objects.filter(occupation_id__in=codes, certification__active=True)
    for link in targets:
        certifications[link.occupation_id].add(link.certification_id)
        fiches_of.setdefault(link.certification_id, []).append(link.occupation_id)
    for block in SkillBlock.objects.filter(certification_id__in=fiches_of).select_related("certification"):
        for code in fiches_of[block.certification_id]:
            found[code].setdefault(block.pk, BlockRecommendation(block, block.certification))
    blocks = {
        code: sorted(by_pk.values(), key=lambda r: (not r.ai_related, r.certification is not None, r.code))
        for code, by_pk in found.items()
    }
    return blocks, certifications


def _offer_place(offer: TrainingOffer, commune: Territory | None) -> NearbyOffer:
    """Where `offer` is given nearest to `commune`: its coming sessions' communes, or its
    provider's commune when no session names one."""
    places = [session.commune for session in offer.coming_sessions if session.commune is not None]
    places = places or [offer.provider.commune]
    next_session = min((s.start for s in offer.coming_sessions if s.start is not None), default=None)

    def at(place: Territory | None) -> NearbyOffer:
        located = commune is not None and place is not None
        return NearbyOffer(
            offer=offer,
            commune=place,
            distance_km=distance_km(commune, place) if located else None,
            same_commune=located and place.pk == commune.pk,
            same_departement=located and place.parent_id == commune.parent_id,
            next_session=next_session,
        )

    return min((at(place) for place in places), key=lambda nearby: nearby.sort_key)


def _offers_by_fiche(
    commune: Territory | None, blocks: dict[str, list[BlockRecommendation]], certifications: dict[str, set[int]]
) -> dict[str, list[NearbyOffer]]:
    """The published offers (offer and provider published) leading to one of a fiche's skills
    blocks, to a certification that targets it, or naming the fiche; nearest first (four
    queries, then Python over the candidates)."""
    codes = set(blocks)
    block_ids = {r.block.pk for recommendations in blocks.values() for r in recommendations}
    certification_ids = set().union(*certifications.values())
    wanted_blocks = SkillBlock.objects.filter(pk__in=block_ids).order_by("code")
    coming_sessions = Session.objects.filter(Q(start__gte=timezone.localdate()) | Q(start__isnull=True))
    offers = (
        TrainingOffer.objects.filter(status=CurationStatus.PUBLISHED, provider__status=CurationStatus.PUBLISHED)
        .filter(Q(skill_blocks__in=block_ids) | Q(certification__in=certification_ids) | Q(occupations__in=codes))
        .distinct()
        .select_related("provider__commune", "certification")
        .prefetch_related(
            Prefetch("skill_blocks", wanted_blocks, to_attr="wanted_blocks"),
            Prefetch("occupations", Occupation.objects.filter(code__in=codes), to_attr="wanted_fiches"),
            Prefetch("sessions", coming_sessions.select_related("commune"), to_attr="coming_sessions"),
        )
    )
    ranked = sorted((_offer_place(offer, commune) for offer in offers), key=lambda nearby: nearby.sort_key)
    found: dict[str, list[NearbyOffer]] = {code: [] for code in codes}
    for code in codes:
        fiche_blocks = {r.block.pk for r in blocks[code]}
        for nearby in ranked:
            offer = nearby.offer
            block = next((b for b in offer.wanted_blocks if b.pk in fiche_blocks), None)
            if block is not None:
                reason = f"prépare au bloc {block.code}"
            elif offer.certification_id in certifications[code]:
                reason = f"prépare à la certification {offer.certification.code}"
            elif any(fiche.code == code for fiche in offer.wanted_fiches):
                reason = f"vise le métier {code}"
            else:
                continue
            found[code].append(replace(nearby, reason=reason))
    return found


def _next_steps(run: GridRun | None, jobs: list[JobReport], commune: Territory | None) -> None:
    """Skills blocks, offers nearby and suggested transitions of the exposed jobs (a fixed
    number of queries: two for the transitions, three for the blocks, four for the offers)."""
    exposed = [report for report in jobs if report.is_exposed]
    codes = {report.job.occupation_id for report in exposed}
    if not codes:
        return
    # The same suggestions as the occupation page: ROME mobilités to less exposed fiches,
    # ranked by the competences they share (observatory.analysis.transitions).
    ranked = transitions.top_transitions(selectors.transitions_frame(run, codes), MOBILITIES_PER_JOB)
    suggestions = {code: [] for code in codes}
    for row in ranked.itertuples():
        to_acquire = list(row.core_to_acquire)
        suggestions[row.source].append(
            {
                "target": FicheRef(code=row.target, label=row.label),
                "exposure": row.exposure,
                "class_label": CLASS_LABELS.get(row.exposure_class),
                "difference": -row.drop,
                "shared": row.shared,
                "target_core": row.target_core,
                "core_share": None if math.isnan(row.core_share) else row.core_share,
                "to_acquire": to_acquire[:CORE_SKILLS_SHOWN],
                "to_acquire_more": max(len(to_acquire) - CORE_SKILLS_SHOWN, 0),
            }
        )
    for report in exposed:
        report.mobilities = suggestions[report.job.occupation_id]
        for mobility in report.mobilities:
            mobility["summary"] = _transition_summary(mobility)
            more = mobility["to_acquire_more"]
            listed = mobility["to_acquire"] + ([f"et {more} autre{'s' if more > 1 else ''}"] if more else [])
            mobility["to_acquire_text"] = " ; ".join(listed)
    # The blocks leading to the less exposed jobs shown come with the same three queries.
    targets = {mobility["target"].code for report in exposed for mobility in report.mobilities}
    blocks, certifications = _blocks_by_fiche(codes | targets)
    offers = _offers_by_fiche(
        commune,
        {code: blocks[code] for code in codes},
        {code: certifications[code] for code in codes},
    )
    for report in exposed:
        code = report.job.occupation_id
        report.skill_blocks = blocks[code][:BLOCKS_PER_JOB]
        report.skill_blocks_total = len(blocks[code])
        report.offers = offers[code][:OFFERS_PER_JOB]
        report.offers_total = len(offers[code])
        for mobility in report.mobilities:
            mobility["skill_blocks"] = blocks[mobility["target"].code][:BLOCKS_PER_MOBILITY]


def _transition_summary(mobility: dict) -> str:
    """One suggested transition in words, the same on the page and in the PDF, e.g.
    « exposition 0,24 (−0,38 par rapport à ce métier) ; 3 compétences en commun ; 33 % des
    compétences clés de ce métier déjà acquises »."""
    parts = [
        f"exposition {format_number(mobility['exposure'], 2)} "
        f"({format_number(mobility['difference'], 2).replace('-', '−')} par rapport à ce métier)"
    ]
    shared = mobility["shared"]
    parts.append(
        "aucune compétence en commun" if shared == 0 else f"{shared} compétence{'s' if shared > 1 else ''} en commun"
    )
    if mobility["core_share"] is not None:
        parts.append(f"{format_percent(mobility['core_share'], 0)} des compétences clés de ce métier déjà acquises")
    return " ; ".join(parts)


def company_report(diagnostic: Diagnostic, *, with_figures: bool = True) -> dict:
    """Everything the report page shows about `diagnostic` (fetched with its commune's
    département, sector and campaign); the PDF leaves the plotly figures out."""
    run = GridRun.objects.current(lens=Lens.DEFAULT)
    jobs = list(diagnostic.jobs.select_related("occupation").order_by("pk"))
    min_companies = run.methodology.secrecy_min_companies if run is not None else 3
    scores = {}
    if run is not None:
        scores = {
            score.occupation_id: score
            for score in OccupationScore.objects.filter(run=run, occupation_id__in={job.occupation_id for job in jobs})
        }
    reports = []
    for job in jobs:
        score = scores.get(job.occupation_id)
        show_field, show_blended = (
            score_visibility(score, min_companies=min_companies) if score is not None else (False, False)
        )
        rows = _profile_rows(job, score, show_blended)
        reports.append(
            JobReport(
                job=job,
                score=score,
                profile_rows=rows,
                show_blended=show_blended,
                field_counted=show_field,
                figure=_profile_figure(rows) if with_figures else None,
                class_label=CLASS_LABELS.get(score.exposure_class) if score else None,
            )
        )
    _next_steps(run, reports, diagnostic.commune)
    return {
        "run": run,
        "jobs": reports,
        "headcount": sum(job.headcount for job in jobs),
        "comparison": _comparison(run, diagnostic),
        "maturity": _maturity(diagnostic),
        "exposed": [report for report in reports if report.is_exposed],
    }
