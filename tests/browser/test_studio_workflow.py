"""A studio's business affairs, end to end in the browser: sign in with the keyboard, read the
dashboard, attach the agreement to a new production, import its engagements from CSV (a faulty
file first), record a consent with its signed rider, record two AI uses (one covered, one a
violation), run the month's compensation, approve it, open the payables it posted, and finally
revoke the consent, seeing first which recorded use the revocation leaves uncovered.

Every step is checked twice: on the page, as staff would see it, and in the database, where the
services recorded it with the signed-in user in history."""

import hashlib
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from compensation.models import CompensationRun
from consent.models import AiUse, Consent
from core.audit import system_user
from ledger.models import Engagement, Payable, Production, Studio
from ledger.registry import services

from .conftest import log_in, no_horizontal_scroll, screenshot

pytestmark = [pytest.mark.postgres]

FIXTURES = Path(__file__).parent / "fixtures"
AGREEMENT = "sag-tvth-2023"
RIDER = b"%PDF-1.4\nDigital replica rider, Lantern Road, scenes 12-14. Signed Ava Delgado.\n"


@pytest.fixture
def lantern_road(demo):
    """A new Meridian film with no agreement attached yet."""
    return services.production_create(
        actor=system_user(),
        studio=Studio.objects.get(slug="meridian"),
        title="Lantern Road",
        kind="theatrical",
        budget_tier="high",
        start_date=date(2025, 7, 1),
        status=Production.Status.PRINCIPAL_PHOTOGRAPHY,
    )


def test_studio_staff_take_a_production_from_agreement_to_payables(lantern_road, page):
    log_in(page, "meridian")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    check_dashboard(page)
    attach_agreement(page, lantern_road)
    import_engagements(page, lantern_road)
    consent = record_consent(page, lantern_road)
    allowed = record_uses(page, lantern_road, consent)
    run = run_and_approve(page, lantern_road)
    open_payables(page, lantern_road, run)
    revoke_consent(page, consent, allowed)


def check_dashboard(page):
    """The studio's productions, each with its measures; no other studio's."""
    dashboard = page.locator("table#dashboard")
    expect(dashboard).to_be_visible()
    for production in Production.objects.all():
        row = dashboard.locator(f'tr[data-production="{production.pk}"]')
        expect(row).to_have_count(1 if production.studio.slug == "meridian" else 0)
    film = Production.objects.get(title="The Long Light")
    violations = AiUse.objects.filter(production=film, status=AiUse.Status.VIOLATION).count()
    cell = dashboard.locator(f'tr[data-production="{film.pk}"] td[data-measure="violations"] a')
    expect(cell).to_have_text(str(violations))
    assert no_horizontal_scroll(page)
    screenshot(page, "dashboard-studio")


def attach_agreement(page, production):
    page.goto(f"/admin/ledger/production/{production.pk}/change/")
    page.get_by_label("Agreement", exact=True).select_option(
        label=f"{AGREEMENT} — SAG-AFTRA TV/Theatrical (2023 MOA) (2023-11-09 – 2026-06-30)"
    )
    page.get_by_role("button", name="Attach agreement").click()
    expect(page.locator("#agreements")).to_contain_text(AGREEMENT)
    assert list(production.agreements.values_list("code", flat=True)) == [AGREEMENT]


def _csv(name: str, production) -> dict:
    text = (FIXTURES / name).read_text().replace("{production}", str(production.pk))
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def import_engagements(page, production):
    """A file with a faulty row is previewed with that row marked and cannot be imported; the
    corrected file is previewed, confirmed, and recorded whole."""
    page.goto("/admin/ledger/engagement/")
    page.get_by_role("link", name="Import from CSV").click()
    page.get_by_label("CSV file").set_input_files(_csv("engagements_with_error.csv", production))
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("table#import-preview")
    expect(preview.locator("tr.row-error")).to_have_count(1)
    expect(preview.locator("tr.row-error")).to_contain_text("classification")
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)
    assert not Engagement.objects.filter(production=production).exists()

    page.get_by_label("CSV file").set_input_files(_csv("engagements.csv", production))
    page.get_by_role("button", name="Preview").click()
    expect(preview.locator("tbody tr")).to_have_count(2)
    expect(preview.locator("tr.row-error")).to_have_count(0)
    page.get_by_role("button", name="Confirm import").click()
    expect(page).to_have_url(re.compile(r"/admin/ledger/engagement/$"))
    engaged = Engagement.objects.filter(production=production).order_by("person__payroll_ref")
    assert [e.person.payroll_ref for e in engaged] == ["MP-0001", "MP-0002"]
    assert {e.history.get().history_user.username for e in engaged} == {"meridian"}


def record_consent(page, production) -> Consent:
    """Ava Delgado's consent to her digital replica in scenes 12-14, with the signed rider; open
    ended, so that it is in force whatever today's date."""
    page.goto("/admin/consent/consent/add/")
    page.get_by_label("Person:", exact=True).select_option(label="Ava Del")
    page.get_by_label("Production:", exact=True).select_option(label=production.title)
    page.get_by_label("Kind:", exact=True).select_option("replica_use")
    page.get_by_label("Description:", exact=True).fill(
        "Digital replica of the performer in the harbor chase (scenes 12 to 14), for the "
        "theatrical release, streaming and trailers"
    )
    page.get_by_label("Scenes:", exact=True).fill("12-14")
    page.get_by_label("Media:", exact=True).fill("theatrical, streaming, trailers")
    page.get_by_label("Term from:", exact=True).fill("2025-07-10")
    page.get_by_label("Instrument:", exact=True).select_option("separate_writing")
    # Django's split date/time widget labels its two inputs "Date:" and "Time:" as plain text.
    page.locator("#id_signed_at_0").fill("2025-07-10")
    page.locator("#id_signed_at_1").fill("12:00:00")
    page.get_by_label("Signed by:", exact=True).fill("Ava Delgado")
    page.get_by_label("Signed by capacity:", exact=True).select_option("self")
    assert no_horizontal_scroll(page)
    page.get_by_label("Evidence:", exact=True).set_input_files(
        {"name": "replica-rider.pdf", "mimeType": "application/pdf", "buffer": RIDER}
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote")).to_have_count(0)
    consent = Consent.objects.get(production=production)
    assert consent.evidence_sha256 == hashlib.sha256(RIDER).hexdigest()
    assert consent.recorded_by.username == "meridian"

    page.goto(f"/admin/consent/consent/{consent.pk}/change/")
    expect(page.locator("span.badge.badge-granted")).to_have_count(1)
    expect(page.get_by_text(consent.evidence_sha256)).to_be_visible()
    return consent


def _record_use(page, production, person: str, starts_at: datetime, description: str) -> AiUse:
    page.goto("/admin/consent/aiuse/add/")
    page.get_by_label("Production:", exact=True).select_option(label=production.title)
    page.get_by_label("Person:", exact=True).select_option(label=person)
    page.get_by_label("Kind:", exact=True).select_option("replica_use")
    page.locator("#id_starts_at_0").fill(f"{starts_at:%Y-%m-%d}")
    page.locator("#id_starts_at_1").fill(f"{starts_at:%H:%M:%S}")
    page.get_by_label("Days:", exact=True).fill("1")
    page.get_by_label("Description:", exact=True).fill(description)
    page.get_by_label("Scenes:", exact=True).fill("12-14")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote")).to_have_count(0)
    use = AiUse.objects.filter(production=production).latest("id")
    assert use.recorded_by.username == "meridian"
    return use


def record_uses(page, production, consent) -> AiUse:
    """The covered use is allowed on the consent; the uncovered one is recorded as a
    violation, and its page says so with the violation badge. Returns the allowed use."""
    allowed = _record_use(
        page, production, "Ava Del", datetime(2025, 8, 12, 9, tzinfo=UTC), "Replica, harbor chase"
    )
    assert (allowed.status, allowed.consent_id) == (AiUse.Status.ALLOWED, consent.pk)
    page.goto(f"/admin/consent/aiuse/{allowed.pk}/change/")
    expect(page.locator("span.badge.badge-allowed")).to_have_count(1)

    violation = _record_use(
        page, production, "Marcus Bell", datetime(2025, 8, 14, 9, tzinfo=UTC), "Replica, no rider"
    )
    assert (violation.status, violation.consent_id) == (AiUse.Status.VIOLATION, None)
    page.goto(f"/admin/consent/aiuse/{violation.pk}/change/")
    expect(page.locator("span.badge.badge-violation")).to_have_count(1)
    screenshot(page, "ai-use-violation")
    return allowed


def run_and_approve(page, production) -> CompensationRun:
    """August's run: computed on saving (Celery runs in-process here), reviewed (each item of
    its review acknowledged with a note), then approved from its page. The violation's lines
    are held, not posted."""
    page.goto("/admin/compensation/compensationrun/add/")
    page.get_by_label("Production:", exact=True).select_option(label=production.title)
    page.get_by_label("Period from:", exact=True).fill("2025-08-01")
    page.get_by_label("Period to:", exact=True).fill("2025-08-31")
    page.get_by_label("Due date:", exact=True).fill("2025-09-12")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote")).to_have_count(0)
    run = CompensationRun.objects.get(production=production)
    assert run.status == CompensationRun.Status.COMPUTED, run.error
    lines = run.lines.all()
    assert {line.status for line in lines if line.engagement.person.payroll_ref == "MP-0002"} == {
        "held"
    }

    # Its review first: each item acknowledged with a note before "Approve run" is offered.
    page.goto(f"/admin/compensation/compensationrun/{run.pk}/change/")
    page.locator("#run-review").click()
    expect(page.locator("#review-people")).to_be_visible()
    screenshot(page, "run-review")
    items = page.locator("form.acknowledge-item")
    for _ in range(items.count()):
        items.first.locator("textarea").fill("Checked against the call sheets.")
        items.first.get_by_role("button", name="Acknowledge").click()
        expect(page.locator(".messagelist .success")).to_contain_text("acknowledged")
    expect(items).to_have_count(0)
    page.goto(f"/admin/compensation/compensationrun/{run.pk}/change/")
    page.get_by_role("button", name="Approve run").click()
    expect(page.locator(".messagelist .success")).to_contain_text("approved")
    run.refresh_from_db()
    assert run.status == CompensationRun.Status.APPROVED
    assert run.approved_by.username == "meridian"
    return run


def open_payables(page, production, run):
    """From the approved run to the payables it posted: Ava's pay and the P&H to the fund;
    nothing for the held violation."""
    # The sidebar links every payable; the run's own link lists its production's.
    page.locator("#content").get_by_role("link", name="Payables", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/ledger/payable/"))
    payables = Payable.objects.filter(production=production)
    assert payables.exists()
    assert not payables.filter(person__payroll_ref="MP-0002").exists()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(payables.count())
    expect(rows.first).to_contain_text(production.title)
    assert no_horizontal_scroll(page)
    screenshot(page, "payables-after-approval")


def revoke_consent(page, consent, use):
    """The performer withdraws from 1 August: the page first shows the recorded use the
    revocation leaves uncovered, and records nothing until "Revoke consent" is pressed."""
    page.goto(f"/admin/consent/consent/{consent.pk}/change/")
    page.locator("#content").get_by_role("link", name="Revoke", exact=True).click()
    # Another date is previewed before any reason is typed, as the page offers.
    page.get_by_label("Takes effect at").fill("2025-08-01 00:00")
    page.get_by_role("button", name="Show affected uses").click()
    affected = page.locator("table#affected-uses tbody tr.affected-use")
    expect(affected).to_have_count(1)
    expect(affected).to_contain_text(f"AI use #{use.pk}")
    assert not consent.events.exists()

    page.get_by_label("Reason").fill("The performer withdrew consent by letter of 2025-07-31.")

    page.get_by_role("button", name="Revoke consent").click()
    expect(page.locator(".messagelist .success")).to_contain_text("revoked")
    event = consent.events.get()
    assert (event.kind, event.actor.username) == ("revoked", "meridian")
    assert event.effective_at == datetime(2025, 8, 1, tzinfo=UTC)
