"""The task that signs a checkpoint of the journal's hash chain: thin and idempotent (a head
already signed is not signed again). Beat runs it hourly (migration 0016); a run's approval
publishes it when its transaction commits."""

from celery import shared_task

from ledger.journal.checkpoints import CHECKPOINT_TASK, checkpoint_write


@shared_task(name=CHECKPOINT_TASK, acks_late=True)
def write_checkpoint(reason: str = "schedule") -> int | None:
    """Sign the current head; the checkpoint's id, or None while the journal is empty."""
    checkpoint = checkpoint_write(reason=reason)
    return checkpoint.pk if checkpoint is not None else None
