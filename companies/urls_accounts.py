"""Routes of the account pages and of the curators' view, included at /comptes/ before
django.contrib.auth.urls. Two of its routes are replaced here by the same path: `login/`
(a form that accepts the e-mail address in any case) and `password_reset/` (rate-limited
e-mails); `reverse("login")` and `reverse("password_reset")` still give these paths."""

from django.urls import path

from . import views_accounts, views_curation

app_name = "accounts"

urlpatterns = [
    path("", views_accounts.account, name="account"),
    path("login/", views_accounts.login_view, name="login"),
    path("inscription/", views_accounts.signup, name="signup"),
    path("inscription/envoyee/", views_accounts.signup_sent, name="signup_sent"),
    path("inscription/renvoyer-le-lien/", views_accounts.resend_confirmation, name="resend_confirmation"),
    path("password_reset/", views_accounts.password_reset, name="password_reset"),
    path("confirmer/<str:uidb64>/<str:token>/", views_accounts.confirm, name="confirm"),
    path("entreprise/rattacher/", views_accounts.attach_company, name="attach_company"),
    path("entreprises/<int:pk>/", views_accounts.company, name="company"),
    path("entreprises/<int:pk>/inviter/", views_accounts.company_invite, name="company_invite"),
    path("entreprises/<int:pk>/quitter/", views_accounts.company_leave, name="company_leave"),
    path(
        "entreprises/<int:pk>/membres/<int:membership_pk>/retirer/",
        views_accounts.member_action,
        {"action": "remove"},
        name="member_remove",
    ),
    path(
        "entreprises/<int:pk>/membres/<int:membership_pk>/nommer-responsable/",
        views_accounts.member_action,
        {"action": "promote"},
        name="member_promote",
    ),
    path(
        "entreprises/<int:pk>/membres/<int:membership_pk>/transmettre-le-role/",
        views_accounts.member_action,
        {"action": "transfer"},
        name="member_transfer",
    ),
    path(
        "adhesions/<int:pk>/accepter/",
        views_accounts.membership_decide,
        {"decision": "approve"},
        name="membership_approve",
    ),
    path(
        "adhesions/<int:pk>/refuser/",
        views_accounts.membership_decide,
        {"decision": "refuse"},
        name="membership_refuse",
    ),
    path("invitation/<str:token>/", views_accounts.invitation, name="invitation"),
    path("curation/entreprises/", views_curation.companies, name="curation_companies"),
    path("curation/adhesions/", views_curation.memberships, name="curation_memberships"),
    path("curation/verifications/", views_curation.verifications, name="curation_verifications"),
    path("curation/verifications/<int:pk>/verifier/", views_curation.company_verify, name="company_verify"),
    path("curation/contacts/", views_curation.contacts, name="curation_contacts"),
    path("curation/contacts/ajouter/", views_curation.contact_edit, name="curation_contact_create"),
    path("curation/contacts/<int:pk>/modifier/", views_curation.contact_edit, name="curation_contact_edit"),
    path("curation/contacts/<int:pk>/supprimer/", views_curation.contact_delete, name="curation_contact_delete"),
]
