"""A consent request from the studio's admin to the person's phone, on the demo: Meridian's
staff prepare a request for Marcus Bell (checked before it is saved), send it, and Marcus signs on a
390-px-wide screen from the link in her e-mail; the consent is recorded with its signed document
and her receipt reaches her recorded address. Then, from her own page (a link asked for with her
address), she revokes it: the planned scan it covered is shown first, and its next decision is
refused while the use as recorded keeps its own. Screenshots at each step."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from consent import selectors as consent_selectors
from consent.models import ConsentRequest, ConsentSignature
from consent.services import ai_use_record
from core.audit import save_audited, system_user
from ledger.access import Scope
from ledger.models import Person, Production
from ledger.registry.services import production_attach
from tests.factories import agreement

from .conftest import LAPTOP, log_in, no_horizontal_scroll, screenshot

pytestmark = [pytest.mark.postgres]

PHONE = {"width": 390, "height": 844}
LINK = re.compile(r"https?://[^/\s]+(/sign/[^/\s]+/)")
PAGE_LINK = re.compile(r"https?://[^/\s]+(/me/[^/\s]+/)")
DESCRIPTION = (
    "Facial and voice scan at stage 2 to create a digital replica for the storm sequence in "
    "reel 3 (scenes 41 to 44), for the theatrical release and streaming"
)


def test_a_request_signed_on_a_phone_then_revoked_from_the_persons_page(demo, page, settings):
    settings.SITE_URL = "http://testserver"  # the link's path is what the phone opens
    marcus = Person.objects.get(memberships__member_number="SAG-100202")
    marcus.email = "marcus.bell@example.org"
    save_audited(marcus, actor=system_user())
    # The production works under the agreement in force today, as its uses will be decided.
    film = Production.objects.get(title="The Long Light")
    production_attach(actor=system_user(), production=film, agreement=agreement("sag-tvth-2026"))
    mail.outbox.clear()

    log_in(page, "meridian")
    page.goto("/admin/consent/consentrequest/add/")
    page.select_option("#id_person", str(marcus.pk))
    page.select_option("#id_production", str(film.pk))
    page.select_option("#id_kind", "replica_creation")
    page.fill("#id_description", DESCRIPTION)
    page.fill("#id_scenes", "41-44")
    page.fill("#id_media", "theatrical, streaming")
    page.fill("#id_business_reason", "The storm sequence is too dangerous to shoot in person")
    today = timezone.now().date()
    page.fill("#id_term_from", today.isoformat())
    page.fill("#id_term_to", (today + timedelta(days=365)).isoformat())
    page.locator("#check-request-button").click()
    expect(page.locator("#notice-clock")).to_contain_text("a scan may take place from")
    expect(page.locator("#request-review")).to_contain_text("Every rule")
    screenshot(page, "consent-request-checked-1366")
    page.locator("input[name=_save]").click()
    expect(page.locator("#send-request")).to_be_visible()
    page.locator("#send-request").click()
    expect(page.locator(".messagelist")).to_contain_text("sent")
    screenshot(page, "consent-request-sent-1366")
    request = ConsentRequest.objects.get(person=marcus)
    assert request.status == "sent"
    (message,) = [m for m in mail.outbox if m.to == ["marcus.bell@example.org"]]
    path = LINK.search(message.body).group(1)

    page.context.clear_cookies()  # the person has no account: a fresh browser
    page.set_viewport_size(PHONE)
    page.goto(path)
    expect(page.locator("h1")).to_have_text("Meridian Pictures asks for your consent")
    expect(page.locator("main")).to_contain_text("scenes 41 to 44")
    expect(page.locator("main")).to_contain_text("No scan may take place before")
    assert no_horizontal_scroll(page)
    screenshot(page, "consent-request-signing-390")

    page.get_by_role("button", name="Sign").click()  # nothing typed yet
    expect(page.locator("#errors")).to_contain_text("Type your full name to sign.")
    page.get_by_label("Your full name").fill("Marcus Bell")
    page.get_by_label("I have read what is asked above and I agree to it.").check()
    page.get_by_role("button", name="Sign").click()
    expect(page.locator("h1")).to_have_text("Thank you: you have signed")
    assert no_horizontal_scroll(page)
    screenshot(page, "consent-request-signed-390")
    page.set_viewport_size(LAPTOP)

    request.refresh_from_db()
    assert request.status == "signed"
    signature = ConsentSignature.objects.get(request=request)
    assert signature.signed_name == "Marcus Bell"
    assert request.consent.evidence.read().startswith(b"%PDF")
    receipts = [m for m in mail.outbox if m.subject.startswith("Your consent receipt")]
    assert [m.to for m in receipts] == [["marcus.bell@example.org"]]
    # The link is spent.
    page.goto(path)
    expect(page.locator("h1")).to_have_text("This link is not valid")

    # A scan planned after the notice period, allowed by the consent just signed.
    consent = request.consent
    planned = ai_use_record(
        actor=system_user(),
        scope=Scope(superuser=True),
        production=film,
        person=marcus,
        kind="replica_creation",
        starts_at=timezone.now() + timedelta(days=3),
        description="Scan at stage 2",
        scenes="41-44",
    )
    assert planned.status == "allowed" and planned.consent_id == consent.pk, planned.reasons

    # Marcus's own page, from a link asked for with her address; she revokes from there.
    mail.outbox.clear()
    page.set_viewport_size(PHONE)
    page.goto("/me/")
    page.get_by_label("Your e-mail address").fill("marcus.bell@example.org")
    page.get_by_role("button", name="Send me a link").click()
    (message,) = mail.outbox
    assert message.to == ["marcus.bell@example.org"]
    page.goto(PAGE_LINK.search(message.body).group(1))
    expect(page.locator("h1")).to_contain_text("Your page")
    expect(page.locator(f"#consent-{consent.pk}")).to_contain_text("The Long Light")
    assert no_horizontal_scroll(page)
    screenshot(page, "personal-page-390")
    page.get_by_role("link", name=f"Revoke consent #{consent.pk}").click()
    expect(page.locator("main")).to_contain_text("would no longer be covered")
    expect(page.locator("main table")).to_contain_text("41-44")
    screenshot(page, "personal-revoke-390")
    page.get_by_label("Why (required)").fill("I no longer want a replica made.")
    page.get_by_role("button", name="Revoke this consent").click()
    expect(page.locator("main")).to_contain_text("revoked")
    assert no_horizontal_scroll(page)
    screenshot(page, "personal-revoked-390")
    page.set_viewport_size(LAPTOP)

    # The next decision on that planned scan is refused; the use recorded keeps its decision.
    check = consent_selectors.CheckRequest(
        person_id=marcus.pk,
        production_id=film.pk,
        kind="replica_creation",
        at=planned.starts_at,
    )
    assert not consent_selectors.check_one(Scope(superuser=True), check)[1].allowed
    planned.refresh_from_db()
    assert planned.status == "allowed" and planned.consent_id == consent.pk
