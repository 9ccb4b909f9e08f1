"""The security event log: one JSON line per event, exactly the documented fields, UTC time, no
personal data, no way to inject a line; and each kind of event where it happens (API refusals,
idempotency conflicts, tampering, API keys made and revoked)."""

import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils.crypto import salted_hmac
from rest_framework.test import APIClient

from core.api.scopes import PAYABLES_READ, PAYMENTS_WRITE
from core.security import events as security
from core.security.events import security_event
from ledger.journal.verify import verify_chain
from ledger.models import PayrollKey
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    grant_consent,
    payroll_key,
    studio_staff,
)
from tests.helpers import make_payable
from tests.ledger.conftest_journal import run_sql
from tests.ledger.test_verify_ledger import triggers_off
from tests.security.conftest import assert_no_personal_data

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 5, 4, 13, 7, 9, 250000, tzinfo=UTC)


# --- the line ------------------------------------------------------------------------------


def test_an_event_is_one_json_line_with_exactly_its_fields(security_log):
    with time_machine.travel(MOMENT, tick=False):
        returned = security_event(
            "api.authorization", actor="user:7", object="endpoint:payment-list",
            outcome="denied", method="POST", status=403,
        )  # fmt: skip
    assert security_log.text.count("\n") == 1
    line = security_log.text.rstrip("\n")
    assert line == (
        '{"time":"2026-05-04T13:07:09.250Z","action":"api.authorization","actor":"user:7",'
        '"object":"endpoint:payment-list","outcome":"denied","method":"POST","status":403}'
    )
    assert returned == {k: v for k, v in security_log.events()[0].items() if k != "time"}


def test_the_time_is_utc_whatever_the_local_zone(security_log, settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    with time_machine.travel(MOMENT, tick=False):
        security_event("auth.login", actor="anonymous", object="user:unknown", outcome="failure")
    (event,) = security_log.events()
    assert event["time"] == "2026-05-04T13:07:09.250Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["time"])


def test_a_value_cannot_forge_a_second_line(security_log):
    forged = 'x"}\n{"time":"2026-01-01T00:00:00.000Z","action":"auth.login","outcome":"success"}'
    security_event(
        "api.authentication", actor="anonymous", object="endpoint:unknown", outcome="failure",
        code=forged + "\r\u2028\x00",
    )  # fmt: skip
    assert security_log.text.count("\n") == 1
    (event,) = security_log.events()
    assert event["code"] == forged + "\r\u2028\x00"  # kept, escaped, on its own single line
    assert "\u2028" not in security_log.text and "\x00" not in security_log.text


def test_long_values_are_cut(security_log):
    security_event(
        "api.throttled", actor="system", object="endpoint:x", outcome="denied", code="a" * 500
    )
    assert security_log.events()[0]["code"] == "a" * 200


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"actor": "maya.lopez"}, ValueError),  # a username is not an actor id
        ({"actor": "user:7\n"}, ValueError),
        ({"object": "maya.lopez@example.com"}, ValueError),
        ({"object": "consent:1 forged"}, ValueError),
        ({"outcome": "ok"}, ValueError),
        ({"time": "yesterday"}, ValueError),  # reserved field
        ({"detail": {"nested": 1}}, TypeError),  # only scalars
        ({"detail": ["a"]}, TypeError),
    ],
)
def test_malformed_events_are_refused(security_log, kwargs, error):
    fields = {"actor": "system", "object": "consent:1", "outcome": "detected", **kwargs}
    with pytest.raises(error):
        security_event("evidence.tamper_detected", **fields)
    assert security_log.text == ""


def test_actors_and_objects_from_models():
    user = UserFactory()
    key, _ = payroll_key(StudioFactory(), name="vendor")
    assert security.actor_id(user) == f"user:{user.pk}"
    assert security.actor_id(key) == f"api_key:{key.prefix}"
    assert security.actor_id(None) == "anonymous"
    assert security.object_id(user) == f"user:{user.pk}"


def test_the_client_is_a_keyed_hash_of_the_address(settings):
    from django.test import RequestFactory

    request = RequestFactory(REMOTE_ADDR="203.0.113.7").get("/")
    expected = salted_hmac("guild_ledger.security.client", "203.0.113.7").hexdigest()[:16]
    assert security.client_hash(request) == expected
    settings.SECRET_KEY = "another-secret-another-secret-another-secret-0123"
    assert security.client_hash(request) != expected  # not a plain hash anyone can reverse


def test_behind_trusted_proxies_the_address_is_the_one_they_saw(settings):
    from django.test import RequestFactory

    request = RequestFactory(
        REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.1"
    ).get("/")
    assert security.client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 2
    assert security.client_ip(request) == "203.0.113.7"  # the forged left-most hop is ignored


# --- API refusals --------------------------------------------------------------------------


@pytest.fixture
def world():
    studio = StudioFactory(slug="alpha")
    engagement = EngagementFactory(production=ProductionFactory(studio=studio))
    payable = make_payable(production=engagement.production, person=engagement.person)
    key, raw = payroll_key(studio, name="vendor")
    key.scopes = [PAYABLES_READ, PAYMENTS_WRITE]
    key.save()
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return {"studio": studio, "payable": payable, "key": key, "raw": raw, "client": client}


def test_a_scope_refusal_is_logged_with_the_scope(world, security_log):
    response = world["client"].get("/api/v1/payments/")
    assert response.status_code == 403
    (event,) = security_log.events()
    assert {k: v for k, v in event.items() if k != "time"} == {
        "action": "api.authorization",
        "actor": f"api_key:{world['key'].prefix}",
        "object": "endpoint:payment-list",
        "outcome": "denied",
        "method": "GET",
        "status": 403,
        "code": "scope_missing",
        "client": salted_hmac("guild_ledger.security.client", "203.0.113.7").hexdigest()[:16],
        "scope": "payments:read",
    }


def test_a_bad_key_and_a_missing_login_are_logged_as_failed_authentication(db, security_log):
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Api-Key abcdefgh.nope")
    assert bad.get("/api/v1/payables/").status_code == 401
    assert APIClient().get("/api/v1/payables/").status_code == 401
    events = security_log.events("api.authentication")
    assert [(e["actor"], e["outcome"], e["code"], e["status"]) for e in events] == [
        ("anonymous", "failure", "authentication_failed", 401),
        ("anonymous", "failure", "not_authenticated", 401),
    ]
    assert "abcdefgh" not in security_log.text  # not even the key's made-up prefix


def test_a_staff_refusal_names_the_user_by_id_only(db, security_log):
    user = UserFactory(username="sam.guild", email="sam@guild.example", first_name="Sam")
    from ledger.models import GuildStaff
    from tests.factories import guild

    GuildStaff.objects.create(user=user, guild=guild("sag-aftra"))
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/studios/", {"name": "X", "slug": "x"}, format="json")
    assert response.status_code == 403
    (event,) = security_log.events()
    assert (event["action"], event["actor"], event["code"]) == (
        "api.authorization",
        f"user:{user.pk}",
        "permission_denied",
    )
    assert_no_personal_data(security_log.text, "sam.guild", "sam@guild.example", "Sam")


def test_out_of_scope_404s_are_not_logged(world, security_log):
    other = make_payable(production=ProductionFactory(), person=PersonFactory())
    assert world["client"].get(f"/api/v1/payables/{other.pk}/").status_code == 404
    assert security_log.text == ""


# --- idempotency conflicts -----------------------------------------------------------------


def test_a_reused_idempotency_key_is_logged(world, security_log):
    from ledger.models import IdempotencyRecord

    body = {
        "payable": world["payable"].pk,
        "amount": "10.00",
        "paid_at": "2025-06-21T12:00:00Z",
        "payroll_reference": "ACME-1",
    }
    pay = world["client"].post
    assert (
        pay("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k\n1").status_code
        == 201
    )
    assert (
        pay("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k\n1").status_code
        == 201
    )
    assert security_log.text == ""  # a faithful retry is no event
    changed = {**body, "amount": "20.00"}
    response = pay("/api/v1/payments/", changed, format="json", HTTP_IDEMPOTENCY_KEY="k\n1")
    assert response.status_code == 422
    (event,) = security_log.events()
    record = IdempotencyRecord.objects.get()
    assert {k: v for k, v in event.items() if k != "time"} == {
        "action": "payment.idempotency_conflict",
        "actor": f"api_key:{world['key'].prefix}",
        "object": f"idempotencyrecord:{record.pk}",
        "outcome": "denied",
        "code": "idempotency_key_reused",
    }


# --- tampering -----------------------------------------------------------------------------


def test_a_broken_chain_is_logged_once_per_check(chain, security_log):
    from ledger.models import Posting

    target = chain[3]
    posting = Posting.objects.filter(transaction=target).order_by("id").first()
    assert verify_chain().ok and security_log.text == ""
    with triggers_off("ledger_posting", "UPDATE"):
        run_sql(
            "UPDATE ledger_posting SET amount = %s WHERE id = %s",
            [str(posting.amount + Decimal("0.01")), posting.pk],
        )
    with pytest.raises(SystemExit):
        call_command("verify_ledger", stdout=io.StringIO(), stderr=io.StringIO())
    (event,) = security_log.events()
    assert {k: v for k, v in event.items() if k != "time"} == {
        "action": "ledger.tamper_detected",
        "actor": "system",
        "object": f"journaltransaction:{target.pk}",
        "outcome": "detected",
        "seq": target.seq,
        "reason": "the transaction or its postings changed after they were written",
    }


def test_changed_or_missing_evidence_is_logged(settings, tmp_path, security_log):
    from pathlib import Path

    from consent.evidence import evidence_problems

    settings.MEDIA_ROOT = str(tmp_path)
    engagement = EngagementFactory()
    changed, missing = grant_consent(engagement), grant_consent(engagement, kind="replica_use")
    assert evidence_problems()[1] == [] and security_log.text == ""
    Path(changed.evidence.path).write_bytes(b"%PDF-1.4 a different document")
    Path(missing.evidence.path).unlink()
    evidence_problems()
    events = security_log.events("evidence.tamper_detected")
    assert [(e["object"], e["problem"], e["actor"], e["outcome"]) for e in events] == [
        (f"consent:{changed.pk}", "hash_mismatch", "system", "detected"),
        (f"consent:{missing.pk}", "missing", "system", "detected"),
    ]


# --- API keys made and revoked -------------------------------------------------------------


def test_create_api_key_logs_the_key_by_prefix_once_committed(
    db, security_log, django_capture_on_commit_callbacks
):
    StudioFactory(slug="alpha")
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command(
            "create_api_key", "--studio", "alpha", "--name", "Acme Payroll",
            "--scope", "payables:read", "--expires", "2099-01-01", stdout=out,
        )  # fmt: skip
    assert len(callbacks) == 1
    raw = out.getvalue().strip().splitlines()[-1]
    key = PayrollKey.objects.get()
    (event,) = security_log.events()
    assert {k: v for k, v in event.items() if k != "time"} == {
        "action": "api_key.created",
        "actor": f"user:{UserFactory._meta.model.objects.get(username='system').pk}",
        "object": f"api_key:{key.prefix}",
        "outcome": "success",
        "scopes": "payables:read",
        "expires": "2099-01-01T00:00:00+00:00",
    }
    secret = raw.partition(".")[2]
    assert_no_personal_data(security_log.text, secret, key.hashed_key, "Acme Payroll")


def test_the_admin_logs_creation_and_revocation(
    db, client, security_log, django_capture_on_commit_callbacks
):
    studio = StudioFactory(slug="alpha")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    owner = UserFactory(username="vendor-bot")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/ledger/payrollkey/add/",
            {"name": "vendor", "owner": owner.pk, "studios": [studio.pk],
             "scopes": [PAYABLES_READ]},
        )  # fmt: skip
    assert response.status_code == 302
    key = PayrollKey.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/ledger/payrollkey/{key.prefix}/change/",
            {"name": "vendor", "owner": owner.pk, "studios": [studio.pk],
             "scopes": [PAYABLES_READ, PAYMENTS_WRITE], "revoked": "on"},
        )  # fmt: skip
    assert response.status_code == 302, response.content[:2000]
    events = [
        (e["action"], e["actor"], e["object"])
        for e in security_log.events()
        if e["action"].startswith("api_key.")  # force_login above is an auth.login event
    ]
    expected_key = f"api_key:{key.prefix}"
    assert events == [
        ("api_key.created", f"user:{root.pk}", expected_key),
        ("api_key.revoked", f"user:{root.pk}", expected_key),
        ("api_key.changed", f"user:{root.pk}", expected_key),
    ]
    assert security_log.events("api_key.changed")[0]["fields"] == "scopes"


def test_a_rolled_back_key_is_never_logged(db, security_log):
    from django.db import transaction

    from ledger.payroll.keys import payroll_key_create

    studio, owner = StudioFactory(), UserFactory()
    with transaction.atomic():
        payroll_key_create(
            actor=owner, name="x", owner=owner, studios=[studio], scopes=[PAYABLES_READ]
        )
        transaction.set_rollback(True)
    assert security_log.text == ""


def test_staff_logins_are_logged(db, client, security_log):
    from tests.factories import StudioFactory as Studios

    user = studio_staff(Studios(), "staff-a")
    user.set_password("pw-for-the-test")
    user.save()
    assert (
        client.post(
            "/admin/login/", {"username": "staff-a", "password": "pw-for-the-test"}
        ).status_code
        == 302
    )
    (event,) = security_log.events("auth.login")
    assert (event["actor"], event["outcome"]) == (f"user:{user.pk}", "success")
    assert_no_personal_data(security_log.text, "staff-a", "pw-for-the-test")
