"""A payment made outside payroll (a cheque) recorded on the payable's admin page: through the
payment service as the studio's staff member ("user:<id>"), once per form shown (a double click
replays, never pays twice), refused with a form error and nothing written when payroll's own
checks refuse it (more than is due, a future date, a reference already recorded), not offered to
guild staff, and for a union fund's payable as for a person's.

The scene (tests/compensation/api_helpers.build_world): Ann's 4 August 2025 on Meridian's film,
approved: 1246.00 day pay, 1090.25 overtime, 490.61 to the SAG-AFTRA P&H fund."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from compensation import review, runs
from ledger.models import IdempotencyRecord, JournalTransaction, Payable, Payment, Posting
from tests.compensation.api_helpers import (
    build_world,
    clear_parameter_cache,
    computed_run,
    record_day,
)

pytestmark = pytest.mark.django_db


def approve(run, actor):
    """Approve a computed run as its studio's staff do: each item of its review acknowledged."""
    for key in review.missing(run):
        review.acknowledge(actor=actor, run=run, key=key, note="Checked against the call sheet.")
    return runs.run_approve(actor=actor, run=run)


@pytest.fixture
def approved():
    clear_parameter_cache()
    w = build_world()
    record_day(w.ann, w.maya)
    approve(computed_run(w.film, w.maya), w.maya)
    w.day = Payable.objects.get(rule="sag.pay.day")
    w.fund = Payable.objects.get(fund="sag-aftra-ph")
    yield w
    clear_parameter_cache()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_of(payable) -> str:
    return reverse("admin:ledger_payable_change", args=[payable.pk])


def form_key(client, payable) -> str:
    """The one-time key the payable's page renders in its payment form."""
    page = client.get(page_of(payable))
    assert page.status_code == 200
    found = re.search(r'name="payment-key" value="([0-9a-f-]+)"', page.content.decode())
    assert found, "the page offers the payment form"
    return found.group(1)


def pay(client, payable, key, **fields):
    body = {
        "payment-amount": "1000.00",
        "payment-paid_at_0": "2025-08-25",
        "payment-paid_at_1": "09:30:00",
        "payment-time_zone": "America/Los_Angeles",
        "payment-payroll_reference": "CHQ-1001",
        "payment-note": "Payroll was closed for the holiday; paid by cheque.",
        "payment-key": key,
    }
    body.update({f"payment-{name}": value for name, value in fields.items()})
    return client.post(reverse("admin:ledger_payable_pay", args=[payable.pk]), body)


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Payment, JournalTransaction, Posting, IdempotencyRecord, LogEntry)
    }


def form_errors(response) -> str:
    assert response.status_code == 200, response.status_code
    text = unescape(response.content.decode())
    found = re.search(r'<form[^>]*id="payment-form".*?</form>', text, re.S)
    assert found, "the page shows the payment form again"
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', found.group(0), re.S))


def test_studio_staff_record_a_cheque_through_the_payment_service(approved):
    w = approved
    client = logged_in(w.maya)
    response = pay(client, w.day, form_key(client, w.day))
    assert response.status_code == 302 and response["Location"] == page_of(w.day)
    [payment] = Payment.objects.all()
    assert payment.payable == w.day and payment.amount == Decimal("1000.00")
    # 09:30 in Los Angeles on 25 August (summer time, UTC-7) is 16:30 UTC.
    assert payment.paid_at == datetime(2025, 8, 25, 16, 30, tzinfo=UTC)
    assert (payment.payroll_reference, payment.client) == ("CHQ-1001", f"user:{w.maya.pk}")
    assert payment.transaction.actor == w.maya and payment.transaction.kind == "payment"
    page = unescape(client.get(page_of(w.day)).content.decode())
    assert "246.00 USD" in page, "still due: 1246.00 - 1000.00"
    assert reverse("admin:ledger_payment_change", args=[payment.pk]) in page
    payment_page = client.get(reverse("admin:ledger_payment_change", args=[payment.pk]))
    assert "Payroll was closed for the holiday; paid by cheque." in payment_page.content.decode()


def test_the_same_form_sent_twice_pays_once(approved):
    w = approved
    client = logged_in(w.maya)
    key = form_key(client, w.day)
    first = pay(client, w.day, key)
    after_first = counts()
    second = pay(client, w.day, key)
    assert first.status_code == second.status_code == 302
    assert counts() == after_first and Payment.objects.count() == 1
    followed = client.get(second["Location"])
    notes = [str(m) for m in followed.context["messages"]]
    assert any("already recorded; not paid twice" in note for note in notes), notes
    # A new page draws a new key: a second cheque is a second payment.
    pay(client, w.day, form_key(client, w.day), amount="100.00", payroll_reference="CHQ-1002")
    assert Payment.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "1246.01"}, "is more than the 1246.00 USD still due"),
        ({"paid_at_0": "2099-01-01"}, "dated in the future"),
        ({"paid_at_0": "2025-08-01"}, "dated before payable"),
        ({"amount": "12,00"}, ""),
    ],
)
def test_a_refused_payment_is_a_form_error_and_writes_nothing(approved, fields, message):
    w = approved
    client = logged_in(w.maya)
    before = counts()
    errors = form_errors(pay(client, w.day, form_key(client, w.day), **fields))
    assert errors.strip(), "an error is shown on the form"
    assert message in errors
    assert counts() == before


def test_a_reference_already_recorded_is_refused(approved):
    w = approved
    client = logged_in(w.maya)
    pay(client, w.day, form_key(client, w.day), amount="10.00")
    before = counts()
    response = pay(client, w.day, form_key(client, w.day), amount="20.00")
    assert "is already recorded" in form_errors(response)
    assert counts() == before


def test_guild_staff_and_other_studios_cannot_record_a_payment(approved):
    w = approved
    sam = logged_in(w.sam)  # SAG-AFTRA's staff see the payable, and may not pay it
    page = sam.get(page_of(w.day))
    assert page.status_code == 200 and 'id="payment-form"' not in page.content.decode()
    assert pay(sam, w.day, "4b0f6f55-6b57-4a43-9a4f-2f3c2a1a0c11").status_code == 403
    nora = logged_in(w.nora)  # another studio's staff do not see it at all
    assert pay(nora, w.day, "4b0f6f55-6b57-4a43-9a4f-2f3c2a1a0c12").status_code == 404
    assert not Payment.objects.exists()


def test_a_fund_payable_is_paid_the_same_way(approved):
    w = approved
    client = logged_in(w.root)
    response = pay(client, w.fund, form_key(client, w.fund), amount="490.61")
    assert response.status_code == 302
    [payment] = Payment.objects.filter(payable=w.fund)
    assert payment.amount == Decimal("490.61") and payment.client == f"user:{w.root.pk}"
    page = client.get(page_of(w.fund)).content.decode()
    assert "Nothing is due on this payable." in page and 'id="payment-form"' not in page
