"""Compensation runs: start, compute (the Celery task's body), approve.

A run computes, for every engagement of a production, the quote of its work records and AI uses
in the period (`rules.quote`, the same calculator as the quote API), and stores the lines with the
rules version. Lines of an AI use recorded as a violation are *held*: stored, not payable, until
staff resolve the use (`HoldResolution`) and run the period again.

Approval posts, per engagement, one balanced transaction: for each pay rule the production's
expense against a payable to the person, and for each fringe the fringe expense against a payable
to the union fund (the contribution on the person's behalf, paid through payroll as pay is). A
later run of the same production and period (a rerun after a rate correction, a corrected
timecard, a released hold) posts only the differences from what earlier approvals posted, as
adjustment transactions on the same payables. Approving twice posts nothing twice:
the run row is locked and its status checked, and `RunPosting` is unique per run and key.

A queued run is work waiting for the task queue (core/outbox.py) until `dispatched_at` says
its computation was published. A broker that is away leaves it queued, not failed: the dispatch
sweep publishes it again. The computation is idempotent, so a second message computes it once.
"""

import logging
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from core import outbox
from core.audit import save_audited
from core.bulk import insert_rows
from core.errors import Conflict, DomainError, Forbidden
from core.parse import ParseError
from ledger.journal import services as journal_services
from ledger.journal.checkpoints import checkpoint_publish
from ledger.models import Payable, Production

from . import review, selectors, services
from .models import CompensationLine, CompensationRun, HoldResolution, RunPosting
from .residuals import runs as residual_runs
from .rules import iatse, quote_input, sag, wga
from .rules.lines import Rate
from .rules.quote import compute
from .rules.quote_input import IatseWork, OtherPay, QuoteInput, SagWork, WgaWork

logger = logging.getLogger(__name__)

# The task that computes a run (compensation/tasks.py), published by name.
COMPUTE_TASK = "compensation.tasks.compute_run"
CLASSIFICATION = {"background_actor": "background"}  # registry name -> quote name
MAX_PERIOD_DAYS = 366
LINE_BATCH = 2000
SAG_SCAN_KINDS = ("scan", "replica_creation")


# --- start ----------------------------------------------------------------------------------


@transaction.atomic
def run_start(
    *,
    actor,
    production: Production,
    period_from,
    period_to,
    due_date,
    kind=CompensationRun.Kind.PAY,
) -> CompensationRun:
    """Queue a run (of `kind`: pay or residuals) of the production and period. Earlier
    unapproved runs of the same kind and period are superseded; a period overlapping another
    period's runs of the kind is refused."""
    if period_to < period_from:
        raise DomainError(
            "The period cannot end before it starts.", fields={"period_to": "Before period_from."}
        )
    if (period_to - period_from).days >= MAX_PERIOD_DAYS:
        raise DomainError(
            f"A run covers at most {MAX_PERIOD_DAYS} days.", fields={"period_to": "Too long."}
        )
    if due_date < period_from:
        raise DomainError(
            "Pay cannot be due before the period starts.", fields={"due_date": "Too early."}
        )
    Production.objects.select_for_update().filter(pk=production.pk).first()  # one start at a time
    runs = CompensationRun.objects.filter(production=production, kind=kind).exclude(
        status__in=[CompensationRun.Status.FAILED, CompensationRun.Status.SUPERSEDED]
    )
    overlapping = runs.filter(period_from__lte=period_to, period_to__gte=period_from).exclude(
        period_from=period_from, period_to=period_to
    )
    other = overlapping.first()
    if other is not None:
        raise Conflict(
            f"Run #{other.pk} covers {other.period_from} – {other.period_to}, which overlaps this "
            "period; run that period again instead.",
            code="period_overlaps",
        )
    same = runs.filter(period_from=period_from, period_to=period_to)
    if same.filter(
        status__in=[CompensationRun.Status.QUEUED, CompensationRun.Status.RUNNING]
    ).exists():
        raise Conflict("A run of this period is already in progress.", code="run_in_progress")
    for earlier in same.filter(status=CompensationRun.Status.COMPUTED):
        earlier.status = CompensationRun.Status.SUPERSEDED
        earlier._history_user = actor
        earlier.save(update_fields=["status"])
    run = CompensationRun(
        kind=kind,
        production=production,
        period_from=period_from,
        period_to=period_to,
        due_date=due_date,
        started_by=actor,
        started_at=timezone.now(),
        task_id=str(uuid.uuid4()),
    )
    save_audited(run, actor=actor)
    transaction.on_commit(lambda: run_publish(run.pk, run.task_id))
    return run


def residual_run_start(*, actor, production: Production, period_from, period_to):
    """Queue the residual run of a production and period. Its lines carry their own due dates
    (`residual.due`); the run's `due_date` is the period's end, from which they are reckoned."""
    return run_start(
        actor=actor,
        production=production,
        period_from=period_from,
        period_to=period_to,
        due_date=period_to,
        kind=CompensationRun.Kind.RESIDUALS,
    )


def run_publish(run_id: int, task_id: str | None) -> bool:
    """Hand the run's computation to the task queue and note that it did. When the broker is
    away the run stays queued, waiting for the dispatch sweep; False."""
    try:
        published = outbox.publish(COMPUTE_TASK, args=(run_id,), task_id=task_id)
    except Exception:  # run eagerly, the computation failed: run_compute has recorded why
        logger.exception("compensation run %s: the computation failed", run_id)
        return False
    if published:
        _note_dispatched(run_id)
    return published


def _note_dispatched(run_id: int):
    # skip_locked: a worker holding the row has the message already, and the request that
    # published must not wait for its computation.
    with transaction.atomic():
        run = (
            CompensationRun.objects.select_for_update(skip_locked=True)
            .filter(pk=run_id, status=CompensationRun.Status.QUEUED, dispatched_at__isnull=True)
            .first()
        )
        if run is not None:
            run.dispatched_at = timezone.now()
            run.save(update_fields=["dispatched_at"])


def runs_publish_waiting(cutoff) -> int:
    """Publish again the computations of runs started before `cutoff` that never reached the
    task queue; how many were published."""
    waiting = (
        CompensationRun.objects.filter(
            status=CompensationRun.Status.QUEUED, dispatched_at__isnull=True, started_at__lt=cutoff
        )
        .order_by("pk")
        .values_list("pk", "task_id")
    )
    return sum(run_publish(pk, task_id or None) for pk, task_id in waiting)


# --- compute --------------------------------------------------------------------------------


def run_compute(run_id: int) -> str:
    """Compute and store a queued run's lines; safe to call again (a redelivered task): a run
    already computed is left alone, one whose computation died is computed anew."""
    with transaction.atomic():
        run = CompensationRun.objects.select_for_update().get(pk=run_id)
        if run.status not in (CompensationRun.Status.QUEUED, CompensationRun.Status.RUNNING):
            return run.status
        run.status = CompensationRun.Status.RUNNING
        run.save(update_fields=["status"])
    try:
        with transaction.atomic():
            run = CompensationRun.objects.select_for_update().get(pk=run_id)
            if run.status != CompensationRun.Status.RUNNING:
                return run.status
            if run.kind == CompensationRun.Kind.RESIDUALS:
                residual_runs.compute(run)
            else:
                _compute(run)
            run.status = CompensationRun.Status.COMPUTED
            run.finished_at = timezone.now()
            run.save()
    except Exception as error:
        with transaction.atomic():
            run = CompensationRun.objects.select_for_update().get(pk=run_id)
            run.status = CompensationRun.Status.FAILED
            run.error = f"{type(error).__name__}: {error}"[:2000]
            run.finished_at = timezone.now()
            run.save()
        raise
    return run.status


def _compute(run: CompensationRun):
    params = selectors.current_parameters()
    inputs, unmatched = selectors.run_inputs(run)
    resolutions = selectors.resolutions([u.pk for i in inputs for u in i.uses])
    lines, exceptions = [], []
    for item in inputs:
        computed, problems = compute_engagement(run, item, params, resolutions)
        lines += computed
        exceptions += problems
    for use in unmatched:
        if use.agreement.guild_id is None:
            exceptions.append(
                {
                    "code": "non_union",
                    "rule": "",
                    "message": f"AI use #{use.pk} of {use.person} is under non-union: "
                    f"{quote_input.NO_UNION_PAY}",
                    "ai_use": use.pk,
                }
            )
            continue
        exceptions.append(
            {
                "code": "not_engaged",
                "rule": "sag.pay.bargained_use",
                "message": f"AI use #{use.pk} of {use.person} is in this production, where they "
                "have no engagement of its guild: pay it by the bargained amount on the consent.",
                "ai_use": use.pk,
            }
        )
    write_lines(lines)
    run.rules_version = params.version
    run.rate_sheets = selectors.sheets_in_force()
    run.exceptions = exceptions
    run.engagements = len(inputs)
    run.line_count = len(lines)


def write_lines(lines: list[CompensationLine]):
    """Insert a run's lines in the caller's transaction (COPY on PostgreSQL)."""
    insert_rows(CompensationLine, lines)


def compute_engagement(run, item, params, resolutions) -> tuple[list[CompensationLine], list[dict]]:
    """The lines of one engagement: the quote of its records and payable uses, then one quote
    per held use (stored as held or void lines)."""
    e = item.engagement
    if e.agreement.guild_id is None:
        return [], [non_union_note(e)]
    if not (item.timecards or item.deliveries or item.uses):
        return [], []
    held, payable_uses = [], []
    for use in item.uses:
        resolution = resolutions.get(use.pk)
        if use.status == "violation" and (
            resolution is None or resolution.decision != HoldResolution.Decision.RELEASE
        ):
            held.append((use, "void" if resolution else "held"))
        else:
            payable_uses.append(use)
    lines: list[CompensationLine] = []
    problems: list[dict[str, Any]] = []
    if e.agreement.guild.code == "iatse" and not (item.terms and item.terms.wage_classification):
        problem = {
            "code": "input_missing",
            "rule": "iatse.pay.hourly",
            "message": "Set the engagement's IATSE wage classification (its compensation terms) "
            "to compute its pay.",
        }
        return [], [{**problem, "engagement": e.pk, "person": str(e.person)}]
    _add(run, item, payable_uses, params, lines, problems, status="payable", ai_use=None)
    for use, status in held if e.agreement.guild.code == "sag-aftra" else ():
        _add(run, item, [use], params, lines, problems, status=status, ai_use=use)
    return lines, problems


def non_union_note(engagement) -> dict[str, Any]:
    """RULES.md §1: an engagement under `non-union` has no union pay rules; the run says so
    instead of computing (a note, not a failure: the rest of the run is computed)."""
    return {
        "code": "non_union",
        "rule": "",
        "message": f"{quote_input.NO_UNION_PAY} Pay {engagement.person} as agreed with them.",
        "engagement": engagement.pk,
        "person": str(engagement.person),
    }


def _add(run, item, uses, params, lines, problems, *, status, ai_use):
    """The lines of one quote: the engagement's work and `uses` (payable), or one held use."""
    engagement = item.engagement
    where = {"engagement": engagement.pk, "person": str(engagement.person)}
    if ai_use is not None:
        where["ai_use"] = ai_use.pk
    try:
        given = build_quote_input(item, uses, with_work=ai_use is None)
    except ParseError as error:
        problems.append(
            {
                "code": "input_invalid",
                "rule": "",
                "message": f"{error.field}: {error.message}",
                **where,
            }
        )
        return
    result = compute(given, params).result
    for problem in result.problems:
        problems.append({**problem.as_dict(), **where})
    of_quote = dict(
        run_id=run.pk,
        engagement_id=engagement.pk,
        ai_use_id=ai_use.pk if ai_use else None,
        status=status,
    )
    for line in result.lines:
        lines.append(
            CompensationLine(
                **of_quote,
                kind=CompensationLine.Kind.PAY,
                rule=line.rule,
                description=line.description[:500],
                date=line.on,
                episode=line.episode or "",
                quantity=line.quantity,
                unit=line.unit,
                rate=line.rate,
                amount=line.amount,
                currency=line.currency,
                tier=line.tier or "",
                flags=list(line.flags),
                parameters=[p.explain() for p in line.params],
                covered=line.covered,
            )
        )
    for fringe in result.fringes:
        if not fringe.amount and not fringe.base:
            continue
        lines.append(
            CompensationLine(
                **of_quote,
                kind=CompensationLine.Kind.FRINGE,
                rule=fringe.rule,
                description=(fringe.description or f"{fringe.rule} to {fringe.fund}")[:500],
                date=fringe.on,
                quantity=fringe.base,
                unit=fringe.currency,
                rate=fringe.rate,
                amount=fringe.amount,
                currency=fringe.currency,
                fund=fringe.fund,
                tier=fringe.tier or "",
                flags=list(fringe.flags),
                parameters=[p.explain() for p in fringe.params],
                covered=False,
            )
        )


def build_quote_input(
    item: selectors.EngagementInputs, uses: list, *, with_work: bool
) -> QuoteInput:
    """The quote of one engagement's records and `uses` (`rules.quote_input`), built from the
    rows' typed values; `with_work`: its timecards, deliveries and kit rental too. ParseError,
    as the quote API answers, where the records cannot be quoted as they are (a television
    episode longer than the rules know, AI material handed over with a rewrite on a production
    whose kind names no original work)."""
    e = item.engagement
    production = e.production
    if e.agreement.guild is None:
        raise ParseError("agreement", quote_input.NO_UNION_PAY)
    guild = e.agreement.guild.code
    rate = Rate(e.rate_amount, e.rate_unit, e.rate_currency)
    work_days = tuple(services.work_day(card) for card in item.timecards) if with_work else ()
    work: SagWork | WgaWork | IatseWork
    other_pay: tuple[OtherPay, ...] = ()
    if guild == "sag-aftra":
        classification = quote_input.check_classification(
            CLASSIFICATION.get(e.classification, e.classification)
        )
        kind = quote_input.check_production_kind(production.kind)
        work_dates = {card.date for card in item.timecards}
        work = SagWork(
            classification=classification,
            production_kind=kind,
            episode_minutes=quote_input.check_episode_minutes(kind, production.episode_minutes),
            prior_covered={episode or None: v for episode, v in item.prior_covered.items()},
            work_days=work_days,
            replica_uses=_replica_uses(uses),
            scans=tuple(s for s in (_scan(u, work_dates) for u in uses) if s),
        )
    elif guild == "wga":
        original_kind = production.kind if production.kind in ("theatrical", "television") else None
        deliveries = item.deliveries if with_work else []
        other_pay = tuple(
            OtherPay(on=d.date, amount=d.fee, description=f"Negotiated fee: {d.work_type}"[:500])
            for d in deliveries
            if d.fee is not None
        )
        work = WgaWork(
            production_kind=original_kind,
            prior_covered=sum(item.prior_covered.values(), Decimal(0)),
            deliveries=tuple(
                quote_input.check_delivery(
                    wga.Delivery(
                        work_type=quote_input.check_work_type(d.work_type, f"deliveries[{i}]"),
                        on=d.date,
                        ai_material_handed_over=d.ai_material_handed_over,
                    ),
                    original_kind,
                )
                for i, d in enumerate(deliveries)
            ),
        )
    else:
        terms = item.terms
        work = IatseWork(
            classification=quote_input.check_iatse_classification(
                terms.wage_classification if terms and terms.wage_classification else None
            ),
            work_days=work_days,
            kit_rental=_kit_rental(item, terms) if with_work and terms else None,
        )
    return QuoteInput(agreement=e.agreement.code, rate=rate, work=work, other_pay=other_pay)


def _kit_rental(item, terms) -> iatse.KitRental | None:
    """Per day: each work day of the period. Flat: once, on the engagement's first day, in the
    run whose period holds it."""
    if terms.kit_rental_amount is None:
        return None
    if terms.kit_rental_per == "day":
        return iatse.KitRental(terms.kit_rental_amount, "day") if item.timecards else None
    start = item.engagement.start_date
    if item.period_from <= start <= item.period_to:
        return iatse.KitRental(terms.kit_rental_amount, terms.kit_rental_per, start)
    return None


def _replica_uses(uses) -> tuple[sag.ReplicaUse, ...]:
    out: list[sag.ReplicaUse] = []
    for use in uses:
        on = selectors.use_date(use)
        if use.kind == "replica_use":
            if use.days is None:  # refused when recorded (consent.services._check_replica_days)
                raise ParseError(
                    f"replica_uses[{len(out)}].days", 'A decimal string, e.g. "1500.00".'
                )
            # Always the same production here: the run's engagements are the production's.
            out.append(sag.ReplicaUse(kind="ebdr_use", on=on, days=use.days))
        elif use.kind == "icdr_use":
            amount = use.consent.bargained_amount if use.consent_id else None
            out.append(sag.ReplicaUse(kind="icdr_use", on=on, amount=amount))
    return tuple(out)


def _scan(use, work_dates) -> sag.Scan | None:
    if use.kind not in SAG_SCAN_KINDS:
        return None
    on = selectors.use_date(use)
    end = use.ends_at or use.starts_at
    hours = Decimal(int((end - use.starts_at).total_seconds())) / 3600
    return sag.Scan(
        on=on,
        hours=hours.quantize(Decimal("0.01")),
        other_work_that_day=on in work_dates,
        for_performer_convenience=False,
    )


# --- approve --------------------------------------------------------------------------------


@transaction.atomic
def run_approve(*, actor, run: CompensationRun) -> CompensationRun:
    """Post the run's payable lines to the ledger as the differences from what earlier runs of
    the period posted. A run already approved posts nothing again. Refused while an item of the
    run's review (compensation/review.py) is unacknowledged, and, with two-person approval
    (`RUN_TWO_PERSON_APPROVAL`), to the user who started the run."""
    run = CompensationRun.objects.select_for_update().select_related("production").get(pk=run.pk)
    if run.status == CompensationRun.Status.APPROVED:
        return run
    if run.status != CompensationRun.Status.COMPUTED:
        raise Conflict(
            f"A run is approved once computed; this one is {run.status}.", code="run_not_computed"
        )
    if getattr(settings, "RUN_TWO_PERSON_APPROVAL", False) and run.started_by_id == actor.pk:
        raise Forbidden(
            "Two-person approval: the run is approved by someone other than who started it.",
            code="same_person",
        )
    missing = review.missing(run)
    if missing:
        raise Conflict(
            f"{len(missing)} item(s) of the run's review need an acknowledgement with a note "
            "before approval.",
            code="review_incomplete",
            fields={"keys": missing},
        )
    Production.objects.select_for_update().filter(pk=run.production_id).first()
    if run.kind == CompensationRun.Kind.RESIDUALS:
        residual_runs.post(actor=actor, run=run)
    else:
        _post_pay(actor, run)
    run.status = CompensationRun.Status.APPROVED
    run.approved_by, run.approved_at = actor, timezone.now()
    run._history_user = actor  # type: ignore[attr-defined]
    run.save()
    transaction.on_commit(lambda: checkpoint_publish(reason="approval"))
    return run


def _post_pay(actor, run: CompensationRun) -> None:
    obligations, postings = _differences(run)
    transactions = journal_services.obligations_post(actor=actor, obligations=obligations)
    by_engagement = {o.engagement.pk: t for o, t in zip(obligations, transactions, strict=True)}
    for posting in postings:
        posting.transaction = by_engagement[posting.engagement_id]
    RunPosting.objects.bulk_create(postings, batch_size=LINE_BATCH)


def _differences(run: CompensationRun):
    """Per engagement, what this run owes minus what was posted for its period so far: per pay
    rule a payable to the person, per fund a payable to the fund (its contribution on the
    person's behalf), each created by the first approval that owes it and adjusted by later
    ones. A fund's contribution that an earlier approval posted with no payable (before
    contributions were payables) is reduced the same way; what it grows by is a new payable."""
    target: defaultdict[tuple[int, str, str, str], Decimal] = defaultdict(Decimal)
    rules_of = {}
    totals = (
        CompensationLine.objects.filter(run=run, status=CompensationLine.Status.PAYABLE)
        .values("engagement_id", "kind", "rule", "fund", "currency")
        .annotate(total=Sum("amount"))
    )
    for t in totals:
        key = (t["engagement_id"], t["kind"], t["fund"] or t["rule"], t["currency"])
        target[key] += Decimal(t["total"])
        rules_of[key] = t["rule"]
    posted = selectors.posted_so_far(run)
    payables = Payable.objects.in_bulk([p for _, p in posted.values() if p])
    engagements = {
        e.pk: e for e in run.production.engagements.select_related("production", "agreement")
    }
    per_engagement = defaultdict(list)
    for key in sorted(set(target) | set(posted), key=lambda k: (k[0], k[1], k[2], k[3])):
        before, payable_id = posted.get(key, (Decimal(0), None))
        change = target.get(key, Decimal(0)) - before
        if change:
            per_engagement[key[0]].append((key, change, payables.get(payable_id)))
    obligations, postings = [], []
    for engagement_id, changes in per_engagement.items():
        engagement = engagements[engagement_id]
        obligation = journal_services.Obligation(
            engagement=engagement,
            source_type="compensation_run",
            source_id=f"{run.pk}:{engagement_id}",
            description=f"Compensation run #{run.pk}: {run.production.title}, "
            f"{run.period_from} – {run.period_to}",
            effective_date=run.period_to,
        )
        for key, change, payable in changes:
            eid, kind, name, currency = key
            posting = RunPosting(
                run=run, engagement_id=eid, kind=kind, key=name, amount=change, currency=currency
            )
            postings.append(posting)
            fringe = kind == CompensationLine.Kind.FRINGE
            if payable is None and fringe and key in posted and change < 0:
                obligation.fringes.append((name, currency, change))  # posted with no payable
                obligation.adjustment = True
                continue
            if payable is None:
                rule = rules_of.get(key, name)
                payable = (
                    _new_fund_payable(run, engagement, name, rule, currency, change)
                    if fringe
                    else _new_payable(run, engagement, name, currency, change)
                )
            else:
                obligation.adjustment = True
            obligation.pay.append((payable, change))
            posting.payable = payable
        obligations.append(obligation)
    return obligations, postings


def _new_payable(run, engagement, rule, currency, amount) -> Payable:
    return Payable(
        studio_id=run.production.studio_id,
        production=run.production,
        person_id=engagement.person_id,
        engagement=engagement,
        agreement=engagement.agreement,
        rule=rule,
        description=f"{RULE_TITLES.get(rule, rule)}: {run.production.title}, "
        f"{run.period_from} – {run.period_to}"[:500],
        amount=amount,
        currency=currency,
        period_from=run.period_from,
        period_to=run.period_to,
        due_date=run.due_date,
        source_type="compensation_run",
        source_id=journal_services.source_id_of(run.pk, engagement.pk, rule, currency),
    )


def _new_fund_payable(run, engagement, fund, rule, currency, amount) -> Payable:
    """The fund's payable of the engagement's contribution (`rule`: the fringe's rule)."""
    return journal_services.fund_payable(
        fund=fund,
        rule=rule,
        amount=amount,
        currency=currency,
        production=run.production,
        engagement=engagement,
        person_id=engagement.person_id,
        agreement=engagement.agreement,
        period_from=run.period_from,
        period_to=run.period_to,
        due_date=run.due_date,
        source_type="compensation_run",
        source_id=journal_services.source_id_of(run.pk, engagement.pk, "fund", fund, currency),
    )


RULE_TITLES = {
    "sag.pay.day": "Day pay",
    "sag.pay.weekly": "Weekly pay",
    "sag.pay.overtime": "Overtime",
    "sag.pay.meal_penalty": "Meal penalties",
    "sag.pay.ebdr_creation": "Digital replica creation (scan)",
    "sag.pay.ebdr_use": "Digital replica use",
    "sag.pay.bargained_use": "Bargained replica use",
    "wga.pay.first_writer": "First-writer minimum (AI-generated material)",
    "wga.pay.minimum": "Minimum top-up",
    "iatse.pay.hourly": "Hourly pay",
    "iatse.pay.triple_time": "Triple time",
    "iatse.pay.rest_violation": "Rest-period invasion",
    "iatse.pay.seventh_day": "Seventh day",
    "iatse.pay.meal_penalty": "Meal penalties",
    "iatse.pay.kit_rental_ai": "AI kit rental",
    "other_pay": "Negotiated pay",
}


@transaction.atomic
def hold_resolve_and_rerun(*, actor, ai_use, decision, reason):
    """Resolve a held use and, when an approved run covers its date, run that period again (its
    approval posts the difference). Both or neither."""
    resolution = services.hold_resolve(actor=actor, ai_use=ai_use, decision=decision, reason=reason)
    resolution.rerun_id = None
    for run in runs_to_rerun(ai_use):
        rerun = run_start(
            actor=actor,
            production=run.production,
            period_from=run.period_from,
            period_to=run.period_to,
            due_date=run.due_date,
        )
        resolution.rerun_id = rerun.pk
    return resolution


def runs_to_rerun(ai_use) -> list[CompensationRun]:
    """Approved runs whose period holds the use's date (to run again once it is resolved)."""
    on = selectors.use_date(ai_use)
    return list(
        CompensationRun.objects.filter(
            Q(production_id=ai_use.production_id, status=CompensationRun.Status.APPROVED)
            & Q(kind=CompensationRun.Kind.PAY)
            & Q(period_from__lte=on, period_to__gte=on)
        ).order_by("-id")[:1]
    )
