"""Verify the journal's hash chain. Exit 0 when intact; 1, naming the first broken transaction,
when a row was altered, removed or inserted behind the application's back."""

from django.core.management.base import BaseCommand

from ledger.journal.verify import verify_chain


class Command(BaseCommand):
    help = "Walk the journal's hash chain; exit non-zero at the first transaction that fails."

    def add_arguments(self, parser):
        parser.add_argument(
            "--head", action="store_true", help="Print only the chain head (seq and hash)."
        )

    def handle(self, *args, head=False, **options):
        report = verify_chain()
        if head:
            self.stdout.write(f"{report.head_seq} {report.head_hash}")
        elif report.ok:
            self.stdout.write(
                f"ledger chain intact: {report.checked} transactions; "
                f"head #{report.head_seq} {report.head_hash}"
            )
        if not report.ok:
            self.stderr.write(
                f"ledger chain BROKEN at transaction #{report.broken_seq} ({report.broken_id}): "
                f"{report.reason}. {report.checked} transactions before it verified."
            )
            raise SystemExit(1)
