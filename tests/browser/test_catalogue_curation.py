"""The catalogue's curation in a real browser: a curator imports an LHEO file and watches its
progress, reads the report, opens an imported offer from the queue, is refused its approval
while its provider is unpublished, approves the provider then the offer, and finds the offer
in the public catalogue under its département only. A company member and an analyst are
refused the curation pages. Every curation page is checked with axe-core; the queue, the
offer's page and the job's page are photographed on a desktop and a phone."""

import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime
from playwright.sync_api import expect

from companies.models import CompanyMembership
from observatory.reference import BUILTIN_REFERENCE_DIR, load_reference
from tests.browser.conftest import DESKTOP, PHONE, check_accessibility, login, screenshot
from tests.companies.factories import CompanyFactory
from trainings import services, tasks
from trainings.models import CurationEvent, CurationStatus, ImportJob, Provider, Session, TrainingOffer

# The live server answers from another thread: the data must be committed.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "motdepasse-test-2026"
SHOTS = Path("/tmp/curation-screenshots")
LHEO_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "lheo" / "offres-hdf.xml"
# The offer of the fixture held in Lille (59350), by a provider in Lille: shown under the Nord only.
LILLE_OFFER = "Analyste de données et intelligence artificielle"
LILLE_PROVIDER = "Institut numérique des Flandres"


@pytest.fixture
def world(migration_data):
    """The built-in communes and départements, a curator, an analyst, and a member of a company."""
    load_reference(BUILTIN_REFERENCE_DIR)
    users = get_user_model().objects

    def user(username, group=None):
        created = users.create_user(username=username, password=PASSWORD)
        if group:
            created.groups.add(Group.objects.get(name=group))
        return created

    member = user("membre@atelier-lillois.fr")
    CompanyMembership.objects.create(
        user=member,
        company=CompanyFactory(),
        status=CompanyMembership.Status.ACTIVE,
        role=CompanyMembership.Role.OWNER,
    )
    return SimpleNamespace(curator=user("curateur", "curator"), analyst=user("analyste", "analyst"), member=member)


@pytest.fixture
def held_worker(monkeypatch):
    """The Celery worker, held: locally Celery is eager and the upload request would run the
    import before redirecting, so the job page would never show its progress bar. Here the
    upload only queues the job; the test plays the worker."""
    queued = []
    monkeypatch.setattr(tasks.run_import_job, "delay_on_commit", queued.append)
    return queued


def axe_report(violations) -> str:
    return "\n".join(f"{v['impact']} {v['id']} ({v['help']}) at {v['targets']}: {v['summary']}" for v in violations)


def check(page, name: str, *, shoot: bool = False) -> None:
    """No serious or critical axe-core violation; with `shoot`, photos on a desktop and a phone,
    neither scrolling sideways."""
    violations = check_accessibility(page)
    assert not violations, f"{name}:\n{axe_report(violations)}"
    if not shoot:
        return
    SHOTS.mkdir(exist_ok=True)
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{size_name}.png"), full_page=True)
        screenshot(page, f"curation-{name}-{size_name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], f"{name} on {size_name}"
    page.set_viewport_size(DESKTOP)


def path(page) -> str:
    return urlsplit(page.url).path


def click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def test_a_curator_imports_lheo_offers_and_publishes_one(page, live_server, world, held_worker):
    login(page, live_server, "curateur", PASSWORD)

    # --- Curation → Catalogue → Imports ----------------------------------------------------
    click_and_wait(
        page, page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Curation")
    )
    click_and_wait(
        page, page.get_by_role("navigation", name="Curation", exact=True).get_by_role("link", name="Catalogue")
    )
    assert path(page) == reverse("trainings:curation_queue")
    expect(page.locator(".cur-empty")).to_contain_text("Aucune offre n'attend de décision.")
    click_and_wait(page, page.get_by_role("link", name="Imports de fichiers"))
    assert path(page) == reverse("trainings:curation_imports")
    expect(page.get_by_text("Aucun fichier n'a encore été importé.")).to_be_visible()
    check(page, "imports")

    # --- Upload the LHEO file: the job page waits for the worker ---------------------------
    page.get_by_label("Offres LHEO (XML)").check()
    page.get_by_label("Fichier", exact=True).set_input_files(LHEO_FILE)
    click_and_wait(page, page.get_by_role("button", name="Importer"))
    job = ImportJob.objects.get()
    assert held_worker == [job.pk]
    assert (job.kind, job.filename, job.state, job.created_by) == ("lheo", "offres-hdf.xml", "pending", world.curator)
    assert bytes(job.payload) == LHEO_FILE.read_bytes()
    assert path(page) == reverse("trainings:curation_import_job", args=[job.pk])
    expect(page.get_by_role("heading", level=1)).to_have_text("Import « offres-hdf.xml »")
    bar = page.locator(".cc-progress progress")
    expect(bar).to_have_js_property("value", 0)
    expect(page.locator("[data-progress-text]")).to_have_text("0\u00a0% — En attente")
    check(page, "job-pending")

    # The worker starts and reaches the end of the file: the bar follows without a reload.
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING, progress=100)
    expect(bar).to_have_js_property("value", 100)
    expect(page.locator("[data-progress-text]")).to_have_text("100\u00a0% — En cours")
    expect(page.locator("#job-state")).to_have_text("En cours")
    check(page, "job-running", shoot=True)

    # The worker commits: the page reloads itself to the report.
    services.import_job_run(job_id=job.pk)
    expect(page.locator("#job-state")).to_have_text("Terminé")
    expect(page.locator(".cc-progress")).to_have_count(0)
    job.refresh_from_db()
    assert (job.state, job.progress) == ("done", 100)

    # The report: what the page prints is what the database holds. Hand-worked from the file:
    # 3 offers of 2 providers (two offers share a SIRET), 4 sessions, all new; the offers name
    # RNCP37827 and RS5678, absent here (no RNCP file imported), and ROME M1403, absent from the
    # built-in subset (M1805 and M1604 are there).
    assert (TrainingOffer.objects.count(), Provider.objects.count(), Session.objects.count()) == (3, 2, 4)
    assert not TrainingOffer.objects.filter(certification__isnull=False).exists()
    assert sorted(TrainingOffer.objects.values_list("occupations__code", flat=True).exclude(occupations=None)) == [
        "M1604",
        "M1805",
    ]
    rows = {
        row.locator("th").inner_text(): [int(cell) for cell in row.locator("td").all_inner_texts()]
        for row in page.locator(".cc-report tbody tr").all()
    }
    assert rows == {"offres-hdf.xml (offres)": [3, 0, 0, 0], "offres-hdf.xml (organismes)": [2, 0, 0, 0]}
    assert [int(text) for text in page.locator(".cc-totals .figure").all_inner_texts()] == [5, 0, 0, 0]
    expect(page.locator(".cc-notes li")).to_have_text(
        [
            "2 offres visent une certification absente du référentiel RNCP importé : elles restent sans "
            "certification.",
            "1 code ROME inconnu du référentiel, non rattaché aux offres.",
        ]
    )
    check(page, "job", shoot=True)
    expect(page.get_by_role("link", name="Voir les offres à traiter")).to_have_attribute(
        "href", reverse("trainings:curation_queue")
    )

    # --- The imports page lists the job ------------------------------------------------------
    click_and_wait(page, page.locator(".cc-breadcrumb").get_by_role("link", name="Imports de fichiers"))
    job_rows = page.locator(".cc-stack tbody tr")
    expect(job_rows).to_have_count(1)
    # The date as the page writes it, in French: compared as text, so that a month with an
    # accent (« décembre ») matches as any other does.
    with translation.override("fr"):
        deposited = date_format(localtime(ImportJob.objects.get().created_at), "j F Y, H:i")
    expect(job_rows.locator("td")).to_have_text(
        [
            deposited,
            "offres-hdf.xmlOffres LHEO (XML)",
            "curateur",
            "Terminé",
            "5 créés, 0 mis à jour, 0 inchangé, 0 rejeté",
        ]
    )
    check(page, "imports-done", shoot=True)

    # --- The queue: the three offers wait, submitted ----------------------------------------
    click_and_wait(page, page.get_by_role("link", name=re.compile("^Offres à traiter")))
    assert path(page) == reverse("trainings:curation_queue")
    expect(page.locator(".cur-summary")).to_have_text("3 offres")
    offer_rows = page.locator(".cc-table tbody tr")
    expect(offer_rows).to_have_count(3)
    expect(offer_rows.filter(has_text=LILLE_OFFER)).to_contain_text("Organisme non publié (soumise)")
    check(page, "queue", shoot=True)

    # --- The offer in Lille: approval refused while its provider is not published ------------
    offer = TrainingOffer.objects.get(title=LILLE_OFFER)
    assert (offer.lheo_number, offer.provider.name, offer.provider.commune.code) == (
        "HDF-2026-001",
        LILLE_PROVIDER,
        "59350",
    )
    click_and_wait(page, page.get_by_role("link", name=LILLE_OFFER))
    assert path(page) == reverse("trainings:curation_offer", args=[offer.pk])
    expect(page.get_by_role("heading", level=1)).to_have_text(LILLE_OFFER)
    expect(page.locator(".cc-head .cc-status")).to_have_text("Soumise")
    check(page, "offer", shoot=True)

    click_and_wait(page, page.get_by_role("button", name="Approuver"))
    expect(page.locator(".cc-decision [role=alert]")).to_contain_text(
        f"son organisme « {LILLE_PROVIDER} » n'est pas publié (Soumise) ; approuvez-le d'abord"
    )
    offer.refresh_from_db()
    assert offer.status == CurationStatus.SUBMITTED
    assert not CurationEvent.objects.filter(offer=offer, action=CurationEvent.Action.APPROVED).exists()

    # --- Approve the provider, then the offer ----------------------------------------------------
    click_and_wait(page, page.locator(".cc-dl").get_by_role("link", name=LILLE_PROVIDER))
    assert path(page) == reverse("trainings:curation_provider", args=[offer.provider_id])
    click_and_wait(page, page.get_by_role("button", name="Approuver"))
    expect(page.locator(".messages")).to_contain_text(f"« {LILLE_PROVIDER} » : nouveau statut « publiée ».")
    assert Provider.objects.get(pk=offer.provider_id).status == CurationStatus.PUBLISHED

    click_and_wait(page, page.locator(".cc-offers").get_by_role("link", name=LILLE_OFFER))
    click_and_wait(page, page.get_by_role("button", name="Approuver"))
    expect(page.locator(".messages")).to_contain_text(f"« {LILLE_OFFER} » : nouveau statut « publiée ».")
    expect(page.locator(".cc-head .cc-status")).to_have_text("Publiée")
    # The history, newest first: the approval, after the import.
    history = page.locator(".cc-history > li")
    expect(history.locator("strong")).to_have_text(["Approuvée", "Importée"])
    expect(history.first.locator(".cc-status")).to_have_text(["Soumise", "Publiée"])
    offer.refresh_from_db()
    assert offer.status == CurationStatus.PUBLISHED
    event = CurationEvent.objects.get(offer=offer, action=CurationEvent.Action.APPROVED)
    assert (event.from_status, event.to_status, event.user) == ("submitted", "published", world.curator)

    # --- The public catalogue: under the Nord, not under the Pas-de-Calais ---------------------
    click_and_wait(page, page.get_by_role("link", name="Formations", exact=True))
    expect(page.locator("#cat-results-title")).to_have_text("1 formation")
    page.get_by_label("Département").select_option(label="Nord (59)")
    click_and_wait(page, page.get_by_role("button", name="Rechercher"))
    assert "departement=59" in page.url
    expect(page.locator("#cat-results-title")).to_have_text("1 formation")
    expect(page.locator(".cat-result h3")).to_have_text([LILLE_OFFER])
    check(page, "search-59")

    page.get_by_label("Département").select_option(label="Pas-de-Calais (62)")
    click_and_wait(page, page.get_by_role("button", name="Rechercher"))
    assert "departement=62" in page.url
    expect(page.locator("#cat-results-title")).to_have_text("Aucune formation ne correspond")
    expect(page.locator(".cat-result")).to_have_count(0)
    check(page, "search-62")


@pytest.mark.parametrize("who", ["member", "analyst"])
def test_the_curation_pages_are_refused_to_others(page, live_server, world, who):
    login(page, live_server, getattr(world, who).username, PASSWORD)
    expect(page.get_by_role("link", name="Curation")).to_have_count(0)
    for url in (reverse("trainings:curation_queue"), reverse("trainings:curation_imports")):
        response = page.goto(live_server.url + url)
        assert response.status == 403, url
        expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
        expect(page.locator("body")).not_to_contain_text("Importer un fichier")
