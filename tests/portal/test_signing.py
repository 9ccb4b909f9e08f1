"""The signing page, as the person reaches it from the e-mail: what is asked in plain words,
signing with a typed name and a confirmation (the consent recorded with the page as its signed
document, the signature's record, the receipt e-mailed at once, the staff told), declining, and
links that show nothing (forged, spent, withdrawn) or say they expired."""

import hashlib
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from consent import requests
from consent.models import Consent, ConsentRequest, ConsentSignature
from core.audit import save_audited
from ledger.access import scope_for
from reports.models import Notification
from tests.factories import (
    SPECIFIC,
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    agreement,
    studio_staff,
)

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://testserver(/sign/[^/\s]+/)")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SITE_URL = "http://testserver"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def sent():
    """A replica-creation request to Ann for Meridian's Night Shift, prepared and sent by Maya."""
    meridian = StudioFactory(name="Meridian", slug="meridian")
    night = ProductionFactory(studio=meridian, title="Night Shift")
    ann = EngagementFactory(
        production=night,
        person=PersonFactory(
            legal_name="Ann Example", email="ann@example.org", registered_by=meridian
        ),
        agreement=agreement("sag-tvth-2026"),
        start_date=date(2026, 7, 6),
    ).person
    maya = studio_staff(meridian, "maya")
    scope = scope_for(maya)
    prepared = requests.request_prepare(
        actor=maya,
        scope=scope,
        person=ann,
        production=night,
        kind="replica_creation",
        description=SPECIFIC,
        scenes="Episode 4, the fall from the pier",
        media="Television, streaming",
        term_from=timezone.now().date(),
        term_to=timezone.now().date() + timedelta(days=365),
        business_reason="Stunt double for the fall in episode 4",
    )
    requests.request_send(actor=maya, scope=scope, request=prepared)
    (message,) = mail.outbox
    assert message.to == ["ann@example.org"]
    path = LINK.search(message.body).group(1)
    mail.outbox.clear()
    return {"request": prepared, "path": path, "maya": maya, "ann": ann}


def test_the_page_says_what_is_asked_in_plain_words(sent):
    page = Client().get(sent["path"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "Meridian asks for your consent" in text
    assert "to make a digital replica of you" in text
    assert "Episode 4, the fall from the pier" in text
    assert "sag.pay.ebdr_creation" in text
    assert "No scan may take place before" in text
    assert "You can refuse" in text
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in page["Cache-Control"]
    sent["request"].refresh_from_db()
    assert sent["request"].status == ConsentRequest.Status.VIEWED


def test_signing_records_the_consent_with_its_document_and_sends_the_receipt(sent):
    client = Client(HTTP_USER_AGENT="PhoneBrowser/1.0")
    client.get(sent["path"])
    page = client.post(sent["path"], {"answer": "sign", "name": "Ann Example", "confirmed": "on"})
    assert page.status_code == 200, page.content.decode()
    assert "you have signed" in page.content.decode()
    request = ConsentRequest.objects.get(pk=sent["request"].pk)
    assert request.status == ConsentRequest.Status.SIGNED and request.token_hash is None
    consent = request.consent
    assert consent.signed_by == "Ann Example" and consent.signed_by_capacity == "self"
    assert consent.instrument == "separate_writing" and consent.notice_at == request.sent_at
    document = consent.evidence.read()
    assert document.startswith(b"%PDF") and hashlib.sha256(document).hexdigest() == (
        consent.evidence_sha256
    )
    signature = ConsentSignature.objects.get(consent=consent)
    assert hashlib.sha256(signature.shown_json.encode()).hexdigest() == signature.shown_sha256
    assert '"production":"Night Shift"' in signature.shown_json
    assert signature.client_digest and "PhoneBrowser" not in signature.client_digest
    (receipt,) = mail.outbox
    assert receipt.to == ["ann@example.org"]
    assert Notification.objects.filter(user=sent["maya"], key__endswith=":signed").exists()
    # The link is spent: it shows nothing, and cannot sign again.
    again = client.post(sent["path"], {"answer": "sign", "name": "Ann", "confirmed": "on"})
    assert again.status_code == 404 and "Night Shift" not in again.content.decode()
    assert Consent.objects.count() == 1


def test_a_signature_without_name_or_confirmation_is_refused_and_records_nothing(sent):
    page = Client().post(sent["path"], {"answer": "sign", "name": "  "})
    assert page.status_code == 400
    text = page.content.decode()
    assert "Type your full name to sign." in text and "Confirm that you have read" in text
    assert Consent.objects.count() == 0
    assert ConsentRequest.objects.get(pk=sent["request"].pk).status != "signed"


def test_declining_keeps_the_reason_and_tells_the_staff(sent):
    page = Client().post(sent["path"], {"answer": "decline", "reason": "Not this scene."})
    assert page.status_code == 200 and "You have declined" in page.content.decode()
    request = ConsentRequest.objects.get(pk=sent["request"].pk)
    assert request.status == "declined" and request.decline_reason == "Not this scene."
    assert Consent.objects.count() == 0
    assert Notification.objects.filter(user=sent["maya"], key__endswith=":declined").exists()
    assert Client().get(sent["path"]).status_code == 404


@pytest.mark.parametrize("path", ["/sign/forged-token-of-enough-length-0123456789/", "/sign/x/"])
def test_a_forged_link_shows_nothing(sent, path):
    page = Client().get(path)
    assert page.status_code == 404 and "Night Shift" not in page.content.decode()


def test_a_withdrawn_link_shows_nothing(sent):
    requests.request_withdraw(
        actor=sent["maya"], scope=scope_for(sent["maya"]), request=sent["request"]
    )
    page = Client().get(sent["path"])
    assert page.status_code == 404 and "Night Shift" not in page.content.decode()


def test_an_expired_link_says_so_and_asks_for_a_new_one(sent):
    request = ConsentRequest.objects.get(pk=sent["request"].pk)
    request.expires_at = timezone.now() - timedelta(minutes=1)
    save_audited(request, actor=sent["maya"])
    client = Client()
    page = client.get(sent["path"])
    assert page.status_code == 410
    text = page.content.decode()
    assert "This link has expired" in text and "Night Shift" not in text
    asked = client.post(sent["path"] + "new-link/")
    assert asked.status_code == 200
    assert Notification.objects.filter(user=sent["maya"], key__contains=":new_link:").exists()
    assert (
        client.post(sent["path"], {"answer": "sign", "name": "Ann", "confirmed": "on"}).status_code
        == 410
    )


@pytest.mark.postgres  # the tampering switches PostgreSQL's triggers off
def test_verify_evidence_checks_the_signed_document_and_the_record_of_what_was_shown(sent):
    from django.core.management import call_command

    Client().post(sent["path"], {"answer": "sign", "name": "Ann Example", "confirmed": "on"})
    call_command("verify_evidence")  # intact: exits normally
    signature = ConsentSignature.objects.get()
    with connection.cursor() as cursor:  # tampering behind the product's back
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no trigger event pending
        cursor.execute("ALTER TABLE consent_consentsignature DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE consent_consentsignature SET shown_json = %s WHERE id = %s",
            [signature.shown_json.replace("Night Shift", "Day Shift"), signature.pk],
        )
        cursor.execute("ALTER TABLE consent_consentsignature ENABLE TRIGGER USER")
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_evidence")
    assert exit_.value.code == 1


def test_an_address_that_asks_too_often_is_slowed_down(sent, settings):
    settings.PORTAL_RATE_LIMIT = 3
    client = Client()
    answers = [client.get(sent["path"]).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    slowed = client.get("/sign/forged-token-of-enough-length-0123456789/")
    assert slowed.status_code == 429 and slowed["Retry-After"] == "60"
    assert "Night Shift" not in slowed.content.decode()
