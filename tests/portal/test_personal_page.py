"""A person's own page, reached by a link sent to their recorded address: the form that answers
the same for any address, links that open once and only in time, the page that lists this
person's consents, uses, lines and payables and nobody else's, and revoking, suspending,
downloading and asking a question from it."""

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from compensation.models import CompensationLine, CompensationRun, ResidualLine
from consent import selectors as consent_selectors
from consent import services as consent_services
from consent.models import AiUse, ConsentEvent
from ledger.access import Scope
from ledger.journal.services import payable_create, payment_confirm
from portal import personal
from portal.models import PersonalLink
from reports.models import Flag, Notification
from tests.factories import (
    EngagementFactory,
    ExhibitionFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    evidence_file,
    grant_consent,
    guild_staff,
    studio_staff,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NOW = datetime(2025, 6, 10, 12, tzinfo=UTC)
LINK = re.compile(r"http://testserver(/me/[^/\s]+/)")


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SITE_URL = "http://testserver"
    settings.PERSONAL_LINK_MINUTES = 30
    return Path(settings.MEDIA_ROOT)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def world():
    """Ann on Meridian's Night Shift: a consent, a replica use made before now and one planned
    after, a pay line for the use and a residual line, a payable partly paid. Bob, on the same
    production, with a consent of his own. Maya is Meridian's staff, Gus SAG-AFTRA's."""
    meridian = StudioFactory(name="Meridian", slug="meridian")
    night = ProductionFactory(studio=meridian, title="Night Shift")
    clerk = UserFactory(username="clerk")
    ann_e = EngagementFactory(
        production=night,
        person=PersonFactory(legal_name="Ann Example", email="Ann@Example.org"),
    )
    bob_e = EngagementFactory(
        production=night, person=PersonFactory(legal_name="Bob Other", email="bob@example.org")
    )
    ann, bob = ann_e.person, bob_e.person
    consent = grant_consent(
        ann_e,
        actor=clerk,
        kind="replica_use",
        evidence=evidence_file(b"%PDF-1.4 signed by Ann", "ann.pdf"),
    )
    bob_consent = grant_consent(
        bob_e, actor=clerk, evidence=evidence_file(b"%PDF-1.4 signed by Bob", "bob.pdf")
    )
    common = dict(
        actor=clerk,
        scope=Scope(superuser=True),
        production=night,
        person=ann,
        kind="replica_use",
        days=1,
    )
    made = consent_services.ai_use_record(
        starts_at=at(2025, 6, 5, 9), description="Replica of Ann in the pier scene", **common
    )
    planned = consent_services.ai_use_record(
        starts_at=at(2025, 6, 20, 9), description="Replica of Ann in the reshoot", **common
    )
    consent_services.ai_use_record(
        starts_at=at(2025, 6, 6, 9), description="Replica of Bob", **{**common, "person": bob}
    )
    assert made.status == planned.status == AiUse.Status.ALLOWED, (made.reasons, planned.reasons)
    pay_run = CompensationRun.objects.create(
        production=night,
        period_from=date(2025, 6, 2),
        period_to=date(2025, 6, 8),
        due_date=date(2025, 6, 20),
        status=CompensationRun.Status.APPROVED,
        started_by=clerk,
        started_at=at(2025, 6, 9),
    )
    CompensationLine.objects.create(
        run=pay_run,
        engagement=ann_e,
        ai_use=made,
        rule="sag.pay.ebdr_use",
        description="Replica use, pier scene",
        date=date(2025, 6, 5),
        quantity=Decimal("1"),
        unit="day",
        rate=Decimal("1234.5"),
        amount=Decimal("1234.50"),
        currency="USD",
    )
    CompensationLine.objects.create(
        run=pay_run,
        engagement=bob_e,
        rule="sag.pay.day",
        description="Bob's day pay",
        date=date(2025, 6, 5),
        quantity=Decimal("1"),
        unit="day",
        rate=Decimal("999"),
        amount=Decimal("999.00"),
        currency="USD",
    )
    residual_run = CompensationRun.objects.create(
        kind=CompensationRun.Kind.RESIDUALS,
        production=night,
        period_from=date(2025, 4, 1),
        period_to=date(2025, 6, 30),
        due_date=date(2025, 7, 31),
        status=CompensationRun.Status.COMPUTED,
        started_by=clerk,
        started_at=at(2025, 6, 9),
    )
    exhibition = ExhibitionFactory(production=night)
    for engagement, amount in ((ann_e, "321.00"), (bob_e, "888.00")):
        ResidualLine.objects.create(
            run=residual_run,
            exhibition=exhibition,
            engagement=engagement,
            rule="sag.residuals.hbsvod",
            description=f"Residual, episode 101 on streaming, for {engagement.person.legal_name}",
            market="hbsvod",
            territory="worldwide",
            date=date(2025, 6, 7),
            quantity=Decimal("1"),
            unit="exhibition",
            amount=Decimal(amount),
            currency="USD",
            due_date=date(2025, 7, 31),
            due_basis="Within 30 days of the quarter's end",
        )
    payable = payable_create(
        actor=clerk,
        production=night,
        person=ann,
        engagement=ann_e,
        rule="sag.pay.ebdr_use",
        description="Replica use, pier scene",
        amount=Decimal("1234.50"),
        currency="USD",
        period_from=date(2025, 6, 2),
        period_to=date(2025, 6, 8),
        due_date=date(2025, 6, 20),
        source_type="test",
        source_id="ann-1",
    )
    payment_confirm(
        actor=clerk,
        client="user:payroll",
        idempotency_key="key-ann-1",
        payable=payable,
        amount=Decimal("1000.00"),
        paid_at=at(2025, 6, 9, 12),
        payroll_reference="PAY-1",
        render=lambda p: {"id": p.pk},
    )
    return {
        "ann": ann,
        "bob": bob,
        "consent": consent,
        "bob_consent": bob_consent,
        "made": made,
        "planned": planned,
        "maya": studio_staff(meridian, "maya"),
        "gus": guild_staff("sag-aftra", "gus"),
        "night": night,
    }


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def _signed_in(person) -> Client:
    client = Client()
    opened = client.get(_path(personal.link_for(person)))
    assert opened.status_code == 302 and opened["Location"] == "/me/page/"
    return client


# --- asking for a link ------------------------------------------------------------------------


def test_the_form_answers_the_same_and_mails_only_the_recorded_address(world):
    client = Client()
    known = client.post("/me/", {"email": "  ann@EXAMPLE.org "})
    unknown = client.post("/me/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert "If that address is on record, a link is on its way" in known.content.decode()
    (message,) = mail.outbox
    assert message.to == ["Ann@Example.org"]  # the recorded address, as recorded
    assert message.cc == [] and message.bcc == []
    path = LINK.search(message.body).group(1)
    token = path.split("/")[2]
    link = PersonalLink.objects.get()
    assert link.person == world["ann"] and token not in link.token_hash
    assert link.token_hash == personal.token_hash(token)
    assert link.expires_at == link.created_at + timedelta(minutes=30)
    page = client.get("/me/")
    assert page.status_code == 200 and page["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in page["Cache-Control"]


def test_a_failing_mail_server_gives_the_same_answer_and_leaves_no_link(world, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    page = Client().post("/me/", {"email": "ann@example.org"})
    assert page.status_code == 200 and "a link is on its way" in page.content.decode()
    assert not PersonalLink.objects.exists()


def test_bad_input_to_the_form_is_no_500(world):
    client = Client()
    assert client.post("/me/", {"email": ""}).status_code == 400
    assert client.post("/me/", {"email": "x" * 5000}).status_code == 200
    assert client.post("/me/", {"email": ["a@b.c", "d@e.f"]}).status_code == 200
    assert client.put("/me/").status_code == 405
    assert mail.outbox == []


# --- the link ---------------------------------------------------------------------------------


def test_a_link_opens_once(world):
    path = _path(personal.link_for(world["ann"]))
    client = Client()
    assert client.get(path).status_code == 302
    assert client.get("/me/page/").status_code == 200
    again = Client().get(path)
    assert again.status_code == 404 and "Ann" not in again.content.decode()
    assert again["X-Robots-Tag"] == "noindex, nofollow"


def test_an_expired_link_shows_nothing(world, clock):
    path = _path(personal.link_for(world["ann"]))
    clock.shift(timedelta(minutes=31))
    page = Client().get(path)
    assert page.status_code == 404 and "Night Shift" not in page.content.decode()


@pytest.mark.parametrize(
    "path", ["/me/forged-token-of-enough-length-0123456789/", "/me/x/", "/me/" + "a" * 500 + "/"]
)
def test_a_forged_link_shows_nothing(world, path):
    page = Client().get(path)
    assert page.status_code == 404 and "Night Shift" not in page.content.decode()


def test_without_a_session_every_page_shows_nothing(world):
    client = Client()
    consent = world["consent"].pk
    for path in (
        "/me/page/",
        "/me/export.json",
        f"/me/consents/{consent}/receipt.pdf",
        f"/me/consents/{consent}/evidence",
        f"/me/consents/{consent}/revoke/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post("/me/question/", {"consent": consent, "question": "?"}).status_code == 404
    assert not Flag.objects.exists()


def test_the_session_ends_with_the_link_time(world, clock):
    client = _signed_in(world["ann"])
    clock.shift(timedelta(minutes=31))
    assert client.get("/me/page/").status_code == 404


# --- the page ---------------------------------------------------------------------------------


def test_the_page_lists_consents_uses_lines_and_payables(world):
    page = _signed_in(world["ann"]).get("/me/page/")
    assert page.status_code == 200
    assert page["X-Robots-Tag"] == "noindex, nofollow" and "no-store" in page["Cache-Control"]
    text = page.content.decode()
    assert text.count("<h1>") == 1
    consent = world["consent"].pk
    assert f"Consent #{consent}: Night Shift" in text and "granted" in text
    assert f"/me/consents/{consent}/receipt.pdf" in text
    assert f"/me/consents/{consent}/evidence" in text
    assert "5 Jun 2025" in text and "20 Jun 2025" in text and "Allowed" in text
    assert f"Consent #{consent}</td>" in text
    assert "Replica use, pier scene" in text and "1,234.50 USD" in text and "approved" in text
    assert "Residual, episode 101 on streaming, for Ann Example" in text and "321.00 USD" in text
    assert "awaiting approval" in text
    # Owed, paid and still due.
    assert "1,000.00 USD" in text and "234.50 USD" in text
    # Nothing of Bob's.
    assert "Bob" not in text and "999.00" not in text and "888.00" not in text
    assert f"Consent #{world['bob_consent'].pk}" not in text


def test_receipt_and_evidence_of_ones_own_consent_only(world):
    client = _signed_in(world["ann"])
    mine, bobs = world["consent"].pk, world["bob_consent"].pk
    receipt = client.get(f"/me/consents/{mine}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
    evidence = client.get(f"/me/consents/{mine}/evidence")
    assert evidence.status_code == 200
    assert b"".join(evidence.streaming_content) == b"%PDF-1.4 signed by Ann"
    for path in (
        f"/me/consents/{bobs}/receipt.pdf",
        f"/me/consents/{bobs}/evidence",
        f"/me/consents/{bobs}/revoke/",
        f"/me/consents/{bobs}/suspend/",
        "/me/consents/0/receipt.pdf",
        "/me/consents/not-a-number/evidence",
        "/me/consents/99999999999999999999999/revoke/",
    ):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "signed by Bob" not in page.content.decode(errors="replace")


def test_the_export_downloads_the_persons_data_as_json(world):
    response = _signed_in(world["ann"]).get("/me/export.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    export = json.loads(response.content)
    assert [c["id"] for c in export["consents"]] == [world["consent"].pk]
    assert export["person"]["legal_name"] == "Ann Example"


# --- revoking and suspending ------------------------------------------------------------------


def _check(world, starts_at):
    return consent_selectors.check_one(
        Scope(superuser=True),
        consent_selectors.CheckRequest(
            person_id=world["ann"].pk,
            production_id=world["night"].pk,
            kind="replica_use",
            at=starts_at,
        ),
    )[1]


def test_revoking_shows_the_effect_first_then_changes_the_next_decision_only(world):
    client = _signed_in(world["ann"])
    consent = world["consent"]
    path = f"/me/consents/{consent.pk}/revoke/"
    preview = client.get(path)
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "would no longer be covered" in text and "20 Jun 2025" in text
    assert "5 Jun 2025" not in text  # a use made before now is not taken away
    assert not ConsentEvent.objects.exists()  # showing the effect changes nothing

    refused = client.post(path, {"reason": "  "})
    assert refused.status_code == 400 and not ConsentEvent.objects.exists()

    done = client.post(path, {"reason": "I no longer want a replica used."})
    assert done.status_code == 200 and "revoked" in done.content.decode()
    (event,) = ConsentEvent.objects.filter(consent=consent)
    assert event.kind == "revoked" and event.reason.startswith("From the person's own page: ")
    assert event.actor.username == "system"

    assert not _check(world, timezone.now() + timedelta(days=1)).allowed
    assert _check(world, at(2025, 6, 5, 9)).allowed
    made = AiUse.objects.get(pk=world["made"].pk)
    assert made.status == AiUse.Status.ALLOWED and made.consent_id == consent.pk
    (earlier,) = consent_selectors.recheck([made])
    assert earlier.allowed

    flag = Flag.objects.get(consent=consent)
    assert flag.guild.code == "sag-aftra" and flag.raised_by.username == "system"
    assert "I no longer want a replica used." in flag.note
    for user in (world["maya"], world["gus"]):
        assert Notification.objects.filter(user=user, key=f"flags:flag:{flag.pk}").exists()
    # Revoked: it cannot be revoked again, and nothing more is written.
    again = client.post(path, {"reason": "Again"})
    assert again.status_code == 409 and ConsentEvent.objects.count() == 1


def test_suspending_from_the_page(world):
    client = _signed_in(world["ann"])
    consent = world["consent"]
    path = f"/me/consents/{consent.pk}/suspend/"
    assert "20 Jun 2025" in client.get(path).content.decode()
    done = client.post(path, {"reason": "A pause while I read the contract."})
    assert done.status_code == 200
    (event,) = ConsentEvent.objects.filter(consent=consent)
    assert event.kind == "suspended"
    assert not _check(world, timezone.now() + timedelta(days=1)).allowed
    assert Flag.objects.filter(consent=consent).exists()
    assert Notification.objects.filter(user=world["maya"]).exists()


def test_every_email_goes_to_the_recorded_address_only(world):
    client = Client()
    client.post("/me/", {"email": "ann@example.org"})
    client.get(LINK.search(mail.outbox[0].body).group(1))
    client.post(f"/me/consents/{world['consent'].pk}/revoke/", {"reason": "No more."})
    client.post("/me/question/", {"consent": world["consent"].pk, "question": "Why?"})
    link, receipt = mail.outbox
    assert link.to == receipt.to == ["Ann@Example.org"]
    assert receipt.subject.startswith("Your consent receipt")
    for message in mail.outbox:
        assert "bob@example.org" not in message.to + message.cc + message.bcc
        assert message.to in (["Ann@Example.org"], [world["maya"].email], [world["gus"].email])


# --- a question -------------------------------------------------------------------------------


def test_a_question_raises_a_flag_and_tells_the_staff(world):
    client = _signed_in(world["ann"])
    consent = world["consent"]
    page = client.post("/me/question/", {"consent": consent.pk, "question": "When is it paid?"})
    assert page.status_code == 200 and "Your question is sent" in page.content.decode()
    flag = Flag.objects.get(consent=consent)
    assert flag.note == "Question from the person's page: When is it paid?"
    assert flag.guild.code == "sag-aftra" and flag.resolved_at is None
    assert Notification.objects.filter(user=world["gus"], key=f"flags:flag:{flag.pk}").exists()


@pytest.mark.parametrize(
    "data",
    [
        {"question": "Hello?"},
        {"consent": "abc", "question": "Hello?"},
        {"consent": "", "question": ""},
        {"consent": "1", "question": "x" * 5000},
    ],
)
def test_a_question_that_is_not_one_is_no_500_and_no_flag(world, data):
    client = _signed_in(world["ann"])
    assert client.post("/me/question/", data).status_code == 400
    assert client.get("/me/question/").status_code == 405
    assert not Flag.objects.exists()


def test_a_question_about_someone_elses_consent_is_refused(world):
    client = _signed_in(world["ann"])
    page = client.post("/me/question/", {"consent": world["bob_consent"].pk, "question": "Hi"})
    assert page.status_code == 400 and not Flag.objects.exists()


def test_a_post_without_csrf_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.get(_path(personal.link_for(world["ann"])))
    page = client.post(f"/me/consents/{world['consent'].pk}/revoke/", {"reason": "No."})
    assert page.status_code == 403 and not ConsentEvent.objects.exists()


def test_too_many_requests_are_slowed_down(world, settings):
    settings.PORTAL_RATE_LIMIT = 3
    client = Client()
    answers = [client.get("/me/").status_code for _ in range(5)]
    assert answers[:3] == [200, 200, 200] and answers[3:] == [429, 429]
