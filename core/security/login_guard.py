"""Guessing is slow and visible: log-ins are locked out after repeated failures, bad API keys are
throttled per address, and every attempt is a security event.

- Staff log-ins (the admin) go through django-axes: `AXES_FAILURE_LIMIT` failures for one
  username from one address lock that pair out for `AXES_COOLOFF_TIME`; the answer is a 429 that
  says so (`lockout_response`). Another address, or another account, is not affected, so an
  attacker cannot lock a colleague out from elsewhere.
- API keys are long random secrets, so guessing one is hopeless; still, an address that presents
  `API_KEY_FAILURE_LIMIT` bad keys within `API_KEY_FAILURE_WINDOW` seconds gets 429 `throttled`
  for every key until the window ends, and its guesses are not even checked. The counter lives in
  the default cache: configure a shared one (`CACHE_URL`) when running several processes.
- The auth signals become `auth.login` / `auth.lockout` security events (core.security.events).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse

from core.security.events import client_hash, security_event

LOCKED_MESSAGE = (
    "Too many failed log-ins for this account from this address. Try again in {minutes} minutes."
)


# --- events --------------------------------------------------------------------------------


def _account(username) -> str:
    """The account a log-in named, as an id: `user:<id>`, or `user:unknown` (never the name)."""
    if not isinstance(username, str) or not username:
        return "user:unknown"
    User = get_user_model()
    pk = (
        User._default_manager.filter(**{User.USERNAME_FIELD: username})
        .values_list("pk", flat=True)
        .first()
    )
    return f"user:{pk}" if pk is not None else "user:unknown"


def on_logged_in(sender, request, user, **kwargs):
    security_event(
        "auth.login", actor=user, object=user, outcome="success", client=client_hash(request)
    )


def on_login_failed(sender, credentials, request=None, **kwargs):
    username = credentials.get(get_user_model().USERNAME_FIELD)
    _not_logged_in("auth.login", username, request, outcome="failure")


def on_locked_out(sender, request, username=None, **kwargs):
    _not_logged_in(
        "auth.lockout",
        username,
        request,
        outcome="denied",
        failure_limit=settings.AXES_FAILURE_LIMIT,
    )


def _not_logged_in(action, username, request, **details) -> None:
    """A log-in that did not happen: an anonymous caller's attempt on the account it named."""
    security_event(
        action, actor="anonymous", object=_account(username), client=client_hash(request), **details
    )


def connect():
    from axes.signals import user_locked_out

    user_logged_in.connect(on_logged_in, dispatch_uid="guild_ledger.security.login")
    user_login_failed.connect(on_login_failed, dispatch_uid="guild_ledger.security.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="guild_ledger.security.locked_out")


# --- the lock-out answer -------------------------------------------------------------------


def cool_off_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a 429 that says what happened and when to retry; JSON under /api/."""
    seconds = cool_off_seconds()
    message = LOCKED_MESSAGE.format(minutes=max(1, seconds // 60))
    response: HttpResponse
    if request.path.startswith("/api/"):
        # Imported here: DRF imports the authentication classes (and so this module) while
        # core.errors itself is still loading.
        from core.errors import error_body

        response = JsonResponse(error_body("login_locked", message), status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(seconds)
    return response


# --- bad API keys --------------------------------------------------------------------------


def _failures_key(request) -> str:
    return f"guild_ledger:api-key-failures:{client_hash(request)}"


def api_key_failures_exhausted(request) -> bool:
    return cache.get(_failures_key(request), 0) >= settings.API_KEY_FAILURE_LIMIT


def record_api_key_failure(request) -> None:
    """Count one bad key against the caller's address, in a window opened by its first one."""
    key = _failures_key(request)
    if cache.add(key, 1, timeout=settings.API_KEY_FAILURE_WINDOW):
        return
    try:
        cache.incr(key)
    except ValueError:  # the window closed between add() and incr()
        cache.add(key, 1, timeout=settings.API_KEY_FAILURE_WINDOW)
