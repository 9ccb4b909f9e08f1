"""Hostile input never answers 500: report periods past the calendar, JSON nested 100,000 levels
deep, NUL bytes and overflowing dates in the admin's lists and searches, a superuser's delete of
an append-only row, ids in other scripts' digits in admin URLs, and mail headers built from a
title holding CR/LF. Each answer is a clean page or a 4xx, and a refused request writes nothing.
Run on PostgreSQL too, where NUL bytes and overflowing dates reach the database."""

import email
import email.policy
from datetime import date

import pytest
from django.contrib import admin
from django.db import connection
from rest_framework.test import APIClient

from core.api.parsers import MAX_JSON_DEPTH
from core.append_only import APPEND_ONLY_TABLES
from reports.models import Report, Subscription
from tests.factories import (
    EngagementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    grant_consent,
    studio_staff,
)

pytestmark = pytest.mark.django_db

PERIOD = {"period_from": "2026-08-01", "period_to": "2026-08-31"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def world():
    meridian = StudioFactory(name="Meridian", slug="meridian")
    light = ProductionFactory(studio=meridian, title="The Long Light")
    ann = EngagementFactory(production=light, person__legal_name="Ann Actor")
    maya = studio_staff(meridian, "maya")
    maya.email = "maya@meridian.test"
    maya.save()
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    return {"meridian": meridian, "light": light, "ann": ann, "maya": maya, "root": root}


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_json_error(response, status=400, code=None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    if code is not None:
        assert body["code"] == code, body
    return body


# --- report periods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "period, field",
    [
        ({"period_from": "2026-08-01", "period_to": "9999-12-31"}, "period_to"),
        ({"period_from": "0001-01-01", "period_to": "2026-08-31"}, "period_from"),
        ({"period_from": "9999-12-31", "period_to": "9999-12-31"}, "period_from"),
        ({"period_from": "1900-01-01", "period_to": "2026-08-31"}, "period_from"),
        ({"period_from": "2000-01-01", "period_to": "2026-08-31"}, "period_to"),
    ],
)
def test_a_report_period_past_the_bounds_is_a_field_error_and_stores_nothing(world, period, field):
    response = api_as(world["maya"]).post(
        "/api/v1/reports/", {"production": world["light"].pk, **period}, format="json"
    )
    body = assert_json_error(response, 400)
    assert field in body["fields"], body
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    "period",
    [
        {"period_from": "2026-08-01", "period_to": "9999-12-31"},
        {"period_from": "0001-01-01", "period_to": "2026-08-31"},
        {"period_from": "2000-01-01", "period_to": "2026-08-31"},
    ],
)
def test_the_admins_run_a_report_now_refuses_a_period_past_the_bounds(world, client, period):
    client.force_login(world["maya"])
    response = client.post(
        "/admin/reports/report/run/", {"production": world["light"].pk, **period}
    )
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert Report.objects.count() == 0


def test_a_report_over_the_longest_period_allowed_is_still_made(world):
    response = api_as(world["maya"]).post(
        "/api/v1/reports/",
        {"production": world["light"].pk, "period_from": "2020-01-01", "period_to": "2029-12-31"},
        format="json",
    )
    assert response.status_code == 201, response.content[:300]


# --- JSON nested past the limit ---------------------------------------------------------------


def nested(depth: int, *, kind: str = "array") -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


DEEP_BODIES = {
    "arrays 100,000 deep": nested(100_000),
    "objects 100,000 deep": nested(100_000, kind="object"),
    "a field 100,000 deep": '{"title": ' + nested(100_000) + "}",
    "one level past the limit": '{"title": ' + nested(MAX_JSON_DEPTH) + "}",
}
BODY_ROUTES = [
    ("post", "/api/v1/productions/"),
    ("post", "/api/v1/people/"),
    ("post", "/api/v1/engagements/"),
    ("post", "/api/v1/reports/"),
    ("post", "/api/v1/report-subscriptions/"),
    ("post", "/api/v1/consents/"),
    ("post", "/api/v1/compensation/timecards/"),
    ("post", "/api/v1/compensation/quote/"),
    ("post", "/api/v1/payments/"),
    ("patch", "/api/v1/productions/{light}/"),
]


@pytest.mark.parametrize("method, url", BODY_ROUTES)
@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_json_nested_past_the_limit_is_a_400_on_every_endpoint(world, method, url, body):
    client = api_as(world["maya"])
    url = url.format(light=world["light"].pk)
    response = getattr(client, method)(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="deep-1"
    )
    assert_json_error(response, 400, "malformed_request")


def test_json_nested_to_the_limit_is_read(world):
    # A field nested exactly MAX_JSON_DEPTH levels (with the body's own object) reaches the
    # serializer, which names the field, instead of the parser refusing the body.
    body = '{"title": ' + nested(MAX_JSON_DEPTH - 1) + "}"
    response = api_as(world["maya"]).post(
        "/api/v1/productions/", body, content_type="application/json"
    )
    body = assert_json_error(response, 400)
    assert body["code"] != "malformed_request" and "title" in body["fields"], body


def test_the_admins_json_inputs_refuse_json_nested_past_the_limit():
    from django.core.exceptions import ValidationError

    from core.api.parsers import JSONFormField
    from ledger.access.admin import ScopedAdminMixin

    checked = 0
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, ScopedAdminMixin):
            continue
        for field in model._meta.concrete_fields:
            if field.get_internal_type() == "JSONField":
                form_field = model_admin.formfield_for_dbfield(field, request=None)
                assert isinstance(form_field, JSONFormField), (model, field.name)
                checked += 1
    assert checked
    for text in (nested(100_000), nested(MAX_JSON_DEPTH + 1)):
        with pytest.raises(ValidationError):
            JSONFormField().clean(text)
    assert JSONFormField().clean(nested(3)) == [[[]]]


# --- the admin's lists and searches -----------------------------------------------------------


def admin_client(client, user):
    client.force_login(user)
    return client


def assert_clean_list(response):
    """A list page, or Django's own "?e=1" redirect for lookups it cannot use; never a 500."""
    assert response.status_code in (200, 302), (response.status_code, response.content[:300])
    if response.status_code == 302:
        assert response["Location"].endswith("?e=1"), response["Location"]


@pytest.mark.parametrize("who", ["root", "maya"])
@pytest.mark.parametrize(
    "model_name, field_name",
    [("engagement", "person"), ("engagement", "production"), ("person", "registered_by")],
)
def test_an_autocomplete_search_for_a_nul_byte_finds_nothing(
    world, client, who, model_name, field_name
):
    response = admin_client(client, world[who]).get(
        "/admin/autocomplete/",
        {"app_label": "ledger", "model_name": model_name, "field_name": field_name, "term": "\x00"},
    )
    assert response.status_code == 200, response.content[:300]
    assert response.json()["results"] == []


ADMIN_PAGES = sorted(admin.site._registry, key=lambda model: model._meta.label)
HOSTILE_LOOKUPS = {
    "search for NUL": {"q": "a\x00b"},
    "NUL in a lookup": {"id": "\x00"},
    "an invalid pattern": {"id__regex": "["},
    "a number past 64 bits": {"id__gt": "99999999999999999999999"},
}


@pytest.mark.parametrize("query", HOSTILE_LOOKUPS.values(), ids=HOSTILE_LOOKUPS.keys())
@pytest.mark.parametrize("model", ADMIN_PAGES, ids=lambda model: model._meta.label)
def test_every_admin_list_answers_hostile_lookups_cleanly(world, client, model, query):
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    assert_clean_list(admin_client(client, world["root"]).get(url, query))


@pytest.mark.parametrize(
    "query",
    [
        {"generated_at__year": "99999999999"},
        {"generated_at__year": "99999999999", "generated_at__month": "1"},
        {"generated_at__year__gt": "99999999999"},
        {"generated_at__month": "99999999999"},
        {"generated_at__day": "99999999999"},
        {"generated_at__hour": "99999999999"},
        {"generated_at__date": "99999-01-01"},
        {"generated_at__gte": "99999-01-01"},
        {"period_to__year": "99999999999"},
        {"period_to__iso_year": "-99999999999"},
        {"scope_kind": "\x00"},
        {"sha256__regex": "(("},
        {"counts__has_key": "\x00"},
    ],
)
def test_date_lookups_that_overflow_answer_the_list_cleanly(world, client, query):
    assert_clean_list(admin_client(client, world["root"]).get("/admin/reports/report/", query))
    assert_clean_list(admin_client(client, world["maya"]).get("/admin/reports/report/", query))


def test_after_a_refused_lookup_the_list_still_works(world, client):
    page = admin_client(client, world["maya"])
    assert_clean_list(page.get("/admin/reports/report/", {"generated_at__year": "99999999999"}))
    assert page.get("/admin/reports/report/").status_code == 200


@pytest.mark.parametrize("value", ["²", "٢١", "1²", "abc", "-1", "99999999999999999999999"])
def test_ids_in_admin_query_strings_are_ascii_digits(world, client, value):
    consent = grant_consent(world["ann"])
    page = admin_client(client, world["maya"])
    response = page.get(f"/admin/reports/consentreceipt/{consent.pk}/pdf/", {"event": value})
    assert response.status_code == 404
    assert page.get("/admin/reports/flag/", {"production": value}).status_code == 200
    assert page.get("/admin/consent/consent/", {"expiring": value}).status_code == 200


# --- append-only rows are never offered for deletion ------------------------------------------


def delete_refusing_tables() -> set[str]:
    """The tables with a trigger that refuses DELETE as append-only (its message begins
    `append_only:`), as the database itself says."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT c.relname FROM pg_trigger t"
                " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid"
                " WHERE NOT t.tgisinternal AND (t.tgtype & 8) <> 0"
                " AND p.prosrc LIKE '%append_only:%'"
            )
        else:
            cursor.execute(
                "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger'"
                " AND upper(sql) LIKE '%BEFORE DELETE%' AND sql LIKE '%append_only:%'"
            )
        return {row[0] for row in cursor.fetchall()}


def test_the_list_of_append_only_tables_is_the_databases():
    assert delete_refusing_tables() == set(APPEND_ONLY_TABLES)


APPEND_ONLY_ADMINS = [model for model in ADMIN_PAGES if model._meta.db_table in APPEND_ONLY_TABLES]


def superuser_request(rf, user):
    request = rf.get("/admin/")
    request.user = user
    return request


def test_every_append_only_model_has_an_admin_checked_here():
    assert len(APPEND_ONLY_ADMINS) >= 15, [m._meta.label for m in APPEND_ONLY_ADMINS]


@pytest.mark.parametrize("model", APPEND_ONLY_ADMINS, ids=lambda model: model._meta.label)
def test_no_admin_offers_to_delete_an_append_only_row(world, rf, model):
    model_admin = admin.site._registry[model]
    request = superuser_request(rf, world["root"])
    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_delete_permission(request, model())
    assert "delete_selected" not in model_admin.get_actions(request)


def test_no_inline_offers_to_delete_an_append_only_row(world, rf):
    request = superuser_request(rf, world["root"])
    seen = 0
    for model_admin in admin.site._registry.values():
        for inline in model_admin.get_inline_instances(request):
            if inline.model._meta.db_table in APPEND_ONLY_TABLES:
                seen += 1
                assert not (inline.can_delete and inline.has_delete_permission(request)), inline
    assert seen


def test_a_superuser_cannot_delete_a_stored_report_or_a_consent(world, client):
    from reports.compliance import Target
    from reports.services import report_generate

    report, _ = report_generate(
        target=Target.of(world["light"]),
        period_from=date(2026, 8, 1),
        period_to=date(2026, 8, 31),
        origin=Report.Origin.ON_DEMAND,
        actor=world["root"],
    )
    consent = grant_consent(world["ann"])
    page = admin_client(client, world["root"])
    for url in (
        f"/admin/reports/report/{report.pk}/delete/",
        f"/admin/consent/consent/{consent.pk}/delete/",
    ):
        assert page.get(url).status_code == 403
        assert page.post(url, {"post": "yes"}).status_code == 403
    response = page.post(
        "/admin/reports/report/",
        {"action": "delete_selected", "_selected_action": [report.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert Report.objects.filter(pk=report.pk).exists()
    assert type(consent).objects.filter(pk=consent.pk).exists()


# --- mail headers -----------------------------------------------------------------------------

HOSTILE_TITLE = "Evil\r\nBcc: spy@evil.test\r\nX-Injected: 1\u2028Subject: more\x0b"


@pytest.fixture
def hostile_world(world):
    world["light"].title = HOSTILE_TITLE
    world["light"].save()
    Subscription.objects.create(user=world["maya"], studio=world["meridian"], active=True)
    return world


def assert_one_safe_message(mailoutbox):
    """One message, to the subscriber only, whose headers are the ones the product set: the
    title's CR/LF started none of its own."""
    (message,) = mailoutbox
    assert message.recipients() == ["maya@meridian.test"]
    assert message.bcc == []
    assert "Evil Bcc: spy@evil.test X-Injected: 1 Subject: more" in message.subject
    assert not any(ch in message.subject for ch in "\r\n\x0b\u2028")
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    assert "Bcc" not in parsed and "X-Injected" not in parsed
    assert parsed.get_all("Subject") == [message.subject]


def test_a_title_holding_crlf_cannot_add_mail_headers(hostile_world, mailoutbox):
    response = api_as(hostile_world["maya"]).post(
        "/api/v1/reports/",
        {"production": hostile_world["light"].pk, "send": True, **PERIOD},
        format="json",
    )
    assert response.status_code == 201, response.content[:300]
    assert response.json()["delivery"] == {"status": "sent", "sent": 1}
    assert response.json()["id"] == Report.objects.get().pk
    assert_one_safe_message(mailoutbox)


def test_the_admins_run_now_sends_with_safe_headers(hostile_world, client, mailoutbox):
    response = admin_client(client, hostile_world["maya"]).post(
        "/admin/reports/report/run/",
        {"production": hostile_world["light"].pk, "send": "on", **PERIOD},
    )
    assert response.status_code == 302, response.content[:300]
    assert_one_safe_message(mailoutbox)


@pytest.fixture
def mail_server_down(monkeypatch):
    import smtplib

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)


def test_when_mail_fails_the_answer_is_the_stored_report_with_its_delivery(
    hostile_world, mail_server_down
):
    response = api_as(hostile_world["maya"]).post(
        "/api/v1/reports/",
        {"production": hostile_world["light"].pk, "send": True, **PERIOD},
        format="json",
    )
    assert response.status_code == 201, response.content[:300]
    body = response.json()
    assert body["delivery"] == {"status": "failed", "sent": 0}
    assert body["id"] == Report.objects.get().pk
    assert not Report.objects.get().deliveries.exists()


def test_when_mail_fails_the_admin_says_so_and_keeps_the_report(
    hostile_world, client, mail_server_down
):
    response = admin_client(client, hostile_world["maya"]).post(
        "/admin/reports/report/run/",
        {"production": hostile_world["light"].pk, "send": "on", **PERIOD},
        follow=True,
    )
    assert response.status_code == 200
    assert b"could not send it" in response.content
    assert Report.objects.count() == 1


def test_without_send_the_answer_says_nothing_was_sent(world, mailoutbox):
    response = api_as(world["maya"]).post(
        "/api/v1/reports/", {"production": world["light"].pk, **PERIOD}, format="json"
    )
    assert response.json()["delivery"] == {"status": "not_requested", "sent": 0}
    assert mailoutbox == []


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Report\r\nBcc: x@evil.test", "Report Bcc: x@evil.test"),
        ("a\nb\rc\x00d\x0be\x1cf\x85g\u2028h\u2029i", "a b c d e f g h i"),
        ("  plain   title ", "plain title"),
        ("x" * 300, "x" * 199 + "…"),
    ],
)
def test_mail_header_text_is_one_line(value, expected):
    from core.mail import header_text

    assert header_text(value) == expected


def test_every_mail_is_built_by_the_one_safe_builder():
    # Messages are made only by core.mail.message (which sanitises the subject).
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    pattern = re.compile(r"\b(EmailMessage|EmailMultiAlternatives|send_mail|send_mass_mail)\(")
    offenders = [
        str(path.relative_to(root))
        for app in ("ledger", "consent", "compensation", "reports", "privacy", "config")
        for path in (root / app).rglob("*.py")
        if pattern.search(path.read_text()) and path != root / "ledger" / "mail.py"
    ]
    assert offenders == []


def test_every_admin_page_has_the_lookup_guard():
    from core.admin.base import SafeLookupsMixin

    assert [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, SafeLookupsMixin)
    ] == []


def test_when_mail_fails_a_receipt_send_is_a_clear_error_that_records_nothing(
    world, mail_server_down
):
    from reports.models import ReceiptDelivery

    consent = grant_consent(world["ann"], actor=world["maya"])
    person = world["ann"].person
    person.email = "ann@example.test"
    person.save()
    response = api_as(world["maya"]).post(f"/api/v1/receipts/{consent.pk}/send/", {}, format="json")
    assert_json_error(response, 503, "mail_unavailable")
    assert not ReceiptDelivery.objects.exists()
