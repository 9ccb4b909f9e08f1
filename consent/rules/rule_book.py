"""The consent rules in words (RULES.md §2): every rule id the consent check cites, with the rule as
RULES.md states it, the family of agreements it belongs to, its evidence tier where RULES.md gives
one, the year of the agreement that added it, and the dated parameters it reads. Pure data, no
Django: the rules reference (reports.rules_reference) is generated from it, and a test holds it to
the ids the code cites.

`Rule` is the shape the compensation rule book (compensation/rules/rule_book.py) shares.
"""

from dataclasses import dataclass

# Families a rule belongs to: a guild of the agreement catalogue (ledger.registry.catalogue),
# state law, or every agreement alike.
SAG, WGA, IATSE = "sag-aftra", "wga", "iatse"
LAW, ALL = "law", "all"
FAMILIES = (SAG, WGA, IATSE, LAW, ALL)


@dataclass(frozen=True)
class Rule:
    """One rule id and what it says.

    `tier` is the evidence tier RULES.md gives the rule itself (None where it gives none: the
    figures the rule reads carry their own); `since` the year of the agreement that added it;
    `parameters` the dated parameters it reads (`<...>` names a series a loaded rate sheet
    supplies, one per work type or classification); `implemented` is False for a rule the engine
    does not compute yet."""

    id: str
    family: str
    title: str
    text: str
    source: str
    tier: str | None = None
    since: int | None = None
    parameters: tuple[str, ...] = ()
    implemented: bool = True


_SAG_2023 = "RULES.md §2; evidence.md §1.2"
_SAG_2026 = "RULES.md §2 (2026 revision); evidence.md §9"
_WGA = "RULES.md §2; evidence.md §3.1"
_IATSE = "RULES.md §2; evidence.md §4.1"
_LAW = "RULES.md §2 (state law); evidence.md §9"

RULES: tuple[Rule, ...] = (
    Rule(
        "sag.consent.creation",
        SAG,
        "Consent to create a replica",
        "Creating a digital replica (scan) needs a consent of kind replica_creation for that "
        "performer and production, signed before the scan.",
        _SAG_2023,
    ),
    Rule(
        "sag.consent.notice_48h",
        SAG,
        "48-hour notice of a scan",
        "The producer notifies the performer at least 48 hours before the scan; if the performer "
        "was engaged later than that, notice is due at engagement.",
        _SAG_2023,
        parameters=("sag.consent.notice_before_scan",),
    ),
    Rule(
        "sag.consent.separate",
        SAG,
        "Consent in a separate writing",
        "The consent is a separate signed writing or a separately identified rider, never part "
        "of standard terms. A record whose instrument is standard_terms is invalid.",
        _SAG_2023,
    ),
    Rule(
        "sag.consent.specific",
        SAG,
        "Reasonably specific description",
        "The consent carries a reasonably specific description of the intended use: the "
        "production, the scenes or episodes, and the media. An empty or generic description is "
        "invalid.",
        _SAG_2023,
    ),
    Rule(
        "sag.consent.ebdr_use",
        SAG,
        "Use of an employment-based replica",
        "Using an employment-based replica in the production the performer worked on needs a "
        "consent of kind replica_use covering that production and the use date.",
        _SAG_2023,
    ),
    Rule(
        "sag.consent.new_project",
        SAG,
        "Use in another production",
        "Any use in another production needs a new consent for that production, and its pay is "
        "bargained. A refusal because the only consents of the right kind name another "
        "production cites this rule.",
        _SAG_2023,
    ),
    Rule(
        "sag.consent.icdr_use",
        SAG,
        "Use of an independently created replica",
        "Using an independently created replica needs a consent of kind icdr_use for that "
        "production.",
        _SAG_2023,
    ),
    Rule(
        "sag.consent.alteration",
        SAG,
        "Digital alteration",
        "Digitally altering a recorded performance needs a consent of kind digital_alteration, "
        "unless the change is one of: cosmetics, wardrobe, noise reduction, timing or speed, "
        "continuity, pitch or tone, visual or sound effects or filters, standards and practices, "
        "ratings, an adjustment of dialogue or narration. The exception used is recorded.",
        "RULES.md §2; evidence.md §1.1",
    ),
    Rule(
        "sag.consent.synthetic",
        SAG,
        "Synthetic performer",
        "Using a synthetic performer needs a notice to the union before use; if the synthetic "
        "performer was made with a named performer's recognizable features, that performer's "
        "consent too.",
        _SAG_2023,
    ),
    Rule(
        "sag.consent.deceased",
        SAG,
        "Deceased performer",
        "For a deceased performer the consenting party is the authorized representative, or the "
        "union where none can be found.",
        _SAG_2023,
    ),
    Rule(
        "sag.consent.background",
        SAG,
        "Background actor's replica",
        "A background actor's replica needs consent and never counts toward the required "
        "background headcount.",
        _SAG_2023,
    ),
    Rule(
        "sag.consent.strike",
        SAG,
        "No replica use during a strike",
        "No replica use dated inside a strike period of the performer's union.",
        _SAG_2026,
        since=2026,
    ),
    Rule(
        "sag.consent.scan_reason",
        SAG,
        "Business reason for a scan",
        "A scan needs a stated business reason on the creation consent.",
        _SAG_2026,
        since=2026,
    ),
    Rule(
        "sag.consent.synthetic_value",
        SAG,
        "Synthetic performer in a human role",
        "A synthetic performer used in a role a human would play needs a recorded justification "
        "that it brings significant additional value (not blank), besides the union notice of "
        "sag.consent.synthetic.",
        _SAG_2026,
        since=2026,
    ),
    Rule(
        "sag.consent.minor",
        SAG,
        "Replica of a minor",
        "A replica of a minor needs a consent signed by a representative (parent or guardian). "
        "The 2026 text on minors was not read: the decision carries a needs_confirmation "
        "warning.",
        _SAG_2026,
        tier="T",
        since=2026,
    ),
    Rule(
        "consent.revoked",
        ALL,
        "Revocation",
        "A consent revoked at time R covers no use dated after R. Uses before R stay covered.",
        "RULES.md §2",
    ),
    Rule(
        "consent.term",
        ALL,
        "Term of a consent",
        "A consent covers only uses inside its term.",
        "RULES.md §2",
    ),
    Rule(
        "wga.disclosure",
        WGA,
        "Disclosure of AI-generated material",
        "When a company gives a writer material that is AI-generated or contains AI-generated "
        "material, a disclosure record exists on or before the hand-over date.",
        _WGA,
    ),
    Rule(
        "wga.writer_use",
        WGA,
        "A writer's own use of AI",
        "A writer's own use of generative AI needs the company's consent; a company requirement "
        "that the writer use it is a violation.",
        _WGA,
    ),
    Rule(
        "wga.training",
        WGA,
        "Training on a writer's material",
        "Any licensing of a writer's literary material for AI training is recorded against the "
        "writer's reserved rights.",
        _WGA,
    ),
    Rule(
        "wga.training_notice",
        WGA,
        "Notice of a training licence",
        "Licensing a writer's literary material for AI training needs a union notice of kind "
        "training_license to the WGA on or before the licence date. An amount is recorded when "
        "one was agreed; it is never computed.",
        "RULES.md §2 (2026 revision); evidence.md §9 (S/T, sources conflict on payment)",
        since=2026,
    ),
    Rule(
        "iatse.scan_consent",
        IATSE,
        "Consent to scan a crew member",
        "Scanning a crew member needs a separate consent, and may not be a condition of "
        "employment. A scan of a crew member is decided by this rule alone.",
        _IATSE,
    ),
    Rule(
        "iatse.no_displacing_prompts",
        IATSE,
        "No prompts that displace covered work",
        "No employee may be required to write prompts that would displace a covered employee; "
        "such a requirement is a violation.",
        _IATSE,
    ),
    Rule(
        "iatse.ai_impact_notice",
        IATSE,
        "Notice of AI that affects covered work",
        "Use of AI systems that affects covered employees needs a notice to the union (to "
        "bargain the impact). It applies to the AI uses recorded under an IATSE agreement other "
        "than a scan of a crew member.",
        _IATSE,
    ),
    Rule(
        "law.ca.lab927",
        LAW,
        "California Labor Code §927",
        "A consent governed by California law (US-CA), for a performance fixed on or after "
        "2025-01-01, that allows a digital replica in place of work the person would otherwise "
        "have performed in person, covers no use when all three hold: (1) its description is "
        "not reasonably specific (the test of sag.consent.specific); (2) the person was not "
        "represented by counsel who negotiated it with the terms clear, conspicuous and signed "
        "or initialed; (3) the person was not represented by a union whose agreement expressly "
        "addresses digital replicas (a SAG-AFTRA consent represented by the union is exempt; "
        "WGA, IATSE and non-union consents are not).",
        _LAW,
        tier="P",
    ),
    Rule(
        "law.ny.gol5_302",
        LAW,
        "New York General Obligations Law §5-302",
        "The test of law.ca.lab927 for a consent governed by New York law (US-NY), for "
        "performances fixed on or after 2025-01-01.",
        _LAW,
        tier="P",
    ),
    Rule(
        "law.il.dvlpa",
        LAW,
        "Illinois Digital Voice and Likeness Protection Act",
        "The test of law.ca.lab927 for a consent governed by Illinois law (US-IL), for consents "
        "signed on or after 2024-08-09 (P.A. 103-0830).",
        _LAW,
        tier="P",
    ),
    Rule(
        "law.ca.civ3344_1",
        LAW,
        "California Civil Code §3344.1 (deceased person)",
        "A digital replica of a person who died within the last 70 years, under California law "
        "(US-CA), needs a consent signed by the estate (signed in the capacity of "
        "representative). Liability is the greater of $10,000 or actual damages: the compliance "
        "report states it.",
        _LAW,
        tier="P",
    ),
    Rule(
        "law.ny.cr50f",
        LAW,
        "New York Civil Rights Law §50-f (deceased performer)",
        "From 2025-12-11, under New York law (US-NY), heirs or executors (representative) must "
        "have consented in writing to a digital replica of a deceased performer.",
        _LAW,
        tier="S",
    ),
    Rule(
        "law.ny.gbl396b",
        LAW,
        "New York General Business Law §396-b (synthetic performers in ads)",
        "From 2026-06-09, an advertisement distributed in New York that uses a synthetic "
        "performer needs a conspicuous disclosure, unless it is an advertisement of an "
        "expressive work, audio only, or a translation. Penalty $1,000, then $5,000 per "
        "violation.",
        _LAW,
        tier="S",
    ),
    Rule(
        "law.us.no_fakes",
        LAW,
        "NO FAKES Act of 2026 (advisory)",
        "The NO FAKES Act of 2026 (S.4591, reported 2026-06-24, not enacted): a consent for a "
        "living person whose term is longer than 10 years, or open-ended, gets a warning, never "
        "a refusal.",
        _LAW,
        tier="P",
    ),
)
