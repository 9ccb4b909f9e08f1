"""Demo residuals for "Harbor Nights": episode 101, shot in July 2026, exhibited on a streaming
service from 1 August 2026, with the figures reported to 30 November 2026; a writer's credit, the
performers' days on the episode, a residual schedule for each union agreement, and an approved
residual run, so that residual lines, person and fund payables with their due dates, and a
statement exist right after `make run`.

The schedules' figures are illustrative, loaded as tier T (unverified) so that every line they
give is flagged `needs_confirmation`: the product ships no residual figure (RULES.md §3), and a
studio loads the guild's own schedule before computing real residuals."""

import json
from datetime import date
from decimal import Decimal
from typing import Any

from compensation import review, runs
from compensation.models import CompensationRun, ResidualSchedule
from compensation.services import parse_time, timecard_save
from ledger.access import SYSTEM_SCOPE
from ledger.models import Agreement, Engagement, Production

from .exhibitions import credit_save, exhibition_save
from .schedules import schedule_load

EPISODE = "101"
PERIOD = (date(2026, 8, 1), date(2026, 11, 30))
SCHEDULE_NAME = "Demo residual schedule (illustrative figures)"
SCHEDULE_SOURCE = (
    "Demo data: illustrative figures, not a guild's schedule. Load the guild's residual "
    "schedule before computing real residuals."
)
FIGURES = {
    "bases": {"episode:30": "12000.00", "episode:60": "24000.00"},
    "subscriber_factors": {"tier_1": "0.65", "tier_2": "1"},
    "exhibition_year_percent": {"1:domestic": "10", "1:foreign": "4"},
    "gross_receipts_percent": {"supplemental_markets:foreign": "2"},
}
SCHEDULES = [("sag-tvth-2026", date(2026, 7, 1)), ("wga-mba-2026", date(2026, 5, 2))]
# person, day, call, dismissal, meals
DAYS = [
    ("Ava Delgado", date(2026, 7, 7), "07:00", "17:00", [["12:30", "13:00"]]),
    ("Ava Delgado", date(2026, 7, 8), "07:00", "16:00", [["12:30", "13:00"]]),
    ("Imani Brooks", date(2026, 7, 8), "08:00", "16:00", [["13:00", "13:30"]]),
]
WRITER = "Rosa Lin"


def load(*, actor):
    series = Production.objects.get(title="Harbor Nights")
    if CompensationRun.objects.filter(production=series, kind="residuals").exists():
        return
    engagements = {
        e.person.legal_name: e
        for e in Engagement.objects.filter(production=series).select_related("person")
    }
    for code, effective_from in SCHEDULES:
        if not ResidualSchedule.objects.filter(agreement__code=code, name=SCHEDULE_NAME).exists():
            schedule_load(
                actor=actor,
                agreement=Agreement.objects.get(code=code),
                name=SCHEDULE_NAME,
                source=SCHEDULE_SOURCE,
                effective_from=effective_from,
                file_name="demo-residual-schedule.json",
                file_format="json",
                content=json.dumps(FIGURES),
                tier="T",
            )
    for name, day, call, dismissal, meals in DAYS:
        timecard_save(
            actor=actor,
            engagement=engagements[name],
            date=day,
            first_call=parse_time(call, "first_call"),
            dismissal=parse_time(dismissal, "dismissal"),
            meals=meals,
            episode=EPISODE,
        )
    credit_save(
        actor=actor, engagement=engagements[WRITER], episode=EPISODE, credit_kind="written_by"
    )
    exhibition: dict[str, Any] = {
        "production": series,
        "episode": EPISODE,
        "work_type": "episode",
        "running_minutes": 60,
        "period_from": PERIOD[0],
    }
    exhibition_save(
        actor=actor,
        **exhibition,
        market="hbsvod",
        territory="worldwide",
        service="Harborline+",
        subscriber_tier="tier_2",
        exhibition_year=1,
        period_to=PERIOD[1],
        views_first_90_days=Decimal("2400000"),
        domestic_subscribers=11_000_000,
    )
    exhibition_save(
        actor=actor,
        **exhibition,
        market="supplemental_markets",
        territory="foreign",
        period_to=date(2026, 10, 31),
        gross_receipts=Decimal("180000.00"),
        first_period=True,
    )
    run = runs.residual_run_start(
        actor=actor, production=series, period_from=PERIOD[0], period_to=PERIOD[1]
    )
    runs.run_compute(run.pk)
    run.refresh_from_db()
    for key in review.missing(run):  # the review's items, acknowledged as a reviewer would
        review.acknowledge(
            actor=actor,
            run=run,
            key=key,
            note="Demo: the illustrative schedule's figures (tier T), as the demo loads them.",
            scope=SYSTEM_SCOPE,
        )
    runs.run_approve(actor=actor, run=run)
