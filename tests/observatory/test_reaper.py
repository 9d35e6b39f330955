"""Runs always end: the heartbeat, the reaper, and messages delivered twice.

No clock is frozen: a heartbeat is set in the past by writing it, as a dead worker leaves it.
"""

import time
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from companies.models import JobPosition
from observatory import selectors, services, tasks
from observatory.models import CELL_COORDINATES, GridCell, GridRun, Lens

pytestmark = pytest.mark.django_db


def _duplicated_cells(run) -> int:
    """Coordinates held by more than one cell of `run` (0: no cell was written twice)."""
    return GridCell.objects.filter(run=run).values(*CELL_COORDINATES).annotate(n=Count("id")).filter(n__gt=1).count()


def _running(*, silent_for: timedelta, task_id: str = "dead-worker") -> GridRun:
    """A run a worker took and last beat `silent_for` ago."""
    run = services.grid_run_create(lens=Lens.DEFAULT)
    then = timezone.now() - silent_for
    GridRun.objects.filter(pk=run.pk).update(
        status=GridRun.Status.RUNNING, started_at=then, heartbeat_at=then, task_id=task_id, progress=60
    )
    return run


def _pending_since(run: GridRun, ago: timedelta) -> None:
    """Make `run` look queued `ago` (created_at is auto_now_add: set by an UPDATE)."""
    GridRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - ago, due_at=None)


@pytest.fixture
def recorded_sends(monkeypatch):
    """compute_grid_run.apply_async only records the runs sent: the broker, without a worker."""
    sent = []
    monkeypatch.setattr(tasks.compute_grid_run, "apply_async", lambda args, **kwargs: sent.append(args[0]))
    return sent


def test_the_reaper_fails_a_run_whose_heartbeat_stopped_and_it_can_be_relaunched_at_once(
    hand_worked,  # noqa: F811
    settings,
    client,
    analyst,
    django_capture_on_commit_callbacks,
):
    settings.RUN_HEARTBEAT_TIMEOUT = 300
    good = services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    cells = good.cells.count()
    dead = _running(silent_for=timedelta(minutes=6))

    # Before the reaper passes, the dead run still blocks its lens (it started 6 minutes ago).
    client.force_login(analyst)
    client.post(reverse("observatory:run_launch"), {"lens": "default", "source": "tasks"})
    assert GridRun.objects.count() == 2

    outcome = services.grid_runs_reap()
    assert outcome == {"reaped": [dead.pk], "abandoned": [], "resent": []}
    dead.refresh_from_db()
    assert dead.status == GridRun.Status.FAILED
    assert dead.error == "Le calcul s'est interrompu (processus arrêté) : relancez-le."
    assert dead.finished_at is not None and not dead.is_current
    # The current grid never moved.
    good.refresh_from_db()
    assert good.is_current and good.cells.count() == cells

    # Relaunched at once, not 65 minutes later; the page says why the dead run failed.
    assert selectors.active_grid_run(lens=Lens.DEFAULT, index_id=None) is None
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("observatory:run_launch"), {"lens": "default", "source": "tasks"}, follow=True)
    relaunched = GridRun.objects.exclude(pk__in=[good.pk, dead.pk]).get()
    assert relaunched.status == GridRun.Status.READY and relaunched.is_current
    assert "Le calcul s&#x27;est interrompu (processus arrêté) : relancez-le." in response.content.decode()


def test_a_fresh_heartbeat_is_left_alone(settings):
    settings.RUN_HEARTBEAT_TIMEOUT = 300
    alive = _running(silent_for=timedelta(seconds=20))
    # Started two hours ago: only the heartbeat counts, not the run's age.
    GridRun.objects.filter(pk=alive.pk).update(started_at=timezone.now() - timedelta(hours=2))
    assert services.grid_runs_reap() == {"reaped": [], "abandoned": [], "resent": []}
    alive.refresh_from_db()
    assert alive.status == GridRun.Status.RUNNING and alive.error == ""


def test_a_pending_run_never_sent_is_sent_again_then_failed(
    settings, recorded_sends, django_capture_on_commit_callbacks
):
    settings.RUN_PENDING_TIMEOUT = 600
    settings.RUN_MAX_RESENDS = 2
    run = services.grid_run_create(lens=Lens.DEFAULT)
    _pending_since(run, timedelta(minutes=11))

    for attempt in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            outcome = services.grid_runs_reap()
        assert outcome == {"reaped": [], "abandoned": [], "resent": [run.pk]}
        assert recorded_sends == [run.pk] * attempt
        run.refresh_from_db()
        assert run.status == GridRun.Status.PENDING and run.resends == attempt
        # Sent just now: the next pass leaves it the time to start.
        with django_capture_on_commit_callbacks(execute=True):
            assert services.grid_runs_reap()["resent"] == []
        GridRun.objects.filter(pk=run.pk).update(due_at=timezone.now() - timedelta(minutes=11))

    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.grid_runs_reap()
    assert outcome == {"reaped": [], "abandoned": [run.pk], "resent": []}
    assert recorded_sends == [run.pk, run.pk]
    run.refresh_from_db()
    assert run.status == GridRun.Status.FAILED
    assert run.error.startswith("Le calcul n'a été pris en charge par aucun processus de calcul après 3 envois")
    assert selectors.active_grid_run(lens=Lens.DEFAULT, index_id=None) is None


def test_a_recomputation_waiting_for_its_delay_is_not_sent_again(
    hand_worked,  # noqa: F811
    settings,
    recorded_sends,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    """The debounced recomputation is due after OBSERVATORY_RECOMPUTE_DELAY, not at once."""
    monkeypatch.setattr(tasks.recompute_after_field_data, "apply_async", lambda *args, **kwargs: None)
    settings.RUN_PENDING_TIMEOUT = 600
    with django_capture_on_commit_callbacks(execute=True):
        run = services.schedule_recomputation(delay_seconds=3600)
    GridRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.grid_runs_reap()["resent"] == []
    assert recorded_sends == []


def test_a_broker_out_of_reach_leaves_the_recomputation_waiting_until_the_reaper_sends_it(
    hand_worked,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    """The lost broker: queueing raises (kombu's OperationalError, as redis refusing the
    connection gives). What triggered the run is committed and the request succeeds; the run
    waits, later field data joins it, and the reaper sends it once the broker is back."""
    from kombu.exceptions import OperationalError

    from companies.signals import field_data_changed

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.recompute_after_field_data, "apply_async", refuse)
    monkeypatch.setattr(tasks.compute_grid_run, "apply_async", refuse)
    settings.OBSERVATORY_AUTO_RECOMPUTE = True
    settings.RUN_PENDING_TIMEOUT = 600
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            field_data_changed.send(sender=JobPosition, source="test", positions=1)
    run = GridRun.objects.get(trigger="auto")
    assert run.status == GridRun.Status.PENDING and run.error == ""

    # Still out of reach when the reaper passes: the run keeps waiting.
    _pending_since(run, timedelta(minutes=20))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.grid_runs_reap()["resent"] == [run.pk]
    run.refresh_from_db()
    assert run.status == GridRun.Status.PENDING and run.resends == 1

    # Back (eager Celery: the run computes as it is sent).
    monkeypatch.undo()
    GridRun.objects.filter(pk=run.pk).update(due_at=timezone.now() - timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.grid_runs_reap()["resent"] == [run.pk]
    run.refresh_from_db()
    assert run.status == GridRun.Status.READY and run.cells.exists()


def test_a_message_delivered_again_for_a_ready_run_duplicates_no_cell(hand_worked):  # noqa: F811
    run = services.grid_run_create(lens=Lens.DEFAULT)
    first = tasks.compute_grid_run.apply(args=(run.pk,)).get()
    cells = GridCell.objects.filter(run=run).count()
    assert first["status"] == GridRun.Status.READY and cells == first["cells"] > 0

    again = tasks.compute_grid_run.apply(args=(run.pk,)).get()
    assert again == first
    assert GridCell.objects.filter(run=run).count() == cells and _duplicated_cells(run) == 0


def test_a_late_message_leaves_a_reaped_run_failed(hand_worked, settings):  # noqa: F811
    dead = _running(silent_for=timedelta(minutes=10))
    services.grid_runs_reap()
    # The broker gives the dead worker's message back long after (its visibility timeout).
    outcome = tasks.compute_grid_run.apply(args=(dead.pk,), task_id="dead-worker").get()
    dead.refresh_from_db()
    assert outcome["status"] == dead.status == GridRun.Status.FAILED and not dead.cells.exists()


def test_a_run_another_message_computes_is_left_to_it_until_its_own_message_comes_back(
    hand_worked,  # noqa: F811
):
    busy = _running(silent_for=timedelta(seconds=5), task_id="first")
    # A copy sent by the reaper (or delivered twice) while the first message still beats.
    outcome = tasks.compute_grid_run.apply(args=(busy.pk,), task_id="copy").get()
    busy.refresh_from_db()
    assert outcome["status"] == busy.status == GridRun.Status.RUNNING and busy.task_id == "first"
    assert not busy.cells.exists()

    # The first message delivered again: its worker died (the pool child was killed).
    outcome = tasks.compute_grid_run.apply(args=(busy.pk,), task_id="first").get()
    busy.refresh_from_db()
    assert outcome["status"] == busy.status == GridRun.Status.READY and busy.is_current
    assert busy.cells.count() == outcome["cells"] and _duplicated_cells(busy) == 0


def test_an_attempt_whose_run_was_taken_over_writes_no_cell(hand_worked, monkeypatch):  # noqa: F811
    """Two attempts computing at once: the one that lost the run writes nothing."""
    run = services.grid_run_create(lens=Lens.DEFAULT)
    original = services.secrecy.apply_secrecy

    def taken_meanwhile(*args, **kwargs):
        GridRun.objects.filter(pk=run.pk).update(task_id="later", heartbeat_at=timezone.now())
        return original(*args, **kwargs)

    monkeypatch.setattr(services.secrecy, "apply_secrecy", taken_meanwhile)
    outcome = tasks.compute_grid_run.apply(args=(run.pk,), task_id="earlier").get()
    run.refresh_from_db()
    assert outcome["status"] == run.status == GridRun.Status.RUNNING and run.task_id == "later"
    assert not run.cells.exists() and not run.is_current


@pytest.mark.django_db(transaction=True)
def test_the_secrecy_protection_beats_while_it_computes(migration_data, hand_worked, settings, monkeypatch):  # noqa: F811
    """The longest step is one call into analysis/: the run's heartbeat thread beats meanwhile."""
    settings.RUN_HEARTBEAT_INTERVAL = 0.1
    run = services.grid_run_create(lens=Lens.DEFAULT)
    original = services.secrecy.apply_secrecy
    seen = []

    stops = []
    start_beating = services._heartbeat

    def watched_start(run):
        stops.append(start_beating(run))
        return stops[-1]

    def heartbeat():
        try:
            return GridRun.objects.values_list("heartbeat_at", flat=True).get(pk=run.pk)
        except OperationalError:  # SQLite's shared cache: a beat holds the table this instant
            return None

    def slow(*args, **kwargs):
        # The call holds the task's thread; only the heartbeat thread can move the time. It
        # beats every 0.1 s: waiting up to 30 s for two beats keeps a loaded machine from
        # failing the test, and a run without the thread fails it. The beats then stop, so
        # that none holds SQLite's table when the run writes (PostgreSQL's rows just wait).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(set(seen) - {None}) < 3:
            seen.append(heartbeat())
            time.sleep(0.05)
        stops[-1]()
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_heartbeat", watched_start)
    monkeypatch.setattr(services.secrecy, "apply_secrecy", slow)
    run = services.grid_run_compute(run.pk)
    assert run.status == GridRun.Status.READY
    beats = [beat for beat in seen if beat is not None]
    assert len(set(beats)) == 3 and beats == sorted(beats)


def test_the_reapers_run_every_minute(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["reap-grid-runs"]["task"] == tasks.reap_grid_runs.name == "observatory.reap_grid_runs"
    assert schedule["reap-import-jobs"]["task"] == "trainings.reap_import_jobs"
    assert (
        schedule["reap-grid-runs"]["schedule"]
        == timedelta(seconds=settings.RUN_REAPER_INTERVAL)
        <= timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    )
    # Steps beat far more often than the reaper's patience.
    assert settings.RUN_HEARTBEAT_INTERVAL * 3 <= settings.RUN_HEARTBEAT_TIMEOUT


def test_beat_stores_the_reapers_in_its_database_schedule(settings):
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    from observatory.celery import app

    for name, task in (
        ("reap-grid-runs", "observatory.reap_grid_runs"),
        ("reap-import-jobs", "trainings.reap_import_jobs"),
    ):
        # What beat's DatabaseScheduler does with each entry of CELERY_BEAT_SCHEDULE.
        ModelEntry.from_entry(name, app=app, **settings.CELERY_BEAT_SCHEDULE[name])
        entry = PeriodicTask.objects.get(name=name)
        assert entry.task == task and entry.enabled
        assert entry.interval.every == settings.RUN_REAPER_INTERVAL and entry.interval.period == "seconds"
        # A reaper message that waited longer than one interval is dropped, not run late.
        assert entry.expire_seconds == settings.RUN_REAPER_INTERVAL
