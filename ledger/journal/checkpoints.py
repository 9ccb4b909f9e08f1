"""Signed checkpoints of the journal's hash chain.

A checkpoint is the installation's Ed25519 signature (core.security.signing) over the chain's
head: the seq and hash of the last transaction at that moment, when it was signed and by which
key. Anyone holding the public key (served at /.well-known/guild-ledger-keys.json) can check it
without the product, and verification starts from the latest checkpoint whose signature holds
instead of from genesis.

The signed message is defined here once, by `checkpoint_message`: canonical JSON (sorted keys,
no whitespace) of `{"type", "seq", "hash", "created_at", "key_id"}`, `created_at` in ISO 8601
UTC with microseconds. verifier/verify_ledger_segment.py rebuilds the same bytes on its own.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from core import outbox
from core.security import signing
from ledger.journal.services import _lock_chain_head, chain_head
from ledger.models import Checkpoint

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "guild-ledger.checkpoint"
CHECKPOINT_TASK = "ledger.journal.tasks.checkpoint_write"


def iso_utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


def message_fields(*, seq: int, head_hash: str, created_at: datetime, key_id: str) -> dict:
    return {
        "type": MESSAGE_TYPE,
        "seq": int(seq),
        "hash": head_hash,
        "created_at": iso_utc(created_at),
        "key_id": key_id,
    }


def checkpoint_message(*, seq: int, head_hash: str, created_at: datetime, key_id: str) -> bytes:
    """The bytes a checkpoint's signature covers. Pure: no database, no key."""
    fields = message_fields(seq=seq, head_hash=head_hash, created_at=created_at, key_id=key_id)
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def message_of(checkpoint: Checkpoint) -> bytes:
    return checkpoint_message(
        seq=checkpoint.seq,
        head_hash=checkpoint.head_hash,
        created_at=checkpoint.created_at,
        key_id=checkpoint.key_id,
    )


def signature_holds(checkpoint: Checkpoint) -> bool:
    """Whether the checkpoint names the installation's key and its signature verifies with it."""
    return checkpoint.key_id == signing.key_id() and signing.verify(
        message_of(checkpoint), checkpoint.signature
    )


@transaction.atomic
def checkpoint_write(*, reason: str) -> Checkpoint | None:
    """Sign the chain's current head. When the latest checkpoint of this key already signs that
    head, it is returned and nothing is written; an empty journal has nothing to sign (None)."""
    if reason not in Checkpoint.Reason.values:
        raise ValueError(f"checkpoint reason {reason!r} is not one of {Checkpoint.Reason.values}")
    _lock_chain_head()  # the head read here is the head, not one a concurrent post moves past
    seq, head_hash = chain_head()
    if seq == 0:
        return None
    key_id = signing.key_id()
    existing = Checkpoint.objects.filter(seq=seq, key_id=key_id, head_hash=head_hash).first()
    if existing is not None:
        return existing
    created_at = timezone.now()
    message = checkpoint_message(seq=seq, head_hash=head_hash, created_at=created_at, key_id=key_id)
    return Checkpoint.objects.create(
        seq=seq,
        head_hash=head_hash,
        created_at=created_at,
        key_id=key_id,
        signature=signing.sign(message),
        reason=reason,
    )


def checkpoint_publish(*, reason: str) -> bool:
    """Ask a worker to write a checkpoint (call it from `transaction.on_commit`). A checkpoint
    that cannot be written now never undoes what committed: the hourly one follows."""
    try:
        return outbox.publish(CHECKPOINT_TASK, args=(reason,))
    except Exception:  # run eagerly, the signing failed
        logger.exception("the ledger checkpoint (%s) was not written", reason)
        return False


def as_dict(checkpoint: Checkpoint) -> dict[str, Any]:
    """A checkpoint as reports and exports carry it: its fields and the message signed."""
    return {
        "id": checkpoint.pk,
        "seq": checkpoint.seq,
        "hash": checkpoint.head_hash,
        "created_at": iso_utc(checkpoint.created_at),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
        "reason": checkpoint.reason,
        "algorithm": signing.ALGORITHM,
        "message": message_fields(
            seq=checkpoint.seq,
            head_hash=checkpoint.head_hash,
            created_at=checkpoint.created_at,
            key_id=checkpoint.key_id,
        ),
    }
