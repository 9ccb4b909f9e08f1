"""What the security tests share: the security log as the configured handler writes it."""

import io
import json
import logging

import pytest

from core.security.events import LOGGER_NAME, SecurityJsonFormatter


class SecurityLog:
    """The lines the `guild_ledger.security` handler wrote during the test, as text and parsed."""

    def __init__(self, stream: io.StringIO):
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def events(self, action: str | None = None) -> list[dict]:
        events = [json.loads(line) for line in self.text.splitlines()]
        return [e for e in events if action is None or e["action"] == action]

    def clear(self):
        self.stream.seek(0)
        self.stream.truncate()


@pytest.fixture
def security_log():
    """Point the handler configured in settings (LOGGING) at a buffer: the test reads exactly the
    bytes production would ship, formatter included."""
    handlers = [
        h
        for h in logging.getLogger(LOGGER_NAME).handlers
        if isinstance(h.formatter, SecurityJsonFormatter)
    ]
    assert len(handlers) == 1, "settings.LOGGING configures one JSON handler for security events"
    stream = io.StringIO()
    previous = handlers[0].setStream(stream)
    try:
        yield SecurityLog(stream)
    finally:
        handlers[0].setStream(previous)


def assert_no_personal_data(text: str, *values: str) -> None:
    for value in values:
        assert value and value not in text, f"{value!r} is in the security log"
