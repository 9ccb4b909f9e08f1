"""A studio's working day in the browser, on the demo, signed in as Meridian's staff: the
dashboard with its charts, the open items, a run's review (one item acknowledged with a note,
"Approve run" held back while others remain), a payment recorded by hand against a payable, the
payables and AI uses lists, and the offline API docs. The pages staff use most are saved as
screenshots on a laptop (1366 px) and a phone (390 px), and fit the phone's width."""

import re
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from compensation import review, runs
from compensation.models import CompensationRun
from core.audit import system_user
from core.money import money_display
from ledger.access import scope_for
from ledger.journal import selectors as journal_selectors
from ledger.models import Payable, Payment, Production
from reports import notifications
from reports.services import label_publish

from .conftest import LAPTOP, log_in, no_horizontal_scroll, screenshot

pytestmark = [pytest.mark.postgres]

PHONE = {"width": 390, "height": 844}


def both_widths(page, name: str):
    """Screenshots of the page at 1366 px (`<name>-1366`) and 390 px (`<name>-390`); at both
    the document scrolls only down, never sideways. The laptop size is restored."""
    page.set_viewport_size(LAPTOP)
    screenshot(page, f"{name}-1366")
    assert no_horizontal_scroll(page), f"{name} scrolls sideways at 1366 px: {overflowing(page)}"
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-390")
    fits = no_horizontal_scroll(page)
    wide = [] if fits else overflowing(page)
    page.set_viewport_size(LAPTOP)
    assert fits, f"{name} scrolls sideways at 390 px; too wide: {wide}"


# The elements reaching past the window's right edge (none of whose children does), for the
# failure message: tag, id and classes, and where their right edge is.
_OVERFLOWING = """() => {
  const past = e => e.getBoundingClientRect().right > window.innerWidth + 1;
  const name = e => {
    const classes = typeof e.className === "string" ? e.className.trim() : "";
    return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
      + (classes ? "." + classes.split(/\\s+/).join(".") : "");
  };
  return [...document.querySelectorAll("body *")]
    .filter(e => past(e) && ![...e.children].some(past))
    .slice(0, 10)
    .map(e => name(e) + " " + Math.round(e.getBoundingClientRect().right) + "px");
}"""


def overflowing(page) -> list[str]:
    """The innermost elements that make the page scroll sideways."""
    return page.evaluate(_OVERFLOWING)


def test_the_dashboard_draws_its_charts_at_both_widths(demo, page):
    log_in(page, "meridian")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    charts = page.locator("#dashboard-charts svg[role=img]")
    expect(charts.first).to_be_visible()
    titles = charts.locator(":scope > title").all_text_contents()
    assert titles and all(t.strip() for t in titles), titles
    # Each chart's label states its figures in words for a screen reader.
    assert charts.first.get_attribute("aria-label")
    both_widths(page, "dashboard")


def test_open_items_list_their_groups_at_both_widths(demo, page):
    log_in(page, "meridian")
    page.goto("/admin/open-items/")
    groups = page.locator("#content-main section[data-group]")
    expect(groups.first).to_be_visible()
    assert groups.count() >= 2
    for group in groups.all():
        expect(group.locator("h2")).to_contain_text(re.compile(r"\(\d+\)"))
    both_widths(page, "open-items")


def test_staff_review_a_rerun_and_acknowledge_one_item(demo, page):
    """The demo's approved run of The Long Light, run again for the same period: its review lists
    the totals and the items to acknowledge; one acknowledged with a note leaves the others,
    and "Approve run" stays disabled."""
    film = Production.objects.get(title="The Long Light")
    approved = CompensationRun.objects.get(
        production=film, kind=CompensationRun.Kind.PAY, status=CompensationRun.Status.APPROVED
    )
    with transaction.atomic():  # computed on commit: the test settings run Celery eagerly
        run = runs.run_start(
            actor=system_user(),
            production=film,
            period_from=approved.period_from,
            period_to=approved.period_to,
            due_date=approved.due_date,
        )
    run.refresh_from_db()
    assert run.status == CompensationRun.Status.COMPUTED, run.error
    open_keys = review.missing(run)
    assert len(open_keys) >= 2, open_keys

    log_in(page, "meridian")
    page.goto(f"/admin/compensation/compensationrun/{run.pk}/change/")
    expect(page.locator("#approve-run-blocked")).to_be_disabled()
    page.locator("#run-review").click()
    expect(page).to_have_url(re.compile(rf"/compensationrun/{run.pk}/review/"))
    expect(page.locator("#review-people + table tbody tr").first).to_be_visible()
    expect(page.locator("#review-funds + table tbody tr").first).to_be_visible()
    expect(page.locator("#review-people + table")).to_contain_text(re.compile(r"\d\.\d{2}"))
    expect(page.locator("#review-differences")).to_be_visible()
    expect(page.locator("#content-main")).to_contain_text(f"Against run #{approved.pk}")
    forms = page.locator("form.acknowledge-item")
    expect(forms).to_have_count(len(open_keys))
    both_widths(page, "run-review")

    first = forms.first
    key = first.locator("input[name=key]").input_value()
    first.locator("textarea").fill("Checked against the call sheets of the week.")
    first.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".messagelist .success")).to_contain_text("acknowledged")
    expect(forms).to_have_count(len(open_keys) - 1)
    expect(page.locator("#content-main")).to_contain_text(
        "Checked against the call sheets of the week."
    )
    expect(page.get_by_role("button", name="Approve run")).to_be_disabled()
    expect(page.locator("#approve-run")).to_have_count(0)
    remaining = review.missing(run)
    assert key not in remaining and len(remaining) == len(open_keys) - 1
    run.refresh_from_db()
    assert run.status == CompensationRun.Status.COMPUTED
    acknowledgement = run.acknowledgements.get(key=key)
    assert acknowledgement.acknowledged_by.username == "meridian"
    both_widths(page, "run-review-acknowledged")


def test_staff_record_a_payment_by_hand(demo, page):
    """A cheque for part of an unpaid payable: listed among the payable's payments, and what is
    still due goes down by its amount."""
    payable = (
        journal_selectors.payables_with_amounts(Payable.objects.all())
        .filter(production__studio__slug="meridian", due_amount__gt=Decimal("1.00"))
        .order_by("id")
        .first()
    )
    assert payable is not None
    due, currency = payable.due_amount, payable.currency
    amount = Decimal("1.00")
    log_in(page, "meridian")
    page.goto(f"/admin/ledger/payable/{payable.pk}/change/")
    expect(page.locator(".fieldBox.field-due_shown .readonly")).to_have_text(
        money_display(due, currency)
    )
    form = page.locator("#payment-form")
    form.locator("#id_payment-amount").fill(str(amount))
    form.locator("#id_payment-paid_at_0").fill("2025-09-01")
    form.locator("#id_payment-paid_at_1").fill("10:30:00")
    form.locator("#id_payment-time_zone").select_option("UTC")
    form.locator("#id_payment-payroll_reference").fill("CHQ-100482")
    form.locator("#id_payment-note").fill("Cheque sent by post, outside the payroll run.")
    form.get_by_role("button", name="Record the payment").click()
    expect(page.locator(".errorlist")).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"/admin/ledger/payable/{payable.pk}/change/$"))
    payments = page.locator(".field-payments_list")
    expect(payments).to_contain_text("CHQ-100482")
    expect(payments).to_contain_text(money_display(amount, currency))
    expect(payments).to_contain_text("2025-09-01 10:30")
    expect(page.locator(".fieldBox.field-due_shown .readonly")).to_have_text(
        money_display(due - amount, currency)
    )
    payment = Payment.objects.get(payable=payable, payroll_reference="CHQ-100482")
    assert payment.amount == amount
    assert payment.paid_at.date() == date(2025, 9, 1)
    both_widths(page, "payable-payment")


def test_payables_and_ai_uses_lists_at_both_widths(demo, page):
    log_in(page, "meridian")
    page.goto("/admin/ledger/payable/")
    rows = page.locator("#result_list tbody tr")
    expect(rows.first).to_be_visible()
    expect(rows.first).to_contain_text("The Long Light")
    both_widths(page, "payables")

    page.goto("/admin/consent/aiuse/")
    rows = page.locator("#result_list tbody tr")
    expect(rows.first).to_be_visible()
    both_widths(page, "ai-uses")


def test_the_api_docs_load_nothing_from_another_host(page, live_server):
    host = urlsplit(live_server.url).netloc
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui")).to_be_visible()
    expect(page.locator(".swagger-ui .opblock-tag").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert requested
    elsewhere = [
        url for url in requested if not url.startswith("data:") and urlsplit(url).netloc != host
    ]
    assert not elsewhere, elsewhere
    screenshot(page, "api-docs")


def test_the_published_disclosure_label_reads_at_both_widths(demo, page):
    """The Long Light's label, published by its studio's staff, as anyone reaches it: no sign-in,
    the uses recorded and the consents relied on, readable on a laptop and a phone."""
    film = Production.objects.get(title="The Long Light")
    staff = User.objects.get(username="meridian")
    label = label_publish(actor=staff, scope=scope_for(staff), production=film, published=True)
    page.goto(f"/disclosure/{label.public_id}/")
    expect(page.locator("h1")).to_have_text("AI disclosure: The Long Light")
    expect(page.get_by_role("heading", name="AI uses recorded")).to_be_visible()
    expect(page.get_by_role("heading", name="Consents relied on")).to_be_visible()
    assert page.locator("table tbody tr").count() >= 2
    both_widths(page, "disclosure-label")


def test_notifications_and_their_preference_at_both_widths(demo, page):
    """The scan tells Meridian's staff of their open items: the unread count in the user tools,
    the list, and the preference page, which saves a choice."""
    notifications.notify_open_items(now=timezone.now())
    log_in(page, "meridian")
    link = page.locator("#user-tools .gl-notifications-link")
    expect(link).to_contain_text(re.compile(r"Notifications \(\d+\)"))
    assert int(link.get_attribute("data-unread")) > 0
    link.click()
    expect(page).to_have_url(re.compile(r"/admin/notifications/$"))
    expect(page.locator("#content-main li").first).to_be_visible()
    both_widths(page, "notifications")
    page.goto("/admin/notifications/preferences/")
    page.get_by_label("Never").check()
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator(".messagelist .success")).to_contain_text("saved")
    both_widths(page, "notification-preferences")
