"""The cells benchmark on tiny numbers: its synthetic run and its measures (the 2M run is
`python -m bench --only cells`)."""

import argparse
import math

import numpy as np
import pytest
from django.db import connection

from bench import BENCHMARKS, cells
from observatory.models import GridCell
from observatory.services import CELL_COLUMNS


def test_registered_and_its_options():
    assert "cells" in BENCHMARKS
    parser = argparse.ArgumentParser()
    cells.add_arguments(parser)
    assert parser.parse_args([]).cells == 2_000_000


def test_synthetic_cells_look_like_a_runs_and_repeat_with_the_seed():
    frame = cells.synthetic_cells(20_000, np.random.default_rng(cells.SEED))
    assert list(frame.columns) == CELL_COLUMNS and len(frame) == 20_000
    assert frame.equals(cells.synthetic_cells(20_000, np.random.default_rng(cells.SEED)))
    for dimension, codes in cells.DIMENSIONS.items():
        if dimension != "size":
            assert set(frame[f"{dimension}_level"]) <= set(codes)
    for name in ("territory_code", "sector_code", "occupation_code", "size_band", "secret_reason"):
        longest = GridCell._meta.get_field(name).max_length
        assert frame[name].astype(str).str.len().max() <= longest
    assert (frame["companies"] >= 1).all() and (frame["establishments"] >= frame["companies"]).all()
    assert (frame.loc[frame["companies"] < 3, "secret_reason"] == "companies").all()
    assert (frame.loc[~frame["secret"], "secret_reason"] == "").all()
    # Most cells are detailed, as in a run; the coarsest exist too.
    assert (frame["occupation_level"] == "fiche").mean() > 0.5
    assert (frame["territory_level"] != "epci").any()


def test_a_tiny_run_measures_both_ways_and_leaves_no_table(transactional_db):
    results = cells.run(argparse.Namespace(cells=3000, repeat=1))
    assert set(results) == set(cells.RESULTS)
    if connection.vendor != "postgresql":
        assert all(math.isnan(value) for value in results.values())
        pytest.skip("the measures need PostgreSQL (set DATABASE_URL)")
    assert results["cells_rows"] == 3000
    assert all(value > 0 for value in results.values())
    parts = ("copy", "index", "attach")
    assert (
        sum(results[f"cells_write_partition_{part}_seconds"] for part in parts)
        <= (results["cells_write_partition_seconds"])
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'observatory\\_gridcell\\_run\\_999999%'")
        assert cursor.fetchall() == []
        cursor.execute("SELECT to_regclass(%s)", [cells.INDEXED])
        assert cursor.fetchone()[0] is None
