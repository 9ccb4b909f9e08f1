"""The rules that can be judged on a consent record alone (RULES.md §2): the separate instrument
(`sag.consent.separate`, `iatse.scan_consent`), specificity (`sag.consent.specific`), a recorded
notice and the business reason of a scan (`sag.consent.notice_48h`, `sag.consent.scan_reason`),
the deceased performer's and the minor's signatory (`sag.consent.deceased`, `sag.consent.minor`)
and a term that ends no earlier than it starts (`consent.term`). check() and review_consent() use
the same findings, so a rule reads the same sentence in both."""

import re

from .facts import ConsentFacts, Finding, PersonFacts, Warning
from .verdict import iso

MINOR_WARNING = Warning(
    "sag.consent.minor",
    "needs_confirmation: the 2026 agreement's terms on minors' replicas were not read (tier T, "
    "evidence.md §9); the requirement of a consent signed by a parent or guardian is to be "
    "confirmed against the agreement text.",
)


def separate_finding(consent: ConsentFacts, rule: str) -> Finding:
    """sag.consent.separate (and iatse.scan_consent): never part of standard terms."""
    if consent.instrument == "standard_terms":
        return Finding(
            rule,
            False,
            f"Consent {consent.id} is part of standard terms, not a separate writing or rider.",
        )
    return Finding(rule, True, f"Consent {consent.id} is a {consent.instrument.replace('_', ' ')}.")


def specific_finding(consent: ConsentFacts) -> Finding:
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


def notice_recorded_finding(consent: ConsentFacts) -> Finding:
    """sag.consent.notice_48h, as far as a record alone tells: a notice is recorded."""
    rule = "sag.consent.notice_48h"
    if consent.notice_at is None:
        return Finding(rule, False, f"Consent {consent.id} records no notice of the scan.")
    return Finding(
        rule, True, f"Consent {consent.id} records notice of the scan at {iso(consent.notice_at)}."
    )


def scan_reason_finding(consent: ConsentFacts) -> Finding:
    """sag.consent.scan_reason (2026)."""
    rule = "sag.consent.scan_reason"
    if (consent.business_reason or "").strip():
        return Finding(rule, True, f"Consent {consent.id} states a business reason for the scan.")
    return Finding(
        rule,
        False,
        f"Consent {consent.id} states no business reason for the scan (2026 agreement).",
    )


def deceased_finding(person: PersonFacts | None, consent: ConsentFacts) -> Finding | None:
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


def minor_finding(person: PersonFacts | None, consent: ConsentFacts) -> Finding | None:
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


def term_finding(consent: ConsentFacts) -> Finding:
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


def is_specific(description: str, scenes: str = "", media: str = "") -> bool:
    """sag.consent.specific: the description names the scenes or episodes and the media, and is
    not a catch-all grant. `scenes` and `media` are the record's structured fields, if filled."""
    text = " ".join(part for part in (description, scenes, media) if part)
    if len(text.split()) < 4 or _GENERIC.search(text):
        return False
    has_scenes = bool(scenes.strip()) or bool(_SCENES.search(description or ""))
    has_media = bool(media.strip()) or bool(_MEDIA.search(description or ""))
    return has_scenes and has_media
