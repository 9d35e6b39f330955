"""The public training catalogue: search, offer and provider pages, and the suggestions of its
commune and occupation fields. No login: only what is published is ever read (selectors)."""

from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from companies.diagnostic.selectors import commune_suggestions, occupation_suggestions

from . import selectors
from .templatetags.catalogue import format_euros, format_hours, format_km

PAGE_SIZE = 20
MAX_QUERY_LENGTH = 100
SUGGEST_MIN_LENGTH = 2
# The optional criteria, folded under « Plus de critères » unless one of them is used.
MORE_FIELDS = ("modalite", "niveau", "bloc", "metier", "debut", "ia", "cpf")


def _decorate(offer) -> None:
    """What a result line shows, worked out once here rather than in the template."""
    offer.communes = selectors.offer_communes(offer)
    offer.duration_display = format_hours(offer.duration_hours)
    offer.distance_display = format_km(getattr(offer, "distance_km", None))


@require_GET
def catalogue(request):
    filterset, results = selectors.offer_search(data=request.GET)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    for offer in page:
        _decorate(offer)
    query = request.GET.copy()
    query.pop("page", None)
    form = filterset.form
    used = {name for name in form.fields if request.GET.get(name)} - {"rayon"}
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": bool(used),
        "more_open": bool(used & set(MORE_FIELDS)) or any(form.errors.get(name) for name in MORE_FIELDS),
        "more_fields": [form[name] for name in MORE_FIELDS],
        "commune": filterset.chosen_commune if form.is_valid() else None,
        "radius": form.cleaned_data.get("rayon") if form.is_valid() else None,
    }
    return render(request, "trainings/catalogue/search.html", context)


@require_GET
def offer_detail(request, pk: int):
    offer = selectors.published_offer(pk)
    if offer is None:
        raise Http404("Offre inconnue ou non publiée.")
    blocks = list(offer.skill_blocks.all())
    context = {
        "offer": offer,
        "provider": offer.provider,
        # An offer that lists no block prepares the whole certification: all its blocks.
        "blocks": blocks or (offer.certification.all_blocks if offer.certification else []),
        "whole_certification": not blocks and offer.certification is not None,
        "occupations": list(offer.occupations.all()),
        "sessions": offer.upcoming,
        "price": format_euros(offer.price),
        "duration": format_hours(offer.duration_hours),
        "today": timezone.localdate(),
    }
    return render(request, "trainings/catalogue/offer.html", context)


@require_GET
def provider_detail(request, pk: int):
    provider = selectors.published_provider(pk)
    if provider is None:
        raise Http404("Organisme inconnu ou non publié.")
    offers = list(selectors.provider_offers(provider))
    for offer in offers:
        _decorate(offer)
    return render(request, "trainings/catalogue/provider.html", {"provider": provider, "offers": offers})


def _suggest(request, finder):
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    items = finder(query) if len(query) >= SUGGEST_MIN_LENGTH else []
    return JsonResponse(items, safe=False, json_dumps_params={"ensure_ascii": False})


@require_GET
def commune_lookup(request):
    """[{code, label, detail, value}]: communes of Hauts-de-France, from 2 characters. Public
    reference data (INSEE COG), like the fiches below."""
    return _suggest(request, commune_suggestions)


@require_GET
def occupation_lookup(request):
    """[{code, label, appellation, value}]: ROME fiches, from 2 characters."""
    return _suggest(request, occupation_suggestions)
