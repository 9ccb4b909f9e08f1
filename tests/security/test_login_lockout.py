"""Staff log-in lock-out (django-axes): five failures for one username from one address lock that
pair out with a clear 429, and nothing else; a success after the cool-off unlocks it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory
from tests.security.conftest import assert_no_personal_data

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
ADDRESS = "203.0.113.7"
START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def maya():
    user = UserFactory(
        username="maya.lopez",
        email="maya.lopez@meridian.example",
        first_name="Maya",
        last_name="Lopez",
        is_staff=True,
    )
    user.set_password(PASSWORD)
    user.save()
    return user


def log_in(password, *, username="maya.lopez", address=ADDRESS):
    return Client(REMOTE_ADDR=address).post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
    )


def assert_locked(response):
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert text == (
        "Too many failed log-ins for this account from this address. Try again in 15 minutes."
    )
    assert int(response["Retry-After"]) == 15 * 60


def test_five_failures_lock_the_account_at_that_address(maya, security_log):
    assert settings.AXES_FAILURE_LIMIT == 5
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            response = log_in("wrong")
            assert response.status_code == 200  # the form again, with its error
            assert b"Please enter the correct username and password" in response.content
        assert_locked(log_in("wrong"))
        # locked: even the right password is refused now, with the same clear answer
        assert_locked(log_in(PASSWORD))

    failures = security_log.events("auth.login")
    assert [e["outcome"] for e in failures] == ["failure"] * 6
    assert {e["object"] for e in failures} == {f"user:{maya.pk}"}
    lockouts = security_log.events("auth.lockout")
    assert len(lockouts) == 2  # at the fifth failure, and again at the attempt while locked
    assert lockouts[0] == {
        "time": "2026-04-01T09:00:00.000Z",
        "action": "auth.lockout",
        "actor": "anonymous",
        "object": f"user:{maya.pk}",
        "outcome": "denied",
        "client": failures[0]["client"],
        "failure_limit": 5,
    }
    assert_no_personal_data(
        security_log.text, "maya.lopez", "maya.lopez@meridian.example", "Maya", "Lopez", ADDRESS
    )


def test_the_lock_is_per_address_and_per_account(maya):
    other = UserFactory(username="wes.tanaka", is_staff=True)
    other.set_password(PASSWORD)
    other.save()
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            log_in("wrong")
        assert_locked(log_in(PASSWORD))
        assert log_in(PASSWORD, address="198.51.100.20").status_code == 302
        assert log_in(PASSWORD, username="wes.tanaka").status_code == 302


def test_the_right_password_works_again_after_the_cool_off(maya, security_log):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            log_in("wrong")
    with time_machine.travel(START + timedelta(minutes=14, seconds=59), tick=False):
        assert_locked(log_in(PASSWORD))  # which also restarts the cool-off
    security_log.clear()
    restart = START + timedelta(minutes=14, seconds=59)
    with time_machine.travel(restart + timedelta(minutes=15, seconds=1), tick=False):
        response = log_in(PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    (login,) = security_log.events("auth.login")
    assert (login["actor"], login["object"], login["outcome"]) == (
        f"user:{maya.pk}",
        f"user:{maya.pk}",
        "success",
    )


def test_a_success_resets_the_count(maya):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            log_in("wrong")
        assert log_in(PASSWORD).status_code == 302
        for _ in range(4):
            assert log_in("wrong").status_code == 200
        assert_locked(log_in("wrong"))


def test_a_failure_for_an_unknown_account_names_no_one(db, security_log):
    log_in("whatever", username="nobody-here")
    (event,) = security_log.events("auth.login")
    assert event["object"] == "user:unknown" and event["outcome"] == "failure"
    assert_no_personal_data(security_log.text, "nobody-here")
