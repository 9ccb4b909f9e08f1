"""Payroll API keys: created with explicit scopes and an optional expiry, revoked for good.

Creating, changing and revoking a key are security events (`api_key.created`, `api_key.changed`,
`api_key.revoked`), written once the change is committed, so that the log never shows a key that
a rolled-back transaction did not create.
"""

from datetime import datetime
from typing import cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.api.scopes import validate_scopes
from core.audit import acting_as
from core.errors import DomainError
from core.security.events import security_event
from ledger.models import PayrollKey


def payroll_key_create(
    *, actor, name: str, owner, studios, scopes: list[str], expires_at: datetime | None = None
) -> tuple[PayrollKey, str]:
    """A new key for `studios`; returns it and the raw key, which is never stored or shown again."""
    if not studios:
        raise DomainError("A payroll key serves at least one studio.", code="invalid")
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError("The expiry is in the past.", code="invalid")
    try:
        validate_scopes(scopes)
    except ValidationError as error:
        raise DomainError(error.messages[0], code="invalid") from None
    with transaction.atomic(), acting_as(actor):
        created, raw = PayrollKey.objects.create_key(
            name=name, owner=owner, scopes=list(scopes), expiry_date=expires_at
        )
        key = cast(PayrollKey, created)  # the manager is typed by the abstract model
        key.studios.set(studios)
        key_created(actor=actor, key=key)
    return key, raw


def key_created(*, actor, key: PayrollKey) -> None:
    _on_commit_event(
        "api_key.created",
        actor=actor,
        key=key,
        scopes=" ".join(key.scopes),
        expires=key.expiry_date.isoformat() if key.expiry_date else None,
    )


def key_changed(*, actor, key: PayrollKey, changed: list[str]) -> None:
    """After an edit (the admin): a revocation is its own event; other edits name the fields."""
    if "revoked" in changed and key.revoked:
        _on_commit_event("api_key.revoked", actor=actor, key=key)
    others = sorted(set(changed) - {"revoked"})
    if others:
        _on_commit_event(
            "api_key.changed",
            actor=actor,
            key=key,
            fields=",".join(others),
            scopes=" ".join(key.scopes),
        )


def _on_commit_event(action: str, *, actor, key: PayrollKey, **fields) -> None:
    transaction.on_commit(
        lambda: security_event(
            action, actor=actor, object=_key_object(key), outcome="success", **fields
        )
    )


def _key_object(key: PayrollKey) -> str:
    # By the public prefix, as the admin lists keys: the primary key embeds the key's hash.
    return f"api_key:{key.prefix}"
