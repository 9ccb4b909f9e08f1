"""The two entry points: check(), which decides one use under its agreement by dispatching to that
agreement's rules, and review_consent(), which judges one consent record before any use."""

from collections.abc import Callable
from datetime import date

from core.dated import DatedParameters
from ledger.registry import catalogue

from .facts import (
    CATEGORY_GUILD,
    GUILD_USE_KINDS,
    IATSE,
    NON_UNION,
    SAG,
    WGA,
    CheckInputError,
    ConsentFacts,
    Decision,
    Facts,
    Finding,
    PersonFacts,
    Review,
    Warning,
)
from .findings import (
    MINOR_WARNING,
    deceased_finding,
    minor_finding,
    notice_recorded_finding,
    scan_reason_finding,
    separate_finding,
    specific_finding,
    term_finding,
)
from .iatse import check_iatse
from .law import no_fakes_warning, state_law_findings
from .non_union import check_non_union
from .parameters import RuleParameters
from .sag import check_sag
from .verdict import Context, Verdict
from .wga import check_wga

_GUILD_CHECKS: dict[str, Callable[[Verdict, Context], ConsentFacts | None]] = {
    SAG: check_sag,
    WGA: check_wga,
    IATSE: check_iatse,
    NON_UNION: check_non_union,
}


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

    verdict = Verdict()
    context = Context(
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
    findings: list[Finding | None] = [term_finding(consent)]
    warnings: list[Warning | None] = []
    if version.guild == SAG:
        findings += [separate_finding(consent, "sag.consent.separate"), specific_finding(consent)]
        if consent.kind == "replica_creation":
            findings.append(notice_recorded_finding(consent))
            if version.year >= 2026:
                findings.append(scan_reason_finding(consent))
        findings.append(deceased_finding(person, consent))
        if version.year >= 2026 and person is not None and person.category == "minor":
            findings.append(minor_finding(person, consent))
            warnings.append(MINOR_WARNING)
    elif version.guild == IATSE and consent.kind in ("scan", "replica_creation"):
        findings.append(separate_finding(consent, "iatse.scan_consent"))
    findings += state_law_findings(version.guild, person, consent, day, params)
    warnings.append(no_fakes_warning(person, consent, params))
    return Review(
        findings=tuple(f for f in findings if f is not None),
        warnings=tuple(w for w in warnings if w is not None),
    )
