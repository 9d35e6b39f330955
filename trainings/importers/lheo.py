"""LHEO XML (« Langage Harmonisé d'Échange d'informations sur l'Offre de formation », the French
standard for exchanging training offers) → Provider, TrainingOffer and Session.

Accepted: LHEO 2.3 (namespace http://lheo.gouv.fr/2.3) and 2.2 (http://www.lheo.org/2.2, e.g. the
ONISEP flows). A file is `<lheo><offres><formation numero=…>…` and each <formation> becomes one
offer, keyed by its `numero`:

- texts (intitule-, objectif-, contenu-formation) are stored as plain text; the escaped HTML some
  flows put in them is turned into lines (one per paragraph, list item or <br>); a lone « - »,
  the « nothing to say » of several flows, is stored as empty;
- domaine-formation: code-FORMACODE → `formacodes`, code-ROME → `occupations` (fiches the
  database holds; the others are counted and left out);
- certification: code-RNCP (« 474 » or « RNCP474 ») or code-RS → `certification` when the
  database holds it (else left empty and counted); its skills blocks → `skill_blocks` for a new
  offer, when the certification changes or while the offer has none (a curator may have kept
  only some blocks: a re-import leaves them);
- cpf_eligible: LHEO 2.3 has no eligibility flag; a `code-CPF` (certification or
  code-type-formation: « code d'une certification éligible au CPF ») says yes, as does the
  `<extra info="eligibilite-cpf">1</extra>` our export writes; otherwise False;
- modality, duration (nombre-heures-total, else centre + entreprise hours) and price
  (prix-total-TTC) come from the formation's first <action>: the model has one value per offer;
- sessions: every <session> of every <action>; the commune is the one of the action's first
  <lieu-de-formation> (where the training takes place; <adresse-inscription> is where one
  registers), found by its code-INSEE-commune or else by postcode and city; places from
  `recrutement/nb-places`. A session whose period is wholly unknown (00000000–00000000) and
  gives no places is no dated session and is not stored (LHEO requires one per action);
- provider (organisme-formation-responsable), keyed by SIRET (Luhn-checked): name from
  raison-sociale, else nom-organisme; the NDA (numero-activite; 00000000000 and 99999999999
  mean unknown); the address lines of coordonnees-organisme with « postcode city » as last
  line; website, e-mail, phone and contact name. The first block of a SIRET in the file wins
  and only non-empty values overwrite what the database holds.

read_lheo(source) -> records; clean_lheo(records) -> (offers, errors); load_lheo(offers, …) ->
[offers report, providers report] in one transaction; import_lheo does the three. The parser is
defusedxml's: entity declarations, external references and a DTD fetched from outside are
refused, as are a wrong namespace, a truncated or mis-encoded file and offers lacking a number,
a title or a valid provider — all with the line and the offer's number, nothing written.
"""

import calendar
import codecs
import datetime
import operator
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import reduce
from html.parser import HTMLParser
from pathlib import Path
from xml.etree.ElementTree import ParseError, TreeBuilder

from defusedxml.common import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser
from django.db import transaction
from django.db.models import Q

from companies.models import Territory
from companies.validators import is_valid_siret
from skills.importers.base import ImportFailed, ImportReport, RowError
from skills.models import Certification, Occupation
from trainings.models import CurationEvent, CurationStatus, Provider, Session, TrainingOffer
from trainings.tagging import normalise, tag_offers

NS_23 = "http://lheo.gouv.fr/2.3"
NS_22 = "http://www.lheo.org/2.2"
NAMESPACES = (NS_23, NS_22)

# dict-modalites-enseignement of the LHEO 2.3 definition.
MODALITIES = {
    "0": TrainingOffer.Modality.IN_PERSON,  # formation entièrement présentielle
    "1": TrainingOffer.Modality.BLENDED,  # formation mixte
    "2": TrainingOffer.Modality.DISTANCE,  # formation entièrement à distance
}
UNKNOWN_DATE = "00000000"
UNKNOWN_NDA = {"00000000000", "99999999999"}
UNKNOWN_POSTCODE = "00000"
# <extra info="…"> our export writes for the CPF flag (LHEO has none).
CPF_EXTRA = "eligibilite-cpf"
# The number our export gives an offer that has no LHEO number: re-importing the export finds the
# offer again by its primary key instead of creating a copy.
OWN_NUMBER = re.compile(r"OIAHDF-([0-9]+)")

NUMBER_LENGTH = TrainingOffer._meta.get_field("lheo_number").max_length
TITLE_LENGTH = TrainingOffer._meta.get_field("title").max_length
URL_LENGTH = TrainingOffer._meta.get_field("url").max_length
PROVIDER_LENGTHS = {
    name: Provider._meta.get_field(name).max_length
    for name in ("name", "address", "website", "contact_name", "contact_email", "contact_phone")
}
SESSION_NUMBER_LENGTH = Session._meta.get_field("lheo_number").max_length
MAX_PRICE = Decimal("99999999.99")  # TrainingOffer.price: 10 digits, 2 decimals
MAX_HOURS = 99999  # the LHEO bound of nombre-heures-total

SIRET = re.compile(r"[0-9]{14}")
NDA = re.compile(r"[0-9]{11}")
FORMACODE = re.compile(r"[0-9]{5}")
ROME = re.compile(r"[A-N][0-9]{4}")
POSTCODE = re.compile(r"[0-9]{5}")
INSEE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}")
CERTIFICATION = re.compile(r"(RNCP|RS)?\s*([0-9]{1,8})", re.IGNORECASE)
DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
PLACES = re.compile(r"[0-9]{1,5}")
POSTAL_LINE = re.compile(r"([0-9]{5})\s+(.+)")
DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


# Records: what the file says, as strings, with the line of each part.


@dataclass
class AddressRecord:
    lines: list[str]
    postcode: str = ""
    city: str = ""
    insee: str = ""


@dataclass
class ProviderRecord:
    line: int
    siret: str = ""
    siret_line: int = 0
    legal_name: str = ""  # raison-sociale
    usual_name: str = ""  # nom-organisme
    nda: str = ""
    address: AddressRecord | None = None
    website: str = ""
    email: str = ""
    phone: str = ""
    contact_name: str = ""


@dataclass
class SessionRecord:
    line: int
    number: str = ""
    start: str = ""
    end: str = ""
    places: str = ""
    place: AddressRecord | None = None  # the action's training place


@dataclass
class OfferRecord:
    source: str
    line: int
    number: str = ""
    title: str = ""
    objectives: str = ""
    content: str = ""
    certification_codes: list[tuple[str, str]] = field(default_factory=list)  # (register, raw code)
    cpf: bool = False
    formacodes: list[str] = field(default_factory=list)
    rome_codes: list[str] = field(default_factory=list)
    url: str = ""
    modality: str = ""
    hours: str = ""
    hours_parts: list[str] = field(default_factory=list)  # centre and entreprise hours
    price: str = ""
    action_line: int = 0
    sessions: list[SessionRecord] = field(default_factory=list)
    provider: ProviderRecord | None = None


# Clean results: typed values ready to be written.


@dataclass
class CleanProvider:
    siret: str
    name: str
    nda: str
    address: str
    postcode: str
    city: str
    insee: str
    website: str
    contact_email: str
    contact_phone: str
    contact_name: str


@dataclass
class CleanSession:
    number: str
    start: datetime.date | None
    end: datetime.date | None
    places: int | None
    postcode: str
    city: str
    insee: str


@dataclass
class CleanOffer:
    line: int
    number: str
    title: str
    objectives: str
    content: str
    certification_codes: list[str]
    cpf_eligible: bool
    formacodes: list[str]
    rome_codes: list[str]
    url: str
    modality: str
    duration_hours: int | None
    price: Decimal | None
    sessions: list[CleanSession]
    provider: CleanProvider


@dataclass
class LheoReport(ImportReport):
    """Counts of the offers, plus what the file named that the database does not hold."""

    returned_to_review: int = 0
    unknown_certifications: int = 0
    unknown_rome_codes: int = 0
    unknown_communes: int = 0

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "returned_to_review": self.returned_to_review,
            "unknown_certifications": self.unknown_certifications,
            "unknown_rome_codes": self.unknown_rome_codes,
            "unknown_communes": self.unknown_communes,
        }

    def __str__(self):
        return (
            f"{super().__str__()} ; {self.returned_to_review} publiée(s) repassée(s) en relecture ; "
            f"{self.unknown_certifications} certification(s) inconnue(s), {self.unknown_rome_codes} "
            f"code(s) ROME inconnu(s), {self.unknown_communes} commune(s) introuvable(s)"
        )


def import_lheo(source, *, user=None, progress: Callable[[float], None] | None = None) -> list[ImportReport]:
    """Import the LHEO file `source` (a path or a binary file object): the offers' report, then
    the providers'. Raises ImportFailed, having written nothing, when the file is hostile,
    malformed or any offer is wrong."""
    report_progress = progress or (lambda fraction: None)
    records = read_lheo(source)
    report_progress(0.2)
    offers, errors = clean_lheo(records)
    name = _source_name(source)
    if errors:
        raise ImportFailed(errors, name)
    report_progress(0.3)
    reports = load_lheo(
        offers, user=user, source=name, progress=lambda fraction: report_progress(0.3 + 0.7 * fraction)
    )
    report_progress(1.0)
    return reports


# Read.


class _LineParser(DefusedXMLParser):
    """defusedxml's parser (entities and external references forbidden) that also notes the line
    of each element, and refuses a DOCTYPE only when it points outside the file."""

    def __init__(self):
        super().__init__(target=TreeBuilder(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
        self.lines = {}

    def defused_start_doctype_decl(self, name, sysid, pubid, has_internal_subset):
        if sysid or pubid:
            raise DTDForbidden(name, sysid, pubid)

    def _start(self, tag, attr_list):
        element = super()._start(tag, attr_list)
        self.lines[element] = self.parser.CurrentLineNumber
        return element


def read_lheo(source) -> list[OfferRecord]:
    """The offers of the file as records of strings. Raises ImportFailed when the file is not a
    safe, whole, well-encoded LHEO 2.3 or 2.2 document."""
    name = _source_name(source)
    data = Path(source).read_bytes() if isinstance(source, str | Path) else source.read()

    def refuse(line, message):
        raise ImportFailed([RowError(line, message, name)], name)

    if not data.strip():
        refuse(1, "fichier vide")
    _check_encoding(data, refuse)

    parser = _LineParser()
    try:
        parser.feed(data)
        root = parser.close()
    except EntitiesForbidden as exc:
        refuse(
            parser.parser.CurrentLineNumber,
            f"déclaration d'entité XML « {exc.name} » refusée : les entités permettent des attaques "
            "(expansion exponentielle « billion laughs », lecture de fichiers du serveur)",
        )
    except DTDForbidden as exc:
        refuse(
            parser.parser.CurrentLineNumber,
            f"DTD externe refusée (DOCTYPE {exc.name} SYSTEM « {exc.sysid or exc.pubid} ») : "
            "un fichier LHEO ne doit rien faire charger hors de lui-même",
        )
    except ExternalReferenceForbidden as exc:
        refuse(
            parser.parser.CurrentLineNumber,
            f"référence à une ressource externe « {exc.sysid} » refusée",
        )
    except ParseError as exc:
        line, column = exc.position
        truncated = exc.code in (3, 5, 6) and line >= data.rstrip().count(b"\n") + 1  # no element, unclosed
        if truncated:
            refuse(line, f"fichier tronqué : le document XML s'arrête avant sa fin ({exc.msg})")
        refuse(line, f"XML mal formé : {exc.msg}")

    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if local != "lheo":
        refuse(1, f"élément racine « {local} » inattendu : un fichier LHEO commence par <lheo>")
    if namespace not in NAMESPACES:
        shown = f"« {namespace} »" if namespace else "absent"
        refuse(
            parser.lines.get(root, 1),
            f"espace de noms {shown} non reconnu (attendu : {NS_23} pour LHEO 2.3 ou {NS_22} pour LHEO 2.2)",
        )
    return _Reader(namespace, parser.lines, name).offers(root)


def _source_name(source) -> str:
    if isinstance(source, str | Path):
        return Path(source).name
    return Path(getattr(source, "name", "") or "flux LHEO").name


def _check_encoding(data: bytes, refuse) -> None:
    """The bytes must decode in the encoding the XML declaration names (UTF-8 by default)."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", data
    else:
        declared = DECLARED_ENCODING.match(data)
        encoding, body = (declared.group(1).decode("ascii") if declared else "utf-8"), data
    try:
        codecs.lookup(encoding)
    except LookupError:
        refuse(1, f"encodage « {encoding} » inconnu dans la déclaration XML")
    try:
        body.decode(encoding)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        refuse(
            line,
            f"octet invalide pour l'encodage « {encoding} » déclaré par le fichier : il n'est pas enregistré "
            "dans cet encodage (réenregistrez-le en UTF-8 ou corrigez la déclaration <?xml … encoding=…?>)",
        )


class _Reader:
    """Walks a parsed LHEO tree; paths are written without namespace (« action/session »)."""

    def __init__(self, namespace: str, lines: dict, source: str):
        self.ns = namespace
        self.lines = lines
        self.source = source

    def _path(self, path: str) -> str:
        return "/".join(f"{{{self.ns}}}{part}" for part in path.split("/"))

    def all(self, element, path):
        return element.findall(self._path(path))

    def first(self, element, path):
        return element.find(self._path(path)) if element is not None else None

    def text(self, element, path) -> str:
        found = self.first(element, path)
        return "".join(found.itertext()).strip() if found is not None else ""

    def texts(self, element, path) -> list[str]:
        return [value for value in ("".join(e.itertext()).strip() for e in self.all(element, path)) if value]

    def line(self, element, default=0) -> int:
        return self.lines.get(element, default) if element is not None else default

    def offers(self, root) -> list[OfferRecord]:
        return [self.offer(formation) for formation in self.all(root, "offres/formation")]

    def offer(self, formation) -> OfferRecord:
        record = OfferRecord(source=self.source, line=self.line(formation), number=formation.get("numero", "").strip())
        record.title = self.text(formation, "intitule-formation")
        record.objectives = self.text(formation, "objectif-formation")
        record.content = self.text(formation, "contenu-formation")
        record.formacodes = self.texts(formation, "domaine-formation/code-FORMACODE")
        record.rome_codes = self.texts(formation, "domaine-formation/code-ROME")
        for certification in self.all(formation, "certification"):
            record.certification_codes += [("RNCP", code) for code in self.texts(certification, "code-RNCP")]
            record.certification_codes += [("RS", code) for code in self.texts(certification, "code-RS")]
        record.cpf = bool(
            self.texts(formation, "certification/code-CPF")
            or self.texts(formation, "code-type-formation/code-CPF")
            or any(
                extra.get("info") == CPF_EXTRA and (extra.text or "").strip() in ("1", "oui", "true")
                for extra in formation.iter(f"{{{self.ns}}}extra")
            )
        )
        record.url = self.text(formation, "url-formation/urlweb")

        actions = self.all(formation, "action")
        if actions:
            first = actions[0]
            record.action_line = self.line(first)
            record.modality = self.text(first, "modalites-enseignement")
            record.hours = self.text(first, "nombre-heures-total")
            record.hours_parts = [
                value
                for value in (self.text(first, "nombre-heures-centre"), self.text(first, "nombre-heures-entreprise"))
                if value
            ]
            record.price = self.text(first, "prix-total-TTC")
        for action in actions:
            place = self.address(self.first(action, "lieu-de-formation/coordonnees/adresse"))
            for session in self.all(action, "session"):
                record.sessions.append(
                    SessionRecord(
                        line=self.line(session),
                        number=session.get("numero", "").strip(),
                        start=self.text(session, "periode/debut"),
                        end=self.text(session, "periode/fin"),
                        places=self.text(session, "recrutement/nb-places"),
                        place=place,
                    )
                )
        responsible = self.first(formation, "organisme-formation-responsable")
        if responsible is not None:
            record.provider = self.provider(responsible)
        return record

    def provider(self, element) -> ProviderRecord:
        siret = self.first(element, "SIRET-organisme-formation/SIRET")
        record = ProviderRecord(
            line=self.line(element),
            siret=self.text(element, "SIRET-organisme-formation/SIRET"),
            siret_line=self.line(siret, self.line(element)),
            legal_name=self.text(element, "raison-sociale"),
            usual_name=self.text(element, "nom-organisme"),
            nda=self.text(element, "numero-activite"),
        )
        main = self.first(element, "coordonnees-organisme/coordonnees")
        contact = self.first(element, "contact-organisme/coordonnees")
        record.address = self.address(self.first(main, "adresse"))
        if record.address is None and main is not None and self.texts(main, "ligne"):
            record.address = AddressRecord(lines=self.texts(main, "ligne"))
        for coordinates in (contact, main):
            if coordinates is None:
                continue
            record.email = record.email or self.text(coordinates, "courriel")
            record.phone = (
                record.phone or self.text(coordinates, "telfixe/numtel") or self.text(coordinates, "portable/numtel")
            )
        for coordinates in (main, contact):
            if coordinates is not None:
                record.website = record.website or self.text(coordinates, "web/urlweb")
        if contact is not None:
            record.contact_name = " ".join(
                value for value in (self.text(contact, "prenom"), self.text(contact, "nom")) if value
            )
        return record

    def address(self, element) -> AddressRecord | None:
        if element is None:
            return None
        return AddressRecord(
            lines=self.texts(element, "ligne"),
            postcode=self.text(element, "codepostal"),
            city=self.text(element, "ville"),
            insee=self.text(element, "code-INSEE-commune"),
        )


# Clean.


def clean_lheo(records: list[OfferRecord]) -> tuple[list[CleanOffer], list[RowError]]:
    """Check every offer; returns the offers that passed with typed values, and the errors of the
    others, each naming the offer's number and the line."""
    offers, errors = [], []
    first_line = {}
    for record in records:
        offer_errors = []

        def error(line, message, record=record, offer_errors=offer_errors):
            who = f"offre « {record.number} »" if record.number else "offre sans numéro"
            offer_errors.append(RowError(line or record.line, f"{who} : {message}", record.source))

        offer = _clean_offer(record, error)
        if record.number:
            if record.number in first_line:
                error(record.line, f"numéro en double (déjà ligne {first_line[record.number]})")
            else:
                first_line[record.number] = record.line
        if offer_errors:
            errors += offer_errors
        else:
            offers.append(offer)
    return offers, sorted(errors, key=lambda e: e.line)


def _clean_offer(record: OfferRecord, error) -> CleanOffer | None:
    if not record.number:
        error(record.line, "numéro absent (attribut numero de <formation>)")
    elif len(record.number) > NUMBER_LENGTH:
        error(record.line, f"numéro trop long ({NUMBER_LENGTH} caractères au plus)")
    title = html_to_text(record.title)
    if not title:
        error(record.line, "intitulé absent (<intitule-formation>)")
    elif len(title) > TITLE_LENGTH:
        error(record.line, f"intitulé trop long ({TITLE_LENGTH} caractères au plus)")

    formacodes = []
    for code in record.formacodes:
        if not FORMACODE.fullmatch(code):
            error(record.line, f"code FORMACODE « {code} » invalide (attendu : 5 chiffres)")
        elif code not in formacodes:
            formacodes.append(code)
    rome_codes = []
    for code in record.rome_codes:
        if not ROME.fullmatch(code.upper()):
            error(record.line, f"code ROME « {code} » invalide (attendu : une lettre de A à N et 4 chiffres)")
        elif code.upper() not in rome_codes:
            rome_codes.append(code.upper())
    certification_codes = []
    for register, code in record.certification_codes:
        match = CERTIFICATION.fullmatch(code)
        if match and (match.group(1) or register).upper() == register:
            certification_codes.append(f"{register}{int(match.group(2))}")
        else:
            error(record.line, f"code {register} « {code} » invalide (attendu : « {register}1234 » ou « 1234 »)")

    url = _url(record.url)
    if len(url) > URL_LENGTH:
        error(record.line, f"adresse de la page de l'offre trop longue ({URL_LENGTH} caractères au plus)")
    modality = MODALITIES.get(record.modality or "0")
    if modality is None:
        error(
            record.action_line,
            f"modalités d'enseignement « {record.modality} » inconnues "
            "(attendu : 0 présentiel, 1 mixte, 2 à distance)",
        )
    hours = _hours(record, error)
    price = None
    if record.price:
        price = _decimal(record.price)
        if price is None or price < 0 or price > MAX_PRICE:
            error(record.action_line, f"prix total TTC « {record.price} » invalide (attendu : un montant en euros)")
            price = None
        else:
            price = price.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    sessions = [session for session in (_clean_session(s, error) for s in record.sessions) if session is not None]
    provider = _clean_provider(record, error)
    if provider is None or modality is None:
        return None
    return CleanOffer(
        line=record.line,
        number=record.number,
        title=title,
        objectives=html_to_text(record.objectives),
        content=html_to_text(record.content),
        certification_codes=certification_codes,
        cpf_eligible=record.cpf,
        formacodes=formacodes,
        rome_codes=rome_codes,
        url=url,
        modality=modality,
        duration_hours=hours,
        price=price,
        sessions=sessions,
        provider=provider,
    )


def _hours(record: OfferRecord, error) -> int | None:
    values = [record.hours] if record.hours else record.hours_parts
    if not values:
        return None
    numbers = [_decimal(value) for value in values]
    if any(number is None or number < 0 for number in numbers) or sum(numbers) > MAX_HOURS:
        shown = " + ".join(values)
        error(record.action_line, f"nombre d'heures « {shown} » invalide (attendu : un nombre de 0 à {MAX_HOURS})")
        return None
    return int(sum(numbers).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _clean_session(record: SessionRecord, error) -> CleanSession | None:
    start = _date(record.start, end=False)
    end = _date(record.end, end=True)
    ok = True
    for value, parsed, what in ((record.start, start, "début"), (record.end, end, "fin")):
        if parsed is False:
            error(record.line, f"date de {what} de session « {value} » invalide (attendu : AAAAMMJJ)")
            ok = False
    if ok and start and end and end < start:
        error(record.line, f"session terminée ({record.end}) avant d'avoir commencé ({record.start})")
        ok = False
    if record.places and not PLACES.fullmatch(record.places):
        error(record.line, f"nombre de places « {record.places} » invalide (attendu : un entier)")
        ok = False
    if len(record.number) > SESSION_NUMBER_LENGTH:
        error(record.line, f"numéro de session trop long ({SESSION_NUMBER_LENGTH} caractères au plus)")
        ok = False
    if not ok or (start is None and end is None and not record.places):
        return None
    place = record.place or AddressRecord(lines=[])
    return CleanSession(
        number=record.number,
        start=start,
        end=end,
        places=int(record.places) if record.places else None,
        postcode=place.postcode,
        city=place.city,
        insee=place.insee.upper(),
    )


def _clean_provider(record: OfferRecord, error) -> CleanProvider | None:
    provider = record.provider
    if provider is None:
        error(record.line, "organisme responsable absent (<organisme-formation-responsable>)")
        return None
    error = counted = _ErrorCounter(error)
    siret = re.sub(r"\s", "", provider.siret)
    if not siret:
        error(provider.line, "SIRET de l'organisme responsable absent (<SIRET-organisme-formation>)")
    elif not SIRET.fullmatch(siret):
        error(provider.siret_line, f"SIRET « {provider.siret} » invalide : 14 chiffres attendus")
    elif not is_valid_siret(siret):
        error(provider.siret_line, f"SIRET « {siret} » invalide : la clé de contrôle (Luhn) est fausse")
    name = _plain(provider.legal_name) or _plain(provider.usual_name)
    if not name:
        error(provider.line, "nom de l'organisme responsable absent (<raison-sociale> et <nom-organisme>)")
    nda = re.sub(r"\s", "", provider.nda)
    if nda in UNKNOWN_NDA:
        nda = ""
    elif nda and not NDA.fullmatch(nda):
        error(provider.line, f"numéro de déclaration d'activité « {provider.nda} » invalide (attendu : 11 chiffres)")
    address = provider.address or AddressRecord(lines=[])
    lines = [_plain(line) for line in address.lines if _plain(line)]
    postcode = address.postcode if address.postcode != UNKNOWN_POSTCODE else ""
    if postcode or address.city:
        lines.append(" ".join(value for value in (postcode, _plain(address.city)) if value))
    values = {
        "name": name,
        "address": "\n".join(lines),
        "website": _url(provider.website),
        "contact_name": _plain(provider.contact_name),
        "contact_email": _plain(provider.email),
        "contact_phone": _plain(provider.phone),
    }
    for key, value in values.items():
        if len(value) > PROVIDER_LENGTHS[key]:
            label = Provider._meta.get_field(key).verbose_name
            error(provider.line, f"{label} de l'organisme trop long(ue) ({PROVIDER_LENGTHS[key]} caractères au plus)")
    if counted.count:
        return None
    return CleanProvider(
        siret=siret,
        nda=nda,
        postcode=postcode,
        city=_plain(address.city),
        insee=address.insee.upper(),
        **values,
    )


class _ErrorCounter:
    def __init__(self, error):
        self.error = error
        self.count = 0

    def __call__(self, line, message):
        self.count += 1
        self.error(line, message)


def _date(value: str, *, end: bool) -> datetime.date | None | bool:
    """LHEO dates: AAAAMMJJ, AAAAMM00 for a month, AAAA0000 for a year, 00000000 when unknown.
    A month or year is read as its first day for a start and its last day for an end. False when
    the value is not a date."""
    if not value or value == UNKNOWN_DATE:
        return None
    match = DATE.fullmatch(value)
    if not match:
        return False
    year, month, day = (int(part) for part in match.groups())
    try:
        if month == 0:
            return datetime.date(year, 12, 31) if end else datetime.date(year, 1, 1)
        if day == 0:
            return datetime.date(year, month, calendar.monthrange(year, month)[1] if end else 1)
        return datetime.date(year, month, day)
    except ValueError:
        return False


def _decimal(value: str) -> Decimal | None:
    text = re.sub(r"[\s\u00a0\u202f€]", "", value).replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _url(value: str) -> str:
    value = value.strip()
    if value and not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://", value):
        value = f"http://{value}"
    return value


def _plain(value: str) -> str:
    """One-line text: spaces collapsed; a lone « - » (« nothing to say ») is empty."""
    value = " ".join(value.split())
    return "" if value == "-" else value


# Text: escaped HTML to plain lines.

_HTML_HINT = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?\s*>|&(?:[a-zA-Z]+|#[0-9]+|#x[0-9a-fA-F]+);")
_BLOCK_TAGS = {
    *("p", "div", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "blockquote", "pre", "section", "article"),
    *("h1", "h2", "h3", "h4", "h5", "h6"),
}
_HIDDEN_TAGS = {"script", "style", "template"}


class _TextExtractor(HTMLParser):
    """Keeps the text of an HTML fragment: a line per paragraph, list item (« - ») or <br>; the
    content of script and style is dropped, attributes are never read."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.hidden = 0

    def _new_line(self):
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self._new_line()
            if tag == "li":
                self.parts.append("- ")

    def handle_startendtag(self, tag, attrs):
        if tag not in _HIDDEN_TAGS:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in _HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK_TAGS:
            self._new_line()

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(value: str) -> str:
    """Plain text of a LHEO text field: escaped HTML (ONISEP) becomes lines, plain text keeps its
    lines; spaces are collapsed, at most one blank line is kept between paragraphs and a lone
    « - » is empty. Applying it twice changes nothing, so an exported text re-imports as is."""
    if _HTML_HINT.search(value or ""):
        extractor = _TextExtractor()
        extractor.feed(value)
        extractor.close()
        value = "".join(extractor.parts)
    lines, blank = [], False
    for line in (value or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = " ".join(line.split())
        if line:
            if blank and lines:
                lines.append("")
            lines.append(line)
            blank = False
        else:
            blank = True
    text = "\n".join(lines)
    return "" if text == "-" else text


# Load.


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
    key = normalise(name).replace("'", " ")
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
    offers_report = LheoReport(source)
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
