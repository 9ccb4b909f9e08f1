"""API-key authentication for payroll systems: `Authorization: Api-Key <key>`.

The request's user becomes the key's owner, so history records who acted; `request.auth` is the
key, which scopes the caller to its studios."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import PayrollKey

KEYWORD = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(f"{KEYWORD} "):
            return None
        raw = header[len(KEYWORD) + 1 :].strip()
        try:
            key = PayrollKey.objects.get_from_key(raw)
        except (PayrollKey.DoesNotExist, ValueError):
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.") from None
        if key.expiry_date is not None and key.expiry_date <= timezone.now():
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not key.owner.is_active:
            raise exceptions.AuthenticationFailed("This API key's owner is inactive.")
        return key.owner, key

    def authenticate_header(self, request):
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "ledger.api_auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`, as printed once by `manage.py create_api_key`.",
        }
