"""The explorer's test data: the hand-worked Secrétaire (M1607) of the observatory's tests, its
items and mobilités (tests/conftest.py), a certification and offers
leading to the less exposed Assistant de direction (M1604), and editions of the three lenses."""

import datetime

import pytest

from observatory import services
from observatory.models import Lens
from skills.models import SkillBlock
from tests.companies.factories import CommuneFactory, DepartementFactory
from tests.skills.factories import CertificationFactory, OccupationFactory
from tests.trainings.factories import ProviderFactory, SessionFactory, TrainingOfferFactory
from trainings.models import CurationStatus

# Commune centres (degrees), as the COG outlines give them.
LILLE = (50.6311, 3.0468)
ROUBAIX = (50.6903, 3.1817)
AMIENS = (49.9009, 2.2908)


def compute_editions(lenses=(Lens.GENAI, Lens.AUTOMATION, Lens.DEFAULT)) -> dict:
    """A published run (edition) of each lens, as an analyst launches them."""
    return {lens: services.grid_run_compute(services.grid_run_create(lens=lens).pk) for lens in lenses}


@pytest.fixture
def catalogue(items):
    """Towards Assistant / Assistante de direction (M1604): the certification « Assistant de
    direction » (RNCP36000) targets it, with two blocks; an offer of it in Roubaix (about
    11 km from Lille) with two coming sessions and one past, another in Amiens (about 100 km),
    one not published, and one towards Aide-soignant (J1501) in Lille."""
    nord = DepartementFactory(code="59", name="Nord")
    lille = CommuneFactory(code="59350", name="Lille", parent=nord)
    lille.latitude, lille.longitude = LILLE
    lille.save()
    roubaix = CommuneFactory(code="59512", name="Roubaix", parent=nord, latitude=ROUBAIX[0], longitude=ROUBAIX[1])
    somme = DepartementFactory(code="80", name="Somme")
    amiens = CommuneFactory(code="80021", name="Amiens", parent=somme)
    amiens.latitude, amiens.longitude = AMIENS
    amiens.save()

    certification = CertificationFactory(code="RNCP36000", title="Assistant de direction")
    certification.occupations.add("M1604")
    meetings = SkillBlock.objects.create(
        code="RNCP36000BC01", label="Organiser des réunions et rédiger des comptes rendus", certification=certification
    )
    SkillBlock.objects.create(code="RNCP36000BC02", label="Piloter un budget de service", certification=certification)

    today = datetime.date.today()
    near = TrainingOfferFactory(
        title="Assistant de direction à Roubaix",
        certification=certification,
        provider=ProviderFactory(commune=roubaix),
    )
    near.skill_blocks.add(meetings)
    SessionFactory(offer=near, start=today + datetime.timedelta(days=20))
    SessionFactory(offer=near, start=today + datetime.timedelta(days=80))
    SessionFactory(offer=near, start=today - datetime.timedelta(days=10))
    TrainingOfferFactory(
        title="Assistant de direction à Amiens", certification=certification, provider=ProviderFactory(commune=amiens)
    )
    TrainingOfferFactory(
        title="Offre en brouillon",
        certification=certification,
        status=CurationStatus.DRAFT,
        provider=ProviderFactory(commune=roubaix),
    )
    carer_offer = TrainingOfferFactory(title="Aide-soignant à Lille", provider=ProviderFactory(commune=lille))
    carer_offer.occupations.add(OccupationFactory(code="J1501"))
    return items


@pytest.fixture
def editions(catalogue):
    return compute_editions()
