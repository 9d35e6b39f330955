"""Grid cells in one PostgreSQL list partition per run, and the bulk insert they rest on.

Why: a regional run writes about two million cells. Copied into one table whose
gridcell_levels index grows row by row, they kept the run's final transaction open for the
whole copy, and deleting a run deleted them row by row. On PostgreSQL, migration 0017 made
observatory_gridcell a table PARTITION BY LIST (run_id): a run's cells are copied, before
that transaction, into a table of their own without any index, indexed in one sort, then
attached as the run's partition in the final transaction, a catalog change of a few
milliseconds; dropping a run drops its table. bench/cells.py measures both ways.

Lifecycle of the cells of run <id> (PostgreSQL):

1. `load_run_cells`, before the run's final transaction: in a transaction of its own, the
   staging table observatory_gridcell_run_<id>_load (LIKE the parent, with
   CHECK (run_id = <id>), which spares ATTACH its validation scan), COPY FREEZE with the
   cells' ids reserved from the parent's sequence in one call (`reserve_ids`: a nextval per
   row cost a sixth of the copy); once committed, the primary key and the index matching
   the parent's built at once by two sessions, each scanning the table from its first page
   (`_maintenance`), then the planner's statistics.
2. `attach_run_cells`, in the run's final transaction: the run's earlier partition (a run
   computed again) is dropped, its rows in the default partition deleted, and the staging
   table renamed observatory_gridcell_run_<id> and attached FOR VALUES IN (<id>).
3. `discard_staging` when the run fails before attaching; `drop_run_cells` when the run is
   deleted (a pre_delete receiver, observatory/signals.py).

Rows the ORM writes for a run without a partition (factories, tests) land in the default
partition, observatory_gridcell_default; attaching the run's partition replaces them.

Other backends keep the plain table: `load_run_cells` only holds the rows, and
`attach_run_cells` deletes the run's earlier cells and inserts them, so the caller reads the
same on every backend. Table names are built from the run id alone, checked with int().
"""

import io
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from django.db import connection, transaction
from psycopg.copy import QueuedLibpqWriter

from . import concurrency, pgcopy
from .models import GridCell

PARENT = GridCell._meta.db_table
DEFAULT_PARTITION = f"{PARENT}_default"
LEVELS_INDEX = "gridcell_levels"
# The constraint of a partition that implies its bound, named per table.
RUN_CHECK = f"{PARENT}_run_id_check"
# Memory of the index builds of a staging table: two million cells sort in memory.
INDEX_MEMORY = "256MB"


@dataclass(frozen=True)
class StagedCells:
    """The cells of a run ready to be attached: on PostgreSQL in the run's staging table, on
    other backends the rows themselves (`frame`)."""

    run_id: int
    frame: pd.DataFrame | None = None


def partition_name(run_id: int) -> str:
    return f"{PARENT}_run_{int(run_id)}"


def staging_name(run_id: int) -> str:
    return f"{partition_name(run_id)}_load"


def load_run_cells(run_id: int, frame: pd.DataFrame, timings: dict | None = None) -> StagedCells:
    """Load the cells of a run (columns: the table's, `run_id` included) into its staging
    table, replacing any left by an attempt that died before attaching it. Called outside the
    run's final transaction. `timings`, when given, receives the seconds of "copy" and
    "index" (primary key, levels index and statistics)."""
    run_id = int(run_id)
    if connection.vendor != "postgresql":
        return StagedCells(run_id, frame)
    name = staging_name(run_id)
    staging = _quoted(name)
    clock = time.perf_counter()
    frame = frame.assign(id=reserve_ids(len(frame)))  # in a transaction of their own: see reserve_ids
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(
            f"CREATE TABLE {staging} (LIKE {_quoted(PARENT)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS,"
            f" CONSTRAINT {_quoted(RUN_CHECK)} CHECK (run_id = {run_id}))"
        )
        bulk_insert(name, frame, freeze=True, types=copy_types(GridCell, frame.columns))
    copied = time.perf_counter()
    _index_staging(name)
    if timings is not None:
        timings["copy"] = copied - clock
        timings["index"] = time.perf_counter() - copied
    return StagedCells(run_id)


def _index_staging(name: str) -> None:
    """The staging table's primary key and levels index, then its statistics.

    Both indexes are built at once, each by a session of its own (CREATE INDEX takes a lock
    that another CREATE INDEX shares): on two cores they take the time of the longer one.
    The key is first a unique index, made the primary key once built, as ATTACH expects.
    When the caller holds a transaction, no other session sees the table: one after the other.
    """
    staging, key = _quoted(name), _quoted(name + "_pkey")
    columns = ", ".join(_quoted(column) for column in levels_columns())
    statements = [
        f"CREATE UNIQUE INDEX {key} ON {staging} (id, run_id)",
        f"CREATE INDEX {_quoted(name + '_levels')} ON {staging} ({columns})",
    ]
    with ThreadPoolExecutor(1) as pool:
        key_built = concurrency.beside(pool, _maintenance, statements[0])
        _maintenance(statements[1])
        key_built.result()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {staging} ADD CONSTRAINT {key} PRIMARY KEY USING INDEX {key}")
        cursor.execute(f"ANALYZE {staging}")


def _maintenance(statement: str) -> None:
    """Run an index build with INDEX_MEMORY to sort in, reading the table from its first page.

    The cells are copied in the levels index's order and their ids ascending, so a scan from
    the first page hands each build its keys already sorted, and the sort only checks them
    (0.25 s for two million cells). A table larger than a quarter of shared_buffers is
    otherwise scanned in step with any other scan of it (synchronize_seqscans): the second
    build then starts where the first one is, reads the keys rotated, and sorts them in full
    (3.3 s).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [INDEX_MEMORY])
        # The two builds already occupy two cores: parallel workers would only compete.
        cursor.execute("SELECT set_config('max_parallel_maintenance_workers', '0', true)")
        cursor.execute("SELECT set_config('synchronize_seqscans', 'off', true)")
        cursor.execute(statement)


def reserve_ids(count: int) -> np.ndarray:
    """`count` ids of the cells' sequence, consecutive and taken by nobody else. In a
    transaction of its own, ALTER SEQUENCE (changing nothing) takes the lock that blocks every
    other nextval until it commits, a few milliseconds; the sequence then moves past the ids
    in one setval. A sequence never called yet (a new database) gives its start first."""
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [PARENT])
        (sequence,) = cursor.fetchone()
        cursor.execute(f"ALTER SEQUENCE {sequence} INCREMENT BY 1")
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
        last, called = cursor.fetchone()
        first = last + 1 if called else last
        cursor.execute("SELECT setval(%s, %s, true)", [sequence, first + count - 1])
    return np.arange(first, first + count, dtype=np.int64)


def attach_run_cells(staged: StagedCells) -> None:
    """Make the staged cells the run's, in place of any earlier ones. Inside the caller's
    transaction: the run's cells change when it commits, and not at all if it rolls back."""
    if not connection.in_atomic_block:
        raise RuntimeError("attach_run_cells runs inside the transaction that makes the cells the run's")
    run_id = staged.run_id
    if connection.vendor != "postgresql":
        GridCell.objects.filter(run_id=run_id).delete()
        bulk_insert(PARENT, staged.frame)
        return
    staging, partition = staging_name(run_id), partition_name(run_id)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_quoted(partition)}")
        cursor.execute(f"DELETE FROM {_quoted(DEFAULT_PARTITION)} WHERE run_id = %s", [run_id])
        cursor.execute(f"ALTER TABLE {_quoted(staging)} RENAME TO {_quoted(partition)}")
        for suffix in ("_pkey", "_levels"):
            cursor.execute(f"ALTER INDEX {_quoted(staging + suffix)} RENAME TO {_quoted(partition + suffix)}")
        cursor.execute(f"ALTER TABLE {_quoted(PARENT)} ATTACH PARTITION {_quoted(partition)} FOR VALUES IN ({run_id})")


def drop_run_cells(run_id: int) -> None:
    """Remove every cell of a run: its partition and staging table dropped, its rows in the
    default partition deleted (on other backends, its rows deleted)."""
    run_id = int(run_id)
    if connection.vendor != "postgresql":
        GridCell.objects.filter(run_id=run_id).delete()
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_quoted(partition_name(run_id))}, {_quoted(staging_name(run_id))}")
        cursor.execute(f"DELETE FROM {_quoted(DEFAULT_PARTITION)} WHERE run_id = %s", [run_id])


def discard_staging(run_id: int) -> None:
    """Drop the staging table of a run that will not attach it (a failed run)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_quoted(staging_name(run_id))}")


def bulk_insert(
    table: str,
    frame: pd.DataFrame,
    chunk_rows: int = 200_000,
    *,
    freeze: bool = False,
    types: dict[str, str] | None = None,
) -> None:
    """Insert a frame whose columns are the table's columns.

    PostgreSQL gets COPY, a chunk at a time to bound memory: in the binary format when the
    columns' `types` are given (`copy_types`; observatory.pgcopy: a third less time than
    CSV on the two million cells of a regional run, nothing to print or parse), else CSV
    that Arrow writes (pandas' own to_csv is ~15× slower), every valid value quoted so that
    an empty code ("" for a roll-up) stays an empty string and only unquoted empty fields are
    NULL. `freeze` writes the rows frozen, visible to all (COPY FREEZE: the table must be
    created in the same transaction), so that the first reads need not set their hint bits.
    Other backends get an executemany over the frame's rows.
    """
    if frame.empty:
        return
    columns = list(frame.columns)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    copy_format = "binary" if types is not None else "csv"
    statement = (
        f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN"
        f" WITH (FORMAT {copy_format}{', FREEZE' if freeze else ''})"
    )
    if connection.vendor == "postgresql" and types is not None:
        with connection.cursor() as cursor, _queued_copy(cursor, statement) as copy:
            copy.write(pgcopy.HEADER)
            # The queued writer sends from a thread of its own: each chunk is encoded while
            # the one before travels and the server stores it (a third of the copy's time).
            for start in range(0, len(frame), chunk_rows):
                copy.write(pgcopy.encode_rows(frame.iloc[start : start + chunk_rows], types))
            copy.write(pgcopy.TRAILER)
        return
    if connection.vendor == "postgresql":
        arrow_table = pa.Table.from_pandas(frame, preserve_index=False)
        # Categorical columns arrive as Arrow dictionaries, which the CSV writer refuses.
        arrow_table = arrow_table.cast(
            pa.schema(
                [
                    pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type)
                    for f in arrow_table.schema
                ]
            )
        )
        options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for start in range(0, arrow_table.num_rows, chunk_rows):
                buffer = io.BytesIO()
                pacsv.write_csv(arrow_table.slice(start, chunk_rows), buffer, options)
                copy.write(buffer.getvalue())
        return
    placeholders = ", ".join(["%s"] * len(columns))
    values = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    with connection.cursor() as cursor:
        for start in range(0, len(values), 20_000):
            cursor.executemany(
                f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({placeholders})",
                values[start : start + 20_000],
            )


def _queued_copy(cursor, statement: str):
    """A COPY … FROM STDIN whose writes are sent by a thread of its own (psycopg's queued
    writer), so that the caller prepares the next chunk meanwhile."""
    return cursor.cursor.copy(statement, writer=QueuedLibpqWriter(cursor.cursor))


# Binary COPY type of each database column type (observatory.pgcopy).
_COPY_TYPES = {"bigint": "int8", "integer": "int4", "double precision": "float8", "boolean": "bool"}


def copy_types(model, columns) -> dict[str, str]:
    """The binary COPY type of each of `columns` of `model`'s table (character columns are
    text)."""
    fields = {field.column: field for field in model._meta.concrete_fields}
    types = {}
    for column in columns:
        db_type = fields[column].db_type(connection)
        types[column] = "text" if db_type.startswith("varchar") else _COPY_TYPES[db_type]
    return types


def levels_columns() -> list[str]:
    """The columns of the parent's gridcell_levels index, which each partition's index matches."""
    index = next(index for index in GridCell._meta.indexes if index.name == LEVELS_INDEX)
    return [GridCell._meta.get_field(name).column for name in index.fields]


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)
