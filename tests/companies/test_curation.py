"""The curators' view: companies with their diagnostics' progress, and the queue of
membership requests. Curators and superusers only."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from companies.diagnostic.services import JOBS, MATURITY, REVIEW
from companies.models import Campaign, CompanyMembership, Diagnostic, DiagnosticJob
from tests.companies.factories import CompanyFactory
from tests.skills.factories import OccupationFactory

Active = CompanyMembership.Status.ACTIVE
Pending = CompanyMembership.Status.PENDING
Owner = CompanyMembership.Role.OWNER
Member = CompanyMembership.Role.MEMBER

COMPANIES = reverse("accounts:curation_companies")
QUEUE = reverse("accounts:curation_memberships")


def make_user(email, **extra):
    return get_user_model().objects.create_user(
        username=email, email=email, password="Beffroi-Arras-2026", first_name="Camille", last_name="Lefebvre", **extra
    )


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def campaign(year, *, current=False):
    return Campaign.objects.create(
        year=year,
        name=f"Campagne {year}",
        opens_on=datetime.date(year, 1, 1),
        closes_on=datetime.date(year, 12, 31),
        is_current=current,
    )


def diagnostic(company, wave, *, status=Diagnostic.Status.DRAFT, last_step="", jobs=0):
    diag = Diagnostic.objects.create(
        campaign=wave,
        company=company,
        status=status,
        last_step=last_step,
        submitted_at=timezone.now() if status == Diagnostic.Status.SUBMITTED else None,
    )
    for index in range(jobs):
        DiagnosticJob.objects.create(
            diagnostic=diag,
            occupation=OccupationFactory(code=f"M16{index:02d}"),
            headcount=3 + index,
            rc=40,
            rm=10,
            nra=20,
            nri=20,
            nrm=10,
            position=index,
        )
    return diag


@pytest.fixture
def current(db):
    return campaign(2026, current=True)


@pytest.fixture
def landscape(current):
    """Four companies taking part, at every stage, and one that does not."""
    submitted = CompanyFactory(name="Brasserie du Beffroi")
    drafting = CompanyFactory(name="Menuiserie Delattre")
    fresh = CompanyFactory(name="Pharmacie Lemaire")
    waiting = CompanyFactory(name="Transports Vasseur")
    CompanyFactory(name="Boulangerie Sans Compte")
    for company, email in [
        (submitted, "a@beffroi.fr"),
        (drafting, "b@delattre.fr"),
        (fresh, "c@lemaire.fr"),
        (waiting, "d@vasseur.fr"),
    ]:
        CompanyMembership.objects.create(user=make_user(email), company=company, role=Owner, status=Active)
    CompanyMembership.objects.create(user=make_user("e@vasseur.fr"), company=waiting, status=Pending)
    diagnostic(submitted, current, status=Diagnostic.Status.SUBMITTED, last_step=REVIEW, jobs=3)
    diagnostic(drafting, current, last_step=MATURITY, jobs=1)
    diagnostic(fresh, campaign(2025), status=Diagnostic.Status.SUBMITTED, last_step=REVIEW, jobs=2)
    return {"submitted": submitted, "drafting": drafting, "fresh": fresh, "waiting": waiting}


def rows(response) -> list[str]:
    return [company.name for company in response.context["page"]]


# --- Access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [COMPANIES, QUEUE])
def test_only_curators_and_superusers_see_the_curation_pages(db, url, curator, superuser, analyst, plain_user):
    company = CompanyFactory()
    owner = make_user("gerant@entreprise.fr")
    CompanyMembership.objects.create(user=owner, company=company, role=Owner, status=Active)

    assert logged_in(curator).get(url).status_code == 200
    assert logged_in(superuser).get(url).status_code == 200
    for refused in (analyst, plain_user, owner):
        assert logged_in(refused).get(url).status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))


# --- Companies and diagnostics -------------------------------------------------------------------------


def test_the_list_shows_each_company_with_its_diagnostic_progress(curator, landscape):
    response = logged_in(curator).get(COMPANIES)

    assert rows(response) == ["Brasserie du Beffroi", "Menuiserie Delattre", "Pharmacie Lemaire", "Transports Vasseur"]
    by_name = {company.name: company for company in response.context["page"]}
    assert (by_name["Brasserie du Beffroi"].diagnostic_status, by_name["Brasserie du Beffroi"].diagnostic_jobs) == (
        "submitted",
        3,
    )
    drafting = by_name["Menuiserie Delattre"]
    assert (drafting.diagnostic_status, drafting.diagnostic_jobs) == ("draft", 1)
    assert drafting.progress == {"number": 2, "total": 4, "label": "Maturité IA"}
    # Last year's diagnostic does not count for this campaign.
    assert by_name["Pharmacie Lemaire"].diagnostic_status is None
    assert (by_name["Transports Vasseur"].active_members, by_name["Transports Vasseur"].pending_members) == (1, 1)
    html = response.content.decode()
    assert "Étape 2 sur 4\u00a0: Maturité IA" in html and "1 demande en attente" in html
    assert "Boulangerie Sans Compte" not in html  # not taking part


@pytest.mark.parametrize(
    ("progress", "expected"),
    [
        ("submitted", ["Brasserie du Beffroi"]),
        ("draft", ["Menuiserie Delattre"]),
        ("none", ["Pharmacie Lemaire", "Transports Vasseur"]),
        ("", ["Brasserie du Beffroi", "Menuiserie Delattre", "Pharmacie Lemaire", "Transports Vasseur"]),
    ],
)
def test_the_list_filters_by_diagnostic_status(curator, landscape, progress, expected):
    assert rows(logged_in(curator).get(COMPANIES, {"avancement": progress})) == expected


def test_the_list_searches_by_name_and_by_siren_or_siret(curator, landscape):
    client = logged_in(curator)
    siren = landscape["drafting"].siren
    assert rows(client.get(COMPANIES, {"q": "delattre"})) == ["Menuiserie Delattre"]
    assert rows(client.get(COMPANIES, {"q": siren})) == ["Menuiserie Delattre"]
    assert rows(client.get(COMPANIES, {"q": f"{siren[:3]} {siren[3:6]} {siren[6:]} 00012"})) == ["Menuiserie Delattre"]
    empty = client.get(COMPANIES, {"q": "introuvable"})
    assert rows(empty) == [] and "Aucune entreprise ne correspond" in empty.content.decode()


def test_another_campaign_can_be_chosen(curator, landscape):
    response = logged_in(curator).get(COMPANIES, {"campagne": "2025", "avancement": "submitted"})
    assert rows(response) == ["Pharmacie Lemaire"]
    assert '<option value="2025" selected>' in response.content.decode()


def test_unknown_filter_values_fall_back_to_the_whole_current_list(curator, landscape):
    response = logged_in(curator).get(COMPANIES, {"campagne": "1999", "avancement": "nimporte"})
    assert response.status_code == 200 and len(rows(response)) == 4


def test_the_list_is_paginated_in_a_bounded_number_of_queries(curator, current, django_assert_max_num_queries):
    for index in range(30):
        company = CompanyFactory(name=f"Entreprise {index:02d}")
        CompanyMembership.objects.create(user=make_user(f"p{index}@x.fr"), company=company, role=Owner, status=Active)
        diagnostic(company, current, last_step=JOBS, jobs=index % 3)
    client = logged_in(curator)

    # One more than before for the tab's count of companies to verify.
    with django_assert_max_num_queries(11):
        first = client.get(COMPANIES, {"avancement": "draft"})
    with django_assert_max_num_queries(11):
        second = client.get(COMPANIES, {"avancement": "draft", "page": "2"})

    assert len(rows(first)) == 25 and len(rows(second)) == 5
    html = first.content.decode()
    assert "Page 1 sur 2" in html and "avancement=draft&amp;page=2" in html
    assert client.get(COMPANIES, {"page": "999"}).status_code == 200  # past the end: the last page


# --- The queue of requests ---------------------------------------------------------------------------


@pytest.fixture
def requests_(current):
    company = CompanyFactory(name="Brasserie du Beffroi")
    CompanyMembership.objects.create(user=make_user("gerante@beffroi.fr"), company=company, role=Owner, status=Active)
    joining = CompanyMembership.objects.create(
        user=make_user("dominique@beffroi.fr", **{}), company=company, status=Pending
    )
    orphan_company = CompanyFactory(name="Menuiserie Delattre")
    orphan = CompanyMembership.objects.create(
        user=make_user("seul@delattre.fr"), company=orphan_company, status=Pending
    )
    return {"joining": joining, "orphan": orphan}


def test_the_queue_lists_pending_requests_oldest_first(curator, requests_, django_assert_max_num_queries):
    client = logged_in(curator)
    with django_assert_max_num_queries(8):
        response = client.get(QUEUE)

    page = list(response.context["page"])
    assert [m.pk for m in page] == [requests_["joining"].pk, requests_["orphan"].pk]
    assert [m.active_members for m in page] == [1, 0]
    html = response.content.decode()
    assert "dominique@beffroi.fr" in html and "la personne en deviendrait responsable" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_a_curator_approves_a_request_and_returns_to_the_queue(curator, requests_, mailoutbox):
    joining = requests_["joining"]
    response = logged_in(curator).post(
        reverse("accounts:membership_approve", kwargs={"pk": joining.pk}), {"next": QUEUE + "?page=1"}
    )

    assert response.status_code == 302 and response.url == QUEUE + "?page=1"
    joining.refresh_from_db()
    assert (joining.status, joining.role) == (Active, Member)
    assert mailoutbox[0].to == ["dominique@beffroi.fr"]


def test_a_request_for_a_company_without_members_makes_an_owner(curator, requests_):
    orphan = requests_["orphan"]
    logged_in(curator).post(reverse("accounts:membership_approve", kwargs={"pk": orphan.pk}))
    orphan.refresh_from_db()
    assert (orphan.status, orphan.role) == (Active, Owner)


def test_a_curator_refuses_a_request(curator, requests_, mailoutbox):
    joining = requests_["joining"]
    response = logged_in(curator).post(reverse("accounts:membership_refuse", kwargs={"pk": joining.pk}))

    assert response.status_code == 302 and response.url == QUEUE  # curators are sent back to the queue
    assert not CompanyMembership.objects.filter(pk=joining.pk).exists()
    assert "n'a pas été acceptée" in mailoutbox[0].body


def test_an_outside_next_address_is_ignored(curator, requests_):
    response = logged_in(curator).post(
        reverse("accounts:membership_approve", kwargs={"pk": requests_["joining"].pk}),
        {"next": "https://ailleurs.example/piege"},
    )
    assert response.url == QUEUE


def test_analysts_and_members_cannot_decide_from_the_queue(analyst, plain_user, requests_):
    owner = CompanyMembership.objects.get(user__email="gerante@beffroi.fr").user
    for person, request in [(analyst, "joining"), (plain_user, "joining"), (owner, "orphan")]:
        pk = requests_[request].pk
        for name in ("accounts:membership_approve", "accounts:membership_refuse"):
            assert logged_in(person).post(reverse(name, kwargs={"pk": pk})).status_code == 404
    assert CompanyMembership.objects.filter(status=Pending).count() == 2


def test_curation_links_and_counts(curator, requests_):
    html = logged_in(curator).get(COMPANIES).content.decode()
    assert re.search(r"Demandes d'adhésion <span class=\"cur-count\">2</span>", html)
