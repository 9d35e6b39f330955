"""Database work a second thread does beside the caller's, in a session of its own.

Django gives each thread its own connection: a thread's queries run beside the caller's,
on the server's other core. Such a session sees only what is committed, so the work goes to a
thread only when the caller holds no transaction (`shares_committed_data`): inside one (a
test's, or an atomic block), the caller does it itself, one step after the other.
"""

from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connection


def shares_committed_data() -> bool:
    """Whether another session sees what this one has written: not inside a transaction."""
    return not connection.in_atomic_block


def in_own_session(function, *args, **kwargs):
    """Call `function` in this thread's own connection, closed once it returns or fails."""
    try:
        return function(*args, **kwargs)
    finally:
        connection.close()


def beside(pool: ThreadPoolExecutor, function, *args, **kwargs) -> Future:
    """`function` started in a thread of `pool` with a session of its own where the caller's
    committed data are all it reads, else called now in the caller's session; either way a
    future of its result."""
    if shares_committed_data():
        return pool.submit(in_own_session, function, *args, **kwargs)
    done = Future()
    try:
        done.set_result(function(*args, **kwargs))
    except Exception as exc:  # handed to whoever asks for the result, as from a thread
        done.set_exception(exc)
    return done
