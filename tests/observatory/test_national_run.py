"""A run whose positions lie in several régions is aggregated one part per région by Celery
tasks (a chord), then merged: the same grid as one process, secrecy and audit included."""

from contextlib import ExitStack
from datetime import timedelta

import celery
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from companies.models import Company
from observatory import services
from observatory.management.commands.audit_secrecy import stored_cells
from observatory.models import CELL_COORDINATES, CELL_FIGURES, GridCell, GridRun, GridRunPart
from tests.companies.factories import CommuneFactory, EstablishmentFactory, JobPositionFactory, RegionFactory
from tests.worker import celery_client, start_worker, worker_database_url

SHARES = {"rc": 50, "rm": 0, "nra": 30, "nri": 20, "nrm": 0}


@pytest.fixture
def two_regions(hand_worked):
    """The hand-worked Hauts-de-France (three companies in the Nord, one in the
    Pas-de-Calais), and Île-de-France: the Nord's company of 10 employees also has an
    establishment in Paris (7 employees on M1607), and three companies of Paris and the
    Hauts-de-Seine report M1607 too."""
    ile_de_france = RegionFactory(code="11", name="Île-de-France")
    paris = CommuneFactory(code="75056", name="Paris", parent__code="75", parent__parent=ile_de_france)
    boulogne = CommuneFactory(
        code="92012", name="Boulogne-Billancourt", parent__code="92", parent__parent=ile_de_france
    )
    spanning = Company.objects.get(establishments__job_positions__headcount=10)
    JobPositionFactory(
        establishment=EstablishmentFactory(company=spanning, commune=paris),
        occupation=hand_worked,
        headcount=7,
        **SHARES,
    )
    for headcount, commune in ((12, paris), (25, paris), (9, boulogne)):
        JobPositionFactory(
            establishment=EstablishmentFactory(commune=commune), occupation=hand_worked, headcount=headcount, **SHARES
        )
    return hand_worked


def _grid(run):
    """Every cell of `run` as a tuple, floats to twelve significant digits, sorted."""
    columns = [*CELL_COORDINATES, *CELL_FIGURES, "secret", "secret_reason"]
    rows = GridCell.objects.filter(run=run).values_list(*columns)
    return sorted(
        tuple(float(f"{value:.12g}") if isinstance(value, float) else value for value in row) for row in rows
    )


def _assert_same_cells(split, single):
    a, b = _grid(split), _grid(single)
    assert len(a) == len(b) > 0
    assert a == b


@pytest.mark.django_db
def test_a_run_over_two_regions_is_merged_from_its_parts_into_the_grid_of_one_process(two_regions, settings):
    settings.GRID_SPLIT_MIN_REGIONS = 0
    single = services.grid_run_compute(services.grid_run_create(trigger="auto").pk)
    settings.GRID_SPLIT_MIN_REGIONS = 2
    run = services.grid_run_create(trigger="auto")
    services.grid_run_enqueue(run.pk)  # eager Celery: the chord runs here, part after part
    run.refresh_from_db()

    assert run.status == GridRun.Status.READY and single.status == GridRun.Status.READY
    # Two régions and the company present in both.
    assert sorted(run.stats["parts"]) == ["11", "32", "plusieurs-regions"]
    assert "parts" in run.timings and "merge" in run.timings
    _assert_same_cells(run, single)
    # The nation's M1607: the spanning company counts once (7 companies, not 8), with its
    # 10 + 7 employees; 65 + 7 + 12 + 25 + 9 = 118 employees.
    m1607 = GridCell.objects.get(
        run=run, territory_level="all", sector_level="all", occupation_level="fiche", size_band="all"
    )
    assert (m1607.companies, m1607.employees, m1607.secret) == (7, 118, False)
    # Île-de-France: the spanning company's Paris establishment and three others.
    paris_region = GridCell.objects.get(
        run=run,
        territory_level="region",
        territory_code="11",
        sector_level="all",
        occupation_level="fiche",
        size_band="all",
    )
    assert (paris_region.companies, paris_region.employees) == (4, 7 + 12 + 25 + 9)
    # The pieces are gone once merged, and the audit ran once on the merged grid.
    assert not GridRunPart.objects.filter(run=run).exists()
    assert run.audit["passed"] is True
    # No commune is in an EPCI: each région has an unknown EPCI of its own, and the cells,
    # stored without their parents, give them back to the audit of the stored run.
    epci = GridCell.objects.filter(run=run, territory_level="epci").values_list("territory_code", flat=True)
    assert set(epci) == {"inconnu-11", "inconnu-32"}
    stored = stored_cells(run)
    stored = stored[stored["territory_level"] == "epci"]
    assert set(zip(stored["territory_code"], stored["territory_parent"], strict=True)) == {
        ("inconnu-11", "11"),
        ("inconnu-32", "32"),
    }
    call_command("audit_secrecy", str(run.pk))  # raises when the stored run fails its audit


@pytest.mark.django_db
def test_a_part_that_fails_fails_the_run_and_leaves_no_piece(two_regions, settings, monkeypatch):
    settings.GRID_SPLIT_MIN_REGIONS = 2
    from observatory.analysis import national

    def broken(*args, **kwargs):
        raise MemoryError("worker out of memory")

    monkeypatch.setattr(national, "region_part", broken)
    run = services.grid_run_create(trigger="auto")
    services.grid_run_enqueue(run.pk)
    run.refresh_from_db()
    assert run.status == GridRun.Status.FAILED
    assert "MemoryError" in run.error
    assert not GridRunPart.objects.filter(run=run).exists()
    assert not GridCell.objects.filter(run=run).exists()


@pytest.mark.django_db
def test_one_region_is_one_process(hand_worked, settings):
    settings.GRID_SPLIT_MIN_REGIONS = 2
    run = services.grid_run_compute(services.grid_run_create(trigger="auto").pk)
    assert run.status == GridRun.Status.READY and "parts" not in run.stats


@pytest.mark.worker
def test_the_chord_runs_through_real_workers(transactional_db, migration_data, broker_url, tmp_path, two_regions):  # noqa: F811
    """The run's task, its parts and the merge, each a message taken by a real worker (two
    workers on one queue), against the test database."""
    run = services.grid_run_create(trigger="auto")
    database_url = worker_database_url(tmp_path)
    environment = {"GRID_SPLIT_MIN_REGIONS": "2"}
    # Two workers share the queue on PostgreSQL; SQLite's file takes one writer at a time.
    workers = 2 if connection.vendor == "postgresql" else 1
    with ExitStack() as stack:
        first = stack.enter_context(start_worker(broker_url, database_url=database_url, environment=environment))
        for _ in range(workers - 1):
            stack.enter_context(
                start_worker(broker_url, database_url=database_url, environment=environment, queue=first.queue)
            )
        app = stack.enter_context(celery_client(broker_url))
        result = app.send_task("observatory.compute_grid_run", args=[run.pk], queue=first.queue)
        result.get(timeout=120)
        result.forget()
        run = _wait_until_done(run, database_url, timeout=120)
    assert run.status == GridRun.Status.READY, run.error
    assert sorted(run.stats["parts"]) == ["11", "32", "plusieurs-regions"]
    if connection.vendor == "postgresql":
        cell = GridCell.objects.get(
            run=run, territory_level="all", sector_level="all", occupation_level="fiche", size_band="all"
        )
        assert (cell.companies, cell.employees) == (7, 118)


def _wait_until_done(run, database_url, timeout):
    """The run as the workers left it, once its merge has ended (ready or failed)."""
    import sqlite3
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if connection.vendor == "postgresql":
            run.refresh_from_db()
            status = run.status
        else:  # the worker wrote to a copy of the test database (tests.worker)
            path = database_url.removeprefix("sqlite:///")
            with sqlite3.connect(path) as db:
                status, error, stats = db.execute(
                    "SELECT status, error, stats FROM observatory_gridrun WHERE id = ?", [run.pk]
                ).fetchone()
            if status in (GridRun.Status.READY, GridRun.Status.FAILED):
                import json

                run.status, run.error, run.stats = status, error, json.loads(stats)
        if status in (GridRun.Status.READY, GridRun.Status.FAILED):
            return run
        time.sleep(0.5)
    raise TimeoutError(f"run {run.pk} still {run.status} after {timeout} s")


@pytest.mark.django_db
def test_parts_waiting_in_the_queue_do_not_get_their_run_reaped(two_regions, settings, monkeypatch):
    """Nothing beats while the parts wait behind other tasks: the run is spared until
    RUN_PENDING_TIMEOUT after they were sent, then reaped like any silent run."""
    settings.GRID_SPLIT_MIN_REGIONS = 2
    monkeypatch.setattr(celery, "chord", lambda header: lambda body: None)  # sent, never taken
    run = services.grid_run_compute(services.grid_run_create(trigger="auto").pk)
    assert run.status == GridRun.Status.RUNNING and run.step == "Agrégation par région"
    assert run.due_at - timezone.now() == pytest.approx(
        timedelta(seconds=settings.RUN_PENDING_TIMEOUT), abs=timedelta(seconds=30)
    )
    # The heartbeat went silent long ago, but the parts' time is not over: spared.
    GridRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert run.pk not in services.grid_runs_reap()["reaped"]
    # Their time is over: reaped.
    GridRun.objects.filter(pk=run.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    assert services.grid_runs_reap()["reaped"] == [run.pk]
    run.refresh_from_db()
    assert run.status == GridRun.Status.FAILED and run.error == services.REAPED_ERROR
