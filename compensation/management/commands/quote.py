"""Quote: what is owed for a self-contained set of work (RULES.md §3), printed as JSON. Writes
nothing; compensation runs call the same `quote()`. With the shipped parameters it reads no
records; `--loaded-sheets` adds the rate sheets loaded in the database, as the API does."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from compensation.rules.quote import quote
from core.parse import ParseError


class Command(BaseCommand):
    help = (
        "Compute a quote from a JSON file (or - for stdin) and print {lines, fringes, total, "
        "exceptions, rules_version}. See compensation/rules/quote_input.py for the format."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="Quote JSON file, or - for standard input.")
        parser.add_argument(
            "--loaded-sheets",
            action="store_true",
            help="Apply the official rate sheets loaded in the database (as the API does).",
        )

    def handle(self, *args, file, loaded_sheets=False, **options):
        try:
            if file == "-":
                body = json.load(sys.stdin)
            else:
                with open(file, encoding="utf-8") as handle:
                    body = json.load(handle)
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the quote: {error}") from error
        try:
            params = None
            if loaded_sheets:
                from compensation.selectors import current_parameters

                params = current_parameters()
            result = quote(body, params)
        except ParseError as error:
            raise CommandError(f"{error.field}: {error.message}") from error
        self.stdout.write(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
