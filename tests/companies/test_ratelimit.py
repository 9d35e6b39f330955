"""Rate limits on the e-mails a visitor can make the site send: the counter itself (with a
fake clock), then each form that sends one — sign-up, « resend the link », password reset
and invitation — counted in `mail.outbox`, per address and per client IP, and the window
that ends."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from companies import ratelimit
from companies.models import CompanyMembership, Invitation
from tests.companies.factories import CompanyFactory

PASSWORD = "Beffroi-Arras-2026"
# 2026-01-01 00:00:00 UTC: a multiple of 3600, so the first hour's window starts here.
START = 1_767_225_600.0
TOO_MANY_EMAILS = (
    "Trop d'e-mails ont été demandés pour cette adresse ou depuis votre connexion : aucun e-mail n'a été "
    "envoyé. Réessayez dans une heure."
)
TOO_MANY_INVITATIONS = (
    "Trop d'invitations ont été envoyées à cette adresse ou depuis votre connexion : celle-ci n'est pas "
    "partie. Réessayez dans une heure."
)


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock(START)
    monkeypatch.setattr(ratelimit, "clock", fake)
    return fake


def make_user(email, *, active=True):
    return get_user_model().objects.create_user(
        username=email, email=email, password=PASSWORD, first_name="Camille", last_name="Lefebvre", is_active=active
    )


def signup_data(email):
    return {
        "first_name": "Camille",
        "last_name": "Lefebvre",
        "email": email,
        "password1": PASSWORD,
        "password2": PASSWORD,
    }


def form_errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


# --- The counter ---------------------------------------------------------------------------------


def test_a_limit_allows_its_count_then_refuses_until_the_window_ends(clock):
    limit = ratelimit.Limit("address", 3, 3600)
    counted = [(limit, "camille@beffroi.fr")]

    assert [ratelimit.attempt("test", counted) for _ in range(5)] == [True, True, True, False, False]
    clock.now = START + 3599.9  # still the same hour
    assert ratelimit.attempt("test", counted) is False
    clock.now = START + 3600  # the next window
    assert [ratelimit.attempt("test", counted) for _ in range(4)] == [True, True, True, False]


def test_each_value_and_each_action_has_its_own_counter(clock):
    limit = ratelimit.Limit("address", 1, 3600)
    assert ratelimit.attempt("test", [(limit, "a@beffroi.fr")]) is True
    assert ratelimit.attempt("test", [(limit, "a@beffroi.fr")]) is False
    assert ratelimit.attempt("test", [(limit, "b@beffroi.fr")]) is True
    assert ratelimit.attempt("other", [(limit, "a@beffroi.fr")]) is True


def test_an_attempt_refused_by_the_first_limit_does_not_spend_the_next(clock):
    per_ip, per_address = ratelimit.Limit("ip", 1, 3600), ratelimit.Limit("address", 2, 3600)
    assert ratelimit.attempt("test", [(per_ip, "203.0.113.7"), (per_address, "a@beffroi.fr")]) is True
    for _ in range(5):
        assert ratelimit.attempt("test", [(per_ip, "203.0.113.7"), (per_address, "a@beffroi.fr")]) is False
    # The address was counted once (the first attempt): one place is left for it elsewhere.
    assert ratelimit.attempt("test", [(per_ip, "198.51.100.2"), (per_address, "a@beffroi.fr")]) is True
    assert ratelimit.attempt("test", [(per_ip, "198.51.100.3"), (per_address, "a@beffroi.fr")]) is False


def test_cache_keys_hold_no_address():
    key = ratelimit._key("account-email", ratelimit.ACCOUNT_EMAIL_PER_ADDRESS, "camille@beffroi.fr", 490_896)
    assert "camille" not in key and "beffroi" not in key
    assert key.startswith("ratelimit:account-email:address:3600:") and key.endswith(":490896")


def test_the_limits_are_the_documented_ones():
    assert (ratelimit.ACCOUNT_EMAIL_PER_ADDRESS.count, ratelimit.ACCOUNT_EMAIL_PER_ADDRESS.window) == (3, 3600)
    assert (ratelimit.ACCOUNT_EMAIL_PER_IP.count, ratelimit.ACCOUNT_EMAIL_PER_IP.window) == (20, 3600)
    assert (ratelimit.INVITATION_PER_ADDRESS.count, ratelimit.INVITATION_PER_IP.count) == (3, 30)


# --- Sign-up ---------------------------------------------------------------------------------------


def test_the_fourth_sign_up_email_to_an_address_in_an_hour_is_not_sent(client, db, clock):
    for n in range(3):
        response = client.post(reverse("accounts:signup"), signup_data("Camille.Lefebvre@Beffroi.fr"))
        assert response.status_code == 302, n
    # One confirmation link, then twice « an account exists » with a fresh link.
    assert len(mail.outbox) == 3
    assert [m.to for m in mail.outbox] == [["camille.lefebvre@beffroi.fr"]] * 3

    response = client.post(reverse("accounts:signup"), signup_data("camille.lefebvre@beffroi.fr"))

    assert response.status_code == 429
    assert form_errors(response) == [TOO_MANY_EMAILS]
    html = response.content.decode()
    assert "Trop d&#x27;e-mails ont été demandés" in html and 'value="Camille"' in html  # answers kept
    assert len(mail.outbox) == 3


def test_a_refused_sign_up_looks_the_same_whether_the_address_has_an_account(client, db, clock):
    make_user("connue@beffroi.fr")
    answers = {}
    for email in ("connue@beffroi.fr", "inconnue@beffroi.fr"):
        for _ in range(3):
            client.post(reverse("accounts:signup"), signup_data(email))
        response = client.post(reverse("accounts:signup"), signup_data(email))
        answers[email] = (response.status_code, form_errors(response), sorted(response.context["form"].errors))
    assert answers["connue@beffroi.fr"] == answers["inconnue@beffroi.fr"] == (429, [TOO_MANY_EMAILS], ["__all__"])
    assert len(mail.outbox) == 6
    # Over the limit, no account was created for the unknown address either.
    assert get_user_model().objects.filter(email="inconnue@beffroi.fr").count() == 1  # the first sign-up's


def test_sign_ups_are_limited_per_client_ip(db, clock):
    office, elsewhere = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="198.51.100.2")
    for n in range(20):
        assert office.post(reverse("accounts:signup"), signup_data(f"personne{n}@beffroi.fr")).status_code == 302
    assert len(mail.outbox) == 20

    refused = office.post(reverse("accounts:signup"), signup_data("personne20@beffroi.fr"))
    allowed = elsewhere.post(reverse("accounts:signup"), signup_data("personne21@beffroi.fr"))

    assert refused.status_code == 429 and form_errors(refused) == [TOO_MANY_EMAILS]
    assert allowed.status_code == 302
    assert [m.to for m in mail.outbox[20:]] == [["personne21@beffroi.fr"]]
    assert not get_user_model().objects.filter(email="personne20@beffroi.fr").exists()


def test_the_limit_resets_when_the_hour_ends(client, db, clock):
    for _ in range(4):
        client.post(reverse("accounts:signup"), signup_data("camille@beffroi.fr"))
    assert len(mail.outbox) == 3

    clock.now = START + 3600
    response = client.post(reverse("accounts:signup"), signup_data("camille@beffroi.fr"))

    assert response.status_code == 302
    assert len(mail.outbox) == 4


# --- Resend the link, password reset: the same budget per address ------------------------------------


def test_resend_confirmation_sends_a_link_that_works(client, db, clock):
    make_user("camille@beffroi.fr", active=False)

    response = client.post(reverse("accounts:resend_confirmation"), {"email": "Camille@Beffroi.fr"})

    assert response.status_code == 302 and response.url == reverse("accounts:resend_confirmation")
    [message] = mail.outbox
    assert message.to == ["camille@beffroi.fr"]
    [path] = re.findall(r"http://testserver(/comptes/confirmer/\S+)", message.body)
    client.post(path)
    assert get_user_model().objects.get().is_active


def test_resend_confirmation_says_the_same_for_unknown_and_confirmed_addresses(client, db, clock):
    make_user("active@beffroi.fr")
    pages = []
    for email in ("inconnue@beffroi.fr", "active@beffroi.fr"):
        response = client.post(reverse("accounts:resend_confirmation"), {"email": email}, follow=True)
        html = response.content.decode().replace(email, "ADRESSE")
        pages.append(re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", html))
    assert pages[0] == pages[1]
    assert "un nouveau lien vient d" in pages[0]
    # Nothing to the unknown address; the login and reset links to the confirmed one.
    [message] = mail.outbox
    assert message.to == ["active@beffroi.fr"] and "/comptes/password_reset/" in message.body


def test_sign_up_resend_and_reset_share_the_budget_of_an_address(client, db, clock):
    client.post(reverse("accounts:signup"), signup_data("camille@beffroi.fr"))
    client.post(reverse("accounts:resend_confirmation"), {"email": "camille@beffroi.fr"})
    client.post(reverse("accounts:resend_confirmation"), {"email": "camille@beffroi.fr"})
    assert len(mail.outbox) == 3

    refused = client.post(reverse("accounts:resend_confirmation"), {"email": "camille@beffroi.fr"})
    reset = client.post(reverse("password_reset"), {"email": "camille@beffroi.fr"})

    assert refused.status_code == 429 and form_errors(refused) == [TOO_MANY_EMAILS]
    assert reset.status_code == 429
    assert len(mail.outbox) == 3


def test_the_fourth_password_reset_email_is_not_sent(client, db, clock):
    make_user("camille@beffroi.fr")
    for email in ("camille@beffroi.fr", "Camille@Beffroi.fr", "CAMILLE@beffroi.fr"):
        response = client.post(reverse("password_reset"), {"email": email})
        assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 3

    response = client.post(reverse("password_reset"), {"email": "camille@beffroi.fr"})

    assert response.status_code == 429
    assert form_errors(response) == [TOO_MANY_EMAILS]
    assert "Mot de passe oublié" in response.content.decode()
    assert len(mail.outbox) == 3


def test_a_refused_password_reset_does_not_tell_whether_the_account_exists(client, db, clock):
    make_user("camille@beffroi.fr")
    results = {}
    for email in ("camille@beffroi.fr", "inconnue@beffroi.fr"):
        statuses = [client.post(reverse("password_reset"), {"email": email}).status_code for _ in range(3)]
        refused = client.post(reverse("password_reset"), {"email": email})
        results[email] = (statuses, refused.status_code, form_errors(refused))
    assert results["camille@beffroi.fr"] == results["inconnue@beffroi.fr"] == ([302] * 3, 429, [TOO_MANY_EMAILS])
    assert len(mail.outbox) == 3  # only the real account got its three


def test_password_resets_are_limited_per_client_ip(db, clock):
    office = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(20):
        assert office.post(reverse("password_reset"), {"email": f"personne{n}@beffroi.fr"}).status_code == 302
    assert office.post(reverse("password_reset"), {"email": "personne20@beffroi.fr"}).status_code == 429
    other = Client(REMOTE_ADDR="198.51.100.2")
    assert other.post(reverse("password_reset"), {"email": "personne20@beffroi.fr"}).status_code == 302


# --- Invitations -------------------------------------------------------------------------------


@pytest.fixture
def company(db):
    return CompanyFactory(name="Brasserie du Beffroi")


@pytest.fixture
def owner_client(company):
    owner = make_user("gerante@beffroi.fr")
    CompanyMembership.objects.create(
        user=owner, company=company, role=CompanyMembership.Role.OWNER, status=CompanyMembership.Status.ACTIVE
    )
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(owner)
    return client


def test_the_fourth_invitation_to_an_address_in_an_hour_is_not_sent(company, owner_client, clock):
    url = reverse("accounts:company_invite", kwargs={"pk": company.pk})
    for _ in range(3):
        assert owner_client.post(url, {"email": "nouvelle@beffroi.fr"}).status_code == 302
    assert len(mail.outbox) == 3 and Invitation.objects.count() == 3

    response = owner_client.post(url, {"email": "Nouvelle@Beffroi.fr"})

    assert response.status_code == 429
    form = response.context["invitation_form"]
    assert form.errors["email"] == [TOO_MANY_INVITATIONS]
    assert 'value="Nouvelle@Beffroi.fr"' in response.content.decode()  # the answer is kept
    assert len(mail.outbox) == 3 and Invitation.objects.count() == 3

    clock.now = START + 3600
    assert owner_client.post(url, {"email": "nouvelle@beffroi.fr"}).status_code == 302
    assert len(mail.outbox) == 4 and Invitation.objects.count() == 4


def test_invitations_are_limited_per_client_ip(company, owner_client, clock):
    url = reverse("accounts:company_invite", kwargs={"pk": company.pk})
    for n in range(30):
        assert owner_client.post(url, {"email": f"salarie{n}@beffroi.fr"}).status_code == 302
    assert owner_client.post(url, {"email": "salarie30@beffroi.fr"}).status_code == 429
    assert len(mail.outbox) == 30
    assert not Invitation.objects.filter(email="salarie30@beffroi.fr").exists()


def test_sign_up_emails_do_not_spend_the_invitation_budget(company, owner_client, clock):
    for _ in range(3):
        Client().post(reverse("accounts:signup"), signup_data("nouvelle@beffroi.fr"))
    url = reverse("accounts:company_invite", kwargs={"pk": company.pk})
    assert owner_client.post(url, {"email": "nouvelle@beffroi.fr"}).status_code == 302
    assert len(mail.outbox) == 4
