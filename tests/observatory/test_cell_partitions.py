"""Each grid run's cells in a list partition of their own (observatory/partitions.py).

The first tests read the cells through the ORM and run on every backend. The PostgreSQL
tests also read the catalogs (pg_inherits, pg_class): what is attached, what staging table
is left. They commit as a run does (transactional), and skip on SQLite, which keeps
observatory_gridcell a plain table.
"""

import threading

import numpy as np
import pandas as pd
import pytest
from django.db import IntegrityError, connection, transaction

from observatory import partitions, services
from observatory.models import CELL_COORDINATES, GridCell, GridRun, Lens
from tests.observatory.factories import GridCellFactory

PARENT = "observatory_gridcell"
DEFAULT = "observatory_gridcell_default"


def _compute(run=None) -> GridRun:
    run = run or services.grid_run_create(lens=Lens.DEFAULT)
    return services.grid_run_compute(run.pk)


def _again(run: GridRun) -> GridRun:
    """Compute a ready run once more (as after a relaunch)."""
    GridRun.objects.filter(pk=run.pk).update(status=GridRun.Status.FAILED)
    return services.grid_run_compute(run.pk)


def _spy_frames(monkeypatch) -> dict[int, pd.DataFrame]:
    """The frames the runs hand to load_run_cells, by run id."""
    frames = {}
    load = partitions.load_run_cells

    def spy(run_id, frame, timings=None):
        frames[run_id] = frame.copy()
        return load(run_id, frame, timings)

    monkeypatch.setattr(partitions, "load_run_cells", spy)
    return frames


def _stored_cells(run) -> pd.DataFrame:
    columns = [*services.CELL_COLUMNS]
    return pd.DataFrame.from_records(list(GridCell.objects.filter(run=run).values_list(*columns)), columns=columns)


def _same_cells(stored: pd.DataFrame, frame: pd.DataFrame) -> None:
    """The cells read back hold the frame's values (texts as texts, NULL as NaN)."""
    expected = frame.drop(columns="run_id")
    texts = [*CELL_COORDINATES, "secret_reason"]
    expected = expected.astype(dict.fromkeys(texts, str)).astype({"secret": bool})
    stored = stored.astype({column: expected[column].dtype for column in expected.columns})
    key = list(CELL_COORDINATES)
    pd.testing.assert_frame_equal(
        stored.sort_values(key).reset_index(drop=True),
        expected.sort_values(key).reset_index(drop=True),
        check_dtype=False,
        check_categorical=False,
    )


# --- Every backend: the cells as the ORM reads them -------------------------------------------


@pytest.mark.django_db
def test_a_run_reads_back_the_cells_it_computed(hand_worked, monkeypatch):
    frames = _spy_frames(monkeypatch)
    run = _compute()
    assert run.status == GridRun.Status.READY
    assert GridCell.objects.filter(run=run).count() == run.stats["cells"] == len(frames[run.pk]) > 0
    _same_cells(_stored_cells(run), frames[run.pk])


@pytest.mark.django_db
def test_a_run_computed_again_replaces_its_cells(hand_worked):
    run = _compute()
    cells = GridCell.objects.filter(run=run).count()
    first = set(GridCell.objects.filter(run=run).values_list("pk", flat=True))
    _again(run)
    assert GridCell.objects.filter(run=run).count() == cells
    assert first.isdisjoint(GridCell.objects.filter(run=run).values_list("pk", flat=True))


@pytest.mark.django_db
def test_a_run_failing_once_its_cells_are_loaded_keeps_none(hand_worked, monkeypatch):
    def broken(run, scores):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(services, "_write_scores", broken)
    run = services.grid_run_create(lens=Lens.DEFAULT)
    with pytest.raises(RuntimeError):
        services.grid_run_compute(run.pk)
    run.refresh_from_db()
    assert run.status == GridRun.Status.FAILED
    assert not GridCell.objects.filter(run=run).exists()


@pytest.mark.django_db
def test_deleting_a_run_deletes_its_cells_only(hand_worked):
    old = _compute()
    current = _compute()
    cells = GridCell.objects.filter(run=current).count()
    old.delete()
    assert not GridCell.objects.filter(run_id=old.pk).exists()
    assert GridCell.objects.filter(run=current).count() == cells


@pytest.mark.django_db
def test_cells_the_orm_writes_are_replaced_by_the_computed_ones(hand_worked):
    run = services.grid_run_create(lens=Lens.DEFAULT)
    written = GridCellFactory.create_batch(2, run=run, occupation_code="M1607")
    assert GridCell.objects.filter(run=run).count() == 2
    run = _compute(run)
    assert GridCell.objects.filter(run=run).count() == run.stats["cells"]
    assert not GridCell.objects.filter(pk__in=[cell.pk for cell in written]).exists()


# --- PostgreSQL: partitions in the catalogs ----------------------------------------------------


@pytest.fixture
def partitioned(transactional_db, migration_data):
    """A PostgreSQL database whose runs commit, without any run table: those an earlier test
    left (a test whose runs committed, a worker's: the flush that ends a test empties the
    tables but keeps them) are dropped before, and this test's after."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): SQLite keeps observatory_gridcell a plain table")
    _drop_run_tables()
    yield
    _drop_run_tables()


def _drop_run_tables() -> None:
    with connection.cursor() as cursor:
        for name in _run_tables():
            cursor.execute(f'DROP TABLE IF EXISTS "{name}"')


def _attached() -> dict[str, str]:
    """The partitions of observatory_gridcell: name → bound."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [PARENT],
        )
        return dict(cursor.fetchall())


def _run_tables() -> set[str]:
    """Every table of run cells, attached or not (staging tables end in _load)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'observatory\\_gridcell\\_run\\_%'"
        )
        return {name for (name,) in cursor.fetchall()}


def _scalar(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _parent_index(index: str) -> str:
    return _scalar("SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = %s::regclass", [index])


def _where(run) -> set[str]:
    """The tables that hold the run's rows."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT tableoid::regclass::text FROM {PARENT} WHERE run_id = %s", [run.pk])
        return {name for (name,) in cursor.fetchall()}


def test_a_computed_run_is_its_own_attached_partition(partitioned, hand_worked, monkeypatch):
    frames = _spy_frames(monkeypatch)
    run = _compute()
    partition = f"observatory_gridcell_run_{run.pk}"

    assert _attached() == {DEFAULT: "DEFAULT", partition: f"FOR VALUES IN ('{run.pk}')"}
    assert _run_tables() == {partition}  # no staging table left
    assert _where(run) == {partition}
    assert _scalar(f"SELECT count(*) FROM {partition}") == len(frames[run.pk]) == run.stats["cells"]
    # Its key and levels index are the parent's, attached; a read of the run scans it alone.
    assert _parent_index(f"{partition}_levels") == "gridcell_levels"
    assert _parent_index(f"{partition}_pkey") == "observatory_gridcell_pkey"
    plan = GridCell.objects.filter(run=run, territory_level="all").explain()
    assert partition in plan and DEFAULT not in plan
    _same_cells(_stored_cells(run), frames[run.pk])


def _fail_at_audit(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit interrompu")

    monkeypatch.setattr(services.secrecy, "audit_secrecy", broken)


def _fail_at_scores(monkeypatch):
    def broken(run, scores):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(services, "_write_scores", broken)


def _taken_over(monkeypatch):
    def taken(run):
        raise services.RunTakenOver(run.pk)

    monkeypatch.setattr(services, "_hold", taken)


@pytest.mark.parametrize(
    "fail",
    [_fail_at_audit, _fail_at_scores, _taken_over],
    ids=["before loading", "after attaching, in the final transaction", "taken over"],
)
def test_a_failed_run_leaves_no_partition_nor_staging_table(partitioned, hand_worked, monkeypatch, fail):
    current = _compute()
    cells = GridCell.objects.filter(run=current).count()
    fail(monkeypatch)
    failing = services.grid_run_create(lens=Lens.DEFAULT)
    if fail is _taken_over:
        services.grid_run_compute(failing.pk)  # left to the attempt that took it, no error
    else:
        with pytest.raises(RuntimeError):
            services.grid_run_compute(failing.pk)
    kept = f"observatory_gridcell_run_{current.pk}"
    assert _attached() == {DEFAULT: "DEFAULT", kept: f"FOR VALUES IN ('{current.pk}')"}
    assert _run_tables() == {kept}
    assert not GridCell.objects.filter(run=failing).exists()
    assert GridCell.objects.filter(run=current).count() == cells


def test_a_run_computed_again_replaces_its_partition(partitioned, hand_worked):
    run = _compute()
    partition = f"observatory_gridcell_run_{run.pk}"
    cells = _scalar(f"SELECT count(*) FROM {partition}")
    first = _scalar("SELECT %s::regclass::oid", [partition])
    # An attempt that died between loading and attaching left its staging table.
    frame = pd.DataFrame({"run_id": [run.pk], **{c: [""] for c in CELL_COORDINATES}})
    frame = frame.assign(companies=1, establishments=1, employees=1, diagnostics=0, secret=False, secret_reason="")
    partitions.load_run_cells(run.pk, frame)
    assert f"{partition}_load" in _run_tables()

    run = _again(run)
    assert run.status == GridRun.Status.READY
    assert _attached() == {DEFAULT: "DEFAULT", partition: f"FOR VALUES IN ('{run.pk}')"}
    assert _run_tables() == {partition}
    assert _scalar("SELECT %s::regclass::oid", [partition]) != first
    assert _scalar(f"SELECT count(*) FROM {partition}") == cells == GridCell.objects.filter(run=run).count()


def test_deleting_a_run_drops_its_partition(partitioned, hand_worked):
    old = _compute()
    current = _compute()
    cells = GridCell.objects.filter(run=current).count()
    kept = f"observatory_gridcell_run_{current.pk}"

    GridRun.objects.filter(pk=old.pk).delete()  # as the admin's bulk action does
    assert _attached() == {DEFAULT: "DEFAULT", kept: f"FOR VALUES IN ('{current.pk}')"}
    assert _run_tables() == {kept}
    assert GridCell.objects.filter(run=current).count() == cells
    current.refresh_from_db()
    assert current.is_current


def test_orm_cells_live_in_the_default_partition_until_the_run_attaches_its_own(partitioned, hand_worked):
    run = services.grid_run_create(lens=Lens.DEFAULT)
    written = GridCellFactory.create_batch(2, run=run, occupation_code="M1607")
    GridCell.objects.bulk_create([GridCellFactory.build(run=run, occupation_code="M1203")])
    assert _where(run) == {DEFAULT}
    assert GridCell.objects.filter(run=run).count() == 3

    run = _compute(run)
    partition = f"observatory_gridcell_run_{run.pk}"
    assert _where(run) == {partition}
    assert _scalar(f"SELECT count(*) FROM {DEFAULT}") == 0
    assert GridCell.objects.filter(run=run).count() == run.stats["cells"]
    # Ids come from one sequence: the computed cells follow those the ORM wrote.
    ids = list(GridCell.objects.filter(run=run).values_list("pk", flat=True))
    assert len(set(ids)) == len(ids) and min(ids) > max(cell.pk for cell in written)

    # An ORM write for a run with a partition lands in it.
    GridCellFactory(run=run, occupation_code="K2204")
    assert _where(run) == {partition}


def test_reserved_ids_are_consecutive_and_nobody_elses(partitioned):
    run = services.grid_run_create(lens=Lens.DEFAULT)
    before = GridCellFactory(run=run).pk
    reserved = partitions.reserve_ids(1000)
    after = GridCellFactory(run=run).pk

    assert reserved.tolist() == list(range(before + 1, before + 1001))
    assert after == before + 1001  # the sequence steps by one again
    assert partitions.reserve_ids(0).tolist() == []

    # A sequence never called since it (re)started gives its start first.
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER SEQUENCE {PARENT}_id_seq RESTART WITH 50000")
    assert partitions.reserve_ids(3).tolist() == [50000, 50001, 50002]
    assert GridCellFactory(run=run).pk == 50003


def test_attaching_needs_the_runs_transaction(transactional_db):
    with pytest.raises(RuntimeError):
        partitions.attach_run_cells(partitions.StagedCells(run_id=1))


# One whole cell, as a run writes it.
_ONE_CELL = {
    **dict.fromkeys(("territory_level", "sector_level", "occupation_level", "size_band"), "all"),
    **dict.fromkeys(("territory_code", "sector_code", "occupation_code"), ""),
    **{"companies": 1, "establishments": 1, "employees": 7, "diagnostics": 0},
    **{"exposure_mean": 0.5, "share_high": 0.5, "share_medium": 0.25, "share_low": 0.25, "rti_mean": 0.1},
    **{"training_need_share": 0.0, "training_coverage": float("nan"), "secret": True, "secret_reason": "count"},
}


def _spy_index_sessions(monkeypatch, *, together: bool) -> dict[str, int]:
    """The backend pid of the session that builds each index of a staging table (by the
    statement's first words). With `together`, each build waits for the other to start: a
    build that only began once the other had ended fails at the barrier."""
    sessions = {}
    barrier = threading.Barrier(2, timeout=20)
    maintenance = partitions._maintenance

    def spy(statement):
        with connection.cursor() as cursor:  # this thread's session
            cursor.execute("SELECT pg_backend_pid()")
            sessions[statement.split(" ON ")[0].rsplit(" ", 1)[0]] = cursor.fetchone()[0]
        if together:
            barrier.wait()
        maintenance(statement)

    monkeypatch.setattr(partitions, "_maintenance", spy)
    return sessions


def _primary_key(table: str) -> str:
    """The columns of the table's primary key constraint."""
    return _scalar(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", [table]
    )


def test_the_staging_tables_indexes_are_built_by_two_sessions_at_once(partitioned, hand_worked, monkeypatch):
    sessions = _spy_index_sessions(monkeypatch, together=True)
    run = _compute()
    partition = f"observatory_gridcell_run_{run.pk}"

    assert set(sessions) == {"CREATE UNIQUE INDEX", "CREATE INDEX"}
    assert sessions["CREATE UNIQUE INDEX"] != sessions["CREATE INDEX"]
    # The unique index became the primary key, attached to the parent's as ATTACH needs.
    assert _primary_key(partition) == "PRIMARY KEY (id, run_id)"
    assert _parent_index(f"{partition}_pkey") == "observatory_gridcell_pkey"
    assert _parent_index(f"{partition}_levels") == "gridcell_levels"
    # The second session is closed once its index is built.
    assert not _scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [sessions["CREATE UNIQUE INDEX"]])


def test_an_index_build_sorts_in_memory_and_scans_from_the_first_page(partitioned):
    # What a build's session runs with: its own memory to sort in, no parallel workers, and
    # no scan joining another one midway (which hands the sort its keys rotated).
    partitions._maintenance(
        "CREATE TABLE build_settings AS SELECT current_setting('synchronize_seqscans') AS scans,"
        " current_setting('maintenance_work_mem') AS memory,"
        " current_setting('max_parallel_maintenance_workers') AS workers"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT scans, memory, workers FROM build_settings")
            assert cursor.fetchone() == ("off", partitions.INDEX_MEMORY, "0")
            # Settings of the build's transaction only: the session is left as it was.
            cursor.execute("SELECT current_setting('synchronize_seqscans')")
            assert cursor.fetchone() == ("on",)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE build_settings")


def test_inside_a_transaction_the_indexes_are_built_one_after_the_other(partitioned, hand_worked, monkeypatch):
    sessions = _spy_index_sessions(monkeypatch, together=False)
    run = services.grid_run_create(lens=Lens.DEFAULT)
    frame = pd.DataFrame([{"run_id": run.pk, **_ONE_CELL}], columns=["run_id", *services.CELL_COLUMNS])
    with transaction.atomic():  # no other session sees a table this transaction creates
        partitions.load_run_cells(run.pk, frame)
        staging = partitions.staging_name(run.pk)
        assert _primary_key(staging) == "PRIMARY KEY (id, run_id)"
        assert _scalar("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [staging]) == 2
        assert _scalar(f'SELECT employees FROM "{staging}"') == 7
    assert set(sessions.values()) == {_scalar("SELECT pg_backend_pid()")}


def test_a_run_whose_cells_cannot_be_indexed_fails_and_leaves_no_table(partitioned, hand_worked, monkeypatch):
    def twice_the_same(count):  # the sequence handing out an id twice
        return np.full(count, 42, dtype=np.int64)

    monkeypatch.setattr(partitions, "reserve_ids", twice_the_same)
    run = services.grid_run_create(lens=Lens.DEFAULT)
    with pytest.raises(IntegrityError, match="_pkey"):
        services.grid_run_compute(run.pk)

    run.refresh_from_db()
    assert run.status == GridRun.Status.FAILED and "IntegrityError" in run.error
    assert _run_tables() == set()
    assert _attached() == {DEFAULT: "DEFAULT"}
