"""The training part of the company report: the skills blocks leading to a fiche (linked to it,
or blocks of a certification that targets it, and the blocks the company wished for) and the
published training offers leading there, nearest to the company first."""

import datetime
import math
from dataclasses import dataclass, replace

from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from companies.models import Territory
from skills.models import Certification, Occupation, SkillBlock
from trainings.models import CurationStatus, Session, TrainingOffer

# The public page of an offer (trainings/urls_public.py), linked from the HTML and PDF reports.
OFFER_ROUTE = "trainings:offer"
# Mean Earth radius (IUGG), for great-circle distances between commune centres.
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class BlockRecommendation:
    """A skills block recommended for a fiche, linked to it directly or reached through a
    certification that targets it (`certification` is then set)."""

    block: SkillBlock
    certification: Certification | None = None
    wished: bool = False  # the company asked for it in its diagnostic

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
    block: SkillBlock | None = None  # the fiche's block it leads to, when it leads to one

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


def distance_km(a: Territory, b: Territory) -> float | None:
    """Great-circle (haversine) distance between two communes' centres, in km; None when
    either has no coordinates."""
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def blocks_by_fiche(
    codes: set[str], wished: dict[str, list[SkillBlock]] | None = None
) -> tuple[dict[str, list[BlockRecommendation]], dict[str, set[int]]]:
    """The skills blocks leading to each fiche and the certifications that target it (three
    queries). A block linked to the fiche and also reached through a certification counts
    once, as linked. Blocks of certifications no longer registered (`active` false) are left
    out: nobody can obtain them any more. `wished` adds, per fiche, the blocks the company
    asked for in its diagnostic (loaded with their certification). Order: wished first, then
    AI-related, then the blocks linked to the fiche, then by code."""
    found: dict[str, dict[int, BlockRecommendation]] = {code: {} for code in codes}
    for code, wished_blocks in (wished or {}).items():
        for block in wished_blocks:
            if code in found and (block.certification is None or block.certification.active):
                found[code][block.pk] = BlockRecommendation(block, block.certification, wished=True)
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
        code: sorted(
            by_pk.values(), key=lambda r: (not r.wished, not r.ai_related, r.certification is not None, r.code)
        )
        for code, by_pk in found.items()
    }
    return blocks, certifications


def offer_place(offer: TrainingOffer, commune: Territory | None) -> NearbyOffer:
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


def offers_by_fiche(
    commune: Territory | None, blocks: dict[str, list[BlockRecommendation]], certifications: dict[str, set[int]]
) -> dict[str, list[NearbyOffer]]:
    """The published offers (offer and provider published) leading to one of a fiche's skills
    blocks, to a certification that targets it, or naming the fiche; nearest first (four
    queries, then Python over the candidates). Offers leading to a block the company wished
    for come first."""
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
    ranked = sorted((offer_place(offer, commune) for offer in offers), key=lambda nearby: nearby.sort_key)
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
            found[code].append(replace(nearby, reason=reason, block=block))
        wished = {r.block.pk for r in blocks[code] if r.wished}
        found[code].sort(key=lambda nearby: nearby.block is None or nearby.block.pk not in wished)
    return found
