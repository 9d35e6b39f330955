"""Writing and dropping a run's cells: the indexed table of before against a partition.

1. Data: a frame of `--cells` (2,000,000) cells shaped like a regional run's, drawn with
   numpy from a fixed seed (`synthetic_cells`): the cube's 96 level combinations over the
   Hauts-de-France's code counts (5 départements, 92 EPCI, 21 NAF sections, 88 divisions,
   14 ROME grands domaines, 110 domaines, 532 fiches, 5 size bands), detailed cells the
   most numerous, figures and secrecy flags as the cube gives them, rows in gridcell_levels
   order as `grid_run_compute` writes them.
2. (a) indexed: the table as it was before migration 0017, `bench_gridcell_indexed` (LIKE
   observatory_gridcell, primary key id, gridcell_levels' columns indexed), already holding
   the edition in force (the same number of cells of another run). The run's cells are
   copied in one transaction (`partitions.bulk_insert`: COPY of Arrow's CSV, as the run
   wrote them), commit included.
   (b) partition: `partitions.load_run_cells` (staging table, COPY, primary key, index,
   statistics), then `attach_run_cells` in a transaction of its own, commit included, into
   observatory_gridcell beside the edition's partition.
3. Dropping the run: DELETE of its rows from (a)'s table, committed (then VACUUM, not timed,
   so that every repeat starts alike), against `drop_run_cells` (its partition dropped).

Each of the `--repeat` rounds measures (a) and (b) one after the other, the first of the two
alternating, after a CHECKPOINT (not timed) so that neither pays for the other's writes;
figures are medians. The runs' ids are BENCH_RUNS, far above any real run's; their tables
and bench_gridcell_indexed are dropped before and after. PostgreSQL only.
"""

import itertools
import statistics
import time

import numpy as np
import pandas as pd
from django.db import connection, transaction

from observatory import partitions
from observatory.models import GridRun
from observatory.services import CELL_COLUMNS, _index_order

CELLS = 2_000_000
SEED = 2026
# The edition in force, then the run whose cells are measured.
BENCH_RUNS = (999_999_001, 999_999_002)
INDEXED = "bench_gridcell_indexed"

# Codes of each level: how many, and how one is spelt from its number.
TERRITORY = {"all": [""], "region": ["32"], "departement": ["02", "59", "60", "62", "80"]}
TERRITORY["epci"] = [f"2000{n:05d}" for n in range(92)]
SECTOR = {
    "all": [""],
    "section": [chr(ord("A") + n) for n in range(21)],
    "division": [f"{n:02d}" for n in range(1, 89)],
}
OCCUPATION = {
    "all": [""],
    "grand_domaine": [chr(ord("A") + n) for n in range(14)],
    "domaine": [f"{chr(ord('A') + n % 14)}{n // 14 + 11}" for n in range(110)],
    "fiche": [f"{chr(ord('A') + n % 14)}{1101 + n // 14 * 10 + n % 7}" for n in range(532)],
}
SIZE = {"all": ["all"], "band": ["0-9", "10-49", "50-249", "250-4999", "5000+"]}
DIMENSIONS = {"territory": TERRITORY, "sector": SECTOR, "occupation": OCCUPATION, "size": SIZE}
RESULTS = (
    "cells_rows",
    "cells_write_indexed_seconds",
    "cells_write_partition_seconds",
    "cells_write_partition_copy_seconds",
    "cells_write_partition_index_seconds",
    "cells_write_partition_attach_seconds",
    "cells_write_ratio",
    "cells_drop_seconds",
    "cells_drop_indexed_seconds",
)


def add_arguments(parser) -> None:
    group = parser.add_argument_group("cells")
    group.add_argument("--cells", type=int, default=CELLS, help=f"cells of the run written ({CELLS:,})")


def run(args) -> dict[str, float]:
    if connection.vendor != "postgresql":
        say("cells: needs PostgreSQL (set DATABASE_URL or start the local server); skipped")
        return dict.fromkeys(RESULTS, float("nan"))
    if GridRun.objects.filter(pk__in=BENCH_RUNS).exists():
        raise RuntimeError(f"runs {BENCH_RUNS} exist in this database: the bench would replace their cells")
    clock = time.perf_counter()
    cells = synthetic_cells(args.cells, np.random.default_rng(SEED))
    say(f"cells: {len(cells)} drawn in {time.perf_counter() - clock:.1f} s")
    edition, measured = BENCH_RUNS
    drop_tables()
    try:
        prepare(cells.assign(run_id=edition))
        frame = cells.assign(run_id=measured)
        rounds = []
        for attempt in range(1, args.repeat + 1):
            ways = ("indexed", "partition") if attempt % 2 else ("partition", "indexed")
            measures = {}
            for way in ways:
                checkpoint()
                measures.update(write_indexed(frame) if way == "indexed" else write_partition(frame))
            for way in ways:
                measures.update(drop_indexed() if way == "indexed" else drop_partition())
            rounds.append(measures)
            say(
                f"round {attempt}/{args.repeat} ({ways[0]} first): indexed {measures['write_indexed']:.2f} s, "
                f"partition {measures['write_partition']:.2f} s (copy {measures['copy']:.2f}, index "
                f"{measures['index']:.2f}, attach {measures['attach']:.3f}); drop: DELETE "
                f"{measures['drop_indexed']:.2f} s, partition {measures['drop_partition']:.3f} s"
            )
    finally:
        drop_tables()

    def median(name):
        return statistics.median(r[name] for r in rounds)

    return {
        "cells_rows": len(frame),
        "cells_write_indexed_seconds": median("write_indexed"),
        "cells_write_partition_seconds": median("write_partition"),
        "cells_write_partition_copy_seconds": median("copy"),
        "cells_write_partition_index_seconds": median("index"),
        "cells_write_partition_attach_seconds": median("attach"),
        "cells_write_ratio": median("write_indexed") / median("write_partition"),
        "cells_drop_seconds": median("drop_partition"),
        "cells_drop_indexed_seconds": median("drop_indexed"),
    }


def say(line: str) -> None:
    print(line, flush=True)


def synthetic_cells(count: int, rng: np.random.Generator) -> pd.DataFrame:
    """`count` cells with the columns a run writes (CELL_COLUMNS), in gridcell_levels order.

    A cell's level combination is drawn in proportion to the number of cells it can hold
    (so most cells are the detailed ones, as in a run), its codes uniformly within each
    level. Figures: companies ≥ 1 (geometric), establishments ≥ companies, employees, shares
    and means in [0, 1] with some NULLs, secrecy for fewer than 3 companies and ~30 % more.
    """
    combinations = list(itertools.product(*DIMENSIONS.values()))
    capacity = np.array(
        [
            np.prod([len(codes[level]) for codes, level in zip(DIMENSIONS.values(), c, strict=True)])
            for c in combinations
        ],
        dtype=float,
    )
    chosen = rng.choice(len(combinations), size=count, p=capacity / capacity.sum())
    columns = {}
    for position, (dimension, codes) in enumerate(DIMENSIONS.items()):
        names = list(codes)
        level = np.array([names.index(c[position]) for c in combinations])[chosen]
        counts = np.array([len(codes[name]) for name in names])
        spelt = np.concatenate([codes[name] for name in names])
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        code = spelt[first[level] + (rng.random(count) * counts[level]).astype(np.int64)]
        if dimension == "size":
            columns["size_band"] = pd.Categorical(code)
        else:
            columns[f"{dimension}_level"] = pd.Categorical.from_codes(level, categories=names)
            columns[f"{dimension}_code"] = pd.Categorical(code)

    companies = rng.geometric(0.12, count)
    establishments = companies + rng.poisson(0.3 * companies)
    employees = establishments * rng.integers(1, 40, count)
    shares = rng.dirichlet(np.ones(3), count)
    exposure = rng.random(count)
    secret = (companies < 3) | (rng.random(count) < 0.3)
    reason = np.where(companies < 3, "companies", np.where(rng.random(count) < 0.1, "dominance", "secondary"))
    frame = pd.DataFrame(
        {
            **columns,
            "companies": companies,
            "establishments": establishments,
            "employees": employees,
            "exposure_mean": np.where(rng.random(count) < 0.03, np.nan, exposure),
            "share_high": shares[:, 0],
            "share_medium": shares[:, 1],
            "share_low": shares[:, 2],
            "rti_mean": rng.normal(0.5, 1.0, count),
            "training_need_share": rng.random(count),
            "training_coverage": np.where(rng.random(count) < 0.2, np.nan, rng.random(count)),
            "diagnostics": rng.poisson(0.05, count),
            "secret": secret,
            "secret_reason": pd.Categorical(np.where(secret, reason, "")),
        }
    )[CELL_COLUMNS]
    return frame.iloc[_index_order(frame)].reset_index(drop=True)


def prepare(edition: pd.DataFrame) -> None:
    """Both tables with the edition in force: (a)'s indexed table, (b)'s partition."""
    parent = _quoted(partitions.PARENT)
    levels = ", ".join(_quoted(column) for column in partitions.levels_columns())
    clock = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {INDEXED} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(f"ALTER TABLE {INDEXED} ADD PRIMARY KEY (id)")
        cursor.execute(f"CREATE INDEX {INDEXED}_levels ON {INDEXED} ({levels})")
        partitions.bulk_insert(INDEXED, edition[["run_id", *CELL_COLUMNS]])
    staged = partitions.load_run_cells(int(edition["run_id"].iat[0]), edition[["run_id", *CELL_COLUMNS]])
    with transaction.atomic():
        partitions.attach_run_cells(staged)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {INDEXED}")
    say(f"edition in force: {len(edition)} cells in each table ({time.perf_counter() - clock:.1f} s)")


def write_indexed(frame: pd.DataFrame) -> dict[str, float]:
    clock = time.perf_counter()
    with transaction.atomic():
        partitions.bulk_insert(INDEXED, frame[["run_id", *CELL_COLUMNS]])
    return {"write_indexed": time.perf_counter() - clock}


def write_partition(frame: pd.DataFrame) -> dict[str, float]:
    timings = {}
    clock = time.perf_counter()
    staged = partitions.load_run_cells(int(frame["run_id"].iat[0]), frame[["run_id", *CELL_COLUMNS]], timings)
    loaded = time.perf_counter()
    with transaction.atomic():
        partitions.attach_run_cells(staged)
    end = time.perf_counter()
    return {"write_partition": end - clock, "copy": timings["copy"], "index": timings["index"], "attach": end - loaded}


def drop_indexed() -> dict[str, float]:
    clock = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {INDEXED} WHERE run_id = %s", [BENCH_RUNS[1]])
    seconds = time.perf_counter() - clock
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {INDEXED}")
    return {"drop_indexed": seconds}


def drop_partition() -> dict[str, float]:
    clock = time.perf_counter()
    partitions.drop_run_cells(BENCH_RUNS[1])
    return {"drop_partition": time.perf_counter() - clock}


def checkpoint() -> None:
    """Write the dirty pages out now, so that the next measure starts from a clean state."""
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def drop_tables() -> None:
    for run_id in BENCH_RUNS:
        partitions.drop_run_cells(run_id)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {INDEXED}")


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)
