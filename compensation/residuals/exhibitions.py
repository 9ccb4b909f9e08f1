"""Exhibitions and writing credits: what the studio reports was exhibited, and which writers share
in it (RULES.md §3 Residuals). Recorded one at a time (API, admin) or imported from CSV (the whole
file or nothing), each atomic, validated before anything is written, with history naming the
acting user.

An exhibition is held to exactly the rules the residual engine reads it by
(`compensation.rules.residuals.input.parse_exhibition`): the fields each market needs and the
ones it refuses, territories, exhibition years, the success-bonus figures, broadcast dates. What
the API, a CSV file or the admin accepts is therefore what a residual run can compute.

`performer_days` gives a performer's residual base on a work (sag.residual.replica_days): days
worked in person and replica days, which count the same.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum

from compensation.models import Exhibition, HoldResolution, Timecard, WritingCredit
from compensation.rules.residuals.input import (
    CREDITS,
    HBSVOD,
    NAME,
    RUNNING_MINUTES,
    WORLDWIDE,
    parse_exhibition,
)
from compensation.services import (
    ImportResult,
    Row,
    _csv_rows,
    _import,
    _int,
    _save_audited,
    import_rows,
)
from consent import selectors as consent_selectors
from consent.models import AiUse
from core import csv_safe
from core.errors import Conflict, DomainError
from core.money import DECIMAL_PLACES, MAX_DIGITS
from core.parse import (
    ParseError,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_string,
    parse_whole_number,
)
from ledger.models import Engagement, Production

WGA = "wga"
EPISODE_LENGTH = 40
# The figures of the first 90 days, as the model stores them.
STREAMING_DIGITS, STREAMING_PLACES = 20, 2

# The fields of an exhibition a caller gives (the model's, but its id).
EXHIBITION_FIELDS = (
    "production",
    "episode",
    "work_type",
    "running_minutes",
    "market",
    "territory",
    "period_from",
    "period_to",
    "service",
    "subscriber_tier",
    "exhibition_year",
    "views_first_90_days",
    "hours_streamed_first_90_days",
    "domestic_subscribers",
    "gross_receipts",
    "broadcast_on",
    "first_period",
)
# The fields the residual engine reads from an exhibition (its `exhibitions[]` item).
_ENGINE_FIELDS = EXHIBITION_FIELDS[4:]
# What makes an exhibition one report: the model's `exhibition_unique` constraint.
_NATURAL_KEY = ("production", "episode", "market", "territory", "service", "period_from")

EXHIBITION_COLUMNS = EXHIBITION_FIELDS
EXHIBITION_REQUIRED_COLUMNS = (
    "production",
    "work_type",
    "running_minutes",
    "market",
    "period_from",
    "period_to",
)
CREDIT_COLUMNS = ("engagement", "episode", "credit")

FORMULA_CELL = (
    "A cell beginning with =, +, -, @, a tab or a carriage return is a spreadsheet formula, "
    "not a value: refused."
)


# --- exhibitions ----------------------------------------------------------------------------


@transaction.atomic
def exhibition_save(
    *, actor: Any, exhibition: Exhibition | None = None, **fields: Any
) -> Exhibition:
    """Report an exhibition, or correct `exhibition` in place (the fields given replace its own;
    the others stay). The production stays the one first reported. Refused, with every field at
    fault, when the residual engine could not read it; a second report of the same exhibition
    (production, episode, market, territory, service and first day) is a 409: correct the first.

    Whether the actor may record on the production is the caller's check (the API and the admin
    offer only the actor's writable productions; an import is given them)."""
    unknown = sorted(set(fields) - set(EXHIBITION_FIELDS))
    if unknown:
        raise TypeError(f"Not fields of an exhibition: {', '.join(unknown)}.")
    if exhibition is not None and exhibition.pk is not None:
        exhibition = Exhibition.objects.select_for_update().get(pk=exhibition.pk)
        production = fields.get("production")
        if production is not None and production.pk != exhibition.production_id:
            raise DomainError(
                "An exhibition stays with its production: report it on the other production "
                "instead.",
                fields={"production": "Fixed when the exhibition was reported."},
            )
    else:
        exhibition = Exhibition()
    for name, value in fields.items():
        setattr(exhibition, name, "" if value is None and _is_text(name) else value)
    if exhibition.first_period is None:
        exhibition.first_period = False
    exhibition.territory = _checked(exhibition)
    _refuse_a_second_report(exhibition)
    return _save_audited(exhibition, actor=actor)


def _is_text(name: str) -> bool:
    return name in ("episode", "work_type", "market", "territory", "service", "subscriber_tier")


def _checked(exhibition: Exhibition) -> str:
    """Every fault of `exhibition` as one DomainError (the engine's first one among them); else
    its territory as the engine reads it (an HBSVOD exhibition with none: worldwide)."""
    faults: dict[str, str] = {}
    if exhibition.production_id is None:
        faults["production"] = "Required."
    _collect(faults, "episode", lambda: _episode(exhibition.episode))
    _collect(
        faults,
        "work_type",
        lambda: parse_string(
            exhibition.work_type,
            field="work_type",
            pattern=NAME,
            message="A work type of the residual schedule, e.g. episode (lower case, digits, _).",
        ),
    )
    low, high = RUNNING_MINUTES
    _collect(
        faults,
        "running_minutes",
        lambda: parse_whole_number(
            exhibition.running_minutes, field="running_minutes", minimum=low, maximum=high
        ),
    )
    territory = ""
    try:
        territory = parse_exhibition(_engine_item(exhibition), "exhibition").territory
    except ParseError as error:
        field = error.field.removeprefix("exhibition.") or "non_field_errors"
        faults.setdefault(field, error.message)
    if faults:
        first = next(iter(faults.items()))
        raise DomainError(f"{first[0]}: {first[1]}", fields=faults)
    return territory


def _collect(faults: dict[str, str], field: str, check: Callable[[], object]) -> None:
    try:
        check()
    except ParseError as error:
        faults[field] = error.message


def _episode(value: object) -> str:
    return parse_string(
        value,
        field="episode",
        max_length=EPISODE_LENGTH,
        blank=True,
        message=f"The episode as timecards name it, at most {EPISODE_LENGTH} characters.",
    )


def _engine_item(exhibition: Exhibition) -> dict[str, Any]:
    """The exhibition as the residual engine's what-if reads one: JSON values (decimal strings,
    ISO dates, integers, booleans), and only the fields that are set, so that a field a market
    does not have is refused only when it is given."""
    item: dict[str, Any] = {}
    for name in _ENGINE_FIELDS:
        value = getattr(exhibition, name)
        if value is None or value == "" or value is False:
            continue
        if isinstance(value, Decimal):
            value = f"{value:f}"
        elif isinstance(value, date):
            value = value.isoformat()
        item[name] = value
    return item


def _refuse_a_second_report(exhibition: Exhibition) -> None:
    key = {name: getattr(exhibition, name) for name in _NATURAL_KEY}
    other = Exhibition.objects.filter(**key)
    if exhibition.pk is not None:
        other = other.exclude(pk=exhibition.pk)
    found = other.first()
    if found is not None:
        raise Conflict(
            f"This exhibition is already reported (#{found.pk}): correct it instead.",
            code="exhibition_exists",
            fields={"period_from": f"Exhibition #{found.pk} has this market and first day."},
        )


# --- writing credits ------------------------------------------------------------------------


@transaction.atomic
def credit_save(
    *,
    actor: Any,
    credit: WritingCredit | None = None,
    engagement: Engagement,
    episode: str,
    credit_kind: str,
) -> WritingCredit:
    """Record a writer's credit on a work (an episode, or the whole work when `episode` is
    empty), or correct `credit`. The engagement is a WGA engagement, and stays the credit's; a
    writer has one credit per work (wga.residual.credit_share): a second is a 409."""
    guild = engagement.agreement.guild
    if guild is None or guild.code != WGA:
        raise DomainError(
            "A writing credit is a WGA writer's: this engagement is not under a WGA agreement.",
            code="not_a_wga_engagement",
            fields={"engagement": "Not under a WGA agreement."},
        )
    faults: dict[str, str] = {}
    _collect(faults, "episode", lambda: _episode(episode))
    _collect(faults, "credit", lambda: parse_choice(credit_kind, CREDITS, field="credit"))
    if faults:
        first = next(iter(faults.items()))
        raise DomainError(f"{first[0]}: {first[1]}", fields=faults)
    if credit is not None and credit.pk is not None:
        credit = WritingCredit.objects.select_for_update().get(pk=credit.pk)
        if credit.engagement_id != engagement.pk:
            raise DomainError(
                "A credit stays with its writer's engagement: record one for the other writer.",
                fields={"engagement": "Fixed when the credit was recorded."},
            )
    else:
        credit = WritingCredit(engagement=engagement)
    other = WritingCredit.objects.filter(engagement=engagement, episode=episode)
    if credit.pk is not None:
        other = other.exclude(pk=credit.pk)
    found = other.first()
    if found is not None:
        raise Conflict(
            f"This writer already has a credit on this work (#{found.pk}): correct it instead.",
            code="credit_exists",
            fields={"episode": "A credit of this writer on this work exists."},
        )
    credit.episode, credit.credit = episode, credit_kind
    return _save_audited(credit, actor=actor)


# --- CSV imports ----------------------------------------------------------------------------


def exhibitions_import(*, actor: Any, text: str, productions: QuerySet[Any]) -> ImportResult:
    """Exhibitions from CSV (columns EXHIBITION_COLUMNS), all or nothing: every faulty row is
    listed with its number (the header is row 1). A row for an exhibition already reported
    (same production, episode, market, territory, service and first day) corrects it; two rows
    of the file for the same exhibition are refused. `productions` are the ones the actor may
    record on; any other is unknown."""
    rows = _csv_rows(text, EXHIBITION_COLUMNS, EXHIBITION_REQUIRED_COLUMNS)
    ids = {_int(row.get("production")) for row in rows} - {None}
    known = {p.pk: p for p in productions.filter(pk__in=ids)}
    seen: dict[tuple[Any, ...], int] = {}

    def save_row(number: int, row: Row) -> bool:
        fields = _exhibition_row(row, known)
        key = _row_key(fields)
        if key in seen:
            raise DomainError(
                f"Row {seen[key]} reports the same exhibition.",
                fields={"period_from": f"Same exhibition as row {seen[key]}."},
            )
        existing = _reported(key)
        exhibition_save(actor=actor, exhibition=existing, **fields)
        seen[key] = number
        return existing is None

    return import_rows(rows, save_row)


def _reported(key: tuple[Any, ...]) -> Exhibition | None:
    """The exhibition already reported under `key`, if the row gives its first day."""
    values = dict(zip(_NATURAL_KEY, key, strict=True))
    if not values["period_from"]:
        return None  # exhibition_save refuses the row
    return Exhibition.objects.filter(**values).first()


def _row_key(fields: dict[str, Any]) -> tuple[Any, ...]:
    """The exhibition a row reports, by the model's natural key (an HBSVOD row without a
    territory is worldwide, as the engine reads it)."""
    territory = fields.get("territory") or (WORLDWIDE if fields.get("market") == HBSVOD else "")
    values = {**fields, "territory": territory}
    return tuple(values.get(name) or "" for name in _NATURAL_KEY)


def _exhibition_row(row: Row, productions: dict[int, Production]) -> dict[str, Any]:
    """A row's cells as exhibition fields, every faulty cell named at once."""
    faults = _refused_cells(row)
    if faults:
        raise DomainError("The row holds cells that cannot be read as values.", fields=faults)
    fields: dict[str, Any] = {}

    def text(name: str) -> str:
        return (row.get(name) or "").strip()

    production_id = _int(row.get("production"))
    production = None if production_id is None else productions.get(production_id)
    if production is None:
        faults["production"] = "No such production in your scope."
    fields["production"] = production
    for name in ("episode", "work_type", "market", "territory", "service", "subscriber_tier"):
        fields[name] = text(name)
    for name, reader in _CELL_READERS.items():
        value = text(name)
        if not value:
            continue  # not given: the field's default, or the service's "required"
        try:
            fields[name] = reader(value, name)
        except ParseError as error:
            faults[name] = error.message
    if faults:
        first = next(iter(faults.items()))
        raise DomainError(f"{first[0]}: {first[1]}", fields=faults)
    return fields


def _refused_cells(row: Row) -> dict[str, str]:
    """Cells no import takes: extra values past the header's columns, and formulas (a cell the
    product's CSV writer would neutralise, core.csv_safe: OWASP CSV Injection)."""
    faults = {
        str(column): FORMULA_CELL
        for column, value in row.items()
        if column is not None and isinstance(value, str) and csv_safe.cell(value) != value
    }
    if any(column is None and value for column, value in row.items()):
        faults["file"] = "The row has more values than the header has columns."
    return faults


def _date(value: str, field: str) -> date:
    return parse_date(value, field=field)


def _streamed(value: str, field: str) -> Decimal:
    return parse_decimal(
        value, field=field, max_digits=STREAMING_DIGITS, decimal_places=STREAMING_PLACES
    )


def _money(value: str, field: str) -> Decimal:
    return parse_decimal(value, field=field, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)


def _whole(value: str, field: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 15:
        raise ParseError(field, "A whole number in ASCII digits.")
    return int(value)


def _flag(value: str, field: str) -> bool:
    flag = value.lower()
    if flag not in ("true", "false", "yes", "no", "1", "0"):
        raise ParseError(field, "true or false.")
    return flag in ("true", "yes", "1")


# How each cell that is not text is read (a cell left empty is a field not given).
_CELL_READERS: dict[str, Callable[[str, str], Any]] = {
    "running_minutes": _whole,
    "exhibition_year": _whole,
    "domestic_subscribers": _whole,
    "period_from": _date,
    "period_to": _date,
    "broadcast_on": _date,
    "views_first_90_days": _streamed,
    "hours_streamed_first_90_days": _streamed,
    "gross_receipts": _money,
    "first_period": _flag,
}


def credits_import(*, actor: Any, text: str, engagements: QuerySet[Any]) -> ImportResult:
    """Writing credits from CSV (engagement, episode, credit), all or nothing, every faulty row
    listed. A row for a writer's work that has a credit corrects it. `engagements` are the ones
    the actor may record on."""
    rows = _csv_rows(text, CREDIT_COLUMNS, ("engagement", "credit"))
    numbers = {id(row): number for number, row in enumerate(rows, start=2)}
    seen: dict[tuple[int, str], int] = {}

    def save_row(engagement: Engagement, row: Row) -> bool:
        faults = _refused_cells(row)
        if faults:
            raise DomainError("The row holds cells that cannot be read as values.", fields=faults)
        episode = (row.get("episode") or "").strip()
        key = (engagement.pk, episode)
        if key in seen:
            raise DomainError(
                f"Row {seen[key]} credits the same writer on the same work.",
                fields={"episode": f"Same writer and work as row {seen[key]}."},
            )
        existing = WritingCredit.objects.filter(engagement=engagement, episode=episode).first()
        credit_save(
            actor=actor,
            credit=existing,
            engagement=engagement,
            episode=episode,
            credit_kind=(row.get("credit") or "").strip(),
        )
        seen[key] = numbers[id(row)]
        return existing is None

    engagements = engagements.select_related("agreement__guild")
    return _import(rows, save_row, engagements)


# --- a performer's residual base ------------------------------------------------------------


@dataclass
class PerformerDays:
    """One performer engagement's residual days: timecards per episode named ("" for a card
    naming none) and replica days."""

    cards: dict[str, int] = field(default_factory=dict)
    replica: Decimal = Decimal(0)

    def on(self, episode: str) -> tuple[Decimal, Decimal]:
        """(days in person, replica days) on the work `episode` names ("": the whole work)."""
        named = any(self.cards.keys() - {""})
        in_person = self.cards.get(episode, 0) if episode and named else sum(self.cards.values())
        return Decimal(in_person), _plain(self.replica)


def _plain(days: Decimal) -> Decimal:
    """2.00 as 2 and 1.50 as 1.5, as the lines' descriptions say them."""
    return days.quantize(Decimal(1)) if days == days.to_integral_value() else days.normalize()


def performer_days(engagement: Engagement, episode: str) -> tuple[Decimal, Decimal]:
    """A performer's residual base on a work (sag.residual.replica_days): (days worked in person,
    replica days), which count the same.

    - Days in person are the engagement's timecards, one a day. When the exhibition names an
      episode (`episode`) and the engagement's timecards name episodes, only the timecards of
      that episode count (a card naming no episode is then not this episode's work); when
      either names none, every timecard of the engagement counts.
    - Replica days are the `days` of the person's `replica_use` AI uses in the production, under
      the engagement's guild (the uses a run matches to this engagement), that a run pays under
      sag.pay.ebdr_use: not voided (a voided use was recorded by mistake), and either allowed or
      recorded as a violation whose hold staff released. A violation still held, or whose hold
      was resolved by a void, was not paid and does not count.
    """
    return performer_days_of([engagement])[engagement.pk].on(episode)


def performer_days_of(engagements: Sequence[Engagement]) -> dict[int, PerformerDays]:
    """`performer_days` of many engagements of one production, in two queries (a run's)."""
    days = {e.pk: PerformerDays() for e in engagements}
    for row in (
        Timecard.objects.filter(engagement_id__in=days)
        .values("engagement_id", "episode")
        .annotate(n=Count("id"))
        .order_by()
    ):
        days[row["engagement_id"]].cards[row["episode"]] = row["n"]
    engagement_of = {(e.person_id, e.agreement.guild_id): e.pk for e in reversed(engagements)}
    if not engagement_of:
        return days
    uses = consent_selectors.not_voided(
        AiUse.objects.filter(
            production_id=engagements[0].production_id,
            person_id__in={person for person, _ in engagement_of},
            kind="replica_use",
        )
    ).filter(
        Q(status=AiUse.Status.ALLOWED)
        | Q(
            status=AiUse.Status.VIOLATION,
            hold_resolution__decision=HoldResolution.Decision.RELEASE,
        )
    )
    for row in (
        uses.values("person_id", "agreement__guild_id").annotate(days=Sum("days")).order_by()
    ):
        engagement = engagement_of.get((row["person_id"], row["agreement__guild_id"]))
        if engagement is not None and row["days"] is not None:
            days[engagement].replica += Decimal(row["days"])
    return days
