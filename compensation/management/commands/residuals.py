"""Residuals what-if (RULES.md §3 Residuals): the residual lines of a work's exhibitions under a
residual schedule given in the file, printed as JSON. Writes nothing and reads no records."""

import json
import sys
from argparse import RawDescriptionHelpFormatter

from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter

from compensation.rules.residuals.engine import residuals
from core.parse import ParseError

FORMAT = """
The file is one JSON object (amounts, percentages and days are decimal strings):
  agreement     sag-tvth-2023 | sag-tvth-2026 | wga-mba-2023 | wga-mba-2026
  work          {title, type, running_minutes}
  schedule      {name, source, tier (P|S|T|D), currency (default USD), due_rule (optional:
                 syndication | basic_cable | supplemental_markets, for HBSVOD),
                 bases {"<work type>:<minutes up to>": amount},
                 subscriber_factors {"<tier>": factor},
                 exhibition_year_percent {"<year>:domestic|foreign": percent},
                 gross_receipts_percent {"<market>:domestic|foreign": percent}}
  exhibitions   [{market, period_from, period_to, ...}] where market is
                 hbsvod: territory (worldwide | domestic | foreign), service, subscriber_tier,
                   exhibition_year; for the success bonus hours_streamed_first_90_days or
                   views_first_90_days, with domestic_subscribers (as of July 1)
                 network_tv: territory, gross_receipts, broadcast_on
                 syndication: territory, gross_receipts, broadcast_on (optional)
                 basic_cable: territory, gross_receipts
                 supplemental_markets: territory, gross_receipts, first_period (true|false)
  participants  [{id, role: writer, credit: written_by | story_by | screenplay_by |
                  teleplay_by | adaptation_by}] under a WGA agreement, or
                [{id, role: performer, days_in_person, replica_days}] under SAG-AFTRA
Unknown keys are refused. A factor the schedule lacks is a rate_missing exception naming the
schedule key and date. Full description: compensation/rules/residuals/input.py.
"""


class Command(BaseCommand):
    help = (
        "Compute the residuals of a what-if JSON file (or - for stdin) and print {lines, total, "
        "exceptions}. Writes nothing, needs no database." + FORMAT
    )
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        """Keep the format's line breaks in --help."""

        class Formatter(DjangoHelpFormatter, RawDescriptionHelpFormatter):
            pass

        kwargs.setdefault("formatter_class", Formatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("file", help="Residual what-if JSON file, or - for standard input.")

    def handle(self, *args, file, **options):
        try:
            if file == "-":
                body = json.load(sys.stdin)
            else:
                with open(file, encoding="utf-8") as handle:
                    body = json.load(handle)
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the what-if file: {error}") from error
        try:
            result = residuals(body)
        except ParseError as error:
            raise CommandError(f"{error.field}: {error.message}") from error
        self.stdout.write(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
