"""Write everything held about a person as JSON (GDPR Art. 15 and 20) and record the export."""

import json

from django.core.management.base import BaseCommand

from core.audit import acting_as
from privacy.services import person_export_take

from ._person import add_common_arguments, person_and_actor


class Command(BaseCommand):
    help = "Export everything held about a person as JSON (to stdout, or --output FILE)."

    def add_arguments(self, parser):
        add_common_arguments(parser)
        parser.add_argument("--output", help="Write to this file instead of stdout.")

    def handle(self, *args, person, actor=None, output=None, **options):
        person, actor = person_and_actor(person, actor)
        with acting_as(actor):
            export, record = person_export_take(person=person, actor=actor)
        text = json.dumps(export, indent=2, sort_keys=True, ensure_ascii=False)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(f"export of person #{person.pk} written to {output}: {record.sha256}")
        else:
            self.stdout.write(text)
