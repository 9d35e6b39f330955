"""Reads of the public training catalogue (/formations/).

What the public sees: an offer whose own status is `published` and whose provider is
`published` too. A curator who withdraws a provider (archived, rejected, sent back to draft)
thereby withdraws all its offers at once, whatever their own status; an offer is never shown
beside a provider page that answers 404.

Distances are great-circle distances (haversine, mean Earth radius 6,371 km) between commune
centres (`Territory.latitude` / `longitude`, set when the outlines are imported), computed by
the database with Django's math functions so that SQLite and PostgreSQL give the same result.
"""

import datetime
import math
from dataclasses import dataclass

from django.db.models import (
    Exists,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import ASin, Coalesce, Cos, Least, Power, Radians, Sin, Sqrt
from django.utils import timezone

from companies.models import Territory

from .models import CurationStatus, Provider, Session, TrainingOffer

EARTH_RADIUS_KM = 6371.0
# Length of one degree of latitude on that sphere (km), for the bounding box.
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180


def published_offers() -> QuerySet[TrainingOffer]:
    """Offers the public may see: published, from a published provider."""
    return TrainingOffer.objects.filter(status=CurationStatus.PUBLISHED, provider__status=CurationStatus.PUBLISHED)


def published_providers() -> QuerySet[Provider]:
    return Provider.objects.filter(status=CurationStatus.PUBLISHED)


def upcoming_sessions(since: datetime.date) -> QuerySet[Session]:
    """Sessions that start on or after `since`, and undated ones (permanent entry)."""
    return Session.objects.filter(Q(start__gte=since) | Q(start__isnull=True))


# --- Distances -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Circle:
    """A search area: the centre of a commune and a radius in km."""

    latitude: float
    longitude: float
    radius_km: float

    def bounding_box(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((south, north), (west, east)) in degrees: every point within the radius is inside.
        The longitude span is widened with the cosine of the latitude farthest from the
        equator, where meridians are closest."""
        dlat = self.radius_km / KM_PER_DEGREE
        far_latitude = min(abs(self.latitude) + dlat, 89.0)
        dlon = self.radius_km / (KM_PER_DEGREE * math.cos(math.radians(far_latitude)))
        return (self.latitude - dlat, self.latitude + dlat), (self.longitude - dlon, self.longitude + dlon)

    def box_q(self, prefix: str) -> Q:
        """The bounding box as a filter on the commune reached by `prefix` (e.g. "commune")."""
        (south, north), (west, east) = self.bounding_box()
        return Q(**{f"{prefix}__latitude__range": (south, north), f"{prefix}__longitude__range": (west, east)})


def haversine_km(latitude: str, longitude: str, circle: Circle):
    """An expression: the distance in km from the circle's centre to the point of the two
    named fields. Null when they are."""
    phi1, phi2 = math.radians(circle.latitude), Radians(F(latitude))
    half_dphi = (phi2 - Value(phi1)) / 2
    half_dlambda = (Radians(F(longitude)) - Value(math.radians(circle.longitude))) / 2
    a = Power(Sin(half_dphi), 2) + Value(math.cos(phi1)) * Cos(phi2) * Power(Sin(half_dlambda), 2)
    # a may exceed 1 by a rounding error for antipodes: not in one region.
    return Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(a), output_field=FloatField())


def within(queryset: QuerySet[TrainingOffer], circle: Circle, since: datetime.date) -> QuerySet[TrainingOffer]:
    """The offers with an upcoming session, or a provider, within the circle, annotated with
    `distance_km`: the shortest distance from the centre to one of those places.

    A bounding-box filter on the coordinates first, so that the database only works out
    haversines for the few communes near the centre."""
    nearby_session = upcoming_sessions(since).filter(offer=OuterRef("pk")).filter(circle.box_q("commune"))
    session_distance = Subquery(
        nearby_session.annotate(d=haversine_km("commune__latitude", "commune__longitude", circle))
        .order_by("d")
        .values("d")[:1],
        output_field=FloatField(),
    )
    provider_distance = haversine_km("provider__commune__latitude", "provider__commune__longitude", circle)
    in_box = Q(Exists(nearby_session)) | circle.box_q("provider__commune")
    # LEAST returns NULL on SQLite as soon as one side is, and ignores it on PostgreSQL:
    # coalescing each side with the other gives the same answer on both.
    return (
        queryset.filter(in_box)
        .annotate(
            session_km=session_distance,
            provider_km=provider_distance,
        )
        .annotate(distance_km=Least(Coalesce("session_km", "provider_km"), Coalesce("provider_km", "session_km")))
        .filter(distance_km__lte=circle.radius_km)
    )


# --- Search --------------------------------------------------------------------------------


def offer_search(*, data, today: datetime.date | None = None):
    """The catalogue search for the query `data` (request.GET): (the bound FilterSet, the
    matching published offers). Offers are sorted by next session (offers without an
    upcoming one last), then title; none when the form has errors (the page says which).

    Each offer carries `next_session` (date), `upcoming` (its upcoming sessions with their
    commune, in date order), `distance_km` when a commune was given, and its provider, commune
    and certification without further queries."""
    from .filters import CatalogueFilter

    filterset = CatalogueFilter(data, queryset=published_offers(), today=today or timezone.localdate())
    if not filterset.is_valid():
        return filterset, TrainingOffer.objects.none()
    return filterset, search_results(filterset.qs, filterset.since)


def search_results(queryset: QuerySet[TrainingOffer], since: datetime.date) -> QuerySet[TrainingOffer]:
    """Annotations, sort and prefetches of a page of results (a fixed number of queries)."""
    next_start = upcoming_sessions(since).filter(offer=OuterRef("pk"), start__isnull=False).order_by("start")
    return (
        queryset.annotate(next_session=Subquery(next_start.values("start")[:1]))
        .select_related("provider__commune", "certification")
        .prefetch_related(
            Prefetch(
                "sessions",
                queryset=upcoming_sessions(since).select_related("commune").order_by(F("start").asc(nulls_last=True)),
                to_attr="upcoming",
            )
        )
        .order_by(F("next_session").asc(nulls_last=True), "title", "pk")
    )


def offer_communes(offer: TrainingOffer) -> list[Territory]:
    """Where an offer takes place: the communes of its upcoming sessions, in date order, else
    its provider's commune."""
    communes, seen = [], set()
    for session in getattr(offer, "upcoming", []):
        if session.commune_id and session.commune_id not in seen:
            seen.add(session.commune_id)
            communes.append(session.commune)
    if not communes and offer.provider.commune_id:
        communes.append(offer.provider.commune)
    return communes


# --- Offer and provider pages ----------------------------------------------------------------


def published_offer(pk: int, today: datetime.date | None = None) -> TrainingOffer | None:
    """A published offer of a published provider with everything its page shows, or None."""
    today = today or timezone.localdate()
    return (
        published_offers()
        .select_related("provider__commune__parent", "certification")
        .prefetch_related(
            "skill_blocks",
            "occupations",
            Prefetch("certification__skill_blocks", to_attr="all_blocks"),
            Prefetch(
                "sessions",
                queryset=upcoming_sessions(today).select_related("commune").order_by(F("start").asc(nulls_last=True)),
                to_attr="upcoming",
            ),
        )
        .filter(pk=pk)
        .first()
    )


def published_provider(pk: int) -> Provider | None:
    return published_providers().select_related("commune__parent").filter(pk=pk).first()


def provider_offers(provider: Provider, today: datetime.date | None = None) -> QuerySet[TrainingOffer]:
    """The published offers of a provider, in catalogue order."""
    today = today or timezone.localdate()
    return search_results(published_offers().filter(provider=provider), today)
