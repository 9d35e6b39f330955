"""The public explorer « Mon métier face à l'IA »: find a job by its title, read what it is made
of and how exposed it is, then the less exposed jobs it leads to, the way there and whom to
turn to. No login: only reference data, the published catalogue, the current editions and the
directory of regional contacts are read (selectors)."""

from urllib.parse import urlencode

import pandas as pd
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from observatory.charts.common import format_number, format_percent
from observatory.models import Lens
from skills.selectors import clean_query, occupation_suggestions
from skills.text import fold
from trainings.filters import RADIUS_CHOICES
from trainings.selectors import offer_communes
from trainings.templatetags.catalogue import format_hours, format_km

from . import selectors, wording

SUGGEST_MIN_LENGTH = 2
SEARCH_LIMIT = 40
# Competences listed before « et N autres » where a list must stay short.
COMPETENCES_SHOWN = 5
ITEMS_PER_REASON = 3
KNOWLEDGE_SHOWN = 15
ITEMS_PER_GROUP = 8
# The categories a lens counts as « likely to stay » have at most this susceptibility.
STAYS_ALPHA = 0.3


# --- Search ---------------------------------------------------------------------------------


@require_GET
def search(request):
    """The search box and, for a query, the jobs it names (one line per fiche, with the title
    that matched). Works without JavaScript: the form submits here."""
    query = clean_query(request.GET.get("q", ""))
    results, found = [], []
    if query:
        seen = {}
        found = occupation_suggestions(query, limit=SEARCH_LIMIT)
        for item in found:
            if item["code"] in seen:
                seen[item["code"]]["others"] += 1
                continue
            seen[item["code"]] = item | {"others": 0, "url": reverse("explorer:occupation", args=[item["code"]])}
            results.append(seen[item["code"]])
    return render(
        request,
        "explorer/search.html",
        {"query": query, "results": results, "searched": bool(query), "capped": len(found) >= SEARCH_LIMIT},
    )


@require_GET
def suggestions(request):
    """[{code, label, appellation, value}] for the search box: at most 10, from 2 characters."""
    query = clean_query(request.GET.get("q", ""))
    items = occupation_suggestions(query) if len(query) >= SUGGEST_MIN_LENGTH else []
    return JsonResponse(items, safe=False, json_dumps_params={"ensure_ascii": False})


# --- Shared helpers -------------------------------------------------------------------------


def _fiche_or_404(code: str):
    occupation = selectors.occupation_fiche(code)
    if occupation is None:
        raise Http404("Ce métier n'existe pas dans le répertoire des métiers (ROME).")
    return occupation


def _lens(request) -> str:
    lens = request.GET.get("lens", Lens.DEFAULT)
    return lens if lens in Lens.values else Lens.DEFAULT


def _place_params(request) -> dict:
    """The commune and radius of the request, as typed (cut to the catalogue's 100 characters)."""
    return {
        "commune": clean_query(request.GET.get("commune", "")),
        "rayon": clean_query(request.GET.get("rayon", ""))[:3],
    }


def _url(name: str, *args, **params) -> str:
    params = {key: value for key, value in params.items() if value}
    return reverse(name, args=args) + (f"?{urlencode(params)}" if params else "")


def _editions_note(runs: dict) -> list[dict]:
    return [
        {
            "title": wording.LENSES[lens]["title"],
            "run": runs[lens],
            "min_companies": runs[lens].methodology.secrecy_min_companies,
        }
        for lens in selectors.LENSES
        if lens in runs
    ]


def _score_row(scores: pd.DataFrame, lens: str, code: str):
    rows = scores[(scores["lens"] == lens) & (scores["code_rome"] == code)]
    return None if rows.empty else rows.iloc[0]


def _exposure_view(row) -> dict:
    """The published exposure of one score row, for a person: value, class and its words."""
    if row is None or pd.isna(row["exposure"]):
        return {"shown": False}
    exposure_class = row["exposure_class"]
    return {
        "shown": True,
        "value": float(row["exposure"]),
        "text": format_number(float(row["exposure"]), 2),
        "class": exposure_class,
        "label": wording.CLASSES.get(exposure_class, ""),
        "meaning": wording.CLASS_MEANINGS.get(exposure_class, ""),
    }


def _decorate(offer) -> None:
    """What an offer line shows (as the public catalogue does), its next sessions first."""
    offer.communes = offer_communes(offer)
    offer.duration_display = format_hours(offer.duration_hours)
    offer.distance_display = format_km(getattr(offer, "distance_km", None))
    offer.next_sessions = list(getattr(offer, "upcoming", []))[: selectors.SESSIONS_PER_OFFER]


def _place_context(place: selectors.Place, params: dict) -> dict:
    """The « near which commune » form: what was typed, the radius, the form's messages; and
    whom to turn to in the chosen commune's département (« À qui s'adresser »)."""
    return {
        "place": place,
        "place_text": params["commune"],
        "radius_choices": RADIUS_CHOICES,
        "radius": place.radius,
        "contacts": selectors.contacts_near(place),
    }


# --- The page of a job ----------------------------------------------------------------------


@require_GET
def occupation(request, code: str):
    if code != code.upper() and selectors.occupation_fiche(code.upper()):
        return redirect(_url("explorer:occupation", code.upper(), **request.GET.dict()), permanent=True)
    fiche = _fiche_or_404(code)
    lens = _lens(request)
    params = _place_params(request)
    runs = selectors.editions()
    run = runs.get(lens)
    mobilities, scores, links = selectors.fiche_page_data(code, runs)
    weights = run.methodology.profile_params() if run else selectors.DEFAULT_ITEM_WEIGHTS
    content = selectors.fiche_content(code, links, weights)
    place = selectors.nearby_place(params["commune"], params["rayon"])
    ranked = selectors.rank_published_transitions(run, mobilities, scores, links, lens)

    context = {
        "occupation": fiche,
        "appellations": [title for title in selectors.appellations(code) if fold(title) != fold(fiche.label)],
        "runs": runs,
        "editions": _editions_note(runs),
        "lens": lens,
        "lens_title": wording.LENSES[lens]["title"],
        "lens_tabs": [
            {
                "title": wording.LENSES[value]["short"],
                "url": _url("explorer:occupation", code, lens=value, **params) + "#transitions",
                "current": value == lens,
            }
            for value in selectors.LENSES
        ],
        "lens_cards": _lens_cards(runs, scores, content, code),
        "content": _content_context(content),
        "transitions": _transition_rows(code, ranked, links, lens, params, place),
        "mobility_count": len(mobilities),
        "transition_margin": run.methodology.transition_margin if run else None,
        "run": run,
        **_place_context(place, params),
    }
    return render(request, "explorer/occupation.html", context)


def _lens_cards(runs: dict, scores: pd.DataFrame, content: selectors.FicheContent, code: str) -> list[dict]:
    """The three lenses' cards; where the tasks likely to change are those an earlier card
    already named, the card says so rather than repeating it."""
    cards, said = [], {}
    for lens in selectors.LENSES:
        card = _lens_card(lens, runs.get(lens), scores, content, code)
        if card.get("change") in said:
            card["change_as"] = said[card["change"]]
        elif card.get("change"):
            said[card["change"]] = card["as"]
        cards.append(card)
    return cards


def _lens_card(lens: str, run, scores: pd.DataFrame, content: selectors.FicheContent, code: str) -> dict:
    """One lens: the published exposure, the categories that make it, what is likely to change
    and what is likely to stay, and whose answers the figure rests on."""
    card = {"lens": lens, **wording.LENSES[lens], "run": run}
    row = _score_row(scores, lens, code) if run is not None else None
    card["exposure"] = _exposure_view(row)
    if row is None:
        return card
    card["field_shown"] = bool(row["field_shown"])
    card["companies"] = None if pd.isna(row["n_companies"]) else int(row["n_companies"])
    if not card["exposure"]["shown"]:
        return card
    reasons = selectors.exposure_reasons(row, run.methodology.susceptibility)
    skills = content.skills
    card["reasons"] = []
    for category, reason in reasons.head(2).iterrows():
        items = skills[skills["category"] == category]
        items = items.assign(main=items["core"] == "principale").sort_values(
            ["main", "profile_weight"], ascending=[False, False], kind="stable"
        )
        card["reasons"].append(
            {
                "title": wording.CATEGORIES[category]["title"],
                "share": format_percent(reason["contribution"], 0),
                "profile_share": format_percent(reason["share"], 0),
                "items": list(items["label"].head(ITEMS_PER_REASON)),
            }
        )
    top = reasons.index[0]
    card["change"] = wording.CATEGORIES[top]["change"]
    card["change_title"] = wording.CATEGORIES[top]["title"]
    lasting = reasons[reasons["alpha"] <= STAYS_ALPHA].sort_values("share", ascending=False)
    if not lasting.empty and lasting["share"].iloc[0] >= 0.1:
        category = lasting.index[0]
        card["stays"] = {
            "title": wording.CATEGORIES[category]["title"],
            "examples": wording.CATEGORIES[category]["examples"],
            "share": format_percent(lasting["share"].iloc[0], 0),
        }
    return card


def _content_context(content: selectors.FicheContent) -> dict:
    skills = content.skills
    groups = []
    for category, row in content.categories.sort_values("share", ascending=False).iterrows():
        items = skills[skills["category"] == category]
        if items.empty:
            continue
        items = items.assign(main=items["core"] == "principale").sort_values(
            ["main", "label"], ascending=[False, True], kind="stable"
        )
        # Every core savoir-faire, and others up to ITEMS_PER_GROUP; the rest folded away.
        shown = max(int(items["main"].sum()), ITEMS_PER_GROUP)
        shown = len(items) if len(items) - shown <= 2 else shown
        groups.append(
            {
                "code": category,
                "title": wording.CATEGORIES[category]["title"],
                "examples": wording.CATEGORIES[category]["examples"],
                "share": format_percent(row["share"], 0),
                "items": [{"label": item.label, "core": item.main} for item in items.head(shown).itertuples()],
                "more": [item.label for item in items.iloc[shown:].itertuples()],
            }
        )
    others = skills[skills["category"] == ""].sort_values("label")
    return {
        "groups": groups,
        "others": list(others["label"]),
        "contexts": content.contexts,
        "knowledge": content.knowledge[:KNOWLEDGE_SHOWN],
        "knowledge_more": max(len(content.knowledge) - KNOWLEDGE_SHOWN, 0),
        "skill_count": len(skills),
    }


def _transition_rows(code, ranked: pd.DataFrame, links: pd.DataFrame, lens, params, place) -> list[dict]:
    from skills.models import RomeItem

    skill_links = links[links["kind"] == RomeItem.Kind.SKILL]
    rows = []
    for position, row in enumerate(ranked.itertuples()):
        common, to_acquire = selectors.competences_between(code, row.target, skill_links)
        offers = None
        if position < selectors.TRANSITIONS_WITH_OFFERS:
            offers = selectors.offers_towards(row.target, place)
            for offer in offers.offers:
                _decorate(offer)
        rows.append(
            {
                "code": row.target,
                "label": row.label,
                "exposure": format_number(row.exposure, 2),
                "class": row.exposure_class,
                "class_label": wording.CLASSES.get(row.exposure_class, ""),
                "drop": format_number(row.drop, 2),
                "common": list(common["label"].head(COMPETENCES_SHOWN)),
                "common_count": len(common),
                "to_acquire": list(to_acquire["label"].head(COMPETENCES_SHOWN)),
                "to_acquire_count": len(to_acquire),
                "to_acquire_more": max(len(to_acquire) - COMPETENCES_SHOWN, 0),
                "offers": offers,
                "pathway_url": _url("explorer:pathway", code, row.target, lens=lens, **params),
            }
        )
    return rows


# --- The way from one job to another --------------------------------------------------------


@require_GET
def pathway(request, source: str, target: str):
    """From one job to a less exposed one the ROME lists as a mobilité: the competences to
    acquire, the skills blocks that certify them, the offers nearby and their next sessions."""
    origin, destination = _fiche_or_404(source), _fiche_or_404(target)
    if source == target or not selectors.is_rome_mobility(source, target):
        raise Http404("Le répertoire des métiers ne mène pas de ce métier à celui-ci.")
    lens = _lens(request)
    params = _place_params(request)
    runs = selectors.editions()
    scores = selectors.published_scores(runs, [source, target])
    links = selectors.pathway_links(source, target)
    common, to_acquire = selectors.competences_between(source, target, links)
    blocks = selectors.blocks_towards(target, list(to_acquire["label"]))
    place = selectors.nearby_place(params["commune"], params["rayon"])
    offers = selectors.offers_towards(target, place, limit=selectors.OFFERS_ON_PATHWAY)
    block_codes = {b.block.code for b in blocks}
    for offer in offers.offers:
        _decorate(offer)
        offer.target_blocks = [block for block in offer.skill_blocks.all() if block.code in block_codes]

    comparison = []
    for value in selectors.LENSES:
        sides = [_exposure_view(_score_row(scores, value, code)) for code in (source, target)]
        comparison.append(
            {"lens": value, "title": wording.LENSES[value]["short"], "sides": sides, "current": value == lens}
        )
    chosen = next(row for row in comparison if row["lens"] == lens)["sides"]
    less_exposed = None
    if chosen[0]["shown"] and chosen[1]["shown"]:
        less_exposed = chosen[1]["value"] < chosen[0]["value"]
    context = {
        "origin": origin,
        "destination": destination,
        "lens": lens,
        "lens_title": wording.LENSES[lens]["title"],
        "comparison": comparison,
        "less_exposed": less_exposed,
        "editions": _editions_note(runs),
        "common": list(common.itertuples()),
        "to_acquire": list(to_acquire.itertuples()),
        "to_acquire_core": int((to_acquire["core"] == "principale").sum()),
        "blocks": blocks,
        "offers": offers,
        "back_url": _url("explorer:occupation", source, lens=lens, **params) + "#transitions",
        "target_url": _url("explorer:occupation", target, lens=lens, **params),
        "share_url": request.build_absolute_uri(_url("explorer:pathway", source, target, lens=lens, **params)),
        **_place_context(place, params),
    }
    return render(request, "explorer/pathway.html", context)
