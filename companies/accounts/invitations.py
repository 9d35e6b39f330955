"""Invitations to join a company, sent to an e-mail address."""

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Company, CompanyMembership, Invitation
from ._common import INVITATION_MAX_AGE, AccountError, Role, Status, _absolute, _hash_token, _send, normalize_email
from .signup import user_for_email


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
