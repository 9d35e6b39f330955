"""Reads of the public explorer « Mon métier face à l'IA » (/metiers/).

Everything shown of the grid comes from the current editions (published runs, one per lens)
through the observatory's one read layer (observatory.published): a fiche's exposure and
profile are shown only as `mask_occupation_scores` lets them be, and an exposure is shown only
where its blended profile is (below the methodology's minimum of companies it would carry
their answers). The ROME (what a job is made of, its mobilités), the RNCP (skills blocks) and
the published catalogue are public reference data.
"""

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db.models import Prefetch
from django.http import QueryDict
from django.urls import reverse

from companies.contacts import contacts_for
from companies.models import RegionalContact, Territory
from observatory.analysis import profile_breakdown, transitions
from observatory.models import CATEGORIES, GridRun, Lens, OccupationScore
from observatory.published import fiche_secrecy, mask_occupation_scores
from observatory.selectors import skill_links_frame
from skills.models import Appellation, Mobility, Occupation, RomeItem, SkillBlock
from skills.profiles import item_weights
from skills.selectors import item_links_frame
from skills.text import fold
from trainings import selectors as catalogue
from trainings.filters import DEFAULT_RADIUS_KM, REGION_CODE

# The order the lenses are read in on the pages: the two that published indices follow, then
# the one in between.
LENSES = (Lens.GENAI, Lens.AUTOMATION, Lens.DEFAULT)
# Fiches shown with their offers nearby on a fiche's page, offers listed for each.
TRANSITIONS_WITH_OFFERS = 3
OFFERS_PER_TRANSITION = 3
OFFERS_ON_PATHWAY = 8
SESSIONS_PER_OFFER = 3
# The regional actors a person turns to, rather than a company: the Région's training and
# employment services, France Travail and the other accompaniments (Transitions Pro…). The
# OPCO and the chambers serve companies, so the explorer leaves them to the company report.
PERSON_CONTACT_KINDS = (
    RegionalContact.Kind.REGION,
    RegionalContact.Kind.FRANCE_TRAVAIL,
    RegionalContact.Kind.OTHER,
)
# When no edition exists yet, items are weighed as the method's defaults do (core items 2).
DEFAULT_ITEM_WEIGHTS = {"core_weight": 2.0, "emerging_weight": 1.0, "other_weight": 1.0}
SCORE_COLUMNS = [
    "n_companies",
    "employees",
    *CATEGORIES,
    *(f"ref_{c}" for c in CATEGORIES),
    *(f"field_{c}" for c in CATEGORIES),
    "exposure",
    "exposure_class",
]


def occupation_fiche(code: str) -> Occupation | None:
    """The fiche métier `code` with its domaine, or None (a domaine's code has no page)."""
    if not re.fullmatch(r"[A-Z]\d{4}", code or ""):
        return None
    return Occupation.objects.fiches().select_related("parent").filter(code=code).first()


def appellations(code: str) -> list[str]:
    """The usual titles of a fiche's job, the rarely used ones left out."""
    return list(
        Appellation.objects.filter(occupation_id=code, rarely_used=False)
        .order_by("label")
        .values_list("label", flat=True)
    )


def editions() -> dict[str, GridRun]:
    """The current edition of each lens computed from tasks (not from an external index):
    {lens: run}, lenses without an edition left out. One query."""
    runs = (
        GridRun.objects.published()
        .filter(is_current=True, index__isnull=True)
        .select_related("methodology")
        .order_by("-published_at")
    )
    found = {}
    for run in runs:
        found.setdefault(run.methodology.lens, run)
    return found


def published_scores(runs: dict[str, GridRun], codes) -> pd.DataFrame:
    """The scores of fiches `codes` in each edition of `runs`, as they may be published.

    One row per (lens, fiche): columns `lens`, `code_rome` and SCORE_COLUMNS after
    observatory.published.mask_occupation_scores (its `secret` column included); `exposure`
    and `exposure_class` are emptied with the blended profile (NaN, ""), and `field_shown`
    says whether the companies' answers may be shown. One query, and one per edition for the
    fiches' secrecy.
    """
    codes = sorted(set(codes))
    columns = ["lens", "code_rome", *SCORE_COLUMNS, "secret", "field_shown"]
    if not runs or not codes:
        return pd.DataFrame(columns=columns)
    rows = OccupationScore.objects.filter(run__in=list(runs.values()), occupation_id__in=codes).values_list(
        "run_id", "occupation_id", *SCORE_COLUMNS
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["run", "code_rome", *SCORE_COLUMNS])
    parts = []
    for lens, run in runs.items():
        part = frame[frame["run"] == run.pk].drop(columns="run")
        if part.empty:
            continue
        floats = [c for c in SCORE_COLUMNS if c not in ("n_companies", "employees", "exposure_class")]
        part = part.astype(dict.fromkeys(floats, float))
        masked = mask_occupation_scores(
            part,
            secrecy=fiche_secrecy(run, part["code_rome"]),
            min_companies=run.methodology.secrecy_min_companies,
        )
        hidden = masked["rc"].isna().to_numpy()
        masked.loc[hidden, "exposure"] = np.nan
        masked.loc[hidden, "exposure_class"] = ""
        masked["field_shown"] = masked["field_rc"].notna()
        masked.insert(0, "lens", lens)
        parts.append(masked)
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


# --- What a job is made of ------------------------------------------------------------------


@dataclass
class FicheContent:
    """A fiche's ROME 4.0 description, as the explorer shows it.

    `skills`: its savoir-faire (observatory.analysis.profile_breakdown.skill_breakdown
    columns: `category` "" for those no rule classified); `categories`: index rc…nrm, column
    `share` (each category's part of the classified savoir-faire) and `items`; `contexts`
    and `knowledge`: labels of its work contexts and of its savoirs (core ones first).
    """

    skills: pd.DataFrame
    categories: pd.DataFrame
    contexts: list[str]
    knowledge: list[str]


def fiche_content(code: str, links: pd.DataFrame, weights: dict) -> FicheContent:
    """The content of fiche `code` from its item `links` (skills.selectors.item_links_frame
    rows; other fiches' rows ignored). `weights`: the methodology's item weights. No query."""
    own = links[links["occupation"] == code]
    skills = own[own["kind"] == RomeItem.Kind.SKILL]
    skills = skills.assign(weight=item_weights(skills["core"].to_numpy(), weights))
    breakdown = profile_breakdown.skill_breakdown(skills)

    def labels(kind):
        rows = own[own["kind"] == kind]
        rows = rows.assign(main=rows["core"] == "principale").sort_values(["main", "label"], ascending=[False, True])
        return list(rows["label"])

    return FicheContent(
        skills=breakdown,
        categories=profile_breakdown.category_evidence(breakdown),
        contexts=labels(RomeItem.Kind.CONTEXT),
        knowledge=labels(RomeItem.Kind.KNOWLEDGE),
    )


def exposure_reasons(score: pd.Series, susceptibility: dict) -> pd.DataFrame:
    """Why a published score is what it is: index rc…nrm, columns `share` (the published
    profile), `alpha`, `product` and `contribution` (observatory.analysis.profile_breakdown.
    exposure_contributions), largest contribution first. Empty when the profile is hidden."""
    if pd.isna(score["rc"]):
        return pd.DataFrame(columns=["share", "alpha", "product", "contribution"])
    profile = {c: float(score[c]) for c in CATEGORIES}
    frame = profile_breakdown.exposure_contributions(profile, susceptibility)
    return frame.sort_values("contribution", ascending=False, kind="stable")


# --- Transitions ----------------------------------------------------------------------------


def fiche_page_data(code: str, runs: dict[str, GridRun]):
    """What the page of fiche `code` reads, in a fixed number of queries (four, plus one per
    edition): its mobilités (columns source, target, label, rank: the ROME's order), the
    published scores of the fiche and of its targets in every edition, and the item links of
    all of them."""
    rows = Mobility.objects.filter(source_id=code).values_list("source_id", "target_id", "target__label", "rank")
    mobilities = pd.DataFrame.from_records(list(rows.order_by("rank")), columns=["source", "target", "label", "rank"])
    codes = {code, *mobilities["target"]}
    scores = published_scores(runs, codes)
    links = item_links_frame(occupations=codes)
    return mobilities, scores, links


def rank_published_transitions(
    run: GridRun | None, mobilities: pd.DataFrame, scores: pd.DataFrame, links: pd.DataFrame, lens: str
) -> pd.DataFrame:
    """The transitions worth taking under `lens` (observatory.analysis.transitions), from the
    published exposures only: a fiche whose exposure may not be shown is neither a source nor
    a target. `links`: item links (any kinds). No query."""
    if run is None or mobilities.empty:
        return pd.DataFrame(columns=[*transitions.TRANSITION_COLUMNS, "label"])
    lens_scores = scores[scores["lens"] == lens].set_index("code_rome")
    exposure = lens_scores["exposure"].astype(float)
    classes = lens_scores["exposure_class"].astype(str)
    frame = mobilities.copy()
    frame["source_exposure"] = frame["source"].map(exposure).astype(float)
    frame["source_class"] = frame["source"].map(classes).fillna("")
    frame["exposure"] = frame["target"].map(exposure).astype(float)
    frame["exposure_class"] = frame["target"].map(classes).fillna("")
    skills = links.loc[links["kind"] == RomeItem.Kind.SKILL, ["occupation", "item", "core", "label"]]
    return transitions.rank_transitions(frame, skills, margin=run.methodology.transition_margin)


def competences_between(source: str, target: str, links: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The savoir-faire of `target` the holder of `source` already has, and those to acquire:
    two frames (`item`, `label`, `core`), the target's core ones first, then by label.
    `links`: savoir-faire links with columns occupation, item, core, label. No query."""
    held = set(links.loc[links["occupation"] == source, "item"])
    wanted = links[links["occupation"] == target].drop_duplicates("item")
    wanted = wanted.assign(main=wanted["core"] == "principale").sort_values(
        ["main", "label"], ascending=[False, True], kind="stable"
    )
    columns = ["item", "label", "core"]
    common = wanted[wanted["item"].isin(held)][columns].reset_index(drop=True)
    to_acquire = wanted[~wanted["item"].isin(held)][columns].reset_index(drop=True)
    return common, to_acquire


def pathway_links(source: str, target: str) -> pd.DataFrame:
    """The savoir-faire links of two fiches (observatory.selectors.skill_links_frame). One query."""
    return skill_links_frame([source, target])


def is_rome_mobility(source: str, target: str) -> bool:
    return Mobility.objects.filter(source_id=source, target_id=target).exists()


# --- Skills blocks and offers ---------------------------------------------------------------

# Words too common in ROME competences and RNCP blocks to say that one covers the other.
_GENERIC_TEXT = (
    "realiser effectuer assurer mettre oeuvre suivre gerer participer definir utiliser appliquer "
    "contribuer elaborer preparer organiser proceder veiller respecter adapter identifier "
    "activite activites action actions cadre travail selon dans avec pour leur leurs cette "
    "ensemble professionnel professionnelle professionnels professionnelles situation "
    "operations operation donnees informations information besoins besoin outils moyens "
    "regles structure entreprise client clients public personnes personne general generale"
)
_GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())


def key_words(label: str) -> set[str]:
    """The words of a label that say what it is about: folded, at least five letters, not a
    generic verb or noun, cut to their first seven letters (« comptables » and
    « comptabilité » meet as « comptab »)."""
    words = re.findall(r"[a-z]+", fold(label))
    return {word[:7] for word in words if len(word) >= 5 and word not in _GENERIC_WORDS}


@dataclass
class BlockTowards:
    """A skills block leading to a fiche: linked to it, or a block of an active certification
    that targets it (`certification` then set). `covers`: the competences to acquire whose key
    words its label shares."""

    block: SkillBlock
    certification: object = None
    covers: list[str] = field(default_factory=list)


def blocks_towards(code: str, competences: list[str]) -> list[BlockTowards]:
    """The skills blocks leading to fiche `code`, as the company report recommends them
    (observatory.report.training.blocks_by_fiche: linked to the fiche, or of an active
    certification targeting it), those covering the most of `competences` first, then
    AI-related, linked, by code; each with its certification loaded. Four queries."""
    from observatory.report.training import blocks_by_fiche
    from skills.models import Certification

    recommendations = blocks_by_fiche({code})[0][code]
    certifications = Certification.objects.in_bulk({r.block.certification_id for r in recommendations})
    wanted = [(label, key_words(label)) for label in competences]
    found = []
    for recommendation in recommendations:
        block = recommendation.block
        block.certification = certifications[block.certification_id]
        words = key_words(block.label)
        covers = [label for label, keys in wanted if keys & words]
        found.append(BlockTowards(block, recommendation.certification, covers))
    found.sort(key=lambda b: (-len(b.covers), not b.block.ai_related, b.certification is not None, b.block.code))
    return found


@dataclass
class Place:
    """Where a person looks for training: a commune of Hauts-de-France and a radius in km, as
    the public catalogue's form accepts them; `errors` says why what was typed was refused."""

    commune: object = None
    radius: int = DEFAULT_RADIUS_KM
    errors: list[str] = field(default_factory=list)


def nearby_place(commune: str, radius: str) -> Place:
    """The commune (name or INSEE code) and radius typed, checked by the catalogue's own form
    (trainings.filters.CatalogueFilter): one to three queries when a commune is given."""
    if not commune:
        return Place()
    data = QueryDict(mutable=True)
    data.update({"commune": commune, "rayon": radius or str(DEFAULT_RADIUS_KM)})
    filterset, _results = catalogue.offer_search(data=data)
    form = filterset.form
    if not form.is_valid():
        return Place(errors=[str(error) for errors in form.errors.values() for error in errors])
    return Place(commune=filterset.chosen_commune, radius=form.cleaned_data["rayon"])


@dataclass
class NearbyOffers:
    """Published offers leading to a fiche, found as the public catalogue finds them."""

    offers: list
    more: bool
    catalogue_url: str


def offers_towards(code: str, place: Place, *, limit: int = OFFERS_PER_TRANSITION) -> NearbyOffers:
    """The first `limit` published offers leading to fiche `code` (aimed at it, at its
    certification or at one of its blocks), within `place` when it names a commune, by next
    session: trainings.selectors.offer_search with the catalogue's filters (metier, commune,
    rayon). Each offer carries `upcoming` (its coming sessions), `next_session`,
    `distance_km`, its provider, certification and `skill_blocks`. Five or six queries."""
    data = QueryDict(mutable=True)
    data["metier"] = code
    if place.commune is not None:
        data.update({"commune": place.commune.code, "rayon": str(place.radius)})
    _filterset, results = catalogue.offer_search(data=data)
    offers = list(results.prefetch_related(Prefetch("skill_blocks", SkillBlock.objects.order_by("code")))[: limit + 1])
    return NearbyOffers(
        offers=offers[:limit],
        more=len(offers) > limit,
        catalogue_url=f"{reverse('trainings:catalogue')}?{data.urlencode()}",
    )


@dataclass
class Contacts:
    """Whom a person turns to: the contacts, and the département they serve (None: no commune
    is chosen, and they are the contacts of the whole région)."""

    contacts: list
    departement: Territory | None = None


def contacts_near(place: Place) -> Contacts:
    """The active regional contacts of PERSON_CONTACT_KINDS serving the département of the
    commune chosen in `place` (companies.contacts.contacts_for: those of the département and
    of the whole région, whatever their sector), in the report's order; without a commune,
    those serving the whole région. One or two queries."""
    departement = None
    if place.commune is not None and place.commune.parent_id is not None:
        departement = place.commune.parent
    code = departement.code if departement is not None else REGION_CODE
    contacts = list(contacts_for(code, None).filter(kind__in=PERSON_CONTACT_KINDS))
    return Contacts(contacts=contacts, departement=departement)
