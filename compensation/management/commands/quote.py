"""Quote: what is owed for a self-contained set of work (RULES.md §3), printed as JSON. Writes
nothing; compensation runs call the same `quote()`. With the shipped parameters it reads no
records; `--loaded-sheets` adds the rate sheets loaded in the database, as the API does.
`--example <guild>` prints a worked input to start from; a faulty input is refused naming every
faulty field, one per line."""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from compensation.rules.quote import quote
from compensation.rules.quote_input import EXAMPLES
from core.parse import ParseError, ParseErrors


class Command(BaseCommand):
    help = (
        "Compute a quote from a JSON file (or - for stdin) and print {lines, fringes, total, "
        "exceptions, rules_version}; --example sag|wga|iatse prints an input to start from. See "
        "compensation/rules/quote_input.py for the format."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="Quote JSON file, or - for standard input.")
        parser.add_argument(
            "--example",
            choices=sorted(EXAMPLES),
            help="Print a worked example input for this guild (quote it with `quote FILE`).",
        )
        parser.add_argument(
            "--loaded-sheets",
            action="store_true",
            help="Apply the official rate sheets loaded in the database (as the API does).",
        )

    def handle(self, *args, file=None, example=None, loaded_sheets=False, **options):
        if example is not None:
            if file is not None:
                raise CommandError("Give a quote file or --example, not both.")
            self._print(EXAMPLES[example])
            return
        if file is None:
            raise CommandError("Give a quote file (or - for standard input), or --example.")
        body = self._read(file)
        try:
            params = None
            if loaded_sheets:
                from compensation.selectors import current_parameters

                params = current_parameters()
            result = quote(body, params)
        except ParseError as error:
            raise CommandError(describe(error)) from error
        self._print(result.as_dict())

    def _read(self, file: str) -> Any:
        try:
            if file == "-":
                return json.load(sys.stdin)
            with open(file, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the quote: {error}") from error

    def _print(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))


def describe(error: ParseError) -> str:
    """Every faulty field as `field: message`, one per line."""
    errors = error.errors if isinstance(error, ParseErrors) else [error]
    return "\n".join(f"{e.field}: {e.message}" for e in errors)
