import factory

from skills.models import Occupation


class GrandDomaineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Occupation
        django_get_or_create = ["code"]

    code = "M"
    level = Occupation.Level.GRAND_DOMAINE
    label = "Support à l'entreprise"


class DomaineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Occupation
        django_get_or_create = ["code"]

    code = "M16"
    level = Occupation.Level.DOMAINE
    label = "Secrétariat et assistance"
    parent = factory.SubFactory(GrandDomaineFactory, code=factory.LazyAttribute(lambda o: o.factory_parent.code[0]))


class OccupationFactory(factory.django.DjangoModelFactory):
    """A fiche métier with its domaine and grand domaine (created from its code)."""

    class Meta:
        model = Occupation
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"M16{n % 100:02d}")
    level = Occupation.Level.FICHE
    label = factory.Sequence(lambda n: f"Métier {n}")
    parent = factory.SubFactory(DomaineFactory, code=factory.LazyAttribute(lambda o: o.factory_parent.code[:3]))
