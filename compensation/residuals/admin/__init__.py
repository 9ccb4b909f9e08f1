"""Residuals in the staff admin; imported by the compensation app when it is ready, so that they
register."""

from . import records, runs, schedules, statements  # noqa: F401
