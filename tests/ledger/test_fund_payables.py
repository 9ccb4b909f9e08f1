"""Every union-fund contribution is a payable of its own, owed to the fund: created by a
compensation run's approval in the same balanced transaction as the person's pay, listed and
filtered by payroll (each payable names its payee), paid through the payroll API under the same
Idempotency-Key contract, summed per fund, adjusted by a rerun, and shown in the admin and the
compliance report as the fund's.

The scene (tests/compensation/api_helpers.build_world): Ann, a SAG-AFTRA day performer at 1000 a
day on Meridian's film, works 4 August 2025 07:00-19:30 with a 30-minute meal: 1246.00 day pay
(the minimum) and 1090.25 overtime, 2336.25 covered pay, so P&H 0.21 × 2336.25 = 490.61 to the
SAG-AFTRA P&H fund. Dismissed at 19:00 instead: overtime 934.50, covered pay 2180.50, P&H
457.91, i.e. 32.70 less."""

import csv
import io
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from compensation import runs, services
from compensation.models import CompensationLine, RunPosting
from core.errors import DomainError
from ledger.journal import services as journal_services
from ledger.models import (
    Account,
    IdempotencyRecord,
    JournalTransaction,
    Payable,
    Payment,
    PayrollKey,
    Posting,
)
from ledger.webhooks.services import WebhookDelivery, WebhookEndpoint
from reports import compliance
from tests.api_schema import assert_matches_the_documented_webhook, message_validator
from tests.compensation.api_helpers import (
    build_world,
    clear_parameter_cache,
    computed_run,
    record_day,
)
from tests.helpers import acknowledge_all, assert_error, csv_text, key_client, make_payable

pytestmark = pytest.mark.django_db

D = Decimal
PAYABLES = "/api/v1/payables/"
PAYMENTS = "/api/v1/payments/"
BALANCES = "/api/v1/ledger/balances/"
FUND = "sag-aftra-ph"
PAID_AT = "2025-08-25T12:00:00Z"


@pytest.fixture(autouse=True)
def fresh_parameters():
    clear_parameter_cache()
    yield
    clear_parameter_cache()


@pytest.fixture
def world():
    return build_world()


def approved_run(world):
    """A run of the film computed, its review acknowledged, and approved by Maya."""
    run = computed_run(world.film, world.maya)
    acknowledge_all(run)
    return runs.run_approve(actor=world.maya, run=run)


@pytest.fixture
def approved(world):
    """Ann's 4 August worked and its run approved."""
    world.card = record_day(world.ann, world.maya)
    world.run = approved_run(world)
    world.fund_payable = Payable.objects.get(fund=FUND)
    return world


def ids(client, **params) -> list[int]:
    response = client.get(PAYABLES, params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None
    return [item["id"] for item in body["results"]]


def pay(client, payable_id, amount, *, key, ref):
    body = {"payable": payable_id, "amount": amount, "paid_at": PAID_AT, "payroll_reference": ref}
    return client.post(PAYMENTS, body, format="json", headers={"Idempotency-Key": key})


def balances(client, **params) -> list[tuple]:
    response = client.get(BALANCES, params)
    assert response.status_code == 200, response.content
    return [
        (row["fund"], row["person"], row["owed"], row["paid"], row["due"])
        for row in response.json()
    ]


def owed_legs(transaction_):
    return sorted(
        (p.account.purpose, p.payable_id, p.amount)
        for p in transaction_.postings.select_related("account")
        if p.payable_id
    )


# --- approval -------------------------------------------------------------------------------


def test_approval_owes_the_person_and_the_fund_in_one_balanced_transaction(approved):
    w = approved
    [posted] = JournalTransaction.objects.all()
    assert (posted.kind, posted.source_id) == ("obligation", f"{w.run.pk}:{w.ann.pk}")
    postings = list(posted.postings.select_related("account"))
    assert sum(p.amount for p in postings) == 0
    day = Payable.objects.get(rule="sag.pay.day")
    overtime = Payable.objects.get(rule="sag.pay.overtime")
    fund = w.fund_payable
    assert owed_legs(posted) == sorted(
        [
            ("person_payable", day.pk, D("-1246.00")),
            ("person_payable", overtime.pk, D("-1090.25")),
            ("union_fund_payable", fund.pk, D("-490.61")),
        ]
    )
    # The contribution is the production's fringe expense, not its compensation expense.
    expenses: dict[str, Decimal] = {}
    for p in postings:
        if not p.payable_id:
            expenses[p.account.purpose] = expenses.get(p.account.purpose, D(0)) + p.amount
    assert expenses == {"compensation_expense": D("2336.25"), "fringe_expense": D("490.61")}
    fund_account = next(p.account for p in postings if p.payable_id == fund.pk)
    assert (fund_account.fund, fund_account.person_id) == (FUND, None)

    assert (fund.person_id, fund.fund, fund.engagement_id) == (None, FUND, w.ann.pk)
    assert (fund.agreement.code, fund.rule, fund.amount, fund.currency) == (
        "sag-tvth-2023",
        "sag.ph",
        D("490.61"),
        "USD",
    )
    assert (fund.period_from, fund.period_to, fund.due_date) == (
        date(2025, 8, 4),
        date(2025, 8, 10),
        date(2025, 8, 20),
    )
    assert (fund.source_type, fund.source_id) == (
        "compensation_run",
        f"{w.run.pk}:{w.ann.pk}:fund:{FUND}:USD",
    )
    assert fund.payee_kind == "fund" and day.payee_kind == "person"
    # Named by id, never by name: a payment's journal description quotes it.
    assert fund.description == (
        f"SAG-AFTRA Pension and Health: contribution for person #{w.ann.person_id}, "
        "The Long Light, 2025-08-04 – 2025-08-10"
    )
    assert "Ann" not in fund.description
    # The fund's payable is the record: the person's payables note no fringes any more.
    assert day.fringes == [] and overtime.fringes == []
    fringe_posting = RunPosting.objects.get(run=w.run, kind="fringe")
    assert (fringe_posting.key, fringe_posting.payable_id) == (FUND, fund.pk)
    assert journal_services.payable_amounts(fund.pk)["due"] == D("490.61")


def test_the_payables_created_message_carries_each_payable_as_the_api_shows_it(
    world, django_capture_on_commit_callbacks
):
    key = PayrollKey.objects.get(name="payroll-meridian")
    WebhookEndpoint.objects.create(payroll_key=key, url="https://payroll.example/hook")
    record_day(world.ann, world.maya)
    run = computed_run(world.film, world.maya)
    with django_capture_on_commit_callbacks(execute=False):
        acknowledge_all(run)
        runs.run_approve(actor=world.maya, run=run)
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event_type == "payables.created"
    message = delivery.payload
    assert message["type"] == "payables.created"
    assert message["data"]["studio"] == world.film.studio_id
    payables = message["data"]["payables"]
    assert [p["id"] for p in payables] == sorted(Payable.objects.values_list("pk", flat=True))
    assert {p["payee"]["kind"] for p in payables} == {"person", "fund"}
    # Each payable as payroll's own GET of it answers: nothing more to fetch.
    client = key_client(world.meridian_key)
    for payable in payables:
        assert client.get(f"{PAYABLES}{payable['id']}/").json() == payable
    # The studio id of the message is a filter value the payables list takes.
    listed = client.get(PAYABLES, {"studio": message["data"]["studio"], "id": payables[0]["id"]})
    assert [p["id"] for p in listed.json()["results"]] == [payables[0]["id"]]
    # The message is what the schema's `webhooks` documents.
    assert_matches_the_documented_webhook("payables.created", message)
    validator = message_validator("payables.created")
    for broken in (
        {**message, "data": {**message["data"], "studio": str(world.film.studio_id)}},
        {**message, "data": {**message["data"], "payables": [payables[0]["id"]]}},
        {**message, "type": "payables.paid"},
    ):
        assert not validator.is_valid(broken)
    without_due_date = {k: v for k, v in payables[0].items() if k != "due_date"}
    assert not validator.is_valid(
        {**message, "data": {**message["data"], "payables": [without_due_date]}}
    )


# --- listing and filters --------------------------------------------------------------------


def test_payroll_lists_both_payees_and_filters_them(approved):
    w = approved
    client = key_client(w.meridian_key)
    person_ids = sorted(Payable.objects.filter(fund="").values_list("pk", flat=True))
    fund_id = w.fund_payable.pk
    assert ids(client) == sorted([*person_ids, fund_id])
    assert ids(client, payee_kind="person") == person_ids
    assert ids(client, payee_kind="fund") == [fund_id]
    assert ids(client, fund=FUND) == [fund_id]
    assert ids(client, fund="wga-health") == []
    assert ids(client, payee_kind="fund", production=w.film.pk) == [fund_id]
    # A person filter finds what is owed to the person; the fund's payable is the fund's.
    assert ids(client, person=w.ann.person_id) == person_ids
    detail = client.get(f"{PAYABLES}{fund_id}/").json()
    assert detail["payee"] == {"kind": "fund", "person": None, "fund": FUND}
    assert (detail["person"], detail["engagement"], detail["rule"]) == (None, w.ann.pk, "sag.ph")
    # The other studio's key sees none of it, whatever it filters.
    assert ids(key_client(w.northgate_key), payee_kind="fund") == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"payee_kind": "union"}, "payee_kind"),
        ({"payee_kind": "FUND"}, "payee_kind"),
        ({"fund": "f" * 61}, "fund"),
    ],
)
def test_an_unknown_payee_filter_is_a_400(approved, params, field):
    client = key_client(approved.meridian_key)
    for url in (PAYABLES, f"{PAYABLES}export/"):
        body = assert_error(client.get(url, params), 400, "invalid")
        assert set(body["fields"]) == {field}, body


def test_the_payables_export_names_the_payee(approved):
    w = approved
    response = key_client(w.meridian_key).get(f"{PAYABLES}export/")
    text = csv_text(response)
    rows = {int(r["payable_id"]): r for r in csv.DictReader(io.StringIO(text))}
    fund_row = rows[w.fund_payable.pk]
    assert (fund_row["payee_kind"], fund_row["fund"]) == ("fund", FUND)
    assert (fund_row["person_id"], fund_row["person"], fund_row["payroll_ref"]) == ("", "", "")
    assert fund_row["amount"] == "490.61"
    day = rows[Payable.objects.get(rule="sag.pay.day").pk]
    assert (day["payee_kind"], day["fund"], day["person"]) == ("person", "", "Ann Example")
    assert int(day["person_id"]) == w.ann.person_id


# --- paying the fund ------------------------------------------------------------------------


def counts() -> tuple[int, ...]:
    return (
        Payment.objects.count(),
        JournalTransaction.objects.count(),
        Posting.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def test_payroll_pays_a_fund_payable_once_per_idempotency_key(approved):
    w = approved
    client = key_client(w.meridian_key)
    fund_id = w.fund_payable.pk
    before = counts()
    first = pay(client, fund_id, "490.61", key="ph-2025-08", ref="PH-0804")
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 2, before[3] + 1)
    payment = Payment.objects.get()
    legs = {p.account.purpose: p.amount for p in payment.transaction.postings.all()}
    assert legs == {"union_fund_payable": D("490.61"), "payroll_clearing": D("-490.61")}

    replay = pay(client, fund_id, "490.61", key="ph-2025-08", ref="PH-0804")
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.content == first.content
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 2, before[3] + 1)
    assert_error(pay(client, fund_id, "1.00", key="ph-2025-08", ref="PH-0804"), 422)
    assert_error(pay(client, fund_id, "0.01", key="ph-more", ref="PH-MORE"), 422, "overpayment")

    assert journal_services.payable_amounts(fund_id) == {
        "owed": D("490.61"),
        "paid": D("490.61"),
        "due": D("0.00"),
    }
    assert fund_id not in ids(client)
    export = key_client(w.meridian_key).get(f"{PAYMENTS}export/")
    [row] = csv.DictReader(io.StringIO(csv_text(export)))
    assert (row["payable_id"], row["payee_kind"], row["fund"], row["person"]) == (
        str(fund_id),
        "fund",
        FUND,
        "",
    )


def test_balances_per_fund_are_zero_once_the_fund_is_paid(approved):
    w = approved
    client = key_client(w.meridian_key)
    assert balances(client, group="fund") == [(FUND, None, "490.61", "0.00", "490.61")]
    # Person balances hold only what is owed to people; studio balances hold both.
    assert balances(client, group="person") == [
        (None, w.ann.person_id, "2336.25", "0.00", "2336.25")
    ]
    assert balances(client, group="studio") == [(None, None, "2826.86", "0.00", "2826.86")]
    assert balances(client, group="studio", fund=FUND) == [(None, None, "490.61", "0.00", "490.61")]
    assert balances(client, group="fund", fund="wga-health") == []
    assert balances(client, group="fund", person=w.ann.person_id) == []
    assert balances(key_client(w.northgate_key), group="fund") == []

    assert pay(client, w.fund_payable.pk, "490.61", key="k-ph", ref="PH-1").status_code == 201
    assert balances(client, group="fund") == [(FUND, None, "490.61", "490.61", "0.00")]
    assert balances(client, group="person") == [
        (None, w.ann.person_id, "2336.25", "0.00", "2336.25")
    ]
    body = assert_error(client.get(BALANCES, {"fund": "f" * 61}), 400, "invalid")
    assert set(body["fields"]) == {"fund"}


# --- reruns ---------------------------------------------------------------------------------


def test_a_rerun_after_a_timecard_correction_adjusts_the_fund_payable(approved):
    w = approved
    fund = w.fund_payable
    payables_before = Payable.objects.count()
    services.timecard_save(
        actor=w.maya, engagement=w.ann, date=w.card.date, instance=w.card, dismissal=time(19, 0)
    )
    rerun = approved_run(w)
    assert Payable.objects.count() == payables_before, "the same payables, adjusted"
    adjustment = JournalTransaction.objects.order_by("seq").last()
    assert (adjustment.kind, adjustment.source_id) == ("adjustment", f"{rerun.pk}:{w.ann.pk}")
    assert sum(p.amount for p in adjustment.postings.all()) == 0
    overtime = Payable.objects.get(rule="sag.pay.overtime")
    assert owed_legs(adjustment) == sorted(
        [
            ("person_payable", overtime.pk, D("155.75")),
            ("union_fund_payable", fund.pk, D("32.70")),
        ]
    )
    assert journal_services.payable_amounts(fund.pk)["owed"] == D("457.91")
    fringe = RunPosting.objects.get(run=rerun, kind="fringe")
    assert (fringe.amount, fringe.payable_id) == (D("-32.70"), fund.pk)
    # Approving the rerun again posts nothing.
    seq = adjustment.seq
    acknowledge_all(rerun)
    runs.run_approve(actor=w.maya, run=rerun)
    assert JournalTransaction.objects.order_by("seq").last().seq == seq


def _approve_as_before_fund_payables(world, run):
    """Post `run` as approvals did before contributions were payables: the person's pay on
    payables, the P&H contribution on the fund's account with no payable."""
    lines = CompensationLine.objects.filter(run=run, status="payable")
    obligation = journal_services.Obligation(
        engagement=world.ann,
        source_type="compensation_run",
        source_id=f"{run.pk}:{world.ann.pk}",
        description=f"Compensation run #{run.pk}",
        effective_date=run.period_to,
    )
    postings = []
    for rule in ("sag.pay.day", "sag.pay.overtime"):
        amount = sum(line.amount for line in lines.filter(rule=rule))
        payable = runs._new_payable(run, world.ann, rule, "USD", amount)
        obligation.pay.append((payable, amount))
        postings.append(
            RunPosting(
                run=run,
                engagement=world.ann,
                kind="pay",
                key=rule,
                amount=amount,
                currency="USD",
                payable=payable,
            )
        )
    contribution = lines.get(kind="fringe").amount
    obligation.fringes.append((FUND, "USD", contribution))
    postings.append(
        RunPosting(
            run=run,
            engagement=world.ann,
            kind="fringe",
            key=FUND,
            amount=contribution,
            currency="USD",
        )
    )
    [posted] = journal_services.obligations_post(actor=world.maya, obligations=[obligation])
    for posting in postings:
        posting.transaction = posted
    RunPosting.objects.bulk_create(postings)
    run.status = "approved"
    run.save()


def test_a_contribution_posted_before_fund_payables_is_adjusted_where_it_was_posted(world):
    card = record_day(world.ann, world.maya)
    _approve_as_before_fund_payables(world, computed_run(world.film, world.maya))
    assert not Payable.objects.filter(fund=FUND).exists()

    # Less owed: the reduction goes where the contribution was posted, the fund's account.
    services.timecard_save(
        actor=world.maya,
        engagement=world.ann,
        date=card.date,
        instance=card,
        dismissal=time(19, 0),
    )
    approved_run(world)
    assert not Payable.objects.filter(fund=FUND).exists()
    reduction = JournalTransaction.objects.order_by("seq").last()
    fund_legs = [
        (p.amount, p.payable_id)
        for p in reduction.postings.select_related("account")
        if p.account.purpose == Account.Purpose.UNION_FUND_PAYABLE
    ]
    assert fund_legs == [(D("32.70"), None)]

    # More owed (a second day): the difference is a payable of its own, for payroll to pay.
    record_day(world.ann, world.maya, day=date(2025, 8, 5))
    third = approved_run(world)
    fund = Payable.objects.get(fund=FUND)
    [contribution] = third.lines.filter(kind="fringe", status="payable")
    assert contribution.amount == D("948.52")  # 0.21 × (2180.50 + 2336.25)
    assert fund.amount == D("948.52") - D("457.91")  # less what the fund account holds
    assert RunPosting.objects.get(run=third, kind="fringe").payable_id == fund.pk
    assert journal_services.payable_amounts(fund.pk)["due"] == fund.amount


# --- payable_create and the database --------------------------------------------------------


def test_payable_create_makes_a_payable_per_fund_and_refuses_a_fund_twice(world):
    payable = make_payable(
        world.ann,
        "1000.00",
        fringes=[
            journal_services.Fringe("sag-aftra-ph", "sag.ph", D("210.004")),
            journal_services.Fringe("other-fund", "other", D("0")),  # owes nothing
        ],
    )
    [fund] = Payable.objects.filter(fund__gt="")
    assert (fund.fund, fund.amount, fund.rule, fund.person_id) == (
        FUND,
        D("210.00"),
        "sag.ph",
        None,
    )
    assert fund.source_id == f"{payable.source_id}:fund:{FUND}"
    assert (fund.engagement_id, fund.agreement_id) == (world.ann.pk, payable.agreement_id)
    before = (Payable.objects.count(), JournalTransaction.objects.count())
    with pytest.raises(DomainError) as refused:
        make_payable(
            world.ann,
            "1000.00",
            fringes=[
                journal_services.Fringe(FUND, "sag.ph", D("10")),
                journal_services.Fringe(FUND, "sag.ph", D("20")),
            ],
        )
    assert "fringes" in refused.value.fields
    assert (Payable.objects.count(), JournalTransaction.objects.count()) == before


def test_a_long_source_keeps_unique_payable_sources():
    base = "x" * 60
    one = journal_services.source_id_of(base, "fund", "sag-aftra-ph")
    other = journal_services.source_id_of(base, "fund", "wga-health")
    assert len(one) == len(other) == 64 and one != other
    assert journal_services.source_id_of(7, 9, "fund", FUND, "USD") == f"7:9:fund:{FUND}:USD"


def _raw_payable(world, **payee) -> Payable:
    return Payable(
        studio_id=world.film.studio_id,
        production=world.film,
        engagement=world.ann,
        rule="sag.ph",
        description="A contribution",
        amount=D("10.00"),
        currency="USD",
        period_from=date(2025, 8, 4),
        period_to=date(2025, 8, 10),
        due_date=date(2025, 8, 20),
        source_type="test",
        source_id=f"raw-{sorted(payee)}",
        created_at=timezone.now(),
        **payee,
    )


@pytest.mark.parametrize(
    "payee", [{"person_id": "ann", "fund": FUND}, {"person_id": None, "fund": ""}]
)
def test_the_database_refuses_a_payable_with_both_payees_or_neither(world, payee):
    if payee["person_id"] == "ann":
        payee = {**payee, "person_id": world.ann.person_id}
    row = _raw_payable(world, **payee)
    with pytest.raises(ValidationError) as invalid:
        row.full_clean()
    assert "A payable is owed to a person or to a fund, not both." in str(invalid.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()
    assert not Payable.objects.exists()
    _raw_payable(world, person_id=None, fund=FUND).save()  # one payee: stored
    assert Payable.objects.count() == 1


# --- the admin and the compliance report ----------------------------------------------------


def test_the_admin_shows_the_fund_as_the_payee(approved):
    client = Client()
    client.force_login(approved.root)
    fund = approved.fund_payable
    listing = client.get("/admin/ledger/payable/", {"payee": "fund"})
    assert listing.status_code == 200
    text = listing.content.decode()
    assert "SAG-AFTRA Pension and Health (sag-aftra-ph)" in text
    assert "Ann Example" not in text, "only the fund's payables are listed"
    people = client.get("/admin/ledger/payable/", {"payee": "person"}).content.decode()
    assert "Ann Example" in people and "SAG-AFTRA Pension and Health" not in people
    page = client.get(f"/admin/ledger/payable/{fund.pk}/change/")
    assert page.status_code == 200
    assert "SAG-AFTRA Pension and Health (sag-aftra-ph)" in page.content.decode()
    balances_page = client.get("/admin/ledger/journaltransaction/balances/").content.decode()
    assert "Per union fund" in balances_page and "SAG-AFTRA Pension and Health" in balances_page


def test_overdue_contributions_are_in_the_compliance_report_as_the_funds(approved):
    w = approved
    as_of = datetime(2025, 9, 1, 12, tzinfo=UTC)
    content = compliance.build(
        compliance.Target.of(w.meridian), date(2025, 8, 1), date(2025, 8, 31), as_of
    )
    [section] = [s for s in content["sections"] if s["key"] == "overdue_payables"]
    rows = {row["id"]: row for row in section["rows"]}
    assert set(rows) == set(Payable.objects.values_list("pk", flat=True))
    fund_row = rows[w.fund_payable.pk]
    assert (fund_row["person"], fund_row["rule"], fund_row["amount"]) == (
        "SAG-AFTRA Pension and Health",
        "sag.ph",
        "490.61",
    )
    assert rows[Payable.objects.get(rule="sag.pay.day").pk]["person"] == "Ann Example"
    assert section["totals"] == {"USD": "2826.86"}
