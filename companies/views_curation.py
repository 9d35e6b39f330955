"""The curators' view of the companies taking part: their diagnostics' progress and the
queue of membership requests. Curators and superusers only; approving and refusing go
through views_accounts.membership_decide, which owners share."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from . import accounts
from .diagnostics import STEPS as DIAGNOSTIC_STEPS
from .forms_accounts import CurationFilterForm
from .models import Campaign, CompanyMembership
from .roles import is_curator

PAGE_SIZE = 25


def curator_required(view):
    """The one access rule of this module: anonymous visitors go to the login page,
    logged-in people who are neither curators nor superusers are refused."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_curator(request.user):
            raise PermissionDenied("Réservé aux curateurs.")
        return view(request, *args, **kwargs)

    return wrapper


def step_progress(last_step: str | None) -> dict | None:
    """{"number", "total", "label"} of a diagnostic's last saved step (None before any)."""
    if not last_step:
        return None
    for number, (key, label) in enumerate(DIAGNOSTIC_STEPS, start=1):
        if key == last_step:
            return {"number": number, "total": len(DIAGNOSTIC_STEPS), "label": label}
    return {"number": None, "total": len(DIAGNOSTIC_STEPS), "label": last_step}


def _pending_count() -> int:
    return CompanyMembership.objects.filter(status=CompanyMembership.Status.PENDING).count()


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
            "pending_count": _pending_count(),
            "filtered": bool(filters.get("q") or filters.get("avancement")),
        },
    )


@curator_required
def memberships(request):
    page = Paginator(accounts.pending_memberships_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "companies/curation_memberships.html",
        {"page": page, "pending_count": page.paginator.count},
    )
