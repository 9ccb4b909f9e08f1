"""What a person's consents of kind `training` say about AI training on their work, in the
words of the CAWG Training and Data Mining assertion (`cawg.training-mining`, version 1.1): the
published label's permission for a production and a person's own shareable statement read it
here."""

from datetime import datetime

from . import selectors as consent_selectors
from .models import Consent

TRAINING_ASSERTION = "cawg.training-mining"
# What a consent of kind `training` licenses; nothing the product records licenses the others.
TRAINING_ENTRIES = ("cawg.ai_generative_training", "cawg.ai_training")
NEVER_LICENSED = ("cawg.ai_inference", "cawg.data_mining")


def training_mining(use: str, constraint_info: str = "") -> dict:
    """A `cawg.training-mining` assertion: `use` (allowed, notAllowed or constrained) for what a
    training consent licenses, notAllowed for inference and data mining."""
    entry: dict[str, str] = {"use": use}
    if constraint_info:
        entry["constraint_info"] = constraint_info
    entries = {key: dict(entry) for key in TRAINING_ENTRIES}
    entries.update({key: {"use": "notAllowed"} for key in NEVER_LICENSED})
    return {"entries": entries}


def training_consents_in_force(qs, *, now: datetime) -> list[Consent]:
    """The consents of kind `training` among `qs` that are granted now (not suspended, revoked,
    expired or superseded)."""
    found = (
        qs.filter(kind="training")
        .select_related("superseded_by")
        .prefetch_related("events")
        .order_by("pk")
    )
    return [c for c in found if consent_selectors.consent_status(c, now=now) == "granted"]
