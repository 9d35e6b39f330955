"""Only verified companies count: a diagnostic enters the grid's positions and the report's
peer comparison once a curator has approved its company's owner, and a peer average needs at
least the methodology's secrecy minimum of verified other companies.

The attack this closes: anybody can sign up, claim a SIRET nobody holds and submit; three
made-up companies of a NAF section beside a real one would read its maturity back from « the
mean of the 3 others »."""

import pytest
from django.test import Client
from django.urls import reverse

from companies.diagnostic import services
from companies.models import Company, Diagnostic, JobPosition
from companies.validators import luhn_complete
from observatory import services as grid_services
from observatory.models import GridCell, Lens
from observatory.selectors import positions_frame
from tests.companies.factories import CampaignFactory, CompanyFactory, all_answers, make_member
from tests.companies.test_accounts import links
from tests.companies.test_diagnostic_services import complete_diagnostic
from tests.companies.test_diagnostic_views import identity_post, job_post, url, version_in
from tests.observatory import test_report

pytestmark = pytest.mark.django_db

# The hand-worked grid and report of test_report.py: section J, Lille, Secrétaire (M1607).
report_url = test_report.report_url
_peers = test_report._peers

PASSWORD = "Beffroi-Arras-2026"
NO_PEERS = "Il n'y a pas encore assez d'entreprises de votre secteur pour comparer"
UNVERIFIED = "Compte en cours de vérification"


@pytest.fixture(autouse=True)
def _no_grid_recomputation(settings):
    settings.OBSERVATORY_AUTO_RECOMPUTE = False


def submit(company, owner, campaign, *, level, occupation):
    """Fill and submit the company's diagnostic through the services: maturity `level` on
    every item, one job on `occupation` (so job positions for the grid)."""
    diagnostic = services.diagnostic_get_or_create_for(company=company, campaign=campaign, user=owner)
    complete_diagnostic(diagnostic, owner, [occupation])
    services.diagnostic_save_step(
        diagnostic=diagnostic,
        step=services.MATURITY,
        data=all_answers(level),
        expected_version=diagnostic.version,
        user=owner,
    )
    return services.diagnostic_submit(diagnostic=diagnostic, user=owner, expected_version=diagnostic.version)


def report_of(user, diagnostic):
    client = Client()
    client.force_login(user)
    response = client.get(report_url(diagnostic.pk))
    assert response.status_code == 200
    return response


def grid_positions() -> set[int]:
    return set(positions_frame()["position"])


def diagnostic_positions(diagnostic) -> set[int]:
    return set(JobPosition.objects.filter(diagnostic=diagnostic).values_list("pk", flat=True))


def cells(run) -> list[tuple]:
    """Every figure of a run's cells, in a stable order, without the run."""
    fields = [f.name for f in GridCell._meta.fields if f.name not in ("id", "run")]
    return sorted(GridCell.objects.filter(run=run).values_list(*fields), key=repr)


def compute_grid():
    return grid_services.grid_run_compute(grid_services.grid_run_create(lens=Lens.DEFAULT).pk)


# --- An unverified company counts nowhere, until a curator verifies it --------------------------


def test_an_unverified_diagnostic_counts_once_a_curator_verifies_its_company(client, case, curator, django_user_model):
    case["company"].verified_at = case["diagnostic"].created_at
    case["company"].save()
    _peers(case, [1, 2, 3])  # three verified companies of section J
    claimed = CompanyFactory(name="Revendiquée")
    claimant = make_member(claimed, "revendique")
    unverified = submit(claimed, claimant, case["campaign"], level=4, occupation=case["secretary"])
    positions = diagnostic_positions(unverified)
    assert positions

    # Absent from the grid's positions and from the peer average: the mean of 1, 2 and 3.
    assert not grid_positions() & positions
    maturity = report_of(case["owner"], case["diagnostic"]).context["maturity"]
    assert maturity["shown"] and maturity["peers"] == 3
    assert all(row["average"] == pytest.approx(2.0) for row in maturity["rows"])
    # Its own report shows its own answers, and says why they count nowhere yet.
    own = report_of(claimant, unverified)
    assert all(row["score"] == 4 for row in own.context["maturity"]["rows"])
    assert [report.job.occupation_id for report in own.context["jobs"]] == ["M1607"]
    page = own.content.decode()
    assert UNVERIFIED in page
    assert "Elles y compteront dès que l'observatoire aura vérifié votre compte." in page
    assert UNVERIFIED not in report_of(case["owner"], case["diagnostic"]).content.decode()

    client.force_login(curator)
    assert client.post(reverse("accounts:company_verify", kwargs={"pk": claimed.pk})).status_code == 302

    # Now it counts: in the grid's positions and in the mean of 1, 2, 3 and 4.
    assert positions <= grid_positions()
    maturity = report_of(case["owner"], case["diagnostic"]).context["maturity"]
    assert maturity["shown"] and maturity["peers"] == 4
    assert all(row["average"] == pytest.approx(2.5) for row in maturity["rows"])
    assert UNVERIFIED not in report_of(claimant, unverified).content.decode()


def test_the_peer_average_needs_the_methodologys_minimum_of_verified_others(client, case):
    grid_services.methodology_create_version(lens=Lens.DEFAULT, secrecy_min_companies=5)
    _peers(case, [1, 2, 3, 4])
    # Unverified companies of the section do not make up the difference.
    for _ in range(3):
        test_report._diagnostic(case["campaign"], CompanyFactory(), commune=case["lille"], level=0)

    response = report_of(case["owner"], case["diagnostic"])
    maturity = response.context["maturity"]
    assert not maturity["shown"] and maturity["peers"] == 4 and maturity["min_peers"] == 5
    assert all(row["average"] is None for row in maturity["rows"])
    page = response.content.decode()
    assert NO_PEERS in page and "à partir de 5 autres entreprises vérifiées" in page
    assert "Moyenne de la section" not in page

    _peers(case, [0])
    response = report_of(case["owner"], case["diagnostic"])
    maturity = response.context["maturity"]
    assert maturity["shown"] and maturity["peers"] == 5
    assert all(row["average"] == pytest.approx(2.0) for row in maturity["rows"])  # (1 + 2 + 3 + 4 + 0) / 5
    page = response.content.decode()
    assert "Moyenne des 5 autres entreprises vérifiées de la section NAF J" in page and NO_PEERS not in page


# --- The attack, through the site's own pages -------------------------------------------------------


def made_up_company(index: int, mailoutbox, *, level: int) -> tuple[Client, Diagnostic]:
    """Sign up, confirm the address, claim a SIRET nobody holds in section J and submit a
    diagnostic with maturity `level`: what anybody can do with the site."""
    client = Client()
    email = f"faux{index}@exemple.fr"
    signup = {"first_name": "Faux", "last_name": f"Nom{index}", "email": email, "password1": PASSWORD}
    response = client.post(reverse("accounts:signup"), {**signup, "password2": PASSWORD})
    assert response.status_code == 302
    [message] = [message for message in mailoutbox if message.to == [email]]
    assert client.post(links(message)[0]).status_code == 302  # confirms and logs in
    siret = luhn_complete(luhn_complete(f"{87654320 + index}") + "0001")
    response = client.post(
        reverse("accounts:attach_company"),
        {
            "siret": siret,
            "name": f"Fausse entreprise {index}",
            "naf": "62.01Z",
            "commune": "59350",
            "size_band": "10-49",
        },
    )
    company = Company.objects.get(siren=siret[:9])
    assert response.url == reverse("accounts:company", kwargs={"pk": company.pk})  # its owner at once
    client.post(reverse("diagnostic:start"), {"company": company.pk})
    diagnostic = Diagnostic.objects.get(company=company)
    assert (
        client.post(url("identity", diagnostic), identity_post(company, company_name=company.name)).status_code == 302
    )
    maturity = {"version": 2, "action": "continue", **all_answers(level)}
    assert client.post(url("maturity", diagnostic), maturity).status_code == 302
    assert client.post(url("jobs", diagnostic), job_post(3, occupation="Secrétaire (M1607)")).status_code == 302
    version = version_in(client.get(url("review", diagnostic)))
    assert client.post(url("submit", diagnostic), {"version": version}).status_code == 302
    diagnostic.refresh_from_db()
    assert diagnostic.is_submitted and diagnostic.sector.code == "62.01Z"
    return client, diagnostic


def test_three_made_up_companies_read_no_real_companys_answers(grid, django_user_model, mailoutbox):
    # The real company: verified, its diagnostic submitted (maturity 3 everywhere).
    campaign = CampaignFactory()
    real = CompanyFactory(name="Atelier Dupont", verified=True)
    owner = make_member(real, "vraie")
    victim = submit(real, owner, campaign, level=3, occupation=grid["secretary"])
    before = compute_grid()
    positions = positions_frame()

    attackers = [made_up_company(index, mailoutbox, level=0) for index in range(3)]

    # Without the rule each attacker would read « the mean of the 3 others » (two made-up
    # companies at 0 and the real one), and so the real company's scores.
    for _client, diagnostic in attackers:
        others = Diagnostic.objects.filter(campaign=campaign, status=Diagnostic.Status.SUBMITTED)
        assert others.exclude(company=diagnostic.company_id).count() == 3
        response = _client.get(report_url(diagnostic.pk))
        maturity = response.context["maturity"]
        assert not maturity["shown"] and maturity["peers"] == 1
        assert all(row["average"] is None for row in maturity["rows"])
        page = response.content.decode()
        assert NO_PEERS in page and UNVERIFIED in page and "Moyenne des" not in page
    # The real company is not compared with made-up ones either.
    maturity = report_of(owner, victim).context["maturity"]
    assert not maturity["shown"] and maturity["peers"] == 0

    # The grid is unchanged: the same positions, and a recomputation gives the same cells.
    assert all(diagnostic_positions(diagnostic) for _client, diagnostic in attackers)
    assert positions_frame().equals(positions)
    assert cells(compute_grid()) == cells(before)
