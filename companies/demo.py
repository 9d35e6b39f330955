"""Deterministic synthetic companies for the demonstration and the benchmarks.

Only the companies are invented: they sit in real Hauts-de-France communes, carry real NAF
codes and hold real ROME fiches, all read from the database (load the reference data first).
The same seed on the same reference data gives the same companies, SIRENs, communes,
sectors and job positions, so that screenshots, benchmarks and tests can be reproduced.

Demo companies are recognised by their SIREN prefix `000`, chosen as unlikely to clash with
the real companies imported later; `--replace` finds what it created through it, without a
marker field.

The demo also fills the directory of regional contacts (`seed_contacts`) with real public
actors of Hauts-de-France and their generic public web pages, so that the company report can
name someone to turn to; curators complete it with real addresses in the application.
"""

import math

import numpy as np
from django.db import transaction
from django.utils import timezone

from skills.categories import CATEGORIES
from skills.models import NafDivisionOccupation, Occupation
from skills.selectors import reference_profiles_frame

from .models import Company, Establishment, JobPosition, RegionalContact, Sector, SizeBand, Territory
from .validators import luhn_complete

REGION_CODE = "32"
DEMO_SIREN_PREFIX = "000"
# Free digits between the prefix and the Luhn key: the most companies one seed can create.
MAX_COMPANIES = 10 ** (8 - len(DEMO_SIREN_PREFIX))
BATCH_SIZE = 1000

# Approximate shares of employer companies (≥ 1 employee) per NAF section, of the order of
# INSEE's counts (Flores): trade and services dominate, then construction, hospitality,
# health and social work, manufacturing. A demo assumption, not a statistic.
SECTION_WEIGHTS = {
    "A": 0.030,
    "B": 0.001,
    "C": 0.070,
    "D": 0.003,
    "E": 0.007,
    "F": 0.120,
    "G": 0.220,
    "H": 0.040,
    "I": 0.100,
    "J": 0.030,
    "K": 0.035,
    "L": 0.020,
    "M": 0.100,
    "N": 0.060,
    "O": 0.010,
    "P": 0.020,
    "Q": 0.090,
    "R": 0.015,
    "S": 0.070,
    "T": 0.002,
    "U": 0.0,
}
# Sous-classes holding far more companies than their neighbours (restaurants, hairdressers,
# doctors, accountants…): their weight within their section is multiplied by this factor.
COMMON_SOUS_CLASSES = {
    "56.10A": 5,
    "56.10C": 3,
    "56.30Z": 2,
    "96.02A": 5,
    "86.21Z": 3,
    "86.90D": 2,
    "69.20Z": 3,
    "47.11D": 2,
    "47.73Z": 3,
    "10.71C": 4,
    "43.21A": 3,
    "43.22A": 2,
    "41.20A": 2,
    "45.20A": 3,
    "49.41A": 3,
    "62.01Z": 3,
    "62.02A": 2,
    "88.10A": 3,
    "68.31Z": 2,
    "71.12B": 2,
}
# NAF rév. 2 divisions of each section (first, last).
SECTION_DIVISIONS = (
    ("A", 1, 3),
    ("B", 5, 9),
    ("C", 10, 33),
    ("D", 35, 35),
    ("E", 36, 39),
    ("F", 41, 43),
    ("G", 45, 47),
    ("H", 49, 53),
    ("I", 55, 56),
    ("J", 58, 63),
    ("K", 64, 66),
    ("L", 68, 68),
    ("M", 69, 75),
    ("N", 77, 82),
    ("O", 84, 84),
    ("P", 85, 85),
    ("Q", 86, 88),
    ("R", 90, 93),
    ("S", 94, 96),
    ("T", 97, 98),
    ("U", 99, 99),
)
# Where the ROME has no fiche for a division, the grands domaines its jobs come from.
SECTION_GRANDS_DOMAINES = {
    "A": "A",
    "B": "FH",
    "C": "HI",
    "D": "HI",
    "E": "KHN",
    "F": "F",
    "G": "DN",
    "H": "N",
    "I": "G",
    "J": "ME",
    "K": "C",
    "L": "C",
    "M": "M",
    "N": "KM",
    "O": "KM",
    "P": "K",
    "Q": "JK",
    "R": "LG",
    "S": "DK",
    "T": "K",
    "U": "KM",
}

# Size bands of employer companies: INSEE counts give ~80 % of them under 10 employees; the
# demo thickens the larger bands so that their grid cells are not all secret.
# (band, probability, smallest headcount, largest headcount, establishments)
SIZE_BANDS = (
    (SizeBand.MICRO, 0.620, 1, 9, (1,)),
    (SizeBand.SMALL, 0.260, 10, 49, (1,)),
    (SizeBand.MEDIUM, 0.090, 50, 249, (1, 1, 2)),
    (SizeBand.LARGE, 0.028, 250, 4999, (1, 2, 3)),
    (SizeBand.VERY_LARGE, 0.002, 5000, 15000, (1, 2)),
)
# Distinct jobs per establishment, by the establishment's band.
POSITIONS_PER_ESTABLISHMENT = {
    SizeBand.MICRO: (1, 3),
    SizeBand.SMALL: (2, 4),
    SizeBand.MEDIUM: (3, 5),
    SizeBand.LARGE: (4, 6),
    SizeBand.VERY_LARGE: (5, 6),
}
# How closely a position's task shares follow its fiche's default profile (Dirichlet
# concentration: the standard deviation of a 0.3 share is about 0.08).
PROFILE_CONCENTRATION = 30

# Word lists for French-sounding names; common surnames of the Nord and Picardy.
SURNAMES = (
    "Lefebvre",
    "Dubois",
    "Leroy",
    "Lemaire",
    "Dupont",
    "Delattre",
    "Vasseur",
    "Lecomte",
    "Caron",
    "Wattez",
    "Delannoy",
    "Vandenbussche",
    "Deschamps",
    "Dufour",
    "Mercier",
    "Carpentier",
    "Lemoine",
    "Duhamel",
    "Delcroix",
    "Desmet",
    "Vanhove",
    "Fontaine",
    "Masson",
    "Lenoir",
    "Hennebert",
    "Leclercq",
    "Dhaussy",
    "Cousin",
    "Lagache",
    "Poulain",
    "Degand",
    "Flament",
    "Bocquet",
    "Lefranc",
    "Delplanque",
    "Verstraete",
    "Becquart",
    "Prévost",
)
PLACES = (
    "du Beffroi",
    "des Flandres",
    "de l'Artois",
    "de la Somme",
    "du Hainaut",
    "de l'Opale",
    "du Vermandois",
    "de Picardie",
    "du Littoral",
    "de la Deûle",
    "de l'Escaut",
    "du Valois",
    "de la Thiérache",
    "du Ternois",
    "du Marquenterre",
    "de la Lys",
    "des Deux Caps",
)
ACTIVITY_WORDS = {
    "A": ("Ferme", "Pépinières", "Horticulture", "Domaine"),
    "C": ("Ateliers", "Industries", "Mécanique", "Manufacture", "Plasturgie", "Conserverie"),
    "F": ("Bâtiment", "Maçonnerie", "Menuiserie", "Plomberie", "Électricité", "Rénovation"),
    "G": ("Comptoir", "Distribution", "Négoce", "Maison", "Garage", "Boutique"),
    "H": ("Transports", "Logistique", "Express", "Messageries"),
    "I": ("Brasserie", "Restaurant", "Hôtel", "Estaminet", "Auberge"),
    "J": ("Numérique", "Informatique", "Éditions", "Studio"),
    "K": ("Courtage", "Assurances", "Patrimoine", "Finances"),
    "L": ("Immobilier", "Agence", "Foncière"),
    "M": ("Cabinet", "Conseil", "Études", "Expertise"),
    "N": ("Services", "Propreté", "Sécurité", "Multiservices"),
    "P": ("Formation", "Institut", "École"),
    "Q": ("Clinique", "Centre de santé", "Aide à domicile", "Résidence"),
    "R": ("Compagnie", "Loisirs", "Spectacles"),
    "S": ("Salon", "Atelier", "Services"),
}
DEFAULT_ACTIVITY_WORDS = ("Établissements", "Société", "Groupe")
LEGAL_FORMS = ("SAS", "SARL", "SAS", "SARL", "SA", "EURL", "SASU")


class DemoDataError(Exception):
    """The demo cannot be seeded as asked; the message says why, in French."""


def demo_companies():
    """The companies created by `seed_demo`."""
    return Company.objects.filter(siren__startswith=DEMO_SIREN_PREFIX)


def seed_demo(*, companies: int, seed: int, replace: bool = False) -> dict:
    """Create `companies` synthetic companies with their establishments and job positions,
    the same ones for the same seed and reference data. Refuses to add to an existing demo
    unless `replace`, which deletes it first (in the same transaction). Returns counts."""
    if not 1 <= companies <= MAX_COMPANIES:
        raise DemoDataError(f"Le nombre d'entreprises doit être compris entre 1 et {MAX_COMPANIES}.")
    rng = np.random.default_rng(seed)
    reference = _load_reference()
    with transaction.atomic():
        deleted = 0
        if demo_companies().exists():
            if not replace:
                raise DemoDataError(
                    "La base contient déjà des entreprises de démonstration : utilisez --replace pour les remplacer."
                )
            deleted = demo_companies().count()
            demo_companies().delete()
        rows = _draw(rng, companies, reference)
        counts = {"deleted": deleted, **_write(rows)}
        seed_contacts()
        return counts


# Real public actors of Hauts-de-France and their public home pages: name, kind, what they do
# for a company or a person, NAF sections served (empty: all). The OPCO a company pays into
# follows its branch's collective agreement, not strictly its NAF section: the sections here
# are the usual case, which a curator corrects where needed.
DEMO_CONTACTS = (
    (
        "OPCO 2i",
        RegionalContact.Kind.OPCO,
        "Opérateur de compétences de l'industrie : finance et aide à organiser la formation des salariés des "
        "entreprises industrielles, y compris les formations au numérique et à l'IA.",
        "https://www.opco2i.fr/",
        ("B", "C", "D", "E"),
    ),
    (
        "Constructys",
        RegionalContact.Kind.OPCO,
        "Opérateur de compétences du bâtiment et des travaux publics : finance la formation des salariés et "
        "conseille les entreprises du BTP sur leurs besoins en compétences.",
        "https://www.constructys.fr/",
        ("F",),
    ),
    (
        "OPCO Commerce",
        RegionalContact.Kind.OPCO,
        "Opérateur de compétences du commerce : finance la formation des salariés et accompagne le plan de "
        "développement des compétences.",
        "https://www.lopcommerce.com/",
        ("G",),
    ),
    (
        "Atlas",
        RegionalContact.Kind.OPCO,
        "Opérateur de compétences des services financiers, du conseil et du numérique : finance la formation "
        "des salariés et aide à bâtir un plan de formation.",
        "https://www.opco-atlas.fr/",
        ("J", "K", "M"),
    ),
    (
        "Akto",
        RegionalContact.Kind.OPCO,
        "Opérateur de compétences des services à forte intensité de main-d'œuvre (hôtellerie-restauration, "
        "propreté, intérim…) : finance la formation des salariés.",
        "https://www.akto.fr/",
        ("I", "N"),
    ),
    (
        "OPCO Mobilités",
        RegionalContact.Kind.OPCO,
        "Opérateur de compétences des transports et services de l'automobile : finance la formation des salariés.",
        "https://www.opcomobilites.fr/",
        ("H",),
    ),
    (
        "OCAPIAT",
        RegionalContact.Kind.OPCO,
        "Opérateur de compétences de l'agriculture, de la pêche et de l'agroalimentaire : finance la formation "
        "des salariés.",
        "https://www.ocapiat.fr/",
        ("A",),
    ),
    (
        "OPCO Santé",
        RegionalContact.Kind.OPCO,
        "Opérateur de compétences de la santé privée : finance la formation des salariés des établissements "
        "sanitaires, médico-sociaux et sociaux.",
        "https://www.opco-sante.fr/",
        ("Q",),
    ),
    (
        "OPCO EP",
        RegionalContact.Kind.OPCO,
        "Opérateur de compétences des entreprises de proximité (artisanat, professions libérales, services) : "
        "finance la formation des salariés des petites entreprises.",
        "https://www.opcoep.fr/",
        ("S",),
    ),
    (
        "Région Hauts-de-France — Proch'Emploi",
        RegionalContact.Kind.REGION,
        "Le service de la Région qui aide les entreprises à recruter et à former, et oriente les personnes vers "
        "un emploi ou une formation financée par la Région.",
        "https://www.hautsdefrance.fr/",
        (),
    ),
    (
        "C2RP — Carif-Oref Hauts-de-France",
        RegionalContact.Kind.REGION,
        "Le centre d'information de la Région sur la formation et les métiers : recense les formations "
        "existantes et oriente vers les dispositifs de financement.",
        "https://www.c2rp.fr/",
        (),
    ),
    (
        "France Travail Hauts-de-France",
        RegionalContact.Kind.FRANCE_TRAVAIL,
        "Aide à recruter, finance la formation de futurs salariés avant l'embauche et accompagne les personnes "
        "qui changent de métier.",
        "https://www.francetravail.fr/",
        (),
    ),
    (
        "CCI Hauts-de-France",
        RegionalContact.Kind.CCI,
        "Accompagne les entreprises du commerce, de l'industrie et des services dans leurs projets numériques et "
        "d'IA : ateliers de découverte, diagnostics, mise en relation avec des prestataires.",
        "https://www.hautsdefrance.cci.fr/",
        (),
    ),
    (
        "CMA Hauts-de-France",
        RegionalContact.Kind.CMA,
        "Accompagne les entreprises artisanales : formation des dirigeants et des salariés, conseil numérique.",
        "https://www.cma-hautsdefrance.fr/",
        (),
    ),
    (
        "Transitions Pro Hauts-de-France",
        RegionalContact.Kind.OTHER,
        "Finance et accompagne les salariés qui se forment pour changer de métier (projet de transition "
        "professionnelle).",
        "https://www.transitionspro-hdf.fr/",
        (),
    ),
)


def seed_contacts() -> int:
    """Create or update the demo's regional contacts (DEMO_CONTACTS), by name: serving the
    région (when its territory is loaded) and their NAF sections (those loaded). Returns how
    many there are."""
    region = Territory.objects.filter(level=Territory.Level.REGION, code=REGION_CODE).first()
    sections = {sector.code: sector for sector in Sector.objects.filter(level=Sector.Level.SECTION)}
    for name, kind, role, website, codes in DEMO_CONTACTS:
        contact, _created = RegionalContact.objects.update_or_create(
            name=name, defaults={"kind": kind, "role": role, "website": website, "active": True}
        )
        contact.territories.set([region] if region else [])
        contact.sections.set([sections[code] for code in codes if code in sections])
    return len(DEMO_CONTACTS)


def _load_reference() -> dict:
    """Everything the draw needs, read once and ordered by code so that the draw depends only
    on the seed and the content of the reference tables."""
    communes = list(
        Territory.objects.filter(
            level=Territory.Level.COMMUNE,
            parent__parent__level=Territory.Level.REGION,
            parent__parent__code=REGION_CODE,
        )
        .order_by("code")
        .values_list("id", "code", "name", "population")
    )
    if not communes:
        raise DemoDataError(
            "Aucune commune des Hauts-de-France : chargez d'abord les référentiels (manage.py load_reference)."
        )
    # Sous-classes are what establishments carry; a database with only the divisions loaded
    # still gives a usable demo.
    sectors = _sectors(Sector.Level.SOUS_CLASSE) or _sectors(Sector.Level.DIVISION)
    sectors = [(pk, code) for pk, code in sectors if SECTION_WEIGHTS.get(_section(code), 0) > 0]
    if not sectors:
        raise DemoDataError("Aucun secteur NAF : chargez d'abord les référentiels.")
    fiches = list(Occupation.objects.fiches().order_by("code").values_list("code", flat=True))
    if not fiches:
        raise DemoDataError("Aucune fiche ROME : chargez d'abord les référentiels.")
    links: dict[str, list[str]] = {}
    for division, code in (
        NafDivisionOccupation.objects.filter(occupation__level=Occupation.Level.FICHE)
        .order_by("naf_division", "occupation_id")
        .values_list("naf_division", "occupation_id")
    ):
        links.setdefault(division.zfill(2), []).append(code)

    populations = np.array([max(population or 0, 1) for *_, population in communes], dtype=float)
    # A section's weight is spread over its codes (in proportion to their boost), so that its
    # share does not depend on how finely the NAF splits it nor on how many codes are loaded.
    sections = [_section(code) for _, code in sectors]
    boosts = [COMMON_SOUS_CLASSES.get(code, 1) for _, code in sectors]
    section_boosts: dict[str, float] = {}
    for section, boost in zip(sections, boosts, strict=True):
        section_boosts[section] = section_boosts.get(section, 0) + boost
    weights = np.array(
        [
            SECTION_WEIGHTS[section] * boost / section_boosts[section]
            for section, boost in zip(sections, boosts, strict=True)
        ]
    )
    # Companies answer around each fiche's reference profile (built from its ROME items).
    reference = reference_profiles_frame()
    profiles = {code: reference.loc[code, list(CATEGORIES)].to_numpy(dtype=float) for code in fiches}
    return {
        "communes": communes,
        "commune_p": populations / populations.sum(),
        "sectors": sectors,
        "sector_p": weights / weights.sum(),
        "fiches": fiches,
        "links": links,
        "profiles": profiles,
    }


def _sectors(level: str) -> list[tuple[int, str]]:
    return list(Sector.objects.filter(level=level).order_by("code").values_list("id", "code"))


def _section(code: str) -> str:
    division = int(code[:2])
    for section, first, last in SECTION_DIVISIONS:
        if first <= division <= last:
            return section
    raise ValueError(f"division NAF inconnue : {code}")


def _candidate_fiches(division: str, reference: dict, cache: dict) -> list[str]:
    """The fiches a job of this division is drawn from: the ROME's typical fiches of the
    division, else those of the grands domaines its section employs, else any fiche."""
    if division not in cache:
        candidates = reference["links"].get(division)
        if not candidates:
            letters = SECTION_GRANDS_DOMAINES[_section(division)]
            candidates = [code for code in reference["fiches"] if code[0] in letters]
        cache[division] = candidates or reference["fiches"]
    return cache[division]


def _draw(rng: np.random.Generator, count: int, reference: dict) -> dict:
    """All the random draws, in a fixed order, as plain rows (no database access)."""
    numbers = rng.choice(MAX_COMPANIES, size=count, replace=False)
    bands = rng.choice(len(SIZE_BANDS), size=count, p=[b[1] for b in SIZE_BANDS])
    sector_index = rng.choice(len(reference["sectors"]), size=count, p=reference["sector_p"])
    width = 8 - len(DEMO_SIREN_PREFIX)
    companies, establishments, positions = [], [], []
    cache: dict[str, list[str]] = {}
    for number, band_index, sector_i in zip(numbers, bands, sector_index, strict=True):
        siren = luhn_complete(f"{DEMO_SIREN_PREFIX}{int(number):0{width}d}")
        _band, _p, smallest, largest, choices = SIZE_BANDS[band_index]
        headcount = _log_uniform(rng, smallest, largest)
        sector_id, sector_code = reference["sectors"][sector_i]
        name = _company_name(rng, _section(sector_code))
        companies.append({"siren": siren, "name": name})
        sites = min(int(rng.choice(choices)), headcount)
        communes = rng.choice(len(reference["communes"]), size=sites, p=reference["commune_p"])
        candidates = _candidate_fiches(sector_code[:2], reference, cache)
        for nic, (site_headcount, commune_i) in enumerate(
            zip(_split(rng, headcount, sites), communes, strict=True), start=1
        ):
            commune_id, _code, commune_name, _pop = reference["communes"][commune_i]
            siret = luhn_complete(f"{siren}{nic:04d}")
            site_band = SizeBand.for_headcount(site_headcount)
            establishments.append(
                {
                    "siret": siret,
                    "siren": siren,
                    "name": f"{name} — {commune_name}" if sites > 1 else "",
                    "sector_id": sector_id,
                    "commune_id": commune_id,
                    "size_band": site_band,
                }
            )
            low, high = POSITIONS_PER_ESTABLISHMENT[site_band]
            jobs = min(int(rng.integers(low, high + 1)), site_headcount, len(candidates))
            chosen = rng.choice(len(candidates), size=jobs, replace=False)
            headcounts = _split(rng, site_headcount, jobs)
            for fiche_i, job_headcount in zip(chosen, headcounts, strict=True):
                code = candidates[fiche_i]
                draw = rng.dirichlet(PROFILE_CONCENTRATION * reference["profiles"][code])
                shares = _percentages(draw)
                # Routine cognitive work is where companies report training needs most.
                training_need = bool(rng.random() < 0.2 + 0.6 * draw[0])
                positions.append(
                    {
                        "siret": siret,
                        "occupation_id": code,
                        "headcount": job_headcount,
                        "training_need": training_need,
                        **dict(zip(CATEGORIES, shares, strict=True)),
                    }
                )
    return {"companies": companies, "establishments": establishments, "positions": positions}


def _log_uniform(rng: np.random.Generator, smallest: int, largest: int) -> int:
    """A headcount between the bounds, small ones more frequent (company sizes are skewed)."""
    value = math.exp(rng.uniform(math.log(smallest), math.log(largest + 1)))
    return min(max(int(value), smallest), largest)


def _split(rng: np.random.Generator, total: int, parts: int) -> list[int]:
    """`total` as `parts` positive integers, the first the largest (the main site, the main
    job), the others in random proportions."""
    if parts == 1:
        return [total]
    shares = rng.dirichlet(np.full(parts, 1.5))
    extra = rng.multinomial(total - parts, np.sort(shares)[::-1])
    return [1 + int(x) for x in extra]


def _percentages(shares: np.ndarray) -> list[int]:
    """Whole percentages summing to exactly 100 (largest remainder method)."""
    raw = shares * 100
    floors = np.floor(raw).astype(int)
    missing = 100 - int(floors.sum())
    order = np.argsort(-(raw - floors), kind="stable")
    floors[order[:missing]] += 1
    return [int(x) for x in floors]


def _company_name(rng: np.random.Generator, section: str) -> str:
    words = ACTIVITY_WORDS.get(section, DEFAULT_ACTIVITY_WORDS)
    surname = SURNAMES[rng.integers(len(SURNAMES))]
    pattern = rng.integers(4)
    if pattern == 0:
        base = f"{words[rng.integers(len(words))]} {surname}"
    elif pattern == 1:
        base = f"{words[rng.integers(len(words))]} {PLACES[rng.integers(len(PLACES))]}"
    elif pattern == 2:
        base = f"{surname} et {SURNAMES[rng.integers(len(SURNAMES))]}"
    else:
        base = f"{DEFAULT_ACTIVITY_WORDS[rng.integers(len(DEFAULT_ACTIVITY_WORDS))]} {surname}"
    return f"{base} {LEGAL_FORMS[rng.integers(len(LEGAL_FORMS))]}"


def _write(rows: dict) -> dict:
    """Insert the drawn rows in batches, parents first. PostgreSQL and SQLite ≥ 3.35 give
    bulk-created rows their ids back, so no row is read again."""
    # The demo stands for the observatory's own survey: its companies are verified, so a
    # diagnostic of the demo member's company counts as a real one would once approved.
    verified_at = timezone.now()
    companies = [Company(**row, verified_at=verified_at) for row in rows["companies"]]
    Company.objects.bulk_create(companies, batch_size=BATCH_SIZE)
    company_ids = {c.siren: c.pk for c in companies}
    establishments = [
        Establishment(
            company_id=company_ids[row["siren"]],
            **{k: v for k, v in row.items() if k != "siren"},
        )
        for row in rows["establishments"]
    ]
    Establishment.objects.bulk_create(establishments, batch_size=BATCH_SIZE)
    establishment_ids = {e.siret: e.pk for e in establishments}
    positions = [
        JobPosition(
            establishment_id=establishment_ids[row["siret"]],
            source=JobPosition.Source.DEMO,
            **{k: v for k, v in row.items() if k != "siret"},
        )
        for row in rows["positions"]
    ]
    JobPosition.objects.bulk_create(positions, batch_size=BATCH_SIZE)
    return {
        "companies": len(companies),
        "establishments": len(establishments),
        "job_positions": len(positions),
        "employees": sum(p.headcount for p in positions),
    }
