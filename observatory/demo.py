"""What `make run` sets up on an empty database: reference data, demo companies, demo
accounts and the grids. Each step is skipped when already done, so a second run is quick."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from companies import roles
from companies.models import Company, Territory

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


def attach_member_to_company(user, role):
    """Hook for the company member account; memberships belong to the diagnostic module."""
    hook = getattr(settings, "DEMO_MEMBER_HOOK", None)
    if role == "member" and hook:
        from django.utils.module_loading import import_string

        import_string(hook)(user)


def bootstrap(*, companies: int, seed: int, stdout) -> None:
    from companies.demo import seed_demo

    from .reference import load_reference

    if not Territory.objects.exists():
        directory = reference_directory()
        stdout.write(f"Chargement des données de référence depuis {directory} …")
        load_reference(directory, stdout=stdout)
    if not Company.objects.exists():
        stdout.write(f"Création de {companies} entreprises de démonstration …")
        counts = seed_demo(companies=companies, seed=seed)
        stdout.write(", ".join(f"{k} : {v}" for k, v in counts.items()))
    compute_hook = getattr(settings, "DEMO_COMPUTE_HOOK", None)
    if compute_hook:
        from django.utils.module_loading import import_string

        import_string(compute_hook)(stdout=stdout)
    accounts = ensure_demo_accounts()
    stdout.write("\nComptes de démonstration (http://127.0.0.1:8000/comptes/login/) :")
    for username, password, description in accounts:
        stdout.write(f"  {username:<12} mot de passe : {password:<22} {description}")
