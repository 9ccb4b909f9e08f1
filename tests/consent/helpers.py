"""Shared helpers for the consent API tests: plain functions, not fixtures (not a conftest, so that
the other test modules of this folder are not affected). Fixed values only."""

import hashlib
from datetime import UTC, datetime

from consent.models import (
    AiUse,
    AiUseVoid,
    Consent,
    ConsentEvent,
    StrikePeriod,
    UnionNotice,
    WgaDisclosure,
)
from tests.factories import SPECIFIC, evidence_file

CONSENT_MODELS = [Consent, ConsentEvent, AiUse, AiUseVoid, UnionNotice, StrikePeriod, WgaDisclosure]

EVIDENCE = b"%PDF-1.4 signed consent rider for the battle scenes"
EVIDENCE_SHA256 = hashlib.sha256(EVIDENCE).hexdigest()

NONEXISTENT_ID = 987654321


def at(*parts) -> datetime:
    """An aware UTC datetime: at(2025, 6, 10, 9) is 2025-06-10T09:00:00Z."""
    return datetime(*parts, tzinfo=UTC)


def counts() -> dict:
    """Rows and history rows of every table a consent request could write."""
    out = {}
    for model in CONSENT_MODELS:
        out[model.__name__] = model.objects.count()
        out[f"{model.__name__} history"] = model.history.count()
    return out


def media_files(root) -> list:
    """Every file stored under MEDIA_ROOT (evidence uploads), relative and sorted."""
    from pathlib import Path

    base = Path(root)
    if not base.exists():
        return []
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())


def consent_body(person, production, /, **overrides) -> dict:
    """A multipart body for POST /api/v1/consents/ that the service accepts (a separate writing,
    with a specific description and a notice well before any scan in the tests). A value of
    None in `overrides` leaves that field out."""
    body = {
        "person": person.pk if hasattr(person, "pk") else person,
        "production": production.pk if hasattr(production, "pk") else production,
        "kind": "replica_creation",
        "description": SPECIFIC,
        "term_from": "2025-06-01",
        "instrument": "separate_writing",
        "signed_at": "2025-06-01T12:00:00Z",
        "signed_by": "Ann Example",
        "signed_by_capacity": "self",
        "notice_at": "2025-06-01T12:00:00Z",
        "evidence": evidence_file(EVIDENCE, "rider.pdf"),
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def post_consent(client, person, production, /, **overrides):
    return client.post(
        "/api/v1/consents/", consent_body(person, production, **overrides), format="multipart"
    )


def use_body(person, production, /, **overrides) -> dict:
    body = {
        "production": production.pk if hasattr(production, "pk") else production,
        "person": person.pk if hasattr(person, "pk") else person,
        "kind": "replica_creation",
        "starts_at": "2025-06-10T09:00:00Z",
        "description": "Full-body scan on stage 4",
    }
    body.update(overrides)
    return body


def check_body(person, production, /, on="2025-06-10T09:00:00Z", **overrides) -> dict:
    body = {
        "person": person.pk if hasattr(person, "pk") else person,
        "production": production.pk if hasattr(production, "pk") else production,
        "use_kind": "replica_creation",
        "on": on,
    }
    body.update(overrides)
    return body


def streamed(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content
