"""Pseudonymize everything that identifies a person (GDPR Art. 17) and record the erasure.
Exit 1 with the refusal's code (already_erased, payables_due, ...) when it is refused."""

from django.core.management.base import BaseCommand, CommandError

from core.audit import acting_as
from core.errors import DomainError
from privacy.services import person_erase

from ._person import add_common_arguments, person_and_actor


class Command(BaseCommand):
    help = "Erase (pseudonymize) a person's personal data, keeping the payment records."

    def add_arguments(self, parser):
        add_common_arguments(parser)
        parser.add_argument(
            "--reason", required=True, help="The request and its legal basis; name no one."
        )

    def handle(self, *args, person, reason, actor=None, **options):
        person, actor = person_and_actor(person, actor)
        try:
            with acting_as(actor):
                record = person_erase(person=person, actor=actor, reason=reason)
        except DomainError as refusal:
            raise CommandError(f"{refusal.code}: {refusal.message}") from None
        self.stdout.write(
            f"person #{person.pk} erased as {record.pseudonym} (record {record.id}); "
            f"evidence files deleted: {record.evidence_files_deleted}; "
            f"retained: {record.retained or 'nothing'}"
        )
