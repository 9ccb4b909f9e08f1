"""Test settings: the database is whatever DATABASE_URL says (PostgreSQL in CI), SQLite if unset."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = str(BASE_DIR / "var" / "test-media")  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
