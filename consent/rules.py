"""The consent check (RULES.md §2): may this use of a person's likeness, voice or material happen
in this production at this instant, and if not, which rule says no?

`check()` is a pure function of plain facts: no database, no clock. The API, the AI-use register
and the `consent_check` command all build the facts (from rows, or from a what-if file) and call
it. A decision names the consent relied on and the rule ids that decided; a refusal lists every
rule that failed, with a sentence for each.

Semantics chosen where RULES.md is silent (each is stated in a reason when it decides):
- Instants are aware UTC datetimes; a use's date is its UTC date. A use may span a range
  [at, until]: the consent must cover all of it.
- A consent signed at or before the instant of use counts; one revoked at or before it does not
  ("revoked at the instant of use" is refused). A suspension is a revocation for a period.
- A superseded consent covers nothing: its successor is the record to rely on.
- Whether a performer is "engaged on" the production decides employment-based use
  (`sag.consent.ebdr_use`) versus use in another project (`sag.consent.new_project`).
- The 2026 SAG-AFTRA rules (strike, business reason) apply only under `sag-tvth-2026`.

The agreement versions are the registry's catalogue (`ledger.registry.catalogue`, RULES.md §1);
the check's fixed periods are dated parameters (`parameters.json` beside this module, read with
`core.dated`), taken as of the use's date.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from core.dated import DatedParameters
from core.dated import load as load_parameters
from ledger.registry import catalogue

USE_KINDS = (
    "replica_creation",
    "replica_use",
    "icdr_use",
    "digital_alteration",
    "synthetic_performer",
    "training",
    "writer_ai_use",
    "scan",
)
CONSENT_KINDS = (
    "replica_creation",
    "replica_use",
    "icdr_use",
    "digital_alteration",
    "synthetic_features",
    "training",
    "writer_ai_use",
    "scan",
)
INSTRUMENTS = ("separate_writing", "rider", "standard_terms")
CAPACITIES = ("self", "representative", "union")
ALTERATION_EXCEPTIONS = (
    "cosmetics",
    "wardrobe",
    "noise_reduction",
    "timing_or_speed",
    "continuity",
    "pitch_or_tone",
    "effects_or_filters",
    "standards_and_practices",
    "ratings",
    "dialogue_or_narration_adjustment",
)
CATEGORIES = ("principal", "background", "stand_in", "minor", "writer", "crew")
UNION_NOTICE_KINDS = ("synthetic_performer", "ai_impact")

SAG, WGA, IATSE = "sag-aftra", "wga", "iatse"
CATEGORY_GUILD = {
    "principal": SAG,
    "background": SAG,
    "stand_in": SAG,
    "minor": SAG,
    "writer": WGA,
    "crew": IATSE,
}
# The use kinds each guild's agreement speaks to; any other is not a question for that agreement.
GUILD_USE_KINDS = {
    SAG: {
        "replica_creation",
        "scan",
        "replica_use",
        "icdr_use",
        "digital_alteration",
        "synthetic_performer",
        "training",
    },
    WGA: {"writer_ai_use", "training"},
    IATSE: {"scan", "replica_creation", "replica_use", "digital_alteration", "training"},
}

PARAMETERS_FILE = Path(__file__).with_name("parameters.json")


@dataclass(frozen=True)
class RuleParameters:
    """The check's fixed periods in force on one date (PARAMETERS_FILE)."""

    notice_before_scan: timedelta  # sag.consent.notice_48h

    @classmethod
    def as_of(cls, on: date, parameters: DatedParameters | None = None) -> "RuleParameters":
        """The values in force on `on`, from `parameters` or the shipped file; a date no value
        covers raises core.dated.ValueMissing (a period is never guessed)."""
        if parameters is None:
            return _shipped_as_of(on)
        hours = parameters.get("sag.consent.notice_before_scan", on).value
        return cls(notice_before_scan=timedelta(hours=float(hours)))


@cache
def shipped_parameters() -> DatedParameters:
    """The parameters shipped beside this module, loaded once."""
    return load_parameters(PARAMETERS_FILE)


@cache
def _shipped_as_of(on: date) -> RuleParameters:
    return RuleParameters.as_of(on, shipped_parameters())


_SCENES = re.compile(
    r"\b(scenes?|episodes?|ep\.?\s*\d+|sequences?|reels?|shots?|acts?\s+\w+|chapters?|segments?)\b",
    re.IGNORECASE,
)
_MEDIA = re.compile(
    r"\b(streaming|svod|avod|theatrical|theat(?:er|re)s?|cinemas?|television|tv|broadcast|cable|"
    r"home video|dvd|blu-?ray|trailers?|teasers?|promos?|promotional|advertising|marketing|"
    r"online|internet|social media|festivals?|airlines?|radio|podcasts?)\b",
    re.IGNORECASE,
)
_GENERIC = re.compile(
    r"(any and all|all media|now known or hereafter|hereafter (?:devised|known)|throughout the "
    r"universe|in perpetuity|any (?:production|project|purpose|picture)s?\b|all (?:productions|"
    r"projects|purposes|pictures)\b|as the producer (?:sees fit|determines))",
    re.IGNORECASE,
)


class CheckInputError(ValueError):
    """The facts do not describe a question the check can answer: an agreement it does not know,
    a use kind or a person the agreement does not cover (`use_kind_not_applicable`), a use that
    needs a person. Malformed input is refused before, by the parsers (core.parse.ParseError);
    this is the check's own refusal, with its domain `code`."""

    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


@dataclass(frozen=True)
class ConsentFacts:
    id: str | int
    kind: str
    production: str
    description: str
    instrument: str
    signed_at: datetime
    signed_by_capacity: str
    term_from: date
    term_to: date | None = None
    scenes: str = ""
    media: str = ""
    notice_at: datetime | None = None
    engaged_at: datetime | None = None
    business_reason: str = ""
    bargained_amount: Decimal | None = None
    revoked_at: datetime | None = None
    suspensions: tuple[tuple[datetime, datetime | None], ...] = ()
    superseded_by: str | int | None = None


# The facts a consent record states as it stands; the rest are its id and production, and what its
# events (revoked_at, suspensions) and its successor (superseded_by) say.
CONSENT_RECORD_FACTS: tuple[str, ...] = tuple(
    f.name
    for f in fields(ConsentFacts)
    if f.name not in ("id", "production", "revoked_at", "suspensions", "superseded_by")
)


@dataclass(frozen=True)
class PersonFacts:
    category: str
    deceased_on: date | None = None
    # When the person was engaged on the production the use is in; None: not engaged on it.
    engaged_at: datetime | None = None
    has_representative: bool = False


@dataclass(frozen=True)
class UseFlags:
    """The yes/no facts of a use the check decides on. Its fields are the one list of the flags:
    the what-if scenario, the API's check and the AI-use register take these names
    (USE_FLAGS)."""

    # The synthetic performer was made with a named performer's recognizable features
    # (sag.consent.synthetic).
    synthetic_source_person: bool = False
    # A company requirement that a writer use generative AI (wga.writer_use).
    company_required: bool = False
    # An employee required to write prompts that would displace a covered employee.
    displacing_prompts: bool = False
    # A scan made a condition of employment (iatse.scan_consent).
    condition_of_employment: bool = False
    # AI-generated material handed to a writer (wga.disclosure).
    material_handed_over: bool = False
    # A background actor's replica counted toward the required background headcount.
    counted_toward_headcount: bool = False


USE_FLAGS: tuple[str, ...] = tuple(f.name for f in fields(UseFlags))


@dataclass(frozen=True)
class UseFacts:
    kind: str
    production: str
    at: datetime
    until: datetime | None = None
    alteration_exception: str | None = None
    flags: UseFlags = UseFlags()

    @property
    def end(self) -> datetime:
        return self.until or self.at


@dataclass(frozen=True)
class StrikeFacts:
    guild: str
    starts_on: date
    ends_on: date | None = None


@dataclass(frozen=True)
class UnionNoticeFacts:
    kind: str
    production: str
    given_at: datetime


@dataclass(frozen=True)
class DisclosureFacts:
    production: str
    given_at: datetime


@dataclass(frozen=True)
class Facts:
    """Everything one check decides on. `consents` are the person's consents (any kind, any
    production)."""

    agreement: str
    person: PersonFacts | None
    use: UseFacts
    consents: tuple[ConsentFacts, ...] = ()
    strikes: tuple[StrikeFacts, ...] = ()
    union_notices: tuple[UnionNoticeFacts, ...] = ()
    disclosures: tuple[DisclosureFacts, ...] = ()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    consent: str | int | None
    rules: tuple[str, ...]
    reasons: tuple[str, ...]
    agreement: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "consent": self.consent,
            "rules": list(self.rules),
            "reasons": list(self.reasons),
            "agreement": self.agreement,
        }


@dataclass
class _Verdict:
    """Collects what passed and what failed, in the order the rules were checked."""

    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def ok(self, rule: str, reason: str | None = None) -> None:
        if rule not in self.passed:
            self.passed.append(rule)
        if reason:
            self.reasons.append(reason)

    def fail(self, rule: str, reason: str) -> None:
        if rule not in self.failed:
            self.failed.append(rule)
        self.reasons.append(reason)


def check(facts: Facts, *, parameters: DatedParameters | None = None) -> Decision:
    """Decide one use, with the periods of `parameters` (by default the shipped ones) in force
    on the use's date."""
    agreement, person, use = facts.agreement, facts.person, facts.use
    version = catalogue.AGREEMENTS.get(agreement)
    if version is None:
        raise CheckInputError(f"Unknown agreement {agreement!r}.", field="agreement")
    guild, year = version.guild, version.year
    if use.kind not in GUILD_USE_KINDS[guild]:
        raise CheckInputError(
            f"{agreement} has no rule for a use of kind {use.kind}.",
            code="use_kind_not_applicable",
            field="use_kind",
        )
    if person is None and not (
        use.kind == "synthetic_performer" and not use.flags.synthetic_source_person
    ):
        raise CheckInputError("This use needs a person.", field="person")
    if person is not None and CATEGORY_GUILD[person.category] != guild:
        raise CheckInputError(
            f"A {person.category} is not covered by {agreement}.",
            code="use_kind_not_applicable",
            field="person",
        )

    verdict = _Verdict()
    context = _Context(
        year,
        person,
        use,
        facts.consents,
        facts.strikes,
        facts.union_notices,
        facts.disclosures,
        RuleParameters.as_of(use.at.date(), parameters),
    )
    relied = _GUILD_CHECKS[guild](verdict, context)
    allowed = not verdict.failed
    rules = verdict.passed if allowed else verdict.failed
    return Decision(
        allowed=allowed,
        consent=relied.id if (allowed and relied) else None,
        rules=tuple(rules),
        reasons=tuple(verdict.reasons),
        agreement=agreement,
    )


@dataclass(frozen=True)
class _Context:
    year: int
    person: PersonFacts | None
    use: UseFacts
    consents: Sequence[ConsentFacts]
    strikes: Sequence[StrikeFacts]
    union_notices: Sequence[UnionNoticeFacts]
    disclosures: Sequence[DisclosureFacts]
    parameters: RuleParameters


_Extra = Callable[[_Verdict, _Context, ConsentFacts], bool]


# --- SAG-AFTRA ------------------------------------------------------------------------------


def _check_sag(verdict: _Verdict, ctx: _Context) -> ConsentFacts | None:
    use = ctx.use
    if use.kind in ("replica_creation", "scan"):
        relied = _covering_consent(
            verdict,
            ctx,
            kinds=("replica_creation",),
            rule="sag.consent.creation",
            extra=_creation_checks,
        )
    elif use.kind == "replica_use":
        engaged = ctx.person is not None and ctx.person.engaged_at is not None
        rule = "sag.consent.ebdr_use" if engaged else "sag.consent.new_project"
        relied = _covering_consent(verdict, ctx, kinds=("replica_use",), rule=rule)
        _strike(verdict, ctx)
    elif use.kind == "icdr_use":
        relied = _covering_consent(verdict, ctx, kinds=("icdr_use",), rule="sag.consent.icdr_use")
        _strike(verdict, ctx)
    elif use.kind == "digital_alteration":
        if use.alteration_exception:
            verdict.ok(
                "sag.consent.alteration",
                f"No consent needed: the alteration is for {use.alteration_exception} "
                "(an exception of sag.consent.alteration).",
            )
            return None
        relied = _covering_consent(
            verdict, ctx, kinds=("digital_alteration",), rule="sag.consent.alteration"
        )
    elif use.kind == "synthetic_performer":
        relied = _synthetic(verdict, ctx)
    else:  # training
        verdict.reasons.append(
            "No rule of the SAG-AFTRA agreement restricts AI training on performances; the use "
            "is recorded as evidence."
        )
        return None
    if ctx.person is not None and ctx.person.category == "background" and use.kind != "training":
        rule = "sag.consent.background"
        if use.flags.counted_toward_headcount:
            verdict.fail(
                rule,
                "A background actor's replica never counts toward the required background "
                "headcount; this use was counted.",
            )
        elif verdict.failed and relied is None:
            verdict.fail(rule, "A background actor's replica needs consent like a principal's.")
        else:
            verdict.ok(rule, "A background actor's replica never counts toward headcount.")
    return relied


def _creation_checks(verdict: _Verdict, ctx: _Context, consent: ConsentFacts) -> bool:
    ok = _notice_48h(verdict, ctx, consent)
    if ctx.year >= 2026:
        if (consent.business_reason or "").strip():
            verdict.ok("sag.consent.scan_reason")
        else:
            verdict.fail(
                "sag.consent.scan_reason",
                f"Consent {consent.id} states no business reason for the scan (2026 agreement).",
            )
            ok = False
    return ok


def _notice_48h(verdict: _Verdict, ctx: _Context, consent: ConsentFacts) -> bool:
    rule = "sag.consent.notice_48h"
    scan_at = ctx.use.at
    engaged_at = consent.engaged_at or (ctx.person.engaged_at if ctx.person else None)
    notice_at = consent.notice_at
    if notice_at is None:
        verdict.fail(rule, f"Consent {consent.id} records no notice of the scan.")
        return False
    before = ctx.parameters.notice_before_scan
    if engaged_at is not None and engaged_at > scan_at - before:
        due, why = engaged_at, f"at engagement (engaged less than {_hours(before)} before the scan)"
    else:
        due, why = scan_at - before, f"{_hours(before)} before the scan"
    if notice_at > due:
        verdict.fail(
            rule,
            f"Notice was given at {_iso(notice_at)}; it was due {why}, by {_iso(due)}.",
        )
        return False
    verdict.ok(rule)
    return True


def _synthetic(verdict: _Verdict, ctx: _Context) -> ConsentFacts | None:
    rule = "sag.consent.synthetic"
    use = ctx.use
    notices = [
        n
        for n in ctx.union_notices
        if n.kind == "synthetic_performer"
        and n.production == use.production
        and n.given_at <= use.at
    ]
    if notices:
        verdict.ok(rule, f"The union was notified at {_iso(min(n.given_at for n in notices))}.")
    else:
        verdict.fail(rule, "No notice to the union of the synthetic performer before its use.")
    if not use.flags.synthetic_source_person:
        return None
    return _covering_consent(verdict, ctx, kinds=("synthetic_features",), rule=rule)


def _strike(verdict: _Verdict, ctx: _Context) -> None:
    """sag.consent.strike (2026): no replica use dated inside a strike of the performer's union."""
    if ctx.year < 2026:
        return
    rule = "sag.consent.strike"
    use = ctx.use
    for strike in ctx.strikes:
        if strike.guild != SAG:
            continue
        if strike.starts_on <= use.end.date() and (
            strike.ends_on is None or use.at.date() <= strike.ends_on
        ):
            verdict.fail(
                rule,
                f"The use falls in the SAG-AFTRA strike from {strike.starts_on}"
                + (f" to {strike.ends_on}." if strike.ends_on else " (not ended)."),
            )
            return
    verdict.ok(rule)


# --- WGA ------------------------------------------------------------------------------------


def _check_wga(verdict: _Verdict, ctx: _Context) -> ConsentFacts | None:
    use = ctx.use
    relied = None
    if use.flags.material_handed_over:
        _disclosure(verdict, ctx)
    elif use.kind == "writer_ai_use":
        if use.flags.company_required:
            verdict.fail(
                "wga.writer_use",
                "The company required the writer to use generative AI, which the MBA forbids.",
            )
        else:
            relied = _covering_consent(
                verdict,
                ctx,
                kinds=("writer_ai_use",),
                rule="wga.writer_use",
                sag_form=False,
                separate_rule=None,
            )
    if use.kind == "training":
        relied = _covering_consent(
            verdict,
            ctx,
            kinds=("training",),
            rule="wga.training",
            sag_form=False,
            separate_rule=None,
        )
    return relied


def _disclosure(verdict: _Verdict, ctx: _Context) -> None:
    rule = "wga.disclosure"
    use = ctx.use
    given = [
        d
        for d in ctx.disclosures
        if d.production == use.production and d.given_at.date() <= use.at.date()
    ]
    if given:
        verdict.ok(rule, f"Disclosed to the writer at {_iso(min(d.given_at for d in given))}.")
    else:
        verdict.fail(
            rule,
            "AI-generated material was handed to the writer without a disclosure on or before "
            "the hand-over date.",
        )


# --- IATSE ----------------------------------------------------------------------------------


def _check_iatse(verdict: _Verdict, ctx: _Context) -> ConsentFacts | None:
    use = ctx.use
    relied = None
    if use.kind in ("scan", "replica_creation"):
        if use.flags.condition_of_employment:
            verdict.fail("iatse.scan_consent", "The scan was made a condition of employment.")
        relied = _covering_consent(
            verdict,
            ctx,
            kinds=("scan", "replica_creation"),
            rule="iatse.scan_consent",
            sag_form=False,
            separate_rule="iatse.scan_consent",
        )
    if use.flags.displacing_prompts:
        verdict.fail(
            "iatse.no_displacing_prompts",
            "An employee was required to write prompts that would displace a covered employee.",
        )
    else:
        verdict.ok("iatse.no_displacing_prompts")
    notices = [
        n
        for n in ctx.union_notices
        if n.kind == "ai_impact" and n.production == use.production and n.given_at <= use.at
    ]
    if notices:
        verdict.ok("iatse.ai_impact_notice")
    else:
        verdict.fail(
            "iatse.ai_impact_notice",
            "No AI-impact notice was given to the union before this use.",
        )
    return relied


# --- one consent covering one use -----------------------------------------------------------


def _covering_consent(
    verdict: _Verdict,
    ctx: _Context,
    *,
    kinds: tuple[str, ...],
    rule: str,
    extra: _Extra | None = None,
    sag_form: bool = True,
    separate_rule: str | None = "sag.consent.separate",
) -> ConsentFacts | None:
    """The consent of one of `kinds` for this production that covers the use, or None.

    Every candidate is examined; when none covers, every rule that failed for a candidate is
    reported. `sag_form` adds the SAG-AFTRA form rules (specificity, deceased performer);
    `separate_rule` names the rule that refuses a consent buried in standard terms, if any."""
    use = ctx.use
    of_kind = [c for c in ctx.consents if c.kind in kinds]
    candidates = [c for c in of_kind if c.production == use.production]
    if not candidates:
        elsewhere = sorted({c.production for c in of_kind})
        where = f" (only for {', '.join(elsewhere)})" if elsewhere else ""
        verdict.fail(rule, f"No {' or '.join(kinds)} consent for this production{where}.")
        return None
    live = [c for c in candidates if c.superseded_by is None]
    for c in candidates:
        if c.superseded_by is not None:
            verdict.reasons.append(f"Consent {c.id} was superseded by {c.superseded_by}.")
    if not live:
        verdict.fail(rule, "Every consent for this use was superseded and covers nothing.")
        return None
    trials = []
    for consent in sorted(live, key=lambda c: (c.signed_at, c.id), reverse=True):
        trial = _Verdict()
        if _consent_covers(trial, ctx, consent, rule, extra, sag_form, separate_rule):
            for passed in trial.passed:
                verdict.ok(passed)
            verdict.reasons.append(f"Covered by consent {consent.id}.")
            return consent
        trials.append(trial)
    for trial in trials:
        for failed in trial.failed:
            if failed not in verdict.failed:
                verdict.failed.append(failed)
        verdict.reasons.extend(trial.reasons)
    return None


def _consent_covers(
    verdict: _Verdict,
    ctx: _Context,
    consent: ConsentFacts,
    rule: str,
    extra: _Extra | None,
    sag_form: bool,
    separate_rule: str | None,
) -> bool:
    use = ctx.use
    ok = True
    if consent.signed_at <= use.at:
        verdict.ok(rule)
    else:
        verdict.fail(
            rule, f"Consent {consent.id} was signed after the use, at {_iso(consent.signed_at)}."
        )
        ok = False
    if separate_rule is None:
        pass
    elif consent.instrument == "standard_terms":
        verdict.fail(
            separate_rule,
            f"Consent {consent.id} is part of standard terms, not a separate writing or rider.",
        )
        ok = False
    else:
        verdict.ok(separate_rule)
    if sag_form:
        if is_specific(consent.description, consent.scenes, consent.media):
            verdict.ok("sag.consent.specific")
        else:
            verdict.fail(
                "sag.consent.specific",
                f"Consent {consent.id} lacks a reasonably specific description (scenes or "
                "episodes and media).",
            )
            ok = False
        ok = _deceased(verdict, ctx, consent) and ok
    ok = _term(verdict, use, consent) and ok
    ok = _not_withdrawn(verdict, use, consent) and ok
    if extra is not None:
        ok = extra(verdict, ctx, consent) and ok
    return ok


def _term(verdict: _Verdict, use: UseFacts, consent: ConsentFacts) -> bool:
    first, last = use.at.date(), use.end.date()
    if first < consent.term_from or (consent.term_to is not None and last > consent.term_to):
        verdict.fail(
            "consent.term",
            f"Consent {consent.id} runs from {consent.term_from} to "
            f"{consent.term_to or 'no end'}; the use is dated {first}"
            + (f" to {last}." if last != first else "."),
        )
        return False
    verdict.ok("consent.term")
    return True


def _not_withdrawn(verdict: _Verdict, use: UseFacts, consent: ConsentFacts) -> bool:
    rule = "consent.revoked"
    if consent.revoked_at is not None and consent.revoked_at <= use.end:
        verdict.fail(
            rule,
            f"Consent {consent.id} was revoked at {_iso(consent.revoked_at)}, at or before the "
            "use.",
        )
        return False
    for start, end in consent.suspensions:
        if start <= use.end and (end is None or end > use.at):
            verdict.fail(
                rule,
                f"Consent {consent.id} is suspended from {_iso(start)}"
                + (f" to {_iso(end)}." if end else " (not resumed)."),
            )
            return False
    verdict.ok(rule)
    return True


def _deceased(verdict: _Verdict, ctx: _Context, consent: ConsentFacts) -> bool:
    person = ctx.person
    if person is None or person.deceased_on is None:
        return True
    rule = "sag.consent.deceased"
    if consent.signed_at.date() < person.deceased_on:
        verdict.ok(rule, f"Consent {consent.id} was given by the performer in life.")
        return True
    if consent.signed_by_capacity == "representative":
        verdict.ok(rule)
        return True
    if consent.signed_by_capacity == "union" and not person.has_representative:
        verdict.ok(rule, "No authorized representative is known; the union consented.")
        return True
    why = (
        "the union may consent only when no authorized representative can be found"
        if consent.signed_by_capacity == "union"
        else "after death only the authorized representative or the union can consent"
    )
    verdict.fail(rule, f"Consent {consent.id} was signed as {consent.signed_by_capacity}; {why}.")
    return False


def is_specific(description: str, scenes: str = "", media: str = "") -> bool:
    """sag.consent.specific: the description names the scenes or episodes and the media, and is
    not a catch-all grant. `scenes` and `media` are the record's structured fields, if filled."""
    text = " ".join(part for part in (description, scenes, media) if part)
    if len(text.split()) < 4 or _GENERIC.search(text):
        return False
    has_scenes = bool(scenes.strip()) or bool(_SCENES.search(description or ""))
    has_media = bool(media.strip()) or bool(_MEDIA.search(description or ""))
    return has_scenes and has_media


_GUILD_CHECKS: dict[str, Callable[[_Verdict, _Context], ConsentFacts | None]] = {
    SAG: _check_sag,
    WGA: _check_wga,
    IATSE: _check_iatse,
}


def _hours(period: timedelta) -> str:
    """A period as the reasons word it: "48 hours"."""
    hours = period / timedelta(hours=1)
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
