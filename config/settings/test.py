"""Test settings: the database is whatever DATABASE_URL says (PostgreSQL in CI), SQLite if unset."""

from core.security import content_credentials

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A worker started by an end-to-end test sends real mail (to a local SMTP sink at EMAIL_URL).
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")  # noqa: F405
MEDIA_ROOT = str(BASE_DIR / "var" / "test-media")  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# A fixed key, public in this repository: what it signs proves nothing outside development.
SIGNING_KEY = env("SIGNING_KEY", default=TEST_SIGNING_KEY)  # noqa: F405
# The public test chain of config/c2pa_test: readers report what it signs as untrusted.
C2PA_SIGNING_CERT = env("C2PA_SIGNING_CERT", default=content_credentials.TEST_CERT)  # noqa: F405
C2PA_SIGNING_KEY = env("C2PA_SIGNING_KEY", default=content_credentials.TEST_KEY)  # noqa: F405
