"""Occupation pages: the search (with its autocomplete) and the page of one ROME fiche."""

import math

import pandas as pd
from django.core.cache import cache
from django.http import Http404, JsonResponse
from django.shortcuts import render

from skills.models import TaskCategory

from .. import selectors
from ..charts import occupation as occupation_charts
from ..charts.common import figure_json, format_number
from ..charts.map import secret_label
from ..permissions import analyst_required
from .map import CACHE_SECONDS, figure_cache_key, lens_tabs, run_or_none

MAX_QUERY_LENGTH = 100
AUTOCOMPLETE_MIN_LENGTH = 2
AUTOCOMPLETE_LIMIT = 10
SEARCH_LIMIT = 50
# Floor of each term of the RTI (observatory.analysis.exposure), written out on the page.
RTI_EPSILON = 0.01
CATEGORY_LABELS = {code: str(label) for code, label in TaskCategory.Code.choices}


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
    """JSON [{code, label, appellation}] for the search box: at most 10, from 2 characters."""
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
    exposure = score.exposure if score is not None else None
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
    context["mobilities"] = _mobility_rows(selectors.occupation_mobilities_frame(run, code, exposure))
    context.update(_indices_context(run, code, score))
    return render(request, "observatory/occupation_detail.html", context)


def _profile_context(run, score, min_companies) -> dict:
    """The task profiles (table and figure) and the formulas written out with the run's
    parameters."""
    methodology = run.methodology
    frame = selectors.task_profile_frame(score, methodology.susceptibility)
    has_field = score.field_rc is not None
    # The field profile averages what few companies declared: below the secrecy threshold it
    # would disclose them, so it is only shown from `min_companies` reporting companies.
    show_field = has_field and score.n_companies >= min_companies
    # The reference and m are public, so the blend of one or two companies gives their answers
    # back (s_field = ((n + m)·s − m·s_ref) / n): it is hidden with the field profile.
    show_blended = show_field or not has_field
    if not show_blended:
        frame = frame.assign(blended=float("nan"), contribution=float("nan"))
    key = figure_cache_key(
        "occupation-profile", run, code=score.occupation_id, field=int(show_field), blended=int(show_blended)
    )
    figure = cache.get(key)
    if figure is None:
        figure = figure_json(occupation_charts.task_profile_figure(frame, CATEGORY_LABELS, show_field=show_field))
        cache.set(key, figure, CACHE_SECONDS)
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
                "employees": None if row.secret else row.employees,
                "companies": None if row.secret else row.companies,
                "training_need_share": None
                if row.secret or pd.isna(row.training_need_share)
                else row.training_need_share,
            }
        )
    return rows


def _mobility_rows(frame: pd.DataFrame) -> list[dict]:
    rows = []
    for row in frame.itertuples():
        # Compared as shown (two decimals): a target at « −0,00 » is not less exposed.
        difference = None if pd.isna(row.difference) else round(float(row.difference), 2)
        if difference is None:
            text = "—"
        else:
            sign = "+" if difference > 0 else "−" if difference < 0 else ""
            text = sign + format_number(abs(difference), 2)
        rows.append(
            {
                "code": row.target,
                "label": row.label,
                "rank": row.rank,
                "exposure": None if pd.isna(row.exposure) else row.exposure,
                "exposure_class": row.exposure_class,
                "difference": difference,
                "less_exposed": difference is not None and difference < 0,
                "difference_text": text,
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
    high = methodology.high_threshold if methodology else 0.7
    medium = methodology.medium_threshold if methodology else 0.5
    # The number of indices is in the key: importing one redraws the figure.
    key = figure_cache_key("occupation-indices", run, code=code, indices=len(indices)) if run is not None else None
    figure = cache.get(key) if key else None
    if figure is None:
        figure = figure_json(occupation_charts.exposure_comparison_figure(compared, high, medium))
        if key:
            cache.set(key, figure, CACHE_SECONDS)
    summary = "Exposition selon les sources : " + ", ".join(
        f"{name} {format_number(value, 2)}" for name, value in zip(compared["name"], compared["score"], strict=True)
    )
    return {"indices": rows, "indices_figure": figure, "indices_summary": summary + "."}
