"""A grid run always ends, even when its worker is killed mid-run: a real Celery worker on
Redis, computing in the test's PostgreSQL database, killed with SIGKILL.

- The worker's main process killed (solo pool: the run computes in it): nothing gives the
  message back before Redis's visibility timeout, so the reaper fails the run once its
  heartbeat stopped, and the run is relaunched at once on a new worker.
- Only the pool's child killed (prefork): the worker gives the message back
  (CELERY_TASK_REJECT_ON_WORKER_LOST) and a new child computes the run again from scratch.

Either way the run ends, ready (delivered again) or failed with the reaper's reason and
relaunchable; the current grid stays in place until a run replaces it, and no cell is
written twice. The hand-worked case computes in a fraction of a second: the worker imports
tests.worker_hooks, which makes each step last STEP_SECONDS while the run's heartbeat thread
beats every half second.

Skipped, saying why, without Redis (as tests/test_celery_worker.py) or without PostgreSQL:
on SQLite a worker computes in a copy of the test database, whose writes this test cannot
watch. CI (.ci/run) runs it on both.
"""

import os
import signal
import time

import pytest
from django.db import connection
from django.db.models import Count

from observatory import selectors, services
from observatory.models import CELL_COORDINATES, GridCell, GridRun, Lens
from tests.worker import celery_client, start_worker, worker_database_url

pytestmark = pytest.mark.worker

STEP_SECONDS = 1.0
WORKER = {
    "include": ("tests.worker_hooks",),
    "environment": {"TEST_RUN_STEP_SECONDS": str(STEP_SECONDS), "RUN_HEARTBEAT_INTERVAL": "0.5"},
}
# The test's reaper: three seconds without a heartbeat (six beats missed) is a dead worker.
HEARTBEAT_TIMEOUT = 3


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL (set DATABASE_URL): on SQLite the worker computes in a copy of the "
            "test database, whose writes this test cannot watch"
        )


@pytest.fixture
def current_grid(postgresql, transactional_db, migration_data, hand_worked):  # noqa: F811
    """The grid in force before the killed run, computed here."""
    run = services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    assert run.is_current
    return run, run.cells.count()


def wait_for(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def computing(run: GridRun, *, past: int):
    """The run is being computed by a worker that beats, past `past` % of its steps."""
    run.refresh_from_db()
    return run.status == GridRun.Status.RUNNING and run.progress >= past and run.heartbeat_at is not None


def ended(run: GridRun) -> bool:
    """One pass of the reaper (beat's, every minute in production), then: has the run ended?"""
    services.grid_runs_reap()
    run.refresh_from_db()
    return run.status in (GridRun.Status.READY, GridRun.Status.FAILED)


def duplicated_cells(run: GridRun) -> int:
    return GridCell.objects.filter(run=run).values(*CELL_COORDINATES).annotate(n=Count("id")).filter(n__gt=1).count()


def check_the_end(run: GridRun, current_grid, app, worker) -> GridRun:
    """The run ended ready, or failed with the reaper's reason and relaunched at once on
    `worker`; the run in force at the end has all its cells, once each. Returns it."""
    previous, previous_cells = current_grid
    if run.status == GridRun.Status.FAILED:
        assert run.error == services.REAPED_ERROR
        assert not run.is_current and not run.cells.exists()
        previous.refresh_from_db()
        assert previous.is_current and previous.cells.count() == previous_cells
        # Nothing of the lens is « en cours » any more: an analyst may relaunch it now.
        assert selectors.active_grid_run(lens=Lens.DEFAULT, index_id=None) is None
        run = services.grid_run_create(lens=Lens.DEFAULT)
        result = app.send_task("observatory.compute_grid_run", args=[run.pk], queue=worker.queue)
        assert result.get(timeout=120)["status"] == GridRun.Status.READY
        result.forget()
        run.refresh_from_db()
    assert run.status == GridRun.Status.READY and run.is_current
    assert GridRun.objects.current(Lens.DEFAULT) == run
    assert run.cells.count() == run.stats["cells"] == previous_cells
    for each in GridRun.objects.all():
        assert duplicated_cells(each) == 0, f"run {each.pk} has cells written twice"
    return run


def test_a_run_whose_worker_is_killed_ends_and_can_be_relaunched(broker_url, current_grid, tmp_path, settings):  # noqa: F811
    settings.RUN_HEARTBEAT_TIMEOUT = HEARTBEAT_TIMEOUT
    previous, previous_cells = current_grid
    run = services.grid_run_create(lens=Lens.DEFAULT)
    database_url = worker_database_url(tmp_path)

    with (
        start_worker(broker_url, database_url=database_url, **WORKER) as worker,
        celery_client(broker_url) as app,
    ):
        app.send_task("observatory.compute_grid_run", args=[run.pk], queue=worker.queue)
        wait_for(lambda: computing(run, past=45), timeout=60, what="the worker computing the run")
        worker.kill()

    # Killed mid-run: the run is still « en cours », and the grid in force has not moved.
    run.refresh_from_db()
    assert run.status == GridRun.Status.RUNNING and not run.cells.exists()
    previous.refresh_from_db()
    assert previous.is_current and previous.cells.count() == previous_cells

    # A worker again, on the same queue, and the reaper: the run ends.
    with (
        start_worker(broker_url, database_url=database_url, queue=worker.queue, **WORKER) as again,
        celery_client(broker_url) as app,
    ):
        wait_for(lambda: ended(run), timeout=60, what="the killed run ending")
        check_the_end(run, current_grid, app, again)


def test_a_run_whose_pool_child_is_killed_is_computed_again(broker_url, current_grid, tmp_path, settings):  # noqa: F811
    settings.RUN_HEARTBEAT_TIMEOUT = HEARTBEAT_TIMEOUT
    previous, previous_cells = current_grid
    run = services.grid_run_create(lens=Lens.DEFAULT)
    database_url = worker_database_url(tmp_path)

    with (
        start_worker(broker_url, database_url=database_url, pool="prefork", **WORKER) as worker,
        celery_client(broker_url) as app,
    ):
        result = app.send_task("observatory.compute_grid_run", args=[run.pk], queue=worker.queue)
        wait_for(lambda: computing(run, past=45), timeout=60, what="the worker computing the run")
        active = app.control.inspect(destination=[worker.nodename], timeout=5).active()[worker.nodename]
        (task,) = [task for task in active if task["id"] == result.id]
        child = task["worker_pid"]
        assert child != worker.pid
        os.kill(child, signal.SIGKILL)

        # The grid in force has not moved meanwhile; the worker lives on with a new child.
        previous.refresh_from_db()
        assert previous.is_current and previous.cells.count() == previous_cells
        wait_for(lambda: ended(run), timeout=90, what="the run of the killed child ending")
        assert worker.process.poll() is None
        result.forget()
        final = check_the_end(run, current_grid, app, worker)
    if final.pk == run.pk:
        # Delivered again to a new child, which started over from scratch.
        assert run.task_id == result.id
