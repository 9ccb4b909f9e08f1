"""The consent check (RULES.md §2, 2026 revision): may this use of a person's likeness, voice or
material happen in this production at this instant, and if not, which rule says no?

`check()` is a pure function of plain facts: no database, no clock. The API, the AI-use register
and the `consent_check` command all build the facts (from rows, or from a what-if file) and call
it. A decision names the consent relied on and the rule ids that decided; a refusal lists every
rule that failed, with a sentence for each. Beside them a decision carries `warnings`: advisory
rules (`law.us.no_fakes`) and T-tier rules (`sag.consent.minor`) speak there, and a warning never
refuses. `review_consent()` runs, on one consent record alone, every rule that can be judged
before any use (the admin's "check this consent" step), with the same sentences.

Semantics chosen where RULES.md is silent (each is stated in a reason when it decides):
- Instants are aware UTC datetimes; a use's date is its UTC date. A use may span a range
  [at, until]: the consent must cover all of it.
- A consent signed at or before the instant of use counts; one revoked at or before it does not
  ("revoked at the instant of use" is refused). A suspension is a revocation for a period.
- A superseded consent covers nothing: its successor is the record to rely on.
- Whether a performer is "engaged on" the production decides employment-based use
  (`sag.consent.ebdr_use`) versus use in another project (`sag.consent.new_project`). A SAG-AFTRA
  use (replica, ICDR, alteration, a synthetic performer's features) whose only consents of the
  right kind name other productions is refused citing `sag.consent.new_project`; a scan is not a
  use in another production, so a creation consent for another production fails
  `sag.consent.creation`.
- A crew scan (IATSE, `scan` or `replica_creation`) is decided by `iatse.scan_consent`;
  `iatse.ai_impact_notice` is not evaluated for it and applies to every other IATSE use. The ban on
  displacing prompts refuses any IATSE use that records one.
- The 2026 SAG-AFTRA rules (strike, business reason, synthetic value, minors) apply only under
  `sag-tvth-2026`; `wga.training_notice` only under `wga-mba-2026`.
- `non-union` (no collective agreement) takes any person and every use kind, and runs no union
  rule: a consent of the use's kind for this production must cover the use (`consent.term`,
  `consent.revoked`), then state law. A use no consent covers is refused citing `consent.term`:
  no consent covers the use's date.
- State law (`law.*`) is applied to each candidate consent, after the agreement's rules: a consent
  it makes unenforceable covers nothing, and when no candidate is left the refusal cites the law
  rule. The enforceability test (`law.ca.lab927`, `law.ny.gol5_302`, `law.il.dvlpa`) applies to a
  consent that replaces in-person work under that governing law; a CA or NY consent with no
  recorded fixing date is tested (nothing shows the performance predates the statute).
  `law.ca.civ3344_1` and `law.ny.cr50f` need the estate's consent (`representative`) for a person
  who has died, whoever signed in life; `law.ny.cr50f` has no period after death in the sources, so
  it applies to every deceased person. `law.ny.gbl396b` is a rule of the use (an advertisement
  with a synthetic performer), under any agreement. `law.us.no_fakes` warns on the consent relied
  on when it licenses a living person's likeness (not a writer's AI-use or training consent).

The agreement versions are the registry's catalogue (`ledger.registry.catalogue`, RULES.md §1);
the check's fixed periods and the statutes' dates are dated parameters (`parameters.json` beside
this module, read with `core.dated`), taken as of the date each rule looks at.
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
UNION_NOTICE_KINDS = ("synthetic_performer", "ai_impact", "training_license")
# Who negotiated a consent for the person (RULES.md §4, 2026): the counsel and union routes of
# the state-law enforceability test.
REPRESENTED_BY = ("counsel", "union")
# law.ny.gbl396b: the advertisements that need no synthetic-performer disclosure.
AD_EXEMPTIONS = ("expressive_work", "audio_only", "translation")
# A governing law: an ISO 3166-2 subdivision code ("US-CA").
SUBDIVISION_CODE = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}\Z")
# A place of distribution: a subdivision code ("US-NY") or a country code ("US").
REGION_CODE = re.compile(r"[A-Z]{2}(?:-[A-Z0-9]{1,3})?\Z")

SAG, WGA, IATSE = "sag-aftra", "wga", "iatse"
NON_UNION = catalogue.NON_UNION
CATEGORY_GUILD = {
    "principal": SAG,
    "background": SAG,
    "stand_in": SAG,
    "minor": SAG,
    "writer": WGA,
    "crew": IATSE,
}
# The use kinds each agreement speaks to (by guild; NON_UNION for no collective agreement); any
# other is not a question for that agreement.
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
    NON_UNION: set(USE_KINDS),
}
# The SAG-AFTRA consent kinds of a use (not a scan) that sag.consent.new_project governs when the
# only consents of that kind name another production.
NEW_PROJECT_KINDS = ("replica_use", "icdr_use", "digital_alteration", "synthetic_features")
# The consent kinds that cover a use under NON_UNION: the kind matching the use.
NON_UNION_CONSENT_KINDS = {
    "replica_creation": ("replica_creation", "scan"),
    "scan": ("scan", "replica_creation"),
    "replica_use": ("replica_use",),
    "icdr_use": ("icdr_use",),
    "digital_alteration": ("digital_alteration",),
    "synthetic_performer": ("synthetic_features",),
    "training": ("training",),
    "writer_ai_use": ("writer_ai_use",),
}

PARAMETERS_FILE = Path(__file__).with_name("parameters.json")


@dataclass(frozen=True)
class RuleParameters:
    """The check's dated parameters (PARAMETERS_FILE, or a given set) as of `on`, the use's date.
    A value is read when a rule needs it; a date no value covers raises core.dated.ValueMissing
    (a period or a statute's date is never guessed)."""

    on: date
    values: DatedParameters

    @classmethod
    def as_of(cls, on: date, parameters: DatedParameters | None = None) -> "RuleParameters":
        """The parameters in force on `on`, from `parameters` or the shipped file."""
        return cls(on, shipped_parameters() if parameters is None else parameters)

    @property
    def notice_before_scan(self) -> timedelta:
        """sag.consent.notice_48h."""
        hours = self.values.get("sag.consent.notice_before_scan", self.on).value
        return timedelta(hours=float(hours))

    def years(self, parameter: str) -> int:
        """A period in whole years in force on `on` (law.ca.civ3344_1, law.us.no_fakes)."""
        return int(self.values.get(parameter, self.on).value)

    def in_force(self, parameter: str, day: date) -> bool:
        """Whether the statute a `<rule>.in_force` series dates reaches `day` (value 1 from the
        statute's date, 0 before)."""
        return self.values.get(parameter, day).value == 1


@cache
def shipped_parameters() -> DatedParameters:
    """The parameters shipped beside this module, loaded once."""
    return load_parameters(PARAMETERS_FILE)


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
    # The state whose law governs the consent, ISO 3166-2 ("US-CA"); None: none recorded.
    governing_law: str | None = None
    # The date the performance the replica stands for was fixed (law.ca.lab927, law.ny.gol5_302).
    performance_fixed_on: date | None = None
    # The replica may stand in for work the person would otherwise have performed in person.
    replaces_in_person_work: bool = False
    # Who negotiated the consent for the person: one of REPRESENTED_BY, or None.
    represented_by: str | None = None
    # The terms were clear, conspicuous and signed or initialed by the person (counsel route).
    terms_initialed: bool = False


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
    # The synthetic performer plays a role a human would play (sag.consent.synthetic_value).
    human_role: bool = False
    # The use is an advertisement (law.ny.gbl396b).
    advertisement: bool = False
    # The advertisement conspicuously discloses the synthetic performer (law.ny.gbl396b).
    disclosure_given: bool = False


USE_FLAGS: tuple[str, ...] = tuple(f.name for f in fields(UseFlags))


@dataclass(frozen=True)
class UseFacts:
    kind: str
    production: str
    at: datetime
    until: datetime | None = None
    alteration_exception: str | None = None
    flags: UseFlags = UseFlags()
    # Why a synthetic performer in a human role brings significant additional value.
    synthetic_justification: str = ""
    # Where the use is distributed: region codes (REGION_CODE), e.g. "US-NY".
    distributed_in: tuple[str, ...] = ()
    # The law.ny.gbl396b exemption an advertisement falls under: one of AD_EXEMPTIONS, or None.
    ad_exemption: str | None = None

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


# Named as RULES.md §2 names what a decision carries beside its rules; this module raises no
# Python warnings.
@dataclass(frozen=True)
class Warning:
    """What an advisory rule, or a T-tier rule, says about a decision; it never refuses."""

    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


@dataclass(frozen=True)
class Finding:
    """One rule judged on a consent record alone (review_consent)."""

    rule: str
    passed: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "passed": self.passed, "message": self.message}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    consent: str | int | None
    rules: tuple[str, ...]
    reasons: tuple[str, ...]
    agreement: str
    warnings: tuple[Warning, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "consent": self.consent,
            "rules": list(self.rules),
            "reasons": list(self.reasons),
            "agreement": self.agreement,
            "warnings": [w.as_dict() for w in self.warnings],
        }


@dataclass(frozen=True)
class Review:
    """A consent record judged before any use: every finding, and the warnings."""

    findings: tuple[Finding, ...]
    warnings: tuple[Warning, ...] = ()

    @property
    def ok(self) -> bool:
        return all(f.passed for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "findings": [f.as_dict() for f in self.findings],
            "warnings": [w.as_dict() for w in self.warnings],
        }


@dataclass
class _Verdict:
    """Collects what passed and what failed, in the order the rules were checked, and the
    warnings."""

    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)

    def ok(self, rule: str, reason: str | None = None) -> None:
        if rule not in self.passed:
            self.passed.append(rule)
        if reason:
            self.reasons.append(reason)

    def fail(self, rule: str, reason: str) -> None:
        if rule not in self.failed:
            self.failed.append(rule)
        self.reasons.append(reason)

    def warn(self, warning: Warning) -> None:
        if warning not in self.warnings:
            self.warnings.append(warning)

    def record(self, finding: Finding, *, state_pass: bool = False) -> bool:
        """A finding as a verdict: a failure with its sentence, a pass (with its sentence when
        `state_pass`); whether it passed."""
        if finding.passed:
            self.ok(finding.rule, finding.message if state_pass else None)
        else:
            self.fail(finding.rule, finding.message)
        return finding.passed


def check(facts: Facts, *, parameters: DatedParameters | None = None) -> Decision:
    """Decide one use, with the parameters of `parameters` (by default the shipped ones) in
    force on the dates the rules look at."""
    agreement, person, use = facts.agreement, facts.person, facts.use
    version = _version(agreement)
    guild = _guild_key(version)
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
    _covered_person(version, person)

    verdict = _Verdict()
    context = _Context(
        version.guild,
        version.year,
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
        warnings=tuple(verdict.warnings),
    )


def _version(agreement: str) -> catalogue.AgreementVersion:
    version = catalogue.AGREEMENTS.get(agreement)
    if version is None:
        raise CheckInputError(f"Unknown agreement {agreement!r}.", field="agreement")
    return version


def _guild_key(version: catalogue.AgreementVersion) -> str:
    """The key of the agreement's rules: its guild, or NON_UNION."""
    return version.guild if version.guild is not None else NON_UNION


def _covered_person(version: catalogue.AgreementVersion, person: PersonFacts | None) -> None:
    """A union agreement covers only its guild's people; NON_UNION covers anyone."""
    if person is not None and version.is_union and CATEGORY_GUILD[person.category] != version.guild:
        raise CheckInputError(
            f"A {person.category} is not covered by {version.code}.",
            code="use_kind_not_applicable",
            field="person",
        )


@dataclass(frozen=True)
class _Context:
    guild: str | None  # None: no collective agreement
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
    minor = ctx.person is not None and ctx.person.category == "minor"
    if ctx.year >= 2026 and minor and use.kind != "training":
        verdict.warn(MINOR_WARNING)  # sag.consent.minor is tier T, whatever decides the use
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
        ok = verdict.record(_scan_reason_finding(consent)) and ok
    return ok


def _notice_48h(verdict: _Verdict, ctx: _Context, consent: ConsentFacts) -> bool:
    rule = "sag.consent.notice_48h"
    scan_at = ctx.use.at
    engaged_at = consent.engaged_at or (ctx.person.engaged_at if ctx.person else None)
    notice_at = consent.notice_at
    if notice_at is None:
        return verdict.record(_notice_recorded_finding(consent))
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
    if ctx.year >= 2026:
        _synthetic_value(verdict, use)
    _ad_disclosure(verdict, ctx)
    if not use.flags.synthetic_source_person:
        return None
    return _covering_consent(verdict, ctx, kinds=("synthetic_features",), rule=rule)


def _synthetic_value(verdict: _Verdict, use: UseFacts) -> None:
    """sag.consent.synthetic_value (2026): a synthetic performer in a human role needs a recorded
    justification that it brings significant additional value."""
    if not use.flags.human_role:
        return
    rule = "sag.consent.synthetic_value"
    if use.synthetic_justification.strip():
        verdict.ok(rule)
    else:
        verdict.fail(
            rule,
            "The synthetic performer plays a human role with no recorded justification that it "
            "brings significant additional value (2026 agreement).",
        )


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
        if ctx.year >= 2026:
            _training_notice(verdict, ctx)
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


def _training_notice(verdict: _Verdict, ctx: _Context) -> None:
    """wga.training_notice (2026): licensing a writer's material for AI training (the use, dated
    `at`) needs a union notice of kind training_license on or before it. An agreed amount is
    recorded on the consent, never computed."""
    rule = "wga.training_notice"
    use = ctx.use
    notices = [
        n
        for n in ctx.union_notices
        if n.kind == "training_license" and n.production == use.production and n.given_at <= use.at
    ]
    if notices:
        verdict.ok(
            rule,
            f"The WGA was notified of the training licence at "
            f"{_iso(min(n.given_at for n in notices))}.",
        )
    else:
        verdict.fail(
            rule,
            "No training_license notice to the WGA on or before the licence of the writer's "
            "material for AI training (2026 agreement).",
        )


# --- IATSE ----------------------------------------------------------------------------------


def _check_iatse(verdict: _Verdict, ctx: _Context) -> ConsentFacts | None:
    use = ctx.use
    relied = None
    crew_scan = use.kind in ("scan", "replica_creation")
    if crew_scan:
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
    if not crew_scan:  # a crew scan is decided by iatse.scan_consent (RULES.md §2)
        _ai_impact_notice(verdict, ctx)
    return relied


def _ai_impact_notice(verdict: _Verdict, ctx: _Context) -> None:
    use = ctx.use
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


# --- no collective agreement ----------------------------------------------------------------


def _check_non_union(verdict: _Verdict, ctx: _Context) -> ConsentFacts | None:
    """NON_UNION: a consent of the use's kind for this production covers the use (consent.term,
    consent.revoked), then state law; no union rule."""
    use = ctx.use
    if use.kind == "synthetic_performer":
        _ad_disclosure(verdict, ctx)
        if not use.flags.synthetic_source_person:
            verdict.reasons.append(
                "No person's features are used: with no collective agreement no consent is needed."
            )
            return None
    return _covering_consent(
        verdict,
        ctx,
        kinds=NON_UNION_CONSENT_KINDS[use.kind],
        rule="consent.term",
        sag_form=False,
        separate_rule=None,
    )


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
    reported. `sag_form` adds the SAG-AFTRA form rules (specificity, deceased performer, minor);
    `separate_rule` names the rule that refuses a consent buried in standard terms, if any. State
    law applies to every candidate; the NO FAKES advisory to the consent relied on."""
    use = ctx.use
    of_kind = [c for c in ctx.consents if c.kind in kinds]
    candidates = [c for c in of_kind if c.production == use.production]
    if not candidates:
        _no_consent(verdict, ctx, kinds, rule, sorted({c.production for c in of_kind}))
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
            for warning in trial.warnings:
                verdict.warn(warning)
            advisory = _no_fakes_warning(ctx.person, consent, ctx.parameters)
            if advisory is not None:
                verdict.warn(advisory)
            return consent
        trials.append(trial)
    for trial in trials:
        for failed in trial.failed:
            if failed not in verdict.failed:
                verdict.failed.append(failed)
        verdict.reasons.extend(trial.reasons)
        for warning in trial.warnings:
            verdict.warn(warning)
    return None


def _no_consent(
    verdict: _Verdict, ctx: _Context, kinds: tuple[str, ...], rule: str, elsewhere: list[str]
) -> None:
    """No consent of `kinds` names this production: a SAG-AFTRA use whose consents name only
    other productions needs its own (sag.consent.new_project); with no collective agreement no
    consent covers the use's date (consent.term)."""
    what = f"No {' or '.join(kinds)} consent for this production"
    where = f" (only for {', '.join(elsewhere)})" if elsewhere else ""
    if ctx.guild is None:
        verdict.fail(rule, f"No consent covers the use's date: {what[0].lower()}{what[1:]}{where}.")
    elif ctx.guild == SAG and elsewhere and set(kinds) & set(NEW_PROJECT_KINDS):
        verdict.fail(
            "sag.consent.new_project",
            f"{what}{where}: a use in another production needs its own consent for this "
            "production.",
        )
    else:
        verdict.fail(rule, f"{what}{where}.")


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
    if separate_rule is not None:
        ok = verdict.record(_separate_finding(consent, separate_rule)) and ok
    if sag_form:
        ok = verdict.record(_specific_finding(consent)) and ok
        deceased = _deceased_finding(ctx.person, consent)
        if deceased is not None:
            ok = verdict.record(deceased, state_pass=True) and ok
        if ctx.year >= 2026:
            ok = _minor(verdict, ctx.person, consent) and ok
    ok = _term(verdict, use, consent) and ok
    ok = _not_withdrawn(verdict, use, consent) and ok
    if extra is not None:
        ok = extra(verdict, ctx, consent) and ok
    for finding in _state_law_findings(
        ctx.guild, ctx.person, consent, use.at.date(), ctx.parameters
    ):
        ok = verdict.record(finding, state_pass=True) and ok
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


def _minor(verdict: _Verdict, person: PersonFacts | None, consent: ConsentFacts) -> bool:
    """sag.consent.minor (2026, tier T) on one consent; its warning is _check_sag's."""
    finding = _minor_finding(person, consent)
    return True if finding is None else verdict.record(finding)


# --- rules judged on a consent alone (check and review_consent) -----------------------------

MINOR_WARNING = Warning(
    "sag.consent.minor",
    "needs_confirmation: the 2026 agreement's terms on minors' replicas were not read (tier T, "
    "evidence.md §9); the requirement of a consent signed by a parent or guardian is to be "
    "confirmed against the agreement text.",
)


def _separate_finding(consent: ConsentFacts, rule: str) -> Finding:
    """sag.consent.separate (and iatse.scan_consent): never part of standard terms."""
    if consent.instrument == "standard_terms":
        return Finding(
            rule,
            False,
            f"Consent {consent.id} is part of standard terms, not a separate writing or rider.",
        )
    return Finding(rule, True, f"Consent {consent.id} is a {consent.instrument.replace('_', ' ')}.")


def _specific_finding(consent: ConsentFacts) -> Finding:
    rule = "sag.consent.specific"
    if is_specific(consent.description, consent.scenes, consent.media):
        return Finding(
            rule, True, f"Consent {consent.id} names the scenes or episodes and the media."
        )
    return Finding(
        rule,
        False,
        f"Consent {consent.id} lacks a reasonably specific description (scenes or episodes and "
        "media).",
    )


def _notice_recorded_finding(consent: ConsentFacts) -> Finding:
    """sag.consent.notice_48h, as far as a record alone tells: a notice is recorded."""
    rule = "sag.consent.notice_48h"
    if consent.notice_at is None:
        return Finding(rule, False, f"Consent {consent.id} records no notice of the scan.")
    return Finding(
        rule, True, f"Consent {consent.id} records notice of the scan at {_iso(consent.notice_at)}."
    )


def _scan_reason_finding(consent: ConsentFacts) -> Finding:
    """sag.consent.scan_reason (2026)."""
    rule = "sag.consent.scan_reason"
    if (consent.business_reason or "").strip():
        return Finding(rule, True, f"Consent {consent.id} states a business reason for the scan.")
    return Finding(
        rule,
        False,
        f"Consent {consent.id} states no business reason for the scan (2026 agreement).",
    )


def _deceased_finding(person: PersonFacts | None, consent: ConsentFacts) -> Finding | None:
    """sag.consent.deceased; None for a living person."""
    if person is None or person.deceased_on is None:
        return None
    rule = "sag.consent.deceased"
    if consent.signed_at.date() < person.deceased_on:
        return Finding(rule, True, f"Consent {consent.id} was given by the performer in life.")
    if consent.signed_by_capacity == "representative":
        return Finding(
            rule, True, f"Consent {consent.id} was signed by the authorized representative."
        )
    if consent.signed_by_capacity == "union" and not person.has_representative:
        return Finding(rule, True, "No authorized representative is known; the union consented.")
    why = (
        "the union may consent only when no authorized representative can be found"
        if consent.signed_by_capacity == "union"
        else "after death only the authorized representative or the union can consent"
    )
    return Finding(
        rule, False, f"Consent {consent.id} was signed as {consent.signed_by_capacity}; {why}."
    )


def _minor_finding(person: PersonFacts | None, consent: ConsentFacts) -> Finding | None:
    """sag.consent.minor (2026, T): a minor's replica needs a consent signed by a parent or
    guardian (representative); None for anyone else."""
    if person is None or person.category != "minor":
        return None
    rule = "sag.consent.minor"
    if consent.signed_by_capacity == "representative":
        return Finding(
            rule,
            True,
            f"Consent {consent.id} for a minor was signed by a parent or guardian "
            "(representative).",
        )
    return Finding(
        rule,
        False,
        f"Consent {consent.id} for a minor was signed as {consent.signed_by_capacity}; a minor's "
        "replica needs a consent signed by a parent or guardian (2026 agreement, tier T).",
    )


def _term_finding(consent: ConsentFacts) -> Finding:
    """consent.term, as far as a record alone tells: its term ends no earlier than it starts."""
    if consent.term_to is not None and consent.term_to < consent.term_from:
        return Finding(
            "consent.term",
            False,
            f"Consent {consent.id} ends on {consent.term_to}, before its term starts on "
            f"{consent.term_from}: it covers no use.",
        )
    return Finding(
        "consent.term",
        True,
        f"Consent {consent.id} runs from {consent.term_from} to {consent.term_to or 'no end'}.",
    )


# --- state law (law.*) ----------------------------------------------------------------------

# The enforceability test of RULES.md §2, by governing law: the rule, the statute, and whether
# the statute dates a consent by the performance it fixes or by its signature.
_ENFORCEABILITY = {
    "US-CA": ("law.ca.lab927", "California Labor Code §927", "performance_fixed_on"),
    "US-NY": ("law.ny.gol5_302", "New York General Obligations Law §5-302", "performance_fixed_on"),
    "US-IL": (
        "law.il.dvlpa",
        "the Illinois Digital Voice and Likeness Protection Act (P.A. 103-0830)",
        "signed_at",
    ),
}
# The consent kinds that license a person's likeness or voice (law.us.no_fakes speaks of digital
# replicas; a writer's AI-use or training consent licenses no likeness).
LIKENESS_KINDS = (
    "replica_creation",
    "replica_use",
    "icdr_use",
    "digital_alteration",
    "synthetic_features",
    "scan",
)


def _state_law_findings(
    guild: str | None,
    person: PersonFacts | None,
    consent: ConsentFacts,
    on: date,
    parameters: RuleParameters,
) -> list[Finding]:
    """The state-law rules that reach `consent` for a use dated `on`, judged."""
    found = [
        _enforceability_finding(guild, consent, parameters),
        _estate_finding(person, consent, on, parameters),
    ]
    return [f for f in found if f is not None]


def _enforceability_finding(
    guild: str | None, consent: ConsentFacts, parameters: RuleParameters
) -> Finding | None:
    """law.ca.lab927, law.ny.gol5_302, law.il.dvlpa: a consent that lets a replica replace
    in-person work covers nothing when its description is not reasonably specific, the person had
    no counsel who negotiated it with the terms initialed, and it is not a SAG-AFTRA consent
    negotiated by the union. None when the statute does not reach the consent."""
    law = _ENFORCEABILITY.get(consent.governing_law or "")
    if law is None or not consent.replaces_in_person_work:
        return None
    rule, statute, dated_by = law
    day = consent.signed_at.date() if dated_by == "signed_at" else consent.performance_fixed_on
    if day is not None and not parameters.in_force(f"{rule}.in_force", day):
        return None
    if guild == SAG and consent.represented_by == "union":
        return Finding(
            rule,
            True,
            f"Consent {consent.id} was negotiated by the union under a SAG-AFTRA agreement that "
            f"addresses digital replicas: {statute} does not void it.",
        )
    if is_specific(consent.description, consent.scenes, consent.media):
        return Finding(
            rule, True, f"Consent {consent.id} describes the intended use as {statute} requires."
        )
    if consent.represented_by == "counsel" and consent.terms_initialed:
        return Finding(
            rule,
            True,
            f"Consent {consent.id} was negotiated by counsel with the terms initialed, as "
            f"{statute} allows.",
        )
    return Finding(
        rule,
        False,
        f"Consent {consent.id} is unenforceable under {statute}: it lets a digital replica replace "
        "work the person would have performed in person, its description is not reasonably "
        "specific, and the person had neither counsel who negotiated it with the terms signed or "
        "initialed nor a union agreement that addresses digital replicas.",
    )


def _estate_finding(
    person: PersonFacts | None, consent: ConsentFacts, on: date, parameters: RuleParameters
) -> Finding | None:
    """law.ca.civ3344_1 (death within the period before `on`) and law.ny.cr50f (uses from the
    amendment's date): a deceased person's replica needs the estate's consent (representative).
    None when neither reaches the consent."""
    if person is None or person.deceased_on is None or person.deceased_on > on:
        return None
    signed_as = consent.signed_by_capacity
    if consent.governing_law == "US-CA":
        rule = "law.ca.civ3344_1"
        years = parameters.years("law.ca.civ3344_1.years_after_death")
        if person.deceased_on < _add_years(on, -years):
            return None
        if signed_as == "representative":
            return Finding(
                rule,
                True,
                f"Consent {consent.id} was signed by the estate, as California Civil Code "
                "§3344.1 requires.",
            )
        return Finding(
            rule,
            False,
            f"Consent {consent.id} was signed as {signed_as}; California Civil Code §3344.1 "
            f"needs the estate's consent (representative) for a digital replica of a person who "
            f"died within the last {years} years. The liability is the greater of $10,000 or "
            "actual damages.",
        )
    if consent.governing_law == "US-NY" and parameters.in_force("law.ny.cr50f.in_force", on):
        rule = "law.ny.cr50f"
        if signed_as == "representative":
            return Finding(
                rule,
                True,
                f"Consent {consent.id} was given in writing by the heirs or executors, as New "
                "York Civil Rights Law §50-f requires.",
            )
        return Finding(
            rule,
            False,
            f"Consent {consent.id} was signed as {signed_as}; New York Civil Rights Law §50-f "
            "needs the written consent of the heirs or executors (representative) for a digital "
            "replica of a deceased performer.",
        )
    return None


def _ad_disclosure(verdict: _Verdict, ctx: _Context) -> None:
    """law.ny.gbl396b: an advertisement distributed in New York that uses a synthetic performer
    discloses it conspicuously, unless an exemption applies."""
    use = ctx.use
    if not (use.flags.advertisement and "US-NY" in use.distributed_in):
        return
    if not ctx.parameters.in_force("law.ny.gbl396b.in_force", use.at.date()):
        return
    rule = "law.ny.gbl396b"
    statute = "New York General Business Law §396-b"
    if use.ad_exemption in AD_EXEMPTIONS:
        verdict.ok(rule, f"The advertisement is exempt from {statute} ({use.ad_exemption}).")
    elif use.flags.disclosure_given:
        verdict.ok(rule, f"The advertisement discloses the synthetic performer ({statute}).")
    else:
        verdict.fail(
            rule,
            f"An advertisement distributed in New York uses a synthetic performer without a "
            f"conspicuous disclosure ({statute}); the penalty is $1,000 for the first violation, "
            "then $5,000 for each later one.",
        )


def _no_fakes_warning(
    person: PersonFacts | None, consent: ConsentFacts, parameters: RuleParameters
) -> Warning | None:
    """law.us.no_fakes (advisory): a likeness consent of a living person that is open-ended or
    runs longer than the bill's limit."""
    if person is None or person.deceased_on is not None or consent.kind not in LIKENESS_KINDS:
        return None
    years = parameters.years("law.us.no_fakes.max_term_years")
    if consent.term_to is None:
        length = "is open-ended"
    elif consent.term_to > _add_years(consent.term_from, years):
        length = f"runs from {consent.term_from} to {consent.term_to}, longer than {years} years"
    else:
        return None
    return Warning(
        "law.us.no_fakes",
        f"Consent {consent.id} {length}; the NO FAKES Act of 2026 (S.4591, reported 2026-06-24, "
        f"not enacted) would limit a living person's licence to {years} years. Advisory only: "
        "the use is not refused.",
    )


# --- the admin's review of one consent ------------------------------------------------------


def review_consent(
    agreement: str,
    person: PersonFacts | None,
    consent: ConsentFacts,
    *,
    on: date | None = None,
    parameters: DatedParameters | None = None,
) -> Review:
    """Every rule that can be judged on `consent` before any use, under `agreement`, with the
    sentences of check(): the term, the separate instrument, specificity, a recorded notice and
    the business reason (creation), the deceased performer's and the minor's signatory, state
    law, and the NO FAKES advisory. `on` is the date the dated rules are taken at (by default
    the first day of the consent's term)."""
    version = _version(agreement)
    _covered_person(version, person)
    day = on or consent.term_from
    params = RuleParameters.as_of(day, parameters)
    findings: list[Finding | None] = [_term_finding(consent)]
    warnings: list[Warning | None] = []
    if version.guild == SAG:
        findings += [_separate_finding(consent, "sag.consent.separate"), _specific_finding(consent)]
        if consent.kind == "replica_creation":
            findings.append(_notice_recorded_finding(consent))
            if version.year >= 2026:
                findings.append(_scan_reason_finding(consent))
        findings.append(_deceased_finding(person, consent))
        if version.year >= 2026 and person is not None and person.category == "minor":
            findings.append(_minor_finding(person, consent))
            warnings.append(MINOR_WARNING)
    elif version.guild == IATSE and consent.kind in ("scan", "replica_creation"):
        findings.append(_separate_finding(consent, "iatse.scan_consent"))
    findings += _state_law_findings(version.guild, person, consent, day, params)
    warnings.append(_no_fakes_warning(person, consent, params))
    return Review(
        findings=tuple(f for f in findings if f is not None),
        warnings=tuple(w for w in warnings if w is not None),
    )


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
    NON_UNION: _check_non_union,
}


def _add_years(day: date, years: int) -> date:
    """`day` moved by whole years (negative: back); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _hours(period: timedelta) -> str:
    """A period as the reasons word it: "48 hours"."""
    hours = period / timedelta(hours=1)
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
