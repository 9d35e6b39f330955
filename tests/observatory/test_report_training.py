"""The training part of the company report: skills blocks reached through certifications, the
published offers nearby ranked by distance, and a query count that does not grow with the jobs.

The company sits in Lille, placed at (50.63° N, 3.06° E). Every other located commune lies on
the same meridian, where the haversine distance is simply R·Δφ: 6 371 km × π/180 = 111,19 km
per degree of latitude. Seclin 0,10° south: 11,12 km; Arras 0,34° south: 37,81 km; Cambrai
0,45° south: 50,04 km.
"""

import datetime
import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from companies.models import DiagnosticJob, Territory
from observatory import services
from observatory.models import Lens, OccupationScore
from observatory.report import BLOCKS_PER_JOB, distance_km
from skills.models import Mobility, OccupationTaskProfile, SkillBlock
from tests.companies.factories import CommuneFactory, CompanyFactory, make_member
from tests.observatory import test_report
from tests.skills.factories import CertificationFactory, OccupationFactory, SkillBlockFactory
from tests.trainings.factories import ProviderFactory, SessionFactory, TrainingOfferFactory
from trainings.models import CurationStatus, TrainingOffer

pytestmark = pytest.mark.django_db

# The hand-worked grid and company of test_report.py: Secrétaire (M1607) and Comptable (M1203),
# both exposed, declared by « Atelier Dupont » in Lille.
report_url = test_report.report_url

KM_PER_DEGREE = 6371 * math.pi / 180  # 111.19 km
# The report page's queries: session, user, memberships, diagnostic, run, jobs, scores; two
# for the mobilités, three for the skills blocks, four for the offers; the NAF section, the
# comparison cells, the methodology's secrecy minimum, the peers' maturity; the navigation's
# role checks; the wished blocks, the fiches' secrecy, the ROME items' corrections and the
# regional contacts.
REPORT_QUERIES = 26


@pytest.fixture(autouse=True)
def _no_grid_recomputation(settings):
    settings.OBSERVATORY_AUTO_RECOMPUTE = False


@pytest.fixture
def places(case):
    """The company's commune and four others at known distances (see the module docstring)."""
    lille = case["lille"]
    lille.latitude, lille.longitude = 50.63, 3.06
    lille.save()
    arras = Territory.objects.get(level=Territory.Level.COMMUNE, code="62041")  # from the grid, Pas-de-Calais
    arras.latitude, arras.longitude = 50.29, 3.06
    arras.save()
    nord = lille.parent
    return {
        "lille": lille,
        "seclin": CommuneFactory(code="59560", name="Seclin", parent=nord, latitude=50.53, longitude=3.06),
        "arras": arras,
        "cambrai": CommuneFactory(code="59122", name="Cambrai", parent=nord, latitude=50.18, longitude=3.06),
        # Known communes without coordinates: ranked by département, after every known distance.
        "bailleul": CommuneFactory(code="59043", name="Bailleul", parent=nord),
        "amiens": case["amiens"],
    }


def _offer(title, commune, *, sessions=(30,), blocks=(), **fields):
    """A published offer of a published provider located in `commune`, leading to `blocks`,
    with a session in `commune` starting in each of `sessions` days."""
    provider = ProviderFactory(name=f"Organisme {title}", commune=commune)
    offer = TrainingOfferFactory(title=title, provider=provider, **fields)
    offer.skill_blocks.set(blocks)
    today = timezone.localdate()
    for days in sessions:
        SessionFactory(offer=offer, commune=commune, start=today + datetime.timedelta(days=days))
    return offer


def _page(client, case):
    client.force_login(case["owner"])
    response = client.get(report_url(case["diagnostic"].pk))
    assert response.status_code == 200
    return response


# --- Distances ---------------------------------------------------------------------------


def test_the_distance_along_a_meridian_is_the_earth_radius_times_the_latitude_difference(places):
    assert distance_km(places["lille"], places["seclin"]) == pytest.approx(0.10 * KM_PER_DEGREE)
    assert distance_km(places["lille"], places["seclin"]) == pytest.approx(11.12, abs=0.01)
    assert distance_km(places["lille"], places["cambrai"]) == pytest.approx(50.04, abs=0.01)
    assert distance_km(places["lille"], places["bailleul"]) is None


def test_the_distance_from_lille_to_paris_is_the_published_204_km():
    # Lille (50.6292° N, 3.0573° E) to Paris Notre-Dame (48.8530° N, 2.3498° E): 204 km.
    lille = CommuneFactory.build(latitude=50.6292, longitude=3.0573)
    paris = CommuneFactory.build(latitude=48.8530, longitude=2.3498)
    assert distance_km(lille, paris) == pytest.approx(204, abs=1)


# --- Skills blocks -------------------------------------------------------------------------


def test_blocks_of_the_certifications_targeting_the_fiche_are_added_once_ai_related_first(client, case):
    secretary = case["secretary"]
    # RNCP35503 (from the grid) now also targets M1607: its BC01, already linked to the fiche,
    # stays once and as linked; its BC02 comes through the certification.
    rncp35503 = SkillBlock.objects.get(code="RNCP35503BC01").certification
    rncp35503.occupations.add(secretary)
    SkillBlockFactory(certification=rncp35503, code="RNCP35503BC02", label="Organiser les réunions")
    data = CertificationFactory(code="RNCP37000", title="Assistant data")
    data.occupations.add(secretary)
    SkillBlockFactory(certification=data, code="RNCP37000BC01", label="Tenir un tableau de bord")
    SkillBlockFactory(certification=data, code="RNCP37000BC02", label="Automatiser avec l'IA", ai_related=True)
    # A certification no longer registered is not recommended.
    expired = CertificationFactory(code="RNCP20000", title="Ancien titre", active=False)
    expired.occupations.add(secretary)
    SkillBlockFactory(certification=expired, code="RNCP20000BC01")
    # A certification of another fiche brings nothing to M1607.
    CertificationFactory(code="RNCP38000").occupations.add(case["accountant"])

    response = _page(client, case)
    secretary_report = response.context["exposed"][0]
    blocks = secretary_report.skill_blocks
    assert [block.code for block in blocks] == ["RNCP37000BC02", "RNCP35503BC01", "RNCP35503BC02", "RNCP37000BC01"]
    assert [block.certification.code if block.certification else None for block in blocks] == [
        "RNCP37000",
        None,
        "RNCP35503",
        "RNCP37000",
    ]
    assert [block.ai_related for block in blocks] == [True, False, False, False]
    assert secretary_report.skill_blocks_total == 4
    accountant_report = response.context["exposed"][1]
    assert accountant_report.skill_blocks == []
    page = response.content.decode()
    assert page.count("RNCP35503BC01</span>") == 1
    assert 'RNCP37000BC02</span> <span class="badge badge-ai">IA &amp; données</span>' in page
    assert "bloc de la certification RNCP37000 «&nbsp;Assistant data&nbsp;»" in page
    assert "RNCP20000BC01" not in page


def test_the_blocks_shown_per_job_are_bounded(client, case):
    certification = CertificationFactory(code="RNCP39000")
    certification.occupations.add(case["secretary"])
    for number in range(1, 9):
        SkillBlockFactory(certification=certification, code=f"RNCP39000BC{number:02d}")
    report = _page(client, case).context["exposed"][0]
    assert len(report.skill_blocks) == BLOCKS_PER_JOB == 6
    assert report.skill_blocks_total == 9  # eight blocks and the grid's RNCP35503BC01
    assert [block.code for block in report.skill_blocks][:2] == ["RNCP35503BC01", "RNCP39000BC01"]


def test_the_mobility_to_a_less_exposed_job_names_the_blocks_leading_there(client, case):
    carer = Mobility.objects.get(source=case["secretary"], target__code="J1501").target
    care = CertificationFactory(code="RNCP36004", title="Diplôme d'État d'aide-soignant")
    care.occupations.add(carer)
    SkillBlockFactory(certification=care, code="RNCP36004BC01", label="Accompagner la personne")
    response = _page(client, case)
    (mobility,) = response.context["exposed"][0].mobilities
    assert [block.code for block in mobility["skill_blocks"]] == ["RNCP36004BC01"]
    assert "Pour s'y préparer : Accompagner la personne (RNCP36004BC01)" in response.content.decode()


# --- Offers nearby -------------------------------------------------------------------------


@pytest.fixture
def catalogue(case, places):
    """Six published offers leading to M1607 by every path, and one leading elsewhere."""
    secretary = case["secretary"]
    linked = SkillBlock.objects.get(code="RNCP35503BC01")
    certification = CertificationFactory(code="RNCP37000", title="Assistant data")
    certification.occupations.add(secretary)
    through_certification = SkillBlockFactory(certification=certification, code="RNCP37000BC01")
    today = timezone.localdate()
    offers = {
        # In Lille itself: two coming sessions, the sooner is the next one.
        "lille": _offer("Assistanat à Lille", places["lille"], sessions=(40, 10), blocks=[linked], ai_related=True),
        # A past session in Lille does not count: the coming one is in Seclin.
        "seclin": _offer("Assistanat à Seclin", places["seclin"], certification=certification, price=1250),
        # No session: the provider's commune, in the Pas-de-Calais.
        "arras": _offer("Secrétariat à Arras", places["arras"], sessions=()),
        "cambrai": _offer("Secrétariat à Cambrai", places["cambrai"], blocks=[through_certification]),
        "bailleul": _offer("Secrétariat à Bailleul", places["bailleul"], blocks=[linked]),
        "amiens": _offer("Secrétariat à Amiens", places["amiens"], blocks=[linked]),
    }
    SessionFactory(offer=offers["seclin"], commune=places["lille"], start=today - datetime.timedelta(days=20))
    offers["arras"].occupations.add(secretary)
    # Leads to another fiche's block: never recommended for M1607, however near.
    _offer("Comptabilité à Lille", places["lille"], blocks=[SkillBlockFactory(code="RNCP38000BC01")])
    return offers


def test_offers_are_ranked_nearest_first_then_by_departement(client, case, catalogue):
    response = _page(client, case)
    report = response.context["exposed"][0]
    assert [nearby.offer.title for nearby in report.offers] == [
        "Assistanat à Lille",  # same commune
        "Assistanat à Seclin",  # 11,12 km
        "Secrétariat à Arras",  # 37,81 km, another département but nearer than Cambrai
        "Secrétariat à Cambrai",  # 50,04 km
        "Secrétariat à Bailleul",  # no coordinates, same département
    ]
    assert report.offers_total == 6  # Amiens (no coordinates, another département) is the sixth
    distances = [nearby.distance_km for nearby in report.offers]
    assert distances[0] == pytest.approx(0)
    assert distances[1] == pytest.approx(0.10 * KM_PER_DEGREE)
    assert distances[2] == pytest.approx(0.34 * KM_PER_DEGREE)
    assert distances[3] == pytest.approx(0.45 * KM_PER_DEGREE)
    assert distances[4] is None
    assert [nearby.commune.name for nearby in report.offers] == ["Lille", "Seclin", "Arras", "Cambrai", "Bailleul"]
    assert [nearby.reason for nearby in report.offers] == [
        "prépare au bloc RNCP35503BC01",
        "prépare à la certification RNCP37000",
        "vise le métier M1607",
        "prépare au bloc RNCP37000BC01",
        "prépare au bloc RNCP35503BC01",
    ]
    today = timezone.localdate()
    assert report.offers[0].next_session == today + datetime.timedelta(days=10)
    assert report.offers[1].next_session == today + datetime.timedelta(days=30)  # not the past one
    assert report.offers[2].next_session is None
    page = response.content.decode()
    assert f'<a href="/formations/offres/{catalogue["lille"].pk}/">Assistanat à Lille</a>' in page
    assert 'Assistanat à Lille</a> <span class="badge badge-ai">IA &amp; données</span>' in page
    assert "Lille (votre commune)" in page
    assert "Seclin (à 11 km)" in page and "Arras (à 38 km)" in page and "Cambrai (à 50 km)" in page
    assert "Bailleul (votre département)" in page
    assert "1\u202f250,00&nbsp;€" in page
    assert f"prochaine session le {date_format(today + datetime.timedelta(days=10), 'j F Y')}" in page
    assert "pas de date de session annoncée" in page
    assert "Présentiel" in page
    assert "5 offres les plus proches sur 6" in page and 'href="/formations/"' in page
    assert "Comptabilité à Lille" not in page and "Secrétariat à Amiens" not in page


def test_an_offer_reached_by_several_paths_is_listed_once(client, case, places):
    linked = SkillBlock.objects.get(code="RNCP35503BC01")
    linked.certification.occupations.add(case["secretary"])
    offer = _offer("Assistant de direction", places["lille"], blocks=[linked], certification=linked.certification)
    offer.occupations.add(case["secretary"])
    report = _page(client, case).context["exposed"][0]
    assert [nearby.offer.pk for nearby in report.offers] == [offer.pk]
    assert report.offers[0].reason == "prépare au bloc RNCP35503BC01"


def test_without_a_commune_offers_are_listed_by_next_session(client, case, places):
    linked = SkillBlock.objects.get(code="RNCP35503BC01")
    _offer("Plus tard", places["seclin"], sessions=(60,), blocks=[linked])
    _offer("Bientôt", places["cambrai"], sessions=(5,), blocks=[linked])
    diagnostic = case["diagnostic"]
    diagnostic.commune = None
    diagnostic.save()
    response = _page(client, case)
    report = response.context["exposed"][0]
    assert [nearby.offer.title for nearby in report.offers] == ["Bientôt", "Plus tard"]
    assert all(nearby.distance_km is None for nearby in report.offers)
    assert "Renseignez la commune de l'entreprise" in response.content.decode()


NOT_PUBLISHED = [CurationStatus.DRAFT, CurationStatus.SUBMITTED, CurationStatus.REJECTED, CurationStatus.ARCHIVED]


@pytest.mark.parametrize("status", NOT_PUBLISHED)
def test_an_unpublished_offer_never_appears(client, case, places, status):
    linked = SkillBlock.objects.get(code="RNCP35503BC01")
    _offer("Offre publiée", places["seclin"], blocks=[linked])
    hidden = _offer("Offre cachée", places["lille"], blocks=[linked], status=status)
    hidden.occupations.add(case["secretary"])
    response = _page(client, case)
    assert [nearby.offer.title for nearby in response.context["exposed"][0].offers] == ["Offre publiée"]
    assert "Offre cachée" not in response.content.decode()


@pytest.mark.parametrize("status", NOT_PUBLISHED)
def test_a_published_offer_of_an_unpublished_provider_never_appears(client, case, places, status):
    linked = SkillBlock.objects.get(code="RNCP35503BC01")
    _offer("Offre publiée", places["seclin"], blocks=[linked])
    hidden = _offer("Offre d'un organisme non publié", places["lille"], blocks=[linked])
    hidden.provider.status = status
    hidden.provider.save()
    assert hidden.status == TrainingOffer.Status.PUBLISHED
    response = _page(client, case)
    assert [nearby.offer.title for nearby in response.context["exposed"][0].offers] == ["Offre publiée"]
    assert "organisme non publié" not in response.content.decode()


def test_without_offers_the_report_says_so_and_points_to_the_catalogue(client, case):
    response = _page(client, case)
    assert all(report.offers == [] for report in response.context["exposed"])
    page = response.content.decode()
    assert page.count("Aucune offre de formation publiée ne mène encore à ces compétences") == 2
    assert '<a href="/formations/">catalogue des formations</a>' in page


# --- Query count ---------------------------------------------------------------------------


@pytest.fixture
def five_jobs(case, places):
    """Three more routine-heavy fiches (exposure 0,85·0,9 + 0,55·0,1 = 0,82, high) join the
    grid; the company then declares five exposed jobs, each with blocks, a certification,
    offers with sessions and a mobilité."""
    extra = []
    for code in ("M1602", "M1603", "M1604"):
        occupation = OccupationFactory(code=code, label=f"Métier {code}")
        OccupationTaskProfile.objects.create(occupation=occupation, rc=0.9, rm=0.1, nra=0, nri=0, nrm=0)
        extra.append(occupation)
    services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    fiches = [case["secretary"], case["accountant"], *extra]
    for number, fiche in enumerate(fiches):
        certification = CertificationFactory(code=f"RNCP4100{number}")
        certification.occupations.add(fiche)
        direct = SkillBlockFactory(code=f"RNCP4200{number}BC01")
        direct.occupations.add(fiche)
        via = SkillBlockFactory(certification=certification, code=f"RNCP4100{number}BC01", ai_related=True)
        for commune in ("lille", "seclin", "bailleul"):
            _offer(f"Formation {fiche.code} {commune}", places[commune], blocks=[via, direct], sessions=(10, 20))
        _offer(f"Certification {fiche.code}", places["arras"], certification=certification)
        Mobility.objects.get_or_create(source=fiche, target=OccupationFactory(code="J1501"), defaults={"rank": 9})
    return fiches


def _report_queries(client, case):
    client.force_login(case["owner"])
    url = report_url(case["diagnostic"].pk)
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries)


def test_the_query_count_does_not_grow_with_the_number_of_jobs(client, case, five_jobs, django_assert_max_num_queries):
    diagnostic = case["diagnostic"]
    diagnostic.jobs.exclude(occupation=case["secretary"]).delete()
    response, one_job = _report_queries(client, case)
    assert len(response.context["exposed"]) == 1
    assert len(response.context["exposed"][0].offers) == 4

    for fiche in five_jobs[1:]:
        DiagnosticJob.objects.get_or_create(
            diagnostic=diagnostic,
            occupation=fiche,
            defaults={"headcount": 2, "rc": 80, "rm": 0, "nra": 10, "nri": 10, "nrm": 0},
        )
    response, five = _report_queries(client, case)
    exposed = response.context["exposed"]
    assert len(exposed) == 5
    assert OccupationScore.objects.filter(run=response.context["run"], occupation__code="M1604").get().exposure > 0.7
    assert all(len(report.offers) == 4 for report in exposed)
    # Each fiche's two blocks (AI-related first); M1607 also keeps the grid's RNCP35503BC01.
    assert [len(report.skill_blocks) for report in exposed] == [3, 2, 2, 2, 2]
    assert all(report.mobilities for report in exposed)
    assert five == one_job
    with django_assert_max_num_queries(REPORT_QUERIES):
        client.get(report_url(diagnostic.pk))


def test_another_companys_member_cannot_read_the_offers_of_a_report(client, case, catalogue, django_user_model):
    other = make_member(CompanyFactory(name="Concurrent"), "concurrent")
    client.force_login(other)
    response = client.get(report_url(case["diagnostic"].pk))
    assert response.status_code == 404
    assert "Assistanat à Lille" not in response.content.decode()
