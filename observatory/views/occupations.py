"""Occupation pages: the search (with its autocomplete) and the page of one ROME fiche."""

import math

import pandas as pd
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format

from skills.models import TaskCategory
from skills.profiles import PROFILE_SOURCE_LABELS

from .. import published, selectors
from ..analysis import profile_breakdown
from ..analysis.exposure import HIGH_THRESHOLD, MEDIUM_THRESHOLD
from ..charts import occupation as occupation_charts
from ..charts.common import figure_json, format_number, format_percent
from ..charts.map import secret_label
from ..models import CATEGORIES
from ..permissions import analyst_required
from ..published import blend_companies, score_visibility
from .common import lens_tabs, run_or_none

MAX_QUERY_LENGTH = 100
AUTOCOMPLETE_MIN_LENGTH = 2
AUTOCOMPLETE_LIMIT = 10
SEARCH_LIMIT = 50
# Floor of each term of the RTI (observatory.analysis.exposure), written out on the page.
RTI_EPSILON = 0.01
CATEGORY_LABELS = {code: str(label) for code, label in TaskCategory.Code.choices}
# A suggested transition lists this many of the target's core competences to acquire, then
# « et N autres ».
CORE_SKILLS_SHOWN = 5


def _query(request) -> str:
    return request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]


@analyst_required
def occupation_search(request):
    """Search over fiche codes, labels and appellations; without a query, the most exposed
    fiches. Works without JavaScript: the form submits here."""
    query = _query(request)
    run = run_or_none(request)
    more = False
    if query:
        results, more = selectors.occupation_search(query, run, limit=SEARCH_LIMIT)
    else:
        results = selectors.most_exposed_occupations(run)
    context = {
        "query": query,
        "results": results,
        "more": more,
        "limit": SEARCH_LIMIT,
        "run": run,
        "lens_tabs": lens_tabs(request, run),
    }
    return render(request, "observatory/occupation_search.html", context)


@analyst_required
def occupation_autocomplete(request):
    """JSON [{code, label, appellation, value}] for the search box: at most 10, from 2
    characters; choosing one opens its fiche (the combobox's `data-combobox-go`)."""
    query = _query(request)
    if len(query) < AUTOCOMPLETE_MIN_LENGTH:
        return JsonResponse([], safe=False)
    suggestions = selectors.occupation_suggestions(query, limit=AUTOCOMPLETE_LIMIT)
    return JsonResponse(suggestions, safe=False, json_dumps_params={"ensure_ascii": False})


@analyst_required
def occupation_detail(request, code):
    occupation = selectors.occupation_fiche(code)
    if occupation is None:
        raise Http404("Fiche métier inconnue.")
    run = run_or_none(request)
    methodology = run.methodology if run is not None else None
    score = selectors.occupation_score(run, code)
    min_companies = methodology.secrecy_min_companies if methodology else 3

    context = {
        "occupation": occupation,
        "domaine": occupation.parent,
        "grand_domaine": occupation.parent.parent if occupation.parent else None,
        "run": run,
        "methodology": methodology,
        "score": score,
        "min_companies": min_companies,
        "lens_tabs": lens_tabs(request, run),
        "appellations": selectors.occupation_appellations(code),
    }
    if score is not None:
        context.update(_profile_context(run, score, min_companies))
    context["territories"] = _territory_rows(selectors.occupation_cells_frame(run, code))
    context.update(_items_context(run, score, show_blended=context.get("show_blended", False)))
    context.update(_indices_context(run, code, score))
    return render(request, "observatory/occupation_detail.html", context)


def _profile_context(run, score, min_companies) -> dict:
    """The task profiles (table and figure) and the formulas written out with the run's
    parameters."""
    methodology = run.methodology
    frame = selectors.task_profile_frame(score, methodology.susceptibility)
    # The companies' own answers are shown only as the one rule allows (observatory.published).
    show_field, show_blended = score_visibility(score, min_companies=min_companies)
    has_field = score.field_rc is not None
    if not show_blended:
        frame = frame.assign(blended=float("nan"), contribution=float("nan"))

    def draw():
        return figure_json(occupation_charts.task_profile_figure(frame, CATEGORY_LABELS, show_field=show_field))

    figure = published.cached(
        "occupation-profile",
        run,
        code=score.occupation_id,
        field=int(show_field),
        blended=int(show_blended),
        build=draw,
    )
    profile = [
        {
            "code": category,
            "label": CATEGORY_LABELS.get(category, category),
            "reference": row.reference,
            "field": None if math.isnan(row.field) else row.field,
            "blended": row.blended if show_blended else None,
            "alpha": row.alpha,
            "contribution": row.contribution if show_blended else None,
        }
        for category, row in frame.iterrows()
    ]
    floor = {column: max(getattr(score, column), RTI_EPSILON) for column in ("rc", "rm", "nra", "nri", "nrm")}
    return {
        "profile": profile,
        "profile_figure": figure,
        "profile_summary": occupation_charts.task_profile_summary(frame, CATEGORY_LABELS)
        if show_blended
        else "Profil retenu non publié (secret statistique).",
        "has_field": has_field,
        "show_field": show_field,
        # The n of the blend: the companies behind its field profile, an earlier edition's
        # when too few companies changed since (observatory.editions.freeze_field_profiles).
        "blend_companies": blend_companies(score, min_companies=min_companies),
        "field_basis": score.field_basis if score.field_basis_id else None,
        "show_blended": show_blended,
        "rti_terms": {
            "routine": max(score.rc + score.rm, RTI_EPSILON),
            "abstract": max(score.nra + score.nri, RTI_EPSILON),
            "manual": floor["nrm"],
        }
        if show_blended
        else None,
        "exposure_from_index": run.index_id is not None,
    }


def _territory_rows(frame: pd.DataFrame) -> list[dict]:
    rows = []
    for row in frame.itertuples():
        rows.append(
            {
                "level": row.territory_level,
                "code": row.code,
                "name": row.name,
                "secret": bool(row.secret),
                "secret_label": secret_label(row.secret_reason) if row.secret else "",
                # The frame is masked already (observatory.published): NaN is "not shown".
                "employees": None if pd.isna(row.employees) else row.employees,
                "companies": None if pd.isna(row.companies) else row.companies,
                "training_need_share": None if pd.isna(row.training_need_share) else row.training_need_share,
            }
        )
    return rows


def _items_context(run, score, *, show_blended: bool) -> dict:
    """Why this exposure (the fiche's savoir-faire, contexts and the categories' contributions)
    and the transitions worth taking; three queries, four when a person reclassified one of
    the fiche's items. Nothing to say without a score in a run."""
    if run is None or score is None:
        return {"breakdown": None, "transitions": [], "mobility_count": 0}
    mobilities, links = selectors.fiche_links_frames(run, score.occupation_id)
    breakdown = selectors.profile_breakdown(run, score, links, with_contributions=show_blended)
    transitions = selectors.transitions_frame(run, [score.occupation_id], mobilities=mobilities, links=links)
    return {
        "breakdown": _breakdown_context(run, score, breakdown),
        "transitions": _transition_rows(transitions),
        "mobility_count": len(mobilities),
        "transition_margin": run.methodology.transition_margin,
    }


def _breakdown_context(run, score, breakdown: selectors.ProfileBreakdown) -> dict:
    categories = breakdown.categories
    groups = []
    for category, row in categories.iterrows():
        items = breakdown.items[breakdown.items["category"] == category]
        groups.append(
            {
                "code": category.upper(),
                "label": CATEGORY_LABELS.get(category.upper(), category),
                "share": None if pd.isna(row["share"]) else row["share"],
                "items": [_item_row(item) for item in items.itertuples()],
            }
        )
    others = breakdown.items[breakdown.items["status"] != profile_breakdown.CLASSIFIED]
    contributions = [
        {
            "code": category.upper(),
            "label": CATEGORY_LABELS.get(category.upper(), category),
            "items_share": None if pd.isna(row["share"]) else row["share"],
            "reference": row["reference"],
            "blended": None if pd.isna(row["product"]) else row["blended"],
            "alpha": row["alpha"],
            "product": None if pd.isna(row["product"]) else row["product"],
            "contribution": None if pd.isna(row["contribution"]) else row["contribution"],
        }
        for category, row in categories.iterrows()
    ]
    # Hidden with the blended profile (secrecy) and for an external index's exposure.
    shown = bool(categories["contribution"].notna().all())
    by_code = categories.set_axis([c.upper() for c in categories.index])
    figure = None
    if shown:
        figure = published.cached(
            "occupation-contributions",
            run,
            code=score.occupation_id,
            build=lambda: figure_json(occupation_charts.exposure_contribution_figure(by_code, CATEGORY_LABELS)),
        )
    methodology = run.methodology
    return {
        "groups": groups,
        # « Hors tâche » items, then those no rule matched: neither weighs in the profile.
        "without_weight": [
            _item_row(item)
            for item in others.sort_values(
                "status", key=lambda s: s != profile_breakdown.NON_TASK, kind="stable"
            ).itertuples()
        ],
        "contexts": [
            {
                "labels": " ; ".join(row.labels),
                "towards": ", ".join(
                    f"{CATEGORY_LABELS.get(c.upper(), c).lower()} {format_percent(getattr(row, c), 0)}"
                    for c in row.towards
                ),
            }
            for row in breakdown.contexts.itertuples()
        ],
        "contributions": contributions,
        "contributions_shown": shown,
        "contributions_figure": figure,
        "contributions_summary": occupation_charts.exposure_contribution_summary(by_code, CATEGORY_LABELS)
        if shown
        else "",
        "source": breakdown.source,
        "source_label": PROFILE_SOURCE_LABELS.get(breakdown.source, breakdown.source or "non enregistrée"),
        "evidence": breakdown.evidence,
        "overridden_since_run": breakdown.overridden_since_run,
        "weights": {
            "core": methodology.core_item_weight,
            "emerging": methodology.emerging_item_weight,
            "other": methodology.other_item_weight,
        },
        "shrinkage": methodology.profile_shrinkage,
        "context_shift": methodology.context_shift,
    }


def _item_row(item) -> dict:
    shares = sorted(
        ((getattr(item, c), c.upper()) for c in CATEGORIES if not pd.isna(getattr(item, c)) and getattr(item, c) > 0),
        reverse=True,
    )
    return {
        "code": item.item,
        "label": item.label,
        "core": item.core,
        "weight": None if pd.isna(item.profile_weight) else item.profile_weight,
        "evidence_share": None if pd.isna(item.evidence_share) else item.evidence_share,
        # Shares are written out for an item split between categories.
        "mixed": len(shares) > 1,
        "shares": ", ".join(f"{code} {format_percent(share, 0)}" for share, code in shares),
        "rule_display": _rule_display(item),
        "overridden": bool(item.overridden),
    }


def _rule_display(item) -> str:
    """What classified the item, in plain French: a person's correction, or the lexicon's rule."""
    if not item.overridden:
        return item.rule_text
    when = "" if pd.isna(item.override_at) else date_format(timezone.localtime(item.override_at), "j F Y")
    if item.override_by:
        return f"correction de {item.override_by}" + (f" le {when}" if when else "")
    return f"correction du {when}" if when else "correction"


def _transition_rows(frame: pd.DataFrame) -> list[dict]:
    rows = []
    for row in frame.itertuples():
        to_acquire = list(row.core_to_acquire)
        rows.append(
            {
                "code": row.target,
                "label": row.label,
                "rank": row.rank,
                "exposure": row.exposure,
                "exposure_class": row.exposure_class,
                "drop": row.drop,
                "drop_text": "−" + format_number(row.drop, 2),
                "shared": row.shared,
                "target_core": row.target_core,
                "core_share": None if pd.isna(row.core_share) else row.core_share,
                "to_acquire": to_acquire[:CORE_SKILLS_SHOWN],
                "to_acquire_more": max(len(to_acquire) - CORE_SKILLS_SHOWN, 0),
            }
        )
    return rows


def _indices_context(run, code, score) -> dict:
    """The external indices of the fiche beside the observatory's own exposure."""
    indices = selectors.occupation_index_scores_frame(code)
    if indices.empty:
        return {"indices": [], "indices_figure": None}
    rows = indices.to_dict("records")
    compared = indices[["name", "score"]]
    if score is not None and score.exposure is not None and run is not None:
        own = pd.DataFrame([{"name": f"Observatoire ({run.methodology.get_lens_display()})", "score": score.exposure}])
        compared = pd.concat([own, compared], ignore_index=True)
    methodology = run.methodology if run is not None else None
    high = methodology.high_threshold if methodology else HIGH_THRESHOLD
    medium = methodology.medium_threshold if methodology else MEDIUM_THRESHOLD

    def draw():
        return figure_json(occupation_charts.exposure_comparison_figure(compared, high, medium))

    # The number of indices is in the key: importing one redraws the figure.
    if run is None:
        figure = draw()
    else:
        figure = published.cached("occupation-indices", run, code=code, indices=len(indices), build=draw)
    summary = "Exposition selon les sources : " + ", ".join(
        f"{name} {format_number(value, 2)}" for name, value in zip(compared["name"], compared["score"], strict=True)
    )
    return {"indices": rows, "indices_figure": figure, "indices_summary": summary + "."}
