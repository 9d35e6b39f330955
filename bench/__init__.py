"""Performance benchmarks of the observatory, run by `make bench` (`python -m bench`).

Each benchmark is a module `bench/<name>.py` with a `run(args) -> dict[str, float]` function
(and, optionally, `add_arguments(parser)`), listed in BENCHMARKS. Figures are printed as
machine-readable lines `RESULT name=value`; everything else printed is context for people.
"""

import math
from pathlib import Path
from urllib.parse import urlsplit

# Run in this order by `python -m bench`; `--only NAME` runs one of them.
BENCHMARKS = ("grid", "cube_engines", "cells", "national", "pages", "submissions")


def create_postgres_database(database_url: str) -> None:
    """Create the PostgreSQL database `database_url` names unless it exists (through the
    server's `postgres` database)."""
    import psycopg

    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise ValueError(f"not a PostgreSQL database: {parts.scheme}")
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            print(f"database: creating {name}", flush=True)
            conn.execute(f'CREATE DATABASE "{name}"')


def write_frame(path, frame) -> None:
    """Store a frame for another process of the bench, as the project stores frames
    (`differencing.frame_to_bytes`: numpy arrays, no pickle), uncompressed."""
    from observatory.analysis import differencing

    Path(path).write_bytes(differencing.frame_to_bytes(frame, compress=False))


def read_frame(path):
    """A frame `write_frame` stored."""
    from observatory.analysis import differencing

    return differencing.frame_from_bytes(Path(path).read_bytes())


def format_result(name: str, value: float) -> str:
    """One machine-readable line: `RESULT name=value`.

    Whole numbers print without a decimal point, other numbers with three decimals (seconds
    to the millisecond, ratios and megabytes to a thousandth); NaN prints as `nan`.
    """
    if not name or any(c.isspace() or c == "=" for c in name):
        raise ValueError(f"invalid result name {name!r}")
    if isinstance(value, bool):
        raise TypeError(f"result {name} is a bool, not a number")
    if isinstance(value, int):
        text = str(value)
    elif math.isnan(value):
        text = "nan"
    elif float(value).is_integer() and abs(value) < 1e15:
        text = str(int(value))
    else:
        text = f"{value:.3f}"
    return f"RESULT {name}={text}"
