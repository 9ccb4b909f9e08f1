"""Export a segment of the journal's hash chain for verification outside the product
(verifier/verify_ledger_segment.py): a signed checkpoint, the public key, the hash before the
first exported transaction, and each transaction's canonical body (exactly the JSON that was
hashed) with its hash.

The segment holds a checkpoint: it starts at or before the checkpoint's seq and reaches it, or
starts right after it (then its `prev_hash` is the checkpoint's hash). The checkpoint chosen is
the latest whose signature verifies and that the segment holds."""

import json
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.security import signing
from ledger.journal import chain, checkpoints
from ledger.journal.services import chain_head, hash_header, hash_posting
from ledger.models import Checkpoint, JournalTransaction, Posting

FORMAT = "guild-ledger.segment/1"
BATCH = 2000


class Command(BaseCommand):
    help = "Write a segment of the ledger's hash chain, with a signed checkpoint, as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--from-seq", type=int, required=True, help="First seq exported.")
        parser.add_argument("--to-seq", type=int, help="Last seq exported (default: the head).")
        parser.add_argument("--output", required=True, help="The JSON file to write.")

    def handle(self, *args, from_seq, to_seq=None, output, **options):
        head_seq, _ = chain_head()
        to_seq = head_seq if to_seq is None else to_seq
        if from_seq < 1 or to_seq < from_seq or to_seq > head_seq:
            raise CommandError(
                f"the segment {from_seq}..{to_seq} is not within the chain (1..{head_seq})."
            )
        checkpoint = _checkpoint_within(from_seq, to_seq)
        if checkpoint is None:
            raise CommandError(
                f"no valid signed checkpoint lies within {from_seq}..{to_seq} (or at "
                f"{from_seq - 1}): export a segment that reaches one."
            )
        document = segment(from_seq, to_seq, checkpoint)
        Path(output).write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
        self.stdout.write(
            f"exported #{from_seq}..#{to_seq} ({len(document['transactions'])} transactions) "
            f"with checkpoint {checkpoint.pk} at #{checkpoint.seq} to {output}"
        )


def _checkpoint_within(from_seq: int, to_seq: int) -> Checkpoint | None:
    candidates = Checkpoint.objects.filter(seq__gte=from_seq - 1, seq__lte=to_seq)
    for checkpoint in candidates.order_by("-seq", "-id"):
        if checkpoints.signature_holds(checkpoint):
            return checkpoint
    return None


def segment(from_seq: int, to_seq: int, checkpoint: Checkpoint) -> dict[str, Any]:
    first = JournalTransaction.objects.filter(seq=from_seq).values_list("prev_hash", flat=True)
    transactions: list[dict[str, Any]] = []
    last = from_seq - 1
    while last < to_seq:
        batch = list(
            JournalTransaction.objects.filter(seq__gt=last, seq__lte=to_seq).order_by("seq")[:BATCH]
        )
        if not batch:
            break
        postings: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for posting in Posting.objects.filter(transaction_id__in=[t.id for t in batch]):
            postings.setdefault(posting.transaction_id, []).append(hash_posting(posting))
        for tx in batch:
            body = chain.canonical(hash_header(tx), postings.get(tx.id, []))
            transactions.append({"seq": tx.seq, "body": json.loads(body), "hash": tx.hash})
        last = batch[-1].seq
    return {
        "format": FORMAT,
        "checkpoint": checkpoints.as_dict(checkpoint),
        "public_key": signing.published_keys(),
        "prev_hash": first.first() or chain.GENESIS,
        "transactions": transactions,
    }
