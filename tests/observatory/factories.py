import factory
from django.db.models import Max
from django.utils import timezone

from observatory.models import GridCell, GridRun, Lens, Methodology


def _next_version(lens) -> int:
    # The data migrations create the presets' first versions: a new one comes after them.
    return (Methodology.objects.filter(lens=lens).aggregate(last=Max("version"))["last"] or 0) + 1


class MethodologyFactory(factory.django.DjangoModelFactory):
    """The next version of a lens, with the default α (DESIGN.md, « The grille d'analyse »):
    it becomes the lens's current version."""

    class Meta:
        model = Methodology

    lens = Lens.DEFAULT
    version = factory.LazyAttribute(lambda o: _next_version(o.lens))
    alpha_rc = 0.85
    alpha_rm = 0.55
    alpha_nra = 0.45
    alpha_nri = 0.20
    alpha_nrm = 0.10


class GridRunFactory(factory.django.DjangoModelFactory):
    """A run of the current version of `lens` (the default lens unless told). `published=True`
    gives a ready, current and published run: an edition whose cells a test writes by hand."""

    class Meta:
        model = GridRun

    class Params:
        lens = Lens.DEFAULT
        published = factory.Trait(
            status=GridRun.Status.READY,
            progress=100,
            finished_at=factory.LazyFunction(timezone.now),
            published_at=factory.SelfAttribute("finished_at"),
            is_current=True,
        )

    methodology = factory.LazyAttribute(lambda o: Methodology.objects.current(o.lens))


class GridCellFactory(factory.django.DjangoModelFactory):
    """A public fiche cell of the Nord, every sector and size: five companies, five
    establishments and 100 employees. The occupation code is the test's to give."""

    class Meta:
        model = GridCell

    run = factory.SubFactory(GridRunFactory, published=True)
    territory_level = "departement"
    territory_code = "59"
    sector_level = "all"
    sector_code = ""
    occupation_level = "fiche"
    occupation_code = ""
    size_band = "all"
    companies = 5
    establishments = 5
    employees = 100
    secret = False
    secret_reason = ""
