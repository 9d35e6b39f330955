"""A deterministic demonstration catalogue: training providers, their offers and sessions.

Only the providers, offers and sessions are invented; they sit in the real communes of the
reference data (load it first) and aim at the real ROME fiches it holds. About 25 providers
and 80 offers, mostly published, some submitted so that the curators' queue has work; sessions
start over the coming months (dates count from the day the demo is seeded).

Certifications: when real RNCP / RS certifications were imported (`import_rncp`), offers
lead to them and to their blocks. Otherwise a handful of DEMONSTRATION certifications are
created, numbered RNCP90101 and up and titled « … (démonstration) »: no real certification
carries such a number (the RNCP numbers in use are below 40000 in 2026), and none of them
presents the number of a real certification as its own. Their blocks are linked to the ROME
fiches present, so that the grid's training coverage and the company report have something
to show.

Demo entries are recognised by their keys: SIRETs starting with DEMO_SIRET_PREFIX, LHEO
numbers starting with DEMO_LHEO_PREFIX. A second run creates nothing.
"""

import datetime

import numpy as np
from django.db import transaction
from django.utils import timezone

from companies.models import Territory
from companies.validators import luhn_complete
from skills.models import Certification, Occupation, SkillBlock

from .models import CurationStatus, Provider, Session, TrainingOffer
from .tagging import tag_offers, tag_skill_blocks

REGION_CODE = "32"
DEMO_SIRET_PREFIX = "0009"
DEMO_LHEO_PREFIX = "DEMO-"
DEMO_CERTIFICATION_PREFIX = "RNCP901"
PROVIDERS = 25
OFFERS = 80

# (name pattern, Qualiopi): « {commune} » is the provider's commune.
PROVIDER_NAMES = [
    ("Centre de formation professionnelle de {commune}", True),
    ("Institut des métiers du numérique de {commune}", True),
    ("CFA interprofessionnel de {commune}", True),
    ("Lycée professionnel des métiers de {commune} — formation continue", True),
    ("Atelier Compétences {commune}", False),
    ("École de gestion et de commerce de {commune}", True),
    ("Campus des métiers de l'industrie de {commune}", True),
    ("Formation Santé Social de {commune}", True),
    ("Données & Décision Formation — {commune}", True),
]

# Demo certifications: key → (code suffix, title, level, ROME fiches, [(block label), …]).
DEMO_CERTIFICATIONS = {
    "data": (
        "01",
        "Analyste de données",
        6,
        ["M1805", "M1801"],
        [
            "Collecter et préparer des données issues de sources multiples",
            "Réaliser des analyses de données et des tableaux de bord (data visualisation)",
            "Mettre en œuvre des modèles de machine learning",
            "Communiquer les résultats d'une étude auprès des équipes métier",
        ],
    ),
    "dev": (
        "02",
        "Développeur d'applications",
        5,
        ["M1805", "I1401"],
        [
            "Développer une application web sécurisée",
            "Concevoir et mettre en place une base de données",
            "Intégrer des services d'intelligence artificielle dans une application",
        ],
    ),
    "admin": (
        "03",
        "Assistant de direction",
        5,
        ["M1604", "M1607", "M1602", "M1605"],
        [
            "Organiser et coordonner les activités administratives",
            "Produire des documents professionnels avec l'aide de l'IA générative",
            "Gérer l'information et la communication de l'équipe",
        ],
    ),
    "compta": (
        "04",
        "Gestionnaire comptable et de paie",
        5,
        ["M1203", "M1507", "C1401"],
        [
            "Tenir la comptabilité et préparer les déclarations fiscales",
            "Établir les bulletins de paie et les déclarations sociales",
            "Automatiser les traitements comptables et l'analyse des données financières",
        ],
    ),
    "commerce": (
        "05",
        "Conseiller de vente",
        4,
        ["D1106", "D1214", "D1403", "D1507", "D1401"],
        [
            "Accueillir et conseiller le client",
            "Assurer la tenue du rayon et la gestion des stocks",
            "Développer la relation client à distance et sur les outils numériques",
        ],
    ),
    "logistique": (
        "06",
        "Agent magasinier",
        3,
        ["N1103", "N1110", "N1101", "N1105"],
        [
            "Réceptionner et stocker les marchandises",
            "Préparer les commandes et les expéditions",
        ],
    ),
    "industrie": (
        "07",
        "Technicien de maintenance industrielle",
        4,
        ["I1304", "H2913", "H1404"],
        [
            "Réaliser la maintenance préventive et corrective des équipements",
            "Analyser les données de production pour anticiper les pannes",
        ],
    ),
    "soin": (
        "08",
        "Accompagnant de la personne",
        3,
        ["J1501", "K1302", "J1301"],
        [
            "Accompagner la personne dans les actes de la vie quotidienne",
            "Communiquer avec la personne, son entourage et l'équipe",
        ],
    ),
    "rh": (
        "09",
        "Chargé des ressources humaines",
        6,
        ["M1501", "M1302"],
        [
            "Recruter et intégrer les collaborateurs",
            "Piloter le développement des compétences face aux transformations de l'IA",
        ],
    ),
}

# Offer themes: (title, objectives, content, certification key, ROME fiches, modality,
# hours range, price range in €, CPF).
THEMES = [
    (
        "Analyste de données (data analyst)",
        "Devenir data analyst : collecter, nettoyer et analyser les données de l'entreprise, "
        "construire des tableaux de bord et présenter des recommandations.",
        "SQL et bases de données ; Python pour l'analyse de données ; statistiques descriptives ; "
        "data visualisation avec des outils de business intelligence ; projet en entreprise.",
        "data",
        ["M1805"],
        TrainingOffer.Modality.BLENDED,
        (400, 800),
        (4500, 7500),
        True,
    ),
    (
        "Initiation à l'intelligence artificielle générative pour les assistants",
        "Utiliser l'IA générative au quotidien pour rédiger, résumer et organiser, en connaissant "
        "ses limites et les règles de confidentialité.",
        "Principes des modèles de langage ; écrire un prompt efficace ; vérifier une réponse ; "
        "protection des données personnelles (RGPD) ; cas pratiques de secrétariat.",
        "admin",
        ["M1607", "M1604"],
        TrainingOffer.Modality.DISTANCE,
        (14, 21),
        (350, 700),
        True,
    ),
    (
        "Développeur web et mobile",
        "Concevoir et développer des applications web et mobiles, de la maquette à la mise en production.",
        "HTML, CSS et JavaScript ; un cadriciel côté serveur ; bases de données ; tests ; "
        "déploiement ; stage de huit semaines.",
        "dev",
        ["M1805"],
        TrainingOffer.Modality.IN_PERSON,
        (600, 1200),
        (6000, 9000),
        True,
    ),
    (
        "Intégrer l'IA dans ses applications : API et agents conversationnels",
        "Connecter une application à des services d'intelligence artificielle et concevoir un chatbot utile et sûr.",
        "Appels d'API ; recherche documentaire augmentée ; évaluation des réponses ; sécurité et "
        "coûts ; atelier de réalisation.",
        "dev",
        ["M1805", "M1801"],
        TrainingOffer.Modality.BLENDED,
        (35, 70),
        (1200, 2500),
        False,
    ),
    (
        "Assistant de direction",
        "Assister un dirigeant ou une équipe : organisation, communication écrite, suivi des dossiers et des projets.",
        "Gestion d'agenda et de déplacements ; rédaction professionnelle ; outils bureautiques ; "
        "organisation d'événements ; anglais professionnel.",
        "admin",
        ["M1604", "M1607"],
        TrainingOffer.Modality.IN_PERSON,
        (500, 900),
        (4000, 6500),
        True,
    ),
    (
        "Secrétaire assistant : remise à niveau bureautique",
        "Reprendre confiance avec le traitement de texte, le tableur et la messagerie pour "
        "retrouver un emploi de secrétariat.",
        "Traitement de texte ; tableur ; messagerie et agenda partagé ; classement numérique.",
        "admin",
        ["M1607", "M1602"],
        TrainingOffer.Modality.IN_PERSON,
        (70, 140),
        (800, 1600),
        True,
    ),
    (
        "Gestionnaire de paie",
        "Établir les bulletins de paie et les déclarations sociales d'une entreprise dans le "
        "respect du droit du travail.",
        "Droit social ; éléments de la paie ; déclaration sociale nominative ; logiciel de paie ; cas pratiques.",
        "compta",
        ["M1507"],
        TrainingOffer.Modality.BLENDED,
        (300, 600),
        (3500, 5500),
        True,
    ),
    (
        "Comptabilité et outils d'automatisation",
        "Tenir une comptabilité avec les outils actuels : rapprochements automatiques, "
        "reconnaissance des pièces, analyse des données financières.",
        "Écritures courantes ; clôture ; logiciels comptables en ligne ; tableaux de bord "
        "financiers ; contrôle des traitements automatisés.",
        "compta",
        ["M1203"],
        TrainingOffer.Modality.IN_PERSON,
        (105, 210),
        (1500, 3000),
        True,
    ),
    (
        "Conseiller de vente en magasin",
        "Accueillir, conseiller et fidéliser les clients d'un point de vente, et tenir le rayon.",
        "Techniques de vente ; merchandising ; encaissement ; gestion des stocks ; relation client omnicanale.",
        "commerce",
        ["D1214", "D1106"],
        TrainingOffer.Modality.IN_PERSON,
        (300, 700),
        (2500, 4500),
        True,
    ),
    (
        "Vendre avec les outils numériques",
        "Développer ses ventes par la prospection en ligne, les réseaux sociaux et la gestion de la relation client.",
        "Outils de gestion de la relation client ; prospection en ligne ; analyse des données de "
        "vente ; communication sur les réseaux sociaux.",
        "commerce",
        ["D1403", "D1401"],
        TrainingOffer.Modality.DISTANCE,
        (21, 42),
        (600, 1200),
        True,
    ),
    (
        "Préparateur de commandes et cariste",
        "Préparer les commandes en entrepôt et conduire un chariot élévateur en sécurité.",
        "Lecture des bons de commande ; terminaux de préparation ; sécurité ; conduite de "
        "chariots (préparation au CACES®).",
        "logistique",
        ["N1103", "N1101"],
        TrainingOffer.Modality.IN_PERSON,
        (140, 400),
        (1200, 3000),
        True,
    ),
    (
        "Technicien de maintenance industrielle",
        "Assurer la maintenance des équipements de production et améliorer leur disponibilité.",
        "Mécanique ; électrotechnique ; automatismes ; maintenance préventive et prédictive ; lecture de plans.",
        "industrie",
        ["I1304"],
        TrainingOffer.Modality.IN_PERSON,
        (700, 1200),
        (7000, 10000),
        True,
    ),
    (
        "Maintenance prédictive : exploiter les données des capteurs",
        "Analyser les données de production pour anticiper les pannes grâce à des outils "
        "d'analyse de données et de machine learning.",
        "Capteurs et collecte ; tableaux de bord ; détection d'anomalies ; mise en place d'un projet pilote.",
        "industrie",
        ["I1304", "H1404"],
        TrainingOffer.Modality.BLENDED,
        (35, 70),
        (1500, 3000),
        False,
    ),
    (
        "Soudeur : qualification en soudage à l'arc",
        "Réaliser des soudures de qualité selon les procédés à l'arc et préparer une qualification de soudeur.",
        "Lecture de plans ; procédés MIG, MAG et TIG ; sécurité ; contrôle des soudures.",
        "industrie",
        ["H2913"],
        TrainingOffer.Modality.IN_PERSON,
        (200, 500),
        (3000, 6000),
        True,
    ),
    (
        "Accompagnant éducatif et social",
        "Accompagner des personnes âgées ou en situation de handicap dans leur vie quotidienne.",
        "Aide aux actes essentiels ; communication ; travail en équipe ; stages en structure.",
        "soin",
        ["K1302", "J1501"],
        TrainingOffer.Modality.IN_PERSON,
        (500, 1400),
        (3500, 6000),
        True,
    ),
    (
        "Ressources humaines : recruter et former à l'heure de l'IA",
        "Adapter le recrutement et le plan de développement des compétences aux métiers que l'IA transforme.",
        "Analyse des emplois et des tâches ; outils de recrutement ; plan de formation ; dialogue "
        "social ; éthique des outils d'intelligence artificielle.",
        "rh",
        ["M1501"],
        TrainingOffer.Modality.BLENDED,
        (35, 105),
        (1200, 2800),
        True,
    ),
]
# The five rounds of the themes differ by their public and rhythm.
VARIANTS = ["", " en alternance", " — formation continue des salariés", " (parcours accéléré)", " — reconversion"]
FUNDINGS = [
    "Compte personnel de formation (CPF), plan de développement des compétences",
    "Région Hauts-de-France, France Travail",
    "Opérateur de compétences (OPCO), plan de développement des compétences",
    "Financement personnel, CPF",
]


def seed_catalogue(*, seed: int, stdout=None) -> dict[str, int]:
    """Create the demo catalogue where it is missing; returns what was created. Needs the
    communes of the reference data (nothing is created without them)."""

    def say(line):
        if stdout is not None:
            stdout.write(line)

    communes = list(
        Territory.objects.filter(
            level=Territory.Level.COMMUNE, parent__parent__code=REGION_CODE, latitude__isnull=False
        ).order_by("-population", "code")[:40]
    ) or list(
        Territory.objects.filter(level=Territory.Level.COMMUNE, parent__parent__code=REGION_CODE).order_by(
            "-population", "code"
        )[:40]
    )
    counts = {"organismes": 0, "offres": 0, "sessions": 0, "certifications": 0}
    if not communes:
        say("Catalogue de démonstration non créé : aucune commune chargée (load_reference).")
        return counts
    rng = np.random.default_rng(seed)
    today = timezone.localdate()
    with transaction.atomic():
        providers = _providers(rng, communes, counts)
        certifications = _certifications(counts)
        _offers(rng, today, providers, communes, certifications, counts)
        tag_skill_blocks(SkillBlock.objects.filter(code__startswith=DEMO_CERTIFICATION_PREFIX))
        tag_offers(TrainingOffer.objects.filter(lheo_number__startswith=DEMO_LHEO_PREFIX))
    say(
        "Catalogue de démonstration : "
        + ", ".join(f"{name} : {count}" for name, count in counts.items())
        + " créé(e)s."
    )
    return counts


def _providers(rng, communes, counts) -> list[Provider]:
    existing = {p.siret: p for p in Provider.objects.filter(siret__startswith=DEMO_SIRET_PREFIX)}
    providers = []
    for n in range(PROVIDERS):
        siret = luhn_complete(f"{DEMO_SIRET_PREFIX}{n + 1:09d}")
        commune = communes[int(rng.integers(len(communes)))] if n >= 10 else communes[n % len(communes)]
        pattern, qualiopi = PROVIDER_NAMES[n % len(PROVIDER_NAMES)]
        if siret in existing:
            providers.append(existing[siret])
            continue
        provider = Provider.objects.create(
            siret=siret,
            name=pattern.format(commune=commune.name),
            nda=f"32{n + 1:09d}",
            qualiopi=qualiopi,
            qualiopi_date=datetime.date(2021 + n % 4, 1 + n % 12, 1) if qualiopi else None,
            address=f"{10 + n} rue de la Formation",
            commune=commune,
            website=f"https://organisme-{n + 1}.demo.invalid/",
            contact_name="Service formation continue",
            contact_email=f"formation@organisme-{n + 1}.demo.invalid",
            contact_phone=f"03 20 00 {n:02d} {(n * 7) % 100:02d}",
            # Two providers await the curators' decision.
            status=CurationStatus.SUBMITTED if n in (7, 19) else CurationStatus.PUBLISHED,
        )
        counts["organismes"] += 1
        providers.append(provider)
    return providers


def _certifications(counts) -> dict[str, Certification | None]:
    """Per theme key: a real certification aiming at the theme's fiches when some were
    imported, else a demo certification (created once)."""
    present = set(Occupation.objects.fiches().values_list("code", flat=True))
    real = Certification.objects.exclude(code__startswith=DEMO_CERTIFICATION_PREFIX)
    result = {}
    if real.exists():
        for key, (_, _, _, fiches, _) in DEMO_CERTIFICATIONS.items():
            result[key] = real.filter(occupations__in=fiches).order_by("code").first()
        return result
    for key, (suffix, title, level, fiches, blocks) in DEMO_CERTIFICATIONS.items():
        code = f"{DEMO_CERTIFICATION_PREFIX}{suffix}"
        certification, created = Certification.objects.get_or_create(
            code=code,
            defaults={
                "register": Certification.Register.RNCP,
                "title": f"{title} (démonstration)",
                "level": level,
                "certifiers": "Certificateur de démonstration",
            },
        )
        fiches_present = [fiche for fiche in fiches if fiche in present]
        if created:
            counts["certifications"] += 1
            certification.occupations.set(fiches_present)
            for number, label in enumerate(blocks, 1):
                block = SkillBlock.objects.create(
                    code=f"{code}BC{number:02d}", label=label, certification=certification
                )
                block.occupations.set(fiches_present)
        result[key] = certification
    return result


def _offers(rng, today, providers, communes, certifications, counts) -> None:
    existing = set(
        TrainingOffer.objects.filter(lheo_number__startswith=DEMO_LHEO_PREFIX).values_list("lheo_number", flat=True)
    )
    present = set(Occupation.objects.fiches().values_list("code", flat=True))
    # A session away from the provider stays in its département (within reach of its trainers).
    neighbours: dict[int, list[Territory]] = {}
    for commune in communes:
        neighbours.setdefault(commune.parent_id, []).append(commune)
    blocks_of = {
        key: list(certification.skill_blocks.order_by("code")) if certification else []
        for key, certification in certifications.items()
    }
    for n in range(OFFERS):
        lheo_number = f"{DEMO_LHEO_PREFIX}{n + 1:03d}"
        # Draw every number even for existing offers: the others keep the same values.
        provider = providers[int(rng.integers(len(providers)))]
        theme = THEMES[n % len(THEMES)]
        hours = int(rng.integers(theme[6][0], theme[6][1] + 1))
        price = int(rng.integers(theme[7][0], theme[7][1] + 1)) // 10 * 10
        sessions = int(rng.choice([0, 1, 1, 2, 2, 3]))  # a few offers announce no date yet
        starts = sorted(int(rng.integers(7, 240)) for _ in range(sessions))
        places = [int(rng.integers(0, 16)) for _ in range(sessions)]
        elsewhere = [bool(rng.random() < 0.3) for _ in range(sessions)]
        funding = FUNDINGS[int(rng.integers(len(FUNDINGS)))]
        if lheo_number in existing:
            continue
        title, objectives, content, key, fiches, modality, _, _, cpf = theme
        certification = certifications.get(key)
        status = CurationStatus.SUBMITTED if n % 8 == 5 else CurationStatus.PUBLISHED
        if provider.status != CurationStatus.PUBLISHED:
            status = CurationStatus.SUBMITTED
        offer = TrainingOffer.objects.create(
            title=title + VARIANTS[(n // len(THEMES)) % len(VARIANTS)],
            objectives=objectives,
            content=content,
            provider=provider,
            lheo_number=lheo_number,
            certification=certification,
            modality=modality,
            duration_hours=hours,
            price=price,
            cpf_eligible=cpf and certification is not None,
            funding=funding,
            url=f"https://organisme.demo.invalid/offres/{n + 1}",
            status=status,
        )
        offer.occupations.set([code for code in fiches if code in present])
        blocks = blocks_of.get(key) or []
        # Short courses lead to one block, long ones to the whole certification.
        if blocks and hours < 200:
            offer.skill_blocks.set([blocks[n % len(blocks)]])
        for start, left, away in zip(starts, places, elsewhere, strict=True):
            commune = provider.commune
            if away and provider.commune:
                nearby = neighbours.get(provider.commune.parent_id) or [provider.commune]
                commune = nearby[(n + start) % len(nearby)]
            begin = today + datetime.timedelta(days=start)
            Session.objects.create(
                offer=offer,
                lheo_number=f"{lheo_number}-S{start}",
                start=begin,
                end=begin + datetime.timedelta(days=max(1, hours // 7 * 7 // 5)),
                commune=None if modality == TrainingOffer.Modality.DISTANCE else commune,
                places_left=left,
            )
            counts["sessions"] += 1
        counts["offres"] += 1
