"""Each job of the company report, in the questionnaire's words: its exposure explained with its
class, the profile the observatory retains and how it is weighed, what in the fiche's tasks
exposes it most, and one next step (its transitions are in mobility.py, its training in training.py).

Task categories are named as the questionnaire names them (companies.models.
TASK_LABELS), the code in small print at most. The next step is chosen in one place
(`next_step`): every job gets one, and a declared training need always gets a training or
someone to contact.
"""

from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
from django.urls import reverse

from companies.models import TASK_LABELS, DiagnosticJob, RegionalContact
from skills.models import RomeItem
from skills.profiles import item_weights

from ..analysis import profile_breakdown
from ..charts.common import base_layout, figure_json, format_number, format_percent
from ..models import CATEGORIES, GridRun, OccupationScore
from .training import BlockRecommendation, NearbyOffer

BLOCKS_PER_JOB = 6
BLOCKS_PER_MOBILITY = 3
OFFERS_PER_JOB = 5
# Savoir-faire of the fiche quoted as what exposes it most.
DRIVER_ITEMS = 3
EXPOSED_CLASSES = ("high", "medium")
# A class in a sentence (« Menuisier (6 salariés, changement significatif) »).
CLASS_WORDS = {"high": "exposition forte", "medium": "changement significatif", "low": "exposition faible"}
SERIES = {
    "company": ("Vos réponses", "#1d4f91"),
    "reference": ("Référence du métier", "#a9b4c2"),
    "blended": ("Profil retenu par l'observatoire", "#6f9bd1"),
}


def category_words(category: str) -> str:
    """The questionnaire's words for a task category (« rc » → « Tâches répétitives sur de
    l'information »)."""
    return str(TASK_LABELS[category.lower()][0])


def quoted(text: str) -> str:
    """`text` in French quotation marks, held to it by no-break spaces (a line never starts
    with « » »)."""
    return f"«\u00a0{text}\u00a0»"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


@dataclass(frozen=True)
class NextStep:
    """The one thing the report asks the company to do for a job. `kind`: « offer » (enrol in
    a training nearby), « contact » (ask a regional actor), « transition » (prepare a move to a
    less exposed job), « catalogue » (nothing nor nobody found yet) or « watch » (nothing
    urgent). `text` is one imperative sentence; `detail` says why or how; `url` links the
    offer or the catalogue; `contact` names whom to call."""

    kind: str
    text: str
    detail: str = ""
    url: str = ""
    contact: RegionalContact | None = None


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
    exposure_text: str = ""
    own_exposure: float | None = None
    blend_text: str = ""
    drivers: dict | None = None
    skill_blocks: list[BlockRecommendation] = field(default_factory=list)
    skill_blocks_total: int = 0
    offers: list[NearbyOffer] = field(default_factory=list)
    offers_total: int = 0
    mobilities: list[dict] = field(default_factory=list)
    next_step: NextStep | None = None

    @property
    def figure_id(self) -> str:
        return f"report-figure-{self.job.pk}"

    @property
    def class_words(self) -> str:
        return CLASS_WORDS.get(self.score.exposure_class, "") if self.score is not None else ""

    @property
    def is_exposed(self) -> bool:
        return self.score is not None and self.score.exposure_class in EXPOSED_CLASSES

    @property
    def needs_training(self) -> bool:
        return self.job.training_need

    @property
    def shows_training(self) -> bool:
        """Blocks and offers are listed for the exposed jobs and those with a training need."""
        return self.is_exposed or self.needs_training

    @property
    def show_retained(self) -> bool:
        """The « profil retenu » column appears only where it differs from the reference."""
        return self.show_blended and self.field_counted


def profile_rows(job: DiagnosticJob, score: OccupationScore | None, show_blended: bool) -> list[dict]:
    return [
        {
            "code": category.upper(),
            "label": category_words(category),
            "company": getattr(job, category) / 100,
            "reference": getattr(score, f"ref_{category}") if score else None,
            "blended": getattr(score, category) if score and show_blended else None,
        }
        for category in CATEGORIES
    ]


def profile_figure(rows: list[dict], *, with_blended: bool) -> str:
    """Horizontal grouped bars, one group per task category named in the questionnaire's
    words: the company's shares beside the fiche's reference (and retained) profile. Bars
    lie down so that the long labels read on a phone."""
    figure = go.Figure()
    labels = [_wrap(row["label"]) for row in rows]
    series = {key: value for key, value in SERIES.items() if with_blended or key != "blended"}
    for key, (name, colour) in reversed(series.items()):
        values = [row[key] for row in rows]
        if all(value is None for value in values):
            continue
        figure.add_trace(
            go.Bar(
                y=labels,
                x=[None if value is None else value * 100 for value in values],
                orientation="h",
                name=name,
                marker={"color": colour},
                customdata=[format_percent(value, 0) for value in values],
                hovertemplate=f"{name} : %{{customdata}}<extra></extra>",
            )
        )
    figure.update_layout(
        **base_layout(
            barmode="group",
            height=380,
            margin={"l": 10, "r": 10, "t": 10, "b": 30},
            legend={"orientation": "h", "x": 0, "y": -0.08, "yanchor": "top", "traceorder": "reversed"},
            xaxis={"ticksuffix": "\u00a0%", "rangemode": "tozero", "gridcolor": "#e6e9ee", "fixedrange": True},
            yaxis={"autorange": "reversed", "fixedrange": True, "automargin": True},
        )
    )
    return figure_json(figure)


def _wrap(label: str, width: int = 18) -> str:
    """A label cut into lines of about `width` characters for the chart's axis."""
    lines, line = [], ""
    for word in label.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def exposure_text(score: OccupationScore | None, run: GridRun | None) -> str:
    """The 0–1 exposure in one sentence with its class and the class's bounds."""
    if score is None or score.exposure is None or run is None:
        return "Exposition non calculée : ce métier n'a pas encore de score dans la grille en vigueur."
    methodology = run.methodology
    high, medium = _threshold(methodology.high_threshold), _threshold(methodology.medium_threshold)
    meaning = {
        "high": f"exposition forte (à partir de {high}) : une grande part du travail peut être faite ou transformée "
        "par l'IA",
        "medium": f"changement significatif (de {medium} à {high}) : une partie importante des tâches va évoluer",
        "low": f"exposition faible (moins de {medium}) : l'IA touchera surtout des tâches ponctuelles",
    }[score.exposure_class]
    return f"Exposition {format_number(score.exposure, 2)} sur une échelle de 0 à 1 — {meaning}."


def _threshold(value: float) -> str:
    """A class threshold as people write it: « 0,7 », « 0,48 »."""
    text = format_number(value, 2)
    return text.rstrip("0").rstrip(",") if "," in text else text


def own_exposure(job: DiagnosticJob, run: GridRun | None) -> float | None:
    """E = Σ α_c·s_c of the company's own declared shares, with the run's susceptibilities."""
    if run is None or run.index_id is not None:
        return None
    alpha = run.methodology.susceptibility
    return sum(alpha[c] * getattr(job, c) / 100 for c in CATEGORIES)


def blend_text(score: OccupationScore, run: GridRun, fiche_secret: bool) -> str:
    """How the profile retained by the observatory is weighed, s = (n·s_field + m·s_ref) / (n + m)
    (observatory.analysis.exposure.blend_profiles): the reference counts as m companies. The
    number n of reporting companies is given only where the fiche's counts are published."""
    prior = run.methodology.prior_strength
    text = (
        "Profil retenu par l'observatoire : la moyenne des réponses des entreprises vérifiées qui déclarent ce "
        "métier, pondérée par leurs effectifs, combinée au profil de référence, qui compte autant que "
        f"{format_number(prior)} entreprises. C'est ce profil qui donne l'exposition du métier."
    )
    if not fiche_secret and score.n_companies:
        n = score.n_companies
        field_weight = n / (n + prior)
        text += (
            f" Ici, {format_number(n)} entreprises : leurs réponses comptent pour {format_percent(field_weight, 0)}, "
            f"la référence pour {format_percent(1 - field_weight, 0)}."
        )
    return text


def drivers(report: JobReport, run: GridRun, links: pd.DataFrame) -> dict | None:
    """What exposes the job most: the category whose share × susceptibility weighs most in
    its exposure (analysis.profile_breakdown.exposure_contributions, on the published profile
    or, where it may not be shown, the reference), the company's and the reference's share of
    it, and the fiche's ROME savoir-faire that put the most into that category
    (skill_breakdown's `profile_weight`)."""
    score = report.score
    if score is None or score.exposure is None or run.index_id is not None:
        return None
    prefix = "" if report.show_blended else "ref_"
    profile = {c: getattr(score, f"{prefix}{c}") for c in CATEGORIES}
    if any(value is None for value in profile.values()):
        return None
    contributions = profile_breakdown.exposure_contributions(profile, run.methodology.susceptibility)
    if contributions["contribution"].isna().all():
        return None
    category = str(contributions["contribution"].idxmax())
    items: list[str] = []
    own = links[(links["occupation"] == score.occupation_id) & (links["kind"] == RomeItem.Kind.SKILL)]
    if not own.empty:
        own = own.assign(weight=item_weights(own["core"].to_numpy(), run.methodology.profile_params()))
        breakdown = profile_breakdown.skill_breakdown(own)
        chosen = breakdown[
            (breakdown["status"] == profile_breakdown.CLASSIFIED) & (breakdown["category"] == category)
        ].sort_values("profile_weight", ascending=False, kind="stable")
        items = list(chosen["label"].head(DRIVER_ITEMS))
    return {
        "code": category.upper(),
        "label": category_words(category),
        "words": _lower_first(category_words(category)),
        "contribution": float(contributions.loc[category, "contribution"]),
        "company": getattr(report.job, category) / 100,
        "reference": getattr(score, f"ref_{category}"),
        "items": items,
        "summary": _drivers_summary(category, contributions, report),
    }


def _drivers_summary(category: str, contributions: pd.DataFrame, report: JobReport) -> str:
    share = format_percent(float(contributions.loc[category, "contribution"]), 0)
    reference = getattr(report.score, f"ref_{category}")
    text = (
        f"Ce qui expose le plus ce métier : {quoted(category_words(category))} ({share} de son exposition). "
        f"Vous y consacrez {format_percent(getattr(report.job, category) / 100, 0)} du temps"
    )
    if reference is not None:
        text += f", la référence du métier {format_percent(reference, 0)}"
    return text + "."


def _contact_for_training(contacts: list[RegionalContact]) -> RegionalContact | None:
    """Whom to ask for a training the catalogue lacks: the OPCO first (it funds the training
    of employees), else the first contact of the directory."""
    opco = next((c for c in contacts if c.kind == RegionalContact.Kind.OPCO), None)
    return opco or (contacts[0] if contacts else None)


def next_step(report: JobReport, contacts: list[RegionalContact], catalogue_url: str) -> NextStep:
    """The one next step of a job. A job with a training need or an exposed job: the nearest
    offer; else, where the catalogue has nothing, a contact (the OPCO first) to find or fund
    one, naming the block to aim for; else the catalogue. An exposed job without offer, need
    nor block to ask for, with a transition: that transition. A job with low exposure and no
    need: nothing urgent."""
    label = report.job.occupation.label
    if report.shows_training and report.offers:
        nearby = report.offers[0]
        place = f", {nearby.commune.name}" if nearby.commune is not None else ""
        return NextStep(
            kind="offer",
            text=f"Inscrire les personnes concernées à la formation {quoted(nearby.offer.title)} "
            f"({nearby.offer.provider.name}{place}).",
            detail=nearby.reason[:1].upper() + nearby.reason[1:] + "." if nearby.reason else "",
            url=nearby.url,
        )
    contact = _contact_for_training(contacts)
    block_to_ask = report.is_exposed and report.skill_blocks and contact is not None
    if report.needs_training or block_to_ask or (report.is_exposed and not report.mobilities):
        if report.skill_blocks:
            block = report.skill_blocks[0]
            aim = f"une formation menant au bloc de compétences {quoted(block.label)} ({block.code})"
        else:
            aim = f"une formation adaptée au métier {quoted(label)}"
        if contact is not None:
            return NextStep(
                kind="contact",
                text=f"Demander à {contact.name} {aim} : le catalogue n'en propose pas encore près de chez vous.",
                detail=contact.role,
                url=contact.website,
                contact=contact,
            )
        return NextStep(
            kind="catalogue",
            text=f"Chercher {aim} dans le catalogue des formations, qui s'enrichit régulièrement.",
            url=catalogue_url,
        )
    if report.is_exposed:
        move = report.mobilities[0]
        return NextStep(
            kind="transition",
            text=f"Étudier avec les personnes concernées une évolution vers le métier {quoted(move['target'].label)} "
            f"({move['target'].code}), moins exposé.",
            detail=move["summary"][:1].upper() + move["summary"][1:] + ".",
        )
    if report.score is None or report.score.exposure is None:
        detail = "Son exposition sera calculée avec la prochaine grille de l'observatoire."
    else:
        detail = "Son exposition est faible : l'IA touchera surtout des tâches ponctuelles."
    focus = f" (en priorité : {report.drivers['words']})" if report.drivers else ""
    return NextStep(
        kind="watch",
        text=f"Pas d'action urgente : présenter à l'équipe les outils d'IA utiles à ce métier{focus}, et refaire "
        "le point au prochain diagnostic annuel.",
        detail=detail,
    )


def catalogue_url() -> str:
    return reverse("trainings:catalogue")
