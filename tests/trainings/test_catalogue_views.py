"""The public catalogue /formations/: search with each filter, sort, pagination, the offer and
provider pages, and that nothing unpublished is ever shown. Anonymous visitors throughout."""

import datetime
import math
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.companies.factories import CommuneFactory, DepartementFactory
from tests.skills.factories import CertificationFactory, OccupationFactory, SkillBlockFactory
from tests.trainings.factories import ProviderFactory, SessionFactory, TrainingOfferFactory
from trainings.models import CurationStatus, TrainingOffer

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
SEARCH = reverse("trainings:catalogue")
UNPUBLISHED = [CurationStatus.DRAFT, CurationStatus.SUBMITTED, CurationStatus.REJECTED, CurationStatus.ARCHIVED]
# One degree of latitude on the sphere of radius 6,371 km: π × 6371 / 180 = 111.195 km.
KM_PER_DEGREE = math.pi * 6371 / 180


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def titles(response) -> list[str]:
    return [offer.title for offer in response.context["page"]]


def search(client, **params):
    response = client.get(SEARCH, params)
    assert response.status_code == 200
    return response


@pytest.fixture
def place():
    """Communes on the meridian 3° E: the centre at 50° N, the others 15, 25 and 111 km north
    of it (a degree of latitude is 111.195 km), in two départements."""

    def commune(code, name, km_north):
        return CommuneFactory(
            code=code, name=name, latitude=50.0 + km_north / KM_PER_DEGREE, longitude=3.0, parent=departement(code)
        )

    def departement(code):
        return DepartementFactory(code=code[:2], name={"59": "Nord", "62": "Pas-de-Calais"}[code[:2]])

    return {
        "centre": commune("59001", "Centreville", 0),
        "at15": commune("59015", "Quinzeville", 15),
        "at25": commune("62025", "Vingt-Cinqville", 25),
        "far": commune("62111", "Lointainville", 111.195),
    }


def offer_at(title, commune, *, provider_commune, start=30, **fields):
    offer = TrainingOfferFactory(title=title, provider=ProviderFactory(commune=provider_commune), **fields)
    SessionFactory(offer=offer, commune=commune, start=days(start))
    return offer


# --- Access and publication ------------------------------------------------------------------


def test_anonymous_visitors_see_published_offers(client):
    offer = SessionFactory(start=days(12)).offer

    response = search(client)

    assert titles(response) == [offer.title]
    assert response.context["page"].paginator.count == 1
    html = response.content.decode()
    assert "1 formation" in html and offer.provider.name in html


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_an_unpublished_offer_is_never_shown(client, status):
    published = TrainingOfferFactory(title="Publiée")
    hidden = TrainingOfferFactory(title="Cachée", status=status, provider=published.provider)

    assert titles(search(client)) == ["Publiée"]
    assert titles(search(client, q="Cachée")) == []
    assert client.get(reverse("trainings:offer", args=[hidden.pk])).status_code == 404
    assert client.get(reverse("trainings:offer", args=[published.pk])).status_code == 200
    provider_page = client.get(reverse("trainings:provider", args=[published.provider.pk]))
    assert [offer.title for offer in provider_page.context["offers"]] == ["Publiée"]


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_a_published_offer_of_an_unpublished_provider_is_never_shown(client, status):
    offer = TrainingOfferFactory(title="Orpheline", provider=ProviderFactory(status=status))

    assert titles(search(client)) == []
    assert client.get(reverse("trainings:offer", args=[offer.pk])).status_code == 404
    assert client.get(reverse("trainings:provider", args=[offer.provider.pk])).status_code == 404


def test_unknown_ids_are_404(client):
    assert client.get(reverse("trainings:offer", args=[999999])).status_code == 404
    assert client.get(reverse("trainings:provider", args=[999999])).status_code == 404


def test_logged_in_people_see_the_same_catalogue(client, plain_user):
    TrainingOfferFactory(title="Comptabilité")
    client.force_login(plain_user)

    assert titles(search(client)) == ["Comptabilité"]


def test_the_navigation_links_to_the_catalogue_for_everyone(client):
    home = client.get(reverse("home")).content.decode()
    assert f'<a href="{SEARCH}" >Formations</a>' in home

    page = search(client).content.decode()
    assert f'<a href="{SEARCH}" aria-current="page">Formations</a>' in page


# --- Filters -----------------------------------------------------------------------------------


def test_distance_keeps_the_offer_at_15_km_and_drops_the_one_at_25_km(client, place):
    offer_at("À quinze", place["at15"], provider_commune=place["far"])
    offer_at("À vingt-cinq", place["at25"], provider_commune=place["far"])

    response = search(client, commune="Centreville", rayon=20)

    assert titles(response) == ["À quinze"]
    (offer,) = response.context["page"]
    assert offer.distance_km == pytest.approx(15.0, abs=1e-6)
    html = response.content.decode()
    assert "à 15\u00a0km" in html
    assert "1 formation à moins de 20 km de Centreville" in html
    # 50 km takes both, still by next session date.
    assert titles(search(client, commune="59001", rayon=50)) == ["À quinze", "À vingt-cinq"]


def test_distance_counts_the_provider_commune_and_the_nearest_place(client, place):
    # No session nearby, but the provider is 15 km away.
    offer_at("Organisme proche", place["far"], provider_commune=place["at15"])
    # Sessions at 25 and 15 km: the nearest one is the offer's distance.
    two = offer_at("Deux sessions", place["at25"], provider_commune=place["far"], start=10)
    SessionFactory(offer=two, commune=place["at15"], start=days(60))

    response = search(client, commune="Centreville (59001)", rayon=20)

    assert titles(response) == ["Deux sessions", "Organisme proche"]
    assert [round(o.distance_km, 6) for o in response.context["page"]] == [15.0, 15.0]


def test_distance_east_west_by_hand(client, place):
    # Along the parallel 50° N, haversine gives d = 2R·asin(cos φ · sin(Δλ/2)): for 18 km,
    # Δλ = 2·asin(sin(18 / 2R) / cos 50°) = 0.25184°, wider than 18 / 111.195 = 0.16188°
    # since meridians converge: the bounding box must widen too.
    dlon = math.degrees(2 * math.asin(math.sin(18 / (2 * 6371)) / math.cos(math.radians(50))))
    assert dlon == pytest.approx(0.25184, abs=1e-5)
    east = CommuneFactory(code="59018", name="Estville", latitude=50.0, longitude=3.0 + dlon)
    offer_at("À l'est", east, provider_commune=place["far"])

    response = search(client, commune="Centreville", rayon=20)

    assert titles(response) == ["À l'est"]
    assert response.context["page"][0].distance_km == pytest.approx(18.0, abs=1e-6)
    assert titles(search(client, commune="Centreville", rayon=10)) == []


def test_a_past_session_does_not_place_an_offer(client, place):
    offer_at("Passée", place["at15"], provider_commune=place["far"], start=-10)

    assert titles(search(client, commune="Centreville", rayon=20)) == []


def test_an_unknown_or_unlocated_commune_is_an_error_not_a_crash(client, place):
    CommuneFactory(code="59999", name="Sanscentre", latitude=None, longitude=None, parent=place["centre"].parent)
    offer_at("Une offre", place["at15"], provider_commune=place["far"])

    unknown = search(client, commune="Atlantide")
    assert titles(unknown) == []
    assert "Aucune commune des Hauts-de-France ne correspond à « Atlantide »" in unknown.content.decode()
    unlocated = search(client, commune="Sanscentre")
    assert "La position de Sanscentre n&#x27;est pas connue" in unlocated.content.decode()


def test_departement_takes_sessions_and_provider_communes(client, place):
    # Provider in the Nord (59), session in the Pas-de-Calais (62).
    offer_at("Nord et Pas-de-Calais", place["at25"], provider_commune=place["centre"])
    offer_at("Nord seulement", place["at15"], provider_commune=place["centre"])

    assert titles(search(client, departement="62")) == ["Nord et Pas-de-Calais"]
    assert titles(search(client, departement="59")) == ["Nord et Pas-de-Calais", "Nord seulement"]


def test_modality_level_ai_and_cpf(client):
    level6 = CertificationFactory(code="RNCP90006", level=6)
    TrainingOfferFactory(title="A distance niveau 6", modality=TrainingOffer.Modality.DISTANCE, certification=level6)
    TrainingOfferFactory(title="IA et CPF", ai_related=True, cpf_eligible=True)
    TrainingOfferFactory(title="IA seule", ai_related=True)

    assert titles(search(client, modalite="distance")) == ["A distance niveau 6"]
    assert titles(search(client, niveau=6)) == ["A distance niveau 6"]
    assert titles(search(client, niveau=5)) == []
    assert titles(search(client, ia="on")) == ["IA et CPF", "IA seule"]
    assert titles(search(client, ia="on", cpf="on")) == ["IA et CPF"]


def test_skill_block_by_code_or_label_words_directly_or_through_the_certification(client):
    certification = CertificationFactory(code="RNCP90001", title="Gestionnaire de paie")
    block = SkillBlockFactory(certification=certification, code="RNCP90001BC02", label="Établir les bulletins de paie")
    TrainingOfferFactory(title="Bloc visé").skill_blocks.add(block)
    TrainingOfferFactory(title="Certification complète", certification=certification)
    TrainingOfferFactory(title="Autre")

    assert titles(search(client, bloc="rncp90001bc02")) == ["Bloc visé", "Certification complète"]
    assert titles(search(client, bloc="etablir bulletins")) == ["Bloc visé", "Certification complète"]
    assert titles(search(client, bloc="RNCP90001BC03")) == []


def test_occupation_by_code_or_label_through_offer_certification_or_block(client):
    secretary = OccupationFactory(code="M1607", label="Secrétariat")
    accounting = OccupationFactory(code="M1203", label="Comptabilité")
    TrainingOfferFactory(title="Directe").occupations.add(secretary)
    certification = CertificationFactory(code="RNCP90002")
    certification.occupations.add(secretary)
    TrainingOfferFactory(title="Par la certification", certification=certification)
    block = SkillBlockFactory(code="RNCP90003BC01")
    block.occupations.add(secretary)
    TrainingOfferFactory(title="Par le bloc").skill_blocks.add(block)
    TrainingOfferFactory(title="Comptable").occupations.add(accounting)

    expected = ["Directe", "Par la certification", "Par le bloc"]
    assert titles(search(client, metier="M1607")) == expected
    assert titles(search(client, metier="Secrétariat (M1607)")) == expected
    assert titles(search(client, metier="secretariat")) == expected
    assert titles(search(client, metier="comptabilite")) == ["Comptable"]


def test_start_date_keeps_offers_with_a_session_from_that_date(client):
    early = SessionFactory(offer__title="Tôt", start=days(10)).offer
    SessionFactory(offer=early, start=days(100))
    SessionFactory(offer__title="Tard", start=days(50))
    TrainingOfferFactory(title="Sans session")

    response = search(client, debut=days(40).isoformat())

    # « Tôt » comes back for its session in 100 days, which becomes its next session.
    assert titles(response) == ["Tard", "Tôt"]
    assert [o.next_session for o in response.context["page"]] == [days(50), days(100)]


def test_keywords_ignore_accents_and_case(client):
    TrainingOfferFactory(title="Comptabilité générale")
    TrainingOfferFactory(title="Soudure", objectives="Réaliser des soudures à l'arc.")

    assert titles(search(client, q="COMPTABILITE")) == ["Comptabilité générale"]
    assert titles(search(client, q="arc soudures")) == ["Soudure"]


def test_filters_stay_in_the_form_and_pagination_links(client):
    for n in range(23):
        SessionFactory(offer__title=f"Offre {n:02d}", offer__ai_related=True, start=days(n + 1))

    first = search(client, ia="on", modalite="in_person")
    second = search(client, ia="on", modalite="in_person", page=2)

    assert len(first.context["page"]) == 20 and first.context["page"].paginator.count == 23
    assert titles(second) == ["Offre 20", "Offre 21", "Offre 22"]
    html = first.content.decode()
    assert 'href="?ia=on&amp;modalite=in_person&amp;page=2" rel="next"' in html
    assert 'name="ia" id="id_ia" checked' in html
    assert '<option value="in_person" selected>' in html


# --- Sort ----------------------------------------------------------------------------------------


def test_sorted_by_next_session_offers_without_one_last(client):
    SessionFactory(offer__title="B dans 40 jours", start=days(40))
    later = SessionFactory(offer__title="A dans 10 jours", start=days(10)).offer
    SessionFactory(offer=later, start=days(5 * 365))
    SessionFactory(offer__title="C passée", start=days(-20))
    TrainingOfferFactory(title="A sans session")
    undated = TrainingOfferFactory(title="B entrée permanente")
    SessionFactory(offer=undated, start=None, end=None)

    response = search(client)

    assert titles(response) == [
        "A dans 10 jours",
        "B dans 40 jours",
        "A sans session",
        "B entrée permanente",
        "C passée",
    ]
    assert response.context["page"][0].next_session == days(10)


# --- Query counts --------------------------------------------------------------------------------


def test_the_search_page_runs_a_bounded_number_of_queries(client, place, django_assert_max_num_queries):
    for n in range(30):
        offer = offer_at(f"Offre {n:02d}", place["at15"], provider_commune=place["centre"], start=n + 1)
        SessionFactory(offer=offer, commune=place["at25"], start=days(n + 50))
        offer.skill_blocks.add(SkillBlockFactory())

    with django_assert_max_num_queries(8):
        response = search(client, commune="Centreville", rayon=50, departement="59", ia="")

    assert len(response.context["page"]) == 20
    assert [c.name for c in response.context["page"][0].communes] == ["Quinzeville", "Vingt-Cinqville"]


def test_the_offer_and_provider_pages_run_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    provider = ProviderFactory()
    offers = [TrainingOfferFactory(provider=provider, certification=CertificationFactory()) for _ in range(6)]
    for offer in offers:
        SessionFactory(offer=offer)
        SessionFactory(offer=offer, commune=CommuneFactory())
        offer.skill_blocks.add(SkillBlockFactory(certification=offer.certification))
        offer.occupations.add(OccupationFactory())

    with django_assert_max_num_queries(7):
        assert client.get(reverse("trainings:offer", args=[offers[0].pk])).status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get(reverse("trainings:provider", args=[provider.pk])).status_code == 200


# --- Offer and provider pages ------------------------------------------------------------------


def test_the_offer_page_shows_everything_a_reader_needs(client):
    certification = CertificationFactory(code="RNCP90010", title="Analyste de données", level=6)
    ai_block = SkillBlockFactory(
        certification=certification, code="RNCP90010BC01", label="Exploiter des données", ai_related=True
    )
    plain_block = SkillBlockFactory(certification=certification, code="RNCP90010BC02", label="Gérer un projet")
    provider = ProviderFactory(name="Institut du Nord", qualiopi=True, qualiopi_date=datetime.date(2022, 3, 1))
    offer = TrainingOfferFactory(
        title="Analyste de données",
        provider=provider,
        certification=certification,
        objectives="Savoir analyser.",
        content="Statistiques, SQL.",
        price=Decimal("1250.00"),
        duration_hours=1400,
        cpf_eligible=True,
        funding="CPF, Région",
        ai_related=True,
    )
    offer.skill_blocks.add(ai_block, plain_block)
    offer.occupations.add(OccupationFactory(code="M1403", label="Études et prospectives socio-économiques"))
    commune = CommuneFactory(name="Douai")
    SessionFactory(offer=offer, commune=commune, start=datetime.date(2099, 9, 7), end=datetime.date(2099, 12, 18))
    SessionFactory(offer=offer, start=days(-30), end=days(-1))  # past: not listed

    response = client.get(reverse("trainings:offer", args=[offer.pk]))

    html = response.content.decode()
    assert "1\u202f250,00\u00a0€" in html
    assert "1\u202f400\u00a0h" in html
    assert "RNCP90010" in html and "niveau 6" in html
    assert "du 7 septembre 2099 au 18 décembre 2099" in html
    assert html.count("<tr>") == 2  # header + the one upcoming session
    assert "Douai" in html and '<td class="num">12</td>' in html
    assert "Savoir analyser." in html and "Statistiques, SQL." in html
    assert "Certifié Qualiopi" in html and "depuis le 1 mars 2022" in html
    assert "Éligible au compte personnel de formation" in html and "CPF, Région" in html
    assert "M1403" in html
    # The AI badge follows the AI block, not the plain one.
    ai_item = re.search(r"<li><span class=\"cat-code\">RNCP90010BC01</span>.*?</li>", html).group(0)
    plain_item = re.search(r"<li><span class=\"cat-code\">RNCP90010BC02</span>.*?</li>", html).group(0)
    assert "IA &amp; données" in ai_item and "IA &amp; données" not in plain_item


def test_an_offer_without_blocks_lists_those_of_its_certification(client):
    certification = CertificationFactory(code="RNCP90020")
    SkillBlockFactory(certification=certification, code="RNCP90020BC01", label="Accueillir")
    offer = TrainingOfferFactory(certification=certification)

    response = client.get(reverse("trainings:offer", args=[offer.pk]))

    assert response.context["whole_certification"] is True
    assert [block.code for block in response.context["blocks"]] == ["RNCP90020BC01"]
    assert "Blocs de compétences de la certification" in response.content.decode()


def test_the_provider_page_lists_its_published_offers(client):
    provider = ProviderFactory(name="Lycée des métiers", website="https://exemple.fr", contact_email="a@exemple.fr")
    TrainingOfferFactory(provider=provider, title="Publiée")
    TrainingOfferFactory(provider=provider, title="Brouillon", status=CurationStatus.DRAFT)

    response = client.get(reverse("trainings:provider", args=[provider.pk]))

    assert [offer.title for offer in response.context["offers"]] == ["Publiée"]
    html = response.content.decode()
    assert "1 formation publiée" in html and "https://exemple.fr" in html and "a@exemple.fr" in html


# --- Suggestions -------------------------------------------------------------------------------


def test_public_suggestions_for_communes_and_occupations(client, place):
    OccupationFactory(code="M1607", label="Secrétariat")

    communes = client.get(reverse("trainings:commune_lookup"), {"q": "quinze"})
    fiches = client.get(reverse("trainings:occupation_lookup"), {"q": "secre"})
    too_short = client.get(reverse("trainings:commune_lookup"), {"q": "q"})

    assert [item["value"] for item in communes.json()] == ["Quinzeville (59015)"]
    assert [item["value"] for item in fiches.json()] == ["Secrétariat (M1607)"]
    assert too_short.json() == []


def test_an_address_saved_before_the_check_never_becomes_a_link(client, curator):
    """Stored XSS: a « javascript: » address saved before imports checked them (written here
    past the model's validators) is shown nowhere as a link, public or curation pages alike."""
    from django.urls import reverse

    from trainings.models import Provider, TrainingOffer

    offer = TrainingOfferFactory(title="Offre piégée")
    hostile = "javascript://%0aalert(document.domain)"
    TrainingOffer.objects.filter(pk=offer.pk).update(url=hostile)
    Provider.objects.filter(pk=offer.provider_id).update(website=hostile)
    pages = [reverse("trainings:offer", args=[offer.pk]), reverse("trainings:provider", args=[offer.provider_id])]
    for url in pages:
        html = client.get(url).content.decode()
        assert 'href="javascript' not in html and "alert(document.domain)" not in html, url
    client.force_login(curator)
    for url in (
        reverse("trainings:curation_offer", args=[offer.pk]),
        reverse("trainings:curation_provider", args=[offer.provider_id]),
    ):
        html = client.get(url).content.decode()
        assert 'href="javascript' not in html, url
        assert "adresse refusée : ni http ni https" in html, url
