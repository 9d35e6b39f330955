"""The curators' view of the companies taking part: their diagnostics' progress, the
companies whose owner awaits verification and the queue of membership requests; and the
directory of regional contacts the company report names. Curators and superusers only;
approving and refusing requests go through companies/accounts/views.py (`membership_decide`),
which owners share."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import accounts
from .accounts.forms import CurationFilterForm
from .diagnostic.services import STEPS as DIAGNOSTIC_STEPS
from .forms_contacts import RegionalContactForm
from .models import Campaign, Company, CompanyMembership, RegionalContact
from .permissions import curator_required

PAGE_SIZE = 25


def step_progress(last_step: str | None) -> dict | None:
    """{"number", "total", "label"} of a diagnostic's last saved step (None before any)."""
    if not last_step:
        return None
    for number, (key, label) in enumerate(DIAGNOSTIC_STEPS, start=1):
        if key == last_step:
            return {"number": number, "total": len(DIAGNOSTIC_STEPS), "label": label}
    return {"number": None, "total": len(DIAGNOSTIC_STEPS), "label": last_step}


def _tab_counts() -> dict:
    """The counts the curation tabs show: pending requests and companies to verify."""
    return {
        "pending_count": CompanyMembership.objects.filter(status=CompanyMembership.Status.PENDING).count(),
        "unverified_count": accounts.companies_awaiting_verification().count(),
    }


@curator_required
def companies(request):
    default_campaign = Campaign.objects.filter(is_current=True).first() or Campaign.objects.order_by("-year").first()
    form = CurationFilterForm(request.GET or None, initial={"campagne": default_campaign})
    filters = form.cleaned_data if form.is_valid() else {}
    campaign = filters.get("campagne") or default_campaign
    queryset = accounts.curation_companies(
        campaign=campaign, progress=filters.get("avancement", ""), search=filters.get("q", "")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    for company in page:
        company.progress = step_progress(company.diagnostic_last_step)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "companies/curation_companies.html",
        {
            "form": form,
            "campaign": campaign,
            "page": page,
            "query": query.urlencode(),
            "filtered": bool(filters.get("q") or filters.get("avancement")),
            **_tab_counts(),
        },
    )


@curator_required
def memberships(request):
    page = Paginator(accounts.pending_memberships_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "companies/curation_memberships.html", {"page": page, **_tab_counts()})


@curator_required
def verifications(request):
    page = Paginator(accounts.companies_awaiting_verification(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "companies/curation_verifications.html", {"page": page, **_tab_counts()})


@curator_required
@require_POST
def company_verify(request, pk):
    company = get_object_or_404(Company, pk=pk)
    try:
        accounts.company_verify(company=company, verified_by=request.user)
        messages.success(
            request,
            _("%(company)s est vérifiée : ses diagnostics comptent désormais dans les chiffres publiés.")
            % {"company": company.name},
        )
    except accounts.AccountError as error:
        messages.info(request, str(error))
    target = request.POST.get("next") or ""
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return redirect(target if safe else reverse("accounts:curation_verifications"))


# --- The regional contacts directory ---------------------------------------------------------


@curator_required
def contacts(request):
    queryset = RegionalContact.objects.prefetch_related("territories", "sections").order_by("name")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "companies/curation_contacts.html", {"page": page, **_tab_counts()})


@curator_required
def contact_edit(request, pk=None):
    """Create a contact (`pk` None) or edit one."""
    contact = get_object_or_404(RegionalContact, pk=pk) if pk is not None else None
    form = RegionalContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        message = _("« %(name)s » est enregistré.") if contact else _("« %(name)s » est ajouté à l'annuaire.")
        messages.success(request, message % {"name": saved.name})
        return redirect("accounts:curation_contacts")
    return render(request, "companies/curation_contact_form.html", {"form": form, "contact": contact, **_tab_counts()})


@curator_required
def contact_delete(request, pk):
    contact = get_object_or_404(RegionalContact, pk=pk)
    if request.method == "POST":
        contact.delete()
        messages.success(request, _("« %(name)s » est retiré de l'annuaire.") % {"name": contact.name})
        return redirect("accounts:curation_contacts")
    return render(request, "companies/curation_contact_delete.html", {"contact": contact, **_tab_counts()})
