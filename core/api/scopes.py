"""What a payroll API key may do: explicit scopes, one per family of endpoints payroll uses.

A key's studios say *whose* data it reaches; its scopes say *which* endpoints. Each API view
names the scope a payroll key needs to read it (`payroll_read_scope`) and, where payroll may
write at all, to write it (`payroll_write_scope`). A view that names none is closed to payroll
keys. A key without the scope a view needs is refused with 403 `scope_missing`, naming the scope,
so that a vendor that only reads payables cannot record payments with a leaked key.

This module is a leaf (no models), so that models, access checks and the schema can all import it.
"""

from django.core.exceptions import ValidationError

REGISTRY_READ = "registry:read"
PAYABLES_READ = "payables:read"
PAYMENTS_READ = "payments:read"
PAYMENTS_WRITE = "payments:write"
LEDGER_READ = "ledger:read"
WEBHOOKS_READ = "webhooks:read"
WEBHOOKS_WRITE = "webhooks:write"

SCOPES = {
    REGISTRY_READ: "Read studios, people, productions, engagements, guilds and agreements.",
    PAYABLES_READ: "Read what is owed: payables and their CSV export.",
    PAYMENTS_READ: "Read recorded payments and their CSV export.",
    PAYMENTS_WRITE: "Record payments (POST payments/ with an Idempotency-Key).",
    LEDGER_READ: "Read the journal's transactions and the balances summed from it.",
    WEBHOOKS_READ: "Read the key's webhook endpoints.",
    WEBHOOKS_WRITE: "Register and change the key's webhook endpoints.",
}
ALL_SCOPES = tuple(SCOPES)
CHOICES = [(name, f"{name} — {text}") for name, text in SCOPES.items()]


def default_scopes() -> list[str]:
    """Every scope: what a payroll key could do before scopes existed, so old keys keep working.
    New keys should be given only what their vendor needs (`create_api_key --scope`)."""
    return list(ALL_SCOPES)


def validate_scopes(value) -> None:
    """A non-empty list of known scope names, each once."""
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValidationError("Scopes are a list of scope names.", code="invalid")
    unknown = sorted(set(value) - set(ALL_SCOPES))
    if unknown:
        raise ValidationError(
            f"Unknown scope: {', '.join(unknown)}. Known: {', '.join(ALL_SCOPES)}.",
            code="unknown_scope",
        )
    if not value:
        raise ValidationError("Give the key at least one scope.", code="no_scope")
    if len(set(value)) != len(value):
        raise ValidationError("A scope is listed twice.", code="duplicate_scope")


def required_scope(view, method: str) -> str | None:
    """The scope a payroll key needs for `method` on `view`, or None when payroll keys may not."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return getattr(view, "payroll_read_scope", None)
    return getattr(view, "payroll_write_scope", None)
