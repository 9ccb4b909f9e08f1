"""Security events: one JSON line per event on the `guild_ledger.security` logger.

Each line says when (UTC, ISO 8601 with `Z`), who (`actor`), what (`action`), to what (`object`)
and how it ended (`outcome`), plus a few named fields (OWASP ASVS 5.0 V16.2.1, 16.2.2). The lines
are meant to be shipped to a store apart from the application (16.4.3); settings send them to
stderr as a stream of their own.

What is never written (16.2.5): names, e-mail addresses, usernames, passwords, API keys, request
bodies, idempotency keys. People appear only as ids (`user:<id>`), API keys by their public
prefix (`api_key:<prefix>`). An IP address is personal data under the GDPR, so the caller's address
appears only as `client`, a keyed hash (HMAC with the SECRET_KEY): repeated attempts from one
address can be correlated, and an operator holding the secret can test a suspect address, but the
log alone does not reveal it.

Log injection (16.4.1) is impossible by construction: the line is `json.dumps` with ASCII output,
so a newline or control character inside a value is escaped, never written raw.
"""

import json
import logging
import re
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.utils.crypto import salted_hmac

LOGGER_NAME = "guild_ledger.security"
logger = logging.getLogger(LOGGER_NAME)

OUTCOMES = ("success", "failure", "denied", "detected")
RESERVED = ("time", "action", "actor", "object", "outcome")
MAX_FIELD_CHARS = 200

# Matched whole (fullmatch): `$` alone would let a trailing newline through.
_ACTOR = re.compile(r"(?:(?:user|api_key):[A-Za-z0-9_-]{1,64}|system|anonymous)")
_OBJECT = re.compile(r"[a-z_]{1,40}:[A-Za-z0-9_.:-]{1,120}")
_ACTION = re.compile(r"[a-z_]{1,40}\.[a-z_]{1,60}")


def security_event(action: str, *, actor, object, outcome: str, **safe_fields) -> dict:
    """Write one security event and return it (as logged, without the time).

    `actor`: a user, a PayrollKey, a request, or an already formed id (`user:7`, `api_key:AbC12xyz`,
    `system`, `anonymous`). `object`: a model instance or `<type>:<id>`. `safe_fields`: scalars
    that hold no personal data (codes, counts, HTTP methods, scope names); strings are cut to
    200 characters."""
    if not _ACTION.fullmatch(action):
        raise ValueError(f"security action {action!r} is not <area>.<event>")
    if outcome not in OUTCOMES:
        raise ValueError(f"security outcome {outcome!r} is not one of {OUTCOMES}")
    event = {
        "action": action,
        "actor": actor_id(actor),
        "object": object_id(object),
        "outcome": outcome,
        **_clean_fields(safe_fields),
    }
    logger.info(action, extra={"security_event": event})
    return event


def actor_id(actor) -> str:
    if isinstance(actor, str):
        if not _ACTOR.fullmatch(actor):
            raise ValueError(f"actor {actor!r} is not user:<id>, api_key:<prefix>, system")
        return actor
    if getattr(actor, "security_actor", None):  # an API key names itself (ledger.payroll.models)
        return actor.security_actor
    if actor is None or not getattr(actor, "is_authenticated", False):
        if hasattr(actor, "META"):  # a request
            return request_actor(actor)
        return "anonymous"
    if isinstance(actor, get_user_model()):
        return f"user:{actor.pk}"
    raise TypeError(f"cannot name {type(actor).__name__} as a security actor")


def request_actor(request) -> str:
    """The caller of a Django or DRF request, without running authentication again: a DRF
    request that failed to authenticate has no user yet, and asking for one would retry."""
    actor = getattr(getattr(request, "_auth", None), "security_actor", None)
    if actor:
        return actor
    user = getattr(request, "_user", None)
    if user is None:
        user = getattr(getattr(request, "_request", request), "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return "anonymous"


def object_id(obj) -> str:
    if isinstance(obj, models.Model):
        return f"{obj._meta.model_name}:{obj.pk}"
    if isinstance(obj, str) and _OBJECT.fullmatch(obj):
        return obj
    raise ValueError(f"security object {obj!r} is not a model instance or <type>:<id>")


def _clean_fields(fields: dict) -> dict:
    clean = {}
    for name, value in fields.items():
        if name in RESERVED:
            raise ValueError(f"{name!r} is a reserved security event field")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise TypeError(f"security field {name!r} must be a scalar, not {type(value)}")
        clean[name] = value[:MAX_FIELD_CHARS] if isinstance(value, str) else value
    return clean


# --- the caller's address ------------------------------------------------------------------


def client_ip(request) -> str | None:
    """The caller's address: REMOTE_ADDR, or, behind `TRUSTED_PROXY_COUNT` reverse proxies, the
    address the outermost of them saw (counted from the right of X-Forwarded-For, the part a
    client cannot forge). Lock-out, throttling and the `client` hash all use this."""
    request = getattr(request, "_request", request)
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def client_hash(request) -> str:
    """A keyed hash of the caller's address (see the module docstring); `none` without one."""
    ip = client_ip(request) if request is not None else None
    if not ip:
        return "none"
    return salted_hmac("guild_ledger.security.client", ip).hexdigest()[:16]


# --- the log line --------------------------------------------------------------------------


class SecurityJsonFormatter(logging.Formatter):
    """`{"time": "...Z", "action", "actor", "object", "outcome", ...fields}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        event = getattr(record, "security_event", None)
        if event is None:  # something else logged on this logger: keep it, as one JSON line
            event = {"action": "log.message", "message": record.getMessage()}
        moment = datetime.fromtimestamp(record.created, UTC)
        time = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return json.dumps({"time": time, **event}, ensure_ascii=True, separators=(",", ":"))


# --- API refusals --------------------------------------------------------------------------

# The statuses that refuse a caller (core.errors logs them through api_refusal). A 404 for an
# object outside the caller's scope is the same answer as for one that does not exist, on
# purpose, and so is not told apart here either: it is not logged.
REFUSAL_STATUSES = {
    401: ("api.authentication", "failure"),
    403: ("api.authorization", "denied"),
    429: ("api.throttled", "denied"),
}


def api_refusal(request, exc, response) -> None:
    action, outcome = REFUSAL_STATUSES[response.status_code]
    match = getattr(request, "resolver_match", None)
    fields = {
        "method": getattr(request, "method", None),
        "status": response.status_code,
        "code": (response.data or {}).get("code"),
        "client": client_hash(request),
    }
    if getattr(exc, "scope_name", None):
        fields["scope"] = exc.scope_name
    security_event(
        action,
        actor=request_actor(request) if request is not None else "anonymous",
        object=f"endpoint:{match.view_name}" if match and match.view_name else "endpoint:unknown",
        outcome=outcome,
        **fields,
    )
