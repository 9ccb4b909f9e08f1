"""Use cases that write compensation records other than runs: rate sheets, engagement terms,
timecards, WGA deliveries (one at a time or imported from CSV) and hold resolutions. Each is
atomic, validates everything before it writes and records the acting user."""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from consent import selectors as consent_selectors
from consent.models import AiUse
from core.audit import save_audited
from core.errors import Conflict, DomainError
from core.money import DECIMAL_PLACES, MAX_DIGITS
from core.parse import (
    ParseError,
    parse_ascii_id,
    parse_clock_time,
    parse_date,
    parse_decimal,
    read_csv,
)
from ledger.models import Agreement, Engagement

from . import selectors
from .models import (
    CompensationRun,
    EngagementTerms,
    HoldResolution,
    RateSheet,
    RateSheetValue,
    Timecard,
    WgaDelivery,
)
from .rules.params import ParameterFileError, Parameters, override_problems, shipped
from .rules.sheet import SheetError, parse_sheet
from .rules.wga import WORK_TYPE
from .rules.workday import WorkDay

GUILD_PREFIX = {"sag-aftra": "sag.", "wga": "wga.", "iatse": "iatse."}
MAX_IMPORT_ROWS = 20_000
M = TypeVar("M", bound=Model)
Row = dict[str, Any]  # a CSV row: {column: text} (core.parse.read_csv)


def _save_audited(obj: M, *, actor: Any) -> M:
    """`core.audit.save_audited`, a refused validation answered as compensation always has: a
    DomainError with the first message and every field's."""
    try:
        return save_audited(obj, actor=actor)
    except ValidationError as error:
        raise DomainError(_first(error), fields=error.message_dict) from None


def _first(error: ValidationError) -> str:
    for messages in error.message_dict.values():
        return messages[0]
    return "Invalid."


# --- rate sheets ----------------------------------------------------------------------------


@transaction.atomic
def rate_sheet_load(
    *,
    actor: Any,
    agreement: Agreement,
    name: str,
    source: str,
    file_name: str,
    content: str,
    file_format: str,
    tier: str = "P",
) -> RateSheet:
    """Load an official rate sheet: validated as a whole against the shipped parameters and every
    sheet already loaded, then kept with its content and hash as the next version of `name`."""
    guild = agreement.guild
    if guild is None:
        raise DomainError(
            f"{agreement.code}: no union pay rules apply (RULES.md §1), so it has no rate sheet.",
            code="rate_sheet_invalid",
            fields={"agreement": "Choose a union agreement."},
        )
    name, source = (name or "").strip(), (source or "").strip()
    if not name or not source:
        raise DomainError(
            "A rate sheet needs a name and a source.",
            fields={k: "Required." for k, v in (("name", name), ("source", source)) if not v},
        )
    latest = (
        RateSheet.objects.select_for_update()
        .filter(agreement=agreement, name=name)
        .order_by("-version")
        .first()
    )
    version = latest.version + 1 if latest else 1
    label = f"{agreement.code}:{name} v{version}"
    try:
        overrides = parse_sheet(
            content,
            file_format,
            tier=tier,
            source=source,
            label=label,
            until=agreement.effective_to,
        )
    except SheetError as error:
        raise DomainError(
            f"The rate sheet was not loaded: {error}",
            code="rate_sheet_invalid",
            fields={"file": error.problems},
        ) from None
    prefix = GUILD_PREFIX[guild.code]
    strays = [o for o in overrides if not o.parameter.startswith(prefix)]
    foreign = sorted({o.parameter for o in strays})
    if foreign:
        raise DomainError(
            f"A {guild.code} sheet holds only {prefix}* parameters: {', '.join(foreign)}.",
            code="rate_sheet_invalid",
            fields={
                "file": [
                    f"{o.origin}: {o.parameter} is not a {guild.code} parameter." for o in strays
                ]
            },
        )
    start, end = agreement.effective_from, agreement.effective_to
    outside = [
        o
        for o in overrides
        if (start and o.effective_from < start)
        or (end and (o.effective_from > end or o.until is None or o.until > end))
    ]
    if outside:
        raise DomainError(
            f"{outside[0].parameter} from {outside[0].effective_from} until "
            f"{outside[0].until or 'open'} is not inside the term of {agreement.code} "
            f"({agreement.effective_from} – {end or 'open'}).",
            code="rate_sheet_invalid",
            fields={
                "file": [
                    f"{o.origin}: {o.parameter} from {o.effective_from} until "
                    f"{o.until or 'open'}: not "
                    "inside the agreement's term"
                    for o in outside
                ]
            },
        )
    problems = override_problems(shipped().series, overrides)
    if problems:
        raise DomainError(
            f"The rate sheet was not loaded: {'; '.join(problems[:20])}.",
            code="rate_sheet_invalid",
            fields={"file": problems},
        )
    try:
        Parameters(shipped().series, (*selectors.sheet_overrides(), *overrides))
    except ParameterFileError as error:
        raise DomainError(
            f"The rate sheet was not loaded: {error}.",
            code="rate_sheet_invalid",
            fields={"file": [str(error)]},
        ) from None
    sheet = RateSheet.objects.create(
        agreement=agreement,
        name=name[:120],
        version=version,
        source=source,
        tier=tier,
        file_name=(file_name or "sheet")[-200:],
        file_format=file_format,
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        loaded_by=actor,
        loaded_at=timezone.now(),
    )
    RateSheetValue.objects.bulk_create(
        RateSheetValue(
            sheet=sheet,
            parameter=o.parameter,
            effective_from=o.effective_from,
            until=o.until,
            value=o.value,
            unit=o.unit,
            tier=o.tier,
            source=o.source,
            rule=o.rule,
        )
        for o in overrides
    )
    return sheet


@dataclass(frozen=True)
class RunToRecompute:
    """A run computed or approved before a rate sheet was loaded whose period holds a date the
    sheet gives a value for, and the run of the same period started since, if there is one."""

    run: CompensationRun
    rerun: CompensationRun | None


MAX_RUNS_TO_RECOMPUTE = 200
# A run that used the figures in force: computed, approved, or computed and since superseded (by
# the run of its period started after the sheet was loaded, which is then listed beside it).
USED_FIGURES = [
    CompensationRun.Status.COMPUTED,
    CompensationRun.Status.APPROVED,
    CompensationRun.Status.SUPERSEDED,
]


def rate_sheet_runs_to_recompute(
    sheet: RateSheet, runs: "QuerySet[CompensationRun] | None" = None
) -> list[RunToRecompute]:
    """The runs (of `runs`, every run by default) of the productions under the sheet's agreement
    that were computed or approved before the sheet was loaded and cover a date it gives a value
    for: their figures may have changed. The latest run of each production, kind and period, at
    most MAX_RUNS_TO_RECOMPUTE of them, each with the run of that period started since."""
    qs = CompensationRun.objects.all() if runs is None else runs
    overlap = Q(pk__in=[])
    for start, until in set(sheet.values.values_list("effective_from", "until")):
        covers = Q(period_to__gte=start)
        overlap |= covers & Q(period_from__lte=until) if until else covers
    candidates = (
        qs.filter(overlap, production__agreements=sheet.agreement, started_at__lt=sheet.loaded_at)
        .filter(status__in=USED_FIGURES)
        .select_related("production")
        .distinct()
        .order_by("production_id", "kind", "period_from", "period_to", "-pk")
    )
    latest: dict[tuple[Any, ...], CompensationRun] = {}
    for run in candidates:
        latest.setdefault((run.production_id, run.kind, run.period_from, run.period_to), run)
        if len(latest) > MAX_RUNS_TO_RECOMPUTE:
            break
    found = []
    for key, run in list(latest.items())[:MAX_RUNS_TO_RECOMPUTE]:
        production_id, kind, period_from, period_to = key
        rerun = (
            CompensationRun.objects.filter(
                production_id=production_id,
                kind=kind,
                period_from=period_from,
                period_to=period_to,
                pk__gt=run.pk,
                started_at__gte=sheet.loaded_at,
            )
            .exclude(status=CompensationRun.Status.FAILED)
            .order_by("-pk")
            .first()
        )
        if rerun is None and run.status == CompensationRun.Status.SUPERSEDED:
            continue  # superseded by a run started before the sheet was loaded
        found.append(RunToRecompute(run, rerun))
    return found


# --- engagement terms -----------------------------------------------------------------------


@transaction.atomic
def terms_set(*, actor: Any, engagement: Engagement, **fields: Any) -> EngagementTerms:
    """Set an engagement's terms (one row per engagement). The wage classification names one of
    the loaded IATSE schedule's classifications: letters, digits, _ or -."""
    from .rules.iatse import CLASSIFICATION

    classification = fields.get("wage_classification")
    if classification and not CLASSIFICATION.match(classification):
        raise DomainError(
            "The wage classification is letters, digits, _ or -, at most 40.",
            fields={"wage_classification": "Letters, digits, _ or -, at most 40."},
        )
    terms = EngagementTerms.objects.select_for_update().filter(
        engagement=engagement
    ).first() or EngagementTerms(engagement=engagement)
    for name, value in fields.items():
        setattr(terms, name, value)
    if terms.kit_rental_amount is None:
        terms.kit_rental_per = ""
    return _save_audited(terms, actor=actor)


# --- timecards and deliveries ---------------------------------------------------------------


def _meals(raw: object) -> list[list[str]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > 4:
        raise DomainError(
            "Meals are a list of up to four [start, end] pairs.", fields={"meals": "Invalid."}
        )
    meals = []
    for meal in raw:
        if not (isinstance(meal, (list, tuple)) and len(meal) == 2):
            raise DomainError(
                "A meal is [start, end].", fields={"meals": "A meal is [start, end]."}
            )
        start, end = (parse_time(m, "meals") for m in meal)
        meals.append([start.strftime("%H:%M"), end.strftime("%H:%M")])
    return meals


def parse_time(value: object, field: str) -> time:
    """A call time (`core.parse.parse_clock_time`); a `time` from a serializer or form is
    held to the same rule: the set's wall clock, no offset."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise DomainError("A local time, without an offset.", fields={field: "HH:MM."})
        return value
    try:
        return parse_clock_time(value.strip() if isinstance(value, str) else value, field=field)
    except ParseError:
        raise DomainError(
            f"{value!r} is not a time of day (HH:MM or HH:MM:SS, without an offset).",
            fields={field: "HH:MM."},
        ) from None


def work_day(card: Timecard) -> WorkDay:
    """A timecard as the rules read it, built once: for the hours the card stores and for the
    runs that pay it. A `rest_start` is on the day before the card's date."""
    rest_start = card.rest_start
    return WorkDay.build(
        card.date,
        card.first_call,
        card.dismissal,
        meals=[(parse_time(a, "meals"), parse_time(b, "meals")) for a, b in card.meals],
        rest_start=None
        if rest_start is None
        else datetime.combine(card.date - timedelta(days=1), rest_start),
        episode=card.episode or None,
    )


def _checked_work_day(card: Timecard) -> WorkDay:
    day = work_day(card)
    if day.dismissal == day.first_call:
        raise DomainError(
            "The dismissal is the call: no work that day.",
            fields={"dismissal": "Same as the call."},
        )
    for start, end in day.meals:
        if not (day.first_call <= start < end <= day.dismissal):
            raise DomainError(
                "Each meal starts after the call, ends after it starts and before the dismissal.",
                fields={"meals": "Outside the day or ends before it starts."},
            )
    ordered = sorted(day.meals)
    if any(a[1] > b[0] for a, b in zip(ordered, ordered[1:], strict=False)):
        raise DomainError("Meals overlap.", fields={"meals": "Overlapping."})
    return day


def _fill_hours(card: Timecard) -> None:
    day = _checked_work_day(card)
    card.elapsed_hours = day.elapsed_hours
    card.work_hours = day.work_hours


@transaction.atomic
def timecard_save(
    *,
    actor: Any,
    engagement: Engagement,
    date: date,
    instance: Timecard | None = None,
    **fields: Any,
) -> Timecard:
    """Record or correct an engagement's day."""
    card = (
        instance or Timecard.objects.filter(engagement=engagement, date=date).first() or Timecard()
    )
    card.engagement, card.date = engagement, date
    fields["meals"] = _meals(fields.get("meals", card.meals if card.pk else []))
    for name, value in fields.items():
        setattr(card, name, value)
    _check_in_engagement(engagement, date)
    _fill_hours(card)
    return _save_audited(card, actor=actor)


def _check_in_engagement(engagement: Engagement, day: date) -> None:
    if day < engagement.start_date or (engagement.end_date and day > engagement.end_date):
        raise DomainError(
            f"{day} is outside the engagement ({engagement.start_date} – "
            f"{engagement.end_date or 'open'}).",
            code="outside_engagement",
            fields={"date": "Outside the engagement."},
        )


@transaction.atomic
def delivery_save(
    *, actor: Any, engagement: Engagement, instance: WgaDelivery | None = None, **fields: Any
) -> WgaDelivery:
    if engagement.classification != "writer":
        raise DomainError("Deliveries are a writer's.", fields={"engagement": "Not a writer."})
    work_type = fields.get("work_type", instance.work_type if instance else "")
    if not WORK_TYPE.match(work_type or ""):
        raise DomainError(
            "A work type of the schedule of minimums, e.g. screenplay (lower case, _).",
            fields={"work_type": "Invalid."},
        )
    delivery = instance or WgaDelivery()
    delivery.engagement = engagement
    for name, value in fields.items():
        setattr(delivery, name, value)
    _check_in_engagement(engagement, delivery.date)
    return _save_audited(delivery, actor=actor)


# --- CSV imports ----------------------------------------------------------------------------

TIMECARD_COLUMNS = (
    "engagement",
    "date",
    "first_call",
    "dismissal",
    "meal1_start",
    "meal1_end",
    "meal2_start",
    "meal2_end",
    "rest_start",
    "episode",
)
DELIVERY_COLUMNS = ("engagement", "work_type", "date", "ai_material_handed_over", "fee")


@dataclass
class ImportResult:
    created: int
    updated: int

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated}


def _csv_rows(text: str, columns: Sequence[str], required: Sequence[str]) -> list[Row]:
    try:
        table = read_csv(text)
    except ParseError as error:
        rows = [{"row": error.row, "message": error.message, "fields": {"file": error.message}}]
        raise DomainError(
            error.message,
            code="import_invalid",
            fields={"file": [error.message], "rows": rows},
        ) from None
    header = table.header
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in columns]
    if missing or unknown:
        problems = [f"missing column {c}" for c in missing] + [
            f"unknown column {c}" for c in unknown
        ]
        raise DomainError(
            f"The CSV header is not usable: {', '.join(problems)}. Columns: {', '.join(columns)}.",
            code="import_invalid",
            fields={"file": problems},
        )
    rows = [raw for _, raw in table.rows]
    if not rows:
        raise DomainError(
            "The CSV holds no rows.", code="import_invalid", fields={"file": ["No rows."]}
        )
    if len(rows) > MAX_IMPORT_ROWS:
        raise DomainError(
            f"At most {MAX_IMPORT_ROWS} rows per import.",
            code="import_invalid",
            fields={"file": ["Too many rows."]},
        )
    return rows


def _import(
    rows: list[Row], save_row: Callable[[Engagement, Row], bool], engagements: QuerySet[Any]
) -> ImportResult:
    """Save every row of an engagement's records (each names its `engagement`) inside one
    transaction, as `import_rows` does."""
    ids = {_int(row.get("engagement")) for row in rows} - {None}
    known = {e.pk: e for e in engagements.filter(pk__in=ids).select_related("production")}

    def save(number: int, row: Row) -> bool:
        engagement = known.get(_int(row.get("engagement")))
        if engagement is None:
            raise DomainError(
                "No such engagement in your scope.", fields={"engagement": "Unknown."}
            )
        return save_row(engagement, row)

    return import_rows(rows, save)


def import_rows(rows: list[Row], save_row: Callable[[int, Row], bool]) -> ImportResult:
    """Save every row (numbered from 2: the header is row 1) inside one transaction:
    `save_row(number, row)` returns whether it created a record. Any row's error rolls all back
    and is reported with every other row's error."""
    errors, created, updated = [], 0, 0
    try:
        with transaction.atomic():
            for number, row in enumerate(rows, start=2):
                try:
                    with transaction.atomic():
                        was_new = save_row(number, row)
                    created, updated = created + was_new, updated + (not was_new)
                except DomainError as error:
                    errors.append({"row": number, "message": error.message, "fields": error.fields})
            if errors:
                raise _RollBack
    except _RollBack:
        raise DomainError(
            f"{len(errors)} row(s) have errors; nothing was imported.",
            code="import_invalid",
            fields={"rows": errors[:200]},
        ) from None
    return ImportResult(created, updated)


class _RollBack(Exception):
    pass


def _int(value: str | None) -> int | None:
    """An id cell: ASCII digits ("٢١" is not engagement 21); spaces around a cell are layout."""
    try:
        return parse_ascii_id((value or "").strip(), field="engagement")
    except ParseError:
        return None


def _date(value: str | None, field: str) -> date:
    try:
        return parse_date((value or "").strip(), field=field)
    except ParseError as error:
        raise DomainError(f"{value!r}: {error.message}", fields={field: error.message}) from None


def timecards_import(*, actor: Any, text: str, engagements: QuerySet[Any]) -> ImportResult:
    rows = _csv_rows(text, TIMECARD_COLUMNS, ("engagement", "date", "first_call", "dismissal"))

    def save_row(engagement: Engagement, row: Row) -> bool:
        day = _date(row.get("date"), "date")
        meals = [
            [row.get(f"meal{n}_start"), row.get(f"meal{n}_end")]
            for n in (1, 2)
            if (row.get(f"meal{n}_start") or "").strip() or (row.get(f"meal{n}_end") or "").strip()
        ]
        rest = (row.get("rest_start") or "").strip()
        existing = Timecard.objects.filter(engagement=engagement, date=day).first()
        timecard_save(
            actor=actor,
            engagement=engagement,
            date=day,
            instance=existing,
            first_call=parse_time(row.get("first_call"), "first_call"),
            dismissal=parse_time(row.get("dismissal"), "dismissal"),
            meals=meals,
            rest_start=parse_time(rest, "rest_start") if rest else None,
            episode=(row.get("episode") or "").strip()[:40],
        )
        return existing is None

    return _import(rows, save_row, engagements)


def deliveries_import(*, actor: Any, text: str, engagements: QuerySet[Any]) -> ImportResult:
    rows = _csv_rows(text, DELIVERY_COLUMNS, ("engagement", "work_type", "date"))

    def save_row(engagement: Engagement, row: Row) -> bool:
        day = _date(row.get("date"), "date")
        work_type = (row.get("work_type") or "").strip()
        flag = (row.get("ai_material_handed_over") or "").strip().lower()
        if flag not in ("", "true", "false", "yes", "no", "1", "0"):
            raise DomainError(
                "true or false.", fields={"ai_material_handed_over": "true or false."}
            )
        fee = (row.get("fee") or "").strip()
        existing = WgaDelivery.objects.filter(
            engagement=engagement, work_type=work_type, date=day
        ).first()
        delivery_save(
            actor=actor,
            engagement=engagement,
            instance=existing,
            work_type=work_type,
            date=day,
            ai_material_handed_over=flag in ("true", "yes", "1"),
            fee=_money(fee) if fee else None,
        )
        return existing is None

    return _import(rows, save_row, engagements)


def _money(value: str) -> Decimal:
    """A fee from 0, in cents, written as the API's amounts are (`core.parse`)."""
    try:
        return parse_decimal(
            value, field="fee", max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES
        )
    except ParseError as error:
        raise DomainError(f"{value!r}: {error.message}", fields={"fee": error.message}) from None


# --- held AI uses ---------------------------------------------------------------------------


@transaction.atomic
def hold_resolve(*, actor: Any, ai_use: AiUse, decision: str, reason: str) -> HoldResolution:
    """Record staff's decision on a use recorded as a violation; the next run of its period pays
    (release) or drops (void) its lines."""
    if ai_use.status != AiUse.Status.VIOLATION:
        raise Conflict("Only a use recorded as a violation is held.", code="not_held")
    if consent_selectors.voided(AiUse.objects.filter(pk=ai_use.pk)).exists():
        raise Conflict(
            "This use is voided: it is in no run, so nothing of it is held.",
            code="ai_use_voided",
            fields={"ai_use": "Voided."},
        )
    if decision not in HoldResolution.Decision.values:
        raise DomainError("release or void.", fields={"decision": "release or void."})
    if not (reason or "").strip():
        raise DomainError("Give the reason.", fields={"reason": "Required."})
    if HoldResolution.objects.filter(ai_use=ai_use).exists():
        raise Conflict("This use is already resolved.", code="already_resolved")
    return HoldResolution.objects.create(
        ai_use=ai_use,
        decision=decision,
        reason=reason.strip(),
        resolved_by=actor,
        resolved_at=timezone.now(),
    )
