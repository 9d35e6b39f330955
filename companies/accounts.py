"""Company accounts: sign-up with e-mail confirmation, attaching a company by SIRET,
invitations and the approval of membership requests.

Writes are services (`<entity>_<action>(*, …)`) inside `transaction.atomic`; reads are the
selectors at the end of the module, and they are the one place where what a person may see
is scoped: a view that lists or fetches memberships, invitations or companies for a person
goes through them.

E-mails are sent once the transaction has committed, never from inside it: a rolled-back
write must not have told anybody anything.
"""

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import (
    Campaign,
    Company,
    CompanyMembership,
    Diagnostic,
    DiagnosticJob,
    Establishment,
    Invitation,
    Sector,
    Territory,
)
from .roles import is_curator

Role = CompanyMembership.Role
Status = CompanyMembership.Status

# An invitation link works for this long, then the owner sends a new one.
INVITATION_MAX_AGE = datetime.timedelta(days=getattr(settings, "COMPANY_INVITATION_MAX_AGE_DAYS", 7))
# Who may invite, approve and refuse for a company.
MANAGER_ROLES = (Role.OWNER,)


class AccountError(Exception):
    """A request the rules refuse; the message is French and meant for the person."""


class EmailConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """Tokens for the confirmation link. `is_active` is part of the hash, so a link stops
    working once the account is confirmed (a second click cannot log anybody in again), and
    the distinct salt keeps password-reset tokens from confirming an address and the other
    way round. Links expire after PASSWORD_RESET_TIMEOUT (3 days by default)."""

    key_salt = "companies.accounts.EmailConfirmationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.is_active}{user.email}{user.password}{timestamp}"


email_confirmation_token = EmailConfirmationTokenGenerator()


def normalize_email(email: str) -> str:
    """Addresses are compared and stored lower-case: the address is also the username, and
    people do not type it the same way twice (phones capitalise the first letter)."""
    return email.strip().lower()


def _hash_token(raw: str) -> str:
    # Only the digest is stored: a copy of the database gives no usable invitation link.
    return hashlib.sha256(raw.encode()).hexdigest()


def _absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _send(template: str, *, to: list[str], context: dict) -> None:
    """Render accounts/email/<template>_subject.txt and _body.txt and send them."""
    subject = " ".join(render_to_string(f"accounts/email/{template}_subject.txt", context).split())
    body = render_to_string(f"accounts/email/{template}_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)


# --- Sign-up and e-mail confirmation ----------------------------------------------------


def user_for_email(email: str):
    """The account that already uses this address, as its username or its e-mail."""
    email = normalize_email(email)
    User = get_user_model()
    return User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).order_by("pk").first()


def confirmation_url(*, user, base_url: str) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = email_confirmation_token.make_token(user)
    return _absolute(base_url, reverse("accounts:confirm", kwargs={"uidb64": uidb64, "token": token}))


def account_sign_up(*, email: str, password: str, first_name: str, last_name: str, base_url: str):
    """Create an inactive account and send its confirmation link.

    When the address is already taken the person sees the same « check your inbox » page and
    the owner of the address gets an e-mail instead (a login and reset link, or a fresh
    confirmation link): the form must not tell a stranger which addresses have an account.
    The existing account is left untouched (its password is not replaced). Returns the new
    user, or None when the address was already in use."""
    email = normalize_email(email)
    User = get_user_model()
    with transaction.atomic():
        existing = user_for_email(email)
        if existing is None:
            user = User.objects.create_user(
                username=email,
                email=email,
                password=password,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                is_active=False,
            )
    if existing is not None:
        context = {
            "user": existing,
            "login_url": _absolute(base_url, reverse("login")),
            "reset_url": _absolute(base_url, reverse("password_reset")),
            "confirm_url": None if existing.is_active else confirmation_url(user=existing, base_url=base_url),
        }
        _send("account_exists", to=[existing.email or email], context=context)
        return None
    _send("confirm", to=[email], context={"user": user, "confirm_url": confirmation_url(user=user, base_url=base_url)})
    return user


def user_for_confirmation(*, uidb64: str, token: str):
    """The account a confirmation link is for, or None when the link is wrong, expired or
    already used. Every failure looks the same, so a link does not reveal which ids exist."""
    User = get_user_model()
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
        user = User.objects.get(pk=pk)
    except (TypeError, ValueError, OverflowError, User.DoesNotExist):
        return None
    if user.is_active or not email_confirmation_token.check_token(user, token):
        return None
    return user


def account_confirm(*, user):
    """Activate the account. Idempotent: a second call changes nothing."""
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
    return user


# --- Attaching a company -----------------------------------------------------------------


@dataclass
class AttachResult:
    membership: CompanyMembership
    created: bool  # False when the person already belonged to (or had asked to join) the company


def company_attach(
    *,
    user,
    siret: str,
    name: str,
    sector: Sector | None = None,
    commune: Territory | None = None,
    size_band: str = "",
    base_url: str,
) -> AttachResult:
    """Attach a person to the company of a SIRET (its SIREN is the first nine digits).

    A company nobody holds yet is the person's at once: an active owner membership, and the
    company and establishment are created when unknown (the establishment only when its
    sector, commune and size band are given: the diagnostic asks for them otherwise).
    A company that already has active members only gets a pending request, which an owner
    or a curator approves; its owners are told by e-mail.
    """
    siren = siret[:9]
    with transaction.atomic():
        company, _created = Company.objects.get_or_create(siren=siren, defaults={"name": name.strip()})
        # Lock the company row so that two people claiming it at once cannot both become owner.
        company = Company.objects.select_for_update().get(pk=company.pk)
        existing = CompanyMembership.objects.filter(user=user, company=company).first()
        if existing is not None:
            return AttachResult(membership=existing, created=False)
        has_members = company.memberships.filter(status=Status.ACTIVE).exists()
        if has_members:
            membership = CompanyMembership.objects.create(
                user=user, company=company, role=Role.MEMBER, status=Status.PENDING
            )
        else:
            membership = CompanyMembership.objects.create(
                user=user, company=company, role=Role.OWNER, status=Status.ACTIVE
            )
            if sector and commune and size_band and not Establishment.objects.filter(siret=siret).exists():
                Establishment.objects.create(
                    siret=siret, company=company, sector=sector, commune=commune, size_band=size_band
                )
        owners = list(
            get_user_model()
            .objects.filter(
                memberships__company=company,
                memberships__status=Status.ACTIVE,
                memberships__role__in=MANAGER_ROLES,
            )
            .exclude(pk=user.pk)
        )
    if membership.status == Status.PENDING and owners:
        _send(
            "membership_requested",
            to=[owner.email for owner in owners if owner.email],
            context={
                "requester": user,
                "company": company,
                "company_url": _absolute(base_url, reverse("accounts:company", kwargs={"pk": company.pk})),
            },
        )
    return AttachResult(membership=membership, created=True)


# --- Approving and refusing membership requests ------------------------------------------


def membership_approve(*, membership: CompanyMembership, approved_by, base_url: str) -> CompanyMembership:
    """Turn a pending request into an active membership. A request approved twice (two tabs,
    an owner and a curator at once) is approved once: the second time, like a request
    refused meanwhile, raises AccountError and changes nothing."""
    with transaction.atomic():
        locked = CompanyMembership.objects.select_for_update().filter(pk=membership.pk).first()
        if locked is None:
            raise AccountError(_("Cette demande a déjà été refusée."))
        if locked.status == Status.ACTIVE:
            raise AccountError(_("Cette demande a déjà été acceptée."))
        # A company whose members all left gets its new member as owner, not an orphan.
        has_members = CompanyMembership.objects.filter(company_id=locked.company_id, status=Status.ACTIVE).exists()
        locked.status = Status.ACTIVE
        locked.role = Role.MEMBER if has_members else Role.OWNER
        locked.save(update_fields=["status", "role"])
        locked = CompanyMembership.objects.select_related("user", "company").get(pk=locked.pk)
    if locked.user.email:
        _send(
            "membership_approved",
            to=[locked.user.email],
            context={
                "membership": locked,
                "approved_by": approved_by,
                "account_url": _absolute(base_url, reverse("accounts:account")),
            },
        )
    return locked


def membership_refuse(*, membership: CompanyMembership, refused_by, base_url: str) -> None:
    """Refuse a pending request: it is deleted, so the person may ask again later. An active
    membership is not touched (the request was approved meanwhile) and raises AccountError."""
    with transaction.atomic():
        locked = (
            CompanyMembership.objects.select_for_update()
            .select_related("user", "company")
            .filter(pk=membership.pk)
            .first()
        )
        if locked is None:
            return
        if locked.status != Status.PENDING:
            raise AccountError(_("Cette demande a déjà été acceptée."))
        user, company = locked.user, locked.company
        locked.delete()
    if user.email:
        _send(
            "membership_refused",
            to=[user.email],
            context={
                "user": user,
                "company": company,
                "account_url": _absolute(base_url, reverse("accounts:account")),
            },
        )


# --- Invitations ----------------------------------------------------------------------------


def invitation_create(*, company: Company, email: str, invited_by, base_url: str) -> tuple[Invitation, str]:
    """Invite an address to join the company; returns the invitation and the raw token that
    the e-mailed link carries (only its digest is stored)."""
    email = normalize_email(email)
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            company=company, email=email, token=_hash_token(raw), invited_by=invited_by
        )
    _send(
        "invitation",
        to=[email],
        context={
            "invitation": invitation,
            "company": company,
            "invited_by": invited_by,
            "invitation_url": _absolute(base_url, reverse("accounts:invitation", kwargs={"token": raw})),
            "expires_on": timezone.localtime(invitation.created_at + INVITATION_MAX_AGE),
        },
    )
    return invitation, raw


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation of a link, or None when the link is unknown, used or expired."""
    if not token or len(token) > 100:
        return None
    invitation = Invitation.objects.select_related("company", "invited_by").filter(token=_hash_token(token)).first()
    if invitation is None or invitation.accepted_at is not None:
        return None
    if invitation.created_at < timezone.now() - INVITATION_MAX_AGE:
        return None
    return invitation


def invitation_accept(*, invitation: Invitation, user) -> CompanyMembership:
    """Join the company with the account of the invited address. A pending request of the
    same person becomes active; an owner stays owner."""
    if normalize_email(user.email or "") != normalize_email(invitation.email):
        raise AccountError(_("Cette invitation a été envoyée à une autre adresse e-mail."))
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise AccountError(_("Cette invitation a déjà été utilisée."))
        membership, _created = CompanyMembership.objects.get_or_create(
            user=user, company_id=locked.company_id, defaults={"role": Role.MEMBER, "status": Status.ACTIVE}
        )
        if membership.status != Status.ACTIVE:
            membership.status = Status.ACTIVE
            membership.save(update_fields=["status"])
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
    return membership


def invitation_sign_up(*, invitation: Invitation, password: str, first_name: str, last_name: str):
    """Create the account of an invited person and join the company. The link reached the
    invited address, which proves it: the account is active at once. An account of that
    address that was never confirmed is taken over the same way (whoever created it could
    not read the address's mail); a confirmed one must log in instead."""
    User = get_user_model()
    email = normalize_email(invitation.email)
    with transaction.atomic():
        user = user_for_email(email)
        if user is not None and user.is_active:
            raise AccountError(_("Un compte existe déjà pour cette adresse : connectez-vous pour accepter."))
        if user is None:
            user = User(username=email, email=email)
        user.first_name = first_name.strip()
        user.last_name = last_name.strip()
        user.is_active = True
        user.set_password(password)
        user.save()
        invitation_accept(invitation=invitation, user=user)
    return user


# --- Selectors: what a person may see --------------------------------------------------------


def memberships_of(user) -> QuerySet[CompanyMembership]:
    """A person's memberships (active and pending), with their company."""
    return CompanyMembership.objects.filter(user=user).select_related("company").order_by("company__name")


def companies_of_member(user) -> QuerySet[Company]:
    """The companies a person is an active member of: every company page is fetched from it,
    so another company's id gives a 404."""
    if not user.is_authenticated:
        return Company.objects.none()
    return Company.objects.filter(memberships__user=user, memberships__status=Status.ACTIVE)


def is_manager(user, company: Company) -> bool:
    return CompanyMembership.objects.filter(
        user=user, company=company, status=Status.ACTIVE, role__in=MANAGER_ROLES
    ).exists()


def company_members(company: Company) -> QuerySet[CompanyMembership]:
    return (
        CompanyMembership.objects.filter(company=company, status=Status.ACTIVE)
        .select_related("user")
        .order_by("role", "user__last_name", "user__first_name", "user__email")
    )


def company_pending_memberships(company: Company) -> QuerySet[CompanyMembership]:
    return (
        CompanyMembership.objects.filter(company=company, status=Status.PENDING)
        .select_related("user")
        .order_by("created_at")
    )


def company_open_invitations(company: Company) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        company=company, accepted_at__isnull=True, created_at__gte=timezone.now() - INVITATION_MAX_AGE
    ).order_by("-created_at")


def memberships_decidable_by(user) -> QuerySet[CompanyMembership]:
    """The memberships whose requests a person may approve or refuse: curators (and
    superusers) all of them, an owner those of their own companies, anybody else none.
    Active ones are included so that a second click says « already approved » instead of
    a 404; the services only ever change pending ones."""
    memberships = CompanyMembership.objects.select_related("user", "company")
    if not user.is_authenticated:
        return memberships.none()
    if is_curator(user):
        return memberships
    managed = CompanyMembership.objects.filter(user=user, status=Status.ACTIVE, role__in=MANAGER_ROLES)
    return memberships.filter(company_id__in=managed.values("company_id"))


def pending_memberships_queue() -> QuerySet[CompanyMembership]:
    """Every pending request, oldest first, with how many active members its company has
    (none means that the requester would have become owner: worth a closer look)."""
    active = (
        CompanyMembership.objects.filter(company=OuterRef("company"), status=Status.ACTIVE)
        .values("company")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        CompanyMembership.objects.filter(status=Status.PENDING)
        .select_related("user", "company")
        .annotate(active_members=Coalesce(Subquery(active, output_field=IntegerField()), Value(0)))
        .order_by("created_at", "pk")
    )


# Progress filter of the curator's list.
PROGRESS_NONE = "none"
PROGRESS_CHOICES = (
    (PROGRESS_NONE, gettext_lazy("Pas encore commencé")),
    (Diagnostic.Status.DRAFT, gettext_lazy("Brouillon en cours")),
    (Diagnostic.Status.SUBMITTED, gettext_lazy("Envoyé")),
)


def curation_companies(*, campaign: Campaign | None, progress: str = "", search: str = "") -> QuerySet[Company]:
    """The companies taking part (an account, a request or a diagnostic), each annotated with
    its diagnostic of `campaign` (status, last step, jobs, last change) and its members.
    One query whatever the page size: everything comes from correlated subqueries."""
    diagnostics = Diagnostic.objects.filter(company=OuterRef("pk"), campaign=campaign)
    jobs = (
        DiagnosticJob.objects.filter(diagnostic__company=OuterRef("pk"), diagnostic__campaign=campaign)
        .values("diagnostic__company")
        .annotate(n=Count("pk"))
        .values("n")
    )

    def members(status):
        return (
            CompanyMembership.objects.filter(company=OuterRef("pk"), status=status)
            .values("company")
            .annotate(n=Count("pk"))
            .values("n")
        )

    companies = Company.objects.filter(
        Q(pk__in=CompanyMembership.objects.values("company_id")) | Q(pk__in=Diagnostic.objects.values("company_id"))
    ).annotate(
        diagnostic_status=Subquery(diagnostics.values("status")[:1]),
        diagnostic_last_step=Subquery(diagnostics.values("last_step")[:1]),
        diagnostic_updated_at=Subquery(diagnostics.values("updated_at")[:1]),
        diagnostic_submitted_at=Subquery(diagnostics.values("submitted_at")[:1]),
        diagnostic_jobs=Coalesce(Subquery(jobs, output_field=IntegerField()), Value(0)),
        active_members=Coalesce(Subquery(members(Status.ACTIVE), output_field=IntegerField()), Value(0)),
        pending_members=Coalesce(Subquery(members(Status.PENDING), output_field=IntegerField()), Value(0)),
    )
    if progress == PROGRESS_NONE:
        companies = companies.filter(diagnostic_status__isnull=True)
    elif progress in Diagnostic.Status.values:
        companies = companies.filter(diagnostic_status=progress)
    search = search.strip()
    if search:
        digits = search.replace(" ", "")
        if digits.isdigit():
            # A SIRET typed in full finds its company too.
            companies = companies.filter(siren__startswith=digits[:9])
        else:
            companies = companies.filter(name__icontains=search)
    return companies.order_by("name", "pk")
