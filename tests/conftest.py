import os
from pathlib import Path

import pytest
import redis

from companies.models import Diagnostic, DiagnosticJob, RegionalContact, SizeBand
from observatory import services
from observatory.models import Lens
from skills.models import (
    Appellation,
    Certification,
    ItemOverride,
    Mobility,
    OccupationItem,
    OccupationTaskProfile,
    RomeItem,
    SkillBlock,
)
from tests.companies.factories import (
    CampaignFactory,
    CommuneFactory,
    CompanyFactory,
    DepartementFactory,
    EstablishmentFactory,
    JobPositionFactory,
    SectionFactory,
    SousClasseFactory,
    all_answers,
    make_member,
)
from tests.rome_items import link_item, rome_item
from tests.skills.factories import OccupationFactory

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The real official files, laid beside the checkout (see README). Optional.
SHARED_DATA = Path(os.environ.get("SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
# The Redis database the worker tests use unless TEST_CELERY_BROKER_URL names another.
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def shared_data() -> Path:
    """The folder of real official files; tests that need it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real reference files not found in {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _user_in_group(django_user_model, username, group_name=None, **extra):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username=username, password="motdepasse-test-2026", **extra)
    if group_name:
        user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def analyst(db, django_user_model):
    return _user_in_group(django_user_model, "analyste", "analyst")


@pytest.fixture
def curator(db, django_user_model):
    return _user_in_group(django_user_model, "curateur", "curator")


@pytest.fixture
def plain_user(db, django_user_model):
    """Logged in, but neither analyst nor curator (e.g. a company member)."""
    return _user_in_group(django_user_model, "quelquun")


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser(username="admin", password="motdepasse-test-2026")


DATA_MIGRATIONS = [
    ("skills.migrations.0002_task_categories", "create_categories"),
    ("companies.migrations.0002_role_groups", "create_groups"),
    ("observatory.migrations.0002_methodology_presets", "create_presets"),
    ("observatory.migrations.0007_methodology_rome_thresholds", "new_versions"),
]


@pytest.fixture
def migration_data():
    """Rewrite the rows the data migrations create (task categories, role groups, method
    presets): a transactional test flushes them when it ends. Idempotent."""
    import importlib

    from django.apps import apps

    for module, function in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def no_grid_recomputation(settings):
    # The observatory's receiver would queue a grid run; tests that use this count the
    # field_data_changed signal or compute their grid themselves.
    settings.OBSERVATORY_AUTO_RECOMPUTE = False


@pytest.fixture(scope="module")
def broker_url():
    url = os.environ.get("TEST_CELERY_BROKER_URL", DEFAULT_BROKER_URL)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as error:
        message = f"Redis unreachable at {url}: {error}"
        if "TEST_CELERY_BROKER_URL" in os.environ:
            # Asked for explicitly (CI does): a missing Redis is a failure, not a skip.
            pytest.fail(message)
        pytest.skip(f"{message} (start Redis or set TEST_CELERY_BROKER_URL)")
    return url


# --- The hand-worked grid (observatory, explorer, browser and worker tests) ------------------


@pytest.fixture
def hand_worked():
    """Three companies in the Nord report M1607 (10, 20 and 30 employees) with the same task
    shares; a fourth, in the Pas-de-Calais, has 5 employees on it.

    Reference profile of M1607: RC .6, RM .1, NRA .1, NRI .1, NRM .1. Field profile (every
    report says RC 50, NRA 30, NRI 20): .5, 0, .3, .2, 0 from n = 4 companies. With m = 5:
      blended = (4·field + 5·ref) / 9
              = RC 5/9, RM .5/9, NRA 1.7/9, NRI 1.3/9, NRM .5/9.
    Exposure with the default α (.85 .55 .45 .20 .10):
      E = (.85·5 + .55·.5 + .45·1.7 + .20·1.3 + .10·.5) / 9 = 5.6 / 9 = 0.6222… → high
      (the default lens's current thresholds: 0.48 and 0.44).
    RTI = ln(5.5/9) − ln(3/9) − ln(.5/9) = ln(5.5 / 3 / .5 · 9) = ln(33).
    """
    secretary = OccupationFactory(code="M1607", label="Secrétaire")
    OccupationTaskProfile.objects.create(occupation=secretary, rc=0.6, rm=0.1, nra=0.1, nri=0.1, nrm=0.1)
    nord = DepartementFactory(code="59", name="Nord")
    pas_de_calais = DepartementFactory(code="62", name="Pas-de-Calais")
    lille = CommuneFactory(code="59350", name="Lille", parent=nord)
    arras = CommuneFactory(code="62041", name="Arras", parent=pas_de_calais)
    shares = {"rc": 50, "rm": 0, "nra": 30, "nri": 20, "nrm": 0}
    for headcount, need in ((10, False), (20, True), (30, False)):
        JobPositionFactory(
            establishment=EstablishmentFactory(commune=lille),
            occupation=secretary,
            headcount=headcount,
            training_need=need,
            **shares,
        )
    JobPositionFactory(establishment=EstablishmentFactory(commune=arras), occupation=secretary, headcount=5, **shares)
    return secretary


@pytest.fixture
def occupations(hand_worked):
    """The hand-worked Secrétaire (M1607) with two appellations, a less exposed target of
    mobility (Aide-soignant, J1501: mostly non-routine manual and interpersonal work) and a
    more exposed one (Comptable, M1203: mostly routine cognitive work), both reported by two
    companies only."""
    Appellation.objects.create(code="38660", label="Secrétaire médicale", occupation=hand_worked)
    Appellation.objects.create(code="38674", label="Assistant / Assistante de secrétariat", occupation=hand_worked)
    carer = OccupationFactory(code="J1501", label="Aide-soignant / Aide-soignante", parent__code="J15")
    OccupationTaskProfile.objects.create(occupation=carer, rc=0.05, rm=0.10, nra=0.05, nri=0.40, nrm=0.40)
    accountant = OccupationFactory(code="M1203", label="Comptable", parent__code="M12")
    OccupationTaskProfile.objects.create(occupation=accountant, rc=0.80, rm=0.05, nra=0.10, nri=0.05, nrm=0.0)
    Appellation.objects.create(code="10101", label="Aide-comptable", occupation=accountant)
    Mobility.objects.create(source=hand_worked, target=accountant, rank=1)
    Mobility.objects.create(source=hand_worked, target=carer, rank=2)
    amiens = CommuneFactory(code="80021", name="Amiens", parent=DepartementFactory(code="80", name="Somme"))
    for fiche in (carer, accountant):
        for _ in range(2):
            JobPositionFactory(establishment=EstablishmentFactory(commune=amiens), occupation=fiche, headcount=4)
    return hand_worked


@pytest.fixture
def items(occupations, analyst):
    """The ROME items of Secrétaire (M1607), worked by hand (default weights: core 2, other 1):

      item                                   core   shares (in force)     weight  in the profile
      Saisir des documents                   yes    RC 1                  2       2/5 = 40 % (RC)
      Vérifier la conformité d'un dossier    no     RC .8, NRA .2         1       .8/5 = 16 % (RC)
      Accueillir une personne                yes    NRI .6, NRA .4 (*)    2       1.2/5 = 24 % (NRI)
      Respecter les règles d'hygiène         no     hors tâche            —
      Piloter un drone                       no     unmatched             —

    (*) the lexicon said NRI 1; the analyst Camille Martin corrected it. Evidence 5: RC gets
    2.8/5 = 56 %, NRA 1/5 = 20 %, NRI 1.2/5 = 24 %. Two work contexts, one of which
    (« Travail répétitif ou cadence imposée ») shifts the profile.

    Transitions from M1607 (E = 0,622): Assistant de direction (M1604, E = .85·.3 + .45·.4 +
    .2·.3 = 0,495) shares the first two savoir-faire and has three core ones, one held;
    Aide-soignant (J1501, E = 0,24) shares one savoir-faire and has seven core ones, one held;
    Comptable (M1203) is more exposed. Ranked by shared competences: M1604, then J1501.
    """
    entry = rome_item("100001", "Saisir des documents", rule="verbe:saisir+objet:documents", rc=1)
    check = rome_item(
        "100002", "Vérifier la conformité d'un dossier", rule="verbe:verifier+objet:dossier", rc=0.8, nra=0.2
    )
    welcome = rome_item("100003", "Accueillir une personne", rule="verbe:accueillir", nri=1)
    rules = rome_item("100004", "Respecter les règles d'hygiène", rule="hors_tache:respecter")
    drone = rome_item("100005", "Piloter un drone")
    repetitive = rome_item(
        "200001", "Travail répétitif ou cadence imposée", kind=RomeItem.Kind.CONTEXT, rule="repetitif"
    )
    saturday = rome_item("200002", "Travail le samedi", kind=RomeItem.Kind.CONTEXT)
    for item, core in ((entry, "principale"), (check, ""), (welcome, "principale"), (rules, ""), (drone, "")):
        link_item("M1607", item, core)
    link_item("M1607", repetitive)
    link_item("M1607", saturday)
    analyst.first_name, analyst.last_name = "Camille", "Martin"
    analyst.save()
    ItemOverride.objects.create(item=welcome, nri=0.6, nra=0.4, rc=0, rm=0, nrm=0, created_by=analyst)

    assistant = OccupationFactory(code="M1604", label="Assistant / Assistante de direction", parent__code="M16")
    OccupationTaskProfile.objects.create(occupation=assistant, rc=0.3, rm=0.0, nra=0.4, nri=0.3, nrm=0.0)
    Mobility.objects.create(source=occupations, target=assistant, rank=3)
    meetings = rome_item("100006", "Organiser des réunions", rule="verbe:organiser", nra=1)
    minutes = rome_item("100007", "Rédiger des comptes rendus", rule="verbe:rediger", nra=1)
    for item, core in ((entry, "principale"), (check, ""), (meetings, "principale"), (minutes, "principale")):
        link_item("M1604", item, core)
    link_item("J1501", welcome, "principale")
    for number, label in enumerate(
        [
            "Réaliser des soins d'hygiène",
            "Surveiller l'état de santé",
            "Aider au lever",
            "Changer les draps",
            "Distribuer les repas",
            "Transmettre les observations",
        ],
        start=8,
    ):
        link_item("J1501", rome_item(f"1000{number:02d}", label, rule="verbe:x", nrm=1), "principale")
    return occupations


# --- The company report's grid and its joinery (observatory and browser tests) --------------


@pytest.fixture
def grid():
    """The company report's grid (tests/observatory/test_report.py): the hand-worked
    Secrétaire in Lille, developers in Arras, accountants in Amiens, and a skills block."""
    secretary = OccupationFactory(code="M1607", label="Secrétaire")
    OccupationTaskProfile.objects.create(occupation=secretary, rc=0.6, rm=0.1, nra=0.1, nri=0.1, nrm=0.1)
    carer = OccupationFactory(code="J1501", label="Aide-soignant", parent__code="J15")
    OccupationTaskProfile.objects.create(occupation=carer, rc=0.05, rm=0.10, nra=0.05, nri=0.40, nrm=0.40)
    accountant = OccupationFactory(code="M1203", label="Comptable", parent__code="M12")
    OccupationTaskProfile.objects.create(occupation=accountant, rc=0.80, rm=0.05, nra=0.10, nri=0.05, nrm=0.0)
    developer = OccupationFactory(code="M1805", label="Développeur", parent__code="M18")
    OccupationTaskProfile.objects.create(occupation=developer, rc=0.2, rm=0.0, nra=0.6, nri=0.2, nrm=0.0)
    lille = CommuneFactory(code="59350", name="Lille", parent=DepartementFactory(code="59", name="Nord"))
    arras = CommuneFactory(code="62041", name="Arras", parent=DepartementFactory(code="62", name="Pas-de-Calais"))
    amiens = CommuneFactory(code="80021", name="Amiens", parent=DepartementFactory(code="80", name="Somme"))
    for headcount in (10, 20, 30):
        JobPositionFactory(
            establishment=EstablishmentFactory(commune=lille),
            occupation=secretary,
            headcount=headcount,
            rc=50,
            rm=0,
            nra=30,
            nri=20,
            nrm=0,
        )
    # The secondary secrecy protecting the Somme (two companies) falls on the Pas-de-Calais,
    # which has fewer employees than the Nord.
    for _ in range(3):
        JobPositionFactory(establishment=EstablishmentFactory(commune=arras), occupation=developer, headcount=5)
    for _ in range(2):
        JobPositionFactory(establishment=EstablishmentFactory(commune=amiens), occupation=accountant, headcount=4)
    # Comptable is more exposed than Secrétaire: not a mobilité the report recommends.
    Mobility.objects.create(source=secretary, target=accountant, rank=1)
    Mobility.objects.create(source=secretary, target=carer, rank=2)
    certification = Certification.objects.create(code="RNCP35503", register="RNCP", title="Assistant de direction")
    block = SkillBlock.objects.create(code="RNCP35503BC01", label="Gérer l'information", certification=certification)
    block.occupations.add(secretary)
    run = services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    return {"run": run, "secretary": secretary, "accountant": accountant, "lille": lille, "amiens": amiens}


# A draft diagnostic's maturity: Sensibilisation 0 and 1 (« Découverte », 0,5), Données 2 and 3
# (« Structuration », 2,5), the rest 1 (« Premiers pas »).
JOINERY_MATURITY = {
    "awareness_management": 0,
    "awareness_staff": 1,
    "data_digital": 2,
    "data_quality": 3,
    **{key: 1 for key in all_answers() if key.split("_")[0] not in {"awareness", "data"}},
}


def _fiche_item(code, label, fiche, *, core="principale", **shares):
    item = RomeItem.objects.create(code=code, kind=RomeItem.Kind.SKILL, label=label, rule="test", **shares)
    OccupationItem.objects.create(occupation=fiche, item=item, core=core)
    return item


@pytest.fixture
def joinery(grid):
    """A joinery of Lille beside the report's grid, with its submitted diagnostic, the
    Menuisier's savoir-faire and two regional contacts (tests/observatory/test_report_next_steps.py)."""
    carpenter = OccupationFactory(code="H2206", label="Menuisier", parent__code="H22")
    OccupationTaskProfile.objects.create(occupation=carpenter, rc=0.10, rm=0.50, nra=0.10, nri=0.05, nrm=0.25)
    zero = {"rc": 0.0, "rm": 0.0, "nra": 0.0, "nri": 0.0}
    _fiche_item("101", "Débiter des pièces de bois en série", carpenter, **{**zero, "rm": 1.0, "nrm": 0.0})
    _fiche_item(
        "102", "Usiner des pièces sur machine à commande numérique", carpenter, **{**zero, "rm": 0.8, "nrm": 0.2}
    )
    _fiche_item("103", "Poser des menuiseries sur chantier", carpenter, **{**zero, "nrm": 1.0})
    _fiche_item("104", "Établir un devis", carpenter, core="", **{**zero, "rc": 0.5, "nra": 0.5, "nrm": 0.0})
    run = services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    section = SectionFactory(code="F", label="Construction")
    sector = SousClasseFactory(code="43.32A", label="Travaux de menuiserie bois et PVC", parent=section)
    campaign = CampaignFactory()
    company = CompanyFactory(name="Menuiserie Lefebvre")
    owner = make_member(company, "gerant")
    diagnostic = Diagnostic.objects.create(
        campaign=campaign,
        company=company,
        status=Diagnostic.Status.SUBMITTED,
        company_name=company.name,
        sector=sector,
        commune=grid["lille"],
        size_band=SizeBand.MICRO,
        maturity=JOINERY_MATURITY,
    )
    carpenters = DiagnosticJob.objects.create(
        diagnostic=diagnostic,
        occupation=carpenter,
        headcount=6,
        rc=10,
        rm=60,
        nra=10,
        nri=0,
        nrm=20,
        training_need=True,
    )
    secretaries = DiagnosticJob.objects.create(
        diagnostic=diagnostic, occupation=grid["secretary"], headcount=2, rc=70, rm=0, nra=10, nri=10, nrm=10
    )
    opco = RegionalContact.objects.create(
        name="Constructys",
        kind=RegionalContact.Kind.OPCO,
        role="Finance la formation des salariés du BTP.",
        email="hauts-de-france@constructys.example.fr",
        website="https://www.constructys.fr/",
    )
    opco.sections.set([section])
    cci = RegionalContact.objects.create(
        name="CCI Hauts-de-France", kind=RegionalContact.Kind.CCI, role="Ateliers IA.", phone="03 20 63 79 79"
    )
    return {
        **grid,
        "run": run,
        "carpenter": carpenter,
        "diagnostic": diagnostic,
        "owner": owner,
        "carpenters": carpenters,
        "secretaries": secretaries,
        "section": section,
        "opco": opco,
        "cci": cci,
        "campaign": campaign,
    }
