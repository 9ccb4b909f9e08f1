"""Residual runs: the computation and the posting of a `CompensationRun` of kind `residuals`.
Starting, dispatching, the Celery task and approval's locking are the pay runs'
(compensation/runs.py): one run engine for pay and residuals.

**Compute.** The exhibitions of the production whose period ends within the run's period are
computed by the pure engine (compensation/rules/residuals/), once per exhibition and union
agreement on the production (SAG-AFTRA, WGA), with the residual schedule of that agreement in
force on the exhibition's date. Who shares in an exhibition:
- writers: the WGA engagements with a writing credit on the work (the exhibited episode's
  credit, else the credit on the whole work);
- performers: the SAG-AFTRA engagements with residual days (`sag.residual.replica_days`: days
  in person and replica days, as `exhibitions.performer_days` reads them).
An agreement with no schedule in force is a `rate_missing` exception naming it; the rest of the
run is computed.

**Post.** Each line is owed on a payable of its key (the person's engagement or the fund, the
rule, the currency, the due date). Approval posts, per engagement (and once for fund lines with
no member), one balanced transaction of the differences between this run's totals and what the
approvals of earlier runs of the same production and period posted on those payables: new keys
get new payables (to the person, or to the fund), known ones an adjustment. A rerun after a
corrected exhibition or a newly loaded schedule therefore posts only what changed.
"""

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from django.db.models import Sum

from compensation.models import (
    CompensationRun,
    Exhibition,
    ResidualLine,
    ResidualPosting,
    ResidualSchedule,
    WritingCredit,
)
from compensation.rules.residuals import engine
from compensation.rules.residuals import input as residual_input
from compensation.rules.residuals.lines import ResidualLine as EngineLine
from compensation.rules.residuals.schedule import Schedule
from core.bulk import insert_rows
from ledger.journal import services as journal_services
from ledger.models import Account, Engagement, Payable

from .. import selectors as pay_selectors
from . import selectors
from .exhibitions import performer_days_of
from .schedules import to_engine

GUILDS = residual_input.GUILDS
NO_SCHEDULE_RULE = {"sag-aftra": "sag.residual.hbsvod", "wga": "wga.residual.hbsvod"}
SOURCE_TYPE = "residual_run"


# --- compute --------------------------------------------------------------------------------


@dataclass
class _Agreement:
    """One union agreement on the production and its engagements."""

    agreement: Any
    guild: str
    engagements: list[Engagement]


def compute(run: CompensationRun) -> None:
    """Compute and store the run's lines and exceptions (called inside the run's transaction)."""
    params = pay_selectors.current_parameters()
    exhibitions = list(
        Exhibition.objects.filter(
            production_id=run.production_id,
            period_to__gte=run.period_from,
            period_to__lte=run.period_to,
        ).order_by("period_from", "id")
    )
    agreements = _agreements(run)
    people = _People(run, agreements)
    rows: list[ResidualLine] = []
    exceptions: list[dict[str, Any]] = []
    schedules_used: dict[int, ResidualSchedule] = {}
    with _no_cycle_collection():
        for exhibition in exhibitions:
            for union in agreements:
                participants = people.of(union, exhibition)
                if not participants:
                    continue
                on = exhibition.broadcast_on or exhibition.period_from
                schedule = _schedule(union.agreement, on, schedules_used)
                if schedule is None:
                    exceptions.append(_no_schedule(union, exhibition, on))
                    continue
                given = residual_input.ResidualInput(
                    agreement=union.agreement.code,
                    guild=union.guild,
                    work=residual_input.Work(
                        title=f"{run.production.title} {exhibition.episode}".strip(),
                        type=exhibition.work_type,
                        running_minutes=exhibition.running_minutes,
                    ),
                    schedule=schedule[1],
                    exhibitions=(engine_exhibition(exhibition),),
                    participants=tuple(participants),
                )
                result = engine.compute(given, params)
                rows += _rows(run, exhibition, schedule[0], result.lines)
                exceptions += [
                    {**p.as_dict(), "exhibition": exhibition.pk, "agreement": union.agreement.code}
                    for p in result.problems
                ]
    insert_rows(ResidualLine, rows)
    run.rules_version = params.version
    run.rate_sheets = [
        {"schedule": s.pk, "label": s.label, "effective_from": s.effective_from.isoformat()}
        for s in schedules_used.values()
    ]
    run.exceptions = exceptions
    run.engagements = len({r.engagement_id for r in rows if r.engagement_id})
    run.line_count = len(rows)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a run builds its lines: the lines hold no
    reference cycles, and every collection of the older generations walks all of them again, a
    cost that grows with the run (half of building 330,000 lines). Objects are still freed by
    reference counting; collection resumes as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _agreements(run: CompensationRun) -> list[_Agreement]:
    by_agreement: dict[int, _Agreement] = {}
    engagements = Engagement.objects.filter(
        production_id=run.production_id, agreement__guild__code__in=GUILDS
    ).select_related("agreement__guild", "person")
    for e in engagements.order_by("pk"):
        union = by_agreement.setdefault(
            e.agreement_id, _Agreement(e.agreement, e.agreement.guild.code, [])
        )
        union.engagements.append(e)
    return list(by_agreement.values())


def _schedule(
    agreement, on: date, used: dict[int, ResidualSchedule]
) -> tuple[ResidualSchedule, Schedule] | None:
    row = selectors.schedule_in_force(agreement, on)
    if row is None:
        return None
    used.setdefault(row.pk, row)
    return row, to_engine(row)


def _no_schedule(union: _Agreement, exhibition: Exhibition, on: date) -> dict[str, Any]:
    return {
        "code": "rate_missing",
        "rule": NO_SCHEDULE_RULE[union.guild]
        if exhibition.market == residual_input.HBSVOD
        else "residual.gross_receipts",
        "message": f"No residual schedule of {union.agreement.code} is in force on {on}: load "
        "one to compute this exhibition.",
        "parameter": f"schedule:{union.agreement.code}",
        "date": on.isoformat(),
        "exhibition": exhibition.pk,
        "agreement": union.agreement.code,
    }


def engine_exhibition(e: Exhibition) -> residual_input.Exhibition:
    """An exhibition row as the engine reads it (its fields were checked when it was saved)."""
    streaming = None
    if e.domestic_subscribers is not None and (
        e.views_first_90_days is not None or e.hours_streamed_first_90_days is not None
    ):
        streaming = residual_input.Streaming(
            domestic_subscribers=e.domestic_subscribers,
            hours_streamed=e.hours_streamed_first_90_days,
            views=e.views_first_90_days,
        )
    return residual_input.Exhibition(
        market=e.market,
        territory=e.territory,
        period_from=e.period_from,
        period_to=e.period_to,
        service=e.service or None,
        subscriber_tier=e.subscriber_tier or None,
        exhibition_year=e.exhibition_year,
        streaming=streaming,
        gross_receipts=e.gross_receipts,
        broadcast_on=e.broadcast_on,
        first_period=e.first_period,
    )


class _People:
    """Who shares in an exhibition, read once per run."""

    def __init__(self, run: CompensationRun, agreements: list[_Agreement]):
        writers = [e.pk for a in agreements if a.guild == "wga" for e in a.engagements]
        performers = [e for a in agreements if a.guild == "sag-aftra" for e in a.engagements]
        self.credits: dict[tuple[int, str], str] = {
            (c.engagement_id, c.episode): c.credit
            for c in WritingCredit.objects.filter(engagement_id__in=writers)
        }
        self.days = performer_days_of(performers)
        self._of: dict[tuple[int, str], list[residual_input.Participant]] = {}

    def of(self, union: _Agreement, exhibition: Exhibition) -> list[residual_input.Participant]:
        """The union's participants in the exhibited work: the same for every exhibition of the
        work (its episode), so found once per work."""
        key = (union.agreement.pk, exhibition.episode)
        if key not in self._of:
            self._of[key] = self._in_work(union, exhibition.episode)
        return self._of[key]

    def _in_work(self, union: _Agreement, episode: str) -> list[residual_input.Participant]:
        if union.guild == "wga":
            return [p for p in (self._writer(e, episode) for e in union.engagements) if p]
        return [p for p in (self._performer(e, episode) for e in union.engagements) if p]

    def _writer(self, e: Engagement, episode: str) -> residual_input.Participant | None:
        credit = self.credits.get((e.pk, episode)) or self.credits.get((e.pk, ""))
        if credit is None:
            return None
        return residual_input.Participant(id=participant_id(e), role="writer", credit=credit)

    def _performer(self, e: Engagement, episode: str) -> residual_input.Participant | None:
        in_person, replica = self.days[e.pk].on(episode)
        if not in_person and not replica:
            return None
        return residual_input.Participant(
            id=participant_id(e),
            role="performer",
            days_in_person=in_person,
            replica_days=replica,
        )


def participant_id(e: Engagement) -> str:
    """How the engine names a participant, and so how a line's description reads: by the
    engagement's number, never by name (lines are append-only, and a name there could not be
    erased; the API and admin show the person beside the line). `_row` reads the number back."""
    return f"engagement #{e.pk}"


def engagement_of_participant(participant: str) -> int:
    return int(participant.rsplit("#", 1)[1])


def _rows(
    run: CompensationRun,
    exhibition: Exhibition,
    schedule: ResidualSchedule,
    lines: list[EngineLine],
) -> list[ResidualLine]:
    """The stored rows of the engine's lines of one exhibition. A factor object the engine shares
    between lines (the schedule's figures, a fund's rate, a person's share) is explained once:
    equal explanations, one dict (keyed by the object's id, alive as long as `lines`)."""
    explained: dict[int, dict[str, Any]] = {}
    engagement_of: dict[str, int] = {}
    fields = _line_fields()
    rows = []
    for line in lines:
        factors = []
        for f in line.factors:
            explanation = explained.get(id(f))
            if explanation is None:
                explanation = explained[id(f)] = {**f.explain(), "rule": f.rule}
            factors.append(explanation)
        member = line.payee.id if line.payee.kind == "person" else line.on_behalf_of
        engagement_id = None
        if member:
            engagement_id = engagement_of.get(member)
            if engagement_id is None:
                engagement_id = engagement_of[member] = engagement_of_participant(member)
        values = {
            "id": None,
            "run_id": run.pk,
            "exhibition_id": exhibition.pk,
            "engagement_id": engagement_id,
            "fund": line.payee.id if line.payee.kind == "fund" else "",
            "rule": line.rule,
            "description": line.description[:1000],
            "market": line.market,
            "territory": line.territory,
            "date": line.on,
            "quantity": line.quantity,
            "unit": line.unit[:60],
            "amount": line.amount,
            "currency": line.currency,
            "due_date": line.due.on,
            "due_basis": line.due.basis[:200],
            "schedule_id": schedule.pk,
            "tier": line.tier or "",
            "flags": list(line.all_flags),
            "factors": factors,
        }
        # Positional, in the model's field order (a field left out is a KeyError): Django's fast
        # path, as it builds rows read from the database, at half the cost of keywords.
        rows.append(ResidualLine(*[values[name] for name in fields]))
    return rows


@cache
def _line_fields() -> tuple[str, ...]:
    return tuple(f.attname for f in ResidualLine._meta.concrete_fields)


# --- post -----------------------------------------------------------------------------------

# (member engagement or None, fund or "", rule, currency, due date)
Key = tuple[int | None, str, str, str, date]


def post(*, actor, run: CompensationRun) -> None:
    """Post the differences of the run's lines from what the period's earlier approvals posted
    (called by compensation.runs.run_approve, which holds the run and production locks)."""
    target: defaultdict[Key, Decimal] = defaultdict(Decimal)
    agreement_of: dict[Key, int | None] = {}
    for t in (
        ResidualLine.objects.filter(run=run)
        .values("engagement_id", "fund", "rule", "currency", "due_date", "schedule__agreement_id")
        .annotate(total=Sum("amount"))
    ):
        key = (t["engagement_id"], t["fund"], t["rule"], t["currency"], t["due_date"])
        target[key] += Decimal(t["total"])
        agreement_of[key] = t["schedule__agreement_id"]
    before, payables = _posted_so_far(run)
    engagements = Engagement.objects.in_bulk({k[0] for k in (*target, *before) if k[0] is not None})
    obligations: dict[int | None, journal_services.Obligation] = {}
    postings: list[ResidualPosting] = []
    ordered = sorted(set(target) | set(before), key=lambda k: (k[0] or 0, k[1], k[2], k[3], k[4]))
    for index, key in enumerate(ordered):
        change = target.get(key, Decimal(0)) - before.get(key, Decimal(0))
        if not change:
            continue
        engagement = engagements.get(key[0]) if key[0] is not None else None
        obligation = obligations.get(key[0])
        if obligation is None:
            obligation = obligations[key[0]] = _obligation(run, engagement)
        payable = payables.get(key)
        if payable is None:
            payable = _new_payable(run, engagement, key, change, agreement_of.get(key), index)
        else:
            obligation.adjustment = True
        obligation.pay.append((payable, change))
        postings.append(ResidualPosting(run=run, payable=payable, amount=change, currency=key[3]))
    ordered_obligations = list(obligations.values())
    transactions = journal_services.obligations_post(actor=actor, obligations=ordered_obligations)
    transaction_of = {
        id(payable): posted
        for obligation, posted in zip(ordered_obligations, transactions, strict=True)
        for payable, _ in obligation.pay
    }
    for posting in postings:
        posting.transaction = transaction_of[id(posting.payable)]
        posting.payable_id = posting.payable.pk
    ResidualPosting.objects.bulk_create(postings, batch_size=2000)


def _posted_so_far(run: CompensationRun) -> tuple[dict[Key, Decimal], dict[Key, Payable]]:
    rows = (
        ResidualPosting.objects.filter(
            run__production_id=run.production_id,
            run__kind=CompensationRun.Kind.RESIDUALS,
            run__period_from=run.period_from,
            run__period_to=run.period_to,
        )
        .values("payable_id")
        .annotate(total=Sum("amount"))
    )
    totals = {r["payable_id"]: Decimal(r["total"]) for r in rows}
    before: dict[Key, Decimal] = {}
    payables: dict[Key, Payable] = {}
    for payable in Payable.objects.filter(pk__in=totals):
        key = (
            payable.engagement_id,
            payable.fund,
            payable.rule,
            payable.currency,
            payable.due_date,
        )
        before[key] = totals[payable.pk]
        payables[key] = payable
    return before, payables


def _obligation(run: CompensationRun, engagement: Engagement | None):
    who = f" for person #{engagement.person_id}" if engagement is not None else " to the funds"
    return journal_services.Obligation(
        engagement=engagement,
        production=run.production if engagement is None else None,
        source_type=SOURCE_TYPE,
        source_id=f"{run.pk}:{engagement.pk if engagement else 'funds'}",
        description=f"Residual run #{run.pk}{who}: {run.production.title}, "
        f"{run.period_from} – {run.period_to}",
        effective_date=run.period_to,
        expense_purpose=Account.Purpose.RESIDUAL_EXPENSE,
    )


PH_RULE = "residual.ph"
RULE_TITLES = {
    "sag.residual.hbsvod": "Residuals (high-budget SVOD)",
    "wga.residual.hbsvod": "Residuals (high-budget SVOD)",
    "sag.residual.success_bonus": "Streaming success bonus",
    "wga.residual.success_bonus": "Streaming success bonus",
    "residual.gross_receipts": "Residuals (gross receipts)",
    "residual.ph": "Pension and health on residuals",
}


def _new_payable(
    run: CompensationRun,
    engagement: Engagement | None,
    key: Key,
    amount: Decimal,
    agreement_id: int | None,
    index: int,
) -> Payable:
    _, fund, rule, currency, due_date = key
    period = f"{run.production.title}, {run.period_from} – {run.period_to}"
    if fund:
        description = journal_services.contribution_description(
            fund=fund,
            person_id=engagement.person_id if engagement is not None else None,
            production=run.production,
            period_from=run.period_from,
            period_to=run.period_to,
        )
        if rule != PH_RULE:
            description = f"{RULE_TITLES.get(rule, rule)}: {description}"[:500]
    else:
        description = f"{RULE_TITLES.get(rule, rule)}: {period}"[:500]
    return Payable(
        studio_id=run.production.studio_id,
        production=run.production,
        person_id=None if fund or engagement is None else engagement.person_id,
        fund=fund,
        engagement=engagement,
        agreement_id=engagement.agreement_id if engagement is not None else agreement_id,
        rule=rule,
        description=description,
        amount=amount,
        currency=currency,
        period_from=run.period_from,
        period_to=run.period_to,
        due_date=due_date,
        source_type=SOURCE_TYPE,
        source_id=f"{run.pk}:{index}",
    )
