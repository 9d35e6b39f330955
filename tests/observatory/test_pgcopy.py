"""Binary COPY rows written with numpy: the bytes of a hand-worked row, and a round trip
through PostgreSQL equal to the CSV path's."""

import struct

import numpy as np
import pandas as pd
import pytest
from django.db import connection, transaction

from observatory import partitions, pgcopy
from observatory.models import GridCell

TYPES = {"n": "int8", "k": "int4", "x": "float8", "flag": "bool", "label": "text"}


def test_one_row_byte_by_byte():
    frame = pd.DataFrame({"n": [7], "k": [-2], "x": [np.nan], "flag": [True], "label": ["é"]})
    expected = (
        struct.pack(">h", 5)
        + struct.pack(">i", 8) + struct.pack(">q", 7)
        + struct.pack(">i", 4) + struct.pack(">i", -2)
        + struct.pack(">i", -1)  # NaN is NULL: no payload
        + struct.pack(">i", 1) + b"\x01"
        + struct.pack(">i", 2) + "é".encode()
    )  # fmt: skip
    assert pgcopy.encode_rows(frame, TYPES) == expected


def test_rows_of_different_lengths_follow_one_another():
    frame = pd.DataFrame(
        {
            "n": [1, 2, 3],
            "k": [0, 0, 0],
            "x": [0.5, np.nan, -1.25],
            "flag": [False, True, False],
            "label": ["", "ab", "c"],
        }
    )
    data = pgcopy.encode_rows(frame, TYPES)
    rows, at = [], 0
    while at < len(data):
        (fields,) = struct.unpack_from(">h", data, at)
        at += 2
        row = []
        for _ in range(fields):
            (length,) = struct.unpack_from(">i", data, at)
            at += 4
            row.append(None if length < 0 else data[at : at + length])
            at += max(length, 0)
        rows.append(row)
    assert [struct.unpack(">q", row[0])[0] for row in rows] == [1, 2, 3]
    assert [row[2] and struct.unpack(">d", row[2])[0] for row in rows] == [0.5, None, -1.25]
    assert [row[4] for row in rows] == [b"", b"ab", b"c"]


def test_columns_without_null_nor_short_text_need_no_mask():
    frame = pd.DataFrame({"x": [1.5, -2.0], "label": ["", ""], "code": pd.Categorical(["ab", "cd"])})
    types = {"x": "float8", "label": "text", "code": "text"}
    row = lambda x, code: (  # noqa: E731
        struct.pack(">h", 3) + struct.pack(">i", 8) + struct.pack(">d", x)
        + struct.pack(">i", 0) + struct.pack(">i", 2) + code
    )  # fmt: skip
    assert pgcopy.encode_rows(frame, types) == row(1.5, b"ab") + row(-2.0, b"cd")


def test_a_null_where_the_column_takes_none_is_refused():
    with pytest.raises(ValueError, match="NULL"):
        pgcopy.encode_rows(pd.DataFrame({"k": [1.0, np.nan]}), {"k": "int4"})
    with pytest.raises(ValueError, match="NULL"):
        pgcopy.encode_rows(pd.DataFrame({"label": ["a", None]}), {"label": "text"})
    with pytest.raises(ValueError, match="unsupported"):
        pgcopy.encode_rows(pd.DataFrame({"d": [1]}), {"d": "date"})


@pytest.mark.django_db(transaction=True)
def test_binary_and_csv_copies_give_the_same_rows():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): COPY is PostgreSQL's")
    rng = np.random.default_rng(0)
    n = 5_000
    levels = pd.Categorical(rng.choice(["all", "region", "departement", "epci"], n))
    frame = pd.DataFrame(
        {
            "run_id": np.full(n, 4242),
            "territory_level": levels,
            "territory_code": pd.Categorical(rng.choice(["", "59", "2A", "inconnu", "200093201"], n)),
            "sector_level": "all",
            "sector_code": "",
            "occupation_level": "fiche",
            "occupation_code": pd.Categorical(rng.choice(["M1607", "K2111", "Écarté"], n)),
            "size_band": pd.Categorical(rng.choice(["all", "0-9", "5000+"], n)),
            "companies": rng.integers(0, 10**6, n),
            "establishments": rng.integers(0, 10**6, n),
            "employees": rng.integers(0, 2**31 - 1, n),
            "exposure_mean": np.where(rng.random(n) < 0.2, np.nan, rng.random(n)),
            "share_high": rng.random(n),
            "share_medium": rng.random(n),
            "share_low": rng.random(n),
            "rti_mean": rng.normal(size=n) * 1e6,
            "training_need_share": np.nan,
            "training_coverage": rng.random(n),
            "diagnostics": rng.integers(0, 50, n),
            "secret": rng.random(n) < 0.5,
            "secret_reason": pd.Categorical(rng.choice(["", "companies", "secondary"], n)),
        }
    )
    columns = ", ".join(frame.columns)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("copy_binary", "copy_csv"):
            cursor.execute(f"CREATE TEMPORARY TABLE {table} (LIKE observatory_gridcell INCLUDING DEFAULTS)")
        partitions.bulk_insert("copy_binary", frame, chunk_rows=1_000, types=partitions.copy_types(GridCell, frame))
        partitions.bulk_insert("copy_csv", frame)
        cursor.execute(
            f"SELECT count(*) FROM (SELECT {columns} FROM copy_binary EXCEPT SELECT {columns} FROM copy_csv) d"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*), count(exposure_mean), sum(employees::bigint) FROM copy_binary")
        assert cursor.fetchone() == (n, int(frame["exposure_mean"].notna().sum()), int(frame["employees"].sum()))
        cursor.execute("SELECT count(*) FROM copy_binary WHERE occupation_code = 'Écarté' AND sector_code = ''")
        assert cursor.fetchone()[0] == int((frame["occupation_code"] == "Écarté").sum())
