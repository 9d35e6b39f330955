"""Company accounts: sign-up with e-mail confirmation, attaching a company by SIRET,
invitations, the approval of membership requests, the curators' verification of a
company's owner and the owners' management of their members.

Writes are services (`<entity>_<action>(*, …)`) inside `transaction.atomic`; reads are the
selectors, and they are the one place where what a person may see is scoped: a view that
lists or fetches memberships, invitations or companies for a person goes through them.

E-mails are sent once the transaction has committed, never from inside it: a rolled-back
write must not have told anybody anything.

The package re-exports its services and selectors, so callers keep writing `from companies
import accounts` and `accounts.company_attach(...)` whichever module a function lives in. The
account pages are its forms.py, views.py and urls.py (included at /comptes/), imported by
their own path: they use the services, never the other way round.
"""

from ._common import (
    INVITATION_MAX_AGE,
    MANAGER_ROLES,
    AccountError,
    Role,
    Status,
    normalize_email,
)
from .invitations import invitation_accept, invitation_create, invitation_for_token, invitation_sign_up
from .memberships import (
    AttachResult,
    company_attach,
    company_verify,
    membership_approve,
    membership_leave,
    membership_promote,
    membership_refuse,
    membership_remove,
    membership_transfer_ownership,
)
from .selectors import (
    PROGRESS_CHOICES,
    PROGRESS_NONE,
    companies_awaiting_verification,
    companies_of_member,
    company_members,
    company_open_invitations,
    company_pending_memberships,
    curation_companies,
    is_manager,
    memberships_decidable_by,
    memberships_of,
    pending_memberships_queue,
)
from .signup import (
    EmailConfirmationTokenGenerator,
    account_confirm,
    account_resend_confirmation,
    account_sign_up,
    confirmation_url,
    email_confirmation_token,
    user_for_confirmation,
    user_for_email,
)

__all__ = [
    "INVITATION_MAX_AGE",
    "MANAGER_ROLES",
    "PROGRESS_CHOICES",
    "PROGRESS_NONE",
    "AccountError",
    "AttachResult",
    "EmailConfirmationTokenGenerator",
    "Role",
    "Status",
    "account_confirm",
    "account_resend_confirmation",
    "account_sign_up",
    "companies_awaiting_verification",
    "companies_of_member",
    "company_attach",
    "company_members",
    "company_open_invitations",
    "company_pending_memberships",
    "company_verify",
    "confirmation_url",
    "curation_companies",
    "email_confirmation_token",
    "invitation_accept",
    "invitation_create",
    "invitation_for_token",
    "invitation_sign_up",
    "is_manager",
    "membership_approve",
    "membership_leave",
    "membership_promote",
    "membership_refuse",
    "membership_remove",
    "membership_transfer_ownership",
    "memberships_decidable_by",
    "memberships_of",
    "normalize_email",
    "pending_memberships_queue",
    "user_for_confirmation",
    "user_for_email",
]
