"""Account pages of company members: sign-up, confirmation, « Mon compte », attaching a
company, « Mon entreprise » (members, requests, invitations) and invitation links.

Access is decided by the selectors of companies/accounts.py: a company, a request or an
invitation is fetched through the queryset of what the person may see, so anything else —
another company's id, a guessed one — is a 404, never a 403 that would confirm it exists.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import accounts
from .forms_accounts import (
    AttachCompanyForm,
    EmailAuthenticationForm,
    InvitationForm,
    InvitationSignUpForm,
    SignUpForm,
)
from .models import CompanyMembership

# Accounts are created by these views, not by a backend: say which one logs them in.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

login_view = LoginView.as_view(authentication_form=EmailAuthenticationForm)


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


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


def _company_page(request, company, invitation_form=None):
    is_manager = accounts.is_manager(request.user, company)
    context = {
        "company": company,
        "members": accounts.company_members(company),
        "is_manager": is_manager,
        "pending": accounts.company_pending_memberships(company) if is_manager else [],
        "invitations": accounts.company_open_invitations(company) if is_manager else [],
        "invitation_form": invitation_form or (InvitationForm(company=company) if is_manager else None),
    }
    return render(request, "accounts/company.html", context)


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
    accounts.invitation_create(
        company=company, email=form.cleaned_data["email"], invited_by=request.user, base_url=_base_url(request)
    )
    email = form.cleaned_data["email"]
    messages.success(request, _("Invitation envoyée à %(email)s. Le lien est valable 7 jours.") % {"email": email})
    return redirect("accounts:company", pk=company.pk)


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
