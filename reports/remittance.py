"""The union-fund remittance report: what a studio owes a benefit plan for one period, member by
member and production by production, as the plan expects to receive it with the money.

Every union-fund contribution is a ledger payable of its own (person empty, `fund` the plan's
code): a member's pension and health on pay or residuals names the member's engagement; the
SAG-AFTRA fund's share of a success bonus names none. The report takes the fund's payables
whose obligation period ends (`period_to`) within the asked period, in the caller's scope
(studio staff and payroll keys: their studios; guild staff: payables under their guild's
agreements), and shows for each production one row per member and rule (a share with no member
is a row of its own, "no member: <rule>"), with the member's number in the fund's guild where
the registry has one.

Owed, paid and due are sums of the journal's postings, never stored figures; the report carries
the same postings summed a second way, per currency (`postings`), so that anyone can check that
its totals are the fund's postings.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from core import csv_safe
from core.errors import DomainError
from core.money import money_display, money_str, round_money
from ledger import access
from ledger.access import Scope
from ledger.journal import selectors as journal_selectors
from ledger.journal.services import FUND_TITLES, fund_title
from ledger.models import Membership, Payable, Posting, Studio

ZERO = Decimal("0.00")
CSV_COLUMNS = (
    "fund",
    "period_from",
    "period_to",
    "studio",
    "production",
    "person",
    "member",
    "member_number",
    "rule",
    "currency",
    "owed",
    "paid",
    "due",
    "due_date",
)


@dataclass(frozen=True)
class Amounts:
    """Owed, paid and due in one currency, to the cent."""

    currency: str
    owed: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def due(self) -> Decimal:
        return round_money(self.owed - self.paid)

    def __add__(self, other: "Amounts") -> "Amounts":
        assert other.currency == self.currency
        return Amounts(
            self.currency, round_money(self.owed + other.owed), round_money(self.paid + other.paid)
        )

    def as_json(self) -> dict:
        return {
            "currency": self.currency,
            "owed": money_str(self.owed),
            "paid": money_str(self.paid),
            "due": money_str(self.due),
        }

    def display(self) -> dict:
        """The amounts as a person reads them ("1,234.50 USD")."""
        return {
            name: money_display(getattr(self, name), self.currency)
            for name in ("owed", "paid", "due")
        }


@dataclass
class Row:
    """A member's contributions to the fund on one production under one rule, in one currency
    (or, with no member, the fund's own share under that rule)."""

    person_id: int | None
    member_name: str | None
    member_number: str | None
    rule: str
    amounts: Amounts
    due_date: date  # the earliest due date of its payables
    payable_ids: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.person_id is None:
            return f"no member: {self.rule}"
        return self.member_name or ""

    def as_json(self) -> dict:
        member = None
        if self.person_id is not None:
            member = {
                "id": self.person_id,
                "name": self.member_name,
                "member_number": self.member_number,
            }
        return {
            "member": member,
            "label": self.label,
            "rule": self.rule,
            **self.amounts.as_json(),
            "due_date": self.due_date.isoformat(),
            "payables": self.payable_ids,
        }


@dataclass
class ProductionRemittance:
    production_id: int
    title: str
    studio_slug: str
    studio_name: str
    rows: list[Row]
    totals: list[Amounts]

    def as_json(self) -> dict:
        return {
            "id": self.production_id,
            "title": self.title,
            "studio": {"slug": self.studio_slug, "name": self.studio_name},
            "rows": [row.as_json() for row in self.rows],
            "totals": [t.as_json() for t in self.totals],
        }


@dataclass
class Remittance:
    fund: str
    fund_title: str
    period_from: date
    period_to: date
    studio: Studio | None
    generated_at: datetime
    productions: list[ProductionRemittance]
    totals: list[Amounts]  # per currency, summed from the rows
    postings: list[Amounts]  # per currency, summed directly from the postings

    @property
    def rows(self) -> list[tuple[ProductionRemittance, Row]]:
        return [(p, row) for p in self.productions for row in p.rows]

    def as_json(self) -> dict:
        return {
            "fund": self.fund,
            "fund_title": self.fund_title,
            "period_from": self.period_from.isoformat(),
            "period_to": self.period_to.isoformat(),
            "studio": self.studio.slug if self.studio else None,
            "generated_at": self.generated_at.isoformat().replace("+00:00", "Z"),
            "productions": [p.as_json() for p in self.productions],
            "totals": [t.as_json() for t in self.totals],
            "postings": [t.as_json() for t in self.postings],
        }

    def csv_text(self) -> str:
        """One line per row (its production's and member's names with it); the totals are the
        sums of the columns."""
        rows = (
            [
                self.fund,
                self.period_from,
                self.period_to,
                production.studio_slug,
                production.title,
                row.person_id,
                row.label,
                row.member_number,
                row.rule,
                row.amounts.currency,
                money_str(row.amounts.owed),
                money_str(row.amounts.paid),
                money_str(row.amounts.due),
                row.due_date,
            ]
            for production, row in self.rows
        )
        return csv_safe.text(CSV_COLUMNS, rows)

    def file_name(self, extension: str) -> str:
        studio = f"-{self.studio.slug}" if self.studio else ""
        return f"remittance-{self.fund}{studio}-{self.period_from}-{self.period_to}.{extension}"


# --- parameters ------------------------------------------------------------------------------


def known_funds() -> list[str]:
    """The funds a report can be asked for: every fund the product pays (ledger FUND_TITLES)."""
    return sorted(FUND_TITLES)


def fund_choices() -> list[tuple[str, str]]:
    return [(code, f"{fund_title(code)} ({code})") for code in known_funds()]


def check_parameters(*, fund: str, period_from: date, period_to: date) -> None:
    """Refuse an unknown fund, naming the field. The period is a filter: one that ends before
    it starts holds no contribution, and any length is read (the report is a few grouped
    queries whatever it covers)."""
    if fund not in known_funds():
        raise DomainError(
            f"Unknown fund {fund!r}.",
            fields={"fund": f"Choose one of: {', '.join(known_funds())}."},
        )


def scoped_studio(scope: Scope, slug: str) -> Studio:
    """The studio of that slug, if the caller sees it; one answer whether it exists or not."""
    studio = access.studios(scope).filter(slug=slug).first()
    if studio is None:  # a schema-valid slug naming nothing the caller sees: not found
        raise DomainError(
            "No such studio.",
            code="not_found",
            status_code=404,
            fields={"studio": "No such studio in your scope."},
        )
    return studio


# --- the report ------------------------------------------------------------------------------


def remittance(
    scope: Scope,
    *,
    fund: str,
    period_from: date,
    period_to: date,
    studio: str | None = None,
) -> Remittance:
    """The fund's remittance for the period (obligations whose period ends in it), in `scope`,
    optionally for one studio (its slug)."""
    check_parameters(fund=fund, period_from=period_from, period_to=period_to)
    chosen = scoped_studio(scope, studio) if studio else None
    payables = journal_selectors.scoped_payables(
        scope,
        Payable.objects.filter(fund=fund, period_to__gte=period_from, period_to__lte=period_to),
    )
    if chosen is not None:
        payables = payables.filter(studio=chosen)

    postings = Posting.objects.filter(payable__in=payables.values("id")).order_by()
    owed_paid = {
        "owed": Coalesce(-Sum("amount", filter=Q(effect="owed")), journal_selectors.ZERO),
        "paid": Coalesce(Sum("amount", filter=Q(effect="paid")), journal_selectors.ZERO),
    }
    # SQLite sums decimals as floats: each sum is rounded to the cent (round_money).
    per_payable = {
        s["payable_id"]: (round_money(Decimal(s["owed"])), round_money(Decimal(s["paid"])))
        for s in postings.values("payable_id").annotate(**owed_paid)
    }
    posted = [
        Amounts(s["currency"], round_money(Decimal(s["owed"])), round_money(Decimal(s["paid"])))
        for s in postings.values("currency").annotate(**owed_paid).order_by("currency")
    ]

    loaded = list(
        payables.select_related("production__studio", "engagement__person", "agreement").order_by(
            "id"
        )
    )
    numbers = _member_numbers(loaded)
    groups: dict[tuple, Row] = {}
    for payable in loaded:
        person = payable.engagement.person if payable.engagement else None
        guild_id = payable.agreement.guild_id if payable.agreement else None
        key = (payable.production_id, person.pk if person else None, payable.rule, payable.currency)
        owed, paid = per_payable.get(payable.pk, (ZERO, ZERO))
        amounts = Amounts(payable.currency, owed, paid)
        row = groups.get(key)
        if row is None:
            groups[key] = Row(
                person_id=person.pk if person else None,
                member_name=person.legal_name if person else None,
                member_number=numbers.get((person.pk, guild_id)) if person else None,
                rule=payable.rule,
                amounts=amounts,
                due_date=payable.due_date,
                payable_ids=[payable.pk],
            )
        else:
            row.amounts += amounts
            row.due_date = min(row.due_date, payable.due_date)
            row.payable_ids.append(payable.pk)

    productions = {p.production_id: p.production for p in loaded}
    by_production: dict[int, list[Row]] = defaultdict(list)
    for (production_id, *_rest), row in groups.items():
        by_production[production_id].append(row)
    sections = []
    for production_id, rows in by_production.items():
        production = productions[production_id]
        rows.sort(key=_row_order)
        sections.append(
            ProductionRemittance(
                production_id=production_id,
                title=production.title,
                studio_slug=production.studio.slug,
                studio_name=production.studio.name,
                rows=rows,
                totals=_totals(row.amounts for row in rows),
            )
        )
    sections.sort(key=lambda p: (p.studio_name, p.title, p.production_id))
    return Remittance(
        fund=fund,
        fund_title=fund_title(fund),
        period_from=period_from,
        period_to=period_to,
        studio=chosen,
        generated_at=timezone.now(),
        productions=sections,
        totals=_totals(total for p in sections for total in p.totals),
        postings=posted,
    )


def _member_numbers(payables: list[Payable]) -> dict[tuple[int, int | None], str]:
    """(person, guild) → the member number, for the members of these payables."""
    people = {p.engagement.person_id for p in payables if p.engagement}
    guilds = {p.agreement.guild_id for p in payables if p.agreement and p.agreement.guild_id}
    if not people or not guilds:
        return {}
    rows = Membership.objects.filter(person_id__in=people, guild_id__in=guilds).values_list(
        "person_id", "guild_id", "member_number"
    )
    return {(person, guild): number for person, guild, number in rows}


def _row_order(row: Row) -> tuple:
    # Members by name, then the shares with no member, each by rule and currency.
    return (
        row.person_id is None,
        row.member_name or "",
        row.person_id or 0,
        row.rule,
        row.amounts.currency,
    )


def _totals(amounts) -> list[Amounts]:
    sums: dict[str, Amounts] = {}
    for a in amounts:
        sums[a.currency] = sums[a.currency] + a if a.currency in sums else a
    return [sums[c] for c in sorted(sums)]


def html(report: Remittance) -> str:
    """A standalone HTML document (what the PDF is printed from)."""
    return render_to_string("reports/remittance.html", {"remittance": report, "standalone": True})


def pdf(report: Remittance) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango costs a second

    return HTML(string=html(report)).write_pdf()
