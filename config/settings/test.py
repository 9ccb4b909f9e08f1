"""Test settings: the database is whatever DATABASE_URL says (PostgreSQL in CI), SQLite if unset."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A worker started by an end-to-end test sends real mail (to a local SMTP sink at EMAIL_URL).
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")  # noqa: F405
MEDIA_ROOT = str(BASE_DIR / "var" / "test-media")  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
