"""Published offers → LHEO 2.3 XML (namespace http://lheo.gouv.fr/2.3), in the element order of
the official XSD, every mandatory element present.

The catalogue holds less than LHEO requires, so mandatory elements it has no value for get the
code or text the definition gives for « unknown »: code-niveau-entree 0 (information non
communiquée), modalite-recrutement 0 (information inconnue), numero-activite 00000000000,
codepostal 00000, « - » for free texts (as ONISEP writes them); code-public-vise is FORMACODE
80056 « tout public » and parcours-de-formation 1 « en groupe », the definition having no
« unknown » value for them. The importer reads all of these back as empty, so that importing an
export changes nothing:

- one <action> per commune of the offer's sessions (its <lieu-de-formation> names the commune
  by INSEE code), each with the offer's modality, hours and price; an offer without a dated
  session gets one action with one session 00000000–00000000 (LHEO wants at least one);
- a session's registration address (<adresse-inscription>) is the provider's address;
- places go to `recrutement/nb-places`; CPF eligibility, which LHEO has no element for, to
  `<extras info="observatoire-ia-hdf"><extra info="eligibilite-cpf">1</extra></extras>`;
- an offer without LHEO number is numbered « OIAHDF-<pk> », which the importer maps back.

Texts longer than LHEO allows are cut (title 255, objectives and content 3000 characters) and
at most 5 Formacode and 5 ROME codes are written: such offers do not round-trip exactly.
"""

import datetime
import io
import re
import textwrap
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree as ET

import xmlschema
from django.db.models import Prefetch

from skills.models import Certification
from trainings.importers.lheo import CPF_EXTRA, MODALITIES, NS_23, UNKNOWN_DATE, UNKNOWN_POSTCODE
from trainings.models import CurationStatus, Session, TrainingOffer

MODALITY_CODES = {modality: code for code, modality in MODALITIES.items()}
UNKNOWN_TEXT = "-"
UNKNOWN_NDA = "00000000000"
PUBLIC_ALL = "80056"  # FORMACODE « tout public »
POSTAL_LINE = re.compile(r"([0-9]{5})\s+(.+)")
EXTRAS_INFO = "observatoire-ia-hdf"


def export_lheo(queryset=None) -> bytes:
    """The offers of `queryset` (the published ones by default) as an LHEO 2.3 document, UTF-8."""
    if queryset is None:
        queryset = TrainingOffer.objects.filter(status=CurationStatus.PUBLISHED)
    offers = queryset.select_related("provider__commune", "certification").prefetch_related(
        "occupations", Prefetch("sessions", queryset=Session.objects.select_related("commune"))
    )
    # Unqualified names under a default namespace declared on the root: ElementTree cannot
    # write unqualified attributes (numero) with its `default_namespace` option.
    root = ET.Element("lheo", xmlns=NS_23)
    catalogue = _sub(root, "offres")
    for offer in sorted(offers, key=lambda o: o.lheo_number or f"OIAHDF-{o.pk}"):
        _formation(catalogue, offer)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def validate_lheo(xml_bytes: bytes, xsd_path) -> list[str]:
    """The problems the XSD finds in `xml_bytes` (empty when it is valid), in French."""
    schema = _schema(str(Path(xsd_path).resolve()))
    problems = []
    for error in schema.iter_errors(io.BytesIO(xml_bytes)):
        where = f" (ligne {error.sourceline})" if getattr(error, "sourceline", None) else ""
        problems.append(f"{error.path or '/'}{where} : {error.reason or error.message}")
    return problems


@lru_cache(maxsize=4)
def _schema(path: str):
    return xmlschema.XMLSchema(path)


def _sub(parent, name: str, text=None, **attributes):
    element = ET.SubElement(parent, name, {key.replace("_", "-"): value for key, value in attributes.items()})
    if text is not None:
        element.text = str(text)
    return element


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _formation(catalogue, offer: TrainingOffer) -> None:
    formation = _sub(catalogue, "formation", numero=offer.lheo_number or f"OIAHDF-{offer.pk}")
    domain = _sub(formation, "domaine-formation")
    for code in offer.formacodes[:5]:
        _sub(domain, "code-FORMACODE", code)
    for code in sorted(occupation.code for occupation in offer.occupations.all())[:5]:
        _sub(domain, "code-ROME", code)
    _sub(formation, "intitule-formation", _cut(offer.title, 255))
    _sub(formation, "objectif-formation", _cut(offer.objectives, 3000) or UNKNOWN_TEXT)
    _sub(formation, "resultats-attendus", UNKNOWN_TEXT)
    _sub(formation, "contenu-formation", _cut(offer.content, 3000) or UNKNOWN_TEXT)
    _sub(formation, "certifiante", "1" if offer.certification_id else "0")
    _contact(_sub(formation, "contact-formation"), offer.provider)
    _sub(formation, "parcours-de-formation", "1")
    _sub(formation, "code-niveau-entree", "0")
    if offer.certification:
        certification = _sub(formation, "certification")
        register = offer.certification.register
        _sub(
            certification,
            "code-RNCP" if register == Certification.Register.RNCP else "code-RS",
            offer.certification.code,
        )
    if offer.url:
        _sub(_sub(formation, "url-formation"), "urlweb", offer.url)

    dated = [s for s in offer.sessions.all() if s.start or s.end or s.places_left is not None]
    groups = {}
    last = datetime.date.max
    for session in sorted(dated, key=lambda s: (s.start or s.end or last, s.end or last, s.lheo_number, s.pk)):
        groups.setdefault(session.commune, []).append(session)
    for index, (commune, sessions) in enumerate(groups.items() or [(None, [None])], start=1):
        _action(formation, offer, commune, sessions, index)

    _provider(_sub(formation, "organisme-formation-responsable"), offer.provider)
    if offer.cpf_eligible:
        _sub(_sub(formation, "extras", info=EXTRAS_INFO), "extra", "1", info=CPF_EXTRA)


def _action(formation, offer, commune, sessions, index) -> None:
    number = offer.lheo_number or f"OIAHDF-{offer.pk}"
    action = _sub(formation, "action", numero=f"{number}-{index}")
    _sub(action, "rythme-formation", UNKNOWN_TEXT)
    _sub(action, "code-public-vise", PUBLIC_ALL)
    _sub(action, "niveau-entree-obligatoire", "0")
    _sub(action, "modalites-alternance", UNKNOWN_TEXT)
    _sub(action, "modalites-enseignement", MODALITY_CODES[offer.modality])
    _sub(action, "conditions-specifiques", UNKNOWN_TEXT)
    _sub(action, "prise-en-charge-frais-possible", "1" if offer.cpf_eligible else "0")
    if commune is not None:
        place = _sub(_sub(action, "lieu-de-formation"), "coordonnees")
        postcode, _ = _postal_line(offer.provider) if offer.provider.commune_id == commune.pk else ("", "")
        address = _sub(place, "adresse")
        _sub(address, "ligne", _cut(commune.name, 50))
        _sub(address, "codepostal", postcode or UNKNOWN_POSTCODE)
        _sub(address, "ville", _cut(commune.name, 50))
        _sub(address, "code-INSEE-commune", commune.code)
    _sub(action, "modalites-entrees-sorties", "0")
    for session in sessions:
        _session(action, offer, session)
    if offer.price is not None:
        price = offer.price.normalize() if offer.price == offer.price.to_integral() else offer.price
        _sub(action, "prix-total-TTC", f"{price:f}")
    if offer.duration_hours is not None:
        _sub(action, "nombre-heures-total", offer.duration_hours)


def _session(action, offer, session: Session | None) -> None:
    element = _sub(action, "session", **({"numero": session.lheo_number} if session and session.lheo_number else {}))
    period = _sub(element, "periode")
    _sub(period, "debut", session.start.strftime("%Y%m%d") if session and session.start else UNKNOWN_DATE)
    _sub(period, "fin", session.end.strftime("%Y%m%d") if session and session.end else UNKNOWN_DATE)
    _address(_sub(element, "adresse-inscription"), offer.provider, required=True)
    if session and session.places_left is not None:
        recruitment = _sub(element, "recrutement")
        _sub(recruitment, "modalite-recrutement", "0")
        _sub(recruitment, "nb-places", session.places_left)


def _postal_line(provider) -> tuple[str, str]:
    """The postcode and city of the provider's address, whose last line is « 59000 Lille »."""
    lines = provider.address.splitlines()
    match = POSTAL_LINE.fullmatch(lines[-1].strip()) if lines else None
    return (match.group(1), match.group(2)) if match else ("", "")


def _address(parent, provider, *, required: bool) -> bool:
    """Write <adresse> when the provider's address ends with its postcode and city (or always when
    `required`, with the unknown postcode); returns whether it was written."""
    postcode, city = _postal_line(provider)
    lines = [line.strip() for line in provider.address.splitlines() if line.strip()]
    if postcode:
        lines = lines[:-1]
    elif not required:
        return False
    address = _sub(parent, "adresse")
    # <ligne> is mandatory: « - » when the address is only its postcode and city (read back as nothing).
    wrapped = [part for line in lines for part in textwrap.wrap(line, 50)][:4] or [UNKNOWN_TEXT]
    for line in wrapped:
        _sub(address, "ligne", line)
    _sub(address, "codepostal", postcode or UNKNOWN_POSTCODE)
    city = city or (provider.commune.name if provider.commune else UNKNOWN_TEXT)
    _sub(address, "ville", _cut(city, 50))
    if provider.commune:
        _sub(address, "code-INSEE-commune", provider.commune.code)
    return True


def _contact(parent, provider) -> None:
    """<coordonnees> of the provider's contact: name, phone, e-mail (all optional)."""
    coordinates = _sub(parent, "coordonnees")
    if provider.contact_name:
        _sub(coordinates, "nom", _cut(provider.contact_name, 50))
    if provider.contact_phone:
        _sub(_sub(coordinates, "telfixe"), "numtel", _cut(provider.contact_phone, 25))
    if provider.contact_email:
        _sub(coordinates, "courriel", provider.contact_email)


def _provider(parent, provider) -> None:
    _sub(parent, "numero-activite", provider.nda or UNKNOWN_NDA)
    _sub(_sub(parent, "SIRET-organisme-formation"), "SIRET", provider.siret)
    _sub(parent, "nom-organisme", _cut(provider.name, 250))
    _sub(parent, "raison-sociale", _cut(provider.name, 250))
    coordinates = _sub(_sub(parent, "coordonnees-organisme"), "coordonnees")
    if not _postal_line(provider)[0]:
        # No postcode to build an <adresse>: the lines go to <coordonnees>, which allows three.
        lines = [part for line in provider.address.splitlines() for part in textwrap.wrap(line.strip(), 50)]
        for line in lines[:3]:
            _sub(coordinates, "ligne", line)
    else:
        _address(coordinates, provider, required=False)
    if provider.website:
        _sub(_sub(coordinates, "web"), "urlweb", provider.website)
    _contact(_sub(parent, "contact-organisme"), provider)
