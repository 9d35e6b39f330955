"""Rate limits on the e-mails a visitor can make the site send, counted in Django's cache.

Anybody can type any address into the sign-up, « resend the link », password-reset or
invitation forms, so without a limit the site could be made to flood an inbox, and our
sending domain would end up on spam lists. django-axes already limits failed logins; this
module limits the e-mails.

Counters are fixed windows: the key carries the number of the window (`now // window`), so a
new hour starts a new key and the old one simply expires. `cache.add` (set only if missing)
and `cache.incr` are atomic on Redis and on the local-memory cache, so two requests at once
cannot both take the last place. A fixed window lets a burst straddle its boundary (at most
twice the limit within a few minutes), which is enough to stop abuse and keeps one key per
counter.

The clock is `clock()`, which tests replace to move to the next window.
"""

import hashlib
import time
from dataclasses import dataclass

from axes.helpers import get_client_ip_address
from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    """At most `count` attempts per `window` seconds for one value of `scope`."""

    scope: str
    count: int
    window: int


HOUR = 60 * 60

# E-mails about an account (sign-up confirmation, « resend the link », password reset) share
# one budget per address: a person needs one or two, three leaves room for a typo in the
# spam folder, and a stranger cannot send more than three a hour to somebody else's inbox.
ACCOUNT_EMAIL_PER_ADDRESS = Limit("address", 3, HOUR)
# Per client IP (as django-axes sees it, behind the same proxy settings): an office behind
# one address signs up a handful of people; 20 an hour is far above that and far below what
# a script would need to spray many inboxes.
ACCOUNT_EMAIL_PER_IP = Limit("ip", 20, HOUR)
# Invitations: an owner may resend a lost one, but not pester an address.
INVITATION_PER_ADDRESS = Limit("address", 3, HOUR)
# An owner invites a whole team in one sitting, so more than for sign-ups; still bounded,
# since an owner's account is only as safe as its password.
INVITATION_PER_IP = Limit("ip", 30, HOUR)

ACCOUNT_EMAIL = "account-email"
INVITATION = "invitation"
EMAIL_LIMITS = {
    ACCOUNT_EMAIL: (ACCOUNT_EMAIL_PER_IP, ACCOUNT_EMAIL_PER_ADDRESS),
    INVITATION: (INVITATION_PER_IP, INVITATION_PER_ADDRESS),
}


def clock() -> float:
    """Seconds since the epoch; tests replace it."""
    return time.time()


def _key(action: str, limit: Limit, value: str, window_number: int) -> str:
    # Hashed: the cache holds no e-mail address, and every key has the same short length.
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"ratelimit:{action}:{limit.scope}:{limit.window}:{digest}:{window_number}"


def _count(action: str, limit: Limit, value: str, now: float) -> int:
    """Add one attempt to the counter of the current window; returns the new count."""
    window_number = int(now // limit.window)
    key = _key(action, limit, value, window_number)
    # Until the end of this window, plus a minute so that a slow clock never reads a fresh key.
    timeout = int((window_number + 1) * limit.window - now) + 60
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:
        # The key expired (or was evicted) between add and incr: this attempt is its first.
        cache.add(key, 1, timeout=timeout)
        return 1


def attempt(action: str, counted: list[tuple[Limit, str]]) -> bool:
    """Count one attempt of `action` against each (limit, value), in order, and say whether
    it is allowed. The first limit that is exceeded stops the count, so the later ones are
    not spent by refused attempts: with the IP first, a script refused for its IP does not
    use up the budget of the addresses it types. Refused attempts still count against the
    limits that refused them, which keeps a client that insists refused until the window
    ends."""
    now = clock()
    # all() stops at the first limit exceeded: the later counters are left alone.
    return all(_count(action, limit, value, now) <= limit.count for limit, value in counted)


def client_ip(request) -> str:
    """The client's address, resolved as django-axes resolves it for the login lockout."""
    return get_client_ip_address(request) or "unknown"


def email_allowed(request, *, action: str, email: str) -> bool:
    """Whether `request` may make the site send one more `action` e-mail to `email` (counted
    lower-case, as addresses are stored). Counts the attempt whether or not an account exists
    for the address: the answer must not tell."""
    per_ip, per_address = EMAIL_LIMITS[action]
    return attempt(action, [(per_ip, client_ip(request)), (per_address, email.strip().lower())])
