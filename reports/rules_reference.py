"""The rules reference: what the engine does, in words, for a reader without the source. Every rule
id the product cites (the consent and compensation rule books), grouped by family of agreements,
with its text, tier and source, and for each parameter it reads the dated values shipped with the
product (compensation/rules/parameters, consent/parameters.json), each with its start, unit, tier
and source; then the agreement catalogue with its terms.

One `build()` feeds both the admin's "Rules reference" page and docs/rules.md (`manage.py
rules_reference`). The output is deterministic (the books' order, values by date, no timestamp),
so a test can tell when docs/rules.md is stale.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from compensation.rules import params
from compensation.rules import rule_book as compensation_book
from consent.rules import rule_book as consent_book
from consent.rules import shipped_parameters as consent_parameters
from consent.rules.rule_book import Rule
from ledger.registry import catalogue

REFERENCE_FILE = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
REGENERATE = "python manage.py rules_reference"

NOT_KNOWN = "not known — supply a rate sheet"
INTRO = (
    "What Guild Ledger does, rule by rule: every rule id that line explanations, decisions and "
    "reports cite, with the rule in words, and the dated figures each rule reads with their "
    "evidence tier and source. A figure that is not shipped is not invented: the engine reports "
    "rate_missing until an official rate sheet supplies it."
)
TIER_WORDS = (
    ("P", "primary: a union or benefit-plan site, a statute"),
    ("S", "secondary: a law firm, trade press, a payroll vendor"),
    ("T", "unverified lead: lines using it say needs confirmation"),
    ("D", "derived by the arithmetic RULES.md shows: lines using it say needs confirmation"),
)
FAMILY_HEADINGS = {
    consent_book.SAG: catalogue.GUILDS[consent_book.SAG],
    consent_book.WGA: catalogue.GUILDS[consent_book.WGA],
    consent_book.IATSE: catalogue.GUILDS[consent_book.IATSE],
    consent_book.LAW: "State law",
    consent_book.ALL: "General (every agreement)",
}


class _Entry(Protocol):
    @property
    def effective_from(self) -> date | None: ...
    @property
    def value(self) -> Decimal | None: ...
    @property
    def tier(self) -> str: ...
    @property
    def source(self) -> str: ...


class _Series(Protocol):
    @property
    def parameter(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def entries(self) -> Sequence[_Entry]: ...


@dataclass(frozen=True)
class ValueRow:
    in_force: str  # "from 2024-07-01", "before 2023-11-09", "start not given"
    value: str  # the decimal as shipped, or NOT_KNOWN
    unit: str
    tier: str
    source: str


@dataclass(frozen=True)
class ParameterEntry:
    name: str
    unit: str
    description: str
    values: tuple[ValueRow, ...]
    note: str = ""  # why no value is shipped, when none is


@dataclass(frozen=True)
class RuleEntry:
    rule: Rule
    parameters: tuple[ParameterEntry, ...]


@dataclass(frozen=True)
class Family:
    key: str
    heading: str
    agreements: tuple[str, ...]  # the catalogue codes of its agreement versions
    rules: tuple[RuleEntry, ...]


@dataclass(frozen=True)
class AgreementEntry:
    code: str
    name: str
    guild: str
    effective_from: str
    effective_to: str
    tier: str
    source: str


@dataclass(frozen=True)
class Reference:
    families: tuple[Family, ...]
    agreements: tuple[AgreementEntry, ...]
    tiers: tuple[tuple[str, str], ...] = TIER_WORDS


def rule_books() -> tuple[Rule, ...]:
    """Every rule of the consent and compensation rule books, in their order."""
    return consent_book.RULES + compensation_book.RULES


def shipped_series() -> dict[str, _Series]:
    """Every dated series shipped: the consent check's and the rate parameters. A name in both is
    refused: two values for one parameter would be a silent pick."""
    consent_series: Mapping[str, _Series] = consent_parameters().series
    rate_series: Mapping[str, _Series] = params.shipped().series
    both = sorted(set(consent_series) & set(rate_series))
    if both:
        raise ValueError(f"parameters shipped twice: {', '.join(both)}")
    return {**consent_series, **rate_series}


def build() -> Reference:
    """The reference from the rule books, the shipped parameters and the agreement catalogue."""
    series = shipped_series()
    rules = rule_books()
    families = tuple(
        Family(
            key=key,
            heading=heading,
            agreements=_agreements_of(key),
            rules=tuple(
                RuleEntry(rule, _parameters(rule, series)) for rule in rules if rule.family == key
            ),
        )
        for key, heading in FAMILY_HEADINGS.items()
    )
    return Reference(families, tuple(_agreement(v) for v in catalogue.AGREEMENTS.values()))


def _agreements_of(family: str) -> tuple[str, ...]:
    if family == consent_book.LAW:
        return ()
    if family == consent_book.ALL:
        return tuple(catalogue.AGREEMENTS)
    return tuple(code for code, v in catalogue.AGREEMENTS.items() if v.guild == family)


def _parameters(rule: Rule, series: Mapping[str, _Series]) -> tuple[ParameterEntry, ...]:
    """The parameters a rule reads (its book's list), then any other shipped series that names
    the rule, by name."""
    named = [*rule.parameters]
    named += sorted(n for n, s in series.items() if s.rule == rule.id and n not in named)
    return tuple(_parameter(name, series.get(name)) for name in named)


def _parameter(name: str, found: _Series | None) -> ParameterEntry:
    if found is None:
        # A `<...>` name is one series per work type or classification, from a loaded rate sheet.
        what = (
            "A loaded rate sheet supplies it; none is shipped"
            if "<" in name
            else "No value is shipped"
        )
        note = f"{what}: {NOT_KNOWN} (rate_missing until one is loaded)."
        return ParameterEntry(name, "", "", (), note)
    entries = list(found.entries)
    rows = tuple(
        ValueRow(
            in_force=_in_force(entry.effective_from, entries[i + 1 :]),
            value=NOT_KNOWN if entry.value is None else str(entry.value),
            unit="" if entry.value is None else found.unit,
            tier=entry.tier,
            source=entry.source,
        )
        for i, entry in enumerate(entries)
    )
    return ParameterEntry(found.parameter, found.unit, found.description, rows)


def _in_force(start: date | None, later: Sequence[_Entry]) -> str:
    if start is not None:
        return f"from {start.isoformat()}"
    following = later[0].effective_from if later else None
    return f"before {following.isoformat()}" if following else "start not given"


def _agreement(version: catalogue.AgreementVersion) -> AgreementEntry:
    return AgreementEntry(
        code=version.code,
        name=version.name,
        guild=catalogue.GUILDS.get(version.guild, "—") if version.guild else "—",
        effective_from=_day(version.effective_from),
        effective_to=_day(version.effective_to),
        tier=version.tier or "—",
        source=version.source,
    )


def _day(day: date | None) -> str:
    return day.isoformat() if day else "—"


# --- Markdown (docs/rules.md) -------------------------------------------------------------------


def markdown(reference: Reference | None = None) -> str:
    """docs/rules.md: the reference as Markdown, ending in one newline."""
    reference = reference or build()
    out = [
        "# Rules reference",
        "",
        INTRO,
        "",
        f"Generated from the rule books and the shipped parameter files; do not edit by hand. "
        f"Regenerate with `{REGENERATE}`.",
        "",
        "Evidence tiers:",
        "",
        *[f"- **{tier}** {words}" for tier, words in reference.tiers],
        "",
        "## Agreements",
        "",
        *_table(
            ("code", "agreement", "guild", "from", "to", "tier", "source"),
            [
                (f"`{a.code}`", a.name, a.guild, a.effective_from, a.effective_to, a.tier, a.source)
                for a in reference.agreements
            ],
        ),
    ]
    for family in reference.families:
        out += _family_markdown(family)
    return "\n".join(out).rstrip("\n") + "\n"


def _family_markdown(family: Family) -> list[str]:
    out = ["", f"## {family.heading}", ""]
    if family.agreements:
        out += ["Agreements: " + ", ".join(f"`{code}`" for code in family.agreements) + ".", ""]
    for entry in family.rules:
        out += _rule_markdown(entry)
    return out


def _rule_markdown(entry: RuleEntry) -> list[str]:
    rule = entry.rule
    out = [f"### `{rule.id}` — {rule.title}", "", rule.text, ""]
    out += [" · ".join(facts(rule)), ""]
    for parameter in entry.parameters:
        unit = f" ({parameter.unit})" if parameter.unit else ""
        out += [f"#### `{parameter.name}`{unit}", ""]
        if parameter.description:
            out += [parameter.description, ""]
        if parameter.note:
            out += [parameter.note, ""]
        if parameter.values:
            out += _table(
                ("in force", "value", "unit", "tier", "source"),
                [(v.in_force, v.value, v.unit, v.tier, v.source) for v in parameter.values],
            )
            out.append("")
    return out


def facts(rule: Rule) -> list[str]:
    """The short facts shown under a rule's text: tier, year added, status, source."""
    shown = []
    if rule.tier:
        shown.append(f"Tier: {rule.tier}")
    if rule.since:
        shown.append(f"Added by the {rule.since} agreements")
    if not rule.implemented:
        shown.append("Not computed yet")
    shown.append(f"Source: {rule.source}")
    return shown


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def stale() -> bool:
    """Whether docs/rules.md differs from a fresh generation (or is missing)."""
    try:
        return REFERENCE_FILE.read_text(encoding="utf-8") != markdown()
    except FileNotFoundError:
        return True
