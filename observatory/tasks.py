"""Celery tasks of the observatory: thin, they take ids and call a service."""

from functools import partial

from celery import shared_task
from django.db import transaction

from skills.models import ExposureIndex, Occupation

from . import services
from .models import GridRun, Lens


@shared_task(name="observatory.ping")
def ping(value):
    """Echo `value` with a row count: proves a worker reaches both the broker and the database."""
    return {"pong": value, "occupations": Occupation.objects.count()}


def _outcome(run) -> dict:
    return {"run": run.pk, "status": run.status, "cells": run.stats.get("cells", 0)}


@shared_task(name="observatory.compute_grid_run", bind=True, acks_late=True, **services.GRID_TASK_LIMITS)
def compute_grid_run(self, run_id: int) -> dict:
    """Compute one run. acks_late: a worker killed mid-run leaves the message on the broker,
    and the retry restarts the run cleanly; the message's id tells a retry of the same message
    from a duplicate, which leaves a run already ready, failed or computing alone."""
    queue = (self.request.delivery_info or {}).get("routing_key")
    return _outcome(services.grid_run_compute(run_id, task_id=self.request.id, queue=queue))


@shared_task(name="observatory.compute_grid_part", bind=True, acks_late=True, **services.GRID_TASK_LIMITS)
def compute_grid_part(self, run_id: int, key: str, coordinator: str) -> dict:
    """Aggregate one région of a run split by région (observatory.national_runs); `coordinator`
    is the id of the run's own message, whose attempt the part belongs to."""
    return services.grid_run_part(run_id, key, task_id=coordinator)


@shared_task(name="observatory.merge_grid_run", bind=True, acks_late=True, **services.GRID_TASK_LIMITS)
def merge_grid_run(self, parts: list, run_id: int, coordinator: str) -> dict:
    """The chord's callback: merge the parts of a run, then secrecy, audit and cells."""
    return _outcome(services.grid_run_merge(run_id, task_id=coordinator))


@shared_task(name="observatory.compute_current_grids")
def compute_current_grids() -> list[int]:
    """Nightly: recompute every lens, and every external index already used."""
    run_ids = []
    for lens in Lens.values:
        run = services.grid_run_create(lens=lens, trigger=GridRun.Trigger.NIGHTLY)
        run_ids.append(run.pk)
        transaction.on_commit(partial(services.grid_run_enqueue, run.pk))
    for index in ExposureIndex.objects.filter(runs__isnull=False).distinct():
        run = services.grid_run_create(lens=Lens.DEFAULT, index=index, trigger=GridRun.Trigger.NIGHTLY)
        run_ids.append(run.pk)
        transaction.on_commit(partial(services.grid_run_enqueue, run.pk))
    return run_ids


@shared_task(
    name="observatory.recompute_after_field_data",
    bind=True,
    acks_late=True,
    **services.GRID_TASK_LIMITS,
)
def recompute_after_field_data(self, run_id: int) -> dict:
    """The debounced recomputation queued by services.schedule_recomputation: the default
    lens's run, then the other lenses of its batch, in this one task."""
    runs = services.grid_run_batch_compute(run_id, task_id=self.request.id)
    return {**_outcome(runs[0]), "batch": [_outcome(run) for run in runs]}


@shared_task(name="observatory.reap_grid_runs")
def reap_grid_runs() -> dict:
    """Every minute (beat): fail the runs whose worker died, send again those never started."""
    return services.grid_runs_reap()
