"""Import jobs: a curator uploads an LHEO or RNCP file, a Celery task (eager here) imports it
with a progress bar, and the job's page shows the report or the errors; a refused file writes
nothing."""

import io
import re
import zipfile
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from companies.signals import field_data_changed
from skills.importers.base import ImportFailed, ImportReport, RowError
from skills.models import Certification, Occupation, SkillBlock
from tests.skills.factories import OccupationFactory
from trainings import forms, selectors_curation, services
from trainings.models import CurationEvent, CurationStatus, ImportJob, Provider, Session, TrainingOffer

pytestmark = pytest.mark.django_db

IMPORTS = reverse("trainings:curation_imports")
SIRET = "44291751500011"  # Luhn-valid

FORMATION = """
    <formation numero="{number}">
      <domaine-formation><code-FORMACODE>31054</code-FORMACODE></domaine-formation>
      <intitule-formation>{title}</intitule-formation>
      <objectif-formation>{objectives}</objectif-formation>
      <resultats-attendus>Attestation de fin de formation.</resultats-attendus>
      <contenu-formation>Tableaux de bord, requêtes SQL, restitution.</contenu-formation>
      <certifiante>0</certifiante>
      <contact-formation><coordonnees><courriel>contact@campus-nord.example</courriel></coordonnees></contact-formation>
      <parcours-de-formation>1</parcours-de-formation>
      <code-niveau-entree>0</code-niveau-entree>
      <action numero="{number}-A1">
        <rythme-formation>Temps plein</rythme-formation>
        <code-public-vise>83056</code-public-vise>
        <niveau-entree-obligatoire>0</niveau-entree-obligatoire>
        <modalites-alternance>Sans objet</modalites-alternance>
        <modalites-enseignement>{modality}</modalites-enseignement>
        <conditions-specifiques>Aucune</conditions-specifiques>
        <prise-en-charge-frais-possible>1</prise-en-charge-frais-possible>
        <lieu-de-formation><coordonnees><adresse>
          <ligne>12 rue Nationale</ligne><codepostal>59000</codepostal><ville>Lille</ville>
        </adresse></coordonnees></lieu-de-formation>
        <modalites-entrees-sorties>0</modalites-entrees-sorties>
        <session numero="{number}-S1">
          <periode><debut>20270104</debut><fin>20270326</fin></periode>
          <adresse-inscription><adresse>
            <ligne>12 rue Nationale</ligne><codepostal>59000</codepostal><ville>Lille</ville>
          </adresse></adresse-inscription>
        </session>
        <prix-total-TTC>{price}</prix-total-TTC>
        <nombre-heures-total>{hours}</nombre-heures-total>
      </action>
      <organisme-formation-responsable>
        <numero-activite>32590123459</numero-activite>
        <SIRET-organisme-formation><SIRET>{siret}</SIRET></SIRET-organisme-formation>
        <nom-organisme>Campus Nord</nom-organisme>
        <raison-sociale>Campus Nord Numérique</raison-sociale>
        <coordonnees-organisme><coordonnees><adresse>
          <ligne>12 rue Nationale</ligne><codepostal>59000</codepostal><ville>Lille</ville>
        </adresse></coordonnees></coordonnees-organisme>
        <contact-organisme><coordonnees><nom>Lefebvre</nom><prenom>Camille</prenom></coordonnees></contact-organisme>
      </organisme-formation-responsable>
    </formation>"""


def lheo(*formations: str) -> bytes:
    """An LHEO 2.3 document (namespace http://lheo.gouv.fr/2.3) with the given <formation>s."""
    body = "".join(formations)
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<lheo xmlns="http://lheo.gouv.fr/2.3">\n  <offres>'
    return f"{head}{body}\n  </offres>\n</lheo>\n".encode()


def formation(number, title, *, objectives="Exploiter les données de l'entreprise.", siret=SIRET, hours="140"):
    return FORMATION.format(
        number=number, title=title, objectives=objectives, siret=siret, hours=hours, price="2100.00", modality="0"
    )


TWO_OFFERS = lheo(
    formation("HDF-0001", "Analyste de données en PME", objectives="Maîtriser l'analyse de données."),
    formation("HDF-0002", "Tableur pour l'atelier", objectives="Suivre une production avec un tableur."),
)


@pytest.fixture(autouse=True)
def _no_grid_recomputation(settings):
    # The observatory's answer to the coverage signal is tested in test_curation_services.
    settings.OBSERVATORY_AUTO_RECOMPUTE = False


def run_job(kind, payload, user, django_capture_on_commit_callbacks, filename="offres.xml") -> ImportJob:
    """Create a job the way the upload view does and let the eager task run after commit."""
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_job_create(kind=kind, filename=filename, payload=payload, user=user)
    job.refresh_from_db()
    return job


def counts(job):
    return [(r["source"], r["created"], r["updated"], r["unchanged"], r["rejected"]) for r in job.report["reports"]]


# --- LHEO through the service and the task ---------------------------------------------------


def test_lheo_job_imports_the_offers_and_reports_the_counts(curator, django_capture_on_commit_callbacks):
    job = run_job(ImportJob.Kind.LHEO, TWO_OFFERS, curator, django_capture_on_commit_callbacks)

    assert (job.state, job.progress) == (ImportJob.State.DONE, 100)
    assert job.finished_at is not None
    assert counts(job) == [("offres.xml (offres)", 2, 0, 0, 0), ("offres.xml (organismes)", 1, 0, 0, 0)]
    assert selectors_curation.import_job_totals(job) == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    provider = Provider.objects.get()
    assert (provider.siret, provider.name, provider.status) == (
        SIRET,
        "Campus Nord Numérique",
        CurationStatus.SUBMITTED,
    )
    offers = dict(TrainingOffer.objects.values_list("lheo_number", "status"))
    assert offers == {"HDF-0001": CurationStatus.SUBMITTED, "HDF-0002": CurationStatus.SUBMITTED}
    # The AI rule ran on the new offers: « analyse de données » is one of its expressions.
    assert dict(TrainingOffer.objects.values_list("lheo_number", "ai_related")) == {
        "HDF-0001": True,
        "HDF-0002": False,
    }
    assert Session.objects.count() == 2
    # History rows name the curator who uploaded the file.
    assert set(CurationEvent.objects.values_list("action", "user")) == {(CurationEvent.Action.IMPORTED, curator.pk)}


def test_the_same_file_twice_updates_nothing(curator, django_capture_on_commit_callbacks):
    run_job(ImportJob.Kind.LHEO, TWO_OFFERS, curator, django_capture_on_commit_callbacks)
    again = run_job(ImportJob.Kind.LHEO, TWO_OFFERS, curator, django_capture_on_commit_callbacks)

    assert again.state == ImportJob.State.DONE
    assert counts(again) == [("offres.xml (offres)", 0, 0, 2, 0), ("offres.xml (organismes)", 0, 0, 1, 0)]
    assert TrainingOffer.objects.count() == 2 and Provider.objects.count() == 1


def test_malformed_lheo_fails_the_job_and_writes_nothing(curator, django_capture_on_commit_callbacks):
    bad = lheo(
        formation("HDF-0001", "Analyste de données en PME"),
        formation("HDF-0002", "", siret="44291751500012"),  # no title, SIRET with a wrong key
    )
    job = run_job(ImportJob.Kind.LHEO, bad, curator, django_capture_on_commit_callbacks)

    assert job.state == ImportJob.State.FAILED
    errors = job.report["errors"]
    assert len(errors) == 2
    assert all(error.startswith("offres.xml, ligne ") for error in errors)
    assert any("offre « HDF-0002 » : intitulé absent" in error for error in errors)
    assert any("SIRET « 44291751500012 » invalide" in error for error in errors)
    assert (Provider.objects.count(), TrainingOffer.objects.count(), CurationEvent.objects.count()) == (0, 0, 0)


def test_truncated_xml_fails_with_its_line(curator, django_capture_on_commit_callbacks):
    job = run_job(ImportJob.Kind.LHEO, TWO_OFFERS[:400], curator, django_capture_on_commit_callbacks)
    assert job.state == ImportJob.State.FAILED
    assert len(job.report["errors"]) == 1 and job.report["errors"][0].startswith("offres.xml, ligne ")
    assert TrainingOffer.objects.count() == 0


def test_progress_is_saved_while_the_importer_runs(curator, monkeypatch, django_capture_on_commit_callbacks):
    seen = []

    def fake_import_lheo(source, *, user=None, progress=None):
        progress(0.25)
        job = ImportJob.objects.get()
        seen.append((job.state, job.progress, selectors_curation.import_job_progress(job.pk)["progress"]))
        progress(0.8)
        seen.append(selectors_curation.import_job_progress(job.pk)["progress"])
        return [ImportReport("flux", created=1)]

    monkeypatch.setattr("trainings.importers.lheo.import_lheo", fake_import_lheo)
    job = run_job(ImportJob.Kind.LHEO, b"<lheo/>", curator, django_capture_on_commit_callbacks)

    assert seen == [(ImportJob.State.RUNNING, 25, 25), 80]
    assert (job.state, job.progress) == (ImportJob.State.DONE, 100)


def test_a_crash_fails_the_job_and_rolls_back_what_the_importer_wrote(
    curator, monkeypatch, django_capture_on_commit_callbacks
):
    def crashing_import_lheo(source, *, user=None, progress=None):
        Provider.objects.create(siret=SIRET, name="Écrit puis annulé")
        raise RuntimeError("bug")

    monkeypatch.setattr("trainings.importers.lheo.import_lheo", crashing_import_lheo)
    job = run_job(ImportJob.Kind.LHEO, TWO_OFFERS, curator, django_capture_on_commit_callbacks)

    assert job.state == ImportJob.State.FAILED
    assert job.report == {
        "errors": ["Erreur inattendue pendant l'import ; rien n'a été écrit. Prévenez l'équipe technique."]
    }
    assert not Provider.objects.exists()


def test_a_finished_job_is_not_imported_twice(curator, monkeypatch, django_capture_on_commit_callbacks):
    """acks_late: a message delivered again after the job finished does nothing."""
    job = run_job(ImportJob.Kind.LHEO, TWO_OFFERS, curator, django_capture_on_commit_callbacks)
    calls = []
    monkeypatch.setattr("trainings.importers.lheo.import_lheo", lambda *a, **k: calls.append(1))

    from trainings.tasks import run_import_job

    outcome = run_import_job(job.pk)
    assert calls == [] and outcome["state"] == ImportJob.State.DONE
    assert outcome["report"] == job.report


def test_an_interrupted_job_restarts_cleanly(curator, django_capture_on_commit_callbacks):
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.LHEO, filename="offres.xml", payload=TWO_OFFERS, created_by=curator
    )
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING, progress=40)

    from trainings.tasks import run_import_job

    outcome = run_import_job(job.pk)
    assert outcome["state"] == ImportJob.State.DONE
    assert TrainingOffer.objects.count() == 2


def test_a_job_that_changed_the_catalogue_tells_the_observatory(curator, django_capture_on_commit_callbacks):
    sent = []

    def receiver(sender, **kwargs):
        sent.append(kwargs["source"])

    field_data_changed.connect(receiver, dispatch_uid="test_import_jobs_signal")
    try:
        run_job(ImportJob.Kind.LHEO, TWO_OFFERS, curator, django_capture_on_commit_callbacks)
        run_job(ImportJob.Kind.LHEO, TWO_OFFERS, curator, django_capture_on_commit_callbacks)  # unchanged
    finally:
        field_data_changed.disconnect(dispatch_uid="test_import_jobs_signal")
    assert sent == ["import_lheo"]


# --- RNCP -------------------------------------------------------------------------------------


def rncp_zip(fixtures_dir, *, without=()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((fixtures_dir / "rncp").glob("*.csv")):
            if not any(part in path.name for part in without):
                archive.write(path, path.name)
    return buffer.getvalue()


def test_rncp_job_imports_certifications_and_tags_their_blocks(
    curator, fixtures_dir, django_capture_on_commit_callbacks
):
    for code in ("M1805", "M1604", "M1607"):
        OccupationFactory(code=code)

    job = run_job(
        ImportJob.Kind.RNCP, rncp_zip(fixtures_dir), curator, django_capture_on_commit_callbacks, "export.zip"
    )

    assert job.state == ImportJob.State.DONE, job.report
    assert [(source.split("_")[3], c, u, n, r) for source, c, u, n, r in counts(job)] == [
        ("Standard", 6, 0, 0, 0),
        ("Blocs", 7, 0, 0, 0),
    ]
    assert Certification.objects.count() == 6 and SkillBlock.objects.count() == 7
    # tests/fixtures/rncp/README.md: three blocks speak of AI or data.
    assert job.report["tagged_skill_blocks"] == 3
    assert set(SkillBlock.objects.filter(ai_related=True).values_list("code", flat=True)) == {
        "RNCP37827BC01",
        "RNCP37827BC02",
        "RNCP35288BC02",
    }
    assert Occupation.objects.count() >= 3


def test_rncp_zip_without_its_standard_file_fails_and_writes_nothing(
    curator, fixtures_dir, django_capture_on_commit_callbacks
):
    payload = rncp_zip(fixtures_dir, without=("Standard",))
    job = run_job(ImportJob.Kind.RNCP, payload, curator, django_capture_on_commit_callbacks, "export.zip")

    assert job.state == ImportJob.State.FAILED
    assert job.report["errors"] and any("Standard" in error for error in job.report["errors"])
    assert not Certification.objects.exists() and not SkillBlock.objects.exists()


def test_import_failed_without_row_errors_still_says_why(curator, monkeypatch, django_capture_on_commit_callbacks):
    def refusing(source, *, user=None, progress=None):
        raise ImportFailed([RowError(3, "numéro en double", "offres.xml")], "offres.xml")

    monkeypatch.setattr("trainings.importers.lheo.import_lheo", refusing)
    job = run_job(ImportJob.Kind.LHEO, TWO_OFFERS, curator, django_capture_on_commit_callbacks)
    assert job.report == {"errors": ["offres.xml, ligne 3 : numéro en double"]}


# --- Through the pages ---------------------------------------------------------------------------


def upload(name, content, content_type="application/xml"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_upload_redirects_to_the_job_page_which_shows_the_report(
    client_of, curator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_of.post(IMPORTS, {"kind": "lheo", "file": upload("catalogue-hdf.xml", TWO_OFFERS)})

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("trainings:curation_import_job", args=[job.pk])
    assert (job.kind, job.filename, bytes(job.payload), job.created_by) == (
        "lheo",
        "catalogue-hdf.xml",
        TWO_OFFERS,
        curator,
    )

    page = client_of.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Rapport" in html and "Terminé" in html
    assert '<p class="figure">3</p><p class="figure-label">créés</p>' in html
    assert '<p class="figure">0</p><p class="figure-label">rejeté</p>' in html
    assert "catalogue-hdf.xml (organismes)" in html
    assert "data-import-progress-url" not in html  # finished: no polling

    listing = client_of.get(IMPORTS).content.decode()
    assert "catalogue-hdf.xml" in listing and "3 créés, 0 mis à jour, 0 inchangé, 0 rejeté" in listing


def test_malformed_upload_shows_the_errors_in_french_and_writes_nothing(client_of, django_capture_on_commit_callbacks):
    bad = lheo(formation("HDF-0009", ""))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_of.post(IMPORTS, {"kind": "lheo", "file": upload("offres-fausses.xml", bad)})

    html = unescape(client_of.get(response["Location"]).content.decode())
    assert "Fichier refusé : rien n'a été écrit" in html
    assert "offre « HDF-0009 » : intitulé absent" in html
    assert not TrainingOffer.objects.exists() and not Provider.objects.exists()


def test_a_running_job_page_polls_its_progress(client_of, curator):
    job = ImportJob.objects.create(kind="lheo", filename="gros.xml", payload=b"<lheo/>", created_by=curator)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING, progress=10)
    services._import_progress(job.pk, 42)  # the worker's callback, seen through the cache

    html = client_of.get(reverse("trainings:curation_import_job", args=[job.pk])).content.decode()
    url = reverse("trainings:curation_import_progress", args=[job.pk])
    assert f'data-import-progress-url="{url}"' in html
    assert 'src="/static/js/import_progress.js"' in html

    data = client_of.get(url).json()
    assert data == {"id": job.pk, "state": "running", "state_label": "En cours", "progress": 42, "finished": False}
    assert "no-cache" in client_of.get(url)["Cache-Control"]


def test_progress_of_an_unknown_job_is_404(client_of):
    assert client_of.get(reverse("trainings:curation_import_progress", args=[999])).status_code == 404


@pytest.mark.parametrize(
    ("kind", "name", "content", "message"),
    [
        ("rncp", "export.csv", b"PK\x03\x04rest", "« export.csv » n'est pas une archive zip (.zip)"),
        ("rncp", "export.zip", b"Numero_Fiche;Intitule\n", "« export.zip » n'est pas une archive zip (.zip)"),
        ("lheo", "offres.zip", b"<lheo/>", "« offres.zip » n'est pas un fichier XML (.xml)"),
        ("lheo", "offres.xml", b"PK\x03\x04", "« offres.xml » n'est pas un fichier XML (.xml)"),
    ],
)
def test_wrong_kind_of_file_is_refused_with_the_choice_kept(client_of, kind, name, content, message):
    response = client_of.post(IMPORTS, {"kind": kind, "file": upload(name, content)})

    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert message in html
    assert re.search(rf'<input type="radio" name="kind" value="{kind}"[^>]*checked', html)
    assert response.context["form"]["kind"].value() == kind
    assert not ImportJob.objects.exists()


def test_oversize_file_is_refused_with_a_clear_message(client_of, monkeypatch):
    monkeypatch.setattr(forms, "MAX_UPLOAD_BYTES", 1024 * 1024)
    content = b"<" + b"x" * (3 * 512 * 1024 - 1)  # 1.5 Mo
    response = client_of.post(IMPORTS, {"kind": "lheo", "file": upload("offres.xml (offres)", content)})

    assert response.status_code == 400
    assert "Ce fichier pèse 1,5 Mo : la limite est de 1 Mo. Découpez-le ou compressez-le." in unescape(
        response.content.decode()
    )
    assert response.context["form"]["kind"].value() == "lheo"
    assert not ImportJob.objects.exists()


def test_the_real_limit_is_twenty_megabytes():
    big = SimpleUploadedFile("offres.xml (offres)", b"<", content_type="application/xml")
    big.size = 20 * 1024 * 1024 + 1
    form = forms.ImportUploadForm({"kind": "lheo"}, {"file": big})
    assert not form.is_valid()
    assert form.errors["file"] == ["Ce fichier pèse 20,0 Mo : la limite est de 20 Mo. Découpez-le ou compressez-le."]


def test_missing_file_is_refused(client_of):
    response = client_of.post(IMPORTS, {"kind": "rncp"})
    assert response.status_code == 400
    assert "Choisissez le fichier à importer." in response.content.decode()
