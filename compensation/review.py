"""The review of a run before its approval, for pay runs and residual runs alike.

A computed run is approved only after a person has looked at what it will post:
- **totals** per person (pay lines; residual lines to a person) and per union fund (fringe lines;
  residual lines to a fund), in each currency;
- the **differences** from the last approved run of the same production, kind and period (a
  rerun after a corrected timecard, a released hold, a newly loaded schedule), line by line:
  lines added, removed, or changed with their amounts before and after;
- the **items that need a person's acknowledgement**: every exception of the run (what could not
  be computed, e.g. `rate_missing`) and every group of lines flagged `needs_confirmation` (a
  figure of tier T or D was used, RULES.md), one item per (rule, tier) with its count, so that a
  run of ten thousand people lists a handful of items rather than ten thousand.

Each item has a stable key (`exception:<index>:<code>:<rule>`, `confirm:<rule>:<tier>`); a run's
lines and exceptions are fixed once computed, so its items are too. Studio staff of the
production acknowledge each item with a note (`RunAcknowledgement`, append-only, once per item);
`compensation.runs.run_approve` refuses a run while any item is unacknowledged.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from core.audit import save_audited
from core.errors import Conflict, DomainError, Forbidden
from core.money import money_str
from ledger import access
from ledger.access import SYSTEM_SCOPE, Scope
from ledger.journal.services import fund_title
from ledger.models import Engagement, Person

from . import selectors
from .models import CompensationLine, CompensationRun, ResidualLine
from .models.pay import RunAcknowledgement
from .residuals import selectors as residual_selectors

CONFIRM_FLAG = "needs_confirmation"
# The differences listed; a larger rerun lists the first ones and counts them all.
MAX_DIFFERENCES = 1000
MAX_NOTE = 2000
TIER_TITLES = {"T": "unverified (tier T)", "D": "derived (tier D)"}


@dataclass(frozen=True)
class Total:
    """What one payee is owed by the run's lines in one currency."""

    payee_kind: str  # "person" or "fund"
    payee: str  # the person's name, or the fund's title
    payee_id: str  # the person's id, or the fund's code
    currency: str
    amount: Decimal
    lines: int


@dataclass(frozen=True)
class Difference:
    """One line (lines of one key summed) of the run against the last approved run."""

    change: str  # "added", "removed" or "changed"
    payee: str
    engagement: int | None
    fund: str
    rule: str
    on: date | None  # pay: the line's date; residuals: none (the exhibition says when)
    exhibition: int | None
    detail: str  # pay: the episode; residuals: the territory
    currency: str
    before: Decimal | None
    after: Decimal | None

    @property
    def delta(self) -> Decimal:
        return (self.after or Decimal(0)) - (self.before or Decimal(0))


@dataclass(frozen=True)
class Item:
    """Something a person must acknowledge before the run is approved."""

    key: str
    kind: str  # "exception" or "confirmation"
    code: str
    rule: str
    tier: str
    count: int
    message: str
    detail: dict[str, Any] = field(default_factory=dict)
    acknowledgement: RunAcknowledgement | None = None


@dataclass
class Review:
    run: CompensationRun
    people: list[Total]
    funds: list[Total]
    compared_with: CompensationRun | None
    differences: list[Difference]
    difference_counts: dict[str, int]
    items: list[Item]

    @property
    def differences_truncated(self) -> bool:
        return sum(self.difference_counts.values()) > len(self.differences)

    @property
    def missing(self) -> list[str]:
        """The keys of the items no one has acknowledged yet."""
        return [i.key for i in self.items if i.acknowledgement is None]

    @property
    def complete(self) -> bool:
        return not self.missing


# --- reading --------------------------------------------------------------------------------


def review(run: CompensationRun, scope: Scope) -> Review:
    """The run's review as the caller (`scope`) may see it: the lines and exceptions of their
    scope (all of them for the production's studio staff)."""
    people, funds = _totals(run, scope)
    previous = last_approved(run)
    differences, counts = _differences(run, previous, scope) if previous else ([], {})
    return Review(
        run=run,
        people=people,
        funds=funds,
        compared_with=previous,
        differences=differences,
        difference_counts={"added": 0, "removed": 0, "changed": 0, **counts},
        items=items(run, scope),
    )


def missing(run: CompensationRun) -> list[str]:
    """The keys of every item of the run (whoever may see it) not yet acknowledged."""
    return [i.key for i in items(run, SYSTEM_SCOPE) if i.acknowledgement is None]


def last_approved(run: CompensationRun) -> CompensationRun | None:
    """The approved run of the same production, kind and period that this one follows."""
    return (
        CompensationRun.objects.filter(
            production_id=run.production_id,
            kind=run.kind,
            period_from=run.period_from,
            period_to=run.period_to,
            status=CompensationRun.Status.APPROVED,
            pk__lt=run.pk,
        )
        .order_by("-pk")
        .first()
    )


def _residual(run: CompensationRun) -> bool:
    return run.kind == CompensationRun.Kind.RESIDUALS


def _lines(run_id: int, residual: bool, scope: Scope) -> QuerySet[Any]:
    """The lines of a run that owe something, as the caller may see them."""
    if residual:
        return residual_selectors.lines(scope, ResidualLine.objects.filter(run_id=run_id))
    return selectors.lines(
        scope,
        CompensationLine.objects.filter(run_id=run_id, status=CompensationLine.Status.PAYABLE),
    )


def _totals(run: CompensationRun, scope: Scope) -> tuple[list[Total], list[Total]]:
    residual = _residual(run)
    rows = (
        _lines(run.pk, residual, scope)
        .values("engagement__person_id", "fund", "currency")
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by()
    )
    people: defaultdict[tuple[int, str], list] = defaultdict(lambda: [Decimal(0), 0])
    funds: defaultdict[tuple[str, str], list] = defaultdict(lambda: [Decimal(0), 0])
    for row in rows:
        # A pay run's fringe lines, and a residual run's fund lines, go to the fund.
        if row["fund"]:
            sums = funds[row["fund"], row["currency"]]
        else:
            sums = people[row["engagement__person_id"], row["currency"]]
        sums[0] += Decimal(row["total"])
        sums[1] += row["n"]
    names = Person.objects.in_bulk({person for person, _ in people})
    person_totals = [
        Total("person", str(names[person]), str(person), currency, amount, n)
        for (person, currency), (amount, n) in people.items()
    ]
    fund_totals = [
        Total("fund", fund_title(fund), fund, currency, amount, n)
        for (fund, currency), (amount, n) in funds.items()
    ]
    order = lambda t: (t.payee.lower(), t.payee_id, t.currency)  # noqa: E731
    return sorted(person_totals, key=order), sorted(fund_totals, key=order)


# Lines are matched by payee, rule and when (pay: date and episode; residuals: the exhibition
# and territory); lines of one key are summed.
PAY_KEY = ("engagement_id", "fund", "rule", "date", "episode", "currency")
RESIDUAL_KEY = ("engagement_id", "fund", "rule", "exhibition_id", "territory", "currency")


def _sums(run_id: int, residual: bool, scope: Scope) -> dict[tuple, Decimal]:
    fields = RESIDUAL_KEY if residual else PAY_KEY
    rows = _lines(run_id, residual, scope).values(*fields).annotate(total=Sum("amount")).order_by()
    return {tuple(row[f] for f in fields): Decimal(row["total"]) for row in rows}


def _sort_key(key: tuple) -> tuple:
    return tuple((v is not None, v if v is not None else 0) for v in key)


def _differences(
    run: CompensationRun, previous: CompensationRun, scope: Scope
) -> tuple[list[Difference], dict[str, int]]:
    residual = _residual(run)
    before = _sums(previous.pk, residual, scope)
    after = _sums(run.pk, residual, scope)
    counts = {"added": 0, "removed": 0, "changed": 0}
    changed: list[tuple[str, tuple, Decimal | None, Decimal | None]] = []
    for key in sorted(set(before) | set(after), key=_sort_key):
        was, now = before.get(key), after.get(key)
        if was == now:
            continue
        change = "added" if was is None else "removed" if now is None else "changed"
        counts[change] += 1
        if len(changed) < MAX_DIFFERENCES:
            changed.append((change, key, was, now))
    engagements = Engagement.objects.select_related("person").in_bulk(
        {key[0] for _, key, _, _ in changed if key[0] is not None}
    )
    out = []
    for change, key, was, now in changed:
        engagement_id, fund, rule, when, detail, currency = key
        person = engagements.get(engagement_id) if engagement_id else None
        name = str(person.person) if person is not None else ""
        payee = f"{fund_title(fund)} (for {name})" if fund and name else fund_title(fund) or name
        out.append(
            Difference(
                change=change,
                payee=payee,
                engagement=engagement_id,
                fund=fund,
                rule=rule,
                on=None if residual else when,
                exhibition=when if residual else None,
                detail=detail,
                currency=currency,
                before=was,
                after=now,
            )
        )
    return out, counts


def _flagged(qs: QuerySet[Any], flag: str) -> QuerySet[Any]:
    if connection.vendor == "postgresql":
        return qs.filter(flags__contains=[flag])
    return qs.filter(flags__icontains=f'"{flag}"')


def items(run: CompensationRun, scope: Scope) -> list[Item]:
    """The items of the run to acknowledge that the caller may see, each with its
    acknowledgement if it has one: its exceptions, then its groups of lines needing
    confirmation."""
    residual = _residual(run)
    acknowledged = {
        a.key: a
        for a in RunAcknowledgement.objects.filter(run_id=run.pk).select_related("acknowledged_by")
    }
    # From the database: a page may have cut the run's exceptions to what its caller sees.
    exceptions = (
        CompensationRun.objects.filter(pk=run.pk).values_list("exceptions", flat=True).get()
    )
    visible = _visible_exceptions(run, scope, exceptions or [])
    out = []
    for index, e in visible:
        key = exception_key(index, e)
        out.append(
            Item(
                key=key,
                kind="exception",
                code=str(e.get("code") or ""),
                rule=str(e.get("rule") or ""),
                tier="",
                count=1,
                message=str(e.get("message") or ""),
                detail=e,
                acknowledgement=acknowledged.get(key),
            )
        )
    if residual:
        lines = _flagged(
            residual_selectors.lines(scope, ResidualLine.objects.filter(run_id=run.pk)),
            CONFIRM_FLAG,
        )
    else:
        # Held lines too (a figure to confirm whenever it is paid); void lines owe nothing.
        lines = _flagged(
            selectors.lines(
                scope,
                CompensationLine.objects.filter(run_id=run.pk).exclude(
                    status=CompensationLine.Status.VOID
                ),
            ),
            CONFIRM_FLAG,
        )
    groups: defaultdict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"count": 0, "amounts": defaultdict(Decimal)}
    )
    rows = lines.values("rule", "tier", "currency").annotate(n=Count("id"), total=Sum("amount"))
    for row in rows.order_by():
        group = groups[row["rule"], row["tier"]]
        group["count"] += row["n"]
        group["amounts"][row["currency"]] += Decimal(row["total"])
    for (rule, tier), group in sorted(groups.items()):
        key = confirm_key(rule, tier)
        count = group["count"]
        what = "line rests" if count == 1 else "lines rest"
        figure = TIER_TITLES.get(tier, f"tier {tier}" if tier else "weak-evidence")
        out.append(
            Item(
                key=key,
                kind="confirmation",
                code=CONFIRM_FLAG,
                rule=rule,
                tier=tier,
                count=count,
                message=f"{count} {what} on an {figure} figure of {rule}: confirm it, or load "
                "the official figure and run the period again.",
                detail={
                    "amounts": [
                        {"currency": c, "amount": money_str(a)}
                        for c, a in sorted(group["amounts"].items())
                    ]
                },
                acknowledgement=acknowledged.get(key),
            )
        )
    return out


def exception_key(index: int, exception: dict[str, Any]) -> str:
    return f"exception:{index}:{exception.get('code') or ''}:{exception.get('rule') or ''}"


def confirm_key(rule: str, tier: str) -> str:
    return f"confirm:{rule}:{tier}"


def _visible_exceptions(
    run: CompensationRun, scope: Scope, exceptions: list[dict[str, Any]]
) -> list[tuple[int, dict[str, Any]]]:
    """The run's exceptions the caller may see, with their places in the run's list: all for
    the production's studio staff; for guild staff, those of their guild's engagements (pay)
    or agreements (residuals), as the runs' APIs show them."""
    numbered = list(enumerate(exceptions))
    if scope.superuser or run.production.studio_id in scope.studio_ids:
        return numbered
    mine = Engagement.objects.filter(
        production_id=run.production_id, agreement__guild_id__in=scope.guild_ids
    )
    if _residual(run):
        codes = set(mine.values_list("agreement__code", flat=True))
        return [(i, e) for i, e in numbered if e.get("agreement") in codes]
    ids = set(mine.values_list("id", flat=True))
    return [(i, e) for i, e in numbered if e.get("engagement") in ids]


# --- acknowledging --------------------------------------------------------------------------


@transaction.atomic
def acknowledge(
    *, actor: Any, run: CompensationRun, key: str, note: str, scope: Scope | None = None
) -> RunAcknowledgement:
    """Record `actor`'s note on one item of the run's review. Only the production's studio
    staff acknowledge (`scope`: the caller's; by default the actor's own), only while the run
    awaits approval, only an item of its review, and each item once."""
    scope = access.scope_for(actor) if scope is None else scope
    run = CompensationRun.objects.select_for_update().select_related("production").get(pk=run.pk)
    if not scope.can_write_studio(run.production.studio_id):
        raise Forbidden("Only the production's studio staff acknowledge its runs' items.")
    if run.status != CompensationRun.Status.COMPUTED:
        raise Conflict(
            f"Items are acknowledged while the run awaits approval; this one is {run.status}.",
            code="run_not_computed",
        )
    key = (key or "").strip()
    note = (note or "").strip()
    if not note:
        raise DomainError(
            "Say why the item may be approved as it is.", fields={"note": "Required."}
        )
    if len(note) > MAX_NOTE:
        raise DomainError(
            f"A note has at most {MAX_NOTE} characters.", fields={"note": "Too long."}
        )
    keys = {i.key for i in items(run, SYSTEM_SCOPE)}
    if key not in keys:
        raise DomainError(
            "This run's review has no such item.",
            code="unknown_item",
            fields={"key": "Not an item of this run's review."},
        )
    if RunAcknowledgement.objects.filter(run=run, key=key).exists():
        raise Conflict("This item is already acknowledged.", code="already_acknowledged")
    return save_audited(
        RunAcknowledgement(
            run=run,
            key=key,
            note=note,
            acknowledged_by=actor,
            acknowledged_at=timezone.now(),
        ),
        actor=actor,
    )
