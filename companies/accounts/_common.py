"""What every part of the account services shares: the role constants, the error the rules
raise, address normalisation and sending a templated e-mail."""

import datetime
import hashlib

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from ..models import CompanyMembership

Role = CompanyMembership.Role
Status = CompanyMembership.Status

# An invitation link works for this long, then the owner sends a new one.
INVITATION_MAX_AGE = datetime.timedelta(days=getattr(settings, "COMPANY_INVITATION_MAX_AGE_DAYS", 7))
# Who may invite, approve and refuse for a company.
MANAGER_ROLES = (Role.OWNER,)


class AccountError(Exception):
    """A request the rules refuse; the message is French and meant for the person."""


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
