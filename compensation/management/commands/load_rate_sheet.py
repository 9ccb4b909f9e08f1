"""Load an official rate sheet for an agreement: `manage.py load_rate_sheet sag-tvth-2023
rates.csv --name "SAG-AFTRA TV/Theatrical rates 2025" --source "…"`. Prints the sheet loaded
(version and hash); a faulty sheet is refused with every problem and nothing is written."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compensation import services
from compensation.models import EvidenceTier
from core.audit import acting_as, system_user
from core.errors import DomainError
from ledger.models import Agreement


class Command(BaseCommand):
    help = "Load an official rate sheet (CSV or JSON) for an agreement."

    def add_arguments(self, parser):
        parser.add_argument("agreement", help="The agreement's code, e.g. sag-tvth-2023.")
        parser.add_argument("file", help="The sheet: .csv, or .json in the parameter-file format.")
        parser.add_argument(
            "--name",
            required=True,
            help="The sheet's name; a new load of the same name is its next version.",
        )
        parser.add_argument("--source", required=True, help="Where the sheet comes from.")
        parser.add_argument("--tier", default="P", choices=[t for t, _ in EvidenceTier])

    def handle(self, *args, **options):
        agreement = (
            Agreement.objects.filter(code=options["agreement"]).select_related("guild").first()
        )
        if agreement is None:
            raise CommandError(f"No agreement {options['agreement']!r}.")
        path = Path(options["file"])
        try:
            content = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        actor = system_user()
        try:
            with acting_as(actor):
                sheet = services.rate_sheet_load(
                    actor=actor,
                    agreement=agreement,
                    name=options["name"],
                    source=options["source"],
                    tier=options["tier"],
                    file_name=path.name,
                    file_format="json" if path.suffix.lower() == ".json" else "csv",
                    content=content,
                )
        except DomainError as error:
            problems = error.fields.get("file") or []
            raise CommandError("\n".join([error.message, *map(str, problems)])) from None
        self.stdout.write(
            f"Loaded {sheet.label}: {sheet.values.count()} value(s), sha256 {sheet.sha256}"
        )
