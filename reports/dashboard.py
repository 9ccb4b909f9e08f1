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
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse

from consent import selectors as consent_selectors
from consent.models import AiUse, Consent
from core.money import money_str, round_money
from ledger import access
from ledger.access import Scope
from ledger.journal import selectors as journal_selectors
from ledger.models import Payable, Posting, Production, ProductionAgreement

from . import compliance, selectors
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
