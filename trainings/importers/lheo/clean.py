"""Checking the records read: mandatory fields, codes, dates, amounts; texts made plain."""

import calendar
import datetime
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from html.parser import HTMLParser

from companies.validators import is_valid_siret
from skills.importers.base import RowError
from skills.text import web_url
from trainings.models import Provider

from .records import (
    CERTIFICATION,
    DATE,
    FORMACODE,
    MAX_HOURS,
    MAX_PRICE,
    MODALITIES,
    NDA,
    NUMBER_LENGTH,
    PLACES,
    PROVIDER_LENGTHS,
    ROME,
    SESSION_NUMBER_LENGTH,
    SIRET,
    TITLE_LENGTH,
    UNKNOWN_DATE,
    UNKNOWN_NDA,
    UNKNOWN_POSTCODE,
    URL_LENGTH,
    AddressRecord,
    CleanOffer,
    CleanProvider,
    CleanSession,
    OfferRecord,
    SessionRecord,
)


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
    if url and not web_url(url):
        error(record.line, f"adresse de la page de l'offre « {url[:80]} » refusée : seules les adresses http ou https")
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
    if values["website"] and not web_url(values["website"]):
        error(
            provider.line,
            f"site web de l'organisme « {values['website'][:80]} » refusé : seules les adresses http ou https",
        )
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
