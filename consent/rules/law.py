"""State law (`law.*`, RULES.md §2) and the federal advisory: the enforceability test of a consent
that lets a replica replace in-person work (`law.ca.lab927`, `law.ny.gol5_302`, `law.il.dvlpa`),
the estate's consent for a deceased person (`law.ca.civ3344_1`, `law.ny.cr50f`), the New York
advertisement disclosure (`law.ny.gbl396b`) and the NO FAKES warning (`law.us.no_fakes`). Each
statute applies from the date its `<rule>.in_force` parameter gives."""

from datetime import date

from .facts import AD_EXEMPTIONS, SAG, ConsentFacts, Finding, PersonFacts, Warning
from .findings import is_specific
from .parameters import RuleParameters
from .verdict import Context, Verdict

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


def state_law_findings(
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


def ad_disclosure(verdict: Verdict, ctx: Context) -> None:
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


def no_fakes_warning(
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


def _add_years(day: date, years: int) -> date:
    """`day` moved by whole years (negative: back); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
