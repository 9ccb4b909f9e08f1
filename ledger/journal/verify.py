"""Walk the journal's hash chain and report the first transaction that does not match.

A break is any of: a gap or repeat in `seq` (a row removed or inserted behind the
application's back), a `prev_hash` that is not the previous transaction's hash, or a stored hash
that differs from the hash of the row and its postings as they are now (a row altered).

Two modes. **Incremental** (the default): start from the latest signed checkpoint
(ledger.journal.checkpoints) whose signature verifies with the installation's key, check that
the transaction at its seq still carries exactly the hash signed and that its own link
recomputes, then walk only what was appended after it. It proves that everything after the
checkpoint is unaltered and links to it; what lies before rests on the signature (and on the
full mode). **Full**: walk from genesis, and check every checkpoint: its signature, and that the
hash it signed is the chain's hash at its seq. A checkpoint whose signature does not verify is a
security event, reported, and never a starting point."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from core.security.events import security_event
from ledger.journal import chain
from ledger.journal.checkpoints import signature_holds
from ledger.journal.services import hash_header, hash_posting
from ledger.models import Checkpoint, JournalTransaction, Posting

BATCH = 2000
INCREMENTAL, FULL = "incremental", "full"


@dataclass(frozen=True)
class BadCheckpoint:
    id: int
    seq: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    broken_id: str | None = None
    reason: str = ""
    mode: str = INCREMENTAL
    # The checkpoint verification started from (incremental); None: from genesis.
    checkpoint: Checkpoint | None = None
    # Checkpoints whose signature failed, or (full) whose hash is not the chain's at their seq.
    bad_checkpoints: tuple[BadCheckpoint, ...] = field(default=())

    @property
    def chain_intact(self) -> bool:
        return self.broken_seq is None

    @property
    def start(self) -> str:
        if self.mode == FULL:
            return "from genesis"
        if self.checkpoint is None:
            return "from genesis (no valid checkpoint)"
        return f"from checkpoint {self.checkpoint.pk} at #{self.checkpoint.seq}"


def verify_chain(*, full: bool = False) -> ChainReport:
    """Verify the chain incrementally from the latest valid checkpoint, or (`full`) from
    genesis with every checkpoint checked too."""
    return _full() if full else _incremental()


def _incremental() -> ChainReport:
    bad: list[BadCheckpoint] = []
    start = None
    for checkpoint in Checkpoint.objects.order_by("-seq", "-id").iterator():
        if signature_holds(checkpoint):
            start = checkpoint
            break
        bad.append(_bad_signature(checkpoint))
    if start is None:
        return _walk(INCREMENTAL, None, 1, chain.GENESIS, {}, bad)
    anchor = JournalTransaction.objects.filter(seq=start.seq).first()
    reason = ""
    if anchor is None:
        reason = f"the transaction #{start.seq} that checkpoint {start.pk} signed is missing"
    elif anchor.hash != start.head_hash:
        reason = f"the transaction does not carry the hash checkpoint {start.pk} signed"
    else:
        postings = [hash_posting(p) for p in Posting.objects.filter(transaction=anchor)]
        if chain.link_hash(anchor.prev_hash, hash_header(anchor), postings) != anchor.hash:
            reason = "the transaction or its postings changed after they were written"
    if reason:
        return _broken(INCREMENTAL, start, anchor, start.seq, 0, 0, chain.GENESIS, reason, bad)
    return _walk(INCREMENTAL, start, start.seq + 1, start.head_hash, {}, bad, checked=1)


def _full() -> ChainReport:
    bad: list[BadCheckpoint] = []
    by_seq: dict[int, list[Checkpoint]] = {}
    for checkpoint in Checkpoint.objects.order_by("seq", "id").iterator():
        if signature_holds(checkpoint):
            by_seq.setdefault(checkpoint.seq, []).append(checkpoint)
        else:
            bad.append(_bad_signature(checkpoint))
    return _walk(FULL, None, 1, chain.GENESIS, by_seq, bad)


def _walk(
    mode: str,
    start: Checkpoint | None,
    expected_seq: int,
    prev_hash: str,
    checkpoints: dict[int, list[Checkpoint]],
    bad: list[BadCheckpoint],
    checked: int = 0,
) -> ChainReport:
    last = expected_seq - 1
    while True:
        batch = list(JournalTransaction.objects.filter(seq__gt=last).order_by("seq")[:BATCH])
        if not batch:
            break
        postings: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for posting in Posting.objects.filter(transaction_id__in=[t.id for t in batch]):
            postings.setdefault(posting.transaction_id, []).append(hash_posting(posting))
        for tx in batch:
            reason = _break(tx, expected_seq, prev_hash, postings.get(tx.id, []))
            if not reason:
                reason = _signed_elsewhere(tx, checkpoints.pop(tx.seq, []))
            if reason:
                return _broken(
                    mode, start, tx, tx.seq, checked, expected_seq - 1, prev_hash, reason, bad
                )
            checked += 1
            expected_seq, prev_hash = tx.seq + 1, tx.hash
        last = batch[-1].seq
    if checkpoints:
        # Signed at a seq the chain no longer reaches: transactions were removed from its end.
        seq = min(checkpoints)
        checkpoint = checkpoints[seq][0]
        reason = f"checkpoint {checkpoint.pk} signed #{seq}, past the chain's end"
        return _broken(mode, start, None, seq, checked, expected_seq - 1, prev_hash, reason, bad)
    return ChainReport(
        not bad, checked, expected_seq - 1, prev_hash, None, None, "", mode, start, tuple(bad)
    )


def _signed_elsewhere(tx: JournalTransaction, checkpoints: list[Checkpoint]) -> str:
    for checkpoint in checkpoints:
        if checkpoint.head_hash != tx.hash:
            return (
                f"the chain's hash here is not the one checkpoint {checkpoint.pk} signed: "
                "the chain was rewritten"
            )
    return ""


def _broken(
    mode: str,
    start: Checkpoint | None,
    tx: JournalTransaction | None,
    seq: int,
    checked: int,
    head_seq: int,
    head_hash: str,
    reason: str,
    bad: list[BadCheckpoint],
) -> ChainReport:
    security_event(
        "ledger.tamper_detected",
        actor="system",
        object=tx if tx is not None else f"journaltransaction:seq-{seq}",
        outcome="detected",
        seq=seq,
        reason=reason,
    )
    return ChainReport(
        False,
        checked,
        head_seq,
        head_hash,
        seq,
        str(tx.id) if tx is not None else None,
        reason,
        mode,
        start,
        tuple(bad),
    )


def _bad_signature(checkpoint: Checkpoint) -> BadCheckpoint:
    reason = "its signature does not verify with the installation's key"
    security_event(
        "ledger.checkpoint_invalid",
        actor="system",
        object=f"checkpoint:{checkpoint.pk}",
        outcome="detected",
        seq=checkpoint.seq,
        reason=reason,
    )
    return BadCheckpoint(checkpoint.pk, checkpoint.seq, reason)


def _break(tx, expected_seq, prev_hash, postings) -> str:
    if tx.seq != expected_seq:
        return f"expected seq {expected_seq}, found {tx.seq}: a transaction is missing"
    if tx.prev_hash != prev_hash:
        return "prev_hash is not the previous transaction's hash"
    if chain.link_hash(prev_hash, hash_header(tx), postings) != tx.hash:
        return "the transaction or its postings changed after they were written"
    return ""
