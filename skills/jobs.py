"""Plumbing shared by the background jobs of every app (the observatory's grid runs, the
catalogue's import jobs): a heartbeat, and a Celery task class whose `delay_on_commit` never
turns a committed request into an error page.

It lives in the lowest app so that every app may use it without importing upwards. The
reapers that read the heartbeat are each app's own (observatory.services, trainings.services).
"""

import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager

from celery.contrib.django.task import DjangoTask
from django.db import DatabaseError, connections, transaction

logger = logging.getLogger(__name__)


def start_heartbeat(beat: Callable[[], None], *, every: float) -> Callable[[], None]:
    """Call `beat()` from a thread every `every` seconds until the returned function is called.

    A thread rather than calls between steps: the longest steps (the secrecy protection, a
    large import) are single calls into pure code that knows nothing of jobs. The thread dies
    with its process, so a worker killed mid-job stops beating and the reaper fails the job.
    `beat` runs on the thread's own database connection, closed when the beating stops; it
    must not wait for a row lock held by the job's own transaction (use skip_locked).
    """
    stop = threading.Event()

    def loop():
        try:
            while not stop.wait(every):
                try:
                    beat()
                except DatabaseError:
                    # A missed beat is not fatal: the next one may pass.
                    logger.warning("heartbeat failed", exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=loop, name="job-heartbeat", daemon=True)
    thread.start()

    def stop_beating():
        stop.set()
        thread.join(timeout=10)

    return stop_beating


@contextmanager
def heartbeat(beat: Callable[[], None], *, every: float):
    """`start_heartbeat` for the duration of a block."""
    stop_beating = start_heartbeat(beat, every=every)
    try:
        yield
    finally:
        stop_beating()


class SentAfterCommit(DjangoTask):
    """A task whose `delay_on_commit` sends the message once the transaction commits, and only
    logs a broker out of reach: the request that committed still succeeds, the job stays
    pending, and the app's reaper sends it again once the broker is back."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        def send():
            self.delay(*args, **kwargs)

        # Django's log of a robust callback's error names it by its __qualname__.
        send.__qualname__ = f"{self.name}.delay"
        transaction.on_commit(send, robust=True)
