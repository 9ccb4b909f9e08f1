"""A payroll world for the live-server fault tests and the load bench: one studio, one production,
`payables` day performers each owed one large payable (so that many small payments never exceed
what is due), and a payroll API key for the studio.

`python -m tests.live_world --payables=N` builds it in the database DATABASE_URL names and prints
one JSON line: {"api_key", "payables": [ids], "studio"}.
"""

import argparse
import json
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal

OWED = Decimal("1000000.00")


@dataclass
class PayrollWorld:
    api_key: str
    payables: list[int]
    studio: int


def build_payables(payables: int, *, slug: str = "live-pictures") -> PayrollWorld:
    from core.audit import acting_as, system_user
    from ledger.journal import services as journal_services
    from tests import factories as f

    actor = system_user()
    with acting_as(actor):
        studio = f.StudioFactory(name="Live Pictures", slug=slug)
        production = f.ProductionFactory(studio=studio, title="Live Production")
        ids = []
        for n in range(payables):
            person = f.PersonFactory(registered_by=studio, legal_name=f"Live Performer {n:05d}")
            engagement = f.EngagementFactory(person=person, production=production)
            payable = journal_services.payable_create(
                actor=actor,
                production=production,
                person=person,
                engagement=engagement,
                rule="sag.pay.day",
                description="Day pay",
                amount=OWED,
                currency="USD",
                period_from=date(2025, 8, 1),
                period_to=date(2025, 8, 1),
                due_date=date(2025, 8, 8),
                source_type="live",
                source_id=str(engagement.pk),
            )
            ids.append(payable.pk)
    _, raw = f.payroll_key(studio, name=f"{slug}-payroll")
    return PayrollWorld(raw, ids, studio.pk)


def main():
    import django

    django.setup()
    parser = argparse.ArgumentParser()
    parser.add_argument("--payables", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(asdict(build_payables(args.payables))))


if __name__ == "__main__":
    main()
