"""Imported by a test's Celery worker (`start_worker(include=("tests.worker_hooks",))`).

TEST_RUN_STEP_SECONDS (seconds, default 0) lengthens every step of a grid run, after the
step's progress and heartbeat are written, so that a test can kill the worker mid-run on the
hand-worked case, which otherwise computes in a fraction of a second. The run's heartbeat
thread goes on beating while a step sleeps, as it does while a long step computes.
"""

import os
import time

from observatory import services

STEP_SECONDS = float(os.environ.get("TEST_RUN_STEP_SECONDS", "0"))

if STEP_SECONDS:
    _write_progress = services._progress

    def _slow_progress(run, progress, step):
        _write_progress(run, progress, step)
        time.sleep(STEP_SECONDS)

    services._progress = _slow_progress
