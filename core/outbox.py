"""Handing work to the task queue when the broker may be away: a transactional outbox.

Work for a task is first a row, written in the transaction of the change that asks for it (a
compensation run with status `queued`, a webhook delivery with no attempt yet). Its task is
published once that transaction commits. When the broker cannot be reached the publish gives up
after a short, bounded wait (CELERY_BROKER_CONNECTION_TIMEOUT and CELERY_TASK_PUBLISH_RETRY_POLICY
in the settings), the request still answers, and the row stays waiting: nothing is failed for
want of a broker.

A sweep publishes again whatever is still waiting after a grace period (DISPATCH_GRACE_SECONDS):
the task `dispatch_waiting` (core/tasks.py), every minute from django-celery-beat (compensation
migration 0003 creates the schedule), and once whenever a worker starts (after a crash, a deploy
or the broker's return). Every task is idempotent, so a message published twice (a sweep racing a
slow first publish) still does its work once.

Each app registers how it finds and publishes its waiting rows (`register`), so that the sweep,
in the lowest layer, imports nothing above it.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from celery import current_app
from celery.signals import worker_ready
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# The sweep's task (core/tasks.py), by the name the beat schedule stores.
SWEEP_TASK = "ledger.tasks.dispatch_waiting"

# Publishes what has waited since before the given moment; returns how many it published.
Sweep = Callable[[datetime], int]
_sweeps: dict[str, Sweep] = {}


def register(name: str, sweep: Sweep):
    _sweeps[name] = sweep


def publish(task_name: str, *, args: tuple = (), task_id: str | None = None) -> bool:
    """Publish the task named `task_name`; False, logged, when the broker cannot be reached (the
    caller's row stays waiting for the sweep). Anything else the task raises (run eagerly)
    propagates. By name, so that a service never imports the task that calls it back."""
    try:
        current_app.signature(task_name, args=args).apply_async(task_id=task_id)
    except (OperationalError, ConnectionError) as error:
        logger.warning("%s%r waits for the broker: %s", task_name, args, error)
        return False
    return True


def sweep(grace_seconds: float | None = None) -> dict[str, int]:
    """Publish again every registered kind of work still waiting after the grace period."""
    grace = settings.DISPATCH_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = timezone.now() - timedelta(seconds=grace)
    return {name: _sweeps[name](cutoff) for name in sorted(_sweeps)}


@worker_ready.connect(dispatch_uid="core.outbox.sweep_on_worker_start")
def sweep_on_worker_start(sender=None, **kwargs):
    """A starting worker asks for a sweep as a task: the worker's main process then opens no
    database connection that its pool's children would inherit."""
    publish(SWEEP_TASK)
