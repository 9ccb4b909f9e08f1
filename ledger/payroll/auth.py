"""API-key authentication for payroll systems: `Authorization: Api-Key <key>`.

The request's user becomes the key's owner, so history records who acted; `request.auth` is the
key, which scopes the caller to its studios."""

from typing import cast

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from core.api.scopes import SCOPES
from core.security import login_guard
from ledger.models import PayrollKey

KEYWORD = "Api-Key"


class ApiKeyExpired(exceptions.AuthenticationFailed):
    """401 `api_key_expired`: the key was good until its expiry date; the vendor needs a new one."""

    stable_code = "api_key_expired"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(f"{KEYWORD} "):
            return None
        if login_guard.api_key_failures_exhausted(request):
            raise exceptions.Throttled(
                wait=settings.API_KEY_FAILURE_WINDOW,
                detail="Too many bad API keys from this address.",
            )
        try:
            return self._check(header[len(KEYWORD) + 1 :].strip())
        except exceptions.AuthenticationFailed:
            login_guard.record_api_key_failure(request)
            raise

    def _check(self, raw: str):
        try:
            # The key manager is typed by the abstract model; its rows are PayrollKeys.
            key = cast(PayrollKey, PayrollKey.objects.get_from_key(raw))
        except (PayrollKey.DoesNotExist, ValueError):
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.") from None
        # Expired from the instant of expiry_date itself (tested to the microsecond).
        if key.expiry_date is not None and key.expiry_date <= timezone.now():
            raise ApiKeyExpired("This API key has expired.")
        if not key.owner.is_active:
            raise exceptions.AuthenticationFailed("This API key's owner is inactive.")
        return key.owner, key

    def authenticate_header(self, request):
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "ledger.payroll.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Api-Key <key>`, as printed once by `manage.py create_api_key`. A key reaches "
                "its studios' data through the endpoints its scopes name (each operation says "
                "which, in `x-api-key-scope`); without it the answer is 403 `scope_missing`. "
                "An expired key is 401 `api_key_expired`. Scopes: "
                + "; ".join(f"`{name}`: {text}" for name, text in SCOPES.items())
            ),
        }
