import datetime

import factory
from django.utils import timezone

from companies import maturity
from companies.models import (
    Campaign,
    Company,
    CompanyMembership,
    Diagnostic,
    DiagnosticJob,
    Establishment,
    JobPosition,
    Sector,
    SizeBand,
    Territory,
)
from companies.validators import luhn_complete
from tests.skills.factories import OccupationFactory

# The password of every person the factories create.
PASSWORD = "motdepasse-test-2026"


def all_answers(level=2) -> dict:
    """The maturity step answered `level` on every item."""
    return {item.key: level for item in maturity.ITEMS}


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
    parent = factory.SubFactory(DepartementFactory, code=factory.LazyAttribute(lambda o: o.factory_parent.code[:2]))


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


class _JobFactory(factory.django.DjangoModelFactory):
    """A job of ten people and its task shares (percent of working time): what a position and
    a diagnostic's job both carry."""

    class Meta:
        abstract = True

    occupation = factory.SubFactory(OccupationFactory)
    headcount = 10
    rc = 40
    rm = 10
    nra = 20
    nri = 20
    nrm = 10


class JobPositionFactory(_JobFactory):
    class Meta:
        model = JobPosition

    establishment = factory.SubFactory(EstablishmentFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "auth.User"

    username = factory.Sequence(lambda n: f"personne{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@exemple.fr")
    password = factory.django.Password(PASSWORD)


class CompanyMembershipFactory(factory.django.DjangoModelFactory):
    """An active owner of a company."""

    class Meta:
        model = CompanyMembership

    user = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory)
    role = CompanyMembership.Role.OWNER
    status = CompanyMembership.Status.ACTIVE


def make_member(company, username, status=CompanyMembership.Status.ACTIVE):
    """The person `username` (password PASSWORD), owner of `company` with `status`."""
    return CompanyMembershipFactory(company=company, user__username=username, status=status).user


class CampaignFactory(factory.django.DjangoModelFactory):
    """The current campaign of 2026 unless told otherwise; one per year."""

    class Meta:
        model = Campaign
        django_get_or_create = ["year"]

    year = 2026
    name = factory.LazyAttribute(lambda o: f"Campagne {o.year}")
    opens_on = factory.LazyAttribute(lambda o: datetime.date(o.year, 1, 1))
    closes_on = factory.LazyAttribute(lambda o: datetime.date(o.year, 12, 31))
    is_current = True


class DiagnosticFactory(factory.django.DjangoModelFactory):
    """A diagnostic submitted with every step answered: a small company of a sous-classe of
    section J in a commune of the Nord, maturity 2 on every item."""

    class Meta:
        model = Diagnostic

    campaign = factory.SubFactory(CampaignFactory)
    company = factory.SubFactory(CompanyFactory)
    status = Diagnostic.Status.SUBMITTED
    siret = ""
    company_name = factory.LazyAttribute(lambda o: o.company.name)
    sector = factory.SubFactory(SousClasseFactory)
    commune = factory.SubFactory(CommuneFactory)
    size_band = SizeBand.SMALL
    maturity = factory.LazyFunction(all_answers)


class DiagnosticJobFactory(_JobFactory):
    class Meta:
        model = DiagnosticJob

    diagnostic = factory.SubFactory(DiagnosticFactory)
