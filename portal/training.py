"""A person's AI-training preference, as a signed statement they can share.

From the person's consents of kind `training`, their preference now, as a CAWG Training and Data
Mining assertion (`cawg.training-mining`): `constrained` while at least one such consent is in
force (each licenses training on one production's material, on its own terms, and nothing else),
`notAllowed` when none is (never given, refused, revoked, suspended, expired or superseded).

The statement is JSON: the statement's public id (nothing else about the person), the assertion,
`issued_at`, `key_id`, and `signature`: the installation's Ed25519 signature (core.security
.signing, its public key at /.well-known/guild-ledger-keys.json) over the canonical JSON (sorted
keys, no spaces, UTF-8) of every other field. It is computed at each request, so it is always
current; its address (TrainingStatement.public_id) never changes.
"""

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from consent import training as consent_training
from consent.models import Consent
from core.audit import save_audited, system_user
from core.security import signing
from ledger.models import Person
from reports.render import canonical_json

from .models import TrainingStatement

STATEMENT_TYPE = "guild-ledger.training-preference"


def statement_for(person: Person) -> TrainingStatement:
    """The person's statement address, made on first need."""
    found = TrainingStatement.objects.filter(person=person).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return save_audited(TrainingStatement(person=person), actor=system_user())
    except (IntegrityError, ValidationError):  # made meanwhile by another request
        return TrainingStatement.objects.get(person=person)


def preference(person: Person, *, now: datetime) -> dict:
    in_force = consent_training.training_consents_in_force(
        Consent.objects.filter(person=person), now=now
    )
    if not in_force:
        return consent_training.training_mining("notAllowed")
    count = len(in_force)
    return consent_training.training_mining(
        "constrained",
        f"Allowed only under the {count} written consent{'s' if count != 1 else ''} this person "
        "gave, each for one production's material and on its own terms; any other use is not "
        "allowed.",
    )


def in_words(person: Person, *, now: datetime) -> str:
    """What the statement says today, for the person's own page."""
    count = len(
        consent_training.training_consents_in_force(Consent.objects.filter(person=person), now=now)
    )
    if not count:
        return "Today it says your work may not be used to train AI."
    consents = "consent" if count == 1 else f"{count} consents"
    return (
        f"Today it says your work may be used to train AI only under your written {consents} "
        "to it, and in no other way."
    )


def signed_message(statement: dict) -> bytes:
    """What the signature is over: the canonical JSON of every field but `signature`."""
    rest = {k: v for k, v in statement.items() if k != "signature"}
    return canonical_json(rest).encode("utf-8")


def statement(found: TrainingStatement, *, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    body = {
        "type": STATEMENT_TYPE,
        "id": str(found.public_id),
        "assertion": {
            "label": consent_training.TRAINING_ASSERTION,
            "data": preference(found.person, now=now),
        },
        "issued_at": now.astimezone(UTC).isoformat(),
        "alg": signing.ALGORITHM,
        "key_id": signing.key_id(),
    }
    return {**body, "signature": signing.sign(signed_message(body))}
