"""The outbox's sweep as a task (core/outbox.py). Its name is the one stored in the beat
schedule (compensation migration 0003), kept when the task moved here."""

from celery import shared_task

from core import outbox
from core.audit import acting_as, system_user


@shared_task(name=outbox.SWEEP_TASK, acks_late=True)
def dispatch_waiting(grace_seconds: float | None = None) -> dict[str, int]:
    """Publish again the work still waiting for the broker."""
    with acting_as(system_user()):
        return outbox.sweep(grace_seconds)
