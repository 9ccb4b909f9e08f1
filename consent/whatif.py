"""A self-contained consent scenario (the `consent_check` command's file, and the rule cases'
input) turned into the facts `rules.check()` decides on. Pure: no database.

A scenario names everything the check needs::

    {"at": "2025-03-10T09:00:00Z", "until": null, "agreement": "sag-tvth-2023", "production": "P1",
     "person": {"category": "principal", "deceased_on": null, "engaged_at": "...",
                "has_representative": false},
     "use": {"kind": "replica_creation", "alteration_exception": null,
             "synthetic_source_person": false, "company_required": false,
             "displacing_prompts": false, "condition_of_employment": false,
             "material_handed_over": false},
     "consents": [{"id", "kind", "production", "description", "scenes", "media", "instrument",
                   "signed_at", "signed_by_capacity", "term_from", "term_to", "notice_at",
                   "engaged_at", "business_reason", "bargained_amount", "revoked_at",
                   "suspensions": [{"from", "to"}], "superseded_by"}],
     "strikes": [{"guild", "from", "to"}],
     "union_notices": [{"kind", "production", "given_at"}],
     "wga_disclosures": [{"production", "given_at"}]}

An instant without an offset is UTC; a date alone is the start of that day, UTC. Unknown keys are
refused, so that a misspelt field cannot silently change a decision.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from core.parse import ParseError, parse_date, parse_decimal

from . import rules
from .rules import CheckInputError

_TOP = {
    "at",
    "until",
    "agreement",
    "production",
    "person",
    "use",
    "consents",
    "strikes",
    "union_notices",
    "wga_disclosures",
}
_PERSON = {"category", "deceased_on", "engaged_at", "has_representative"}
_USE = {
    "kind",
    "alteration_exception",
    "synthetic_source_person",
    "company_required",
    "displacing_prompts",
    "condition_of_employment",
    "material_handed_over",
    "counted_toward_headcount",
}
_CONSENT = {
    "id",
    "kind",
    "production",
    "description",
    "scenes",
    "media",
    "territory",
    "instrument",
    "signed_at",
    "signed_by_capacity",
    "term_from",
    "term_to",
    "notice_at",
    "engaged_at",
    "business_reason",
    "bargained_amount",
    "revoked_at",
    "suspensions",
    "superseded_by",
}
_STRIKE = {"guild", "from", "to"}
_NOTICE = {"kind", "production", "given_at"}
_DISCLOSURE = {"production", "given_at"}
_GUILD_NAMES = {"sag-aftra": rules.SAG, "wga": rules.WGA, "iatse": rules.IATSE}


def decide(scenario: dict) -> rules.Decision:
    """Decide a scenario; raises CheckInputError naming the faulty field."""
    _object(scenario, _TOP, "scenario")
    production = _text(scenario.get("production"), "production")
    use_raw = _object(scenario.get("use"), _USE, "use")
    use = rules.UseFacts(
        kind=_choice(use_raw.get("kind"), rules.USE_KINDS, "use.kind"),
        production=production,
        at=instant(scenario.get("at"), "at"),
        until=instant(scenario.get("until"), "until", required=False),
        alteration_exception=_choice(
            use_raw.get("alteration_exception"),
            rules.ALTERATION_EXCEPTIONS,
            "use.alteration_exception",
            required=False,
        ),
        **{
            flag: _flag(use_raw.get(flag), f"use.{flag}")
            for flag in (
                "synthetic_source_person",
                "company_required",
                "displacing_prompts",
                "condition_of_employment",
                "material_handed_over",
                "counted_toward_headcount",
            )
        },
    )
    if use.until is not None and use.until < use.at:
        raise CheckInputError("until is before at.", field="until")
    return rules.check(
        agreement=_text(scenario.get("agreement"), "agreement"),
        person=_person(scenario.get("person")),
        use=use,
        consents=[_consent(c, i) for i, c in enumerate(_list(scenario, "consents"))],
        strikes=[_strike(s, i) for i, s in enumerate(_list(scenario, "strikes"))],
        union_notices=[_notice(n, i) for i, n in enumerate(_list(scenario, "union_notices"))],
        disclosures=[_disclosure(d, i) for i, d in enumerate(_list(scenario, "wga_disclosures"))],
    )


def _person(raw) -> rules.PersonFacts | None:
    if raw is None:
        return None
    _object(raw, _PERSON, "person")
    return rules.PersonFacts(
        category=_choice(raw.get("category"), rules.CATEGORIES, "person.category"),
        deceased_on=_date(raw.get("deceased_on"), "person.deceased_on", required=False),
        engaged_at=instant(raw.get("engaged_at"), "person.engaged_at", required=False),
        has_representative=_flag(raw.get("has_representative"), "person.has_representative"),
    )


def _consent(raw, index) -> rules.ConsentFacts:
    where = f"consents[{index}]"
    _object(raw, _CONSENT, where)
    suspensions = []
    for j, pause in enumerate(raw.get("suspensions") or []):
        _object(pause, {"from", "to"}, f"{where}.suspensions[{j}]")
        suspensions.append(
            (
                instant(pause.get("from"), f"{where}.suspensions[{j}].from"),
                instant(pause.get("to"), f"{where}.suspensions[{j}].to", required=False),
            )
        )
    amount = raw.get("bargained_amount")
    return rules.ConsentFacts(
        id=_text(raw.get("id"), f"{where}.id"),
        kind=_choice(raw.get("kind"), rules.CONSENT_KINDS, f"{where}.kind"),
        production=_text(raw.get("production"), f"{where}.production"),
        description=_text(raw.get("description", ""), f"{where}.description", blank=True),
        scenes=_text(raw.get("scenes", ""), f"{where}.scenes", blank=True),
        media=_text(raw.get("media", ""), f"{where}.media", blank=True),
        instrument=_choice(raw.get("instrument"), rules.INSTRUMENTS, f"{where}.instrument"),
        signed_at=instant(raw.get("signed_at"), f"{where}.signed_at"),
        signed_by_capacity=_choice(
            raw.get("signed_by_capacity"), rules.CAPACITIES, f"{where}.signed_by_capacity"
        ),
        term_from=_date(raw.get("term_from"), f"{where}.term_from"),
        term_to=_date(raw.get("term_to"), f"{where}.term_to", required=False),
        notice_at=instant(raw.get("notice_at"), f"{where}.notice_at", required=False),
        engaged_at=instant(raw.get("engaged_at"), f"{where}.engaged_at", required=False),
        business_reason=_text(
            raw.get("business_reason") or "", f"{where}.business_reason", blank=True
        ),
        bargained_amount=None if amount is None else _decimal(amount, f"{where}.bargained_amount"),
        revoked_at=instant(raw.get("revoked_at"), f"{where}.revoked_at", required=False),
        suspensions=tuple(suspensions),
        superseded_by=_text(raw.get("superseded_by"), f"{where}.superseded_by", required=False),
    )


def _strike(raw, index) -> rules.StrikeFacts:
    where = f"strikes[{index}]"
    _object(raw, _STRIKE, where)
    name = _text(raw.get("guild"), f"{where}.guild").lower()
    if name not in _GUILD_NAMES:
        raise CheckInputError(f"Unknown guild {raw.get('guild')!r}.", field=f"{where}.guild")
    return rules.StrikeFacts(
        guild=_GUILD_NAMES[name],
        starts_on=_date(raw.get("from"), f"{where}.from"),
        ends_on=_date(raw.get("to"), f"{where}.to", required=False),
    )


def _notice(raw, index) -> rules.UnionNoticeFacts:
    where = f"union_notices[{index}]"
    _object(raw, _NOTICE, where)
    return rules.UnionNoticeFacts(
        kind=_choice(raw.get("kind"), rules.UNION_NOTICE_KINDS, f"{where}.kind"),
        production=_text(raw.get("production"), f"{where}.production"),
        given_at=instant(raw.get("given_at"), f"{where}.given_at"),
    )


def _disclosure(raw, index) -> rules.DisclosureFacts:
    where = f"wga_disclosures[{index}]"
    _object(raw, _DISCLOSURE, where)
    return rules.DisclosureFacts(
        production=_text(raw.get("production"), f"{where}.production"),
        given_at=instant(raw.get("given_at"), f"{where}.given_at"),
    )


# --- field parsers --------------------------------------------------------------------------


def instant(value, where, *, required=True) -> datetime | None:
    """An aware UTC datetime from ISO 8601; a bare date is the start of that day, UTC."""
    if value is None:
        if required:
            raise CheckInputError(f"{where} is required.", field=where)
        return None
    if not isinstance(value, str):
        raise CheckInputError(f"{where} must be an ISO 8601 date or time.", field=where) from None
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CheckInputError(
            f"{where}: {value!r} is not an ISO 8601 date or time.", field=where
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise CheckInputError(
            f"{where}: {value!r} is outside years 1-9999 in UTC.", field=where
        ) from None


def _date(value, where, *, required=True) -> date | None:
    if value is None:
        if required:
            raise CheckInputError(f"{where} is required.", field=where)
        return None
    try:
        return parse_date(value, field=where)
    except ParseError as error:
        raise CheckInputError(f"{where}: {value!r}: {error.message}", field=where) from None


def _decimal(value, where) -> Decimal:
    if not isinstance(value, str):
        raise CheckInputError(f'{where} must be a decimal string, e.g. "1500.00".', field=where)
    try:  # at least zero, in the API's amount syntax (core.parse)
        return parse_decimal(value, field=where, max_digits=18, decimal_places=6)
    except ParseError as error:
        raise CheckInputError(f"{where}: {value!r}: {error.message}", field=where) from None


def _text(value, where, *, required=True, blank=False) -> str | None:
    if value is None:
        if required:
            raise CheckInputError(f"{where} is required.", field=where)
        return None
    if not isinstance(value, str) or (not blank and not value.strip()):
        raise CheckInputError(f"{where} must be a non-empty string.", field=where)
    return value


def _choice(value, choices, where, *, required=True) -> str | None:
    if value is None and not required:
        return None
    if value not in choices:
        raise CheckInputError(
            f"{where} must be one of: {', '.join(choices)}.", code="invalid_choice", field=where
        )
    return value


def _flag(value, where) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise CheckInputError(f"{where} must be true or false.", field=where)
    return value


def _object(value, keys, where) -> dict:
    if not isinstance(value, dict):
        raise CheckInputError(f"{where} must be an object.", field=where)
    unknown = sorted(set(value) - keys)
    if unknown:
        raise CheckInputError(f"{where}: unknown field(s) {', '.join(unknown)}.", field=where)
    return value


def _list(scenario, key) -> list:
    value = scenario.get(key) or []
    if not isinstance(value, list):
        raise CheckInputError(f"{key} must be a list.", field=key)
    return value
