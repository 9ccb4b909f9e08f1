"""Consent requests over REST and through their services: a draft checked in full before it is
kept, sending a single-use link to whoever signs (the person, or their representative) with only
the link's SHA-256 stored, opening, reminding, withdrawing and expiring links, signing (a consent
recorded with the document shown as its evidence, and a signature record kept for good) and
declining. Scoped like the consents they would produce."""

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.db import DatabaseError, IntegrityError, connection, transaction
from rest_framework.test import APIClient

from consent import requests
from consent.models import Consent, ConsentRequest, ConsentSignature
from core.errors import DomainError, NotFound
from ledger.access import Scope
from tests.consent.helpers import counts
from tests.factories import (
    SPECIFIC,
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    guild_staff,
    payroll_key,
    studio_staff,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/consent-requests/"
NOW = datetime(2026, 7, 1, 9, tzinfo=UTC)
PDF = b"%PDF-1.4 the consent as shown on the signing page"


# --- the signing page's address ---------------------------------------------------------------
# The signing page (its url name `consent-request-sign`) belongs to the person-facing app. Where
# it is not mounted, these tests serve the project's urls plus a placeholder of that name, so
# that the links sent can be built and read.


class RefusingMailBackend:
    """A mail server that cannot be reached."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("Connection refused")


# --- the world ----------------------------------------------------------------------------------


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
    """Meridian's `Night Shift` under SAG-AFTRA 2026, Ann engaged with her address on record,
    Dora (deceased, with a representative), Milo (a minor, with a guardian) and Nora (no
    address); Northgate's film with Nell; Maya of Meridian, Otto of Northgate, Gina of the
    SAG-AFTRA staff."""
    meridian = StudioFactory(name="Meridian", slug="meridian")
    northgate = StudioFactory(name="Northgate", slug="northgate")
    night = ProductionFactory(studio=meridian, title="Night Shift")

    def engaged(production, **person):
        return EngagementFactory(
            production=production,
            person=PersonFactory(registered_by=production.studio, **person),
            agreement=agreement("sag-tvth-2026"),
            start_date=date(2026, 7, 6),
        ).person

    return {
        "night": night,
        "ann": engaged(night, legal_name="Ann Example", email="ann@example.com"),
        "dora": engaged(
            night,
            legal_name="Dora Gone",
            email="dora@example.com",
            is_deceased=True,
            authorized_representative="Rita Estate",
            representative_email="rita@example.com",
        ),
        "milo": engaged(
            night,
            legal_name="Milo Young",
            email="milo@example.com",
            representative_email="guardian@example.com",
        ),
        "nora": engaged(night, legal_name="Nora Nomail"),
        "nell": engaged(
            ProductionFactory(studio=northgate, title="Northgate Film"),
            legal_name="Nell Other",
            email="nell@example.com",
        ),
        "maya": studio_staff(meridian, "maya"),
        "otto": studio_staff(northgate, "otto"),
        "gina": guild_staff("sag-aftra", "gina"),
    }


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(person, production, /, **overrides) -> dict:
    """A 2026 scan consent that holds once sent: specific, with a business reason."""
    values = {
        "person": person.pk,
        "production": production.pk,
        "kind": "replica_creation",
        "description": SPECIFIC,
        "term_from": "2026-07-01",
        "term_to": "2027-06-30",
        "business_reason": "Stunt double for the fall in episode 4",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def prepared(world, who="ann", **overrides) -> ConsentRequest:
    response = client_of(world["maya"]).post(
        URL, body(world[who], world["night"], **overrides), format="json"
    )
    assert response.status_code == 201, response.content
    return ConsentRequest.objects.get(pk=response.json()["id"])


def send(world, request, user="maya"):
    return client_of(world[user]).post(f"{URL}{request.pk}/send/")


def sent(world, who="ann", **overrides) -> tuple[ConsentRequest, str]:
    """A request sent, and the token of the link its message carries."""
    request = prepared(world, who, **overrides)
    response = send(world, request)
    assert response.status_code == 200, response.content
    return ConsentRequest.objects.get(pk=request.pk), token_of(mail.outbox[-1])


LINK = re.compile(r"(\S+/sign/([^/\s]+)/)")


def token_of(message) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(2)


def all_rows() -> dict:
    return {
        **counts(),
        "ConsentRequest": ConsentRequest.objects.count(),
        "ConsentRequest history": ConsentRequest.history.count(),
        "ConsentSignature": ConsentSignature.objects.count(),
    }


SIGNATURE = requests.Signature(
    name="Ann Example", confirmed=True, initials={}, client_digest="0" * 64
)


def sign(token, signature=SIGNATURE, shown=None):
    return requests.request_sign(
        token=token, signature=signature, document=PDF, shown=shown or {"request": "shown"}
    )


# --- prepare ------------------------------------------------------------------------------------


def test_a_valid_draft_is_prepared_with_its_notice_clock(world):
    response = client_of(world["maya"]).post(URL, body(world["ann"], world["night"]), format="json")
    assert response.status_code == 201, response.content
    got = response.json()
    assert got["status"] == "draft"
    assert got["agreement"] == "sag-tvth-2026"
    assert got["category"] == "principal"
    assert got["signer_capacity"] == "self"
    assert got["sent_at"] is None and got["consent"] is None
    clock = got["notice_clock"]
    assert clock["given"] is False and clock["hours"] == 48
    notice_at = datetime.fromisoformat(clock["notice_at"])
    assert notice_at == NOW
    assert datetime.fromisoformat(clock["scan_from"]) == notice_at + timedelta(hours=48)
    stored = ConsentRequest.objects.get(pk=got["id"])
    assert stored.created_by == world["maya"]
    assert stored.history.get().history_user == world["maya"]


@pytest.mark.parametrize(
    ("overrides", "failing"),
    [
        ({"business_reason": None}, {"sag.consent.scan_reason"}),
        (
            {
                "description": "Any and all uses in all media now known or hereafter devised",
                "governing_law": "US-CA",
                "performance_fixed_on": "2026-07-02",
                "replaces_in_person_work": True,
            },
            {"law.ca.lab927"},
        ),
    ],
    ids=["2026-scan-without-reason", "vague-under-california-law"],
)
def test_a_draft_that_fails_a_rule_is_refused_naming_the_rule_and_writes_nothing(
    world, overrides, failing
):
    before = all_rows()
    response = client_of(world["maya"]).post(
        URL, body(world["ann"], world["night"], **overrides), format="json"
    )
    error = assert_error(response, 400, "consent_request_invalid")
    assert failing <= set(error["fields"]), error
    assert all(error["fields"].values())
    assert all_rows() == before


# --- scope --------------------------------------------------------------------------------------


def test_another_studios_staff_neither_see_the_request_nor_prepare_for_its_production(world):
    request = prepared(world)
    otto = client_of(world["otto"])
    assert_error(otto.get(f"{URL}{request.pk}/"), 404)
    assert_error(otto.post(f"{URL}{request.pk}/send/"), 404)
    assert request.pk not in {row["id"] for row in otto.get(URL).json()["results"]}
    before = all_rows()
    response = otto.post(URL, body(world["nell"], world["night"]), format="json")
    assert_error(response, 400)
    assert "production" in response.json()["fields"]
    assert all_rows() == before


def test_payroll_keys_anonymous_callers_and_other_guilds_see_no_request(world):
    request = prepared(world)
    _key, raw = payroll_key(world["night"].studio, name="payroll")
    payroll = APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert_error(payroll.get(URL), 403)
    assert_error(payroll.post(f"{URL}{request.pk}/send/"), 403)
    assert_error(APIClient().get(f"{URL}{request.pk}/"), 401)
    wga = client_of(guild_staff("wga", "walt"))
    assert_error(wga.get(f"{URL}{request.pk}/"), 404)
    assert wga.get(URL).json()["results"] == []
    assert ConsentRequest.objects.get(pk=request.pk).status == "draft"


def test_guild_staff_read_the_request_but_cannot_send_it(world):
    request = prepared(world)
    gina = client_of(world["gina"])
    response = gina.get(f"{URL}{request.pk}/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "draft"
    for move in ("send", "remind", "withdraw"):
        assert_error(gina.post(f"{URL}{request.pk}/{move}/"), 403, "permission_denied")
    assert ConsentRequest.objects.get(pk=request.pk).status == "draft"
    assert mail.outbox == []
    before = all_rows()
    assert_error(gina.post(URL, body(world["ann"], world["night"]), format="json"), 403)
    assert all_rows() == before


# --- send -------------------------------------------------------------------------------------


def test_sending_mails_a_single_use_link_to_the_recorded_address_only(world, settings):
    request = prepared(world)
    response = send(world, request)
    assert response.status_code == 200, response.content
    got = response.json()
    assert got["status"] == "sent"
    assert got["sent_to"] == "ann@example.com"
    assert datetime.fromisoformat(got["sent_at"]) == NOW
    assert datetime.fromisoformat(got["expires_at"]) == NOW + timedelta(
        days=settings.CONSENT_REQUEST_LINK_DAYS
    )
    assert got["notice_clock"]["given"] is True
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    message = mail.outbox[0]
    assert not message.cc and not message.bcc
    link, token = LINK.search(message.body).groups()
    assert link == f"{settings.SITE_URL}/sign/{token}/"
    assert "Night Shift" in message.subject
    stored = ConsentRequest.objects.get(pk=request.pk)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {str(v) for v in stored.__dict__.values()}
    assert stored.sent_at == NOW
    assert stored.history.first().history_user == world["maya"]


def test_sending_twice_is_a_conflict_and_sends_nothing_more(world):
    request = prepared(world)
    assert send(world, request).status_code == 200
    assert_error(send(world, request), 409, "consent_request_not_draft")
    assert len(mail.outbox) == 1


def test_a_person_without_an_address_cannot_be_sent_a_request(world):
    request = prepared(world, "nora")
    error = assert_error(send(world, request), 400, "no_email")
    assert error["message"].startswith("Nora Nomail has no e-mail address on record")
    assert ConsentRequest.objects.get(pk=request.pk).status == "draft"
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("who", "overrides", "address"),
    [
        ("dora", {"kind": "replica_use", "business_reason": None}, "rita@example.com"),
        ("milo", {"category": "minor"}, "guardian@example.com"),
    ],
    ids=["deceased", "minor"],
)
def test_a_deceased_performer_or_a_minor_is_asked_through_their_representative(
    world, who, overrides, address
):
    request = prepared(world, who, **overrides)
    assert request.signer_capacity == "representative"
    capacity, _, to = requests.signer_of(request.person, request.category)
    assert (capacity, to) == ("representative", address)
    response = send(world, request)
    assert response.status_code == 200, response.content
    assert response.json()["sent_to"] == address
    assert [m.to for m in mail.outbox] == [[address]]
    assert "on behalf of" in mail.outbox[0].body


def test_a_mail_server_failure_is_503_and_the_request_stays_a_draft(world, settings):
    request = prepared(world)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingMailBackend"
    history = ConsentRequest.history.count()
    assert_error_503 = send(world, request)
    assert assert_error_503.status_code == 503, assert_error_503.content
    assert assert_error_503.json()["code"] == "mail_unavailable"
    stored = ConsentRequest.objects.get(pk=request.pk)
    assert (stored.status, stored.sent_at, stored.token_hash) == ("draft", None, None)
    assert ConsentRequest.history.count() == history


# --- the link ---------------------------------------------------------------------------------


def test_a_valid_link_opens_the_request_and_records_the_viewing_once(world, clock):
    request, token = sent(world)
    opened = requests.open_link(token)
    assert opened is not None and not opened.expired and opened.request.pk == request.pk
    assert ConsentRequest.objects.get(pk=request.pk).status == "viewed"
    clock.shift(timedelta(hours=1))
    assert requests.open_link(token) is not None
    stored = ConsentRequest.objects.get(pk=request.pk)
    assert (stored.status, stored.viewed_at) == ("viewed", NOW)


@pytest.mark.parametrize("token", ["", "short", "x" * 43, "x" * 500, None, 12345])
def test_a_forged_or_random_link_opens_nothing(world, token):
    sent(world)
    assert requests.open_link(token) is None


def test_a_withdrawn_request_link_opens_nothing(world):
    request, token = sent(world)
    response = client_of(world["maya"]).post(f"{URL}{request.pk}/withdraw/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    assert ConsentRequest.objects.get(pk=request.pk).token_hash is None
    assert requests.open_link(token) is None


def test_an_expired_link_says_so_and_expire_due_records_it(world, clock, settings):
    request, token = sent(world)
    clock.shift(timedelta(days=settings.CONSENT_REQUEST_LINK_DAYS, seconds=1))
    opened = requests.open_link(token)
    assert opened is not None and opened.expired
    assert ConsentRequest.objects.get(pk=request.pk).status == "sent"
    got = client_of(world["maya"]).get(f"{URL}{request.pk}/").json()
    assert got["status"] == "expired"
    expired = requests.expire_due(actor=UserFactory(username="beat"))
    assert [r.pk for r in expired] == [request.pk]
    stored = ConsentRequest.objects.get(pk=request.pk)
    assert stored.status == "expired" and stored.answered_at is not None
    assert requests.expire_due(actor=UserFactory(username="beat")) == []
    opened = requests.open_link(token)
    assert opened is not None and opened.expired
    with pytest.raises(NotFound):
        sign(token)


def test_a_reminder_replaces_the_link(world, clock):
    request, old = sent(world)
    clock.shift(timedelta(days=2))
    response = client_of(world["maya"]).post(f"{URL}{request.pk}/remind/")
    assert response.status_code == 200, response.content
    assert len(mail.outbox) == 2 and mail.outbox[1].subject.startswith("Reminder: ")
    new = token_of(mail.outbox[1])
    assert new != old
    assert requests.open_link(old) is None
    opened = requests.open_link(new)
    assert opened is not None and not opened.expired
    stored = ConsentRequest.objects.get(pk=request.pk)
    assert stored.sent_at == NOW  # the notice instant stays the first sending
    assert stored.reminded_at == NOW + timedelta(days=2)


def test_an_expired_request_opens_again_with_a_reminder(world, clock, settings):
    request, _ = sent(world)
    clock.shift(timedelta(days=settings.CONSENT_REQUEST_LINK_DAYS + 1))
    requests.expire_due(actor=UserFactory(username="beat"))
    response = client_of(world["maya"]).post(f"{URL}{request.pk}/remind/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "sent"
    opened = requests.open_link(token_of(mail.outbox[-1]))
    assert opened is not None and not opened.expired


def test_a_draft_gets_no_reminder_and_a_withdrawn_one_is_not_withdrawn_again(world):
    request = prepared(world)
    maya = client_of(world["maya"])
    assert_error(maya.post(f"{URL}{request.pk}/remind/"), 409, "consent_request_closed")
    assert maya.post(f"{URL}{request.pk}/withdraw/").status_code == 200
    assert_error(maya.post(f"{URL}{request.pk}/withdraw/"), 409, "consent_request_closed")
    assert_error(send(world, request), 409, "consent_request_not_draft")
    assert mail.outbox == []


# --- sign and decline ---------------------------------------------------------------------------


def test_signing_records_the_consent_and_the_signature_and_spends_the_link(world, clock):
    request, token = sent(world)
    requests.open_link(token)
    clock.shift(timedelta(hours=3))
    shown = requests.shown_facts(ConsentRequest.objects.get(pk=request.pk))
    consent = sign(token, shown=shown)

    assert consent.instrument == "separate_writing"
    assert consent.signed_by == "Ann Example"
    assert consent.signed_by_capacity == "self"
    assert consent.notice_at == NOW
    assert consent.signed_at == NOW + timedelta(hours=3)
    assert (consent.person, consent.production, consent.kind) == (
        world["ann"],
        world["night"],
        "replica_creation",
    )
    assert consent.evidence_sha256 == hashlib.sha256(PDF).hexdigest()
    signature = ConsentSignature.objects.get()
    assert signature.consent == consent and signature.request_id == request.pk
    assert signature.shown_json == requests.canonical_json(shown)
    assert signature.shown_sha256 == hashlib.sha256(signature.shown_json.encode()).hexdigest()
    assert (signature.sent_at, signature.viewed_at) == (NOW, NOW)
    assert signature.signed_at == NOW + timedelta(hours=3)

    got = client_of(world["maya"]).get(f"{URL}{request.pk}/").json()
    assert (got["status"], got["consent"]) == ("signed", consent.pk)
    assert ConsentRequest.objects.get(pk=request.pk).token_hash is None
    assert requests.open_link(token) is None
    before = all_rows()
    with pytest.raises(NotFound):
        sign(token)
    assert all_rows() == before


@pytest.mark.parametrize(
    ("name", "confirmed", "field"),
    [("", True, "name"), ("   ", True, "name"), ("Ann Example", False, "confirmed")],
)
def test_a_signature_without_name_or_confirmation_records_nothing(world, name, confirmed, field):
    request, token = sent(world)
    before = all_rows()
    signature = requests.Signature(
        name=name, confirmed=confirmed, initials={}, client_digest="0" * 64
    )
    with pytest.raises(DomainError) as refused:
        sign(token, signature)
    assert field in refused.value.fields
    assert all_rows() == before
    assert ConsentRequest.objects.get(pk=request.pk).status == "sent"
    assert Consent.objects.count() == 0


def test_the_counsel_route_asks_for_the_initials_of_each_clause(world):
    request, token = sent(world, represented_by="counsel")
    before = all_rows()
    with pytest.raises(DomainError) as refused:
        sign(token)
    assert set(refused.value.fields) == {f"initials_{c}" for c in requests.INITIALLED_CLAUSES}
    assert all_rows() == before
    initialled = requests.Signature(
        name="Ann Example",
        confirmed=True,
        initials={c: "AE" for c in requests.INITIALLED_CLAUSES},
        client_digest="0" * 64,
    )
    consent = sign(token, initialled)
    assert consent.terms_initialed is True
    assert ConsentSignature.objects.get().initials == {"use": "AE", "term": "AE", "pay": "AE"}


def test_declining_keeps_the_reason_and_spends_the_link(world):
    request, token = sent(world)
    declined = requests.request_decline(token=token, reason="  Not for this role.  ")
    assert declined.status == "declined"
    got = client_of(world["maya"]).get(f"{URL}{request.pk}/").json()
    assert (got["status"], got["decline_reason"], got["consent"]) == (
        "declined",
        "Not for this role.",
        None,
    )
    assert requests.open_link(token) is None
    with pytest.raises(NotFound):
        requests.request_decline(token=token, reason="again")
    assert Consent.objects.count() == 0


# --- the signature record is kept for good --------------------------------------------------------


def refused_sql(sql: str, params: list) -> str:
    with pytest.raises((IntegrityError, DatabaseError)) as refused, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    return str(refused.value)


def test_a_signature_record_cannot_be_updated_or_deleted(world):
    _, token = sent(world)
    sign(token)
    signature = ConsentSignature.objects.get()
    table = ConsentSignature._meta.db_table
    assert "append_only" in refused_sql(
        f"UPDATE {table} SET signed_name = %s WHERE id = %s", ["Someone Else", signature.pk]
    )
    assert "append_only" in refused_sql(f"DELETE FROM {table} WHERE id = %s", [signature.pk])
    assert ConsentSignature.objects.get().signed_name == "Ann Example"


def test_services_refuse_who_may_not_write_to_the_production(world):
    request = prepared(world)
    guild_scope = Scope(guild_ids=frozenset({agreement("sag-tvth-2026").guild_id}))
    with pytest.raises(NotFound):
        requests.request_send(actor=world["gina"], scope=guild_scope, request=request)
    assert mail.outbox == []


def test_the_status_filter_answers_as_the_status_does(world, clock, settings):
    request, _token = sent(world)
    draft = prepared(world, "nora")
    maya = client_of(world["maya"])

    def listed(status):
        return {row["id"] for row in maya.get(URL, {"status": status}).json()["results"]}

    assert (listed("sent"), listed("draft"), listed("expired")) == ({request.pk}, {draft.pk}, set())
    clock.shift(timedelta(days=settings.CONSENT_REQUEST_LINK_DAYS, seconds=1))
    # Past its expiry, before the beat task records it.
    assert ConsentRequest.objects.get(pk=request.pk).status == "sent"
    assert (listed("sent"), listed("expired")) == (set(), {request.pk})
