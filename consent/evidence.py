"""Evidence documents: the SHA-256 recorded at upload, and the recheck that detects a later change
to the stored bytes (`manage.py verify_evidence`)."""

import hashlib

from django.core.files.base import File

from core.security.events import security_event

from .models import Consent, ConsentSignature


def evidence_digest(evidence: File) -> tuple[str, int]:
    """SHA-256 (hex) and size of an uploaded or stored file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    evidence.seek(0)
    for chunk in iter(lambda: evidence.read(1 << 16), b""):
        digest.update(chunk)
        size += len(chunk)
    evidence.seek(0)
    return digest.hexdigest(), size


def evidence_problems() -> tuple[int, list[tuple[int, str, str]]]:
    """(documents checked, [(consent id, stored path, what is wrong)]) over every consent's
    evidence document and every signature's record of what was shown."""
    storage = Consent._meta.get_field("evidence").storage
    checked, problems = 0, []
    # A document erased at the person's request (privacy app) has no path; its SHA-256 and size
    # stay on the consent, and there are no bytes left to check.
    rows = (
        Consent.objects.exclude(evidence="")
        .order_by("pk")
        .values_list("pk", "evidence", "evidence_sha256")
    )
    for consent_id, path, recorded in rows.iterator(chunk_size=500):
        checked += 1
        try:
            with storage.open(path, "rb") as handle:
                actual, _ = evidence_digest(handle)
        except FileNotFoundError:
            problems.append((consent_id, path, "missing"))
            _tamper_event(consent_id, "missing")
            continue
        if actual != recorded:
            problems.append((consent_id, path, f"SHA-256 is {actual}, recorded {recorded}"))
            _tamper_event(consent_id, "hash_mismatch")
    signed, mismatched = _signature_problems()
    return checked + signed, problems + mismatched


def _signature_problems() -> tuple[int, list[tuple[int, str, str]]]:
    """The records of consents signed on the signing page: the canonical JSON of what was shown
    against its recorded SHA-256 (an erased record keeps only its hash)."""
    checked, problems = 0, []
    rows = (
        ConsentSignature.objects.exclude(shown_json="")
        .order_by("pk")
        .values_list("consent_id", "shown_json", "shown_sha256")
    )
    for consent_id, shown, recorded in rows.iterator(chunk_size=500):
        checked += 1
        actual = hashlib.sha256(shown.encode()).hexdigest()
        if actual != recorded:
            problems.append(
                (consent_id, "signature record", f"SHA-256 is {actual}, recorded {recorded}")
            )
            _tamper_event(consent_id, "hash_mismatch")
    return checked, problems


def _tamper_event(consent_id: int, problem: str) -> None:
    security_event(
        "evidence.tamper_detected",
        actor="system",
        object=f"consent:{consent_id}",
        outcome="detected",
        problem=problem,
    )
