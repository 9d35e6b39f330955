"""Sign-up with e-mail confirmation."""

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from ._common import _absolute, _send, normalize_email


class EmailConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """Tokens for the confirmation link. `is_active` is part of the hash, so a link stops
    working once the account is confirmed (a second click cannot log anybody in again), and
    the distinct salt keeps password-reset tokens from confirming an address and the other
    way round. Links expire after PASSWORD_RESET_TIMEOUT (3 days by default)."""

    # The module's path before it became a package: a new salt would void the links already sent.
    key_salt = "companies.accounts.EmailConfirmationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.is_active}{user.email}{user.password}{timestamp}"


email_confirmation_token = EmailConfirmationTokenGenerator()


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
        _send_account_exists(existing, email=email, base_url=base_url)
        return None
    _send("confirm", to=[email], context={"user": user, "confirm_url": confirmation_url(user=user, base_url=base_url)})
    return user


def _send_account_exists(user, *, email: str, base_url: str) -> None:
    """Tell the owner of an address that has an account how to get in: a login and reset
    link, or a fresh confirmation link while the account is not confirmed."""
    context = {
        "user": user,
        "login_url": _absolute(base_url, reverse("login")),
        "reset_url": _absolute(base_url, reverse("password_reset")),
        "confirm_url": None if user.is_active else confirmation_url(user=user, base_url=base_url),
    }
    _send("account_exists", to=[user.email or email], context=context)


def account_resend_confirmation(*, email: str, base_url: str) -> None:
    """Send a fresh confirmation link to an account that is not confirmed yet (the first one
    was lost, or has expired). An address with a confirmed account gets the login and reset
    links instead, an unknown address nothing; the page says the same in every case."""
    email = normalize_email(email)
    user = user_for_email(email)
    if user is None:
        return
    if user.is_active:
        _send_account_exists(user, email=email, base_url=base_url)
        return
    _send(
        "confirm",
        to=[user.email or email],
        context={"user": user, "confirm_url": confirmation_url(user=user, base_url=base_url)},
    )


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
