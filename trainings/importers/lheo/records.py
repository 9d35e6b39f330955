"""The constants of the LHEO format, the records read from a file, the cleaned records and the
import's report."""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from skills.importers.base import ImportReport
from trainings.models import Provider, Session, TrainingOffer

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
