"""Writing the cleaned offers: providers by SIRET, offers by number, sessions, history, in one
transaction."""

import operator
import re
from collections import Counter
from collections.abc import Callable
from functools import reduce

from django.db import transaction
from django.db.models import Q

from companies.models import Territory
from skills.importers.base import ImportReport
from skills.models import Certification, Occupation
from skills.text import fold
from trainings.models import CurationEvent, CurationStatus, Provider, Session, TrainingOffer
from trainings.tagging import tag_offers

from .records import INSEE, OWN_NUMBER, POSTCODE, UNKNOWN_POSTCODE, CleanOffer, LheoReport


class _CommuneMatcher:
    """Finds communes (companies.Territory) by INSEE code, else by postcode département and name;
    one query for all the addresses of the file."""

    def __init__(self, places: list[tuple[str, str, str]]):
        codes = {insee for insee, _, _ in places if INSEE.fullmatch(insee)}
        prefixes = {prefix for _, postcode, city in places if city for prefix in _departement_prefixes(postcode)}
        self.by_code, self.by_name = {}, {}
        conditions = [Q(code__in=codes)] if codes else []
        conditions += [Q(code__startswith=prefix) for prefix in sorted(prefixes)]
        if not conditions:
            return
        communes = Territory.objects.filter(level=Territory.Level.COMMUNE).filter(reduce(operator.or_, conditions))
        ambiguous = set()
        for pk, code, name in communes.values_list("pk", "code", "name"):
            self.by_code[code] = pk
            key = (code[:3] if code.startswith("97") else code[:2], _city_key(name))
            if key in self.by_name:
                ambiguous.add(key)
            self.by_name[key] = pk
        for key in ambiguous:
            del self.by_name[key]

    def match(self, insee: str, postcode: str, city: str) -> int | None:
        if insee in self.by_code:
            return self.by_code[insee]
        for prefix in _departement_prefixes(postcode):
            pk = self.by_name.get((prefix, _city_key(city)))
            if pk:
                return pk
        return None


def _departement_prefixes(postcode: str) -> list[str]:
    if not POSTCODE.fullmatch(postcode or "") or postcode == UNKNOWN_POSTCODE:
        return []
    if postcode.startswith("20"):
        return ["2A", "2B"]
    if postcode.startswith(("97", "98")):
        return [postcode[:3]]
    return [postcode[:2]]


def _city_key(name: str) -> str:
    key = fold(name)
    key = re.sub(r"\bcedex\b.*$", "", key)
    key = re.sub(r"\bste\b", "sainte", re.sub(r"\bst\b", "saint", key))
    return " ".join(key.split())


OFFER_CONTENT_FIELDS = [
    "title",
    "objectives",
    "content",
    "provider_id",
    "certification_id",
    "formacodes",
    "modality",
    "duration_hours",
    "price",
    "cpf_eligible",
    "url",
]
PROVIDER_FIELDS = ["name", "nda", "address", "commune_id", "website", "contact_name", "contact_email", "contact_phone"]


def load_lheo(
    offers: list[CleanOffer],
    *,
    user=None,
    source: str = "LHEO",
    progress: Callable[[float], None] | None = None,
) -> list[ImportReport]:
    """Upsert the providers and offers of cleaned records in one transaction, then tag the offers.
    Returns the offers' report and the providers'."""
    report_progress = progress or (lambda fraction: None)
    offers_report = LheoReport(f"{source} (offres)")
    providers_report = ImportReport(f"{source} (organismes)")
    user_id = getattr(user, "pk", None)
    with transaction.atomic():
        communes = _CommuneMatcher(
            [(o.provider.insee, o.provider.postcode, o.provider.city) for o in offers]
            + [(s.insee, s.postcode, s.city) for o in offers for s in o.sessions]
        )
        providers = _load_providers(offers, communes, providers_report, user_id, source)
        report_progress(0.1)
        offer_ids = _load_offers(offers, providers, communes, offers_report, user_id, source, report_progress)
        tag_offers(TrainingOffer.objects.filter(pk__in=offer_ids))
    report_progress(1.0)
    return [offers_report, providers_report]


def _load_providers(offers, communes, report, user_id, source) -> dict[str, Provider]:
    wanted = {}
    for offer in offers:
        wanted.setdefault(offer.provider.siret, offer.provider)  # the first block of a SIRET wins
    existing = {provider.siret: provider for provider in Provider.objects.filter(siret__in=list(wanted))}
    events = []
    for siret, record in wanted.items():
        values = {
            "name": record.name,
            "nda": record.nda,
            "address": record.address,
            "commune_id": communes.match(record.insee, record.postcode, record.city),
            "website": record.website,
            "contact_name": record.contact_name,
            "contact_email": record.contact_email,
            "contact_phone": record.contact_phone,
        }
        provider = existing.get(siret)
        if provider is None:
            provider = Provider(siret=siret, status=CurationStatus.SUBMITTED, **values)
            provider.save()
            existing[siret] = provider
            report.created += 1
            events.append(
                CurationEvent(
                    provider=provider,
                    action=CurationEvent.Action.IMPORTED,
                    to_status=provider.status,
                    reason=f"Créé par l'import LHEO ({source}).",
                    user_id=user_id,
                )
            )
            continue
        changed = [
            name
            for name in PROVIDER_FIELDS
            if values[name] not in ("", None) and getattr(provider, name) != values[name]
        ]
        if not changed:
            report.unchanged += 1
            continue
        for name in changed:
            setattr(provider, name, values[name])
        provider.save(update_fields=[*changed, "updated_at"])
        report.updated += 1
        events.append(
            CurationEvent(
                provider=provider,
                action=CurationEvent.Action.IMPORTED,
                from_status=provider.status,
                to_status=provider.status,
                reason=f"Mis à jour par l'import LHEO ({source}) : {_labels(Provider, changed)}.",
                user_id=user_id,
            )
        )
    CurationEvent.objects.bulk_create(events)
    return existing


def _load_offers(offers, providers, communes, report, user_id, source, progress) -> list[int]:
    numbers = [offer.number for offer in offers]
    own_pks = [int(match.group(1)) for number in numbers if (match := OWN_NUMBER.fullmatch(number))]
    existing = {}
    queryset = TrainingOffer.objects.prefetch_related("skill_blocks", "occupations", "sessions")
    for offer in queryset.filter(Q(lheo_number__in=numbers) | Q(pk__in=own_pks, lheo_number="")):
        existing[offer.lheo_number or f"OIAHDF-{offer.pk}"] = offer

    certification_codes = {code for offer in offers for code in offer.certification_codes}
    certifications = {
        certification.code: certification
        for certification in Certification.objects.filter(code__in=certification_codes).prefetch_related(
            "skill_blocks"
        )
    }
    rome_codes = {code for offer in offers for code in offer.rome_codes}
    fiches = set(Occupation.objects.fiches().filter(code__in=rome_codes).values_list("code", flat=True))

    events, offer_ids = [], []
    for index, record in enumerate(offers):
        certification = next(
            (certifications[code] for code in record.certification_codes if code in certifications), None
        )
        if record.certification_codes and certification is None:
            report.unknown_certifications += 1
        report.unknown_rome_codes += sum(1 for code in record.rome_codes if code not in fiches)
        values = {
            "title": record.title,
            "objectives": record.objectives,
            "content": record.content,
            "provider_id": providers[record.provider.siret].pk,
            "certification_id": certification.pk if certification else None,
            "formacodes": record.formacodes,
            "modality": record.modality,
            "duration_hours": record.duration_hours,
            "price": record.price,
            "cpf_eligible": record.cpf_eligible,
            "url": record.url,
        }
        occupations = {code for code in record.rome_codes if code in fiches}
        sessions = []
        for session in record.sessions:
            commune_id = communes.match(session.insee, session.postcode, session.city)
            if commune_id is None and (session.insee or session.city):
                report.unknown_communes += 1
            sessions.append((session.number, session.start, session.end, commune_id, session.places))

        offer = existing.get(record.number)
        if offer is None:
            offer = TrainingOffer(lheo_number=record.number, status=CurationStatus.SUBMITTED, **values)
            offer.save()
            offer.occupations.set(occupations)
            if certification:
                offer.skill_blocks.set(certification.skill_blocks.all())
            _write_sessions(offer, sessions)
            report.created += 1
            events.append(
                CurationEvent(
                    offer=offer,
                    action=CurationEvent.Action.IMPORTED,
                    to_status=offer.status,
                    reason=f"Créée par l'import LHEO ({source}).",
                    user_id=user_id,
                )
            )
        else:
            event = _update_offer(offer, values, certification, occupations, sessions, report, source)
            if event:
                event.user_id = user_id
                events.append(event)
        offer_ids.append(offer.pk)
        if index % 50 == 0:
            progress(0.1 + 0.85 * index / max(len(offers), 1))
    CurationEvent.objects.bulk_create(events)
    return offer_ids


def _update_offer(offer, values, certification, occupations, sessions, report, source) -> CurationEvent | None:
    changed = [name for name in OFFER_CONTENT_FIELDS if getattr(offer, name) != values[name]]
    current_blocks = {block.pk for block in offer.skill_blocks.all()}
    blocks = current_blocks
    if certification and ("certification_id" in changed or not current_blocks):
        blocks = {block.pk for block in certification.skill_blocks.all()}
    elif certification is None and "certification_id" in changed:
        blocks = set()
    current_occupations = {occupation.pk for occupation in offer.occupations.all()}
    current_sessions = [
        (session.lheo_number, session.start, session.end, session.commune_id, session.places_left)
        for session in offer.sessions.all()
    ]
    labels = [str(TrainingOffer._meta.get_field(name.removesuffix("_id")).verbose_name) for name in changed]
    if blocks != current_blocks:
        labels.append("blocs de compétences")
    if occupations != current_occupations:
        labels.append("fiches ROME")
    content_changed = bool(labels)
    sessions_changed = Counter(sessions) != Counter(current_sessions)
    if sessions_changed:
        labels.append("sessions")
    if not labels:
        report.unchanged += 1
        return None

    from_status = offer.status
    reason = f"Mise à jour par l'import LHEO ({source}) : {', '.join(labels)}."
    if content_changed and offer.status == CurationStatus.PUBLISHED:
        # Curators published what they read; changed content is read again before it is shown.
        offer.status = CurationStatus.SUBMITTED
        changed.append("status")
        report.returned_to_review += 1
        reason += " Contenu modifié : l'offre repasse en relecture."
    for name in changed:
        if name != "status":
            setattr(offer, name, values[name])
    offer.save(update_fields=[*changed, "updated_at"])
    if blocks != current_blocks:
        offer.skill_blocks.set(blocks)
    if occupations != current_occupations:
        offer.occupations.set(occupations)
    if sessions_changed:
        offer.sessions.all().delete()
        _write_sessions(offer, sessions)
    report.updated += 1
    return CurationEvent(
        offer=offer,
        action=CurationEvent.Action.IMPORTED,
        from_status=from_status,
        to_status=offer.status,
        reason=reason,
    )


def _write_sessions(offer, sessions) -> None:
    Session.objects.bulk_create(
        Session(offer=offer, lheo_number=number, start=start, end=end, commune_id=commune_id, places_left=places)
        for number, start, end, commune_id, places in sessions
    )


def _labels(model, names) -> str:
    return ", ".join(str(model._meta.get_field(name.removesuffix("_id")).verbose_name) for name in names)
