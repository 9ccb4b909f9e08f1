"""What one check works with while it runs: the verdict it collects (rules passed and failed, in
the order they were checked, with their sentences and warnings) and the context of the question
(the agreement's guild and year, the person, the use, the records, the parameters in force)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .facts import (
    ConsentFacts,
    DisclosureFacts,
    Finding,
    PersonFacts,
    StrikeFacts,
    UnionNoticeFacts,
    UseFacts,
    Warning,
)
from .parameters import RuleParameters


@dataclass
class Verdict:
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


@dataclass(frozen=True)
class Context:
    """The question one check answers: the agreement's guild and year, the person, the use, the
    person's records, and the parameters in force on the use's date."""

    guild: str | None  # None: no collective agreement
    year: int
    person: PersonFacts | None
    use: UseFacts
    consents: Sequence[ConsentFacts]
    strikes: Sequence[StrikeFacts]
    union_notices: Sequence[UnionNoticeFacts]
    disclosures: Sequence[DisclosureFacts]
    parameters: RuleParameters


# An agreement's further checks of one candidate consent (the SAG-AFTRA scan's notice and
# business reason); whether the consent passed them.
Extra = Callable[[Verdict, Context, ConsentFacts], bool]


def iso(moment: datetime) -> str:
    """An instant as the reasons write it: ISO 8601, UTC as "Z"."""
    return moment.isoformat().replace("+00:00", "Z")
