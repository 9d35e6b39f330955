import factory
from django.utils import timezone

from companies.models import Company, Establishment, JobPosition, Sector, SizeBand, Territory
from companies.validators import luhn_complete
from tests.skills.factories import OccupationFactory


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory
        django_get_or_create = ["level", "code"]

    level = Territory.Level.REGION
    code = "32"
    name = "Hauts-de-France"


class DepartementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory
        django_get_or_create = ["level", "code"]

    level = Territory.Level.DEPARTEMENT
    code = "59"
    name = "Nord"
    parent = factory.SubFactory(RegionFactory)


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory
        django_get_or_create = ["level", "code"]

    level = Territory.Level.COMMUNE
    code = factory.Sequence(lambda n: f"59{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"Commune {n}")
    population = 1000
    parent = factory.SubFactory(
        DepartementFactory, code=factory.LazyAttribute(lambda o: o.factory_parent.code[:2])
    )


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sector
        django_get_or_create = ["code"]

    code = "J"
    level = Sector.Level.SECTION
    label = "Information et communication"


class SousClasseFactory(factory.django.DjangoModelFactory):
    """A sous-classe hanging directly under its section (enough for most tests)."""

    class Meta:
        model = Sector
        django_get_or_create = ["code"]

    code = "62.01Z"
    level = Sector.Level.SOUS_CLASSE
    label = "Programmation informatique"
    parent = factory.SubFactory(SectionFactory)


class CompanyFactory(factory.django.DjangoModelFactory):
    """A company as a claim leaves it: not verified. `CompanyFactory(verified=True)` gives one
    whose owner a curator approved: its diagnostics count in the statistics."""

    class Meta:
        model = Company

    class Params:
        verified = factory.Trait(verified_at=factory.LazyFunction(timezone.now))

    siren = factory.Sequence(lambda n: luhn_complete(f"{10000000 + n:08d}"))
    name = factory.Sequence(lambda n: f"Entreprise {n}")


class EstablishmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Establishment

    company = factory.SubFactory(CompanyFactory)
    siret = factory.LazyAttributeSequence(lambda o, n: luhn_complete(f"{o.company.siren}{n % 10000:04d}"))
    sector = factory.SubFactory(SousClasseFactory)
    commune = factory.SubFactory(CommuneFactory)
    size_band = SizeBand.SMALL


class JobPositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobPosition

    establishment = factory.SubFactory(EstablishmentFactory)
    occupation = factory.SubFactory(OccupationFactory)
    headcount = 10
    rc = 40
    rm = 10
    nra = 20
    nri = 20
    nrm = 10
