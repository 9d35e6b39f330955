"""A real Celery worker, in its own process, reaches the broker, the result backend and the
database the test wrote to.

The broker is TEST_CELERY_BROKER_URL, by default redis://127.0.0.1:6379/15 (as in CI). The
test skips when the default Redis does not answer, and fails when an explicitly set one does
not. On PostgreSQL (CI) the worker opens the pytest test database itself. On SQLite the test
database lives in the test process's memory, so the test copies it to a file the worker
opens: the same assertions hold on both.
"""

import os

import pytest
from django.db import connection

from skills.models import Occupation
from tests.worker import celery_client, start_worker, worker_database_url

pytestmark = pytest.mark.worker


def test_worker_runs_ping_against_the_test_database(transactional_db, broker_url, tmp_path):
    Occupation.objects.create(code="M", level=Occupation.Level.GRAND_DOMAINE, label="Support à l'entreprise")
    Occupation.objects.create(code="K", level=Occupation.Level.GRAND_DOMAINE, label="Services à la personne")
    database_url = worker_database_url(tmp_path)

    with (
        start_worker(broker_url, database_url=database_url) as worker,
        celery_client(broker_url) as app,
    ):
        result = app.send_task("observatory.ping", args=[42], queue=worker.queue)
        assert result.get(timeout=30) == {"pong": 42, "occupations": 2}

        # The task ran in the worker process, not eagerly in this one.
        assert result.worker == worker.nodename  # recorded thanks to CELERY_RESULT_EXTENDED
        stats = app.control.inspect(destination=[worker.nodename], timeout=5).stats()
        assert stats[worker.nodename]["pid"] == worker.pid != os.getpid()
        result.forget()


def test_worker_computes_a_grid_run(transactional_db, migration_data, broker_url, tmp_path, hand_worked):  # noqa: F811
    """The engine's task through a real worker: the run is computed there and made current."""
    from observatory.models import GridCell, GridRun
    from observatory.services import grid_run_create

    run = grid_run_create(trigger="worker-test")
    database_url = worker_database_url(tmp_path)

    with (
        start_worker(broker_url, database_url=database_url) as worker,
        celery_client(broker_url) as app,
    ):
        result = app.send_task("observatory.compute_grid_run", args=[run.pk], queue=worker.queue)
        outcome = result.get(timeout=120)
        assert result.worker == worker.nodename
        result.forget()

    assert outcome["run"] == run.pk and outcome["status"] == GridRun.Status.READY
    assert outcome["cells"] > 0
    if connection.vendor == "postgresql":
        # Same database as this test: the worker's writes are visible here.
        run.refresh_from_db()
        assert run.status == GridRun.Status.READY and run.is_current
        assert GridCell.objects.filter(run=run).count() == outcome["cells"]
        total = GridCell.objects.get(
            run=run, territory_level="all", sector_level="all", occupation_level="all", size_band="all"
        )
        assert total.employees == 65 and total.companies == 4


def test_worker_runs_an_lheo_import_job(transactional_db, migration_data, broker_url, tmp_path, settings):
    """A curator's upload as the worker sees it: the job row and its file are read from the
    database, the offers imported there, and the report comes back through the broker."""
    from tests.trainings.test_import_jobs import TWO_OFFERS
    from trainings.models import ImportJob, TrainingOffer

    settings.OBSERVATORY_AUTO_RECOMPUTE = False
    # Created directly: services.import_job_create would run it eagerly here on commit.
    job = ImportJob.objects.create(kind=ImportJob.Kind.LHEO, filename="offres.xml", payload=TWO_OFFERS)
    database_url = worker_database_url(tmp_path)

    with (
        start_worker(broker_url, database_url=database_url) as worker,
        celery_client(broker_url) as app,
    ):
        result = app.send_task("trainings.run_import_job", args=[job.pk], queue=worker.queue)
        outcome = result.get(timeout=60)
        assert result.worker == worker.nodename
        result.forget()

    assert outcome["job"] == job.pk and outcome["state"] == ImportJob.State.DONE, outcome
    reports = [
        (r["source"], r["created"], r["updated"], r["unchanged"], r["rejected"]) for r in outcome["report"]["reports"]
    ]
    assert reports == [("offres.xml (offres)", 2, 0, 0, 0), ("offres.xml (organismes)", 1, 0, 0, 0)]
    if connection.vendor == "postgresql":
        job.refresh_from_db()
        assert (job.state, job.progress) == (ImportJob.State.DONE, 100)
        assert TrainingOffer.objects.count() == 2
