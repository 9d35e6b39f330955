"""Import jobs always end: the heartbeat, the reaper, and messages delivered twice.

No clock is frozen: a heartbeat is set in the past by writing it, as a dead worker leaves it.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.trainings.test_import_jobs import TWO_OFFERS, upload
from trainings import services, tasks
from trainings.models import ImportJob, Provider, TrainingOffer

pytestmark = pytest.mark.django_db

INTERRUPTED = "L'import s'est interrompu (processus arrêté) ; rien n'a été écrit : déposez le fichier à nouveau."


@pytest.fixture(autouse=True)
def _no_grid_recomputation(settings):
    settings.OBSERVATORY_AUTO_RECOMPUTE = False


def _job(curator, **fields) -> ImportJob:
    """A job as the upload leaves it (created directly: the service would run it eagerly)."""
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.LHEO, filename="offres.xml", payload=TWO_OFFERS, created_by=curator
    )
    if fields:
        ImportJob.objects.filter(pk=job.pk).update(**fields)
        job.refresh_from_db()
    return job


def _running(curator, *, silent_for: timedelta, task_id: str = "dead-worker") -> ImportJob:
    return _job(
        curator,
        state=ImportJob.State.RUNNING,
        heartbeat_at=timezone.now() - silent_for,
        task_id=task_id,
        progress=40,
    )


@pytest.fixture
def recorded_sends(monkeypatch):
    """run_import_job.delay only records the jobs sent: the broker, without a worker."""
    sent = []
    monkeypatch.setattr(tasks.run_import_job, "delay", sent.append)
    return sent


def test_the_reaper_fails_an_import_whose_heartbeat_stopped(curator, settings, client_of):  # noqa: F811
    settings.RUN_HEARTBEAT_TIMEOUT = 300
    dead = _running(curator, silent_for=timedelta(minutes=6))
    outcome = services.import_jobs_reap()
    assert outcome == {"reaped": [dead.pk], "abandoned": [], "resent": []}
    dead.refresh_from_db()
    assert dead.state == ImportJob.State.FAILED and dead.finished_at is not None
    assert dead.report == {"errors": [INTERRUPTED]}
    # The job's page stops waiting and says what happened.
    progress = client_of.get(reverse("trainings:curation_import_progress", args=[dead.pk])).json()
    assert progress["finished"] is True
    page = client_of.get(reverse("trainings:curation_import_job", args=[dead.pk])).content.decode()
    assert "L&#x27;import s&#x27;est interrompu (processus arrêté)" in page


def test_a_fresh_heartbeat_is_left_alone(curator, settings):
    settings.RUN_HEARTBEAT_TIMEOUT = 300
    alive = _running(curator, silent_for=timedelta(seconds=20))
    ImportJob.objects.filter(pk=alive.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert services.import_jobs_reap() == {"reaped": [], "abandoned": [], "resent": []}
    alive.refresh_from_db()
    assert alive.state == ImportJob.State.RUNNING


def test_a_pending_import_never_sent_is_sent_again_then_failed(
    curator, settings, recorded_sends, django_capture_on_commit_callbacks
):
    settings.RUN_PENDING_TIMEOUT = 600
    settings.RUN_MAX_RESENDS = 2
    job = _job(curator)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=11))

    for attempt in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.import_jobs_reap() == {"reaped": [], "abandoned": [], "resent": [job.pk]}
        assert recorded_sends == [job.pk] * attempt
        job.refresh_from_db()
        assert job.state == ImportJob.State.PENDING and job.resends == attempt
        with django_capture_on_commit_callbacks(execute=True):
            assert services.import_jobs_reap()["resent"] == []
        ImportJob.objects.filter(pk=job.pk).update(due_at=timezone.now() - timedelta(minutes=11))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.import_jobs_reap() == {"reaped": [], "abandoned": [job.pk], "resent": []}
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert job.report["errors"][0].startswith("L'import n'a été pris en charge par aucun processus après 3 envois")


def test_a_broker_out_of_reach_keeps_the_upload_and_the_reaper_sends_it(
    curator,
    client_of,  # noqa: F811
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from kombu.exceptions import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_import_job, "delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_of.post(
            reverse("trainings:curation_imports"), {"kind": "lheo", "file": upload("offres.xml", TWO_OFFERS)}
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/")
    assert job.state == ImportJob.State.PENDING

    monkeypatch.undo()
    settings.RUN_PENDING_TIMEOUT = 600
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.import_jobs_reap()["resent"] == [job.pk]
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and TrainingOffer.objects.count() == 2


def test_a_job_another_message_imports_is_left_to_it_until_its_own_message_comes_back(curator):
    busy = _running(curator, silent_for=timedelta(seconds=5), task_id="first")
    outcome = tasks.run_import_job.apply(args=(busy.pk,), task_id="copy").get()
    assert outcome["state"] == ImportJob.State.RUNNING and not TrainingOffer.objects.exists()

    # The first message delivered again (its worker died): it imports from a clean state.
    outcome = tasks.run_import_job.apply(args=(busy.pk,), task_id="first").get()
    assert outcome["state"] == ImportJob.State.DONE
    assert TrainingOffer.objects.count() == 2 and Provider.objects.count() == 1

    # Delivered once more after it ended: nothing is imported twice.
    again = tasks.run_import_job.apply(args=(busy.pk,), task_id="first").get()
    assert again == outcome and TrainingOffer.objects.count() == 2


def test_a_late_message_leaves_a_reaped_import_failed(curator):
    dead = _running(curator, silent_for=timedelta(minutes=10))
    services.import_jobs_reap()
    outcome = tasks.run_import_job.apply(args=(dead.pk,), task_id="dead-worker").get()
    assert outcome["state"] == ImportJob.State.FAILED and outcome["report"] == {"errors": [INTERRUPTED]}
    assert not TrainingOffer.objects.exists()


def test_the_import_progress_is_a_heartbeat(curator, monkeypatch, django_capture_on_commit_callbacks):
    beats = []

    def watched(job_id, value):
        before = timezone.now()
        original(job_id, value)
        beats.append(ImportJob.objects.values_list("heartbeat_at", flat=True).get(pk=job_id) >= before)

    original = services._import_progress
    monkeypatch.setattr(services, "_import_progress", watched)
    job = _job(curator)
    outcome = tasks.run_import_job.apply(args=(job.pk,)).get()
    assert outcome["state"] == ImportJob.State.DONE
    assert beats and all(beats)
