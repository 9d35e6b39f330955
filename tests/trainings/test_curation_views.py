"""The catalogue's curation pages: who may open them, the queue with its filters and bulk
decisions, an offer's and a provider's page with the decision form and the history, and the
AI-flag controls."""

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from companies.models import CompanyMembership
from tests.companies.factories import CompanyFactory
from tests.skills.factories import CertificationFactory, SkillBlockFactory
from tests.trainings.factories import ProviderFactory, SessionFactory, TrainingOfferFactory
from trainings import services
from trainings.models import CurationEvent, CurationStatus, ImportJob, TrainingOffer

S = CurationStatus
QUEUE = reverse("trainings:curation_queue")
PROVIDERS = reverse("trainings:curation_providers")
IMPORTS = reverse("trainings:curation_imports")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_grid_recomputation(settings):
    settings.OBSERVATORY_AUTO_RECOMPUTE = False


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_text(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def company_member(db):
    user = get_user_model().objects.create_user(username="membre@brasserie.example", password="Beffroi-Arras-2026")
    CompanyMembership.objects.create(
        user=user, company=CompanyFactory(), role=CompanyMembership.Role.OWNER, status=CompanyMembership.Status.ACTIVE
    )
    return user


@pytest.fixture
def catalogue(db):
    """One provider waiting, one published with offers at every status, and a skills block."""
    waiting_provider = ProviderFactory(status=S.SUBMITTED, name="Campus Nord Numérique")
    provider = ProviderFactory(status=S.PUBLISHED, name="Lycée Baggio")
    certification = CertificationFactory(code="RNCP37827", title="Data analyst")
    block = SkillBlockFactory(
        certification=certification, code="RNCP37827BC01", label="Exploiter des modèles de machine learning"
    )
    submitted = TrainingOfferFactory(
        provider=provider,
        status=S.SUBMITTED,
        title="Analyste de données en PME",
        objectives="Maîtriser l'analyse de données.",
        content="SQL et tableaux de bord.",
        certification=certification,
        lheo_number="HDF-0001",
        price="2100.00",
        duration_hours=140,
    )
    submitted.skill_blocks.add(block)
    SessionFactory(offer=submitted)
    draft = TrainingOfferFactory(provider=provider, status=S.DRAFT, title="Tableur pour l'atelier")
    published = TrainingOfferFactory(provider=provider, status=S.PUBLISHED, title="Soudure TIG")
    orphan = TrainingOfferFactory(provider=waiting_provider, status=S.SUBMITTED, title="Prompt et IA générative")
    return {
        "waiting_provider": waiting_provider,
        "provider": provider,
        "block": block,
        "submitted": submitted,
        "draft": draft,
        "published": published,
        "orphan": orphan,
    }


# --- Access -----------------------------------------------------------------------------------


def routes(catalogue, job):
    offer, provider, block = catalogue["submitted"].pk, catalogue["provider"].pk, catalogue["block"].pk
    return [
        ("get", QUEUE),
        ("post", QUEUE),
        ("get", PROVIDERS),
        ("get", reverse("trainings:curation_offer", args=[offer])),
        ("post", reverse("trainings:curation_offer", args=[offer])),
        ("post", reverse("trainings:curation_offer_ai_flag", args=[offer])),
        ("post", reverse("trainings:curation_skill_block_ai_flag", args=[block])),
        ("get", reverse("trainings:curation_provider", args=[provider])),
        ("post", reverse("trainings:curation_provider", args=[provider])),
        ("get", IMPORTS),
        ("post", IMPORTS),
        ("get", reverse("trainings:curation_import_job", args=[job.pk])),
        ("get", reverse("trainings:curation_import_progress", args=[job.pk])),
    ]


@pytest.fixture
def job(curator):
    return ImportJob.objects.create(kind="lheo", filename="offres.xml", payload=b"<lheo/>", created_by=curator)


def test_anonymous_visitors_are_sent_to_the_login_page(client, catalogue, job):
    for method, url in routes(catalogue, job):
        response = getattr(client, method)(url, {"action": "approve", "offers": [catalogue["submitted"].pk]})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url
    assert catalogue["submitted"].curation_events.count() == 0


@pytest.mark.parametrize("who", ["plain_user", "analyst", "company_member"])
def test_other_logged_in_people_are_refused(request, catalogue, job, who):
    client = logged_in(request.getfixturevalue(who))
    for method, url in routes(catalogue, job):
        data = {"action": "approve", "offers": [catalogue["submitted"].pk], "ai_related": "0"}
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, url
    # Nothing was decided on their behalf.
    assert not CurationEvent.objects.exists()
    assert TrainingOffer.objects.get(pk=catalogue["submitted"].pk).status == S.SUBMITTED


@pytest.mark.parametrize("who", ["curator", "superuser"])
def test_curators_and_superusers_open_every_page(request, catalogue, job, who):
    client = logged_in(request.getfixturevalue(who))
    for method, url in routes(catalogue, job):
        if method == "get":
            assert client.get(url).status_code == 200, url


def test_the_companies_curation_tabs_lead_to_the_catalogue(curator):
    html = logged_in(curator).get(reverse("accounts:curation_companies")).content.decode()
    assert f'<a href="{QUEUE}" >Catalogue</a>' in html


def test_the_catalogue_tab_is_current_on_the_catalogue_pages(curator, catalogue):
    html = logged_in(curator).get(QUEUE).content.decode()
    assert f'<a href="{QUEUE}" aria-current="page">Catalogue</a>' in html


# --- The queue -----------------------------------------------------------------------------------


def titles(response) -> list[str]:
    return [offer.title for offer in response.context["page"]]


def test_queue_lists_what_waits_oldest_change_first(curator, catalogue):
    response = logged_in(curator).get(QUEUE)
    assert titles(response) == ["Analyste de données en PME", "Tableur pour l'atelier", "Prompt et IA générative"]
    html = page_text(response)
    assert "3 offres" in html
    assert "Organisme non publié (soumise)" in html  # the orphan cannot be approved yet
    assert "Tout afficher" not in html  # nothing is filtered out
    assert response.context["counts"] == {"offers": 3, "providers": 1}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"statut": "submitted"}, ["Analyste de données en PME", "Prompt et IA générative"]),
        ({"statut": "draft"}, ["Tableur pour l'atelier"]),
        ({"statut": "published"}, ["Soudure TIG"]),
        ({"q": "tableur"}, ["Tableur pour l'atelier"]),
        ({"ia": "oui"}, ["Prompt et IA générative"]),
        ({"ia": "non"}, ["Analyste de données en PME", "Tableur pour l'atelier"]),
    ],
)
def test_queue_filters(curator, catalogue, query, expected):
    TrainingOffer.objects.filter(pk=catalogue["orphan"].pk).update(ai_related=True)
    response = logged_in(curator).get(QUEUE, query)
    assert titles(response) == expected
    assert "Tout afficher" in response.content.decode()


def test_queue_filters_by_provider(curator, catalogue):
    response = logged_in(curator).get(QUEUE, {"organisme": catalogue["waiting_provider"].pk})
    assert titles(response) == ["Prompt et IA générative"]


def test_queue_is_paginated(curator, catalogue):
    for index in range(30):
        TrainingOfferFactory(provider=catalogue["provider"], status=S.SUBMITTED, title=f"Offre {index:02d}")
    client = logged_in(curator)
    first, second = client.get(QUEUE), client.get(QUEUE, {"page": 2})
    assert len(first.context["page"]) == 25 and len(second.context["page"]) == 8
    assert "Page 1 sur 2" in first.content.decode()


def test_queue_runs_a_bounded_number_of_queries(curator, catalogue, django_assert_max_num_queries):
    client = logged_in(curator)
    client.get(QUEUE)  # warm the session and the user's groups
    with django_assert_max_num_queries(10) as few:
        client.get(QUEUE)
    for _ in range(40):
        offer = TrainingOfferFactory(
            provider=ProviderFactory(status=S.PUBLISHED),
            status=S.SUBMITTED,
            certification=CertificationFactory(),
        )
        SessionFactory(offer=offer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(QUEUE)
    assert len(response.context["page"]) == 25


def test_bulk_approve_publishes_the_ticked_offers_and_says_what_it_skipped(curator, catalogue):
    submitted, draft, orphan = catalogue["submitted"], catalogue["draft"], catalogue["orphan"]
    response = logged_in(curator).post(
        QUEUE + "?statut=a_traiter", {"offers": [submitted.pk, draft.pk, orphan.pk], "action": "approve"}, follow=True
    )

    assert response.redirect_chain == [(QUEUE + "?statut=a_traiter", 302)]
    statuses = dict(TrainingOffer.objects.values_list("title", "status"))
    assert statuses["Analyste de données en PME"] == S.PUBLISHED
    assert statuses["Tableur pour l'atelier"] == S.PUBLISHED
    assert statuses["Prompt et IA générative"] == S.SUBMITTED
    html = page_text(response)
    assert "2 offre(s) traitée(s) : « approuver »." in html
    assert "1 offre(s) laissée(s) telle(s) quelle(s) : « Prompt et IA générative » : son organisme" in html
    assert set(CurationEvent.objects.values_list("offer__title", "user")) == {
        ("Analyste de données en PME", curator.pk),
        ("Tableur pour l'atelier", curator.pk),
    }


def test_bulk_reject_without_reason_comes_back_with_the_ticks_kept(curator, catalogue):
    submitted, draft = catalogue["submitted"], catalogue["draft"]
    response = logged_in(curator).post(QUEUE, {"offers": [submitted.pk, draft.pk], "action": "reject", "reason": " "})

    assert response.status_code == 400
    html = page_text(response)
    assert "Indiquez le motif : il est obligatoire pour refuser ou demander des modifications." in html
    assert response.context["ticked"] == {submitted.pk, draft.pk}
    assert re.search(rf'name="offers" value="{submitted.pk}" id="offer-{submitted.pk}" checked', html)
    assert not re.search(rf'name="offers" value="{catalogue["orphan"].pk}"[^>]* checked', html)
    assert set(TrainingOffer.objects.filter(pk__in=[submitted.pk, draft.pk]).values_list("status", flat=True)) == {
        S.SUBMITTED,
        S.DRAFT,
    }


def test_bulk_reject_with_reason(curator, catalogue):
    submitted = catalogue["submitted"]
    logged_in(curator).post(QUEUE, {"offers": [submitted.pk], "action": "reject", "reason": "Hors du champ IA"})
    submitted.refresh_from_db()
    assert submitted.status == S.REJECTED
    assert submitted.curation_events.get().reason == "Hors du champ IA"


def test_bulk_without_ticks_or_action_is_refused(curator, catalogue):
    response = logged_in(curator).post(QUEUE, {"action": ""})
    assert response.status_code == 400
    html = page_text(response)
    assert "Cochez au moins une offre." in html and "Choisissez une décision." in html


def test_bulk_cannot_archive(curator, catalogue):
    response = logged_in(curator).post(QUEUE, {"offers": [catalogue["submitted"].pk], "action": "archive"})
    assert response.status_code == 400
    assert TrainingOffer.objects.get(pk=catalogue["submitted"].pk).status == S.SUBMITTED


def test_providers_tab_searches_by_name_or_siret(curator, catalogue):
    other = ProviderFactory(status=S.DRAFT, name="AFPA Roubaix")
    client = logged_in(curator)
    assert [p.name for p in client.get(PROVIDERS, {"q": "roubaix"}).context["page"]] == ["AFPA Roubaix"]
    assert [p.name for p in client.get(PROVIDERS, {"q": other.siret}).context["page"]] == ["AFPA Roubaix"]


def test_providers_tab_lists_providers_waiting(curator, catalogue):
    response = logged_in(curator).get(PROVIDERS)
    assert [p.name for p in response.context["page"]] == ["Campus Nord Numérique"]
    html = page_text(response)
    assert "1 organisme à traiter" in html and "dont 1 à traiter" in html


# --- An offer's page ---------------------------------------------------------------------------


def offer_url(offer):
    return reverse("trainings:curation_offer", args=[offer.pk])


def test_offer_page_shows_the_offer_its_sessions_blocks_rule_and_history(curator, catalogue):
    offer = catalogue["submitted"]
    services.offer_decide(offer=offer, user=curator, action="request_changes", reason="Préciser le public visé")

    response = logged_in(curator).get(offer_url(offer))
    html = page_text(response)

    assert response.status_code == 200
    for text in (
        "Analyste de données en PME",
        "Lycée Baggio",
        "HDF-0001",
        "140 heures",
        "2\u202f100,00\u00a0€ TTC",
        "Maîtriser l'analyse de données.",
        "RNCP37827",
        "RNCP37827BC01",
        "Exploiter des modèles de machine learning",
        "la règle relève « machine learning »",
        "La règle relève l'expression « analyse de donnees »",
        "Modifications demandées",
        "Préciser le public visé",
        "par curateur",
    ):
        assert text in html, text
    assert [a["value"] for a in response.context["actions"]] == ["approve", "reject", "archive"]
    assert len(response.context["offer"].sessions.all()) == 1


def test_offer_page_runs_a_bounded_number_of_queries(curator, catalogue, django_assert_max_num_queries):
    offer = catalogue["submitted"]
    client = logged_in(curator)
    client.get(offer_url(offer))
    with django_assert_max_num_queries(12) as few:
        client.get(offer_url(offer))
    for index in range(10):
        SessionFactory(offer=offer)
        offer.skill_blocks.add(SkillBlockFactory(certification=offer.certification))
        services.offer_set_ai_flag(offer=offer, user=curator, ai_related=bool(index % 2))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(offer_url(offer))


def test_approving_from_the_offer_page(curator, catalogue):
    offer = catalogue["submitted"]
    response = logged_in(curator).post(offer_url(offer), {"action": "approve", "reason": ""}, follow=True)

    assert response.redirect_chain == [(offer_url(offer), 302)]
    offer.refresh_from_db()
    assert offer.status == S.PUBLISHED
    html = page_text(response)
    assert "« Analyste de données en PME » : nouveau statut « publiée »." in html
    assert [a["value"] for a in response.context["actions"]] == ["request_changes", "archive"]


@pytest.mark.parametrize("action", ["reject", "request_changes"])
def test_reason_is_required_and_the_form_comes_back(curator, catalogue, action):
    offer = catalogue["submitted"]
    response = logged_in(curator).post(offer_url(offer), {"action": action, "reason": ""})

    assert response.status_code == 400
    assert "Indiquez le motif : il est obligatoire" in page_text(response)
    assert 'aria-invalid="true"' in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == S.SUBMITTED and not offer.curation_events.exists()


def test_a_refused_decision_comes_back_with_the_reason_intact(curator, catalogue):
    orphan = catalogue["orphan"]
    reason = "Vu avec l'organisme le 3 mars <ok>"
    response = logged_in(curator).post(offer_url(orphan), {"action": "approve", "reason": reason})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Vu avec l&#x27;organisme le 3 mars &lt;ok&gt;</textarea>" in html
    assert "son organisme « Campus Nord Numérique » n'est pas publié" in page_text(response)
    orphan.refresh_from_db()
    assert orphan.status == S.SUBMITTED


def test_an_impossible_transition_is_explained(curator, catalogue):
    published = catalogue["published"]
    response = logged_in(curator).post(offer_url(published), {"action": "reject", "reason": "Erreur"})
    assert response.status_code == 400
    assert "« Soudure TIG » (statut actuel : Publiée) : seule une fiche soumise" in page_text(response)


def test_unknown_offer_is_404(curator):
    assert logged_in(curator).get(reverse("trainings:curation_offer", args=[999])).status_code == 404


def test_ai_flag_override_from_the_offer_page(curator, catalogue):
    offer = catalogue["submitted"]
    TrainingOffer.objects.filter(pk=offer.pk).update(ai_related=True)
    client = logged_in(curator)

    response = client.post(reverse("trainings:curation_offer_ai_flag", args=[offer.pk]), {"ai_related": "0"})

    assert response.status_code == 302 and response["Location"] == offer_url(offer)
    offer.refresh_from_db()
    assert (offer.ai_related, offer.ai_related_by_curator) == (False, True)
    html = page_text(client.get(offer_url(offer)))
    assert "Fixé par la curation : la règle ne le change plus." in html
    assert "Lien avec l'IA retiré (la règle relevait « analyse de donnees »)." in html


def test_ai_flag_needs_a_choice(curator, catalogue):
    offer = catalogue["submitted"]
    logged_in(curator).post(reverse("trainings:curation_offer_ai_flag", args=[offer.pk]), {"ai_related": "peut-être"})
    offer.refresh_from_db()
    assert offer.ai_related_by_curator is False


def test_skill_block_ai_flag_goes_back_to_the_offer(curator, catalogue):
    block, offer = catalogue["block"], catalogue["submitted"]
    response = logged_in(curator).post(
        reverse("trainings:curation_skill_block_ai_flag", args=[block.pk]),
        {"ai_related": "0", "next": offer_url(offer)},
    )
    assert response["Location"] == offer_url(offer)
    block.refresh_from_db()
    assert (block.ai_related, block.ai_related_by_curator) == (False, True)


def test_skill_block_ai_flag_ignores_a_foreign_next(curator, catalogue):
    response = logged_in(curator).post(
        reverse("trainings:curation_skill_block_ai_flag", args=[catalogue["block"].pk]),
        {"ai_related": "1", "next": "https://ailleurs.example/"},
    )
    assert response["Location"] == QUEUE


# --- A provider's page ---------------------------------------------------------------------------


def provider_url(provider):
    return reverse("trainings:curation_provider", args=[provider.pk])


def test_provider_page_and_its_approval(curator, catalogue):
    provider = catalogue["waiting_provider"]
    client = logged_in(curator)
    html = page_text(client.get(provider_url(provider)))
    assert "Campus Nord Numérique" in html and provider.siret in html and "Prompt et IA générative" in html

    response = client.post(provider_url(provider), {"action": "approve"}, follow=True)

    provider.refresh_from_db()
    assert provider.status == S.PUBLISHED
    html = page_text(response)
    assert "Approuvée" in html and "par curateur" in html


def test_archiving_a_provider_takes_its_published_offers_with_it(curator, catalogue):
    provider = catalogue["provider"]
    client = logged_in(curator)
    assert "retire aussi du catalogue ses 1 offre publiée" in page_text(client.get(provider_url(provider)))

    client.post(provider_url(provider), {"action": "archive", "reason": "Cessation d'activité"})

    assert TrainingOffer.objects.get(pk=catalogue["published"].pk).status == S.ARCHIVED
    assert TrainingOffer.objects.get(pk=catalogue["submitted"].pk).status == S.SUBMITTED


def test_provider_reject_without_reason_comes_back(curator, catalogue):
    provider = catalogue["waiting_provider"]
    response = logged_in(curator).post(provider_url(provider), {"action": "reject", "reason": ""})
    assert response.status_code == 400
    provider.refresh_from_db()
    assert provider.status == S.SUBMITTED


def test_provider_page_runs_a_bounded_number_of_queries(curator, catalogue, django_assert_max_num_queries):
    provider = catalogue["provider"]
    client = logged_in(curator)
    client.get(provider_url(provider))
    with django_assert_max_num_queries(12) as few:
        client.get(provider_url(provider))
    for _ in range(20):
        TrainingOfferFactory(provider=provider, status=S.SUBMITTED, certification=CertificationFactory())
    services.provider_decide(provider=provider, user=curator, action="request_changes", reason="NDA")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(provider_url(provider))
