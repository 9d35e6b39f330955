"""Every consumer publishes the same figures and hides the same ones for the same edition.

The hand-worked grid (the hand_worked fixture, tests/conftest.py): four companies report Secrétaire
(M1607), 65 employees. Under a methodology requiring 5 companies, everything about them is
secret: the région's total cell, the fiche's counts, and their answers, which do not move the
published profile (it is the reference, RC 0.6, RM/NRA/NRI/NRM 0.1, E = 0.85·0.6 + (0.55 +
0.45 + 0.20 + 0.10)·0.1 = 0.64). Read from the grid page, its CSV and XLSX, the API, the
occupation page, the occupations export and the company report: each must agree.
"""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from companies.models import Diagnostic, DiagnosticJob
from observatory import services
from observatory.models import Lens
from tests.companies.factories import CampaignFactory, CompanyFactory, make_member

pytestmark = pytest.mark.django_db
REFERENCE = {"rc": 0.6, "rm": 0.1, "nra": 0.1, "nri": 0.1, "nrm": 0.1}
EXPOSURE = 0.85 * 0.6 + (0.55 + 0.45 + 0.20 + 0.10) * 0.1
TOTAL = {"territory_level": "all", "sector_level": "all", "occupation_level": "all", "size_band": "all"}


@pytest.fixture
def edition(hand_worked, analyst):  # noqa: F811
    services.methodology_create_version(lens=Lens.DEFAULT, user=analyst, secrecy_min_companies=5)
    return services.grid_run_compute(services.grid_run_create().pk)


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_every_consumer_hides_the_same_total_cell(client, analyst, edition):
    client.force_login(analyst)
    rows = _csv(client.get(reverse("observatory:grid_export_csv"), TOTAL))
    assert [(r["secret"], r["secret_reason"], r["employees"], r["companies"]) for r in rows] == [
        ("true", "companies", "", "")
    ]
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(reverse("observatory:grid_export_xlsx"), TOTAL).content))
    values = list(workbook["grille"].iter_rows(values_only=True))
    total = [dict(zip(values[0], row, strict=True)) for row in values[1:]]
    assert [(r["Secret statistique"], r["Salariés"], r["Exposition moyenne"]) for r in total] == [(True, None, None)]
    api = client.get("/api/v1/grid-cells/", TOTAL).json()["results"]
    assert [(c["secret"], c["employees"], c["exposure_mean"]) for c in api] == [(True, None, None)]
    page = client.get(reverse("observatory:overview")).context["total"]
    assert page["secret"] and page["employees"] is None and page["exposure_mean"] is None


def test_every_consumer_publishes_the_same_occupation_profile(client, analyst, edition, django_user_model):
    client.force_login(analyst)
    # The occupation page.
    page = client.get(reverse("observatory:occupation", args=["M1607"])).context
    assert not page["show_field"] and page["show_blended"]
    assert page["score"].exposure == pytest.approx(EXPOSURE)
    assert {row["code"].lower(): row["blended"] for row in page["profile"]} == pytest.approx(REFERENCE)
    # The occupations export: the same profile, no field profile, no counts of a secret fiche.
    row = next(r for r in _csv(client.get(reverse("observatory:occupations_export_csv"))) if r["code_rome"] == "M1607")
    assert {c: float(row[c]) for c in REFERENCE} == pytest.approx(REFERENCE)
    assert float(row["exposure"]) == pytest.approx(EXPOSURE)
    assert row["field_rc"] == "" and row["n_companies"] == "" and row["employees"] == "" and row["secret"] == "True"
    # The API.
    score = client.get("/api/v1/occupations/M1607/").json()["score"]
    assert score["profile"]["field"] is None and score["n_companies"] is None and score["employees"] is None
    assert score["profile"]["blended"] == pytest.approx(REFERENCE)
    assert score["exposure"] == pytest.approx(EXPOSURE)
    # The company report of a fifth company: the same exposure, the reference as profile.
    company = CompanyFactory(name="Atelier Dupont")
    owner = make_member(company, "proprietaire")
    diagnostic = Diagnostic.objects.create(
        campaign=CampaignFactory(), company=company, status=Diagnostic.Status.SUBMITTED, maturity={}
    )
    DiagnosticJob.objects.create(
        diagnostic=diagnostic, occupation_id="M1607", headcount=8, rc=70, nra=10, nri=10, nrm=10, rm=0
    )
    client.force_login(owner)
    job = client.get(reverse("diagnostic_report", args=[diagnostic.pk])).context["jobs"][0]
    assert job.score.exposure == pytest.approx(EXPOSURE)
    assert job.show_blended and not job.field_counted
    assert {row["code"].lower(): row["blended"] for row in job.profile_rows} == pytest.approx(REFERENCE)
