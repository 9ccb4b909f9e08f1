"""Demo compensation records for "The Long Light": a block of timecards (one long day with
overtime, a late meal, a week of a weekly performer, background and crew days), a writer's
delivery with AI-generated material handed over, a crew member's AI kit rental, and an approved
run, so that payables exist right after `make run`. The period holds the demo's replica use with
consent (paid) and the one without (held)."""

from datetime import date
from decimal import Decimal

from ledger.access import SYSTEM_SCOPE
from ledger.models import Engagement, Production

from . import review, runs, services
from .models import CompensationRun

PERIOD = (date(2025, 8, 4), date(2025, 9, 5))
DUE = date(2025, 9, 12)
# person, day, call, dismissal, meals
DAYS = [
    ("Ava Delgado", date(2025, 8, 4), "07:00", "19:30", [["13:00", "13:30"]]),
    ("Ava Delgado", date(2025, 8, 5), "07:00", "15:00", [["12:00", "12:30"]]),
    ("Imani Brooks", date(2025, 8, 4), "06:00", "17:00", [["13:30", "14:00"]]),
    ("Priya Raman", date(2025, 8, 6), "08:00", "16:30", [["13:00", "13:30"]]),
    ("Lena Okafor", date(2025, 8, 5), "06:30", "15:00", [["12:00", "12:30"]]),
    ("Nadia Voss", date(2025, 8, 5), "06:30", "15:00", [["12:00", "12:30"]]),
    ("Caleb Stone", date(2025, 8, 5), "06:00", "16:00", [["12:00", "12:30"]]),
    ("Grace Park", date(2025, 8, 4), "06:00", "22:00", [["12:00", "12:30"], ["18:00", "18:30"]]),
    ("Grace Park", date(2025, 8, 5), "07:00", "18:00", [["13:00", "13:30"]]),
]
WEEKLY = ["Jonah Reyes"]


def load(*, actor):
    film = Production.objects.get(title="The Long Light")
    if CompensationRun.objects.filter(production=film).exists():
        return
    engagements = {
        e.person.legal_name: e
        for e in Engagement.objects.filter(production=film).select_related("person")
    }
    for name, day, call, dismissal, meals in DAYS:
        _day(actor, engagements[name], day, call, dismissal, meals)
    for name in WEEKLY:
        for offset in range(5):
            _day(
                actor,
                engagements[name],
                date(2025, 8, 4 + offset),
                "08:00",
                "17:00",
                [["13:00", "14:00"]],
            )
    services.terms_set(
        actor=actor,
        engagement=engagements["Grace Park"],
        wage_classification="first_assistant_camera",
        kit_rental_amount=Decimal("25.00"),
        kit_rental_per="day",
    )
    services.delivery_save(
        actor=actor,
        engagement=engagements["Rosa Lin"],
        work_type="screenplay",
        date=date(2025, 8, 15),
        ai_material_handed_over=True,
        fee=Decimal("45000.00"),
    )
    run = runs.run_start(
        actor=actor, production=film, period_from=PERIOD[0], period_to=PERIOD[1], due_date=DUE
    )
    runs.run_compute(run.pk)
    run.refresh_from_db()
    for key in review.missing(run):  # the review's items, acknowledged as a reviewer would
        review.acknowledge(
            actor=actor,
            run=run,
            key=key,
            note="Demo: reviewed with the demo data; approved as computed.",
            scope=SYSTEM_SCOPE,
        )
    runs.run_approve(actor=actor, run=run)


def _day(actor, engagement, day, call, dismissal, meals):
    services.timecard_save(
        actor=actor,
        engagement=engagement,
        date=day,
        first_call=services.parse_time(call, "first_call"),
        dismissal=services.parse_time(dismissal, "dismissal"),
        meals=meals,
    )
