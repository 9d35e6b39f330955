"""A company's whole journey in a real browser: sign up, confirm the address from the e-mail,
attach the company by SIRET, fill the four steps of the diagnostic (each refused once with a
wrong answer, then corrected), submit with a double click, open the report; a member of
another company is refused both pages. Every page is checked with axe-core and photographed
on a laptop and a phone."""

import datetime
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from companies import maturity
from companies.demo import seed_demo
from companies.models import Campaign, Company, CompanyMembership, Diagnostic, JobPosition
from companies.validators import luhn_complete
from observatory import services
from observatory.reference import load_reference
from tests.browser.conftest import DESKTOP, PHONE, check_accessibility, login, screenshot

# The live server answers from another thread: the data must be committed.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Atelier-Roubaix-2026!"
EMAIL = "claire.dupont@atelier-lillois.fr"
SIREN = luhn_complete("41234567")
SIRET = luhn_complete(SIREN + "0001")
# Same digits but the last one: the Luhn key no longer matches.
WRONG_SIRET = SIRET[:-1] + str((int(SIRET[-1]) + 1) % 10)
COMPANY_NAME = "Atelier Numérique Lillois"


@pytest.fixture
def world(migration_data, mailoutbox):
    """The built-in reference, 40 demo companies and a computed grid (the report reads it), a
    current campaign, and a member of one demo company (the one who must be refused)."""
    load_reference(Path(settings.BASE_DIR) / "reference")
    seed_demo(companies=40, seed=1)
    Campaign.objects.create(
        year=2026,
        name="campagne 2026",
        opens_on=datetime.date(2026, 1, 1),
        closes_on=datetime.date(2026, 12, 31),
        is_current=True,
    )
    services.grid_run_compute(services.grid_run_create().pk)
    stranger = get_user_model().objects.create_user(
        "paul.leroy@autre-entreprise.fr", email="paul.leroy@autre-entreprise.fr", password=PASSWORD
    )
    CompanyMembership.objects.create(
        user=stranger,
        company=Company.objects.first(),
        status=CompanyMembership.Status.ACTIVE,
        role=CompanyMembership.Role.OWNER,
    )
    return SimpleNamespace(stranger=stranger, outbox=mailoutbox)


def axe_report(violations) -> str:
    return "\n".join(f"{v['impact']} {v['id']} ({v['help']}) at {v['targets']}: {v['summary']}" for v in violations)


def check(page, name: str) -> None:
    """No serious or critical axe-core violation; a photo on a laptop and on a phone."""
    violations = check_accessibility(page)
    assert not violations, f"{name}:\n{axe_report(violations)}"
    screenshot(page, f"diagnostic-{name}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, f"diagnostic-{name}-phone")
    page.set_viewport_size(DESKTOP)


def path(page) -> str:
    # A redirect keeps the fragment of the page it came from (#metiers-decrits): compare paths.
    return urlsplit(page.url).path


def click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def test_a_company_signs_up_fills_its_diagnostic_and_reads_its_report(page, live_server, world):
    # --- Sign-up, confirmation by e-mail --------------------------------------------------
    page.goto(live_server.url + reverse("accounts:signup"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un compte entreprise")
    check(page, "01-signup")
    for name, value in {
        "first_name": "Claire",
        "last_name": "Dupont",
        "email": EMAIL,
        "password1": PASSWORD,
        "password2": PASSWORD,
    }.items():
        page.locator(f'input[name="{name}"]').fill(value)
    click_and_wait(page, page.get_by_role("button", name="Créer mon compte"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre messagerie")

    assert [message.to for message in world.outbox] == [[EMAIL]]
    link = re.search(r"https?://\S+/comptes/confirmer/\S+/\S+/", world.outbox[0].body)
    assert link, world.outbox[0].body
    page.goto(link.group(0))
    check(page, "02-confirm")
    click_and_wait(page, page.get_by_role("button", name="Confirmer et me connecter"))

    # --- Attach the company: a wrong Luhn key first --------------------------------------
    assert path(page) == reverse("accounts:attach_company")
    page.get_by_label("SIRET de votre établissement").fill(WRONG_SIRET)
    page.get_by_label("Raison sociale").fill(COMPANY_NAME)
    click_and_wait(page, page.get_by_role("button", name="Rattacher cette entreprise"))
    siret_field = page.locator(".field.has-error").filter(has=page.get_by_label("SIRET de votre établissement"))
    expect(siret_field).to_contain_text("la clé de contrôle ne correspond pas")
    expect(page.get_by_label("Raison sociale")).to_have_value(COMPANY_NAME)
    check(page, "03-attach-refused")
    page.get_by_label("SIRET de votre établissement").fill(SIRET)
    click_and_wait(page, page.get_by_role("button", name="Rattacher cette entreprise"))
    company = Company.objects.get(siren=SIREN)
    assert path(page) == reverse("accounts:company", args=[company.pk])

    # --- Start the diagnostic ---------------------------------------------------------------
    page.goto(live_server.url + reverse("diagnostic:home"))
    check(page, "04-home")
    click_and_wait(page, page.get_by_role("button", name="Commencer le diagnostic"))
    diagnostic = Diagnostic.objects.get(company=company)
    assert path(page) == reverse("diagnostic:identity", args=[diagnostic.pk])

    # --- Identity: a postal code for the commune is refused, the other answers stay --------
    # No establishment was described on attaching: its SIRET is asked here.
    page.get_by_label("SIRET de l'établissement").fill(SIRET)
    page.get_by_label("Raison sociale").fill(COMPANY_NAME)
    page.get_by_role("combobox", name="Activité principale (code NAF)").fill("62.01Z")
    page.get_by_role("combobox", name="Commune de l'établissement").fill("59000")
    page.get_by_label("10 à 49 salariés").check()
    check(page, "05-identity")
    click_and_wait(page, page.get_by_role("button", name="Enregistrer et continuer"))
    commune_field = page.locator(".diag-field.has-error").filter(
        has=page.get_by_role("combobox", name="Commune de l'établissement")
    )
    expect(commune_field).to_contain_text("un code postal ne convient pas")
    expect(page.get_by_role("combobox", name="Activité principale (code NAF)")).to_have_value("62.01Z")
    expect(page.get_by_label("10 à 49 salariés")).to_be_checked()
    check(page, "06-identity-refused")
    page.get_by_role("combobox", name="Commune de l'établissement").fill("Lille")
    click_and_wait(page, page.get_by_role("button", name="Enregistrer et continuer"))

    # --- Maturity: every question answered --------------------------------------------------
    assert path(page) == reverse("diagnostic:maturity", args=[diagnostic.pk])
    for item in maturity.ITEMS:
        page.locator(f'input[name="{item.key}"][value="2"]').check()
    check(page, "07-maturity")
    click_and_wait(page, page.get_by_role("button", name="Enregistrer et continuer"))

    # --- Jobs: the fiche from the suggestions; shares summing to 90 refused, then 100 -------
    assert path(page) == reverse("diagnostic:jobs", args=[diagnostic.pk])
    page.get_by_role("combobox", name="Métier").press_sequentially("Secrétai")
    page.get_by_role("option", name=re.compile("Secrétaire")).first.click()
    expect(page.get_by_role("combobox", name="Métier")).to_have_value("Secrétaire (M1607)")
    page.get_by_label("Nombre de personnes qui exercent ce métier").fill("4")
    shares = {"rc": "40", "rm": "0", "nra": "30", "nri": "20"}
    for name, value in shares.items():
        page.locator(f'input[name="{name}"]').fill(value)
    page.get_by_label("Ces personnes ont besoin d'une formation").check()
    check(page, "08-jobs")
    click_and_wait(page, page.get_by_role("button", name="Ajouter ce métier"))
    shares_box = page.locator("fieldset.diag-shares")
    expect(shares_box.locator(".errorlist")).to_contain_text("il reste 10 % à répartir")
    for name, value in shares.items():
        expect(page.locator(f'input[name="{name}"]')).to_have_value(value)
    expect(page.get_by_role("combobox", name="Métier")).to_have_value("Secrétaire (M1607)")
    expect(page.get_by_label("Nombre de personnes qui exercent ce métier")).to_have_value("4")
    check(page, "09-jobs-refused")
    assert not diagnostic.jobs.exists()
    page.locator('input[name="nrm"]').fill("10")
    click_and_wait(page, page.get_by_role("button", name="Ajouter ce métier"))
    expect(page.locator(".diag-jobs")).to_contain_text("Secrétaire")
    check(page, "10-jobs-added")
    click_and_wait(page, page.get_by_role("button", name="Enregistrer et continuer"))

    # --- Review and a double-clicked submission ----------------------------------------------
    assert path(page) == reverse("diagnostic:review", args=[diagnostic.pk])
    expect(page.locator(".diag-problems")).to_have_count(0)
    check(page, "11-review")
    submit = page.get_by_role("button", name="Envoyer le diagnostic")
    with page.expect_navigation():
        # Two clicks in the same task, as a hurried double click sends them.
        submit.evaluate("button => { button.click(); button.click(); }")
    assert path(page) == reverse("diagnostic:detail", args=[diagnostic.pk])
    expect(page.locator(".diag-done")).to_contain_text("Envoyé le")
    # The page shown is the first POST's answer: the second click was held back by the form.
    expect(page.get_by_text("Merci ! Votre diagnostic est envoyé.")).to_be_visible()
    check(page, "12-summary")

    diagnostic.refresh_from_db()
    assert diagnostic.status == Diagnostic.Status.SUBMITTED
    assert Diagnostic.objects.filter(company=company).count() == 1
    assert diagnostic.submitted_by.email == EMAIL
    positions = JobPosition.objects.filter(diagnostic=diagnostic)
    assert [(p.occupation_id, p.headcount, p.rc, p.nra, p.nri, p.nrm) for p in positions] == [
        ("M1607", 4, 40, 30, 20, 10)
    ]

    # --- The report ---------------------------------------------------------------------------
    click_and_wait(page, page.get_by_role("link", name="Voir le rapport de l'entreprise"))
    report_url = live_server.url + reverse("diagnostic_report", args=[diagnostic.pk])
    assert page.url == report_url
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Rapport de {COMPANY_NAME}")
    expect(page.locator(".report-job")).to_contain_text("Secrétaire")
    check(page, "13-report")

    # --- A member of another company: both pages are 404 ---------------------------------------
    page.context.clear_cookies()
    login(page, live_server, world.stranger.username, PASSWORD)
    for url in (live_server.url + reverse("diagnostic:detail", args=[diagnostic.pk]), report_url):
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.locator("body")).not_to_contain_text(COMPANY_NAME)
