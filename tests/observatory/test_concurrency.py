"""Database work done by a second thread in a session of its own (observatory.concurrency):
the run's reference profiles read while its positions stream, the index builds of its cells."""

import contextlib
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
from django.db import connection, transaction

from observatory import concurrency, services
from observatory.models import Lens, Methodology
from observatory.selectors import positions_frame, training_coverage_frame
from skills.selectors import reference_profiles_frame


def _session() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _open_sessions(pid: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


@pytest.fixture
def postgresql(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): sessions are told apart by their backend pid")


def test_outside_a_transaction_the_work_runs_in_a_session_of_its_own_closed_after(postgresql):
    with ThreadPoolExecutor(1) as pool:
        other = concurrency.beside(pool, _session).result()

    assert other != _session()
    assert _open_sessions(other) == 0


def test_inside_a_transaction_the_caller_does_the_work_itself(postgresql):
    with transaction.atomic(), ThreadPoolExecutor(1) as pool:
        assert not concurrency.shares_committed_data()
        assert concurrency.beside(pool, _session).result() == _session()


@pytest.mark.parametrize("in_transaction", [False, True], ids=["beside", "in the caller's session"])
def test_a_failure_is_raised_by_the_result(transactional_db, in_transaction):
    def broken():
        raise ValueError("profil introuvable")

    with transaction.atomic() if in_transaction else contextlib.nullcontext(), ThreadPoolExecutor(1) as pool:
        future = concurrency.beside(pool, broken)
        with pytest.raises(ValueError, match="profil introuvable"):
            future.result()


def test_a_run_reads_the_same_inputs_with_the_profiles_built_beside(transactional_db, migration_data, hand_worked):
    methodology = Methodology.objects.current(Lens.DEFAULT)
    assert concurrency.shares_committed_data()

    positions, reference, coverage = services.read_inputs(methodology)

    pd.testing.assert_frame_equal(positions, positions_frame())
    pd.testing.assert_frame_equal(reference, reference_profiles_frame(methodology.profile_params()))
    pd.testing.assert_frame_equal(coverage, training_coverage_frame())
    # The hand-worked fiche: its imported profile, four positions of 65 employees.
    assert reference.loc["M1607", ["rc", "rm", "nra", "nri", "nrm"]].tolist() == [0.6, 0.1, 0.1, 0.1, 0.1]
    assert positions["headcount"].sum() == 65
