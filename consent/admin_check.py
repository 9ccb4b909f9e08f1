"""What a consent needs, and the check of a draft, on the consent's pages in the staff admin.

The add form shows, for the kind chosen (and the agreement and governing law), what the rules ask
of the consent, each item with its RULES.md id; its "Check this consent" button runs
`consent_review` on the unsaved form and shows the findings rule by rule, writing nothing. A
recorded consent's page has the same check, of the consent as recorded.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.http import HttpRequest

from core.errors import DomainError
from ledger.registry import catalogue

from . import rules, services
from .models import STATE_LAWS, Consent
from .rules.parameters import shipped_years, statute_start

CHECK_BUTTON = "_check"  # the name of the add form's "Check this consent" button


@dataclass(frozen=True)
class Need:
    """One thing a consent must carry, and the rule that asks for it."""

    text: str
    rule: str
    when: str = ""  # the agreements or dates it applies to, in words; empty: always


_SEPARATE = Need(
    "A separate signed writing or a separately identified rider, never standard terms.",
    "sag.consent.separate",
)
_SPECIFIC = Need(
    "A reasonably specific description: the production, the scenes or episodes, and the media.",
    "sag.consent.specific",
)

# What each kind of consent needs (RULES.md §2), in the order a business-affairs reader checks a
# signed document.
KIND_NEEDS: dict[str, tuple[Need, ...]] = {
    "replica_creation": (
        Need("Signed before the scan, for this production.", "sag.consent.creation"),
        Need(
            "Notice of the scan to the performer at least 48 hours before it (at engagement "
            "when engaged later): record when it was given.",
            "sag.consent.notice_48h",
        ),
        Need("The business reason for the scan.", "sag.consent.scan_reason", "2026 agreement"),
        _SPECIFIC,
        _SEPARATE,
        Need(
            "For crew: a separate consent, never a condition of employment.",
            "iatse.scan_consent",
            "IATSE",
        ),
    ),
    "scan": (
        Need(
            "For crew: a separate consent, never a condition of employment.",
            "iatse.scan_consent",
            "IATSE",
        ),
        Need(
            "For a performer, as a replica creation: notice and (2026) business reason.",
            "sag.consent.creation",
            "SAG-AFTRA",
        ),
    ),
    "replica_use": (
        Need(
            "Covers this production and the dates of use; use in another production needs a "
            "consent of its own for that production, with a bargained amount.",
            "sag.consent.ebdr_use",
        ),
        Need(
            "A bargained amount when the use is in another production.", "sag.consent.new_project"
        ),
        _SPECIFIC,
        _SEPARATE,
    ),
    "icdr_use": (
        Need("A consent for this production with the bargained amount.", "sag.consent.icdr_use"),
        _SPECIFIC,
        _SEPARATE,
    ),
    "digital_alteration": (
        Need(
            "Needed unless the change is a listed exception (cosmetics, wardrobe, noise "
            "reduction, timing or speed, continuity, pitch or tone, effects or filters, "
            "standards and practices, ratings, dialogue or narration adjustment).",
            "sag.consent.alteration",
        ),
        _SPECIFIC,
        _SEPARATE,
    ),
    "synthetic_features": (
        Need(
            "The consent of the performer whose recognizable features the synthetic performer "
            "was made with; the notice to the union is recorded apart.",
            "sag.consent.synthetic",
        ),
        _SPECIFIC,
        _SEPARATE,
    ),
    "training": (
        Need(
            "A licence of the writer's material for AI training, recorded against the writer's "
            "reserved rights; an amount only when one was agreed.",
            "wga.training",
            "WGA",
        ),
        Need(
            "A union notice of kind training license to the WGA on or before the licence date.",
            "wga.training_notice",
            "2026 WGA agreement",
        ),
    ),
    "writer_ai_use": (
        Need(
            "The company's consent to the writer's own use of generative AI; the company may "
            "never require it.",
            "wga.writer_use",
        ),
    ),
}

# Who signs, whatever the kind (RULES.md §2).
SIGNER_NEEDS = (
    Need(
        "A deceased performer: signed by the authorized representative, or by the union when "
        "none can be found.",
        "sag.consent.deceased",
    ),
    Need(
        "A minor: signed by a representative (parent or guardian); the 2026 text was not read, "
        "so the check warns that it needs confirmation.",
        "sag.consent.minor",
        "2026 agreement",
    ),
)

_ENFORCEABLE = (
    "A consent that lets a replica replace work the person would otherwise do in person covers "
    "nothing when its description is not reasonably specific and the person had neither "
    "counsel who negotiated it (terms initialed) nor a union agreement that covers replicas "
    "(SAG-AFTRA with representation by the union)."
)


def _since(rule: str, what: str) -> str:
    """When a statute starts to apply, in the words of its dated parameter (parameters.json)."""
    start = statute_start(rule)
    return f"{what} on or after {start.isoformat()}" if start else what


def _years(parameter: str) -> int:
    return shipped_years(parameter, date.today())


# What each state's law adds (RULES.md §2, law.*), by governing law; dates and periods are the
# rules' own dated parameters.
STATE_LAW_NEEDS: dict[str, tuple[Need, ...]] = {
    "US-CA": (
        Need(_ENFORCEABLE, "law.ca.lab927", _since("law.ca.lab927", "performances fixed")),
        Need(
            "A replica of a person who died within the last "
            f"{_years('law.ca.civ3344_1.years_after_death')} years: signed by the estate "
            "(representative). Liability: the greater of $10,000 or actual damages.",
            "law.ca.civ3344_1",
        ),
    ),
    "US-NY": (
        Need(_ENFORCEABLE, "law.ny.gol5_302", _since("law.ny.gol5_302", "performances fixed")),
        Need(
            "A deceased performer's replica: heirs or executors (representative) consent in "
            "writing.",
            "law.ny.cr50f",
            _since("law.ny.cr50f", "uses"),
        ),
        Need(
            "An advertisement distributed in New York with a synthetic performer needs a "
            "conspicuous disclosure, unless an exemption applies (recorded on the AI use). "
            "Penalty: $1,000, then $5,000 per violation.",
            "law.ny.gbl396b",
            _since("law.ny.gbl396b", "advertisements"),
        ),
    ),
    "US-IL": (Need(_ENFORCEABLE, "law.il.dvlpa", _since("law.il.dvlpa", "consents signed")),),
}

TERM_NEEDS = (
    Need(
        f"A term of more than {_years('law.us.no_fakes.max_term_years')} years, or with no end, "
        "for a living person: a warning only (the NO FAKES Act is not enacted).",
        "law.us.no_fakes",
    ),
)


def requirements(kind: str | None, agreement: str | None, governing_law: str | None) -> dict:
    """The blocks of needs the form shows: for every kind (the chosen one marked), for who signs,
    and for every state law the rules know (the chosen governing law marked)."""
    version = catalogue.AGREEMENTS.get(agreement or "")
    return {
        "kinds": [
            {"kind": k, "label": _kind_label(k), "needs": needs, "chosen": k == kind}
            for k, needs in KIND_NEEDS.items()
        ],
        "chosen_kind": kind or "",
        "agreement": version,
        "signer": SIGNER_NEEDS,
        "laws": [
            {
                "code": code,
                "name": STATE_LAWS[code],
                "needs": needs,
                "chosen": code == governing_law,
            }
            for code, needs in STATE_LAW_NEEDS.items()
        ],
        "chosen_law": governing_law or "",
        "term": TERM_NEEDS,
    }


def form_choices(form: Any) -> tuple[str | None, str | None, str | None]:
    """The kind, agreement code and governing law the form holds (as submitted, or initial)."""
    if not form.is_bound:
        return None, None, None
    agreement = form.cleaned_data.get("agreement") if hasattr(form, "cleaned_data") else None
    code = agreement.code if agreement is not None else None
    return form.data.get("kind") or None, code, (form.data.get("governing_law") or "").strip()


def checking(request: HttpRequest | None) -> bool:
    """Whether the add form was sent by its "Check this consent" button."""
    return request is not None and request.method == "POST" and CHECK_BUTTON in request.POST


def review_recorded(consent: Consent) -> tuple[services.ConsentReview | None, str | None]:
    """The check of a recorded consent as it stands: (review, None), or (None, why it cannot be
    checked)."""
    fields: Mapping[str, Any] = {
        name: getattr(consent, name)
        for name in rules.CONSENT_RECORD_FACTS
        if name != "kind" and hasattr(consent, name)
    }
    try:
        review = services.consent_review(
            person=consent.person,
            production=consent.production,
            kind=consent.kind,
            category=consent.category,
            agreement=consent.agreement,
            **fields,
        )
    except DomainError as error:
        return None, error.message
    return review, None


def _kind_label(kind: str) -> str:
    """A consent kind as a heading: "ICDR use consent", "Replica creation consent"."""
    words = kind.replace("_", " ").replace("icdr", "ICDR")
    return f"{words[:1].upper()}{words[1:]} consent"
