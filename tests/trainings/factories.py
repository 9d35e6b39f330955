import datetime

import factory

from companies.validators import luhn_complete
from tests.companies.factories import CommuneFactory
from trainings.models import CurationStatus, Provider, Session, TrainingOffer


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        django_get_or_create = ["siret"]

    siret = factory.Sequence(lambda n: luhn_complete(f"{77000000000000 + n * 10:014d}"[:13]))
    name = factory.Sequence(lambda n: f"Organisme de formation {n}")
    nda = factory.Sequence(lambda n: f"{32590000000 + n:011d}")
    qualiopi = True
    commune = factory.SubFactory(CommuneFactory)
    status = CurationStatus.PUBLISHED


class TrainingOfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingOffer

    title = factory.Sequence(lambda n: f"Formation {n}")
    objectives = "Acquérir les compétences du métier."
    provider = factory.SubFactory(ProviderFactory)
    modality = TrainingOffer.Modality.IN_PERSON
    duration_hours = 35
    status = CurationStatus.PUBLISHED


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    offer = factory.SubFactory(TrainingOfferFactory)
    start = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=30))
    end = factory.LazyAttribute(lambda o: o.start + datetime.timedelta(days=5))
    commune = factory.LazyAttribute(lambda o: o.offer.provider.commune)
    places_left = 12
