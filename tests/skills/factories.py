import factory

from skills.models import Certification, Occupation, SkillBlock


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


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"RNCP{35000 + n}")
    register = Certification.Register.RNCP
    title = factory.Sequence(lambda n: f"Certification {n}")
    level = 5


class SkillBlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SkillBlock
        django_get_or_create = ["code"]

    certification = factory.SubFactory(CertificationFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.certification.code}BC{n % 100:02d}")
    label = factory.Sequence(lambda n: f"Bloc de compétences {n}")
