"""Reads of the occupation search and detail pages (/observatoire/metiers/)."""

import logging
from dataclasses import dataclass

import pandas as pd
from django.db.models import Q

from companies.models import Territory
from skills import selectors as skills_selectors
from skills.models import ExposureIndexScore, Occupation
from skills.text import accent_insensitive_pattern, fold

from .. import published
from ..models import CATEGORIES, GridCell, OccupationScore

logger = logging.getLogger(__name__)

OCCUPATION_CELL_VALUES = ["companies", "employees", "training_need_share"]


def occupation_fiche(code: str):
    """The fiche métier `code` with its domaine and grand domaine, or None (also for the
    code of a domaine or grand domaine: only fiches have a page)."""
    return Occupation.objects.fiches().select_related("parent__parent").filter(code=code).first()


def occupation_score(run, code: str) -> OccupationScore | None:
    if run is None:
        return None
    return OccupationScore.objects.filter(run=run, occupation_id=code).first()


def task_profile_frame(score: OccupationScore, susceptibility: dict[str, float] | None = None) -> pd.DataFrame:
    """The three task profiles of a score side by side (no query).

    Index: category codes as TaskCategory writes them (RC … NRM). Columns: reference, field
    (NaN when no company reported the fiche), blended (fractions of 1), alpha (the run's
    susceptibility, NaN when not given) and contribution (alpha × blended, summing to E).
    """
    rows = []
    for category in CATEGORIES:
        field = getattr(score, f"field_{category}")
        alpha = (susceptibility or {}).get(category)
        blended = getattr(score, category)
        rows.append(
            {
                "category": category.upper(),
                "reference": getattr(score, f"ref_{category}"),
                "field": field,
                "blended": blended,
                "alpha": alpha,
                "contribution": alpha * blended if alpha is not None else None,
            }
        )
    return pd.DataFrame(rows).set_index("category").astype(float)


def occupation_cells_frame(run, code: str) -> pd.DataFrame:
    """The run's cells of fiche `code` (all sectors and sizes) for the whole area and each
    département, with the département's name, in one query.

    Columns: territory_level ("all" or "departement"), code, name, secret, secret_reason and
    companies, employees, training_need_share (NaN when secret). Whole area first, then
    départements by name, the unknown member last.
    """
    from django.db.models import OuterRef, Subquery

    from ..analysis.codes import unknown_mask

    columns = ["territory_level", "code", "name", "secret", "secret_reason", *OCCUPATION_CELL_VALUES]
    if run is None:
        return pd.DataFrame(columns=columns)
    departements = Territory.objects.filter(level=Territory.Level.DEPARTEMENT, code=OuterRef("territory_code"))
    name = departements.values("name")[:1]
    rows = (
        GridCell.objects.filter(
            run=run,
            territory_level__in=("all", "departement"),
            sector_level="all",
            occupation_level="fiche",
            occupation_code=code,
            size_band="all",
        )
        .annotate(name=Subquery(name))
        .order_by()
    )
    fields = ["territory_level", "territory_code", "name", "secret", "secret_reason", *OCCUPATION_CELL_VALUES]
    frame = published.cells_frame(rows, fields).rename(columns={"territory_code": "code"})
    frame.loc[frame["territory_level"] == "all", "name"] = "Ensemble"
    unknown = unknown_mask(frame["code"])
    frame.loc[unknown, "name"] = "Département non renseigné"
    frame["name"] = frame["name"].fillna(frame["code"])
    order = frame["territory_level"].eq("departement").astype(int) + unknown.astype(int)
    frame = frame.assign(_order=order).sort_values(["_order", "name"]).drop(columns="_order")
    return frame.reset_index(drop=True)


def occupation_appellations(code: str) -> list[dict]:
    """The ROME appellations of a fiche, the usual ones first: label, rarely_used."""
    from skills.models import Appellation

    return list(
        Appellation.objects.filter(occupation_id=code).order_by("rarely_used", "label").values("label", "rarely_used")
    )


MOBILITY_COLUMNS = [
    "source",
    "target",
    "label",
    "rank",
    "source_exposure",
    "source_class",
    "exposure",
    "exposure_class",
]


def mobilities_frame(run, codes) -> pd.DataFrame:
    """The ROME mobilités from the fiches `codes`, each with the source's and the target's
    exposure and class in `run`, in one query.

    Columns: source, target, label (the target's), rank (the ROME's order), source_exposure,
    source_class, exposure, exposure_class (the target's); exposures NaN and classes "" where
    the run has no score (or there is no run).
    """
    from django.db.models import OuterRef, Subquery

    from skills.models import Mobility

    annotations = {}
    if run is not None:
        targets = OccupationScore.objects.filter(run=run, occupation_id=OuterRef("target_id"))
        sources = OccupationScore.objects.filter(run=run, occupation_id=OuterRef("source_id"))
        annotations = {
            "source_exposure": Subquery(sources.values("exposure")[:1]),
            "source_class": Subquery(sources.values("exposure_class")[:1]),
            "exposure": Subquery(targets.values("exposure")[:1]),
            "exposure_class": Subquery(targets.values("exposure_class")[:1]),
        }
    rows = (
        Mobility.objects.filter(source_id__in=list(codes))
        .annotate(**annotations)
        .values_list("source_id", "target_id", "target__label", "rank", *annotations)
        .order_by("source_id", "rank")
    )
    frame = pd.DataFrame.from_records(rows, columns=MOBILITY_COLUMNS[: 4 + len(annotations)])
    frame = frame.reindex(columns=MOBILITY_COLUMNS)
    for column in ("source_exposure", "exposure"):
        frame[column] = frame[column].astype(float)
    for column in ("source_class", "exposure_class"):
        frame[column] = frame[column].fillna("").astype(str)
    return frame


def skill_links_frame(codes) -> pd.DataFrame:
    """The savoir-faire of the fiches `codes`, in one query: occupation, item (OGR code), core
    ("principale", "emergente" or "") and label. Classification aside: what two fiches share
    does not depend on how their items are classified."""
    from skills.models import OccupationItem, RomeItem

    rows = (
        OccupationItem.objects.filter(occupation_id__in=list(codes), item__kind=RomeItem.Kind.SKILL)
        .values_list("occupation_id", "item_id", "core", "item__label")
        .order_by()
    )
    return pd.DataFrame.from_records(rows, columns=["occupation", "item", "core", "label"])


def fiche_links_frames(run, code: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the page of fiche `code` needs of the ROME items, in three queries: its mobilités
    scored in `run` (`mobilities_frame`) and the item links of the fiche and of its targets
    with the classification in force (skills.selectors.item_links_frame, LINK_COLUMNS), which
    both the profile breakdown and the suggested transitions read."""
    from skills.selectors import item_links_frame

    mobilities = mobilities_frame(run, [code])
    links = item_links_frame(occupations={code, *mobilities["target"]})
    return mobilities, links


def transitions_frame(run, codes, *, mobilities=None, links=None) -> pd.DataFrame:
    """The transitions worth suggesting from the fiches `codes` under `run`, best first
    (observatory.analysis.transitions.rank_transitions: its columns, and the target's
    `label`). Two queries, none when the page passes the `mobilities` and item `links` it
    already loaded (`fiche_links_frames`). Empty without a run."""
    from skills.models import RomeItem

    from ..analysis import transitions

    if run is None:
        return pd.DataFrame(columns=[*transitions.TRANSITION_COLUMNS, "label"])
    if mobilities is None:
        mobilities = mobilities_frame(run, codes)
    if links is None:
        links = skill_links_frame({*codes, *mobilities["target"]})
    elif "kind" in links.columns:
        links = links.loc[links["kind"] == RomeItem.Kind.SKILL, ["occupation", "item", "core", "label"]]
    return transitions.rank_transitions(mobilities, links, margin=run.methodology.transition_margin)


@dataclass
class ProfileBreakdown:
    """Why a fiche is as exposed as it is (observatory.analysis.profile_breakdown).

    `items`: its savoir-faire (`skill_breakdown` columns, plus `override_by` and `override_at`
    for an item a person reclassified). `categories`: index rc…nrm, columns `share` and
    `items` (`category_evidence`), `reference` (the run's reference profile), `blended` (the
    published profile) and `alpha`, `product`, `contribution` (`exposure_contributions`;
    NaN when the blended profile may not be shown or the exposure comes from an external
    index). `contexts`: `context_shifts`. `source`: the reference profile's source
    (skills.profiles: rome_items, domain_defaults or imported); `evidence`: its classified
    savoir-faire; `overridden_since_run`: a person reclassified one of its items after the
    run was computed.
    """

    items: pd.DataFrame
    categories: pd.DataFrame
    contexts: pd.DataFrame
    source: str
    evidence: int
    overridden_since_run: bool = False


def profile_breakdown(run, score, links: pd.DataFrame, *, with_contributions: bool = True) -> ProfileBreakdown:
    """The breakdown of `score`'s fiche in `run` from its item `links` (item_links_frame rows,
    other fiches' links ignored). One query, for the authors of the corrections, only when
    one of the fiche's items was reclassified by a person."""
    from skills.classification import describe_rule
    from skills.classification.contexts import CONTEXT_RULES
    from skills.models import ItemOverride, RomeItem
    from skills.profiles import item_weights

    from ..analysis import profile_breakdown as breakdown

    code = score.occupation_id
    methodology = run.methodology
    own = links[links["occupation"] == code]
    skills = own[own["kind"] == RomeItem.Kind.SKILL]
    skills = skills.assign(weight=item_weights(skills["core"].to_numpy(), methodology.profile_params()))
    items = breakdown.skill_breakdown(skills)
    items["rule_text"] = [describe_rule(r, label) for r, label in zip(items["rule"], items["label"], strict=True)]

    items["override_by"], items["override_at"] = "", None
    overridden_since_run = False
    if items["overridden"].any():
        rows = (
            ItemOverride.objects.filter(item_id__in=list(items.loc[items["overridden"], "item"]))
            .order_by("item_id", "-created_at", "-pk")
            .values_list(
                "item_id", "created_by__first_name", "created_by__last_name", "created_by__username", "created_at"
            )
        )
        authors = pd.DataFrame.from_records(rows, columns=["item", "first", "last", "username", "at"])
        authors = authors.drop_duplicates("item").set_index("item")
        names = (authors["first"].fillna("") + " " + authors["last"].fillna("")).str.strip()
        names = names.where(names != "", authors["username"].fillna(""))
        rows = items["overridden"].to_numpy()
        items.loc[rows, "override_by"] = names.reindex(items.loc[rows, "item"]).to_numpy()
        items.loc[rows, "override_at"] = authors["at"].reindex(items.loc[rows, "item"]).to_numpy()
        if run.finished_at is not None:
            overridden_since_run = bool((authors["at"] > run.finished_at).any())

    categories = breakdown.category_evidence(items)
    categories["reference"] = [getattr(score, f"ref_{c}") for c in CATEGORIES]
    categories["blended"] = [getattr(score, c) for c in CATEGORIES]
    contributions = breakdown.exposure_contributions(
        categories["blended"].to_dict() if with_contributions and run.index_id is None else {},
        methodology.susceptibility,
    )
    categories = categories.join(contributions[["alpha", "product", "contribution"]])

    contexts = own.loc[(own["kind"] == RomeItem.Kind.CONTEXT) & (own["rule"] != ""), ["label", "rule"]]
    rules = {name: weights for name, (_pattern, weights, _why) in CONTEXT_RULES.items()}
    source = score.ref_source or (run.profile_source or "").split(":", 1)[0]
    return ProfileBreakdown(
        items=items,
        categories=categories,
        contexts=breakdown.context_shifts(contexts, rules),
        source=source,
        evidence=int((items["status"] == breakdown.CLASSIFIED).sum()),
        overridden_since_run=overridden_since_run,
    )


def occupation_index_scores_frame(code: str) -> pd.DataFrame:
    """The external indices' scores of fiche `code`, one row per imported index.

    Columns: index (id), name, code_system, rescaled, score (in [0, 1]), raw_score,
    matched_codes. Ordered by index name.
    """
    rows = (
        ExposureIndexScore.objects.filter(occupation_id=code)
        .values_list(
            "index_id", "index__name", "index__code_system", "index__rescaled", "score", "raw_score", "matched_codes"
        )
        .order_by("index__name")
    )
    return pd.DataFrame.from_records(
        rows, columns=["index", "name", "code_system", "rescaled", "score", "raw_score", "matched_codes"]
    )


def _match_rank(query: str, code: str, label: str) -> int:
    """0 exact code, 1 code prefix, 2 label starting with the query, 3 label containing it,
    4 matched through an appellation only."""
    folded, folded_label = fold(query.strip()), fold(label)
    if code.upper() == query.strip().upper():
        return 0
    if code.upper().startswith(query.strip().upper()):
        return 1
    if folded_label.startswith(folded):
        return 2
    if folded in folded_label:
        return 3
    return 4


def _score_subqueries(run) -> dict:
    from django.db.models import OuterRef, Subquery

    scores = OccupationScore.objects.filter(run=run, occupation_id=OuterRef("code"))
    return {
        "exposure": Subquery(scores.values("exposure")[:1]),
        "exposure_class": Subquery(scores.values("exposure_class")[:1]),
    }


def occupation_search(query: str, run=None, limit: int = 50) -> tuple[list[dict], bool]:
    """Fiches whose code starts with `query`, or whose label or one of whose appellations
    contains it (case and accents ignored), with their exposure in `run`; two queries.

    Returns (rows, more): rows are dicts code, label, domaine, appellation (the first matching
    appellation, "" when the fiche matched on its code or label), exposure, exposure_class;
    best matches first (code, then label, then appellation), at most `limit`; `more` tells that
    more fiches matched.
    """
    from skills.models import Appellation

    query = query.strip()
    if not query:
        return [], False
    pattern = accent_insensitive_pattern(query)
    matching_appellations = Appellation.objects.filter(label__iregex=pattern)
    fiches = Occupation.objects.fiches().filter(
        Q(code__istartswith=query)
        | Q(label__iregex=pattern)
        | Q(code__in=matching_appellations.values("occupation_id"))
    )
    annotations = _score_subqueries(run) if run is not None else {}
    # A generous slice ranked in Python: the best matches must not be cut by the label order.
    candidates = list(
        fiches.annotate(**annotations)
        .values("code", "label", "parent__label", *annotations)
        .order_by("label")[: limit * 4 + 1]
    )
    for row in candidates:
        row["domaine"] = row.pop("parent__label") or ""
        row.setdefault("exposure", None)
        row.setdefault("exposure_class", "")
        row["rank"] = _match_rank(query, row["code"], row["label"])
    candidates.sort(key=lambda row: (row["rank"], fold(row["label"])))
    more = len(candidates) > limit
    rows = candidates[:limit]
    through_appellation = [row["code"] for row in rows if row["rank"] == 4]
    first_appellation = {}
    for occupation_id, label in (
        matching_appellations.filter(occupation_id__in=through_appellation)
        .order_by("rarely_used", "label")
        .values_list("occupation_id", "label")
    ):
        first_appellation.setdefault(occupation_id, label)
    for row in rows:
        row["appellation"] = first_appellation.get(row["code"], "")
    return rows, more


def occupation_suggestions(query: str, limit: int = 10) -> list[dict]:
    """Suggestions for the search box, best first, at most `limit`: the site's one search by
    job title (skills.selectors.occupation_suggestions, which the explorer and the diagnostic
    use too): [{code, label, appellation, value}], `appellation` None for a fiche match."""
    return skills_selectors.occupation_suggestions(query, limit=limit)


def most_exposed_occupations(run, limit: int = 10) -> list[dict]:
    """The fiches with the highest exposure in `run` (scores are not company data: no
    secrecy applies), for the search page before any query: code, label, exposure,
    exposure_class."""
    if run is None:
        return []
    return [
        {"code": code, "label": label, "exposure": exposure, "exposure_class": exposure_class}
        for code, label, exposure, exposure_class in OccupationScore.objects.filter(run=run, exposure__isnull=False)
        .order_by("-exposure", "occupation_id")
        .values_list("occupation_id", "occupation__label", "exposure", "exposure_class")[:limit]
    ]
