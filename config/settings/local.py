"""The embedded default: SQLite under var/, Celery eager, e-mail to the console."""

from core.security import content_credentials

from .base import *  # noqa: F403

DEBUG = True
# A fixed key, public in this repository: what it signs proves nothing outside development.
SIGNING_KEY = env("SIGNING_KEY", default=TEST_SIGNING_KEY)  # noqa: F405
# The public test chain of config/c2pa_test: readers report what it signs as untrusted.
C2PA_SIGNING_CERT = env("C2PA_SIGNING_CERT", default=content_credentials.TEST_CERT)  # noqa: F405
C2PA_SIGNING_KEY = env("C2PA_SIGNING_KEY", default=content_credentials.TEST_KEY)  # noqa: F405
