"""docker-compose.yml, the Dockerfile and .env.example, read as files (no Docker engine needed)."""

import re
import shlex

import pytest
import yaml

from tests.conftest import REPO_ROOT

APP_SERVICES = ["web", "worker", "beat"]


@pytest.fixture(scope="module")
def compose():
    # safe_load resolves the `<<: *app` merge keys, so each service shows its full definition.
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def command_of(service):
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else command


def test_compose_defines_the_five_services(services):
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_app_services_share_one_image_and_differ_only_in_command(compose, services):
    anchor = compose["x-app"]
    for name in APP_SERVICES:
        service = services[name]
        assert service["build"] == anchor["build"]
        assert service["image"] == anchor["image"]
        assert service["environment"] == anchor["environment"]
        extra = set(service) - set(anchor) - {"command"}
        assert extra <= ({"ports", "healthcheck"} if name == "web" else set()), name


def test_app_services_commands(services):
    assert command_of(services["web"])[:2] == ["gunicorn", "observatory.wsgi"]
    assert command_of(services["worker"])[:4] == ["celery", "-A", "observatory", "worker"]
    assert command_of(services["beat"])[:4] == ["celery", "-A", "observatory", "beat"]


def test_app_environment_points_to_the_compose_services(services):
    environment = services["web"]["environment"]
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")
    assert environment["DJANGO_DEBUG"] == "0"
    # `${VAR:?message}`: compose refuses to start without a real key.
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?.+\}", environment["DJANGO_SECRET_KEY"])


def test_database_and_broker_have_healthchecks(services):
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert any("postgresql/data" in volume for volume in services["postgres"]["volumes"])


def test_app_services_wait_for_healthy_services_and_migrations(services):
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy", name
        assert depends_on["redis"]["condition"] == "service_healthy", name
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name


def test_migrate_runs_once_on_the_same_image(services):
    migrate = services["migrate"]
    assert migrate["build"] == services["web"]["build"]
    assert command_of(migrate)[-3:] == ["manage.py", "migrate", "--noinput"]
    assert "migrate" not in migrate["depends_on"]
    assert migrate["restart"] == "no"


def test_dockerfile_runs_gunicorn_as_a_non_root_user():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.MULTILINE)
    assert "collectstatic" in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    commands = re.findall(r"^(?:CMD|ENTRYPOINT)\s+(.+)$", dockerfile, re.MULTILINE)
    assert commands and "gunicorn" in commands[-1]


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv"} <= set(ignored)


def settings_variables():
    """Names read through django-environ in settings.py: env("X"), env.bool("X", …)…"""
    source = (REPO_ROOT / "observatory" / "settings.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))


def test_settings_variables_are_found():
    # Guards the regex itself: an empty set would make the next test pass vacuously.
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"} <= settings_variables()


def test_env_example_documents_every_setting():
    text = (REPO_ROOT / ".env.example").read_text()
    # Lines may be commented out (`# NAME=default`): the default then applies.
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    missing = settings_variables() - documented
    assert not missing, f"add to .env.example: {sorted(missing)}"
