"""Reads for compensation: who sees what, the parameters in force (shipped plus loaded sheets),
and the inputs of a run, loaded in a fixed number of queries whatever the production's size."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from consent import selectors as consent_selectors
from consent.models import AiUse
from ledger.access import Scope
from ledger.models import Engagement, Production

from .models import (
    CompensationLine,
    CompensationRun,
    EngagementTerms,
    HoldResolution,
    RateSheet,
    RateSheetValue,
    RunPosting,
    Timecard,
    WgaDelivery,
)
from .rules.params import Override, Parameters, shipped

# --- scope ----------------------------------------------------------------------------------
# Studio staff see their productions' records; guild staff the records of engagements under their
# guild's agreements (and the runs of productions with such engagements); payroll keys read
# payables and payments through the ledger, not these.


def _scoped(scope: Scope, qs: QuerySet[Any], studio: str, guild: str) -> QuerySet[Any]:
    if scope.superuser:
        return qs
    if scope.payroll_key is not None:
        return qs.none()
    return qs.filter(
        Q(**{f"{studio}__in": scope.studio_ids}) | Q(**{f"{guild}__in": scope.guild_ids})
    )


def _of_engagements(scope: Scope, qs: QuerySet[Any]) -> QuerySet[Any]:
    """A record of one engagement (a timecard, a delivery, the terms), seen by the engagement's
    studio and guild."""
    return _scoped(
        scope,
        qs.select_related("engagement__person", "engagement__production"),
        "engagement__production__studio_id",
        "engagement__agreement__guild_id",
    )


def timecards(scope: Scope, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
    return _of_engagements(scope, Timecard.objects.all() if qs is None else qs)


def deliveries(scope: Scope, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
    return _of_engagements(scope, WgaDelivery.objects.all() if qs is None else qs)


def terms(scope: Scope, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
    return _of_engagements(scope, EngagementTerms.objects.all() if qs is None else qs)


def runs(scope: Scope, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
    """Pay runs (residual runs: compensation.residuals.selectors.runs)."""
    qs = (CompensationRun.objects.all() if qs is None else qs).filter(kind=CompensationRun.Kind.PAY)
    qs = qs.select_related("production")
    if scope.superuser or scope.payroll_key is not None:
        return _scoped(scope, qs, "production__studio_id", "production__agreements__guild_id")
    return qs.filter(
        Q(production__studio_id__in=scope.studio_ids)
        | Q(production__in=Production.objects.filter(agreements__guild_id__in=scope.guild_ids))
    )


def lines(scope: Scope, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
    qs = (CompensationLine.objects.all() if qs is None else qs).select_related(
        "engagement__person", "run"
    )
    return _scoped(scope, qs, "run__production__studio_id", "engagement__agreement__guild_id")


def rate_sheets(scope: Scope, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
    """Rate sheets are the guilds' published figures: every staff caller reads them."""
    qs = (RateSheet.objects.all() if qs is None else qs).select_related("agreement", "loaded_by")
    return qs.none() if scope.payroll_key is not None or scope.is_empty else qs


def hold_resolutions(scope: Scope, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
    qs = HoldResolution.objects.all() if qs is None else qs
    return qs.filter(ai_use__in=consent_selectors.ai_uses(scope))


def visible_exceptions(scope: Scope, run: CompensationRun) -> list[dict[str, Any]]:
    """A run's exceptions as the caller may see them: all of them for the production's studio
    staff, those of engagements under their guild's agreements for guild staff."""
    if scope.superuser or run.production.studio_id in scope.studio_ids:
        return list(run.exceptions)
    mine = set(
        Engagement.objects.filter(
            production_id=run.production_id, agreement__guild_id__in=scope.guild_ids
        ).values_list("id", flat=True)
    )
    return [e for e in run.exceptions if e.get("engagement") in mine]


# --- parameters -----------------------------------------------------------------------------


def current_parameters() -> Parameters:
    """The shipped parameters with every loaded sheet over them, the latest loaded winning where
    sheets overlap. Rebuilt only when a sheet has been loaded since the last call."""
    # Count and highest id: a sheet committed late under a lower id still changes the key.
    latest = tuple(RateSheet.objects.aggregate(n=Count("id"), top=Max("id")).values())
    cached = _parameters_cache.get("params")
    if isinstance(cached, Parameters) and _parameters_cache.get("latest") == latest:
        return cached
    params = shipped().with_overrides(sheet_overrides()) if latest[0] else shipped()
    _parameters_cache.update(params=params, latest=latest)
    return params


_parameters_cache: dict[str, object] = {}


def sheet_overrides() -> list[Override]:
    rows = RateSheetValue.objects.select_related("sheet__agreement").order_by("sheet_id", "id")
    return [
        Override(
            parameter=v.parameter,
            effective_from=v.effective_from,
            until=v.until,
            value=_trim(v.value),
            tier=v.tier,
            source=v.source,
            sheet=v.sheet.label,
            unit=v.unit,
            rule=v.rule,
        )
        for v in rows
    ]


def _trim(value: Decimal) -> Decimal:
    """A stored value without the column's trailing zeros: 1246.000000 -> 1246, 0.210000 -> 0.21."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def sheets_in_force() -> list[dict[str, Any]]:
    return [
        {"id": s.pk, "sheet": s.label, "sha256": s.sha256}
        for s in RateSheet.objects.select_related("agreement").order_by("id")
    ]


# --- run inputs -----------------------------------------------------------------------------


@dataclass
class EngagementInputs:
    """Everything a run needs of one engagement, from the database, in plain values."""

    engagement: Engagement
    period_from: date
    period_to: date
    terms: EngagementTerms | None = None
    timecards: list[Timecard] = field(default_factory=list)
    deliveries: list[WgaDelivery] = field(default_factory=list)
    uses: list[AiUse] = field(default_factory=list)
    prior_covered: dict[str, Decimal] = field(default_factory=dict)  # episode ("": none) -> amount


def use_date(use: AiUse) -> date:
    return timezone.localtime(use.starts_at).date()


def run_inputs(run: CompensationRun) -> tuple[list[EngagementInputs], list[AiUse]]:
    """The engagements of the run's production with their work records and AI uses in the
    period, and the uses of people not engaged on it (which no engagement can pay)."""
    engagements = (
        Engagement.objects.filter(production_id=run.production_id)
        .select_related("person", "agreement__guild", "production__studio")
        .order_by("id")
    )
    by_id = {e.pk: EngagementInputs(e, run.period_from, run.period_to) for e in engagements}
    for terms in EngagementTerms.objects.filter(engagement_id__in=by_id):
        by_id[terms.engagement_id].terms = terms
    period = {"date__gte": run.period_from, "date__lte": run.period_to}
    for card in Timecard.objects.filter(engagement_id__in=by_id, **period).order_by("date"):
        by_id[card.engagement_id].timecards.append(card)
    for delivery in WgaDelivery.objects.filter(engagement_id__in=by_id, **period).order_by(
        "date", "id"
    ):
        by_id[delivery.engagement_id].deliveries.append(delivery)
    unmatched = []
    by_person = defaultdict(list)
    for inputs in by_id.values():
        by_person[inputs.engagement.person_id].append(inputs)
    # A voided use was recorded by mistake: it produces no line, held or payable.
    uses = consent_selectors.not_voided(
        AiUse.objects.filter(production_id=run.production_id, person__isnull=False)
    ).select_related("consent", "agreement__guild", "hold_resolution")
    for use in uses.order_by("starts_at", "id"):
        if not run.period_from <= use_date(use) <= run.period_to:
            continue
        candidates = by_person.get(use.person_id, [])
        same_guild = [
            i for i in candidates if i.engagement.agreement.guild_id == use.agreement.guild_id
        ]
        if same_guild:
            same_guild[0].uses.append(use)
        else:
            unmatched.append(use)
    for (engagement_id, episode), amount in prior_covered(run).items():
        by_id[engagement_id].prior_covered[episode] = amount
    return list(by_id.values()), unmatched


def prior_covered(run: CompensationRun) -> dict[tuple[int, str], Decimal]:
    """Covered pay of the production's other periods, per engagement and episode: the lines of
    the latest approved run of each other period (for the P&H ceilings)."""
    latest: dict[tuple[date, date], int] = {}
    for r in CompensationRun.objects.filter(
        production_id=run.production_id, status=CompensationRun.Status.APPROVED
    ).exclude(period_from=run.period_from, period_to=run.period_to):
        key = (r.period_from, r.period_to)
        if key not in latest or r.pk > latest[key]:
            latest[key] = r.pk
    if not latest:
        return {}
    sums = (
        CompensationLine.objects.filter(
            run_id__in=latest.values(),
            kind=CompensationLine.Kind.PAY,
            status=CompensationLine.Status.PAYABLE,
            covered=True,
        )
        .values("engagement_id", "episode")
        .annotate(total=Sum("amount"))
    )
    return {(s["engagement_id"], s["episode"]): Decimal(s["total"]) for s in sums}


# (engagement id, line kind, pay rule or fringe fund, currency)
PostingKey = tuple[int, str, str, str]


def posted_so_far(run: CompensationRun) -> dict[PostingKey, tuple[Decimal, int | None]]:
    """What approvals of the run's production and period have posted so far, per (engagement,
    kind, key, currency), with the payable of each pay key."""
    rows = RunPosting.objects.filter(
        run__production_id=run.production_id,
        run__period_from=run.period_from,
        run__period_to=run.period_to,
    ).order_by("id")
    posted: dict[PostingKey, tuple[Decimal, int | None]] = {}
    for row in rows:
        key = (row.engagement_id, row.kind, row.key, row.currency)
        amount, payable_id = posted.get(key, (Decimal(0), None))
        posted[key] = (amount + row.amount, payable_id or row.payable_id)
    return posted


def resolutions(use_ids: Iterable[int]) -> dict[int, HoldResolution]:
    return {r.ai_use_id: r for r in HoldResolution.objects.filter(ai_use_id__in=use_ids)}
