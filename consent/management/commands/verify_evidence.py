"""Recheck every consent's evidence document against the SHA-256 recorded at upload. Exit 0 when
every file is intact; 1, listing each changed or missing file, otherwise."""

from django.core.management.base import BaseCommand

from consent.evidence import evidence_problems


class Command(BaseCommand):
    help = "Recompute the SHA-256 of every consent's evidence file and compare with the record."

    def handle(self, *args, **options):
        checked, problems = evidence_problems()
        for consent_id, path, problem in problems:
            self.stderr.write(f"consent #{consent_id}: {path}: {problem}")
        if problems:
            self.stderr.write(
                f"evidence BROKEN: {len(problems)} of {checked} documents changed or missing."
            )
            raise SystemExit(1)
        self.stdout.write(f"evidence intact: {checked} documents match their recorded SHA-256.")
