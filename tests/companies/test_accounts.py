"""Company accounts: sign-up, confirmation, login and its rate limit, password reset,
attaching a company by SIRET, « Mon entreprise », requests and invitations. Every rule is
tested with the people it must refuse."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from companies import accounts
from companies.models import Company, CompanyMembership, Establishment, Invitation
from companies.validators import luhn_complete
from tests.companies.factories import CommuneFactory, CompanyFactory, SousClasseFactory

PASSWORD = "Beffroi-Arras-2026"
SIREN = luhn_complete("73282932")
SIRET = luhn_complete(SIREN + "0001")
# One digit changed: still 14 digits, but the Luhn key no longer matches.
BAD_SIRET = SIRET[:-1] + str((int(SIRET[-1]) + 1) % 10)

Active = CompanyMembership.Status.ACTIVE
Pending = CompanyMembership.Status.PENDING
Owner = CompanyMembership.Role.OWNER
Member = CompanyMembership.Role.MEMBER


def links(message) -> list[str]:
    """The site paths linked from an e-mail."""
    return re.findall(r"http://testserver(/\S+)", message.body)


def make_user(email, *, password=PASSWORD, active=True, first_name="Camille", last_name="Lefebvre"):
    return get_user_model().objects.create_user(
        username=email, email=email, password=password, first_name=first_name, last_name=last_name, is_active=active
    )


def member_of(company, email, *, role=Owner, status=Active):
    user = make_user(email)
    CompanyMembership.objects.create(user=user, company=company, role=role, status=status)
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def company_a(db):
    return CompanyFactory(name="Brasserie du Beffroi")


@pytest.fixture
def company_b(db):
    return CompanyFactory(name="Menuiserie Delattre")


@pytest.fixture
def owner_a(company_a):
    return member_of(company_a, "gerante@beffroi.fr")


@pytest.fixture
def owner_b(company_b):
    return member_of(company_b, "patron@delattre.fr")


def test_siret_fixtures_are_what_they_claim():
    from companies.validators import is_valid_siret

    assert is_valid_siret(SIRET) and not is_valid_siret(BAD_SIRET) and len(BAD_SIRET) == 14


# --- Sign-up and confirmation ---------------------------------------------------------------


SIGNUP = {
    "first_name": "Camille",
    "last_name": "Lefebvre",
    "email": "Camille.Lefebvre@Beffroi.fr",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def test_signup_creates_an_inactive_account_and_sends_the_confirmation_link(client, db, mailoutbox):
    response = client.post(reverse("accounts:signup"), SIGNUP)

    assert response.status_code == 302 and response.url == reverse("accounts:signup_sent")
    user = get_user_model().objects.get()
    assert (user.username, user.email, user.is_active) == ("camille.lefebvre@beffroi.fr",) * 2 + (False,)
    assert user.check_password(PASSWORD) and user.get_full_name() == "Camille Lefebvre"
    [message] = mailoutbox
    assert message.to == ["camille.lefebvre@beffroi.fr"]
    assert message.subject == "Confirmez votre adresse — Observatoire IA Hauts-de-France"
    assert links(message)[0].startswith("/comptes/confirmer/")
    page = client.get(response.url)
    assert "camille.lefebvre@beffroi.fr" in page.content.decode()


def test_signup_with_bad_input_comes_back_with_the_answers_and_a_message_per_field(client, db, mailoutbox):
    data = {**SIGNUP, "email": "camille.beffroi.fr", "password2": "autre-chose-2026"}
    response = client.post(reverse("accounts:signup"), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"email", "password2"}
    html = response.content.decode()
    assert 'value="Camille"' in html and 'value="Lefebvre"' in html and 'value="camille.beffroi.fr"' in html
    assert "Les deux mots de passe ne sont pas identiques." in html
    assert 'aria-invalid="true"' in html
    assert not get_user_model().objects.exists() and not mailoutbox


def test_signup_refuses_a_weak_password_next_to_the_field(client, db):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "password1": "12345678", "password2": "12345678"})

    assert response.status_code == 200
    assert "password1" in response.context["form"].errors
    assert not get_user_model().objects.exists()


def test_signup_with_a_taken_address_looks_the_same_and_mails_its_owner(client, db, mailoutbox):
    existing = make_user("camille.lefebvre@beffroi.fr", password="ancien-mot-de-passe-2026")

    response = client.post(reverse("accounts:signup"), SIGNUP)

    assert response.status_code == 302 and response.url == reverse("accounts:signup_sent")
    assert get_user_model().objects.count() == 1
    existing.refresh_from_db()
    assert existing.check_password("ancien-mot-de-passe-2026")  # not replaced by a stranger
    [message] = mailoutbox
    assert message.to == ["camille.lefebvre@beffroi.fr"]
    assert "un compte existe déjà" in message.body
    assert "/comptes/password_reset/" in message.body


def test_signup_again_before_confirming_sends_a_new_link_that_works(client, db, mailoutbox):
    make_user("camille.lefebvre@beffroi.fr", active=False)

    client.post(reverse("accounts:signup"), SIGNUP)

    [message] = mailoutbox
    confirm_path = next(path for path in links(message) if path.startswith("/comptes/confirmer/"))
    client.post(confirm_path)
    assert get_user_model().objects.get().is_active


def test_confirmation_page_asks_before_activating_then_logs_in(client, db, mailoutbox):
    client.post(reverse("accounts:signup"), SIGNUP)
    confirm_path = links(mailoutbox[0])[0]
    anonymous = Client()

    page = anonymous.get(confirm_path)
    assert page.status_code == 200 and "Confirmer et me connecter" in page.content.decode()
    assert not get_user_model().objects.get().is_active  # a link scanner's GET confirms nothing

    response = anonymous.post(confirm_path)
    assert response.status_code == 302 and response.url == reverse("accounts:attach_company")
    user = get_user_model().objects.get()
    assert user.is_active
    assert anonymous.get(reverse("accounts:account")).status_code == 200  # logged in


def test_confirming_twice_is_refused_the_second_time(client, db, mailoutbox):
    client.post(reverse("accounts:signup"), SIGNUP)
    confirm_path = links(mailoutbox[0])[0]
    Client().post(confirm_path)

    again = Client()
    for response in (again.get(confirm_path), again.post(confirm_path)):
        assert response.status_code == 404
        assert "Ce lien n'est plus valable" in response.content.decode()
    assert again.get(reverse("accounts:account")).status_code == 302  # not logged in


def test_confirmation_links_that_are_guessed_wrong_or_expired_are_refused(client, db, settings):
    user = make_user("camille.lefebvre@beffroi.fr", active=False)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    good = accounts.email_confirmation_token.make_token(user)
    reset_token = default_token_generator.make_token(user)
    other_uid = urlsafe_base64_encode(force_bytes(user.pk + 1))

    for uidb64, token in [(uid, "abc-123"), (uid, reset_token), (other_uid, good), ("!!", good)]:
        response = client.post(reverse("accounts:confirm", kwargs={"uidb64": uidb64, "token": token}))
        assert response.status_code == 404
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is now older than the limit
    assert client.post(reverse("accounts:confirm", kwargs={"uidb64": uid, "token": good})).status_code == 404
    user.refresh_from_db()
    assert not user.is_active


# --- Login, rate limit, password reset --------------------------------------------------------


def test_an_unconfirmed_account_cannot_log_in(client, db):
    make_user("camille.lefebvre@beffroi.fr", active=False)
    response = client.post(reverse("login"), {"username": "camille.lefebvre@beffroi.fr", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_login_accepts_the_address_in_any_case(client, db):
    make_user("camille.lefebvre@beffroi.fr")
    response = client.post(reverse("login"), {"username": "Camille.Lefebvre@Beffroi.FR", "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_login_page_labels_the_address(client, db):
    html = client.get(reverse("login")).content.decode()
    assert "Adresse e-mail (ou nom d’utilisateur)" in html


@pytest.mark.parametrize("template", ["accounts/lockout.html", None])
def test_after_five_failures_the_right_password_is_refused(client, db, settings, template):
    settings.AXES_LOCKOUT_TEMPLATE = template
    make_user("camille.lefebvre@beffroi.fr")
    url = reverse("login")
    for _attempt in range(5):
        response = client.post(url, {"username": "camille.lefebvre@beffroi.fr", "password": "mauvais-2026"})
    assert "_auth_user_id" not in client.session

    response = client.post(url, {"username": "camille.lefebvre@beffroi.fr", "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    if template:
        html = response.content.decode()
        assert "Connexion temporairement bloquée" in html and "60 minutes" in html
        assert '<html lang="fr">' in html


def test_another_account_is_not_locked_by_someone_elses_failures(client, db):
    make_user("camille.lefebvre@beffroi.fr")
    make_user("dominique@beffroi.fr")
    for _attempt in range(5):
        client.post(reverse("login"), {"username": "camille.lefebvre@beffroi.fr", "password": "mauvais-2026"})
    response = client.post(reverse("login"), {"username": "dominique@beffroi.fr", "password": PASSWORD})
    assert response.status_code == 302


def test_password_reset_sends_a_french_link_that_sets_a_new_password(client, db, mailoutbox):
    make_user("camille.lefebvre@beffroi.fr")
    assert "Adresse e-mail" in client.get(reverse("password_reset")).content.decode()

    response = client.post(reverse("password_reset"), {"email": "Camille.Lefebvre@beffroi.fr"})
    assert response.status_code == 302
    assert "Vérifiez votre messagerie" in client.get(response.url).content.decode()
    [message] = mailoutbox
    assert message.subject == "Nouveau mot de passe — Observatoire IA Hauts-de-France"
    assert "Bonjour Camille" in message.body

    confirm = client.get(links(message)[0], follow=True)
    assert "Choisissez un nouveau mot de passe" in confirm.content.decode()
    done = client.post(
        confirm.redirect_chain[-1][0], {"new_password1": "Nouveau-Lille-2026", "new_password2": "Nouveau-Lille-2026"}
    )
    assert done.status_code == 302
    assert "Mot de passe enregistré" in client.get(done.url).content.decode()
    login = Client().post(
        reverse("login"), {"username": "camille.lefebvre@beffroi.fr", "password": "Nouveau-Lille-2026"}
    )
    assert login.status_code == 302


def test_password_reset_of_an_unknown_address_says_the_same_and_sends_nothing(client, db, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "inconnu@beffroi.fr"})
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert not mailoutbox


def test_a_used_password_reset_link_is_refused_in_french(client, db, mailoutbox):
    make_user("camille.lefebvre@beffroi.fr")
    client.post(reverse("password_reset"), {"email": "camille.lefebvre@beffroi.fr"})
    link = links(mailoutbox[0])[0]
    confirm = client.get(link, follow=True)
    client.post(
        confirm.redirect_chain[-1][0], {"new_password1": "Nouveau-Lille-2026", "new_password2": "Nouveau-Lille-2026"}
    )

    again = Client().get(link, follow=True)
    assert "Ce lien n'est plus valable" in again.content.decode()


def test_password_change_page_is_french(db):
    client = logged_in(make_user("camille.lefebvre@beffroi.fr"))
    html = client.get(reverse("password_change")).content.decode()
    assert "Changer mon mot de passe" in html and "acc-page" in html


# --- Attaching a company ---------------------------------------------------------------------


def test_attaching_a_new_company_makes_the_person_its_owner(db):
    user = make_user("camille.lefebvre@beffroi.fr")
    client = logged_in(user)

    response = client.post(reverse("accounts:attach_company"), {"siret": SIRET, "name": "Brasserie du Beffroi"})

    company = Company.objects.get(siren=SIREN)
    assert company.name == "Brasserie du Beffroi"
    assert response.status_code == 302 and response.url == reverse("accounts:company", kwargs={"pk": company.pk})
    membership = CompanyMembership.objects.get(user=user)
    assert (membership.company, membership.role, membership.status) == (company, Owner, Active)
    assert not Establishment.objects.exists()  # no sector nor commune given: the diagnostic asks


def test_attaching_with_the_establishment_creates_it(db):
    sector = SousClasseFactory(code="56.10A", label="Restauration traditionnelle")
    commune = CommuneFactory(code="59009", name="Villeneuve-d'Ascq")
    client = logged_in(make_user("camille.lefebvre@beffroi.fr"))

    response = client.post(
        reverse("accounts:attach_company"),
        {
            "siret": f"{SIRET[:3]} {SIRET[3:6]} {SIRET[6:9]} {SIRET[9:]}",
            "name": "Brasserie du Beffroi",
            "naf": "5610a",
            "commune": "villeneuve d'ascq",
            "size_band": "10-49",
        },
    )

    assert response.status_code == 302
    establishment = Establishment.objects.get()
    assert (establishment.siret, establishment.sector, establishment.commune) == (SIRET, sector, commune)
    assert establishment.company.siren == SIREN and establishment.size_band == "10-49"


def test_a_siret_failing_the_luhn_check_keeps_the_other_answers(db):
    SousClasseFactory(code="56.10A")
    CommuneFactory(code="59350", name="Lille")
    client = logged_in(make_user("camille.lefebvre@beffroi.fr"))
    data = {
        "siret": BAD_SIRET,
        "name": "Brasserie du Beffroi",
        "naf": "56.10A",
        "commune": "59350",
        "size_band": "0-9",
    }

    response = client.post(reverse("accounts:attach_company"), data)

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["siret"]
    html = response.content.decode()
    assert "la clé de contrôle ne correspond pas" in html
    for value in (BAD_SIRET, "Brasserie du Beffroi", "56.10A", "59350"):
        assert f'value="{value}"' in html
    assert '<option value="0-9" selected>' in html
    assert not Company.objects.exists() and not CompanyMembership.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"siret": "1234"}, "siret", "Un SIRET compte 14 chiffres (vous en avez saisi 4)."),
        ({"naf": "99.99Z", "commune": "59350", "size_band": "0-9"}, "naf", "Code NAF inconnu"),
        ({"naf": "56.10A", "commune": "59000", "size_band": "0-9"}, "commune", "le code postal ne convient pas"),
        ({"naf": "56.10A", "commune": "Lile", "size_band": "0-9"}, "commune", "Commune introuvable"),
        ({"naf": "56.10A"}, "commune", "Complétez aussi ce champ, ou laissez vides"),
        ({"naf": "56.10A"}, "size_band", "Complétez aussi ce champ, ou laissez vides"),
    ],
)
def test_wrong_company_answers_get_a_message_next_to_the_field(db, data, field, message):
    SousClasseFactory(code="56.10A")
    CommuneFactory(code="59350", name="Lille")
    client = logged_in(make_user("camille.lefebvre@beffroi.fr"))

    response = client.post(reverse("accounts:attach_company"), {"siret": SIRET, "name": "Brasserie", **data})

    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert not Company.objects.exists()


def test_two_communes_of_the_same_name_ask_for_the_code(db):
    SousClasseFactory(code="56.10A")
    CommuneFactory(code="02001", name="Saint-Quentin", parent__code="02")
    CommuneFactory(code="62002", name="Saint-Quentin", parent__code="62")
    client = logged_in(make_user("camille.lefebvre@beffroi.fr"))

    response = client.post(
        reverse("accounts:attach_company"),
        {"siret": SIRET, "name": "Brasserie", "naf": "56.10A", "commune": "Saint-Quentin", "size_band": "0-9"},
    )

    assert "02001, 62002" in response.context["form"].errors["commune"][0]


def test_joining_a_company_that_has_members_is_a_request_its_owner_hears_of(company_a, owner_a, mailoutbox):
    company_a.siren = SIREN
    company_a.save()
    user = make_user("dominique@beffroi.fr", first_name="Dominique", last_name="Vasseur")
    client = logged_in(user)

    response = client.post(reverse("accounts:attach_company"), {"siret": SIRET, "name": "Autre nom"})

    assert response.status_code == 302 and response.url == reverse("accounts:account")
    membership = CompanyMembership.objects.get(user=user)
    assert (membership.company, membership.role, membership.status) == (company_a, Member, Pending)
    company_a.refresh_from_db()
    assert company_a.name == "Brasserie du Beffroi"  # a request does not rename the company
    [message] = mailoutbox
    assert message.to == ["gerante@beffroi.fr"]
    assert "Dominique Vasseur" in message.body and f"/comptes/entreprises/{company_a.pk}/" in message.body
    account = client.get(reverse("accounts:account")).content.decode()
    assert "En attente de validation" in account
    # Pending is not member: the company page stays closed.
    assert client.get(reverse("accounts:company", kwargs={"pk": company_a.pk})).status_code == 404


def test_attaching_the_same_company_twice_changes_nothing(db, mailoutbox):
    user = make_user("camille.lefebvre@beffroi.fr")
    client = logged_in(user)
    client.post(reverse("accounts:attach_company"), {"siret": SIRET, "name": "Brasserie du Beffroi"})
    response = client.post(reverse("accounts:attach_company"), {"siret": SIRET, "name": "Brasserie du Beffroi"})

    assert response.status_code == 302
    assert CompanyMembership.objects.get().status == Active
    assert "Vous êtes déjà membre" in client.get(response.url).content.decode()


def test_attaching_needs_a_login(client, db):
    response = client.post(reverse("accounts:attach_company"), {"siret": SIRET, "name": "Brasserie"})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not Company.objects.exists()


def test_company_attach_serialises_two_claims_of_a_free_company(db):
    first, second = make_user("un@beffroi.fr"), make_user("deux@beffroi.fr")
    accounts.company_attach(user=first, siret=SIRET, name="Brasserie", base_url="http://testserver/")
    result = accounts.company_attach(user=second, siret=SIRET, name="Brasserie", base_url="http://testserver/")
    assert result.membership.status == Pending
    assert CompanyMembership.objects.filter(role=Owner, status=Active).count() == 1


# --- Mon compte / Mon entreprise ---------------------------------------------------------------


def test_account_page_lists_the_companies_in_a_few_queries(
    company_a, company_b, owner_a, django_assert_max_num_queries
):
    CompanyMembership.objects.create(user=owner_a, company=company_b, role=Member, status=Pending)
    client = logged_in(owner_a)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("accounts:account"))
    html = response.content.decode()
    assert "Brasserie du Beffroi" in html and "Menuiserie Delattre" in html
    assert reverse("accounts:company", kwargs={"pk": company_a.pk}) in html
    assert reverse("accounts:company", kwargs={"pk": company_b.pk}) not in html  # pending: no link


def test_account_page_without_company_offers_to_attach_one(db):
    html = logged_in(make_user("camille@beffroi.fr")).get(reverse("accounts:account")).content.decode()
    assert "Rattacher mon entreprise" in html


def test_account_pages_need_a_login(client, db, company_a):
    for url in (
        reverse("accounts:account"),
        reverse("accounts:attach_company"),
        reverse("accounts:company", kwargs={"pk": company_a.pk}),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_owner_sees_members_requests_and_the_invitation_form(company_a, owner_a, django_assert_max_num_queries):
    member_of(company_a, "collegue@beffroi.fr", role=Member)
    requester = make_user("dominique@beffroi.fr", first_name="Dominique", last_name="Vasseur")
    CompanyMembership.objects.create(user=requester, company=company_a, status=Pending)
    client = logged_in(owner_a)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("accounts:company", kwargs={"pk": company_a.pk}))

    html = response.content.decode()
    assert "collegue@beffroi.fr" in html and "gerante@beffroi.fr" in html
    assert "Demandes en attente" in html and "Dominique Vasseur" in html
    assert "Inviter un·e collègue" in html


def test_a_plain_member_sees_the_members_but_not_the_requests(company_a, owner_a):
    colleague = member_of(company_a, "collegue@beffroi.fr", role=Member)
    CompanyMembership.objects.create(user=make_user("dominique@beffroi.fr"), company=company_a, status=Pending)

    html = logged_in(colleague).get(reverse("accounts:company", kwargs={"pk": company_a.pk})).content.decode()

    assert "gerante@beffroi.fr" in html
    assert "dominique@beffroi.fr" not in html and "Inviter un·e collègue" not in html


def test_nobody_else_sees_a_company_page_and_guessed_ids_are_404(
    company_a, company_b, owner_a, owner_b, analyst, curator
):
    url = reverse("accounts:company", kwargs={"pk": company_a.pk})
    for outsider in (owner_b, analyst, curator):
        assert logged_in(outsider).get(url).status_code == 404
    client = logged_in(owner_b)
    for pk in range(max(company_a.pk - 3, 0), company_a.pk + 10):
        if pk != company_b.pk:
            assert client.get(reverse("accounts:company", kwargs={"pk": pk})).status_code == 404
    assert (
        "gerante@beffroi.fr"
        not in client.get(reverse("accounts:company", kwargs={"pk": company_b.pk})).content.decode()
    )


# --- Approving and refusing requests ------------------------------------------------------------


@pytest.fixture
def request_a(company_a):
    requester = make_user("dominique@beffroi.fr", first_name="Dominique", last_name="Vasseur")
    return CompanyMembership.objects.create(user=requester, company=company_a, status=Pending)


def test_owner_approves_a_request_and_the_person_is_told(company_a, owner_a, request_a, mailoutbox):
    client = logged_in(owner_a)
    response = client.post(reverse("accounts:membership_approve", kwargs={"pk": request_a.pk}))

    assert response.status_code == 302 and response.url == reverse("accounts:company", kwargs={"pk": company_a.pk})
    request_a.refresh_from_db()
    assert (request_a.status, request_a.role) == (Active, Member)
    [message] = mailoutbox
    assert message.to == ["dominique@beffroi.fr"] and "a été acceptée" in message.body
    assert "Dominique Vasseur a rejoint Brasserie du Beffroi." in client.get(response.url).content.decode()
    # Approved twice (a double click, two tabs): once, and the second click says so.
    again = client.post(reverse("accounts:membership_approve", kwargs={"pk": request_a.pk}), follow=True)
    assert "Cette demande a déjà été acceptée." in again.content.decode()
    refused = client.post(reverse("accounts:membership_refuse", kwargs={"pk": request_a.pk}), follow=True)
    assert "Cette demande a déjà été acceptée." in refused.content.decode()
    assert CompanyMembership.objects.get(pk=request_a.pk).status == Active
    assert len(mailoutbox) == 1


def test_owner_refuses_a_request(company_a, owner_a, request_a, mailoutbox):
    response = logged_in(owner_a).post(reverse("accounts:membership_refuse", kwargs={"pk": request_a.pk}))

    assert response.status_code == 302
    assert not CompanyMembership.objects.filter(pk=request_a.pk).exists()
    [message] = mailoutbox
    assert message.to == ["dominique@beffroi.fr"] and "n'a pas été acceptée" in message.body


def test_nobody_else_can_approve_or_refuse(company_a, company_b, owner_a, owner_b, request_a, analyst, plain_user):
    colleague = member_of(company_a, "collegue@beffroi.fr", role=Member)
    for person in (owner_b, colleague, analyst, plain_user, request_a.user):
        client = logged_in(person)
        for name in ("accounts:membership_approve", "accounts:membership_refuse"):
            assert client.post(reverse(name, kwargs={"pk": request_a.pk})).status_code == 404
    anonymous = Client().post(reverse("accounts:membership_approve", kwargs={"pk": request_a.pk}))
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
    request_a.refresh_from_db()
    assert request_a.status == Pending


def test_deciding_needs_a_post_with_its_csrf_token(company_a, owner_a, request_a):
    url = reverse("accounts:membership_approve", kwargs={"pk": request_a.pk})
    assert logged_in(owner_a).get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner_a)
    assert strict.post(url).status_code == 403
    request_a.refresh_from_db()
    assert request_a.status == Pending


def test_a_refused_request_cannot_be_approved_afterwards(company_a, owner_a, request_a):
    membership = CompanyMembership.objects.get(pk=request_a.pk)
    accounts.membership_refuse(membership=request_a, refused_by=owner_a, base_url="http://testserver/")
    with pytest.raises(accounts.AccountError):
        accounts.membership_approve(membership=membership, approved_by=owner_a, base_url="http://testserver/")


# --- Invitations -------------------------------------------------------------------------------


def invite(owner, company, email, mailoutbox) -> str:
    logged_in(owner).post(reverse("accounts:company_invite", kwargs={"pk": company.pk}), {"email": email})
    return next(path for path in links(mailoutbox[-1]) if path.startswith("/comptes/invitation/"))


def test_owner_invites_by_email_and_only_the_token_digest_is_stored(company_a, owner_a, mailoutbox):
    response = logged_in(owner_a).post(
        reverse("accounts:company_invite", kwargs={"pk": company_a.pk}), {"email": "Nouvelle@Beffroi.fr"}
    )

    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.company, invitation.email, invitation.invited_by) == (company_a, "nouvelle@beffroi.fr", owner_a)
    [message] = mailoutbox
    assert message.to == ["nouvelle@beffroi.fr"] and message.subject == "Invitation à rejoindre Brasserie du Beffroi"
    raw = links(message)[0].rstrip("/").rsplit("/", 1)[1]
    assert raw != invitation.token and len(invitation.token) == 64


def test_inviting_a_member_or_a_wrong_address_keeps_the_answer(company_a, owner_a, mailoutbox):
    client = logged_in(owner_a)
    url = reverse("accounts:company_invite", kwargs={"pk": company_a.pk})
    for email, message in [
        ("gerante@beffroi.fr", "déjà membre"),
        ("pas-une-adresse", "Saisissez une adresse e-mail valide."),
    ]:
        response = client.post(url, {"email": email})
        assert response.status_code == 200
        html = response.content.decode()
        assert message in html and f'value="{email}"' in html
    assert not Invitation.objects.exists() and not mailoutbox


def test_only_an_owner_of_the_company_can_invite(company_a, company_b, owner_a, owner_b, analyst, curator):
    colleague = member_of(company_a, "collegue@beffroi.fr", role=Member)
    url = reverse("accounts:company_invite", kwargs={"pk": company_a.pk})
    for person in (colleague, owner_b, analyst, curator):
        assert logged_in(person).post(url, {"email": "x@beffroi.fr"}).status_code == 404
    assert Client().post(url, {"email": "x@beffroi.fr"}).status_code == 302
    assert not Invitation.objects.exists()


def test_signing_up_from_an_invitation_joins_the_company_at_once(company_a, owner_a, mailoutbox):
    path = invite(owner_a, company_a, "nouvelle@beffroi.fr", mailoutbox)
    client = Client()
    page = client.get(path)
    assert page.status_code == 200 and "Rejoindre Brasserie du Beffroi" in page.content.decode()

    response = client.post(
        path, {"first_name": "Léa", "last_name": "Dupont", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 302 and response.url == reverse("accounts:company", kwargs={"pk": company_a.pk})
    user = get_user_model().objects.get(email="nouvelle@beffroi.fr")
    assert user.is_active and user.username == "nouvelle@beffroi.fr"
    membership = CompanyMembership.objects.get(user=user)
    assert (membership.company, membership.role, membership.status) == (company_a, Member, Active)
    assert client.get(response.url).status_code == 200
    assert Invitation.objects.get().accepted_at is not None


def test_invitation_sign_up_with_bad_input_keeps_the_answers(company_a, owner_a, mailoutbox):
    path = invite(owner_a, company_a, "nouvelle@beffroi.fr", mailoutbox)
    response = Client().post(path, {"first_name": "Léa", "last_name": "", "password1": PASSWORD, "password2": "x"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"last_name", "password2"}
    assert 'value="Léa"' in response.content.decode()
    assert not get_user_model().objects.filter(email="nouvelle@beffroi.fr").exists()


def test_an_invited_person_with_an_account_logs_in_and_accepts(company_a, owner_a, mailoutbox):
    invited = make_user("nouvelle@beffroi.fr")
    pending = CompanyMembership.objects.create(user=invited, company=company_a, status=Pending)
    path = invite(owner_a, company_a, "nouvelle@beffroi.fr", mailoutbox)

    anonymous = Client().get(path).content.decode()
    assert "connectez-vous pour accepter" in anonymous
    refused = Client().post(path, {"first_name": "X", "last_name": "Y", "password1": PASSWORD, "password2": PASSWORD})
    assert refused.status_code == 200 and get_user_model().objects.filter(email="nouvelle@beffroi.fr").count() == 1

    client = logged_in(invited)
    assert "Rejoindre Brasserie du Beffroi" in client.get(path).content.decode()
    response = client.post(path)

    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Active  # the pending request became the membership


def test_an_invitation_cannot_be_accepted_by_another_account(company_a, owner_a, owner_b, mailoutbox):
    path = invite(owner_a, company_a, "nouvelle@beffroi.fr", mailoutbox)
    client = logged_in(owner_b)

    page = client.get(path)
    assert "envoyée à <strong>nouvelle@beffroi.fr</strong>" in page.content.decode()
    client.post(path)

    assert not CompanyMembership.objects.filter(user=owner_b, company=company_a).exists()
    assert Invitation.objects.get().accepted_at is None


def test_used_expired_and_unknown_invitations_are_refused(company_a, owner_a, mailoutbox):
    used = invite(owner_a, company_a, "nouvelle@beffroi.fr", mailoutbox)
    Client().post(used, {"first_name": "Léa", "last_name": "Dupont", "password1": PASSWORD, "password2": PASSWORD})
    expired = invite(owner_a, company_a, "ancienne@beffroi.fr", mailoutbox)
    Invitation.objects.filter(email="ancienne@beffroi.fr").update(
        created_at=timezone.now() - accounts.INVITATION_MAX_AGE - datetime.timedelta(minutes=1)
    )
    unknown = reverse("accounts:invitation", kwargs={"token": "x" * 43})

    for path in (used, expired, unknown):
        for response in (Client().get(path), Client().post(path, {"first_name": "A", "last_name": "B"})):
            assert response.status_code == 404
            assert "Cette invitation n'est plus valable" in response.content.decode()
    assert not get_user_model().objects.filter(email="ancienne@beffroi.fr").exists()
    assert CompanyMembership.objects.filter(company=company_a).count() == 2  # the owner and Léa


def test_an_invitation_takes_over_an_unconfirmed_account_of_its_address(company_a, owner_a, mailoutbox):
    squatter = make_user("nouvelle@beffroi.fr", active=False, password="mot-de-passe-inconnu-2026")
    path = invite(owner_a, company_a, "nouvelle@beffroi.fr", mailoutbox)

    Client().post(path, {"first_name": "Léa", "last_name": "Dupont", "password1": PASSWORD, "password2": PASSWORD})

    squatter.refresh_from_db()
    assert squatter.is_active and squatter.check_password(PASSWORD) and squatter.first_name == "Léa"
    assert CompanyMembership.objects.get(user=squatter).status == Active
