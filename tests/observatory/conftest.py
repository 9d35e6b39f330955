"""Fixtures shared by the observatory's tests; those the explorer's and the browser tests use as
well (the hand-worked grid, the company report's grid) are in tests/conftest.py."""

import pytest

from companies.models import Sector, SizeBand
from observatory import services
from observatory.models import GridCell, Lens
from tests.companies.factories import (
    CampaignFactory,
    CommuneFactory,
    CompanyFactory,
    DepartementFactory,
    DiagnosticFactory,
    DiagnosticJobFactory,
    EstablishmentFactory,
    JobPositionFactory,
    SectionFactory,
    all_answers,
    make_member,
)
from tests.observatory.factories import GridCellFactory, GridRunFactory
from tests.skills.factories import DomaineFactory, GrandDomaineFactory, OccupationFactory

# The Nord's fiche cells of the hand-worked edition (all sectors, all sizes): code →
# (employees, exposure_mean, share_high, share_medium, secret, secret_reason). The secret
# fiches carry values that would put them first if they leaked.
NORD_FICHES = {
    "M1607": (60, 0.72, 1.0, 0.0, False, ""),
    "M1203": (90, 0.55, 0.0, 1.0, False, ""),
    "K2204": (300, 0.20, 0.0, 0.0, False, ""),
    "D1106": (150, 0.52, 0.0, 1.0, False, ""),
    "M1805": (500, 0.90, 1.0, 0.0, True, "companies"),
    "N1103": (1000, 0.30, 0.0, 0.0, True, "dominance"),
}
LABELS = {
    "M1607": "Secrétariat",
    "M1203": "Comptabilité",
    "K2204": "Nettoyage de locaux",
    "D1106": "Vente en alimentation",
    "M1805": "Études et développement informatique",
    "N1103": "Magasinage et préparation de commandes",
}


@pytest.fixture
def edition():
    """A published, current edition of the generative-AI lens, written by hand: the Nord's
    fiches above, and cells that must stay out of the Nord's ranking (another département, a
    sector, a size band, a domaine, the « inconnu » fiche). Read by test_ranking.py and
    test_overview_filters.py."""
    DepartementFactory(code="59", name="Nord")
    DepartementFactory(code="62", name="Pas-de-Calais")
    SectionFactory(code="C", label="Industrie manufacturière")
    for code, label in LABELS.items():
        OccupationFactory(code=code, label=label)
    run = GridRunFactory(lens=Lens.GENAI, published=True)
    cells = [
        GridCellFactory.build(
            run=run,
            occupation_code=code,
            employees=employees,
            exposure_mean=exposure,
            share_high=high,
            share_medium=medium,
            share_low=1 - high - medium,
            secret=secret,
            secret_reason=reason,
        )
        for code, (employees, exposure, high, medium, secret, reason) in NORD_FICHES.items()
    ]
    cells += [
        GridCellFactory.build(run=run, occupation_code="inconnu", employees=4000, exposure_mean=0.99, share_high=1.0),
        GridCellFactory.build(
            run=run, territory_code="62", occupation_code="M1805", employees=999, exposure_mean=0.9, share_high=1.0
        ),
        GridCellFactory.build(
            run=run, sector_level="section", sector_code="C", occupation_code="K2204", employees=7, exposure_mean=0.2
        ),
        GridCellFactory.build(
            run=run, size_band="10-49", occupation_code="M1607", employees=8, exposure_mean=0.72, share_high=1.0
        ),
        GridCellFactory.build(
            run=run, occupation_level="domaine", occupation_code="M16", employees=60, exposure_mean=0.72
        ),
    ]
    GridCell.objects.bulk_create(cells)
    return run


@pytest.fixture
def many_cells():
    """37 companies over three NAF sections (through their divisions), three ROME grands
    domaines and two départements, plus one construction company alone in its section: a
    run of a few thousand cells, some public and some secret at every level."""
    nord = DepartementFactory(code="59", name="Nord")
    somme = DepartementFactory(code="80", name="Somme")
    communes = [
        CommuneFactory(code="59350", name="Lille", parent=nord),
        CommuneFactory(code="80021", name="Amiens", parent=somme),
    ]
    sous_classes = []
    for section, section_label, division, division_label, code, label in (
        (
            "C",
            "INDUSTRIE MANUFACTURIÈRE",
            "10",
            "Industries alimentaires",
            "10.71C",
            "Boulangerie et boulangerie-pâtisserie",
        ),
        (
            "G",
            "COMMERCE ; RÉPARATION D'AUTOMOBILES ET DE MOTOCYCLES",
            "47",
            "Commerce de détail",
            "47.11D",
            "Supermarchés",
        ),
        (
            "J",
            "INFORMATION ET COMMUNICATION",
            "62",
            "Programmation, conseil et autres activités informatiques",
            "62.02A",
            "Conseil en systèmes et logiciels informatiques",
        ),
    ):
        parent = SectionFactory(code=section, label=section_label)
        division = Sector.objects.create(
            code=division, level=Sector.Level.DIVISION, label=division_label, parent=parent
        )
        sous_classes.append(
            Sector.objects.create(code=code, level=Sector.Level.SOUS_CLASSE, label=label, parent=division)
        )
    construction = SectionFactory(code="F", label="CONSTRUCTION")
    GrandDomaineFactory(code="D", label="Commerce, Vente et Grande distribution")
    GrandDomaineFactory(code="H", label="Industrie")
    DomaineFactory(code="D15", label="Grande distribution", parent=GrandDomaineFactory(code="D"))
    DomaineFactory(
        code="H21", label="Mécanique, travail des métaux et outillage", parent=GrandDomaineFactory(code="H")
    )
    occupations = [
        OccupationFactory(code="M1607", label="Secrétariat"),
        OccupationFactory(code="D1507", label="Mise en rayon libre-service"),
        OccupationFactory(code="H2102", label="Conduite d'équipement d'usinage"),
    ]
    shares = [
        {"rc": 60, "rm": 10, "nra": 10, "nri": 10, "nrm": 10},
        {"rc": 20, "rm": 50, "nra": 5, "nri": 15, "nrm": 10},
        {"rc": 10, "rm": 60, "nra": 10, "nri": 5, "nrm": 15},
    ]
    for i in range(36):
        o = (i // 3) % 3
        JobPositionFactory(
            establishment=EstablishmentFactory(
                sector=sous_classes[i % 3],
                commune=communes[(i // 9) % 2],
                size_band=(SizeBand.SMALL, SizeBand.MEDIUM)[(i // 18) % 2],
            ),
            occupation=occupations[o],
            headcount=5 + i,
            training_need=i % 4 == 0,
            **shares[o],
        )
    lone = Sector.objects.create(
        code="41.20A", level=Sector.Level.SOUS_CLASSE, label="Construction de maisons", parent=construction
    )
    JobPositionFactory(
        establishment=EstablishmentFactory(sector=lone, commune=communes[0], size_band=SizeBand.SMALL),
        occupation=occupations[0],
        headcount=12,
        **shares[0],
    )
    return services.grid_run_compute(services.grid_run_create().pk)


@pytest.fixture
def case(grid):
    """Atelier Dupont of Lille, its owner and its submitted diagnostic of the current campaign:
    8 secretaries and 3 accountants, beside the report's grid."""
    campaign = CampaignFactory()
    company = CompanyFactory(name="Atelier Dupont")
    owner = make_member(company, "proprietaire")
    diagnostic = DiagnosticFactory(campaign=campaign, company=company, commune=grid["lille"], maturity=all_answers(4))
    DiagnosticJobFactory(
        diagnostic=diagnostic, occupation=grid["secretary"], headcount=8, rc=70, rm=0, nra=10, nri=10, nrm=10
    )
    DiagnosticJobFactory(
        diagnostic=diagnostic, occupation=grid["accountant"], headcount=3, rc=60, rm=0, nra=20, nri=20, nrm=0
    )
    return {"campaign": campaign, "company": company, "owner": owner, "diagnostic": diagnostic, **grid}
