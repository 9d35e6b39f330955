"""Settings: embedded defaults, environment overrides, and `check --deploy` in production mode.

Settings are read once per process, so every variant runs in a subprocess whose environment
holds none of the variables settings.py reads, except those the test sets (`clean_env`).
"""

import json
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

from tests.conftest import REPO_ROOT

# Every variable settings.py reads (env("X"), env.bool("X", …)…) and every DJANGO_* one (the
# browser tests set DJANGO_ALLOW_ASYNC_UNSAFE, which `check --deploy` refuses) are removed from
# the subprocess environment; the rest (PATH…) stays.
SETTINGS_VARIABLES = set(
    re.findall(
        r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']",
        (REPO_ROOT / "observatory" / "settings.py").read_text(),
    )
)


def skip_if_local_env_file():
    """settings.py fills unset variables from `.env`: defaults can only be checked without one."""
    if (REPO_ROOT / ".env").exists():
        pytest.skip(f"{REPO_ROOT / '.env'} overrides the embedded defaults")


def clean_env(**overrides):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SETTINGS_VARIABLES and not key.startswith("DJANGO_")
    }
    env["DJANGO_SETTINGS_MODULE"] = "observatory.settings"
    env.update(overrides)
    return env


def read_settings(**overrides) -> dict:
    """Values of a fresh settings module under the given environment."""
    script = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": settings.DATABASES["default"]["ENGINE"],
    "DB_NAME": str(settings.DATABASES["default"]["NAME"]),
    "CACHE": settings.CACHES["default"]["BACKEND"],
    "CACHE_LOCATION": settings.CACHES["default"].get("LOCATION", ""),
    "EMAIL_BACKEND": settings.EMAIL_BACKEND,
    "CELERY_TASK_ALWAYS_EAGER": settings.CELERY_TASK_ALWAYS_EAGER,
    "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    "SECRET_KEY": settings.SECRET_KEY,
}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=clean_env(**overrides),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def check_deploy(**overrides) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=clean_env(**{"DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "observatoire.example.org", **overrides}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "fr"
    assert settings.TIME_ZONE == "Europe/Paris"
    assert settings.USE_TZ


def test_celery_is_eager_without_a_broker():
    # The test process itself runs with an empty broker (CI sets only TEST_CELERY_BROKER_URL).
    assert settings.CELERY_TASK_ALWAYS_EAGER is (not settings.CELERY_BROKER_URL)
    assert read_settings(CELERY_BROKER_URL="")["CELERY_TASK_ALWAYS_EAGER"] is True


def test_embedded_defaults():
    skip_if_local_env_file()
    values = read_settings()
    assert values["DEBUG"] is True
    assert values["ENGINE"] == "django.db.backends.sqlite3"
    assert values["DB_NAME"] == str(REPO_ROOT / "db.sqlite3")
    assert values["CACHE"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert values["SECRET_KEY"].startswith("django-insecure-")


def test_database_url_selects_postgresql():
    values = read_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/observatoire")
    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert values["DB_NAME"] == "observatoire"


def test_redis_url_selects_the_redis_cache():
    values = read_settings(REDIS_URL="redis://127.0.0.1:6379/1")
    assert values["CACHE"] == "django.core.cache.backends.redis.RedisCache"
    assert values["CACHE_LOCATION"] == "redis://127.0.0.1:6379/1"


def test_broker_url_turns_eager_mode_off():
    values = read_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False


def test_deploy_check_passes_with_production_settings():
    # token_urlsafe(50) gives 67 characters from a 64-letter alphabet: what W009 wants.
    result = check_deploy(DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("key", [None, "", "django-insecure-observatoire-ia-hdf-local-only"])
def test_production_refuses_to_start_without_a_secret_key(key):
    """With debug off, a missing, empty or default key stops the application at start-up (not
    only `check --deploy`), with a French message."""
    skip_if_local_env_file()
    result = check_deploy(**({} if key is None else {"DJANGO_SECRET_KEY": key}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY est absente ou laissée à sa valeur par défaut" in result.stderr


@pytest.mark.parametrize("debug", ["1", "true"])
def test_deploy_check_refuses_debug(debug):
    result = check_deploy(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_DEBUG=debug)
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def test_the_broker_gives_back_a_task_only_after_the_longest_one_could_end():
    """Redis redelivers an unacknowledged message after its visibility timeout: shorter than a
    task's hard time limit, a running grid would be delivered to a second worker. And a task
    whose worker dies is given back (acks late, rejected on a lost worker)."""
    from observatory.celery import app

    app.loader.import_default_modules()
    limits = [
        task.time_limit or app.conf.task_time_limit
        for name, task in app.tasks.items()
        if not name.startswith("celery.")
    ]
    assert max(limits) == 65 * 60  # the grid run
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > max(limits)
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
