"""Verify the journal's hash chain. Exit 0 when intact; 1, naming the first broken transaction,
when a row was altered, removed or inserted behind the application's back, or when a signed
checkpoint's signature does not verify.

By default incrementally, from the latest checkpoint whose signature verifies; `--full` walks
from genesis and checks every checkpoint too (ledger.journal.verify)."""

from django.core.management.base import BaseCommand

from ledger.journal.verify import verify_chain


class Command(BaseCommand):
    help = (
        "Walk the journal's hash chain (from the latest valid signed checkpoint, or from genesis "
        "with --full); exit non-zero at the first transaction that fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--head", action="store_true", help="Print only the chain head (seq and hash)."
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="Walk from genesis and check every checkpoint's signature and hash.",
        )

    def handle(self, *args, head=False, full=False, **options):
        report = verify_chain(full=full)
        if head:
            self.stdout.write(f"{report.head_seq} {report.head_hash}")
        elif report.chain_intact:
            self.stdout.write(
                f"ledger chain intact: {report.checked} transactions checked "
                f"({report.mode}, {report.start}); head #{report.head_seq} {report.head_hash}"
            )
        for bad in report.bad_checkpoints:
            self.stderr.write(f"checkpoint {bad.id} at #{bad.seq} is INVALID: {bad.reason}.")
        if not report.chain_intact:
            self.stderr.write(
                f"ledger chain BROKEN at transaction #{report.broken_seq} ({report.broken_id}): "
                f"{report.reason}. {report.checked} transactions before it verified "
                f"({report.mode}, {report.start})."
            )
        if not report.ok:
            raise SystemExit(1)
