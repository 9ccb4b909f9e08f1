"""Production: every secret from the environment, no defaults for them, HTTPS only."""

from django.core.exceptions import ImproperlyConfigured

from core.security import content_credentials

from .base import *  # noqa: F403
from .base import WEBHOOK_ALLOW_INSECURE, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if WEBHOOK_ALLOW_INSECURE:
    raise ImproperlyConfigured(
        "WEBHOOK_ALLOW_INSECURE is for local development: in production webhooks go only to "
        "https on public addresses."
    )

if not SIGNING_KEY or SIGNING_KEY == TEST_SIGNING_KEY:  # noqa: F405
    raise ImproperlyConfigured(
        "SIGNING_KEY must be set to the installation's own Ed25519 key (base64 of its 32 bytes): "
        "it signs the ledger's checkpoints and the published statements."
    )

if DISCLOSURE_LABELS_PUBLISHED:  # noqa: F405
    _c2pa_problem = content_credentials.production_problem(
        C2PA_SIGNING_CERT,  # noqa: F405
        C2PA_SIGNING_KEY,  # noqa: F405
    )
    if _c2pa_problem:
        raise ImproperlyConfigured(
            f"{_c2pa_problem}: published disclosure labels carry Content Credentials signed with "
            "the installation's own certificate (or set DISCLOSURE_LABELS_PUBLISHED=off)."
        )
