"""Training coverage from the catalogue to the grid: the share of exposed employees whose fiche
has a published offer (of a published provider) leading to a relevant skills block or
certification, from a provider in the same département.

On the hand-worked data of test_grid_run (M1607 is « medium », so exposed): 60 employees in
the Nord (Lille) and 5 in the Pas-de-Calais (Arras). An offer in Lille covers the Nord only:
Nord 60/60 = 1, Pas-de-Calais 0/5 = 0, whole region 60/65.
"""

import pytest

from observatory import services
from tests.companies.factories import CommuneFactory
from tests.observatory.test_grid_run import _cell
from tests.skills.factories import CertificationFactory, SkillBlockFactory
from tests.trainings.factories import ProviderFactory, TrainingOfferFactory
from trainings.models import CurationStatus

pytestmark = pytest.mark.django_db


def _coverage(**coordinates):
    run = services.grid_run_compute(services.grid_run_create().pk)
    return _cell(run, **coordinates).training_coverage


def _offer_in_lille(occupation, *, through, status=CurationStatus.PUBLISHED, provider_status=CurationStatus.PUBLISHED):
    lille = CommuneFactory(code="59350")
    offer = TrainingOfferFactory(provider=ProviderFactory(commune=lille, status=provider_status), status=status)
    if through == "block":
        block = SkillBlockFactory()
        block.occupations.add(occupation)
        offer.skill_blocks.add(block)
    else:
        certification = CertificationFactory()
        certification.occupations.add(occupation)
        offer.certification = certification
        offer.save()
    return offer


@pytest.mark.parametrize("through", ["block", "certification"])
def test_a_published_offer_in_lille_covers_the_nord_only(hand_worked, through):  # noqa: F811
    _offer_in_lille(hand_worked, through=through)

    assert _coverage(territory_level="departement", territory_code="59") == pytest.approx(1.0)
    assert _coverage(territory_level="departement", territory_code="62") == pytest.approx(0.0)
    assert _coverage() == pytest.approx(60 / 65)


@pytest.mark.parametrize(
    "status, provider_status",
    [
        (CurationStatus.SUBMITTED, CurationStatus.PUBLISHED),
        (CurationStatus.DRAFT, CurationStatus.PUBLISHED),
        (CurationStatus.REJECTED, CurationStatus.PUBLISHED),
        (CurationStatus.ARCHIVED, CurationStatus.PUBLISHED),
        (CurationStatus.PUBLISHED, CurationStatus.SUBMITTED),
        (CurationStatus.PUBLISHED, CurationStatus.ARCHIVED),
    ],
)
def test_what_is_not_published_covers_nothing(hand_worked, status, provider_status):  # noqa: F811
    _offer_in_lille(hand_worked, through="block", status=status, provider_status=provider_status)

    assert _coverage() == pytest.approx(0.0)
    assert _coverage(territory_level="departement", territory_code="59") == pytest.approx(0.0)


def test_an_offer_for_another_fiche_covers_nothing(hand_worked):  # noqa: F811
    from tests.skills.factories import OccupationFactory

    _offer_in_lille(OccupationFactory(code="M1203"), through="block")

    assert _coverage(territory_level="departement", territory_code="59") == pytest.approx(0.0)
