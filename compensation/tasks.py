"""Celery tasks of compensation: thin, idempotent, ids in."""

from celery import shared_task

from core.audit import acting_as, system_user

from . import runs


@shared_task(name=runs.COMPUTE_TASK, acks_late=True)
def compute_run(run_id: int) -> str:
    """Compute a queued run. Redelivered after a worker died, it computes the run anew (the
    dead attempt's lines were never committed); delivered twice, it leaves a computed run alone."""
    with acting_as(system_user()):
        return runs.run_compute(run_id)
