"""The compensation rules in words (RULES.md §3): every rule id a computed line cites, with the rule
as RULES.md states it, its family of agreements, its evidence tier where RULES.md gives one, and the
rate parameters it reads (`parameters/`, read by params.py), and the residual rules of §3, which
the residual engine computes (compensation/residuals, `manage.py residuals`). Pure data, no
Django: the rules reference (reports.rules_reference) is generated from it, and a test holds it to
the ids the code cites.
"""

from consent.rules.rule_book import ALL, IATSE, SAG, WGA, Rule

_SAG_MINIMUMS = (
    "sag.minimum.day_performer",
    "sag.minimum.weekly_performer",
    "sag.minimum.background",
    "sag.minimum.stand_in",
)
# The minimums are supplied only by a loaded rate sheet (params.SCHEDULE_PREFIXES): none is
# shipped; the 2026 raises derive a minimum from the latest loaded one.
_WGA_MINIMUM = ("wga.minimum.<work_type>", "wga.raise.minimum")
_IATSE_SCHEDULE = (
    "iatse.scale.<classification>",
    "iatse.<classification>.overtime_after_hours",
    "iatse.<classification>.overtime_multiplier",
    "iatse.<classification>.overtime2_after_hours",
    "iatse.<classification>.overtime2_multiplier",
)

_SAG = "RULES.md §3 SAG-AFTRA TV/Theatrical; evidence.md §1.3, §2.1"
_WGA = "RULES.md §3 WGA MBA; evidence.md §3.2"
_IATSE = "RULES.md §3 IATSE Basic Agreement 2024; evidence.md §4.2"
_RESIDUALS = "RULES.md §3 Residuals; evidence.md §9"

PAY_RULES: tuple[Rule, ...] = (
    Rule(
        "sag.pay.day",
        SAG,
        "Day pay",
        "A day performer earns max(negotiated daily rate, day-performer minimum) for an 8-hour "
        "day; background actors and stand-ins at least their own minimum. Minimums marked D are "
        "the previous rate times the raise, rounded to the dollar: confirm against the official "
        "rate sheet.",
        _SAG,
        parameters=(
            "sag.minimum.day_performer",
            "sag.minimum.background",
            "sag.minimum.stand_in",
        ),
    ),
    Rule(
        "sag.pay.weekly",
        SAG,
        "Weekly pay",
        "A weekly performer earns max(negotiated weekly rate, weekly-performer minimum) per "
        "week. Pro-rata daily = weekly ÷ 5.",
        _SAG,
        parameters=("sag.minimum.weekly_performer",),
    ),
    Rule(
        "sag.pay.overtime",
        SAG,
        "Overtime",
        "Work time runs from first call to dismissal less meal periods, rounded up to the next "
        "tenth of an hour. For a day performer: hours 9 and 10 at 1.5 × (daily ÷ 8), beyond 10 "
        "at 2 × (daily ÷ 8). A performer whose daily rate exceeds the money break (2 × day "
        "minimum) gets no overtime for hours 9 and 10 and 1.5 × (money break ÷ 8) beyond 10.",
        _SAG,
        parameters=(
            "sag.overtime.day_hours",
            "sag.overtime.time_and_a_half_until",
            "sag.overtime.first_multiplier",
            "sag.overtime.after_multiplier",
            "sag.overtime.money_break_multiple",
            "sag.minimum.day_performer",
        ),
    ),
    Rule(
        "sag.pay.meal_penalty",
        SAG,
        "Meal penalty",
        "First meal due within 6 hours of call, later meals within 6 hours of the previous "
        "meal's end. Each late half hour or part: $25.00 for the 1st and 2nd, $50.00 for each "
        "after.",
        _SAG,
        parameters=(
            "sag.meal.due_after_hours",
            "sag.meal_penalty.first_two",
            "sag.meal_penalty.after",
        ),
    ),
    Rule(
        "sag.pay.ebdr_creation",
        SAG,
        "Replica creation (scan)",
        "A scan on a day with no other work pays one day at max(pro-rata daily, day minimum); a "
        "scan session of 4 hours or less arranged for the performer's convenience pays half of "
        "that (tier T). A scan on a work day is work time that day.",
        _SAG,
        parameters=(
            *_SAG_MINIMUMS,
            "sag.scan.convenience_max_hours",
            "sag.scan.convenience_fraction",
        ),
    ),
    Rule(
        "sag.pay.ebdr_use",
        SAG,
        "Replica use in the same production",
        "Using the replica in the same production pays, for each day the performer would have "
        "worked, max(pro-rata daily, day minimum). The line carries a residuals flag.",
        _SAG,
        parameters=_SAG_MINIMUMS,
    ),
    Rule(
        "sag.pay.bargained_use",
        SAG,
        "Bargained use (another production, ICDR)",
        "Use in another production and ICDR use pay the bargained amount entered on the "
        "consent; a missing amount is a rate_missing exception, an amount under one day minimum "
        "is flagged. Under sag-tvth-2026 an ICDR use pays the bargained amount but not less than "
        "the ICDR minimum (sag.minimum.icdr: the 2026 figure was not found, so it is "
        "rate_missing until a rate sheet supplies it), and its line carries the residuals flag.",
        _SAG + "; §9 (2026 ICDR)",
        parameters=("sag.minimum.day_performer", "sag.minimum.icdr"),
    ),
    Rule(
        "sag.ph",
        SAG,
        "Pension and health",
        "Pension and health: 21% of covered pay for principals, 20.5% for background, capped "
        "per performer per production (theatrical) or per episode (television) at the cap in "
        "force. The plans merge by 2028-01-01; the extra 1% from 2026-07-01 is disputed (health "
        "or pension), so P&H lines from that date carry needs_confirmation.",
        _SAG + "; §9 (2026 P&H)",
        parameters=(
            "sag.ph.rate.principal",
            "sag.ph.rate.background",
            "sag.ph.cap.theatrical",
            "sag.ph.cap.tv.half_hour",
            "sag.ph.cap.tv.one_hour",
            "sag.ph.cap.tv.90_minutes",
            "sag.ph.cap.tv.2_hours",
        ),
    ),
    Rule(
        "wga.pay.first_writer",
        WGA,
        "AI material: paid as first writer",
        "Material the company generated with AI is neither source material nor assigned "
        "material: a writer given it is paid and credited as the first writer (the applicable "
        "minimum for original work, not a rewrite or polish fee).",
        "RULES.md §3 WGA MBA; evidence.md §3.1",
        parameters=_WGA_MINIMUM,
    ),
    Rule(
        "wga.pay.minimum",
        WGA,
        "Minimum pay",
        "Pay is at least the minimum for the work type and budget in the loaded schedule of "
        "minimums; no schedule loaded for the date is rate_missing. Under wga-mba-2026 minimums "
        "rise 1.5% on 2026-05-02, then 3% on 2027-05-02, 2028-05-02 and 2029-05-02: when the "
        "latest loaded schedule predates a raise, the raised minimum is derived (tier D, "
        "needs_confirmation, rounded to the dollar); a schedule loaded for the later date "
        "supersedes it.",
        _WGA + ", §9 (2026 minimums)",
        parameters=_WGA_MINIMUM,
    ),
    Rule(
        "wga.ph",
        WGA,
        "Health fund and pension plan",
        "Health fund: 11.5% of reportable compensation until 2024-05-01, 12% from 2024-05-02 "
        "(P). Pension plan: 8.5% (S, 2020 figure). Each member of a writing team contributes as "
        "a sole writer. Under wga-mba-2026 the health fund is 16.75% from 2027-05-02 (S); the "
        "rate from 2026-05-02 to 2027-05-01 was not found, so it is rate_missing until loaded. The "
        "screen-project contribution ceiling rises to $400,000 by 2028-05-02 (S; earlier values "
        "not found).",
        _WGA + ", §9 (2026 health)",
        tier="P/S",
        parameters=("wga.health.rate", "wga.pension.rate", "wga.ph.cap.screen"),
    ),
    Rule(
        "iatse.pay.hourly",
        IATSE,
        "Hourly pay and overtime",
        "Hourly pay at max(negotiated rate, scale for the classification in the loaded wage "
        "schedule). Daily overtime thresholds and multipliers are parameters of the "
        "classification's wage schedule, loaded from the local's agreement; none loaded is "
        "rate_missing.",
        _IATSE,
        parameters=_IATSE_SCHEDULE,
    ),
    Rule(
        "iatse.pay.triple_time",
        IATSE,
        "Triple time after 15 elapsed hours",
        "Hours beyond 15 elapsed hours (call to dismissal, meals included) in a workday are "
        "paid at 3 × the hourly rate, in place of their normal rate (from 2024-08-04).",
        _IATSE,
        parameters=(
            "iatse.triple_time.after_elapsed_hours",
            "iatse.triple_time.multiplier",
            "iatse.rest_violation.multiplier",
        ),
    ),
    Rule(
        "iatse.pay.rest_violation",
        IATSE,
        "Rest period invaded",
        "Hours that invade the 10-hour daily rest period are paid at 2 × the hourly rate, or at "
        "their overtime rate if higher, in place of their normal rate (from 2024-08-04; 1 × "
        "before).",
        _IATSE,
        parameters=("iatse.rest.daily_hours", "iatse.rest_violation.multiplier"),
    ),
    Rule(
        "iatse.pay.seventh_day",
        IATSE,
        "Seventh consecutive day",
        "A consecutive 7th workday for an on-call weekly employee pays 2 × (weekly rate ÷ 5).",
        _IATSE,
        parameters=("iatse.seventh_day.multiplier",),
    ),
    Rule(
        "iatse.pay.meal_penalty",
        IATSE,
        "Meal penalty",
        "A meal is due within 6 hours of call or of the end of the previous meal (T: the usual "
        "industry rule; the clause text was not read). Each late half hour or part: $8.50 for "
        "the 1st, $11.00 for the 2nd, $13.50 for the 3rd and each after (P, year of these "
        "amounts not confirmed).",
        _IATSE,
        tier="T/P",
        parameters=(
            "iatse.meal.due_after_hours",
            "iatse.meal_penalty.first",
            "iatse.meal_penalty.second",
            "iatse.meal_penalty.after",
        ),
    ),
    Rule(
        "iatse.pay.kit_rental_ai",
        IATSE,
        "Kit rental for the employee's own AI system",
        "An employee who uses their own AI system is paid the kit rental agreed on the engagement.",
        "RULES.md §3 IATSE Basic Agreement 2024; evidence.md §4.1",
    ),
)

# Residuals (RULES.md §3, first capability): owed when a work is exhibited again. Their figures
# live in residual schedules that staff load; the engine does not compute them yet.
RESIDUAL_RULES: tuple[Rule, ...] = (
    Rule(
        "sag.residual.replica_days",
        SAG,
        "Replica days count toward residuals",
        "Days paid under sag.pay.ebdr_use count toward the performer's residual base exactly as "
        "days worked in person.",
        _RESIDUALS,
        tier="S",
    ),
    Rule(
        "sag.residual.hbsvod",
        SAG,
        "High-budget SVOD residual",
        "High-budget SVOD fixed residual for an exhibition year = residual base (by work type "
        "and running time) × subscriber factor (the service's subscriber tier) × exhibition-year "
        "percentage, domestic and foreign as separate lines. All three factors come from a "
        "loaded schedule.",
        _RESIDUALS,
        tier="P",
    ),
    Rule(
        "wga.residual.hbsvod",
        WGA,
        "High-budget SVOD residual",
        "High-budget SVOD fixed residual for an exhibition year = residual base (by work type "
        "and running time) × subscriber factor (the service's subscriber tier) × exhibition-year "
        "percentage, domestic and foreign as separate lines. All three factors come from a "
        "loaded schedule.",
        _RESIDUALS + " (wga.org HBSVOD page)",
        tier="P",
    ),
    Rule(
        "wga.residual.success_bonus",
        WGA,
        "Streaming success bonus",
        "If views in the first 90 days ÷ the service's domestic subscribers (as of July 1 of "
        "that year) is at least 0.2 (a view = hours streamed ÷ running time), the writers are "
        "owed 50% of the fixed domestic plus foreign residual.",
        _RESIDUALS,
        tier="S",
    ),
    Rule(
        "sag.residual.success_bonus",
        SAG,
        "Streaming success bonus",
        "Same trigger as wga.residual.success_bonus: 100% of the fixed residual, 75% to the "
        "performers and 25% to the SAG-AFTRA fund.",
        _RESIDUALS,
        tier="S",
    ),
    Rule(
        "wga.residual.credit_share",
        WGA,
        "Writer's share by credit",
        "A writer's share follows the credit: Written by 100%; Story by 25%; Screenplay by 75% "
        "when there is a separate story credit, otherwise 100%; Teleplay by 75%; Adaptation by "
        "10%.",
        _RESIDUALS,
        tier="P",
    ),
    Rule(
        "residual.gross_receipts",
        ALL,
        "Percentage of gross receipts",
        "Markets paid as a percentage of distributor's gross receipts use the percentages of a "
        "loaded schedule (T-tier figures seen elsewhere are not to be shipped).",
        _RESIDUALS,
        tier="S",
    ),
    Rule(
        "residual.ph",
        ALL,
        "Pension and health on residuals",
        "Pension and health are due on residuals at the agreement's fringe rates, to the union "
        "funds.",
        _RESIDUALS,
        tier="S",
    ),
    Rule(
        "residual.due",
        ALL,
        "Residual due dates",
        "Due dates: network TV 30 days after broadcast; syndication 4 months; basic cable "
        "quarterly; supplemental markets 4 months, then quarterly. An unpaid residual past its "
        "due date is overdue in the compliance report.",
        _RESIDUALS + " (SAG-AFTRA FAQ)",
        tier="S",
    ),
)

RULES: tuple[Rule, ...] = PAY_RULES + RESIDUAL_RULES
