"""Memberships: attaching a company by SIRET, approving and refusing requests, verifying a
company, owners managing their members."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Company, CompanyMembership, Establishment, JobPosition, Sector, Territory
from ..roles import is_curator
from ..signals import field_data_changed
from ._common import MANAGER_ROLES, AccountError, Role, Status, _absolute, _send


@dataclass
class AttachResult:
    membership: CompanyMembership
    created: bool  # False when the person already belonged to (or had asked to join) the company


def company_attach(
    *,
    user,
    siret: str,
    name: str,
    sector: Sector | None = None,
    commune: Territory | None = None,
    size_band: str = "",
    base_url: str,
) -> AttachResult:
    """Attach a person to the company of a SIRET (its SIREN is the first nine digits).

    A company nobody holds yet is the person's at once: an active owner membership, and the
    company and establishment are created when unknown (the establishment only when its
    sector, commune and size band are given: the diagnostic asks for them otherwise). The
    claim proves nothing, so the company is not verified (or no longer, for a known company
    such as a demo one): its diagnostic counts in no published figure until a curator
    approves the owner (`company_verify`).
    A company that already has active members only gets a pending request, which an owner
    or a curator approves; its owners are told by e-mail.
    """
    siren = siret[:9]
    with transaction.atomic():
        company, _created = Company.objects.get_or_create(siren=siren, defaults={"name": name.strip()})
        # Lock the company row so that two people claiming it at once cannot both become owner.
        company = Company.objects.select_for_update().get(pk=company.pk)
        existing = CompanyMembership.objects.filter(user=user, company=company).first()
        if existing is not None:
            return AttachResult(membership=existing, created=False)
        has_members = company.memberships.filter(status=Status.ACTIVE).exists()
        if has_members:
            membership = CompanyMembership.objects.create(
                user=user, company=company, role=Role.MEMBER, status=Status.PENDING
            )
        else:
            membership = CompanyMembership.objects.create(
                user=user, company=company, role=Role.OWNER, status=Status.ACTIVE
            )
            _unverify(company)
            if sector and commune and size_band and not Establishment.objects.filter(siret=siret).exists():
                Establishment.objects.create(
                    siret=siret, company=company, sector=sector, commune=commune, size_band=size_band
                )
        owners = list(
            get_user_model()
            .objects.filter(
                memberships__company=company,
                memberships__status=Status.ACTIVE,
                memberships__role__in=MANAGER_ROLES,
            )
            .exclude(pk=user.pk)
        )
    if membership.status == Status.PENDING and owners:
        _send(
            "membership_requested",
            to=[owner.email for owner in owners if owner.email],
            context={
                "requester": user,
                "company": company,
                "company_url": _absolute(base_url, reverse("accounts:company", kwargs={"pk": company.pk})),
            },
        )
    return AttachResult(membership=membership, created=True)


# --- Approving and refusing membership requests ------------------------------------------


def membership_approve(*, membership: CompanyMembership, approved_by, base_url: str) -> CompanyMembership:
    """Turn a pending request into an active membership. A request approved twice (two tabs,
    an owner and a curator at once) is approved once: the second time, like a request
    refused meanwhile, raises AccountError and changes nothing.

    A company whose members all left gets its new member as owner, not an orphan. Approved
    by a curator, that owner is vetted and the company verified; approved by anybody else,
    nobody vetted them and the company is not verified. Approving a plain member leaves the
    company's verification as it was."""
    with transaction.atomic():
        # The company first, then the request, as the owners' services below lock them.
        company = Company.objects.select_for_update().filter(pk=membership.company_id).first()
        locked = CompanyMembership.objects.select_for_update().filter(pk=membership.pk).first()
        if locked is None or company is None:
            raise AccountError(_("Cette demande a déjà été refusée."))
        if locked.status == Status.ACTIVE:
            raise AccountError(_("Cette demande a déjà été acceptée."))
        has_members = CompanyMembership.objects.filter(company=company, status=Status.ACTIVE).exists()
        locked.status = Status.ACTIVE
        locked.role = Role.MEMBER if has_members else Role.OWNER
        locked.save(update_fields=["status", "role"])
        if not has_members:
            if is_curator(approved_by):
                _verify(company, verified_by=approved_by)
            else:
                _unverify(company)
        locked = CompanyMembership.objects.select_related("user", "company").get(pk=locked.pk)
    if locked.user.email:
        _send(
            "membership_approved",
            to=[locked.user.email],
            context={
                "membership": locked,
                "approved_by": approved_by,
                "account_url": _absolute(base_url, reverse("accounts:account")),
            },
        )
    return locked


def membership_refuse(*, membership: CompanyMembership, refused_by, base_url: str) -> None:
    """Refuse a pending request: it is deleted, so the person may ask again later. An active
    membership is not touched (the request was approved meanwhile) and raises AccountError."""
    with transaction.atomic():
        locked = (
            CompanyMembership.objects.select_for_update()
            .select_related("user", "company")
            .filter(pk=membership.pk)
            .first()
        )
        if locked is None:
            return
        if locked.status != Status.PENDING:
            raise AccountError(_("Cette demande a déjà été acceptée."))
        user, company = locked.user, locked.company
        locked.delete()
    if user.email:
        _send(
            "membership_refused",
            to=[user.email],
            context={
                "user": user,
                "company": company,
                "account_url": _absolute(base_url, reverse("accounts:account")),
            },
        )


# --- Verifying a company -------------------------------------------------------------------
#
# `Company.verified_at` is the observatory's word that a company's owner is who they claim to
# be: only verified companies' diagnostics count (`Diagnostic.objects.counted_in_statistics`).
# These are its only writes (besides the demo seeder); each tells the observatory that the
# field data it counts has changed when the company has a submitted diagnostic.


def company_verify(*, company: Company, verified_by) -> Company:
    """A curator approves the owner of a company that has one: from now on the company's
    diagnostics count in the published figures and the peer comparisons. A company verified
    meanwhile (two tabs, two curators) raises AccountError and changes nothing."""
    if not is_curator(verified_by):
        raise AccountError(_("Seuls les curateurs peuvent vérifier une entreprise."))
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        if locked.verified_at is not None:
            raise AccountError(_("Cette entreprise a déjà été vérifiée."))
        if not locked.memberships.filter(status=Status.ACTIVE, role__in=MANAGER_ROLES).exists():
            raise AccountError(_("Cette entreprise n'a plus de responsable : il n'y a personne à vérifier."))
        _verify(locked, verified_by=verified_by)
    return locked


def _verify(company: Company, *, verified_by) -> None:
    """Mark the (locked) company verified by `verified_by`, now."""
    company.verified_at = timezone.now()
    company.verified_by = verified_by
    company.save(update_fields=["verified_at", "verified_by"])
    _field_data_changed_on_commit(company)


def _unverify(company: Company) -> None:
    """The (locked) company passes to an owner nobody vetted: it stops counting."""
    if company.verified_at is None:
        return
    company.verified_at = None
    company.verified_by = None
    company.save(update_fields=["verified_at", "verified_by"])
    _field_data_changed_on_commit(company)


def _field_data_changed_on_commit(company: Company) -> None:
    """The job positions of the company's submitted diagnostics start or stop counting: the
    observatory recomputes its grid once the change is committed."""
    positions = JobPosition.objects.filter(diagnostic__company=company).count()
    if positions:
        transaction.on_commit(
            lambda: field_data_changed.send(sender=Company, source="company_verification", positions=positions)
        )


# --- Owners managing their members ------------------------------------------------------------
#
# A company that has members always keeps at least one active owner: nobody else can invite,
# approve requests or hand the role on. Every service below locks the company row and then all
# of its memberships (`select_for_update`, in primary-key order so that two of them never wait
# on each other), re-reads the roles under that lock, and checks the rule on the state it is
# about to write. Two owners who remove each other at the same moment are therefore served one
# after the other, and the second finds that they are no longer an owner.


def _locked_memberships(company: Company) -> dict[int, CompanyMembership]:
    """Lock the company and its active memberships until the transaction ends; by pk."""
    Company.objects.select_for_update().filter(pk=company.pk).first()
    memberships = CompanyMembership.objects.select_for_update().filter(company=company, status=Status.ACTIVE)
    return {membership.pk: membership for membership in memberships.order_by("pk")}


def _owner_membership(memberships: dict[int, CompanyMembership], user) -> CompanyMembership:
    for membership in memberships.values():
        if membership.user_id == user.pk and membership.role in MANAGER_ROLES:
            return membership
    raise AccountError(_("Seul·e un·e responsable de l'entreprise peut faire cela."))


def _target(memberships: dict[int, CompanyMembership], membership_id: int) -> CompanyMembership:
    target = memberships.get(membership_id)
    if target is None:
        raise AccountError(_("Cette personne ne fait plus partie de l'entreprise."))
    return target


def _check_owner_remains(memberships: dict[int, CompanyMembership], *, leaving: CompanyMembership) -> None:
    """Refuse to take `leaving` out of the owners when nobody else is one."""
    others = [m for m in memberships.values() if m.pk != leaving.pk and m.role in MANAGER_ROLES]
    if leaving.role in MANAGER_ROLES and not others:
        raise AccountError(
            _(
                "Vous êtes le ou la seule responsable de l'entreprise : nommez d'abord un autre membre "
                "responsable (ou transmettez-lui votre rôle)."
            )
        )


def membership_remove(*, company: Company, membership_id: int, removed_by) -> CompanyMembership:
    """An owner takes an active member out of the company. The membership is deleted, so the
    person loses access to the company's pages and diagnostics at their next request (access is
    read from the memberships on every request) and may ask to join again later. An owner may
    remove another owner, or themself, as long as an owner remains. Returns the deleted
    membership, with its user."""
    with transaction.atomic():
        memberships = _locked_memberships(company)
        _owner_membership(memberships, removed_by)
        target = _target(memberships, membership_id)
        _check_owner_remains(memberships, leaving=target)
        target = CompanyMembership.objects.select_related("user", "company").get(pk=target.pk)
        target.delete()
    return target


def membership_leave(*, company: Company, user) -> None:
    """A member leaves the company. The last owner cannot: they hand the role on first."""
    with transaction.atomic():
        memberships = _locked_memberships(company)
        own = next((m for m in memberships.values() if m.user_id == user.pk), None)
        if own is None:
            raise AccountError(_("Vous ne faites plus partie de cette entreprise."))
        _check_owner_remains(memberships, leaving=own)
        own.delete()


def membership_promote(*, company: Company, membership_id: int, promoted_by) -> CompanyMembership:
    """An owner makes another active member an owner too; both stay owners."""
    with transaction.atomic():
        memberships = _locked_memberships(company)
        _owner_membership(memberships, promoted_by)
        target = _target(memberships, membership_id)
        if target.role == Role.OWNER:
            raise AccountError(_("Cette personne est déjà responsable de l'entreprise."))
        target.role = Role.OWNER
        target.save(update_fields=["role"])
    return CompanyMembership.objects.select_related("user", "company").get(pk=target.pk)


def membership_transfer_ownership(*, company: Company, membership_id: int, transferred_by) -> CompanyMembership:
    """An owner hands their role to an active member: the member becomes owner and the former
    owner a member, in one transaction, so the company is never without an owner. Returns the
    new owner's membership."""
    with transaction.atomic():
        memberships = _locked_memberships(company)
        own = _owner_membership(memberships, transferred_by)
        target = _target(memberships, membership_id)
        if target.pk == own.pk:
            raise AccountError(_("Choisissez un autre membre que vous-même."))
        if target.role == Role.OWNER:
            raise AccountError(_("Cette personne est déjà responsable de l'entreprise."))
        target.role = Role.OWNER
        target.save(update_fields=["role"])
        own.role = Role.MEMBER
        own.save(update_fields=["role"])
    return CompanyMembership.objects.select_related("user", "company").get(pk=target.pk)
