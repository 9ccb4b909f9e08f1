"""A self-contained consent scenario (the `consent_check` command's file, and the rule cases'
input) turned into the facts `rules.check()` decides on. Pure: no database.

A scenario names everything the check needs::

    {"at": "2025-03-10T09:00:00Z", "until": null, "agreement": "sag-tvth-2023", "production": "P1",
     "person": {"category": "principal", "deceased_on": null, "engaged_at": "...",
                "has_representative": false},
     "use": {"kind": "replica_creation", "alteration_exception": null,
             "synthetic_source_person": false, ...each flag of rules.UseFlags, default false,
             "synthetic_justification": "", "distributed_in": ["US-NY"], "ad_exemption": null},
     "consents": [{"id", "kind", "production", "description", "scenes", "media", "instrument",
                   "signed_at", "signed_by_capacity", "term_from", "term_to", "notice_at",
                   "engaged_at", "business_reason", "bargained_amount", "revoked_at",
                   "suspensions": [{"from", "to"}], "superseded_by", "governing_law",
                   "performance_fixed_on", "replaces_in_person_work", "represented_by",
                   "terms_initialed"}],
     "strikes": [{"guild", "from", "to"}],
     "union_notices": [{"kind", "production", "given_at"}],
     "wga_disclosures": [{"production", "given_at"}]}

The 2026 keys (RULES.md §5) are optional: a missing one is null, false, "" or [] (the flags
`human_role`, `advertisement` and `disclosure_given` are use flags), so an older scenario decides
as before. `governing_law` is an ISO 3166-2 code ("US-CA"); each `distributed_in` entry one too,
or a country ("US"); `represented_by` is one of rules.REPRESENTED_BY; `ad_exemption` one of
rules.AD_EXEMPTIONS; a union notice's `kind` one of rules.UNION_NOTICE_KINDS
(`training_license`: the WGA notice of a training licence, whose date is the `training` use's
`at`). The answer carries `warnings`.

An instant without an offset is UTC; a date alone is the start of that day, UTC. Unknown keys are
refused, so that a misspelt field cannot silently change a decision.
"""

from collections.abc import Callable, Collection
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from core.parse import (
    NOT_BLANK,
    ParseError,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_flag,
    parse_list,
    parse_object,
    parse_string,
    parse_utc_instant,
)

from . import rules

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
_PERSON = {f.name for f in fields(rules.PersonFacts)}
_USE = {
    "kind",
    "alteration_exception",
    *rules.USE_FLAGS,
    "synthetic_justification",
    "distributed_in",
    "ad_exemption",
}
_CONSENT = {
    "id",
    "production",
    "territory",
    *rules.CONSENT_RECORD_FACTS,
    "revoked_at",
    "suspensions",
    "superseded_by",
}
_SUSPENSION = {"from", "to"}
_STRIKE = {"guild", "from", "to"}
_NOTICE = {"kind", "production", "given_at"}
_DISCLOSURE = {"production", "given_at"}
_GUILD_NAMES = {"sag-aftra": rules.SAG, "wga": rules.WGA, "iatse": rules.IATSE}


def facts(scenario: object) -> rules.Facts:
    """The facts a scenario states; core.parse.ParseError names the faulty field."""
    top = _object(scenario, _TOP, "scenario")
    production = _text(top.get("production"), "production")
    use_raw = _object(top.get("use"), _USE, "use")
    use = rules.UseFacts(
        kind=_choice(use_raw.get("kind"), rules.USE_KINDS, "use.kind"),
        production=production,
        at=instant(top.get("at"), "at"),
        until=_optional(instant, top.get("until"), "until"),
        alteration_exception=_optional(
            _choice_of(rules.ALTERATION_EXCEPTIONS),
            use_raw.get("alteration_exception"),
            "use.alteration_exception",
        ),
        flags=rules.UseFlags(
            **{flag: _flag(use_raw.get(flag), f"use.{flag}") for flag in rules.USE_FLAGS}
        ),
        synthetic_justification=_blank_text(
            use_raw.get("synthetic_justification") or "", "use.synthetic_justification"
        ),
        distributed_in=tuple(
            _region(code, f"use.distributed_in[{index}]")
            for index, code in enumerate(
                parse_list(
                    use_raw.get("distributed_in"),
                    field="use.distributed_in",
                    message="use.distributed_in must be a list.",
                )
            )
        ),
        ad_exemption=_optional(
            _choice_of(rules.AD_EXEMPTIONS), use_raw.get("ad_exemption"), "use.ad_exemption"
        ),
    )
    if use.until is not None and use.until < use.at:
        raise ParseError("until", "until is before at.")
    return rules.Facts(
        agreement=_text(top.get("agreement"), "agreement"),
        person=_person(top.get("person")),
        use=use,
        consents=_each(top, "consents", _consent),
        strikes=_each(top, "strikes", _strike),
        union_notices=_each(top, "union_notices", _notice),
        disclosures=_each(top, "wga_disclosures", _disclosure),
    )


def decide(scenario: object) -> rules.Decision:
    """Decide a scenario; core.parse.ParseError names a malformed field, rules.CheckInputError
    a question the check cannot answer (an unknown agreement, a use kind it does not cover)."""
    return rules.check(facts(scenario))


def _person(raw: object) -> rules.PersonFacts | None:
    if raw is None:
        return None
    person = _object(raw, _PERSON, "person")
    return rules.PersonFacts(
        category=_choice(person.get("category"), rules.CATEGORIES, "person.category"),
        deceased_on=_optional(_date, person.get("deceased_on"), "person.deceased_on"),
        engaged_at=_optional(instant, person.get("engaged_at"), "person.engaged_at"),
        has_representative=_flag(person.get("has_representative"), "person.has_representative"),
    )


def _consent(raw: object, where: str) -> rules.ConsentFacts:
    consent = _object(raw, _CONSENT, where)
    suspensions = []
    for j, pause_raw in enumerate(consent.get("suspensions") or []):
        at = f"{where}.suspensions[{j}]"
        pause = _object(pause_raw, _SUSPENSION, at)
        suspensions.append(
            (
                instant(pause.get("from"), f"{at}.from"),
                _optional(instant, pause.get("to"), f"{at}.to"),
            )
        )
    return rules.ConsentFacts(
        id=_text(consent.get("id"), f"{where}.id"),
        kind=_choice(consent.get("kind"), rules.CONSENT_KINDS, f"{where}.kind"),
        production=_text(consent.get("production"), f"{where}.production"),
        description=_blank_text(consent.get("description", ""), f"{where}.description"),
        scenes=_blank_text(consent.get("scenes", ""), f"{where}.scenes"),
        media=_blank_text(consent.get("media", ""), f"{where}.media"),
        instrument=_choice(consent.get("instrument"), rules.INSTRUMENTS, f"{where}.instrument"),
        signed_at=instant(consent.get("signed_at"), f"{where}.signed_at"),
        signed_by_capacity=_choice(
            consent.get("signed_by_capacity"), rules.CAPACITIES, f"{where}.signed_by_capacity"
        ),
        term_from=_date(consent.get("term_from"), f"{where}.term_from"),
        term_to=_optional(_date, consent.get("term_to"), f"{where}.term_to"),
        notice_at=_optional(instant, consent.get("notice_at"), f"{where}.notice_at"),
        engaged_at=_optional(instant, consent.get("engaged_at"), f"{where}.engaged_at"),
        business_reason=_blank_text(
            consent.get("business_reason") or "", f"{where}.business_reason"
        ),
        bargained_amount=_optional(
            _decimal, consent.get("bargained_amount"), f"{where}.bargained_amount"
        ),
        revoked_at=_optional(instant, consent.get("revoked_at"), f"{where}.revoked_at"),
        suspensions=tuple(suspensions),
        superseded_by=_optional(_text, consent.get("superseded_by"), f"{where}.superseded_by"),
        governing_law=_optional(
            _subdivision, consent.get("governing_law"), f"{where}.governing_law"
        ),
        performance_fixed_on=_optional(
            _date, consent.get("performance_fixed_on"), f"{where}.performance_fixed_on"
        ),
        replaces_in_person_work=_flag(
            consent.get("replaces_in_person_work"), f"{where}.replaces_in_person_work"
        ),
        represented_by=_optional(
            _choice_of(rules.REPRESENTED_BY),
            consent.get("represented_by"),
            f"{where}.represented_by",
        ),
        terms_initialed=_flag(consent.get("terms_initialed"), f"{where}.terms_initialed"),
    )


def _strike(raw: object, where: str) -> rules.StrikeFacts:
    strike = _object(raw, _STRIKE, where)
    name = _text(strike.get("guild"), f"{where}.guild").lower()
    if name not in _GUILD_NAMES:
        raise ParseError(f"{where}.guild", f"Unknown guild {strike.get('guild')!r}.")
    return rules.StrikeFacts(
        guild=_GUILD_NAMES[name],
        starts_on=_date(strike.get("from"), f"{where}.from"),
        ends_on=_optional(_date, strike.get("to"), f"{where}.to"),
    )


def _notice(raw: object, where: str) -> rules.UnionNoticeFacts:
    notice = _object(raw, _NOTICE, where)
    return rules.UnionNoticeFacts(
        kind=_choice(notice.get("kind"), rules.UNION_NOTICE_KINDS, f"{where}.kind"),
        production=_text(notice.get("production"), f"{where}.production"),
        given_at=instant(notice.get("given_at"), f"{where}.given_at"),
    )


def _disclosure(raw: object, where: str) -> rules.DisclosureFacts:
    disclosure = _object(raw, _DISCLOSURE, where)
    return rules.DisclosureFacts(
        production=_text(disclosure.get("production"), f"{where}.production"),
        given_at=instant(disclosure.get("given_at"), f"{where}.given_at"),
    )


# --- field parsers: core.parse, in the scenario's wording ("<field> must be ...") ------------

_T = TypeVar("_T")


def _required(value: object, where: str) -> object:
    if value is None:
        raise ParseError(where, f"{where} is required.")
    return value


def _optional(parse: Callable[[object, str], _T], value: object, where: str) -> _T | None:
    """`parse(value)`, or None for a null or missing value."""
    return None if value is None else parse(value, where)


def instant(value: object, where: str) -> datetime:
    """An aware UTC datetime from ISO 8601; a bare date is the start of that day, UTC
    (core.parse.parse_utc_instant)."""
    return parse_utc_instant(_required(value, where), field=where)


def _date(value: object, where: str) -> date:
    _required(value, where)
    try:
        return parse_date(value, field=where)
    except ParseError as error:
        raise ParseError(where, f"{where}: {value!r}: {error.message}") from None


def _decimal(value: object, where: str) -> Decimal:
    if not isinstance(value, str):
        raise ParseError(where, f'{where} must be a decimal string, e.g. "1500.00".')
    try:  # at least zero, in the API's amount syntax (core.parse)
        return parse_decimal(value, field=where, max_digits=18, decimal_places=6)
    except ParseError as error:
        raise ParseError(where, f"{where}: {value!r}: {error.message}") from None


def _text(value: object, where: str) -> str:
    return parse_string(
        _required(value, where),
        field=where,
        pattern=NOT_BLANK,
        message=f"{where} must be a non-empty string.",
    )


def _blank_text(value: object, where: str) -> str:
    return parse_string(
        _required(value, where),
        field=where,
        blank=True,
        message=f"{where} must be a non-empty string.",
    )


def _region(value: object, where: str) -> str:
    return parse_string(
        _required(value, where),
        field=where,
        pattern=rules.REGION_CODE,
        message=f'{where} must be a region code, e.g. "US-CA".',
    )


def _subdivision(value: object, where: str) -> str:
    return parse_string(
        _required(value, where),
        field=where,
        pattern=rules.SUBDIVISION_CODE,
        message=f'{where} must be an ISO 3166-2 code, e.g. "US-CA".',
    )


def _choice(value: object, choices: Collection[str], where: str) -> str:
    return parse_choice(
        value, choices, field=where, message=f"{where} must be one of: {', '.join(choices)}."
    )


def _choice_of(choices: Collection[str]) -> Callable[[object, str], str]:
    return lambda value, where: _choice(value, choices, where)


def _flag(value: object, where: str) -> bool:
    return parse_flag(value, field=where, default=False, message=f"{where} must be true or false.")


def _object(value: object, keys: Collection[str], where: str) -> dict[str, Any]:
    return parse_object(
        value,
        field=where,
        keys=keys,
        message=f"{where} must be an object.",
        unknown=lambda names: ParseError(where, f"{where}: unknown field(s) {', '.join(names)}."),
    )


def _each(scenario: dict[str, Any], key: str, parse: Callable[[object, str], _T]) -> tuple[_T, ...]:
    """`parse` over the list under `key` (a missing or empty value is no item)."""
    items = parse_list(scenario.get(key) or [], field=key, message=f"{key} must be a list.")
    return tuple(parse(item, f"{key}[{index}]") for index, item in enumerate(items))
