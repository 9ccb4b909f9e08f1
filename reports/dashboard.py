"""The staff dashboard: each production's compliance state as the signed-in user sees it.

One row per production in the caller's scope (studio staff: their studios' productions; guild
staff: the productions under their guild's agreements, across studios; administrators: all).
Each measure is one grouped query over all those productions at once, scoped by the same
selector as the admin list it links to, so that a number and the rows behind its link agree:

- violations: AI uses recorded as violations.
- pending consents: planned AI uses (starting after now) that no consent covers yet, as decided
  when they were recorded: the consent the studio still has to obtain.
- expiring consents: consents in force (granted or suspended) whose term ends within the
  compliance report's window.
- owed and paid: what the journal's postings say was owed to and paid against the
  production's payables, per currency.
- overdue: what is still due on payables past their due date, per currency (the compliance
  report's rule).
- last report: the latest compliance report the caller can read that covers the production (its
  own, its studio's or its guild's).
- flags: flags for follow-up still open.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import Coalesce, RowNumber, TruncMonth
from django.urls import reverse

from consent import selectors as consent_selectors
from consent.models import AiUse, Consent
from core.money import money_str, round_money
from ledger import access
from ledger.access import Scope
from ledger.journal import selectors as journal_selectors
from ledger.models import Payable, Posting, Production, ProductionAgreement

from . import charts, compliance, selectors
from .models import Report

MEASURES = (
    ("violations", "Violations"),
    ("pending_consents", "Pending consents"),
    ("expiring_consents", "Consents expiring"),
    ("owed", "Owed"),
    ("paid", "Paid"),
    ("overdue", "Overdue"),
    ("last_report", "Last report"),
    ("flags", "Open flags"),
)


@dataclass
class Cell:
    """One link per line: a count, an amount with its currency (one line per currency), or a
    report's date."""

    lines: list[tuple[str, str]] = field(default_factory=list)  # (text, url)
    alert: bool = False  # something to act on


@dataclass
class ProductionState:
    production: Production
    cells: dict[str, Cell]


def _url(name: str, **params) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return reverse(f"admin:{name}") + (f"?{query}" if query else "")


# The production is a plain lookup (`production=<pk>`), not the sidebar's related filter: Django
# drops a related-only filter, and its parameter with it, when the list holds a single production.


def changelist_urls(production_id: int, expiry_days: int) -> dict:
    """Where each count's rows are listed: admin changelists with the filters that select them."""
    uses = dict(production=production_id, status=AiUse.Status.VIOLATION)
    return {
        "violations": _url("consent_aiuse_changelist", **uses),
        "pending_consents": _url("consent_aiuse_changelist", **uses, when="planned"),
        "expiring_consents": _url(
            "consent_consent_changelist", production=production_id, expiring=expiry_days
        ),
        "flags": _url("reports_flag_changelist", production=production_id, status="open"),
    }


def payables_url(production_id: int, currency: str | None = None, standing=None) -> str:
    return _url(
        "ledger_payable_changelist",
        production=production_id,
        currency__exact=currency,
        standing=standing,
    )


def dashboard(scope: Scope, *, now: datetime) -> list[ProductionState]:
    if scope.is_empty or scope.payroll_key is not None:
        return []
    productions = list(
        access.productions(scope, Production.objects.select_related("studio")).order_by(
            "studio__name", "title", "id"
        )
    )
    ids = [p.pk for p in productions]
    if not ids:
        return []
    counts = {
        "violations": _violations(scope, ids),
        "pending_consents": _pending_consents(scope, ids, now),
        "expiring_consents": _expiring_consents(scope, ids, now),
        "flags": _open_flags(scope, ids),
    }
    owed, paid = _owed_and_paid(scope, ids)
    overdue = _overdue(scope, ids, now)
    reports = _last_reports(scope, productions)
    days = compliance.EXPIRY_WINDOW.days
    rows = []
    for production in productions:
        pk = production.pk
        urls = changelist_urls(pk, days)
        cells = {
            key: Cell([(str(counts[key].get(pk, 0)), urls[key])], alert=pk in counts[key])
            for key in counts
        }
        cells["owed"] = _money_cell(owed.get(pk), pk, None)
        cells["paid"] = _money_cell(paid.get(pk), pk, "paid")
        cells["overdue"] = _money_cell(overdue.get(pk), pk, "overdue")
        cells["overdue"].alert = bool(overdue.get(pk))
        cells["last_report"] = _report_cell(reports.get(pk))
        rows.append(ProductionState(production, cells))
    return rows


def _money_cell(amounts: dict | None, production_id: int, standing: str | None) -> Cell:
    if not amounts:
        return Cell([("none", payables_url(production_id, standing=standing))])
    return Cell(
        [
            (f"{money_str(amount)} {currency}", payables_url(production_id, currency, standing))
            for currency, amount in sorted(amounts.items())
        ]
    )


def _report_cell(report: Report | None) -> Cell:
    if report is None:
        return Cell([("none yet", reverse("admin:reports_report_run"))])
    url = reverse("admin:reports_report_change", args=[report.pk])
    return Cell([(f"{report.generated_at:%Y-%m-%d} ({report.scope_kind})", url)])


def _per_production(qs, path: str = "production_id") -> dict[int, int]:
    rows = qs.order_by().values(path).annotate(n=Count("id")).values_list(path, "n")
    return dict(rows)


# --- the measures: one grouped query each -----------------------------------------------------


def _violations(scope: Scope, ids: list[int]) -> dict[int, int]:
    qs = AiUse.objects.filter(production_id__in=ids, status=AiUse.Status.VIOLATION)
    return _per_production(consent_selectors.ai_uses(scope, consent_selectors.not_voided(qs)))


def _pending_consents(scope: Scope, ids: list[int], now: datetime) -> dict[int, int]:
    qs = AiUse.objects.filter(
        production_id__in=ids, status=AiUse.Status.VIOLATION, starts_at__gt=now
    )
    return _per_production(consent_selectors.ai_uses(scope, consent_selectors.not_voided(qs)))


def _expiring_consents(scope: Scope, ids: list[int], now: datetime) -> dict[int, int]:
    qs = consent_selectors.consents_expiring(
        Consent.objects.filter(production_id__in=ids), now=now, within=compliance.EXPIRY_WINDOW
    )
    return _per_production(consent_selectors.consents(scope, qs))


def _open_flags(scope: Scope, ids: list[int]) -> dict[int, int]:
    qs = selectors.open_flags(scope).filter(subject_production_id__in=ids)
    return _per_production(qs, "subject_production_id")


def _owed_and_paid(scope: Scope, ids: list[int]) -> tuple[dict, dict]:
    """{production: {currency: amount}} owed and paid, from the payables' postings."""
    payables = journal_selectors.scoped_payables(
        scope, Payable.objects.filter(production_id__in=ids)
    )
    sums = (
        Posting.objects.filter(payable__in=payables.values("id"))
        .order_by()
        .values("payable__production_id", "payable__currency")
        .annotate(
            owed=Coalesce(-Sum("amount", filter=Q(effect="owed")), journal_selectors.ZERO),
            paid=Coalesce(Sum("amount", filter=Q(effect="paid")), journal_selectors.ZERO),
        )
    )
    owed: defaultdict[int, dict[str, Decimal]] = defaultdict(dict)
    paid: defaultdict[int, dict[str, Decimal]] = defaultdict(dict)
    for row in sums:
        production, currency = row["payable__production_id"], row["payable__currency"]
        owed[production][currency] = round_money(Decimal(row["owed"]))
        if round_money(Decimal(row["paid"])):
            paid[production][currency] = round_money(Decimal(row["paid"]))
    return owed, paid


def _overdue(scope: Scope, ids: list[int], now: datetime) -> dict:
    """{production: {currency: still due}} on past-due payables (the compliance report's rule)."""
    past_due = compliance.past_due_payables(
        scope, Payable.objects.filter(production_id__in=ids), now.date()
    )
    sums = compliance.overdue_sums(past_due, "payable__production_id", "payable__currency")
    overdue: defaultdict[int, defaultdict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row, _owed, due in compliance.overdue_amounts(sums):
        overdue[row["payable__production_id"]][row["payable__currency"]] += due
    return overdue


def _last_reports(scope: Scope, productions: list[Production]) -> dict[int, Report]:
    """The latest readable report covering each production: its own, its studio's, or that of
    a guild whose agreement is attached to it."""
    guilds = defaultdict(set)
    attached = ProductionAgreement.objects.filter(production__in=productions).values_list(
        "production_id", "agreement__guild__code"
    )
    for production_id, code in attached:
        guilds[production_id].add(f"guild:{code}")
    keys = {
        pk: {f"production:{pk}", f"studio:{studio}", *guilds[pk]}
        for pk, studio in ((p.pk, p.studio_id) for p in productions)
    }
    latest = (
        selectors.reports(scope, Report.objects.filter(scope_key__in=set().union(*keys.values())))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("scope_key")],
                order_by=[F("generated_at").desc(), F("id").desc()],
            )
        )
        .filter(rank=1)
        .defer("content")
    )
    by_key = {report.scope_key: report for report in latest}
    found: dict[int, Report] = {}
    for pk, wanted in keys.items():
        candidates = [by_key[k] for k in wanted if k in by_key]
        if candidates:
            found[pk] = max(candidates, key=lambda r: (r.generated_at, r.pk))
    return found


# --- the charts under the table -----------------------------------------------------------------

# Days late (from, to, label): the age buckets of what is past due. `to` None: no upper bound.
AGE_BUCKETS = (
    (1, 30, "1-30 days late"),
    (31, 60, "31-60 days late"),
    (61, 90, "61-90 days late"),
    (91, None, "over 90 days late"),
)
OWED_MONTHS = 12  # owed against paid: this month and the eleven before it
VIOLATION_MONTHS = 12  # violations: this month and the eleven before it
EXPIRY_MONTHS = 6  # consents expiring: this month and the five after it
CHARTED_PRODUCTIONS = 20  # owed against paid is drawn for the first productions of the table


@dataclass
class DashboardCharts:
    """The dashboard's charts, each an inline SVG (reports.charts)."""

    overdue: Sequence[str]  # one per currency with something past due
    owed_and_paid: Sequence[tuple[Production, Sequence[str]]]  # per currency, per production
    not_charted: int  # productions of the table beyond CHARTED_PRODUCTIONS
    violations: str
    expiring: str


def age_buckets(amounts) -> dict[str, list[tuple[str, Decimal]]]:
    """{currency: [(bucket label, amount still due)]} of (days late, currency, amount) items,
    every bucket listed (an empty one at zero) for each currency that has any."""
    totals: defaultdict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(AGE_BUCKETS))
    for days_late, currency, amount in amounts:
        for i, (low, high, _label) in enumerate(AGE_BUCKETS):
            if days_late >= low and (high is None or days_late <= high):
                totals[currency][i] += Decimal(amount)
    return {
        currency: [
            (label, round_money(v)) for (_l, _h, label), v in zip(AGE_BUCKETS, values, strict=True)
        ]
        for currency, values in sorted(totals.items())
    }


def month_starts(today: date, before: int, after: int = 0) -> list[date]:
    """The first days of `before` months up to this one (included) and of `after` more."""
    first = today.replace(day=1)
    index = first.year * 12 + first.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - before + 1, index + after + 1)]


def _next_month(d: date) -> date:
    return month_starts(d, 1, 1)[-1]


def dashboard_charts(scope: Scope, *, now: datetime) -> DashboardCharts | None:
    """The charts of what the dashboard's table counts, over the same productions and scoped by
    the same selectors."""
    if scope.is_empty or scope.payroll_key is not None:
        return None
    productions = list(
        access.productions(scope, Production.objects.select_related("studio")).order_by(
            "studio__name", "title", "id"
        )
    )
    ids = [p.pk for p in productions]
    today = now.date()
    overdue = [
        charts.bar_chart(f"Past due by age ({currency})", buckets, currency)
        for currency, buckets in overdue_by_age(scope, ids, today).items()
    ]
    shown = productions[:CHARTED_PRODUCTIONS]
    over_time = owed_and_paid_by_month(scope, [p.pk for p in shown], today)
    owed_and_paid = []
    for production in shown:
        per_currency = over_time.get(production.pk, {})
        drawn = [
            charts.line_chart(f"{production.title}: owed and paid ({currency})", series, currency)
            for currency, series in sorted(per_currency.items())
        ]
        if drawn:
            owed_and_paid.append((production, drawn))
    violations = charts.bar_chart(
        f"Violations per month (last {VIOLATION_MONTHS} months)",
        violations_by_month(scope, ids, today),
        "violations",
    )
    expiring = charts.bar_chart(
        f"Consents expiring per month (next {EXPIRY_MONTHS} months)",
        expiring_by_month(scope, ids, now),
        "consents",
    )
    return DashboardCharts(
        overdue=overdue,
        owed_and_paid=owed_and_paid,
        not_charted=max(0, len(productions) - CHARTED_PRODUCTIONS),
        violations=violations,
        expiring=expiring,
    )


def overdue_by_age(scope: Scope, ids: list[int], today: date) -> dict:
    """{currency: [(age bucket, still due)]} of past-due payables (the compliance report's
    rule), by how many days late each payable is."""
    past_due = compliance.past_due_payables(
        scope, Payable.objects.filter(production_id__in=ids), today
    )
    sums = compliance.overdue_sums(past_due, "payable__due_date", "payable__currency")
    return age_buckets(
        ((today - row["payable__due_date"]).days, row["payable__currency"], due)
        for row, _owed, due in compliance.overdue_amounts(sums)
    )


def owed_and_paid_by_month(scope: Scope, ids: list[int], today: date) -> dict:
    """{production: {currency: {"Owed": [(date, amount)], "Paid": [...]}}}: what the postings of
    the production's payables say was owed and paid in all, by their transactions' effective
    dates, at the end of each of the last OWED_MONTHS months (today, for this month)."""
    payables = journal_selectors.scoped_payables(
        scope, Payable.objects.filter(production_id__in=ids)
    )
    sums = (
        Posting.objects.filter(
            payable__in=payables.values("id"), transaction__effective_date__lte=today
        )
        .order_by()
        .annotate(month=TruncMonth("transaction__effective_date"))
        .values("payable__production_id", "payable__currency", "month")
        .annotate(
            owed=Coalesce(-Sum("amount", filter=Q(effect="owed")), journal_selectors.ZERO),
            paid=Coalesce(Sum("amount", filter=Q(effect="paid")), journal_selectors.ZERO),
        )
    )
    monthly: defaultdict[tuple[int, str], list[tuple[date, Decimal, Decimal]]] = defaultdict(list)
    for row in sums:
        month = row["month"]
        month = month.date() if isinstance(month, datetime) else month
        key = (row["payable__production_id"], row["payable__currency"])
        monthly[key].append(
            (month, round_money(Decimal(row["owed"])), round_money(Decimal(row["paid"])))
        )
    ends = [
        min(_next_month(start) - timedelta(days=1), today)
        for start in month_starts(today, OWED_MONTHS)
    ]
    found: defaultdict[int, dict[str, dict[str, list[tuple[date, Decimal]]]]] = defaultdict(dict)
    for (production, currency), months in monthly.items():
        owed_line, paid_line = [], []
        for end in ends:
            owed_line.append((end, sum((o for m, o, _p in months if m <= end), Decimal(0))))
            paid_line.append((end, sum((p for m, _o, p in months if m <= end), Decimal(0))))
        found[production][currency] = {"Owed": owed_line, "Paid": paid_line}
    return found


def violations_by_month(scope: Scope, ids: list[int], today: date) -> list[tuple[str, Decimal]]:
    """[(month, violations)]: the uses recorded as violations (the table's count), by the month
    they start in, over the last VIOLATION_MONTHS months."""
    starts = month_starts(today, VIOLATION_MONTHS)
    begin = datetime.combine(starts[0], time.min, tzinfo=UTC)
    end = datetime.combine(_next_month(today), time.min, tzinfo=UTC)
    qs = AiUse.objects.filter(
        production_id__in=ids,
        status=AiUse.Status.VIOLATION,
        starts_at__gte=begin,
        starts_at__lt=end,
    )
    counts = _per_month(
        consent_selectors.ai_uses(scope, consent_selectors.not_voided(qs)),
        TruncMonth("starts_at", tzinfo=UTC),
    )
    return [(f"{m:%b %Y}", Decimal(counts.get(m, 0))) for m in starts]


def expiring_by_month(scope: Scope, ids: list[int], now: datetime) -> list[tuple[str, Decimal]]:
    """[(month, consents)]: consents in force whose term ends in each month from today to the
    end of the EXPIRY_MONTHS-th month (this one included)."""
    today = now.date()
    starts = month_starts(today, 1, EXPIRY_MONTHS - 1)
    last = _next_month(starts[-1]) - timedelta(days=1)
    qs = consent_selectors.consents_expiring(
        Consent.objects.filter(production_id__in=ids), now=now, within=last - today
    )
    counts = _per_month(consent_selectors.consents(scope, qs), TruncMonth("term_to"))
    return [(f"{m:%b %Y}", Decimal(counts.get(m, 0))) for m in starts]


def _per_month(qs, month) -> dict[date, int]:
    rows = qs.order_by().annotate(month=month).values("month").annotate(n=Count("id"))
    found: dict[date, int] = {}
    for row in rows:
        m = row["month"]
        m = m.date() if isinstance(m, datetime) else m
        found[m] = found.get(m, 0) + row["n"]
    return found
