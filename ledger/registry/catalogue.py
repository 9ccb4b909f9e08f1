"""The agreement catalogue: which guilds and agreement versions exist, with their terms and
sources (RULES.md §1), read from `agreements.json` beside this module.

Pure (no Django): the consent check and the quote read it as the registry does, and a test holds
the database's Guild and Agreement rows to it. A new agreement version is a new entry here and a
data migration that adds its row."""

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

CATALOGUE_FILE = Path(__file__).with_name("agreements.json")


NON_UNION = "non-union"


@dataclass(frozen=True)
class AgreementVersion:
    code: str
    guild: str | None  # None: no collective agreement (NON_UNION)
    name: str
    effective_from: date | None  # None: no start (NON_UNION is never out of force)
    effective_to: date | None  # None: no end date found, or none
    tier: str | None
    source: str

    @property
    def is_union(self) -> bool:
        return self.guild is not None

    @property
    def year(self) -> int:
        """The year the version took effect: how the rules name a generation of an agreement
        (0 for an agreement with no start)."""
        return self.effective_from.year if self.effective_from else 0

    def in_term(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to
        )


def _load() -> tuple[dict[str, str], dict[str, AgreementVersion]]:
    raw = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    guilds = {g["code"]: g["name"] for g in raw["guilds"]}
    agreements = {}
    for a in raw["agreements"]:
        start, end = a["effective_from"], a["effective_to"]
        version = AgreementVersion(
            code=a["code"],
            guild=a["guild"],
            name=a["name"],
            effective_from=date.fromisoformat(start) if start else None,
            effective_to=date.fromisoformat(end) if end else None,
            tier=a["tier"],
            source=a["source"],
        )
        if version.guild is not None and version.guild not in guilds:
            raise ValueError(f"{CATALOGUE_FILE.name}: {version.code} names unknown guild")
        agreements[version.code] = version
    return guilds, agreements


GUILDS, AGREEMENTS = _load()


def guild_of(agreement_code: str) -> str | None:
    """The guild code of an agreement version (None for NON_UNION); KeyError for an unknown
    code."""
    return AGREEMENTS[agreement_code].guild


def in_force(guild: str | None, day: date) -> AgreementVersion | None:
    """The version of `guild`'s agreement in force on `day` (NON_UNION for no guild); None when
    no version of it is."""
    for version in AGREEMENTS.values():
        if version.guild == guild and version.in_term(day):
            return version
    return None
