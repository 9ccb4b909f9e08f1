"""The embedded default: SQLite under var/, Celery eager, e-mail to the console."""

from .base import *  # noqa: F403

DEBUG = True
