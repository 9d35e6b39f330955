"""Account pages of company members: sign-up, confirmation, password reset, « Mon compte »,
attaching a company, « Mon entreprise » (members, requests, invitations, owners managing
their members) and invitation links.

Access is decided by the selectors of companies/accounts: a company, a request or an
invitation is fetched through the queryset of what the person may see, so anything else —
another company's id, a guessed one — is a 404, never a 403 that would confirm it exists.

Every form that makes the site send an e-mail to a typed address (sign-up, « resend the
link », password reset, invitation) first asks companies/ratelimit.py. Over the limit nothing
is sent and the form comes back with a French message and HTTP 429 (Too Many Requests); the
message is the same whether or not an account exists for the address.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordResetView
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from .. import accounts, ratelimit
from ..models import CompanyMembership
from .forms import (
    AttachCompanyForm,
    EmailAuthenticationForm,
    InvitationForm,
    InvitationSignUpForm,
    ResendConfirmationForm,
    SignUpForm,
)

# Accounts are created by these views, not by a backend: say which one logs them in.
MODEL_BACKEND = "companies.accounts.backends.CachedModelBackend"

login_view = LoginView.as_view(authentication_form=EmailAuthenticationForm)

TOO_MANY_ACCOUNT_EMAILS = _lazy(
    "Trop d'e-mails ont été demandés pour cette adresse ou depuis votre connexion : aucun e-mail n'a été "
    "envoyé. Réessayez dans une heure."
)
TOO_MANY_INVITATIONS = _lazy(
    "Trop d'invitations ont été envoyées à cette adresse ou depuis votre connexion : celle-ci n'est pas "
    "partie. Réessayez dans une heure."
)


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


def _too_many(request, form, template: str):
    """The form again, with the rate limit's message above it: nothing was sent."""
    form.add_error(None, TOO_MANY_ACCOUNT_EMAILS)
    return render(request, template, {"form": form}, status=429)


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


# --- Sign-up and confirmation ------------------------------------------------------------------


def signup(request):
    if request.user.is_authenticated:
        return redirect("accounts:account")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.email_allowed(request, action=ratelimit.ACCOUNT_EMAIL, email=form.cleaned_data["email"]):
            return _too_many(request, form, "accounts/signup.html")
        accounts.account_sign_up(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            base_url=_base_url(request),
        )
        request.session["signup_email"] = form.cleaned_data["email"]
        return redirect("accounts:signup_sent")
    return render(request, "accounts/signup.html", {"form": form})


def signup_sent(request):
    return render(request, "accounts/signup_sent.html", {"email": request.session.get("signup_email", "")})


def resend_confirmation(request):
    """A new confirmation link, for a person whose first one was lost or has expired. The
    answer is the same for every address."""
    form = ResendConfirmationForm(request.POST or None, initial={"email": request.session.get("signup_email", "")})
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if not ratelimit.email_allowed(request, action=ratelimit.ACCOUNT_EMAIL, email=email):
            return _too_many(request, form, "accounts/resend_confirmation.html")
        accounts.account_resend_confirmation(email=email, base_url=_base_url(request))
        messages.success(
            request,
            _(
                "Si une inscription attend sa confirmation à l'adresse %(email)s, un nouveau lien vient d'y être "
                "envoyé (valable 3 jours)."
            )
            % {"email": email},
        )
        return redirect("accounts:resend_confirmation")
    return render(request, "accounts/resend_confirmation.html", {"form": form})


class RateLimitedPasswordResetView(PasswordResetView):
    """Django's password reset, which sends its e-mail only within the limits of
    companies/ratelimit.py (the same budget as the sign-up e-mails of the address)."""

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        if not ratelimit.email_allowed(self.request, action=ratelimit.ACCOUNT_EMAIL, email=email):
            form.add_error(None, TOO_MANY_ACCOUNT_EMAILS)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


password_reset = RateLimitedPasswordResetView.as_view()


def confirm(request, uidb64, token):
    """GET shows a button, POST confirms: mail scanners that follow links must not confirm
    (and log in) on the person's behalf."""
    user = accounts.user_for_confirmation(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "accounts/confirm_invalid.html", status=404)
    if request.method == "POST":
        user = accounts.account_confirm(user=user)
        login(request, user, backend=MODEL_BACKEND)
        messages.success(request, _("Votre adresse est confirmée. Bienvenue !"))
        return redirect("accounts:attach_company")
    return render(request, "accounts/confirm.html", {"confirmed_user": user})


# --- My account and my company ----------------------------------------------------------------


@login_required
def account(request):
    memberships = list(accounts.memberships_of(request.user))
    return render(
        request,
        "accounts/account.html",
        {
            "active_memberships": [m for m in memberships if m.status == CompanyMembership.Status.ACTIVE],
            "pending_memberships": [m for m in memberships if m.status == CompanyMembership.Status.PENDING],
        },
    )


@login_required
def attach_company(request):
    form = AttachCompanyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = accounts.company_attach(
            user=request.user,
            siret=data["siret"],
            name=data["name"],
            sector=data["naf"],
            commune=data["commune"],
            size_band=data["size_band"],
            base_url=_base_url(request),
        )
        membership = result.membership
        company = membership.company
        if membership.status == CompanyMembership.Status.ACTIVE:
            if result.created:
                messages.success(request, _("%(name)s est rattachée à votre compte.") % {"name": company.name})
            else:
                messages.info(request, _("Vous êtes déjà membre de %(name)s.") % {"name": company.name})
            return redirect("accounts:company", pk=company.pk)
        if result.created:
            messages.success(
                request,
                _(
                    "%(name)s a déjà des membres : votre demande leur a été transmise. Vous recevrez un e-mail "
                    "dès qu'elle sera acceptée."
                )
                % {"name": company.name},
            )
        else:
            messages.info(request, _("Votre demande pour %(name)s est déjà en attente.") % {"name": company.name})
        return redirect("accounts:account")
    return render(request, "accounts/attach_company.html", {"form": form})


def _company_page(request, company, invitation_form=None, status=200):
    members = list(accounts.company_members(company))
    own = next((m for m in members if m.user_id == request.user.pk), None)
    is_manager = own is not None and own.role in accounts.MANAGER_ROLES
    owner_count = sum(1 for m in members if m.role in accounts.MANAGER_ROLES)
    context = {
        "company": company,
        "members": members,
        "is_manager": is_manager,
        # The last owner may not leave: the page says why instead of offering the button.
        "can_leave": own is not None and not (is_manager and owner_count == 1),
        "pending": accounts.company_pending_memberships(company) if is_manager else [],
        "invitations": accounts.company_open_invitations(company) if is_manager else [],
        "invitation_form": invitation_form or (InvitationForm(company=company) if is_manager else None),
    }
    return render(request, "accounts/company.html", context, status=status)


@login_required
def company(request, pk):
    company = get_object_or_404(accounts.companies_of_member(request.user), pk=pk)
    return _company_page(request, company)


@login_required
@require_POST
def company_invite(request, pk):
    company = get_object_or_404(accounts.companies_of_member(request.user), pk=pk)
    if not accounts.is_manager(request.user, company):
        raise Http404
    form = InvitationForm(request.POST, company=company)
    if not form.is_valid():
        return _company_page(request, company, invitation_form=form)
    if not ratelimit.email_allowed(request, action=ratelimit.INVITATION, email=form.cleaned_data["email"]):
        form.add_error("email", TOO_MANY_INVITATIONS)
        return _company_page(request, company, invitation_form=form, status=429)
    accounts.invitation_create(
        company=company, email=form.cleaned_data["email"], invited_by=request.user, base_url=_base_url(request)
    )
    email = form.cleaned_data["email"]
    messages.success(request, _("Invitation envoyée à %(email)s. Le lien est valable 7 jours.") % {"email": email})
    return redirect("accounts:company", pk=company.pk)


def _person(user) -> str:
    return user.get_full_name() or user.email or user.username


def _managed_company(request, pk):
    """The company of the URL, if the person is one of its active owners; 404 otherwise (a
    plain member, another company's owner, an analyst or a curator alike)."""
    company = get_object_or_404(accounts.companies_of_member(request.user), pk=pk)
    if not accounts.is_manager(request.user, company):
        raise Http404
    return company


def _after_change(request, company):
    """Back to the company page, or to « Mon compte » for a person who no longer belongs."""
    if accounts.companies_of_member(request.user).filter(pk=company.pk).exists():
        return redirect("accounts:company", pk=company.pk)
    return redirect("accounts:account")


@login_required
def member_action(request, pk, membership_pk, action):
    """An owner removes a member, makes them owner too, or hands them the owner role. GET
    shows what will happen and a button that names it; POST does it."""
    company = _managed_company(request, pk)
    membership = get_object_or_404(accounts.company_members(company), pk=membership_pk)
    if membership.user_id == request.user.pk:
        # Taking oneself out is leaving, with its own page and its last-owner rule.
        return redirect("accounts:company_leave", pk=company.pk)
    names = {"person": _person(membership.user), "company": company.name}
    if action in ("promote", "transfer") and membership.role in accounts.MANAGER_ROLES:
        messages.info(request, _("%(person)s est déjà responsable de %(company)s.") % names)
        return redirect("accounts:company", pk=company.pk)
    if request.method == "POST":
        try:
            if action == "remove":
                accounts.membership_remove(company=company, membership_id=membership.pk, removed_by=request.user)
                message = _("%(person)s ne fait plus partie de %(company)s.")
            elif action == "promote":
                accounts.membership_promote(company=company, membership_id=membership.pk, promoted_by=request.user)
                message = _("%(person)s est maintenant responsable de %(company)s, comme vous.")
            else:
                accounts.membership_transfer_ownership(
                    company=company, membership_id=membership.pk, transferred_by=request.user
                )
                message = _("%(person)s est maintenant responsable de %(company)s ; vous en êtes membre.")
        except accounts.AccountError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, message % names)
        return _after_change(request, company)
    context = {"company": company, "membership": membership, "person": names["person"], "action": action}
    return render(request, "accounts/member_confirm.html", context)


@login_required
def company_leave(request, pk):
    """A member leaves the company; the last owner is told to hand the role on first."""
    company = get_object_or_404(accounts.companies_of_member(request.user), pk=pk)
    if request.method == "POST":
        try:
            accounts.membership_leave(company=company, user=request.user)
        except accounts.AccountError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Vous avez quitté %(company)s.") % {"company": company.name})
        return _after_change(request, company)
    members = list(accounts.company_members(company))
    own = next((m for m in members if m.user_id == request.user.pk), None)
    if own is None:  # removed between the two queries
        raise Http404
    owners = [m for m in members if m.role in accounts.MANAGER_ROLES]
    context = {
        "company": company,
        "action": "leave",
        "last_owner": own.role in accounts.MANAGER_ROLES and len(owners) == 1,
        "has_other_members": len(members) > 1,
    }
    return render(request, "accounts/member_confirm.html", context)


@login_required
@require_POST
def membership_decide(request, pk, decision):
    """Approve or refuse a request: owners for their company, curators for any."""
    membership = get_object_or_404(accounts.memberships_decidable_by(request.user), pk=pk)
    person = membership.user.get_full_name() or membership.user.email
    try:
        if decision == "approve":
            accounts.membership_approve(membership=membership, approved_by=request.user, base_url=_base_url(request))
            names = {"person": person, "company": membership.company.name}
            messages.success(request, _("%(person)s a rejoint %(company)s.") % names)
        else:
            accounts.membership_refuse(membership=membership, refused_by=request.user, base_url=_base_url(request))
            messages.success(request, _("La demande de %(person)s a été refusée.") % {"person": person})
    except accounts.AccountError as error:
        messages.info(request, str(error))
    fallback = reverse("accounts:company", kwargs={"pk": membership.company_id})
    if not accounts.companies_of_member(request.user).filter(pk=membership.company_id).exists():
        fallback = reverse("accounts:curation_memberships")
    return redirect(_safe_next(request, fallback))


# --- Invitation links ----------------------------------------------------------------------


def invitation(request, token):
    invitation = accounts.invitation_for_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    user = request.user
    context = {"invitation": invitation, "company": invitation.company}

    if user.is_authenticated:
        matches = accounts.normalize_email(user.email or "") == invitation.email
        if request.method == "POST" and matches:
            try:
                accounts.invitation_accept(invitation=invitation, user=user)
            except accounts.AccountError as error:
                messages.error(request, str(error))
                return redirect("accounts:account")
            messages.success(request, _("Vous avez rejoint %(name)s.") % {"name": invitation.company.name})
            return redirect("accounts:company", pk=invitation.company_id)
        context["email_matches"] = matches
        return render(request, "accounts/invitation.html", context)

    existing = accounts.user_for_email(invitation.email)
    context["has_account"] = existing is not None and existing.is_active
    form = InvitationSignUpForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and not context["has_account"] and form.is_valid():
        try:
            new_user = accounts.invitation_sign_up(
                invitation=invitation,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except accounts.AccountError as error:
            messages.error(request, str(error))
            return redirect("accounts:invitation", token=token)
        login(request, new_user, backend=MODEL_BACKEND)
        messages.success(request, _("Bienvenue ! Vous avez rejoint %(name)s.") % {"name": invitation.company.name})
        return redirect("accounts:company", pk=invitation.company_id)
    context["form"] = form
    return render(request, "accounts/invitation.html", context)
