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


@dataclass(frozen=True)
class AgreementVersion:
    code: str
    guild: str
    name: str
    effective_from: date
    effective_to: date | None  # None: no end date found
    tier: str
    source: str

    @property
    def year(self) -> int:
        """The year the version took effect: how the rules name a generation of an agreement."""
        return self.effective_from.year

    def in_term(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


def _load() -> tuple[dict[str, str], dict[str, AgreementVersion]]:
    raw = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    guilds = {g["code"]: g["name"] for g in raw["guilds"]}
    agreements = {}
    for a in raw["agreements"]:
        end = a["effective_to"]
        version = AgreementVersion(
            code=a["code"],
            guild=a["guild"],
            name=a["name"],
            effective_from=date.fromisoformat(a["effective_from"]),
            effective_to=date.fromisoformat(end) if end else None,
            tier=a["tier"],
            source=a["source"],
        )
        if version.guild not in guilds:
            raise ValueError(f"{CATALOGUE_FILE.name}: {version.code} names unknown guild")
        agreements[version.code] = version
    return guilds, agreements


GUILDS, AGREEMENTS = _load()


def guild_of(agreement_code: str) -> str:
    """The guild code of an agreement version; KeyError for an unknown code."""
    return AGREEMENTS[agreement_code].guild
