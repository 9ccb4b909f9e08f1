"""Consent requests in the staff admin: the list and the add form for the studio's staff, a
refused draft's failing rules with nothing written, the "Check" step (the notice clock and the
findings, nothing saved), the read-only page with Send, Send a reminder and Withdraw through the
services, and guild staff who read without buttons. Scoped like the API."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from consent import requests
from consent.models import ConsentRequest
from ledger.access import Scope
from tests.consent.test_consent_requests_api import (
    RefusingMailBackend,
    all_rows,
    token_of,
)
from tests.factories import (
    SPECIFIC,
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    guild_staff,
    studio_staff,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 7, 1, 9, tzinfo=UTC)
ADD = "admin:consent_consentrequest_add"
LIST = "admin:consent_consentrequest_changelist"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def world():
    meridian = StudioFactory(name="Meridian", slug="meridian")
    northgate = StudioFactory(name="Northgate", slug="northgate")
    ann = EngagementFactory(
        production=ProductionFactory(studio=meridian, title="Night Shift"),
        person=PersonFactory(
            legal_name="Ann Example", email="ann@example.com", registered_by=meridian
        ),
        agreement=agreement("sag-tvth-2026"),
        start_date=date(2026, 7, 6),
    )
    return {
        "ann": ann,
        "maya": studio_staff(meridian, "maya"),
        "otto": studio_staff(northgate, "otto"),
        "gina": guild_staff("sag-aftra", "gina"),
    }


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_body(world, **overrides) -> dict:
    """A 2026 scan request as the add form sends it: specific, with a business reason."""
    ann = world["ann"]
    body = {
        "person": ann.person_id,
        "production": ann.production_id,
        "kind": "replica_creation",
        "description": SPECIFIC,
        "term_from": "2026-07-01",
        "term_to": "2027-06-30",
        "business_reason": "Stunt double for the fall in episode 4",
        "represented_by": "none",
        "bargained_currency": "USD",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def prepared(world, **overrides) -> ConsentRequest:
    ann = world["ann"]
    values = {
        "kind": "replica_creation",
        "description": SPECIFIC,
        "term_from": date(2026, 7, 1),
        "business_reason": "Stunt double for the fall in episode 4",
        **overrides,
    }
    return requests.request_prepare(
        actor=world["maya"],
        scope=Scope(superuser=True),
        person=ann.person,
        production=ann.production,
        **values,
    )


def change_url(request) -> str:
    return reverse("admin:consent_consentrequest_change", args=[request.pk])


def move_url(request, move) -> str:
    return reverse(f"admin:consent_consentrequest_{move}", args=[request.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- the list and the add form ----------------------------------------------------------------


def test_studio_staff_see_the_list_with_the_effective_status(world, clock, settings):
    sent = prepared(world)
    requests.request_send(actor=world["maya"], scope=Scope(superuser=True), request=sent)
    draft = prepared(world, scenes="Episode 4")
    maya = client_of(world["maya"])
    page = maya.get(reverse(LIST))
    assert page.status_code == 200
    text = page.content.decode()
    assert "badge-sent" in text and "badge-draft" in text
    assert "1 Jul 2026, 09:00 UTC" in text
    clock.shift(timedelta(days=settings.CONSENT_REQUEST_LINK_DAYS, hours=1))
    maya = client_of(world["maya"])  # a new session: the first one has expired by now
    text = maya.get(reverse(LIST)).content.decode()
    assert "badge-expired" in text and "badge-sent" not in text
    expired = maya.get(reverse(LIST), {"status": "expired"})
    assert [r.pk for r in expired.context["cl"].result_list] == [sent.pk]
    drafts = maya.get(reverse(LIST), {"status": "draft"})
    assert [r.pk for r in drafts.context["cl"].result_list] == [draft.pk]
    found = maya.get(reverse(LIST), {"q": "Ann Example"})
    assert {r.pk for r in found.context["cl"].result_list} == {sent.pk, draft.pk}


def test_another_studios_staff_see_neither_the_request_nor_its_page(world):
    request = prepared(world)
    otto = client_of(world["otto"])
    assert list(otto.get(reverse(LIST)).context["cl"].result_list) == []
    assert otto.get(change_url(request)).status_code == 404
    assert otto.post(move_url(request, "send")).status_code == 404
    assert mail.outbox == []


def test_studio_staff_prepare_a_request_through_the_add_form(world):
    maya = client_of(world["maya"])
    form = maya.get(reverse(ADD))
    assert form.status_code == 200
    assert 'id="check-request-button"' in form.content.decode()
    response = maya.post(reverse(ADD), form_body(world))
    assert response.status_code == 302, response.content.decode()[:3000]
    request = ConsentRequest.objects.get()
    assert response["Location"] == change_url(request)
    assert (request.status, request.agreement.code, request.created_by) == (
        "draft",
        "sag-tvth-2026",
        world["maya"],
    )
    assert request.history.get().history_user == world["maya"]
    assert mail.outbox == []


def test_a_refused_draft_lists_its_failing_rules_and_writes_nothing(world):
    before = all_rows()
    response = client_of(world["maya"]).post(reverse(ADD), form_body(world, business_reason=None))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="failing-rules"' in page
    assert 'data-rule="sag.consent.scan_reason"' in page
    assert "nothing was saved" in page
    assert all_rows() == before


def test_a_negative_bargained_amount_is_refused_as_the_api_refuses_it(world):
    before = all_rows()
    response = client_of(world["maya"]).post(
        reverse(ADD), form_body(world, bargained_amount="-1500.00")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["bargained_amount"]
    assert all_rows() == before


def test_the_check_shows_the_notice_clock_and_the_findings_and_saves_nothing(world):
    before = all_rows()
    response = client_of(world["maya"]).post(
        reverse(ADD), {**form_body(world, business_reason=None), "_check": "Check"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "If sent now, notice is given at <strong>1 Jul 2026, 09:00 UTC</strong>" in page
    assert "a scan may take place from <strong>3 Jul 2026, 09:00 UTC</strong>" in page
    assert 'class="finding-failed" data-rule="sag.consent.scan_reason"' in page
    assert 'class="finding-passed" data-rule="sag.consent.specific"' in page
    assert 'id="failing-rules"' not in page
    assert all_rows() == before


def test_an_open_ended_draft_shows_its_warning_on_the_check(world):
    response = client_of(world["maya"]).post(
        reverse(ADD), {**form_body(world, term_to=None), "_check": "Check"}
    )
    page = response.content.decode()
    assert 'id="request-warnings"' in page and 'data-rule="law.us.no_fakes"' in page
    assert "review-ok" in page


# --- the request's page -------------------------------------------------------------------------


def test_the_page_is_read_only_and_shows_the_clock_and_the_signer(world):
    request = prepared(world, bargained_amount=Decimal("1500.00"))
    response = client_of(world["maya"]).get(change_url(request))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="description"' not in page and 'name="_save"' not in page
    assert "If sent now, notice is given at" in page
    assert "Ann Example (themselves) — ann@example.com" in page
    assert "1,500.00 USD" in page
    assert 'id="send-request"' in page and 'id="withdraw-request"' in page
    assert 'id="remind-request"' not in page
    assert "deletelink" not in page
    assert "{&quot;" not in page and '{"' not in page


def test_send_remind_and_withdraw_work_from_the_page_with_messages(world, clock):
    request = prepared(world)
    maya = client_of(world["maya"])

    response = maya.post(move_url(request, "send"), follow=True)
    assert f"Consent request #{request.pk}: sent to ann@example.com" in messages_of(response)
    assert ConsentRequest.objects.get(pk=request.pk).status == "sent"
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    page = response.content.decode()
    assert "Notice was given at <strong>1 Jul 2026, 09:00 UTC</strong>" in page
    assert 'id="send-request"' not in page and 'id="remind-request"' in page

    response = maya.post(move_url(request, "send"), follow=True)
    assert response.status_code == 200
    assert any("already sent" in m for m in messages_of(response))
    assert len(mail.outbox) == 1

    clock.shift(timedelta(days=1))
    first = token_of(mail.outbox[0])
    response = maya.post(move_url(request, "remind"), follow=True)
    assert any("a reminder was sent" in m for m in messages_of(response))
    assert len(mail.outbox) == 2
    assert requests.open_link(first) is None

    response = maya.post(move_url(request, "withdraw"), follow=True)
    assert any("withdrawn" in m for m in messages_of(response))
    stored = ConsentRequest.objects.get(pk=request.pk)
    assert stored.status == "withdrawn" and stored.token_hash is None
    assert 'id="withdraw-request"' not in response.content.decode()


def test_a_move_is_a_post_with_csrf(world):
    request = prepared(world)
    maya = client_of(world["maya"])
    assert maya.get(move_url(request, "send")).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world["maya"])
    assert strict.post(move_url(request, "send")).status_code == 403
    assert ConsentRequest.objects.get(pk=request.pk).status == "draft"
    assert mail.outbox == []


def test_a_refusal_of_the_service_is_a_message_not_an_error_page(world, settings):
    request = prepared(world)
    settings.EMAIL_BACKEND = f"{RefusingMailBackend.__module__}.RefusingMailBackend"
    response = client_of(world["maya"]).post(move_url(request, "send"), follow=True)
    assert response.status_code == 200
    assert any("mail server could not send" in m for m in messages_of(response))
    assert ConsentRequest.objects.get(pk=request.pk).status == "draft"


def test_a_signed_request_links_its_consent(world):
    request = prepared(world)
    requests.request_send(actor=world["maya"], scope=Scope(superuser=True), request=request)
    consent = requests.request_sign(
        token=token_of(mail.outbox[0]),
        signature=requests.Signature(
            name="Ann Example", confirmed=True, initials={}, client_digest="0" * 64
        ),
        document=b"%PDF-1.4 shown",
        shown={"request": request.pk},
    )
    page = client_of(world["maya"]).get(change_url(request)).content.decode()
    assert 'id="signed-consent"' in page
    assert reverse("admin:consent_consent_change", args=[consent.pk]) in page
    assert 'id="withdraw-request"' not in page and 'id="remind-request"' not in page


def test_a_declined_request_shows_the_reason(world):
    request = prepared(world)
    requests.request_send(actor=world["maya"], scope=Scope(superuser=True), request=request)
    requests.request_decline(token=token_of(mail.outbox[0]), reason="Not for this role.")
    page = client_of(world["maya"]).get(change_url(request)).content.decode()
    assert "Not for this role." in page and "badge-declined" in page


# --- guild staff --------------------------------------------------------------------------------


def test_guild_staff_read_the_request_without_buttons_and_cannot_move_it(world):
    request = prepared(world)
    gina = client_of(world["gina"])
    listed = gina.get(reverse(LIST))
    assert [r.pk for r in listed.context["cl"].result_list] == [request.pk]
    page = gina.get(change_url(request))
    assert page.status_code == 200
    text = page.content.decode()
    for move in ("send", "remind", "withdraw"):
        assert f'id="{move}-request"' not in text
        assert gina.post(move_url(request, move)).status_code == 403
    assert gina.get(reverse(ADD)).status_code == 403
    assert ConsentRequest.objects.get(pk=request.pk).status == "draft"
    assert mail.outbox == []


def test_nobody_deletes_a_request(world):
    request = prepared(world)
    admin_user = UserFactory(username="root", is_superuser=True)
    response = client_of(admin_user).get(
        reverse("admin:consent_consentrequest_delete", args=[request.pk])
    )
    assert response.status_code == 403
    assert ConsentRequest.objects.filter(pk=request.pk).exists()
