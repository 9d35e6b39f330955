"""What `make run` sets up on an empty database: reference data, demo companies, demo
accounts and the grids. Each step is skipped when already done, so a second run is quick."""

import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from companies import roles
from companies.demo import seed_contacts, seed_demo
from companies.models import Campaign, Company, CompanyMembership, Territory
from trainings.demo import seed_catalogue

from .analysis.secrecy.audit import AUDIT_MODEL
from .models import GridRun, Lens
from .reference import load_reference
from .services import grid_run_compute, grid_run_create

# Local demo only: these logins are printed by `make run` and must never exist in production.
DEMO_ACCOUNTS = [
    # username, password, role, description
    ("admin", "admin-demo-2026", "superuser", "administrateur (tout)"),
    ("analyste", "analyste-demo-2026", roles.ANALYST, "analyste (tableaux de bord, exports)"),
    ("curateur", "curateur-demo-2026", roles.CURATOR, "curateur (catalogue de formations)"),
    ("entreprise", "entreprise-demo-2026", "member", "membre d'une entreprise (diagnostic)"),
]


def reference_directory() -> Path:
    if settings.REFERENCE_DATA:
        return Path(settings.REFERENCE_DATA)
    return Path(settings.BASE_DIR) / "reference"


def ensure_demo_accounts() -> list[tuple[str, str, str]]:
    User = get_user_model()
    created = []
    with transaction.atomic():
        for username, password, role, description in DEMO_ACCOUNTS:
            user, was_created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@demo.invalid"}
            )
            if was_created:
                user.set_password(password)
                user.is_superuser = user.is_staff = role == "superuser"
                user.save()
                if role in (roles.ANALYST, roles.CURATOR):
                    user.groups.add(Group.objects.get(name=role))
            attach_member_to_company(user, role)
            created.append((username, password, description))
    return created


def attach_member_to_company(user, role) -> None:
    """The demo company member owns the first demo company (by SIREN order)."""
    if role != "member" or user.memberships.exists():
        return
    company = Company.objects.order_by("siren").first()
    if company:
        CompanyMembership.objects.create(
            user=user, company=company, role=CompanyMembership.Role.OWNER, status=CompanyMembership.Status.ACTIVE
        )


def ensure_current_campaign(stdout) -> None:
    """The diagnostic wave of the current year, open all year, when none is current."""
    if Campaign.objects.filter(is_current=True).exists():
        return
    year = timezone.localdate().year
    campaign, _ = Campaign.objects.get_or_create(
        year=year,
        defaults={
            "name": f"Campagne {year}",
            "opens_on": datetime.date(year, 1, 1),
            "closes_on": datetime.date(year, 12, 31),
        },
    )
    campaign.is_current = True
    campaign.save(update_fields=["is_current"])
    stdout.write(f"Campagne de diagnostics en cours : {campaign.name}.")


def compute_missing_grids(stdout) -> None:
    """One run per lens that has no current grid yet (the first `make run`), or whose grid
    was audited against a reader who knew less than the audit now assumes (`AUDIT_MODEL`):
    its secrecy is not proven against today's attack, so it is computed again."""
    for lens in Lens.values:
        current = GridRun.objects.current(lens)
        if current is None or (current.audit or {}).get("model", 1) < AUDIT_MODEL:
            run = grid_run_create(lens=lens, trigger=GridRun.Trigger.BOOTSTRAP)
            run = grid_run_compute(run.pk)
            stdout.write(
                f"Grille « {run.methodology.get_lens_display()} » : {run.stats['cells']} cellules "
                f"en {run.duration:.1f} s."
            )


def bootstrap(*, companies: int, seed: int, stdout) -> None:

    if not Territory.objects.exists():
        directory = reference_directory()
        stdout.write(f"Chargement des données de référence depuis {directory} …")
        load_reference(directory, stdout=stdout)
    if not Company.objects.exists():
        stdout.write(f"Création de {companies} entreprises de démonstration …")
        counts = seed_demo(companies=companies, seed=seed)
        stdout.write(", ".join(f"{k} : {v}" for k, v in counts.items()))
    seed_contacts()  # the directory of regional contacts: safe to run again
    ensure_current_campaign(stdout)
    seed_catalogue(seed=seed, stdout=stdout)  # before the grids: their training coverage reads it
    compute_missing_grids(stdout)
    accounts = ensure_demo_accounts()
    stdout.write("\nComptes de démonstration (http://127.0.0.1:8000/comptes/login/) :")
    for username, password, description in accounts:
        stdout.write(f"  {username:<12} mot de passe : {password:<22} {description}")
