"""Database connection settings: PostgreSQL sessions start in UTC (Django then skips its
`SET TIME ZONE` round trip on every connection); kept connections are health-checked."""

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT
from tests.test_settings import clean_env

POSTGRES = "postgres://postgres@127.0.0.1:5432/observatoire"


def database_settings(**overrides) -> dict:
    script = """
import json
import django
from django.conf import settings
django.setup()
keys = ("OPTIONS", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS")
print(json.dumps({key: settings.DATABASES["default"].get(key) for key in keys}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=clean_env(**overrides), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_sessions_start_in_utc_and_connections_close_by_default():
    values = database_settings(DATABASE_URL=POSTGRES)
    assert values == {"OPTIONS": {"options": "-c timezone=UTC"}, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False}


def test_kept_connections_are_health_checked():
    values = database_settings(DATABASE_URL=POSTGRES, DATABASE_CONN_MAX_AGE="60")
    assert (values["CONN_MAX_AGE"], values["CONN_HEALTH_CHECKS"]) == (60, True)


def test_sqlite_keeps_its_own_options():
    values = database_settings(DATABASE_URL="sqlite:////tmp/observatoire-settings-test.sqlite3")
    assert values["OPTIONS"] == {"init_command": "PRAGMA journal_mode=WAL;"}
