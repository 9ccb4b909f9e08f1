"""What the consent check (RULES.md §2) decides on and what it answers. The vocabulary (use kinds,
consent kinds, instruments, capacities, person categories and which agreement speaks to which use
kind), the facts of one question (the person, the use, the person's consents, strikes, union
notices and WGA disclosures) and the answers: a decision, its warnings, and the findings of a
consent judged on its own. Plain frozen dataclasses; nothing here decides."""

import re
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

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


# Named as RULES.md §2 names what a decision carries beside its rules; this package raises no
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
