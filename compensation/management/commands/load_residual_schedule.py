"""Load a residual schedule for a SAG-AFTRA or WGA agreement: `manage.py load_residual_schedule
wga-mba-2023 hbsvod.csv --name "WGA HBSVOD residuals" --source "…" --effective-from 2025-01-01`.
Prints the schedule loaded (version, figures, hash); a faulty file is refused with every problem
and nothing is written. `--template` prints the CSV template instead."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compensation.api import MAX_UPLOAD_BYTES
from compensation.models import EvidenceTier, ResidualSchedule
from compensation.residuals import schedules
from compensation.rules.residuals.due import HBSVOD_DUE_RULES
from core.audit import acting_as, system_user
from core.errors import DomainError
from core.money import Currency
from core.parse import ParseError, parse_date
from ledger.models import Agreement


class Command(BaseCommand):
    help = (
        "Load a residual schedule (CSV kind,key,value or JSON) for a SAG-AFTRA or WGA agreement, "
        "in force from --effective-from."
    )

    def add_arguments(self, parser):
        parser.add_argument("agreement", nargs="?", help="The agreement's code, e.g. wga-mba-2023.")
        parser.add_argument("file", nargs="?", help="The schedule: .csv or .json.")
        parser.add_argument(
            "--name",
            help="The schedule's name; a new load of the same name is its next version.",
        )
        parser.add_argument("--source", help="Where the figures come from.")
        parser.add_argument(
            "--effective-from", help="In force for exhibitions from this date (YYYY-MM-DD)."
        )
        parser.add_argument("--tier", default="P", choices=[t for t, _ in EvidenceTier])
        parser.add_argument("--currency", default="USD", choices=Currency.values)
        parser.add_argument(
            "--due-rule",
            choices=HBSVOD_DUE_RULES,
            help="The market whose due dates the HBSVOD residual follows (default: supplemental "
            "markets).",
        )
        parser.add_argument(
            "--format",
            choices=ResidualSchedule.Format.values,
            help="Default: json for a .json file, else csv.",
        )
        parser.add_argument(
            "--template", action="store_true", help="Print the CSV template and load nothing."
        )

    def handle(self, *args, **options):
        if options["template"]:
            self.stdout.write(schedules.SCHEDULE_TEMPLATE_CSV, ending="")
            return
        needed = {
            "agreement": "agreement",
            "file": "file",
            "name": "--name",
            "source": "--source",
            "effective_from": "--effective-from",
        }
        missing = [label for key, label in needed.items() if not options[key]]
        if missing:
            raise CommandError(f"Needed: {', '.join(missing)}.")
        agreement = (
            Agreement.objects.filter(code=options["agreement"]).select_related("guild").first()
        )
        if agreement is None:
            raise CommandError(f"No agreement {options['agreement']!r}.")
        try:
            effective_from = parse_date(options["effective_from"], field="effective_from")
        except ParseError as error:
            raise CommandError(f"--effective-from: {error.message}") from None
        path = Path(options["file"])
        try:
            if path.stat().st_size > MAX_UPLOAD_BYTES:
                raise CommandError(f"{path}: at most {MAX_UPLOAD_BYTES} bytes.")
            content = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        actor = system_user()
        try:
            with acting_as(actor):
                row = schedules.schedule_load(
                    actor=actor,
                    agreement=agreement,
                    name=options["name"],
                    source=options["source"],
                    effective_from=effective_from,
                    tier=options["tier"],
                    currency=options["currency"],
                    due_rule=options["due_rule"],
                    file_name=path.name,
                    file_format=options["format"]
                    or ("json" if path.suffix.lower() == ".json" else "csv"),
                    content=content,
                )
        except DomainError as error:
            problems = error.fields.get("file")
            if not isinstance(problems, list):
                raise CommandError(error.message) from None
            lines = ["The residual schedule was not loaded:", *(f"  {p}" for p in problems)]
            raise CommandError("\n".join(lines)) from None
        count = sum(len(v) for v in row.figures.values() if isinstance(v, dict))
        self.stdout.write(
            f"Loaded {row.label}: {count} figure(s), in force from {row.effective_from}, "
            f"sha256 {row.sha256}"
        )
