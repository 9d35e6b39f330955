"""Verified companies: a claim by SIRET proves nothing, so a company's diagnostics count in
the published statistics only once a curator has approved its owner. Who verifies, what a
claim, an invitation or an approval does to the verification, and the curators' page."""

import pytest
from django.test import Client
from django.urls import reverse

from companies import accounts
from companies.diagnostic import services
from companies.models import Company, CompanyMembership, Diagnostic, JobPosition
from tests.companies.factories import CampaignFactory, CompanyFactory, EstablishmentFactory, JobPositionFactory
from tests.companies.test_accounts import PASSWORD, SIRET, make_user, member_of
from tests.companies.test_diagnostic_services import complete_diagnostic
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.usefixtures("no_grid_recomputation")


Active = CompanyMembership.Status.ACTIVE
Pending = CompanyMembership.Status.PENDING
Owner = CompanyMembership.Role.OWNER
Member = CompanyMembership.Role.MEMBER

BASE_URL = "http://testserver/"
VERIFICATIONS = reverse("accounts:curation_verifications")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def verify_url(company) -> str:
    return reverse("accounts:company_verify", kwargs={"pk": company.pk})


def submitted_diagnostic(company, owner, *, campaign=None):
    """The company's diagnostic, filled and submitted through the services."""
    diagnostic = services.diagnostic_get_or_create_for(
        company=company, campaign=campaign or CampaignFactory(), user=owner
    )
    complete_diagnostic(diagnostic, owner, [OccupationFactory(code="M1607", label="Secrétariat")])
    return services.diagnostic_submit(diagnostic=diagnostic, user=owner, expected_version=diagnostic.version)


def counted_positions() -> set[int]:
    return set(JobPosition.objects.counted_in_statistics().values_list("pk", flat=True))


# --- The rule ------------------------------------------------------------------------------------


def test_only_submitted_diagnostics_of_verified_companies_count(db):
    campaign = CampaignFactory()
    verified, claimed = CompanyFactory(verified=True), CompanyFactory()
    counted = Diagnostic.objects.create(campaign=campaign, company=verified, status=Diagnostic.Status.SUBMITTED)
    Diagnostic.objects.create(campaign=campaign, company=claimed, status=Diagnostic.Status.SUBMITTED)
    Diagnostic.objects.create(campaign=CampaignFactory(year=2025, is_current=False), company=verified)  # a draft
    assert list(Diagnostic.objects.counted_in_statistics()) == [counted]


def test_the_observatorys_own_positions_always_count(db):
    """Imported survey and demo positions are the observatory's data, whoever holds the company."""
    survey = JobPositionFactory()
    demo = JobPositionFactory(source=JobPosition.Source.DEMO)
    assert not survey.establishment.company.is_verified
    assert counted_positions() == {survey.pk, demo.pk}


# --- Claims, invitations, approvals -----------------------------------------------------------------


def test_a_new_company_is_its_claimants_at_once_but_not_verified(db):
    user = make_user("camille@beffroi.fr")
    result = accounts.company_attach(user=user, siret=SIRET, name="Brasserie", base_url=BASE_URL)
    assert (result.membership.role, result.membership.status) == (Owner, Active)
    assert not result.membership.company.is_verified


def test_claiming_a_verified_company_without_members_unverifies_it(
    db, signals_sent, django_capture_on_commit_callbacks
):
    """A demo or imported company that nobody holds is the first claimant's, like a new one:
    the claim proves nothing, so the company stops counting (its observatory positions stay)."""
    establishment = EstablishmentFactory(company=CompanyFactory(verified=True))
    demo = JobPositionFactory(establishment=establishment, source=JobPosition.Source.DEMO)
    user = make_user("intrus@exemple.fr")
    with django_capture_on_commit_callbacks(execute=True):
        accounts.company_attach(user=user, siret=establishment.siret, name="Peu importe", base_url=BASE_URL)
    company = Company.objects.get(pk=establishment.company_id)
    assert company.verified_at is None and company.verified_by is None
    assert CompanyMembership.objects.get(user=user).role == Owner
    assert counted_positions() == {demo.pk}
    assert signals_sent == []  # no diagnostic of the company counted: nothing to recompute


def test_members_invited_by_a_verified_owner_keep_the_company_verified(db, mailoutbox):
    company = CompanyFactory(verified=True)
    owner = member_of(company, "gerante@beffroi.fr")
    _invitation, token = accounts.invitation_create(
        company=company, email="collegue@beffroi.fr", invited_by=owner, base_url=BASE_URL
    )
    invitation = accounts.invitation_for_token(token)
    accounts.invitation_sign_up(invitation=invitation, password=PASSWORD, first_name="Dominique", last_name="V")
    company.refresh_from_db()
    assert company.is_verified
    assert CompanyMembership.objects.filter(company=company, status=Active).count() == 2


def test_an_owner_approving_a_request_keeps_the_verification_as_it_was(db, mailoutbox):
    verified, claimed = CompanyFactory(verified=True), CompanyFactory()
    for company, email in ((verified, "a@verifiee.fr"), (claimed, "b@revendiquee.fr")):
        owner = member_of(company, email)
        request = CompanyMembership.objects.create(user=make_user(f"x{email}"), company=company, status=Pending)
        accounts.membership_approve(membership=request, approved_by=owner, base_url=BASE_URL)
    verified.refresh_from_db()
    claimed.refresh_from_db()
    assert verified.is_verified and not claimed.is_verified


def test_a_curator_approving_the_first_owner_verifies_the_company(db, curator, mailoutbox):
    company = CompanyFactory()
    request = CompanyMembership.objects.create(user=make_user("seul@delattre.fr"), company=company, status=Pending)
    response = logged_in(curator).post(reverse("accounts:membership_approve", kwargs={"pk": request.pk}))
    assert response.status_code == 302
    request.refresh_from_db()
    company.refresh_from_db()
    assert (request.role, request.status) == (Owner, Active)
    assert company.is_verified and company.verified_by == curator


# --- A curator verifies ---------------------------------------------------------------------------


@pytest.fixture
def claimed(db):
    """A company claimed by SIRET, whose owner submitted a diagnostic."""
    company = CompanyFactory(name="Menuiserie Delattre")
    owner = member_of(company, "patron@delattre.fr")
    diagnostic = submitted_diagnostic(company, owner)
    return {"company": company, "owner": owner, "diagnostic": diagnostic}


def test_a_verified_company_counts_and_the_grid_is_recomputed(
    claimed, curator, signals_sent, django_capture_on_commit_callbacks
):
    company = claimed["company"]
    positions = set(JobPosition.objects.filter(diagnostic=claimed["diagnostic"]).values_list("pk", flat=True))
    assert positions and not counted_positions() & positions
    assert signals_sent == []  # the unverified submission asked for no recomputation

    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(curator).post(verify_url(company), {"next": VERIFICATIONS + "?page=1"})

    assert response.status_code == 302 and response.url == VERIFICATIONS + "?page=1"
    company.refresh_from_db()
    assert company.is_verified and company.verified_by == curator
    assert positions <= counted_positions()
    assert list(Diagnostic.objects.counted_in_statistics()) == [claimed["diagnostic"]]
    assert signals_sent == [{"sender": Company, "source": "company_verification", "positions": 1}]


def test_verifying_twice_says_so_and_changes_nothing(claimed, curator, superuser):
    logged_in(curator).post(verify_url(claimed["company"]))
    first = Company.objects.get(pk=claimed["company"].pk).verified_at
    response = logged_in(superuser).post(verify_url(claimed["company"]), follow=True)
    assert "Cette entreprise a déjà été vérifiée." in response.content.decode()
    company = Company.objects.get(pk=claimed["company"].pk)
    assert company.verified_at == first and company.verified_by == curator


def test_only_curators_and_superusers_verify(client, claimed, analyst, plain_user):
    url = verify_url(claimed["company"])
    assert client.post(url).status_code == 302  # to the login page
    for person in (claimed["owner"], analyst, plain_user):
        assert logged_in(person).post(url).status_code == 403
        assert logged_in(person).get(VERIFICATIONS).status_code == 403
    assert not Company.objects.verified().exists()
    with pytest.raises(accounts.AccountError):
        accounts.company_verify(company=claimed["company"], verified_by=claimed["owner"])


def test_verifying_needs_a_post(claimed, curator):
    assert logged_in(curator).get(verify_url(claimed["company"])).status_code == 405
    assert not Company.objects.verified().exists()


def test_an_outside_next_address_is_ignored(claimed, curator):
    response = logged_in(curator).post(verify_url(claimed["company"]), {"next": "https://ailleurs.example/piege"})
    assert response.url == VERIFICATIONS


def test_the_page_lists_the_companies_to_verify_oldest_claim_first(claimed, curator, django_assert_max_num_queries):
    later = CompanyFactory(name="Brasserie du Beffroi")
    member_of(later, "gerante@beffroi.fr")
    EstablishmentFactory(company=later)
    verified = CompanyFactory(name="Déjà vérifiée", verified=True)
    member_of(verified, "ok@verifiee.fr")
    CompanyFactory(name="Sans membre")
    client = logged_in(curator)

    # Session, user, roles; the tabs' two counts; the page's count, rows and two prefetches.
    with django_assert_max_num_queries(10):
        response = client.get(VERIFICATIONS)

    page = list(response.context["page"])
    assert [company.name for company in page] == ["Menuiserie Delattre", "Brasserie du Beffroi"]
    assert [company.submitted_diagnostics for company in page] == [1, 0]
    html = response.content.decode()
    assert "patron@delattre.fr" in html and "gerante@beffroi.fr" in html and "ok@verifiee.fr" not in html
    assert "1 diagnostic envoyé, en attente de vérification" in html
    assert "62.01Z — Programmation informatique" in html  # the establishment the owner named
    assert 'Entreprises à vérifier <span class="cur-count">2</span>' in html
    assert verify_url(claimed["company"]) in html


def test_the_companies_list_says_which_are_verified(claimed, curator):
    verified = CompanyFactory(name="Déjà vérifiée", verified=True)
    member_of(verified, "ok@verifiee.fr")
    html = logged_in(curator).get(reverse("accounts:curation_companies")).content.decode()
    assert html.count("À vérifier : ne compte pas encore") == 1 and html.count(">Vérifiée<") == 1
