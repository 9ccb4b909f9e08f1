"""What-if consent check: decide a self-contained scenario file and print the decision as JSON,
its warnings included. Reads no records and writes nothing; the API's check calls the same pure
function."""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent import whatif
from consent.rules import CheckInputError
from core.parse import ParseError


class Command(BaseCommand):
    help = (
        "Decide a consent scenario (JSON file, or - for stdin) and print "
        '{"allowed", "consent", "rules", "reasons", "agreement", "warnings"} (warnings: advisory '
        "and needs-confirmation notes, which never refuse). Exit 0 when allowed, 3 when refused, "
        "1 on a malformed file. See consent/whatif.py for the file format."
    )
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Scenario JSON file, or - for standard input.")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            if file == "-":
                scenario = json.load(sys.stdin)
            else:
                with open(file, encoding="utf-8") as handle:
                    scenario = json.load(handle)
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the scenario: {error}") from error
        try:
            decision = whatif.decide(scenario)
        except (ParseError, CheckInputError) as error:
            raise CommandError(f"{error.field or 'scenario'}: {error.message}") from error
        self.stdout.write(json.dumps(decision.as_dict(), indent=2))
        if not decision.allowed:
            raise SystemExit(3)
