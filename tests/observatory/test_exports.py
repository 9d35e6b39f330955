"""The analysts' exports and the method as JSON: content, secrecy and access."""

import csv
import io

import pytest
from django.urls import reverse

from observatory import services
from observatory.exports import GRID_COLUMNS, OCCUPATION_COLUMNS
from observatory.models import GridRun

pytestmark = pytest.mark.django_db

ROUTES = ["observatory:methodology_json", "observatory:grid_export_csv", "observatory:occupations_export_csv"]


def _rows(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def run(hand_worked):  # noqa: F811
    return services.grid_run_compute(services.grid_run_create().pk)


def test_methodology_json_gives_the_current_parameters(client, analyst):
    client.force_login(analyst)
    data = client.get(reverse("observatory:methodology_json")).json()
    assert data["susceptibility"] == {"rc": 0.85, "rm": 0.55, "nra": 0.45, "nri": 0.20, "nrm": 0.10}
    assert data["prior_strength"] == 5.0
    # The thresholds fitted to the fiches' own profiles (migration 0007, version 2).
    assert data["exposure_thresholds"] == {"high": 0.48, "medium": 0.44}
    assert data["secrecy"] == {"min_companies": 3, "dominance": 0.85, "epci_detail": "full"}
    assert data["version"] == 2


def test_methodology_json_follows_a_new_version(client, analyst):
    services.methodology_create_version(lens="default", user=analyst, alpha_rc=0.8, prior_strength=10)
    client.force_login(analyst)
    data = client.get(reverse("observatory:methodology_json")).json()
    assert data["version"] == 3
    assert data["susceptibility"]["rc"] == 0.8 and data["susceptibility"]["rm"] == 0.55
    assert data["prior_strength"] == 10


def test_grid_export_has_one_row_per_cell_and_hides_secret_figures(client, analyst, run):
    client.force_login(analyst)
    response = client.get(reverse("observatory:grid_export_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _rows(response)
    assert list(rows[0].keys()) == GRID_COLUMNS
    assert len(rows) == run.cells.count()

    total = next(
        r
        for r in rows
        if r["territory_level"] == "all"
        and r["sector_level"] == "all"
        and r["occupation_level"] == "all"
        and r["size_band"] == "*"
    )
    assert total["territory_code"] == total["sector_code"] == total["occupation_code"] == "*"
    assert total["employees"] == "65" and total["companies"] == "4" and total["secret"] == "false"
    assert float(total["exposure_mean"]) == pytest.approx(5.6 / 9, abs=1e-6)

    nord = next(
        r
        for r in rows
        if r["territory_level"] == "departement"
        and r["territory_code"] == "59"
        and r["sector_level"] == "all"
        and r["occupation_level"] == "all"
        and r["size_band"] == "*"
    )
    assert nord["territory_name"] == "Nord"
    assert nord["secret"] == "true" and nord["secret_reason"] == "secondary"
    figures = ["companies", "establishments", "employees", "exposure_mean", "share_high", "rti_mean"]
    assert all(nord[column] == "" for column in figures)

    fiche = next(
        r
        for r in rows
        if r["occupation_level"] == "fiche"
        and r["territory_level"] == "all"
        and r["sector_level"] == "all"
        and r["size_band"] == "*"
    )
    assert (fiche["occupation_code"], fiche["occupation_label"]) == ("M1607", "Secrétaire")
    secret_rows = [r for r in rows if r["secret"] == "true"]
    assert secret_rows and all(r["employees"] == "" for r in secret_rows)


def test_grid_export_of_another_run(client, analyst, run):
    newer = services.grid_run_compute(services.grid_run_create().pk)
    client.force_login(analyst)
    rows = _rows(client.get(reverse("observatory:grid_export_csv"), {"run": run.pk}))
    assert {r["run_id"] for r in rows} == {str(run.pk)}
    assert newer.pk != run.pk
    assert client.get(reverse("observatory:grid_export_csv"), {"run": "abc"}).status_code == 404
    assert client.get(reverse("observatory:grid_export_csv"), {"run": 999999}).status_code == 404


def test_occupations_export(client, analyst, run):
    client.force_login(analyst)
    rows = _rows(client.get(reverse("observatory:occupations_export_csv")))
    assert list(rows[0].keys()) == OCCUPATION_COLUMNS
    secretary = next(r for r in rows if r["code_rome"] == "M1607")
    assert secretary["n_companies"] == "4" and secretary["employees"] == "65"
    assert float(secretary["field_rc"]) == pytest.approx(0.5)
    assert float(secretary["rc"]) == pytest.approx(5 / 9, abs=1e-6)
    # The sources of the reference profiles: the fiche's own (imported here) and the run's tag.
    assert secretary["ref_source"] == "imported" and secretary["ref_items"] == "0"
    run = GridRun.objects.get(is_current=True)
    assert secretary["profile_source"] == run.profile_source and run.profile_source.startswith("domain_defaults:v0")
    assert secretary["exposure_class"] == "high"


def test_field_profile_is_hidden_below_three_companies(client, analyst, hand_worked):  # noqa: F811
    from companies.models import JobPosition

    JobPosition.objects.filter(headcount__in=(10, 20)).delete()  # two companies left
    services.grid_run_compute(services.grid_run_create().pk)
    client.force_login(analyst)
    secretary = next(
        r for r in _rows(client.get(reverse("observatory:occupations_export_csv"))) if r["code_rome"] == "M1607"
    )
    # The fiche is secret (two companies): neither its count of companies nor its employees.
    assert secretary["n_companies"] == "" and secretary["employees"] == "" and secretary["secret"] == "True"
    assert secretary["field_rc"] == "" and secretary["field_nra"] == ""
    # Two companies' answers do not move the blend: it is the reference, published as such.
    assert secretary["rc"] == secretary["ref_rc"] != "" and secretary["exposure"] != ""


def test_exports_without_any_run_say_so(client, analyst):
    client.force_login(analyst)
    assert client.get(reverse("observatory:grid_export_csv")).status_code == 404


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_visitors_are_sent_to_login(client, route):
    response = client.get(reverse(route))
    assert response.status_code == 302 and "/comptes/login/" in response["Location"]


@pytest.mark.parametrize("route", ROUTES)
def test_users_without_the_analyst_role_are_refused(client, plain_user, curator, route):
    for user in (plain_user, curator):
        client.force_login(user)
        assert client.get(reverse(route)).status_code == 403


@pytest.mark.parametrize("route", ROUTES)
def test_superusers_may_export(client, superuser, route, run):
    client.force_login(superuser)
    assert client.get(reverse(route)).status_code == 200


def test_grid_export_header_is_the_published_one():
    assert GRID_COLUMNS[:23] == [
        "run_id",
        "territory_level",
        "territory_code",
        "territory_name",
        "sector_level",
        "sector_code",
        "sector_label",
        "occupation_level",
        "occupation_code",
        "occupation_label",
        "size_band",
        "companies",
        "establishments",
        "employees",
        "exposure_mean",
        "share_high",
        "share_medium",
        "share_low",
        "rti_mean",
        "training_need_share",
        "diagnostics",
        "secret",
        "secret_reason",
    ]
    assert GRID_COLUMNS[23:] == ["training_coverage"]
