"""Celery tasks of the catalogue: thin, they take ids and call a service."""

from celery import shared_task

from skills.jobs import SentAfterCommit

from . import services


@shared_task(
    name="trainings.run_import_job",
    base=SentAfterCommit,
    bind=True,
    acks_late=True,
    soft_time_limit=20 * 60,
    time_limit=25 * 60,
)
def run_import_job(self, job_id: int) -> dict:
    """Import one uploaded file. acks_late: a worker killed mid-import leaves the message on
    the broker; the import is one transaction, so the retry starts again from a clean state,
    and a job already finished is not imported twice. The message's id tells a retry of the
    same message from a duplicate, which leaves a job another message is importing alone."""
    job = services.import_job_run(job_id=job_id, task_id=self.request.id)
    if job is None:
        return {"job": job_id, "state": None}
    return {"job": job.pk, "state": job.state, "report": job.report}


@shared_task(name="trainings.reap_import_jobs")
def reap_import_jobs() -> dict:
    """Every minute (beat): fail the imports whose worker died, send again those never started."""
    return services.import_jobs_reap()
