"""A person's residual statement (RULES.md §3 Residuals): what each exhibition of each work earned
them and how (every factor multiplied, in words), when it falls due, the pension and health
contributions owed to the union funds on their residuals, and what has been paid and is still
due on each residual payable — the statement guild members receive with their checks. In JSON
(exact decimal strings), CSV and PDF. It reads the residual lines and the ledger; it writes
nothing.

- **Which lines count.** A later residual run of a production and period supersedes the earlier
  ones: only the lines of the last approved residual run of each (production, period_from,
  period_to) are shown. Its approval left the period's payables holding exactly its totals
  (compensation.residuals.runs.post posts the differences), so the statement's residuals add up
  to what its payables say is owed.
- **The range.** A run counts when its period overlaps [period_from, period_to]; either end may
  be left open.
- **Who sees what.** The lines the caller's scope cannot see are not shown
  (compensation.residuals.selectors.lines), nor the payables of those lines: the production's
  studio sees the person's residuals on it, a guild's staff those under its agreements.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from compensation.models import CompensationRun, ResidualLine, ResidualPosting
from compensation.models.residuals import MARKET_CHOICES
from core import csv_safe
from core.money import Currency, money_display, money_str, round_money
from ledger.access import Scope
from ledger.journal.selectors import payables_with_amounts
from ledger.journal.services import fund_title
from ledger.models import Engagement, Payable, Person

from . import selectors
from .runs import RULE_TITLES

MARKETS = dict(MARKET_CHOICES)
CURRENCIES = frozenset(Currency.values)
ZERO = Decimal("0.00")
NEVER = datetime.min.replace(tzinfo=UTC)


# --- the statement --------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One residual line of the person (or, with `fund`, a contribution made on their behalf)."""

    id: int
    run: int
    production_id: int
    production: str
    studio: str
    episode: str
    market: str
    territory: str
    exhibition_from: date
    exhibition_to: date
    rule: str
    description: str
    quantity: Decimal
    unit: str
    factors: tuple[Mapping[str, Any], ...]
    amount: Decimal
    currency: str
    due_date: date
    fund: str = ""

    @property
    def work(self) -> str:
        return work_title(self.production, self.episode)

    @property
    def market_label(self) -> str:
        return MARKETS.get(self.market, self.market.replace("_", " "))

    @property
    def rule_title(self) -> str:
        return RULE_TITLES.get(self.rule, self.rule)

    @property
    def fund_title(self) -> str:
        return fund_title(self.fund) if self.fund else ""

    @property
    def factors_in_words(self) -> str:
        return factor_words(self.factors)

    @property
    def basis(self) -> str:
        """What the factors were applied to, when it is not one exhibition year."""
        return basis_words(self.quantity, self.unit)

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": self.id,
            "run": self.run,
            "work": self.work,
            "production": {"id": self.production_id, "title": self.production},
            "episode": self.episode,
            "market": self.market,
            "territory": self.territory,
            "exhibition_period": {
                "from": self.exhibition_from.isoformat(),
                "to": self.exhibition_to.isoformat(),
            },
            "rule": self.rule,
            "rule_title": self.rule_title,
            "description": self.description,
            "quantity": str(self.quantity),
            "unit": self.unit,
            "factors": [dict(f) for f in self.factors],
            "factors_in_words": self.factors_in_words,
            "amount": money_str(self.amount),
            "currency": self.currency,
            "due_date": self.due_date.isoformat(),
        }
        if self.fund:
            row["fund"] = self.fund
            row["fund_title"] = self.fund_title
        return row


@dataclass(frozen=True)
class PayableRow:
    """One of the person's residual payables: what it owes, what was paid and what is due."""

    id: int
    production: str
    rule: str
    description: str
    currency: str
    due_date: date
    owed: Decimal
    paid: Decimal
    due: Decimal

    @property
    def rule_title(self) -> str:
        return RULE_TITLES.get(self.rule, self.rule)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "production": self.production,
            "rule": self.rule,
            "rule_title": self.rule_title,
            "description": self.description,
            "currency": self.currency,
            "due_date": self.due_date.isoformat(),
            "owed": money_str(self.owed),
            "paid": money_str(self.paid),
            "due": money_str(self.due),
        }


@dataclass(frozen=True)
class Total:
    """One currency's totals: the residual lines, the contributions, and the payables' owed,
    paid and due."""

    currency: str
    residuals: Decimal = ZERO
    contributions: Decimal = ZERO
    owed: Decimal = ZERO
    paid: Decimal = ZERO
    due: Decimal = ZERO

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "residuals": money_str(self.residuals),
            "contributions": money_str(self.contributions),
            "owed": money_str(self.owed),
            "paid": money_str(self.paid),
            "due": money_str(self.due),
        }


@dataclass(frozen=True)
class Work:
    """A work (production and episode) and its lines, for the statement's table per work."""

    title: str
    studio: str
    lines: tuple[Line, ...]

    @property
    def totals(self) -> dict[str, Decimal]:
        return _sum_by_currency(self.lines)


@dataclass(frozen=True)
class Statement:
    person: Person
    period_from: date | None
    period_to: date | None
    issued_on: date
    lines: tuple[Line, ...] = ()
    contributions: tuple[Line, ...] = ()
    payables: tuple[PayableRow, ...] = ()

    @property
    def works(self) -> list[Work]:
        grouped: dict[tuple[int, str], list[Line]] = {}
        for line in self.lines:
            grouped.setdefault((line.production_id, line.episode), []).append(line)
        return [Work(rows[0].work, rows[0].studio, tuple(rows)) for rows in grouped.values()]

    @property
    def totals(self) -> list[Total]:
        residuals = _sum_by_currency(self.lines)
        contributions = _sum_by_currency(self.contributions)
        owed: defaultdict[str, Decimal] = defaultdict(Decimal)
        paid: defaultdict[str, Decimal] = defaultdict(Decimal)
        due: defaultdict[str, Decimal] = defaultdict(Decimal)
        for p in self.payables:
            owed[p.currency] += p.owed
            paid[p.currency] += p.paid
            due[p.currency] += p.due
        currencies = sorted({*residuals, *contributions, *owed})
        return [
            Total(
                currency=c,
                residuals=round_money(residuals.get(c, ZERO)),
                contributions=round_money(contributions.get(c, ZERO)),
                owed=round_money(owed.get(c, ZERO)),
                paid=round_money(paid.get(c, ZERO)),
                due=round_money(due.get(c, ZERO)),
            )
            for c in currencies
        ]

    @property
    def period_words(self) -> str:
        return period_words(self.period_from, self.period_to)

    def as_dict(self) -> dict[str, Any]:
        return {
            "person": {
                "id": self.person.pk,
                "legal_name": self.person.legal_name,
                "professional_name": self.person.professional_name,
                "payroll_ref": self.person.payroll_ref,
            },
            "period_from": self.period_from.isoformat() if self.period_from else None,
            "period_to": self.period_to.isoformat() if self.period_to else None,
            "issued_on": self.issued_on.isoformat(),
            "lines": [line.as_dict() for line in self.lines],
            "contributions": [line.as_dict() for line in self.contributions],
            "payables": [p.as_dict() for p in self.payables],
            "totals": [t.as_dict() for t in self.totals],
        }


def statement(
    person: Person,
    *,
    scope: Scope,
    period_from: date | None = None,
    period_to: date | None = None,
    issued_on: date | None = None,
) -> Statement:
    """The person's residual statement for the runs whose period overlaps the range, as
    `scope` may see it (the caller has checked that it may see the person). A range that ends
    before it starts overlaps no run: the statement is empty."""
    if period_from is not None and period_to is not None and period_from > period_to:
        return Statement(
            person=person,
            period_from=period_from,
            period_to=period_to,
            issued_on=issued_on or timezone.localdate(),
            lines=(),
            contributions=(),
            payables=(),
        )
    all_runs, latest = _runs(person, period_from, period_to)
    rows = (
        selectors.lines(
            scope, ResidualLine.objects.filter(run_id__in=latest, engagement__person=person)
        )
        .select_related("exhibition__production__studio")
        .order_by(
            "exhibition__production__title",
            "exhibition__production_id",
            "exhibition__episode",
            "exhibition__period_from",
            "market",
            "territory",
            "fund",
            "rule",
            "id",
        )
    )
    lines: list[Line] = []
    contributions: list[Line] = []
    for row in rows:
        (contributions if row.fund else lines).append(_line(row))
    return Statement(
        person=person,
        period_from=period_from,
        period_to=period_to,
        issued_on=issued_on or timezone.localdate(),
        lines=tuple(lines),
        contributions=tuple(contributions),
        payables=tuple(_payables(scope, person, all_runs)),
    )


def _runs(
    person: Person, period_from: date | None, period_to: date | None
) -> tuple[list[int], list[int]]:
    """The approved residual runs of the person's productions in the range, and of each
    (production, period) the last approved one."""
    qs = CompensationRun.objects.filter(
        kind=CompensationRun.Kind.RESIDUALS,
        status=CompensationRun.Status.APPROVED,
        production_id__in=Engagement.objects.filter(person=person).values("production_id"),
    )
    if period_from is not None:
        qs = qs.filter(period_to__gte=period_from)
    if period_to is not None:
        qs = qs.filter(period_from__lte=period_to)
    runs = list(qs.values_list("pk", "production_id", "period_from", "period_to", "approved_at"))
    last: dict[tuple[int, date, date], tuple[datetime, int]] = {}
    for pk, production_id, start, end, approved_at in runs:
        order = (approved_at or NEVER, pk)  # the last approved; the later run among equals
        key = (production_id, start, end)
        if key not in last or order > last[key]:
            last[key] = order
    return [r[0] for r in runs], [pk for _, pk in last.values()]


def _line(row: ResidualLine) -> Line:
    exhibition = row.exhibition
    production = exhibition.production
    return Line(
        id=row.pk,
        run=row.run_id,
        production_id=production.pk,
        production=production.title,
        studio=production.studio.name,
        episode=exhibition.episode,
        market=row.market,
        territory=row.territory,
        exhibition_from=exhibition.period_from,
        exhibition_to=exhibition.period_to,
        rule=row.rule,
        description=row.description,
        quantity=row.quantity,
        unit=row.unit,
        factors=tuple(f for f in row.factors or () if isinstance(f, Mapping)),
        amount=row.amount,
        currency=row.currency,
        due_date=row.due_date,
        fund=row.fund,
    )


def visible_payables(scope: Scope, qs: QuerySet[Payable]) -> QuerySet[Payable]:
    """A person's residual payables as their lines are seen (selectors.lines): by the
    production's studio and by the guild of the engagement."""
    if scope.superuser:
        return qs
    if scope.payroll_key is not None:
        return qs.none()
    return qs.filter(
        Q(studio_id__in=scope.studio_ids) | Q(engagement__agreement__guild_id__in=scope.guild_ids)
    )


def _payables(scope: Scope, person: Person, run_ids: Sequence[int]) -> list[PayableRow]:
    """The person's payables that the counted runs' periods posted, with owed, paid and due."""
    posted = ResidualPosting.objects.filter(run_id__in=run_ids).values("payable_id")
    qs = visible_payables(scope, Payable.objects.filter(pk__in=posted, person=person, fund=""))
    rows = (
        payables_with_amounts(qs)
        .select_related("production")
        .order_by("production__title", "due_date", "rule", "id")
    )
    return [
        PayableRow(
            id=p.pk,
            production=p.production.title,
            rule=p.rule,
            description=p.description,
            currency=p.currency,
            due_date=p.due_date,
            owed=round_money(Decimal(p.owed_amount)),
            paid=round_money(Decimal(p.paid_amount)),
            due=round_money(Decimal(p.due_amount)),
        )
        for p in rows
    ]


def _sum_by_currency(lines: Iterable[Line]) -> dict[str, Decimal]:
    sums: defaultdict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        sums[line.currency] += line.amount
    return {c: round_money(a) for c, a in sums.items()}


# --- in words -------------------------------------------------------------------------------


def work_title(production: str, episode: str) -> str:
    return f"{production}, episode {episode}" if episode else production


def day_words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def period_words(period_from: date | None, period_to: date | None) -> str:
    if period_from is not None and period_to is not None:
        return f"{day_words(period_from)} – {day_words(period_to)}"
    if period_from is not None:
        return f"from {day_words(period_from)}"
    if period_to is not None:
        return f"up to {day_words(period_to)}"
    return "all periods"


def _plain(number: Decimal) -> str:
    """A decimal without trailing zeros or an exponent: 10.00 → "10", 0.2050 → "0.205"."""
    return format(number.normalize(), "f") if number.is_finite() else str(number)


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def factor_value(value: object, unit: str) -> str:
    """A factor's value with its unit: an amount in a currency as money, a percentage with %,
    a factor or fraction as a plain number."""
    number = _decimal(value)
    if number is None:
        return f"{value} {unit}".strip()
    if unit in CURRENCIES:
        return money_display(number, unit)
    if unit == "percent":
        return f"{_plain(number)}%"
    if unit == "fraction" and number != number.quantize(FRACTION_PLACES):
        return f"{_plain(number.quantize(FRACTION_PLACES))}…"  # a share like 2/3, exact in the line
    if unit in ("factor", "fraction", ""):
        return _plain(number)
    return f"{_plain(number)} {unit}"


FRACTION_PLACES = Decimal("0.0001")


def factor_label(parameter: str) -> str:
    """A factor's schedule key in words: "subscriber_factor:tier_2" → "subscriber factor
    tier_2", "exhibition_year:1:domestic" → "exhibition year 1 domestic"; a base keeps its band
    as the schedule writes it ("base episode:60")."""
    head, colon, rest = parameter.partition(":")
    if head == "residual_days":
        return "share by residual days"  # rest names the engagement: the statement's own
    name = head.replace("_", " ")
    if not colon:
        return name
    return f"{name} {rest if head == 'base' else rest.replace(':', ' ')}"


def factor_words(factors: Iterable[Mapping[str, Any]]) -> str:
    """The factors multiplied, each with its key, value and unit: "base episode:60 20,000.00 USD
    × subscriber factor tier_2 1 × exhibition year 1 domestic 10%"."""
    return " × ".join(
        f"{factor_label(str(f.get('parameter', '')))} "
        f"{factor_value(f.get('value'), str(f.get('unit', '')))}"
        for f in factors
    )


def basis_words(quantity: Decimal, unit: str) -> str:
    """What a line's factors were applied to, unless it is one exhibition year: "100,000.00 USD
    of gross receipts", "2,500.00 USD" (a success bonus's fixed residual, a contribution's
    residuals)."""
    if unit == "exhibition year" and quantity == 1:
        return ""
    code, _, rest = unit.partition(" ")
    if code in CURRENCIES:
        return f"{money_display(quantity, code)} {rest}".strip()
    return f"{_plain(quantity)} {unit}".strip()


# --- CSV and PDF ----------------------------------------------------------------------------

CSV_COLUMNS = (
    "section",
    "person",
    "work",
    "market",
    "territory",
    "exhibition_from",
    "exhibition_to",
    "rule",
    "fund",
    "basis",
    "factors",
    "amount",
    "due_date",
    "owed",
    "paid",
    "due",
)


def statement_csv(s: Statement) -> str:
    """The statement as one table: a row per residual line (`residual`), per contribution
    (`contribution`), per payable (`payable`), then per currency the totals (`total`: the
    residuals, and what the payables owe, have been paid and is due; `contributions total`).
    Amounts read as on the PDF ("20,000.00 USD"); every cell is neutralised (core.csv_safe)."""
    name = s.person.legal_name

    def line_row(section: str, line: Line) -> list[object]:
        return [
            section,
            name,
            line.work,
            line.market_label,
            line.territory,
            line.exhibition_from,
            line.exhibition_to,
            line.rule_title,
            line.fund_title,
            line.basis,
            line.factors_in_words,
            money_display(line.amount, line.currency),
            line.due_date,
            "",
            "",
            "",
        ]

    rows: list[list[object]] = [line_row("residual", line) for line in s.lines]
    rows += [line_row("contribution", line) for line in s.contributions]
    rows += [
        [
            "payable",
            name,
            p.production,
            "",
            "",
            "",
            "",
            p.rule_title,
            "",
            "",
            "",
            "",
            p.due_date,
            money_display(p.owed, p.currency),
            money_display(p.paid, p.currency),
            money_display(p.due, p.currency),
        ]
        for p in s.payables
    ]
    for t in s.totals:
        rows.append(
            [
                "total",
                name,
                *[""] * 9,
                money_display(t.residuals, t.currency),
                "",
                money_display(t.owed, t.currency),
                money_display(t.paid, t.currency),
                money_display(t.due, t.currency),
            ]
        )
        if t.contributions:
            contribution_total = money_display(t.contributions, t.currency)
            rows.append(
                ["contributions total", name, *[""] * 9, contribution_total, "", "", "", ""]
            )
    return csv_safe.text(CSV_COLUMNS, rows)


def context(s: Statement) -> dict[str, Any]:
    """What the statement's template shows, every amount already in words."""
    works = [
        {
            "title": work.title,
            "studio": work.studio,
            "lines": [_shown(line) for line in work.lines],
            "totals": [money_display(a, c) for c, a in sorted(work.totals.items())],
        }
        for work in s.works
    ]
    payables = [
        {
            "production": p.production,
            "rule": p.rule_title,
            "due_date": p.due_date,
            "owed": money_display(p.owed, p.currency),
            "paid": money_display(p.paid, p.currency),
            "due": money_display(p.due, p.currency),
        }
        for p in s.payables
    ]
    totals = [
        {
            "currency": t.currency,
            "residuals": money_display(t.residuals, t.currency),
            "contributions": money_display(t.contributions, t.currency) if t.contributions else "",
            "owed": money_display(t.owed, t.currency),
            "paid": money_display(t.paid, t.currency),
            "due": money_display(t.due, t.currency),
        }
        for t in s.totals
    ]
    return {
        "s": s,
        "person": s.person,
        "period": s.period_words,
        "works": works,
        "contributions": [_shown(line) for line in s.contributions],
        "payables": payables,
        "totals": totals,
    }


def _shown(line: Line) -> dict[str, Any]:
    return {
        "work": line.work,
        "market": line.market_label,
        "territory": line.territory,
        "exhibition_from": line.exhibition_from,
        "exhibition_to": line.exhibition_to,
        "rule": line.rule_title,
        "fund": line.fund_title,
        "basis": line.basis,
        "factors": line.factors_in_words,
        "amount": money_display(line.amount, line.currency),
        "due_date": line.due_date,
    }


def statement_html(s: Statement) -> str:
    """A standalone HTML document (what the PDF is printed from)."""
    return render_to_string("residuals/statement.html", context(s))


def statement_pdf(s: Statement) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango costs a second

    return HTML(string=statement_html(s)).write_pdf()


def file_name(s: Statement, extension: str) -> str:
    start = s.period_from.isoformat() if s.period_from else "start"
    end = s.period_to.isoformat() if s.period_to else "now"
    return f"residual-statement-{s.person.pk}-{start}-{end}.{extension}"
