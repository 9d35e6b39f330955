"""A real Celery worker in a subprocess, and a client to send it tasks, for tests.

The test process runs Celery eagerly (no CELERY_BROKER_URL), so a test talks to the worker
through a separate Celery app built by `celery_client`, never through `task.delay()`:

    with start_worker(broker_url, database_url=url) as worker, celery_client(broker_url) as app:
        result = app.send_task("observatory.ping", args=[42], queue=worker.queue)
        result.get(timeout=30)

Each worker consumes its own queue, so workers of other runs sharing the broker never take
the test's tasks; a worker started after another one died can be given the dead one's queue.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.db import connection

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Worker:
    process: subprocess.Popen
    nodename: str  # `celery@…` name, as reported in pings and in extended results
    queue: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker's main process, as the out-of-memory killer or a lost machine
        would: no warm shutdown, nothing given back to the broker."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def celery_client(broker_url: str, result_backend: str | None = None) -> Celery:
    """A Celery app configured as the project's one but sending to `broker_url`.

    It is never made the current app: the eager project app stays in charge of `delay()` in
    the test process. Use it as a context manager to close its connections."""
    app = Celery("observatory-test-client", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=broker_url,
        result_backend=result_backend or broker_url,
        task_always_eager=False,
    )
    return app


@contextmanager
def start_worker(
    broker_url: str,
    database_url: str | None = None,
    result_backend: str | None = None,
    timeout: float = 30,
    *,
    pool: str = "solo",
    queue: str | None = None,
    environment: dict | None = None,
    include: tuple[str, ...] = (),
):
    """Run `celery -A observatory worker` (solo pool, or `pool` with one child) until the
    block ends; yield a `Worker`.

    The result backend defaults to the broker, so results come back through Redis and not
    through the database. Without `database_url` the worker inherits DATABASE_URL (or the
    default SQLite file). `queue` defaults to a queue of the worker's own; `environment` adds
    variables (settings) to the worker's; `include` names more modules it imports at start
    (e.g. tests.worker_hooks). The worker's log is printed when the block raises."""
    suffix = uuid.uuid4().hex[:8]
    nodename = f"test-{suffix}@{os.uname().nodename}"
    queue = queue or f"test-{suffix}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CELERY_")}
    env["CELERY_BROKER_URL"] = broker_url
    env["CELERY_RESULT_BACKEND"] = result_backend or broker_url
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(environment or {})
    command = [
        sys.executable, "-m", "celery", "-A", "observatory", "worker",
        f"--pool={pool}", "--concurrency=1", "-l", "info",
        "-n", nodename, "-Q", queue,
        # No chatter with other workers on the same broker: faster start, no interference.
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    if include:
        command += ["--include", ",".join(include)]
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open by the subprocess)
        prefix="celery-worker-", suffix=".log", delete=False
    )
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    worker = Worker(process=process, nodename=nodename, queue=queue, log_path=Path(log_file.name))
    failed = True
    try:
        _wait_until_it_answers(worker, broker_url, timeout)
        yield worker
        failed = False
    finally:
        _stop(process)
        log_file.close()
        if failed:
            print(f"--- log of Celery worker {nodename} ---\n{worker.log()}", file=sys.stderr)
        worker.log_path.unlink(missing_ok=True)


def _wait_until_it_answers(worker: Worker, broker_url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with celery_client(broker_url) as app:
        while time.monotonic() < deadline:
            if worker.process.poll() is not None:
                raise RuntimeError(f"Celery worker exited with code {worker.process.returncode}")
            if app.control.ping(destination=[worker.nodename], timeout=1):
                return
    raise TimeoutError(f"Celery worker {worker.nodename} did not answer within {timeout} s")


def _stop(process: subprocess.Popen) -> None:
    """Warm shutdown (SIGTERM lets the current task finish), then kill after 10 s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker_database_url(tmp_path) -> str:
    """A DATABASE_URL giving a worker process the data this test has committed."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        # NAME is already the test database (e.g. test_observatoire_ci).
        credentials = quote(settings["USER"] or "", safe="")
        if settings["PASSWORD"]:
            credentials += ":" + quote(settings["PASSWORD"], safe="")
        host = settings["HOST"] or "localhost"
        port = settings["PORT"] or 5432
        return f"postgres://{credentials}@{host}:{port}/{settings['NAME']}"
    if connection.vendor == "sqlite":
        # The in-memory test database is invisible to other processes: hand over a copy.
        path = tmp_path / "worker.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(path) as copy:
            connection.connection.backup(copy)
        copy.close()
        return f"sqlite:///{path}"
    pytest.skip(f"no worker DATABASE_URL for the {connection.vendor} backend")
