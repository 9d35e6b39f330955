"""Routes of the account pages and of the curators' view, included at /comptes/ before
django.contrib.auth.urls. Two of its routes are replaced here by the same path: `login/`
(a form that accepts the e-mail address in any case) and `password_reset/` (rate-limited
e-mails); `reverse("login")` and `reverse("password_reset")` still give these paths."""

from django.urls import path

from .. import views_curation
from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("login/", views.login_view, name="login"),
    path("inscription/", views.signup, name="signup"),
    path("inscription/envoyee/", views.signup_sent, name="signup_sent"),
    path("inscription/renvoyer-le-lien/", views.resend_confirmation, name="resend_confirmation"),
    path("password_reset/", views.password_reset, name="password_reset"),
    path("confirmer/<str:uidb64>/<str:token>/", views.confirm, name="confirm"),
    path("entreprise/rattacher/", views.attach_company, name="attach_company"),
    path("entreprises/<int:pk>/", views.company, name="company"),
    path("entreprises/<int:pk>/inviter/", views.company_invite, name="company_invite"),
    path("entreprises/<int:pk>/quitter/", views.company_leave, name="company_leave"),
    path(
        "entreprises/<int:pk>/membres/<int:membership_pk>/retirer/",
        views.member_action,
        {"action": "remove"},
        name="member_remove",
    ),
    path(
        "entreprises/<int:pk>/membres/<int:membership_pk>/nommer-responsable/",
        views.member_action,
        {"action": "promote"},
        name="member_promote",
    ),
    path(
        "entreprises/<int:pk>/membres/<int:membership_pk>/transmettre-le-role/",
        views.member_action,
        {"action": "transfer"},
        name="member_transfer",
    ),
    path(
        "adhesions/<int:pk>/accepter/",
        views.membership_decide,
        {"decision": "approve"},
        name="membership_approve",
    ),
    path(
        "adhesions/<int:pk>/refuser/",
        views.membership_decide,
        {"decision": "refuse"},
        name="membership_refuse",
    ),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("curation/entreprises/", views_curation.companies, name="curation_companies"),
    path("curation/adhesions/", views_curation.memberships, name="curation_memberships"),
    path("curation/verifications/", views_curation.verifications, name="curation_verifications"),
    path("curation/verifications/<int:pk>/verifier/", views_curation.company_verify, name="company_verify"),
    path("curation/contacts/", views_curation.contacts, name="curation_contacts"),
    path("curation/contacts/ajouter/", views_curation.contact_edit, name="curation_contact_create"),
    path("curation/contacts/<int:pk>/modifier/", views_curation.contact_edit, name="curation_contact_edit"),
    path("curation/contacts/<int:pk>/supprimer/", views_curation.contact_delete, name="curation_contact_delete"),
]
