"""Walk the journal's hash chain and report the first transaction that does not match.

A break is any of: a gap or repeat in `seq` (a row removed or inserted behind the
application's back), a `prev_hash` that is not the previous transaction's hash, or a stored hash
that differs from the hash of the row and its postings as they are now (a row altered)."""

import uuid
from dataclasses import dataclass
from typing import Any

from core.security.events import security_event
from ledger.journal import chain
from ledger.journal.services import hash_header, hash_posting
from ledger.models import JournalTransaction, Posting

BATCH = 2000


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    broken_id: str | None = None
    reason: str = ""


def verify_chain() -> ChainReport:
    expected_seq, prev_hash, checked = 1, chain.GENESIS, 0
    last = 0
    while True:
        batch = list(JournalTransaction.objects.filter(seq__gt=last).order_by("seq")[:BATCH])
        if not batch:
            return ChainReport(True, checked, expected_seq - 1, prev_hash)
        postings: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for posting in Posting.objects.filter(transaction_id__in=[t.id for t in batch]):
            postings.setdefault(posting.transaction_id, []).append(hash_posting(posting))
        for tx in batch:
            reason = _break(tx, expected_seq, prev_hash, postings.get(tx.id, []))
            if reason:
                security_event(
                    "ledger.tamper_detected",
                    actor="system",
                    object=tx,
                    outcome="detected",
                    seq=tx.seq,
                    reason=reason,
                )
                return ChainReport(
                    False, checked, expected_seq - 1, prev_hash, tx.seq, str(tx.id), reason
                )
            checked += 1
            expected_seq, prev_hash = tx.seq + 1, tx.hash
        last = batch[-1].seq


def _break(tx, expected_seq, prev_hash, postings) -> str:
    if tx.seq != expected_seq:
        return f"expected seq {expected_seq}, found {tx.seq}: a transaction is missing"
    if tx.prev_hash != prev_hash:
        return "prev_hash is not the previous transaction's hash"
    if chain.link_hash(prev_hash, hash_header(tx), postings) != tx.hash:
        return "the transaction or its postings changed after they were written"
    return ""
