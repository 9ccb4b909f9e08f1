"""A payable's admin page as business affairs read it: owed, paid and still due as money, its
payee (the person, or the union fund by name), its production, a link to the run that created it
and to the lines behind it, and its payments, each linked; never the source ids the ledger keeps
to trace it.

The scene: Ann's 4 August 2025 on Meridian's film, approved (tests/ledger/test_manual_payment)."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse

from compensation.models import CompensationLine
from ledger.journal import services as journal_services
from ledger.models import Payable
from tests.compensation.api_helpers import (
    build_world,
    clear_parameter_cache,
    computed_run,
    record_day,
)
from tests.helpers import make_payable
from tests.ledger.test_manual_payment import approve, logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved():
    clear_parameter_cache()
    w = build_world()
    record_day(w.ann, w.maya)
    w.run = approve(computed_run(w.film, w.maya), w.maya)
    w.day = Payable.objects.get(rule="sag.pay.day")
    w.fund = Payable.objects.get(fund="sag-aftra-ph")
    yield w
    clear_parameter_cache()


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return unescape(response.content.decode())


def page(client, payable) -> str:
    return text_of(client.get(reverse("admin:ledger_payable_change", args=[payable.pk])))


def link(page_text: str, anchor_id: str) -> str:
    found = re.search(rf'<a href="([^"]+)" id="{anchor_id}"', page_text)
    assert found, f"the page links {anchor_id}"
    return found.group(1)


def pay(payable, amount: str, reference: str):
    return journal_services.payment_confirm(
        actor=payable.production.studio.staff.first().user,
        client="key:test",
        idempotency_key=reference,
        payable=payable,
        amount=Decimal(amount),
        paid_at=datetime(2025, 8, 25, 12, tzinfo=UTC),
        payroll_reference=reference,
        render=lambda payment: {"id": payment.pk},
    )


def test_the_page_shows_the_figures_and_payee_and_no_source_ids(approved):
    w = approved
    text = page(logged_in(w.maya), w.day)
    assert "Ann Example" in text and "The Long Light" in text
    assert "1,246.00 USD" in text, "owed"
    assert "0.00 USD" in text, "paid"
    assert "2025-08-20" in text or "Aug. 20, 2025" in text, "the due date"
    assert w.day.source_id not in text and "compensation_run" not in text
    assert "source" not in re.sub(r"<[^>]+>", " ", text).lower().replace("where it comes from", "")


def test_the_run_and_the_lines_behind_a_persons_payable_are_linked(approved):
    w = approved
    client = logged_in(w.maya)
    text = page(client, w.day)
    run_url = link(text, "payable-run")
    assert run_url == reverse("admin:compensation_compensationrun_change", args=[w.run.pk])
    assert client.get(run_url).status_code == 200
    lines = client.get(link(text, "payable-lines"))
    assert lines.status_code == 200
    expected = set(CompensationLine.objects.filter(run=w.run, engagement=w.ann, rule="sag.pay.day"))
    assert expected and set(lines.context["cl"].result_list) == expected


def test_a_fund_payable_names_the_fund_and_links_its_fringe_lines(approved):
    w = approved
    client = logged_in(w.maya)
    text = page(client, w.fund)
    assert "SAG-AFTRA Pension and Health (sag-aftra-ph)" in text and "490.61 USD" in text
    assert w.fund.source_id not in text
    lines = client.get(link(text, "payable-lines"))
    expected = set(CompensationLine.objects.filter(run=w.run, fund="sag-aftra-ph"))
    assert expected and set(lines.context["cl"].result_list) == expected


def test_payments_are_listed_with_links_and_the_figures_follow(approved):
    w = approved
    first = pay(w.day, "1000.00", "PAY-1")
    second = pay(w.day, "46.00", "PAY-2")
    text = page(logged_in(w.maya), w.day)
    for result in (first, second):
        assert reverse("admin:ledger_payment_change", args=[result.body["id"]]) in text
    assert "PAY-1" in text and "PAY-2" in text
    assert "1,046.00 USD" in text, "paid"
    assert "200.00 USD" in text, "still due: 1246.00 - 1046.00"


def test_a_residual_payable_links_its_residual_run_and_another_source_none(approved):
    w = approved
    residual = journal_services.payable_create(
        actor=w.maya,
        production=w.film,
        person=w.ann.person,
        engagement=w.ann,
        rule="sag.residual.hbsvod",
        description="Residuals (high-budget SVOD)",
        amount=Decimal("10.00"),
        currency="USD",
        period_from=date(2025, 7, 1),
        period_to=date(2025, 9, 30),
        due_date=date(2025, 10, 30),
        source_type="residual_run",
        source_id="4242:0",
    )
    text = page(logged_in(w.root), residual)
    url = reverse("admin:compensation_residualrun_change", args=[4242])
    assert link(text, "payable-run") == url
    assert link(text, "payable-lines") == f"{url}#residual_lines-group"
    assert "4242:0" not in text
    other = page(logged_in(w.root), make_payable(w.ann, actor=w.maya))
    assert "Not created by a run." in other and 'id="payable-run"' not in other


def test_the_changelists_show_money_as_people_read_it(approved):
    """Payables, payments, lines and engagements list money with thousands separators, two
    decimals and the currency, and rates and quantities without trailing zeros."""
    w = approved
    pay(w.day, "1000.00", "PAY-1")
    client = logged_in(w.maya)
    payables = text_of(client.get(reverse("admin:ledger_payable_changelist")))
    assert "1,246.00 USD" in payables and "490.61 USD" in payables, "owed"
    assert "246.00 USD" in payables, "still due"
    assert "1246.00" not in payables
    payments = text_of(client.get(reverse("admin:ledger_payment_changelist")))
    assert "1,000.00 USD" in payments
    line = CompensationLine.objects.get(run=w.run, engagement=w.ann, rule="sag.pay.day")
    lines = text_of(client.get(reverse("admin:compensation_compensationline_changelist")))
    assert f"{line.amount:,.2f} USD" in lines
    assert f">{line.rate}<" not in lines and f">{line.quantity}<" not in lines
    engagements = text_of(client.get(reverse("admin:ledger_engagement_changelist")))
    assert f"{w.ann.rate_amount:,.2f} {w.ann.rate_currency}" in engagements
