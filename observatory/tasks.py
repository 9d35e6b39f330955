"""Celery tasks of the observatory: thin, they take ids and call a service."""

from celery import shared_task
from django.db import transaction

from skills.models import ExposureIndex, Occupation

from . import services
from .models import Lens


@shared_task(name="observatory.ping")
def ping(value):
    """Echo `value` with a row count: proves a worker reaches both the broker and the database."""
    return {"pong": value, "occupations": Occupation.objects.count()}


@shared_task(name="observatory.compute_grid_run", acks_late=True, soft_time_limit=60 * 60, time_limit=65 * 60)
def compute_grid_run(run_id: int) -> dict:
    """Compute one run. acks_late: a worker killed mid-run leaves the message on the broker,
    and the retry restarts the run cleanly (the service is idempotent)."""
    run = services.grid_run_compute(run_id)
    return {"run": run.pk, "status": run.status, "cells": run.stats.get("cells", 0)}


@shared_task(name="observatory.compute_current_grids")
def compute_current_grids() -> list[int]:
    """Nightly: recompute every lens, and every external index already used."""
    run_ids = []
    for lens in Lens.values:
        run = services.grid_run_create(lens=lens, trigger="nightly")
        run_ids.append(run.pk)
        transaction.on_commit(lambda pk=run.pk: compute_grid_run.delay(pk))
    for index in ExposureIndex.objects.filter(runs__isnull=False).distinct():
        run = services.grid_run_create(lens=Lens.DEFAULT, index=index, trigger="nightly")
        run_ids.append(run.pk)
        transaction.on_commit(lambda pk=run.pk: compute_grid_run.delay(pk))
    return run_ids


@shared_task(name="observatory.recompute_after_field_data", acks_late=True)
def recompute_after_field_data(run_id: int) -> dict:
    """The debounced recomputation queued by services.schedule_recomputation."""
    return compute_grid_run(run_id)
