"""Celery tasks of the catalogue: thin, they take ids and call a service."""

from celery import shared_task

from . import services


@shared_task(name="trainings.run_import_job", acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60)
def run_import_job(job_id: int) -> dict:
    """Import one uploaded file. acks_late: a worker killed mid-import leaves the message on
    the broker; the import is one transaction, so the retry starts again from a clean state,
    and a job already finished is not imported twice."""
    job = services.import_job_run(job_id=job_id)
    if job is None:
        return {"job": job_id, "state": None}
    return {"job": job.pk, "state": job.state, "report": job.report}
