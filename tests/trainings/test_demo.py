"""The demo catalogue on the built-in reference set: deterministic, idempotent, realistic."""

import datetime
import io

import pytest
from django.db import transaction

from observatory.reference import BUILTIN_REFERENCE_DIR, load_reference
from observatory.selectors import training_coverage_frame
from skills.models import Certification, SkillBlock
from tests.skills.factories import CertificationFactory, OccupationFactory
from trainings.demo import DEMO_CERTIFICATION_PREFIX, DEMO_LHEO_PREFIX, seed_catalogue
from trainings.models import CurationStatus, Provider, Session, TrainingOffer
from trainings.selectors import published_offers

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def reference(django_db_setup, django_db_blocker):
    """The built-in reference set, loaded once for the module and rolled back afterwards."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            load_reference(BUILTIN_REFERENCE_DIR)
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def snapshot():
    offers = list(
        TrainingOffer.objects.order_by("lheo_number").values_list(
            "lheo_number",
            "title",
            "provider__siret",
            "provider__commune__code",
            "certification__code",
            "status",
            "duration_hours",
            "price",
            "ai_related",
        )
    )
    sessions = list(Session.objects.order_by("lheo_number").values_list("lheo_number", "start", "commune__code"))
    return offers, sessions


def seeded(seed):
    with transaction.atomic():
        counts = seed_catalogue(seed=seed, stdout=io.StringIO())
        result = counts, snapshot()
        transaction.set_rollback(True)
    return result


def test_the_demo_catalogue_has_what_the_pages_need():
    out = io.StringIO()
    counts = seed_catalogue(seed=7, stdout=out)

    assert counts["organismes"] == Provider.objects.count() == 25
    assert counts["offres"] == TrainingOffer.objects.count() == 80
    assert counts["sessions"] == Session.objects.count() > 80
    assert "Catalogue de démonstration" in out.getvalue()
    statuses = set(TrainingOffer.objects.values_list("status", flat=True))
    assert statuses == {CurationStatus.PUBLISHED, CurationStatus.SUBMITTED}
    assert 55 <= published_offers().count() <= 75
    assert TrainingOffer.objects.filter(status=CurationStatus.SUBMITTED).count() >= 5
    # Realistic French titles, some about data and AI, tagged by the rule set.
    assert TrainingOffer.objects.filter(title__startswith="Analyste de données").exists()
    assert published_offers().filter(ai_related=True).count() >= 10
    assert published_offers().filter(ai_related=False).count() >= 30
    assert SkillBlock.objects.filter(ai_related=True).exists()
    # Demo certifications, marked as such, linked to the fiches present.
    certifications = Certification.objects.all()
    assert certifications.count() == counts["certifications"] == 9
    assert all(c.code.startswith(DEMO_CERTIFICATION_PREFIX) and "(démonstration)" in c.title for c in certifications)
    assert Certification.objects.get(code="RNCP90101").occupations.filter(code="M1805").exists()
    # Providers in real communes that have a centre, so that distances work.
    assert not Provider.objects.filter(commune__latitude__isnull=True).exists()
    assert not Session.objects.exclude(commune=None).filter(commune__latitude__isnull=True).exists()
    # Sessions start over the coming months.
    today = datetime.date.today()
    starts = list(Session.objects.values_list("start", flat=True))
    assert all(today < start <= today + datetime.timedelta(days=240) for start in starts)
    # The grid's training coverage finds (département, fiche) pairs.
    coverage = training_coverage_frame()
    assert len(coverage) > 10
    assert {"M1805", "M1607", "M1203"} <= set(coverage["occupation"])
    assert set(coverage["departement"]) <= {"02", "59", "60", "62", "80"}


def test_a_second_run_creates_nothing():
    seed_catalogue(seed=7, stdout=io.StringIO())
    before = snapshot()

    counts = seed_catalogue(seed=7, stdout=io.StringIO())

    assert counts == {"organismes": 0, "offres": 0, "sessions": 0, "certifications": 0}
    assert snapshot() == before


def test_the_same_seed_gives_the_same_catalogue_and_another_differs():
    first, again, other = seeded(7), seeded(7), seeded(8)

    assert first == again
    assert first[1] != other[1]


def test_imported_certifications_are_used_instead_of_demo_ones():
    real = CertificationFactory(code="RNCP37827", title="Développeur en intelligence artificielle", level=6)
    real.occupations.add(OccupationFactory(code="M1805"))

    seed_catalogue(seed=7, stdout=io.StringIO())

    assert not Certification.objects.filter(code__startswith=DEMO_CERTIFICATION_PREFIX).exists()
    data_offers = TrainingOffer.objects.filter(
        lheo_number__startswith=DEMO_LHEO_PREFIX, title__startswith="Analyste de données"
    )
    assert set(data_offers.values_list("certification__code", flat=True)) == {"RNCP37827"}
