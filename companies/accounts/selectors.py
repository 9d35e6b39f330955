"""Selectors: what a person may see. Every page that lists or fetches memberships,
invitations or companies for a person goes through them."""

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ..models import Campaign, Company, CompanyMembership, Diagnostic, DiagnosticJob, Establishment, Invitation
from ..roles import is_curator
from ._common import INVITATION_MAX_AGE, MANAGER_ROLES, Status


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


def companies_awaiting_verification() -> QuerySet[Company]:
    """The companies held by an owner nobody vetted yet (claimed by SIRET, or passed to a new
    owner), oldest claim first: their diagnostics count in no published figure until a
    curator verifies them. Each comes with `claimed_at`, `submitted_diagnostics`, its active
    `owners` (with their user) and its `establishments_shown` (with sector and commune), so
    that the curator can check who claims what: one query, plus two for a page's prefetches."""
    owners = CompanyMembership.objects.filter(status=Status.ACTIVE, role__in=MANAGER_ROLES)
    submitted = (
        Diagnostic.objects.filter(company=OuterRef("pk"), status=Diagnostic.Status.SUBMITTED)
        .values("company")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Company.objects.unverified()
        .filter(pk__in=owners.values("company_id"))
        .annotate(
            claimed_at=Subquery(owners.filter(company=OuterRef("pk")).order_by("created_at").values("created_at")[:1]),
            submitted_diagnostics=Coalesce(Subquery(submitted, output_field=IntegerField()), Value(0)),
        )
        .prefetch_related(
            Prefetch("memberships", owners.select_related("user").order_by("created_at", "pk"), to_attr="owners"),
            Prefetch(
                "establishments",
                Establishment.objects.select_related("sector", "commune").order_by("siret"),
                to_attr="establishments_shown",
            ),
        )
        .order_by("claimed_at", "pk")
    )


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
