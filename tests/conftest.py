import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The real official files, laid beside the checkout (see README). Optional.
SHARED_DATA = Path(os.environ.get("SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def shared_data() -> Path:
    """The folder of real official files; tests that need it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real reference files not found in {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _user_in_group(django_user_model, username, group_name=None, **extra):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username=username, password="motdepasse-test-2026", **extra)
    if group_name:
        user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def analyst(db, django_user_model):
    return _user_in_group(django_user_model, "analyste", "analyst")


@pytest.fixture
def curator(db, django_user_model):
    return _user_in_group(django_user_model, "curateur", "curator")


@pytest.fixture
def plain_user(db, django_user_model):
    """Logged in, but neither analyst nor curator (e.g. a company member)."""
    return _user_in_group(django_user_model, "quelquun")


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser(username="admin", password="motdepasse-test-2026")


DATA_MIGRATIONS = [
    ("skills.migrations.0002_task_categories", "create_categories"),
    ("companies.migrations.0002_role_groups", "create_groups"),
    ("observatory.migrations.0002_methodology_presets", "create_presets"),
    ("observatory.migrations.0007_methodology_rome_thresholds", "new_versions"),
]


@pytest.fixture
def migration_data():
    """Rewrite the rows the data migrations create (task categories, role groups, method
    presets): a transactional test flushes them when it ends. Idempotent."""
    import importlib

    from django.apps import apps

    for module, function in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
