"""Owners managing their members: removing a member, making a member owner too, handing the
owner role over, and leaving a company. Every action through the pages with real users,
the people who must be refused, and the rule that a company never loses its last owner,
also when two people act at once."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from companies import accounts
from companies.models import Campaign, CompanyMembership, Diagnostic
from tests.companies.factories import CompanyFactory

PASSWORD = "Beffroi-Arras-2026"
Active = CompanyMembership.Status.ACTIVE
Pending = CompanyMembership.Status.PENDING
Owner = CompanyMembership.Role.OWNER
Member = CompanyMembership.Role.MEMBER


def make_user(email, first_name, last_name):
    return get_user_model().objects.create_user(
        username=email, email=email, password=PASSWORD, first_name=first_name, last_name=last_name
    )


def join(company, user, role=Member, status=Active):
    return CompanyMembership.objects.create(user=user, company=company, role=role, status=status)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def roles(company) -> dict[str, str]:
    """{e-mail: role} of the company's active members."""
    return dict(CompanyMembership.objects.filter(company=company, status=Active).values_list("user__email", "role"))


def url(name, company, membership=None):
    kwargs = {"pk": company.pk}
    if membership is not None:
        kwargs["membership_pk"] = membership.pk
    return reverse(f"accounts:{name}", kwargs=kwargs)


@pytest.fixture
def company(db):
    return CompanyFactory(name="Brasserie du Beffroi")


@pytest.fixture
def other_company(db):
    return CompanyFactory(name="Menuiserie Delattre")


@pytest.fixture
def owner(company):
    user = make_user("gerante@beffroi.fr", "Hélène", "Caron")
    join(company, user, role=Owner)
    return user


@pytest.fixture
def colleague(company):
    user = make_user("colette@beffroi.fr", "Colette", "Durand")
    join(company, user)
    return user


@pytest.fixture
def colleague_membership(colleague, company):
    return CompanyMembership.objects.get(user=colleague, company=company)


@pytest.fixture
def other_owner(other_company):
    user = make_user("patron@delattre.fr", "Marc", "Delattre")
    join(other_company, user, role=Owner)
    return user


@pytest.fixture
def diagnostic(company):
    """A diagnostic sent for a past campaign: its summary page is readable by the members."""
    campaign = Campaign.objects.create(
        year=2025,
        name="Campagne 2025",
        opens_on=timezone.datetime(2025, 1, 1).date(),
        closes_on=timezone.datetime(2025, 12, 31).date(),
    )
    return Diagnostic.objects.create(
        campaign=campaign, company=company, status=Diagnostic.Status.SUBMITTED, submitted_at=timezone.now()
    )


def diagnostic_url(diagnostic):
    return reverse("diagnostic:detail", kwargs={"diagnostic_id": diagnostic.pk})


# --- Removing a member ------------------------------------------------------------------------


def test_owner_removes_a_member_who_loses_access_at_once(company, owner, colleague, colleague_membership, diagnostic):
    colleague_client = logged_in(colleague)
    assert colleague_client.get(diagnostic_url(diagnostic)).status_code == 200
    owner_client = logged_in(owner)

    page = owner_client.get(url("member_remove", company, colleague_membership))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Retirer Colette Durand de Brasserie du Beffroi\u00a0?" in html
    assert "Retirer Colette Durand de l&#x27;entreprise</button>" in html
    assert CompanyMembership.objects.filter(pk=colleague_membership.pk).exists()  # a GET changes nothing

    response = owner_client.post(url("member_remove", company, colleague_membership))

    assert response.status_code == 302 and response.url == url("company", company)
    assert messages_of(response) == ["Colette Durand ne fait plus partie de Brasserie du Beffroi."]
    assert roles(company) == {"gerante@beffroi.fr": Owner}
    # Her very next requests: the diagnostic is refused (she has no company left: the 403 page
    # that names no diagnostic), the company page is a 404.
    refused = colleague_client.get(diagnostic_url(diagnostic))
    assert refused.status_code == 403 and "Brasserie du Beffroi" not in refused.content.decode()
    assert colleague_client.get(url("company", company)).status_code == 404


def test_a_removed_member_of_another_company_gets_a_404_for_the_diagnostic(
    company, other_company, owner, colleague, colleague_membership, diagnostic
):
    join(other_company, colleague)
    logged_in(owner).post(url("member_remove", company, colleague_membership))

    client = logged_in(colleague)
    assert client.get(diagnostic_url(diagnostic)).status_code == 404
    assert client.get(reverse("diagnostic_report", kwargs={"pk": diagnostic.pk})).status_code == 404
    assert client.get(url("company", other_company)).status_code == 200  # her other company is untouched


def test_an_owner_may_remove_another_owner(company, owner, colleague, colleague_membership):
    colleague_membership.role = Owner
    colleague_membership.save()

    response = logged_in(owner).post(url("member_remove", company, colleague_membership))

    assert response.status_code == 302
    assert roles(company) == {"gerante@beffroi.fr": Owner}


def test_the_remove_link_of_ones_own_row_leads_to_the_leave_page(company, owner):
    own = CompanyMembership.objects.get(user=owner)
    response = logged_in(owner).post(url("member_remove", company, own))
    assert response.status_code == 302 and response.url == url("company_leave", company)
    assert roles(company) == {"gerante@beffroi.fr": Owner}


def test_a_pending_request_is_not_removed_through_this_page(company, owner):
    requester = make_user("dominique@beffroi.fr", "Dominique", "Vasseur")
    request_ = join(company, requester, status=Pending)
    assert logged_in(owner).post(url("member_remove", company, request_)).status_code == 404
    assert CompanyMembership.objects.filter(pk=request_.pk).exists()


# --- Who is refused -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["member_remove", "member_promote", "member_transfer"])
def test_nobody_but_an_owner_of_the_company_manages_its_members(
    name, company, owner, colleague, colleague_membership, other_owner, analyst, curator
):
    before = roles(company)
    target = url(name, company, CompanyMembership.objects.get(user=owner))
    colleague_target = url(name, company, colleague_membership)
    for person in (colleague, other_owner, analyst, curator):
        client = logged_in(person)
        for path in (target, colleague_target):
            assert client.get(path).status_code == 404
            assert client.post(path).status_code == 404
    anonymous = Client().post(colleague_target)
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
    assert roles(company) == before


def test_an_owner_cannot_reach_another_companys_member_through_their_own_company(
    company, other_company, colleague_membership, other_owner
):
    client = logged_in(other_owner)
    for name in ("member_remove", "member_promote", "member_transfer"):
        assert client.post(url(name, other_company, colleague_membership)).status_code == 404
    assert CompanyMembership.objects.get(pk=colleague_membership.pk).role == Member


def test_managing_members_needs_a_post_with_its_csrf_token(company, owner, colleague_membership):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    for name in ("member_remove", "member_promote", "member_transfer"):
        assert client.post(url(name, company, colleague_membership)).status_code == 403
    assert client.post(url("company_leave", company)).status_code == 403
    assert roles(company) == {"gerante@beffroi.fr": Owner, "colette@beffroi.fr": Member}


# --- Leaving ----------------------------------------------------------------------------------


def test_a_member_leaves_the_company(company, owner, colleague, diagnostic):
    client = logged_in(colleague)
    page = client.get(url("company_leave", company)).content.decode()
    assert "Quitter Brasserie du Beffroi</button>" in page

    response = client.post(url("company_leave", company))

    assert response.status_code == 302 and response.url == reverse("accounts:account")
    assert messages_of(response) == ["Vous avez quitté Brasserie du Beffroi."]
    assert roles(company) == {"gerante@beffroi.fr": Owner}
    assert client.get(diagnostic_url(diagnostic)).status_code == 403


def test_the_last_owner_cannot_leave_nor_remove_themself(company, owner, colleague):
    client = logged_in(owner)
    page = client.get(url("company_leave", company)).content.decode()
    assert "nommez d'abord un autre membre responsable" in page and "</button>" not in page.split("<main")[1]

    response = client.post(url("company_leave", company))

    assert response.status_code == 302 and response.url == url("company", company)
    [message] = messages_of(response)
    assert message.startswith("Vous êtes le ou la seule responsable de l'entreprise")
    assert roles(company) == {"gerante@beffroi.fr": Owner, "colette@beffroi.fr": Member}
    own = CompanyMembership.objects.get(user=owner)
    with pytest.raises(accounts.AccountError):
        accounts.membership_remove(company=company, membership_id=own.pk, removed_by=owner)
    with pytest.raises(accounts.AccountError):
        accounts.membership_leave(company=company, user=owner)
    assert roles(company) == {"gerante@beffroi.fr": Owner, "colette@beffroi.fr": Member}


def test_a_sole_owner_without_members_cannot_leave_either(company, owner):
    with pytest.raises(accounts.AccountError):
        accounts.membership_leave(company=company, user=owner)
    assert roles(company) == {"gerante@beffroi.fr": Owner}


def test_an_owner_leaves_once_another_owner_exists(company, owner, colleague, colleague_membership):
    client = logged_in(owner)
    client.post(url("member_promote", company, colleague_membership))

    response = client.post(url("company_leave", company))

    assert response.status_code == 302 and response.url == reverse("accounts:account")
    assert roles(company) == {"colette@beffroi.fr": Owner}


def test_leaving_a_company_one_is_not_in_is_a_404(company, other_owner):
    assert logged_in(other_owner).post(url("company_leave", company)).status_code == 404


# --- Owner role -------------------------------------------------------------------------------


def test_transfer_makes_the_member_owner_and_the_former_owner_a_member(
    company, owner, colleague, colleague_membership
):
    client = logged_in(owner)
    page = client.get(url("member_transfer", company, colleague_membership)).content.decode()
    assert "Transmettre mon rôle à Colette Durand</button>" in page

    response = client.post(url("member_transfer", company, colleague_membership))

    assert response.status_code == 302 and response.url == url("company", company)
    assert messages_of(response) == [
        "Colette Durand est maintenant responsable de Brasserie du Beffroi ; vous en êtes membre."
    ]
    assert roles(company) == {"gerante@beffroi.fr": Member, "colette@beffroi.fr": Owner}
    # The former owner manages nothing any more; the new one does.
    own = CompanyMembership.objects.get(user=owner)
    assert client.post(url("member_remove", company, colleague_membership)).status_code == 404
    assert "Inviter un·e collègue" not in client.get(url("company", company)).content.decode()
    assert logged_in(colleague).get(url("member_remove", company, own)).status_code == 200


def test_make_owner_keeps_both_owners(company, owner, colleague, colleague_membership):
    response = logged_in(owner).post(url("member_promote", company, colleague_membership))

    assert messages_of(response) == ["Colette Durand est maintenant responsable de Brasserie du Beffroi, comme vous."]
    assert roles(company) == {"gerante@beffroi.fr": Owner, "colette@beffroi.fr": Owner}


def test_promoting_or_transferring_to_an_owner_changes_nothing(company, owner, colleague, colleague_membership):
    colleague_membership.role = Owner
    colleague_membership.save()
    for name in ("member_promote", "member_transfer"):
        response = logged_in(owner).post(url(name, company, colleague_membership))
        assert response.status_code == 302
        assert messages_of(response) == ["Colette Durand est déjà responsable de Brasserie du Beffroi."]
    assert roles(company) == {"gerante@beffroi.fr": Owner, "colette@beffroi.fr": Owner}


# --- The company page ---------------------------------------------------------------------------


def test_the_owner_sees_the_actions_of_each_member_in_a_few_queries(
    company, owner, colleague_membership, django_assert_max_num_queries
):
    for n in range(4):
        join(company, make_user(f"salarie{n}@beffroi.fr", "Salarié", str(n)))
    client = logged_in(owner)

    with django_assert_max_num_queries(10):
        html = client.get(url("company", company)).content.decode()

    assert html.count("Retirer…") == 5  # the five others, not herself
    assert url("member_transfer", company, colleague_membership) in html
    assert url("member_remove", company, CompanyMembership.objects.get(user=owner)) not in html
    # She is the only owner: no button to leave, a sentence saying why.
    assert url("company_leave", company) not in html and "Vous êtes le ou la seule responsable" in html


def test_a_member_sees_no_management_actions_but_may_leave(company, owner, colleague):
    html = logged_in(colleague).get(url("company", company)).content.decode()
    assert "Retirer…" not in html and "Nommer responsable" not in html
    assert url("company_leave", company) in html


# --- Two people at once -------------------------------------------------------------------------


def test_two_owners_removing_each_other_leave_one_owner(company, owner, colleague, colleague_membership):
    """Both had the page open; the second request is checked against the state the first
    left, not the one its page showed."""
    colleague_membership.role = Owner
    colleague_membership.save()
    own = CompanyMembership.objects.get(user=owner)
    owner_client, colleague_client = logged_in(owner), logged_in(colleague)

    owner_client.post(url("member_remove", company, colleague_membership))
    assert colleague_client.post(url("member_remove", company, own)).status_code == 404  # no longer a member
    # The service itself refuses too, whatever the view checked before.
    with pytest.raises(accounts.AccountError):
        accounts.membership_remove(company=company, membership_id=own.pk, removed_by=colleague)
    assert roles(company) == {"gerante@beffroi.fr": Owner}


def test_two_owners_leaving_together_leave_one_owner(company, owner, colleague, colleague_membership):
    colleague_membership.role = Owner
    colleague_membership.save()

    accounts.membership_leave(company=company, user=owner)
    with pytest.raises(accounts.AccountError, match="seule responsable"):
        accounts.membership_leave(company=company, user=colleague)
    assert roles(company) == {"colette@beffroi.fr": Owner}


def test_a_demoted_owner_can_no_longer_act_on_a_stale_page(company, owner, colleague, colleague_membership):
    """The owner handed her role over in one tab, then clicks « Retirer » in another."""
    third = make_user("bruno@beffroi.fr", "Bruno", "Lemaire")
    third_membership = join(company, third)
    accounts.membership_transfer_ownership(
        company=company, membership_id=colleague_membership.pk, transferred_by=owner
    )
    with pytest.raises(accounts.AccountError, match="Seul·e un·e responsable"):
        accounts.membership_remove(company=company, membership_id=third_membership.pk, removed_by=owner)
    with pytest.raises(accounts.AccountError):
        accounts.membership_transfer_ownership(
            company=company, membership_id=third_membership.pk, transferred_by=owner
        )
    assert roles(company) == {
        "gerante@beffroi.fr": Member,
        "colette@beffroi.fr": Owner,
        "bruno@beffroi.fr": Member,
    }


def test_handing_over_to_someone_who_just_left_keeps_the_owner(company, owner, colleague, colleague_membership):
    accounts.membership_leave(company=company, user=colleague)
    with pytest.raises(accounts.AccountError, match="ne fait plus partie"):
        accounts.membership_transfer_ownership(
            company=company, membership_id=colleague_membership.pk, transferred_by=owner
        )
    assert roles(company) == {"gerante@beffroi.fr": Owner}


@pytest.mark.django_db(transaction=True)
def test_concurrent_leaves_of_two_owners_keep_one(migration_data):
    """Real threads on PostgreSQL, where the row locks are what serialises them."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are exercised on PostgreSQL")
    company = CompanyFactory(name="Brasserie du Beffroi")
    people = [make_user(f"responsable{n}@beffroi.fr", "Resp", str(n)) for n in range(2)]
    for person in people:
        join(company, person, role=Owner)
    barrier = threading.Barrier(len(people))
    left, refused, errors = [], [], []

    def leave(person):
        from django.db import connections

        try:
            barrier.wait()
            accounts.membership_leave(company=company, user=person)
            left.append(person.email)
        except accounts.AccountError:
            refused.append(person.email)
        except Exception as error:  # noqa: BLE001 — collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=leave, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(left) == 1 and len(refused) == 1
    assert roles(company) == {refused[0]: Owner}
