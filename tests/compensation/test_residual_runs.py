"""Residual runs (compensation/residuals/runs.py): the production's exhibitions computed with the
schedule in force, the lines stored with their payees and due dates, approval into the journal
as person and fund payables, and a rerun that posts only the difference.

The figures are the test's own schedule (not shipped figures): episode base 20,000 (up to 60
minutes), subscriber factor 1 for tier_2 and 0.5 for tier_1, year-1 percentages 10 (domestic) and
5 (foreign). One 60-minute episode, exhibited worldwide on a tier_2 service in its first year:
the fixed residual is 20,000 × 1 × 10% = 2,000 domestic and 1,000 foreign.
- the writer (written by, share 1): 2,000 + 1,000;
- the performers share by residual days (sag.residual.replica_days): Ann 3 days, Bob 1 day,
  so 3/4 and 1/4: Ann 1,500 + 750, Bob 500 + 250.
"""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from compensation import runs
from compensation.models import (
    CompensationRun,
    Exhibition,
    ResidualLine,
    ResidualPosting,
    ResidualSchedule,
    Timecard,
    WritingCredit,
)
from core.audit import save_audited
from ledger.journal.services import payable_amounts
from ledger.models import JournalTransaction, Payable, Posting
from reports import compliance
from reports.models import Report
from reports.services import report_generate
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    UserFactory,
    agreement,
)
from tests.helpers import acknowledge_all

pytestmark = pytest.mark.django_db

FIGURES = {
    "name": "Test HBSVOD schedule",
    "source": "test figures",
    "tier": "P",
    "currency": "USD",
    "bases": {"episode:60": "20000.00"},
    "subscriber_factors": {"tier_2": "1", "tier_1": "0.5"},
    "exhibition_year_percent": {"1:domestic": "10", "1:foreign": "5"},
    "gross_receipts_percent": {},
}
PERIOD = (date(2026, 7, 1), date(2027, 6, 30))


def load_schedule(code: str, actor, effective_from=date(2026, 5, 2), **changes) -> ResidualSchedule:
    figures = {**FIGURES, **changes}
    version = ResidualSchedule.objects.filter(agreement__code=code).count() + 1
    return ResidualSchedule.objects.create(
        agreement=agreement(code),
        name=figures["name"],
        version=version,
        effective_from=effective_from,
        source=figures["source"],
        tier="P",
        currency="USD",
        figures=figures,
        file_name="schedule.json",
        file_format="json",
        content="{}",
        sha256="0" * 64,
        loaded_by=actor,
        loaded_at="2026-06-01T00:00:00Z",
    )


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    actor = UserFactory(username="ba-lead")
    production = ProductionFactory(
        title="Night Harbor", kind="television", episode_minutes=60, start_date=date(2026, 5, 4)
    )
    writer = EngagementFactory(
        production=production,
        person=PersonFactory(legal_name="Wren Writer"),
        agreement=agreement("wga-mba-2026"),
        classification="writer",
        rate_unit="flat",
        start_date=date(2026, 5, 4),
    )
    ann, bob = (
        EngagementFactory(
            production=production,
            person=PersonFactory(legal_name=name),
            agreement=agreement("sag-tvth-2026"),
            start_date=date(2026, 5, 4),
        )
        for name in ("Ann Actor", "Bob Actor")
    )
    WritingCredit.objects.create(engagement=writer, episode="101", credit="written_by")
    for engagement, days in ((ann, 3), (bob, 1)):
        for day in range(days):
            Timecard.objects.create(
                engagement=engagement,
                date=date(2026, 5, 11 + day),
                first_call="07:00",
                dismissal="15:00",
                episode="101",
                elapsed_hours=Decimal("8.0"),
                work_hours=Decimal("8.0"),
            )
    exhibition = Exhibition.objects.create(
        production=production,
        episode="101",
        work_type="episode",
        running_minutes=60,
        market="hbsvod",
        territory="worldwide",
        service="Streamer",
        subscriber_tier="tier_2",
        exhibition_year=1,
        period_from=date(2026, 7, 1),
        period_to=date(2027, 6, 30),
    )
    return {
        "on_commit": django_capture_on_commit_callbacks,
        "actor": actor,
        "production": production,
        "writer": writer,
        "ann": ann,
        "bob": bob,
        "exhibition": exhibition,
    }


def run_residuals(world) -> CompensationRun:
    with world["on_commit"](execute=True):
        run = runs.residual_run_start(
            actor=world["actor"],
            production=world["production"],
            period_from=PERIOD[0],
            period_to=PERIOD[1],
        )
    run.refresh_from_db()
    assert run.status == CompensationRun.Status.COMPUTED, (run.status, run.error)
    return run


def correct(world, **fields) -> None:
    exhibition = world["exhibition"]
    for name, value in fields.items():
        setattr(exhibition, name, value)
    save_audited(exhibition, actor=world["actor"])


def person_totals(run) -> dict[tuple[str, str], Decimal]:
    rows = (
        ResidualLine.objects.filter(run=run, fund="")
        .values("engagement__person__legal_name", "rule")
        .annotate(total=Sum("amount"))
    )
    return {
        (r["engagement__person__legal_name"], r["rule"]): Decimal(r["total"]).quantize(
            Decimal("0.01")
        )
        for r in rows
    }


def test_a_run_computes_each_union_share_of_the_exhibition(world):
    load_schedule("wga-mba-2026", world["actor"])
    load_schedule("sag-tvth-2026", world["actor"])
    run = run_residuals(world)
    assert run.kind == "residuals"
    assert person_totals(run) == {
        ("Wren Writer", "wga.residual.hbsvod"): Decimal("3000.00"),
        ("Ann Actor", "sag.residual.hbsvod"): Decimal("2250.00"),
        ("Bob Actor", "sag.residual.hbsvod"): Decimal("750.00"),
    }
    line = ResidualLine.objects.filter(run=run, engagement=world["ann"], fund="").first()
    assert line.due_date == date(2027, 10, 30)  # supplemental markets: 4 months after year 1
    assert [f["parameter"] for f in line.factors] == [
        "base:episode:60",
        "subscriber_factor:tier_2",
        "exhibition_year:1:domestic",
        f"residual_days:engagement #{world['ann'].pk}",
    ]
    assert f"engagement #{world['ann'].pk}: 3 day(s)" in line.description
    assert "Ann" not in line.description  # no name in an append-only row
    assert "3 day(s) in person + 0 replica day(s) = 3 of the performers' 4" in line.description
    # P&H on each person's residuals, to the funds, with the member it is for.
    ph = ResidualLine.objects.filter(run=run, rule="residual.ph")
    assert {(p.fund, p.engagement_id) for p in ph} >= {
        ("sag-aftra-ph", world["ann"].pk),
        ("sag-aftra-ph", world["bob"].pk),
    }
    assert all(not p.fund == "" for p in ph)


def test_a_missing_schedule_is_rate_missing_naming_it(world):
    load_schedule("sag-tvth-2026", world["actor"])
    run = run_residuals(world)
    missing = [e for e in run.exceptions if e.get("parameter") == "schedule:wga-mba-2026"]
    assert missing and missing[0]["code"] == "rate_missing"
    assert missing[0]["date"] == "2026-07-01"
    assert not ResidualLine.objects.filter(run=run, engagement=world["writer"]).exists()
    assert ResidualLine.objects.filter(run=run, engagement=world["ann"]).exists()


def test_a_later_schedule_supersedes_by_date_and_an_earlier_one_is_not_used(world):
    load_schedule("wga-mba-2026", world["actor"])
    load_schedule(
        "wga-mba-2026",
        world["actor"],
        effective_from=date(2026, 6, 1),
        bases={"episode:60": "30000.00"},
    )
    load_schedule(
        "wga-mba-2026",
        world["actor"],
        effective_from=date(2026, 8, 1),  # after the exhibition's date: not in force
        bases={"episode:60": "90000.00"},
    )
    run = run_residuals(world)
    assert person_totals(run)[("Wren Writer", "wga.residual.hbsvod")] == Decimal("4500.00")


def test_approval_posts_person_and_fund_payables_in_balanced_transactions(world):
    load_schedule("wga-mba-2026", world["actor"])
    load_schedule("sag-tvth-2026", world["actor"])
    run = run_residuals(world)
    acknowledge_all(run)
    runs.run_approve(actor=world["actor"], run=run)
    payables = Payable.objects.filter(source_type="residual_run")
    lines_total = ResidualLine.objects.filter(run=run).aggregate(t=Sum("amount"))["t"]
    assert sum(p.amount for p in payables) == lines_total
    ann = payables.get(person=world["ann"].person, rule="sag.residual.hbsvod")
    assert ann.amount == Decimal("2250.00")
    assert ann.due_date == date(2027, 10, 30)
    assert ann.fund == ""
    funds = payables.filter(fund__gt="")
    assert funds.exists() and not funds.filter(person__isnull=False).exists()
    assert set(funds.values_list("engagement_id", flat=True)) <= {
        world["writer"].pk,
        world["ann"].pk,
        world["bob"].pk,
    }
    for t in JournalTransaction.objects.filter(source_type="residual_run"):
        assert t.postings.aggregate(s=Sum("amount"))["s"] == 0
    assert ResidualPosting.objects.filter(run=run).count() == payables.count()
    # People are named by id where a name could never be erased (the hashed journal).
    for text in [*payables.values_list("description", flat=True)] + [
        t.description for t in JournalTransaction.objects.filter(source_type="residual_run")
    ]:
        assert "Actor" not in text and "Wren" not in text, text
    # Approving twice posts nothing twice.
    before = Posting.objects.count()
    acknowledge_all(run)
    runs.run_approve(actor=world["actor"], run=run)
    assert Posting.objects.count() == before


def test_a_rerun_after_a_corrected_exhibition_posts_only_the_difference(world):
    load_schedule("wga-mba-2026", world["actor"])
    load_schedule("sag-tvth-2026", world["actor"])
    first = run_residuals(world)
    acknowledge_all(first)
    runs.run_approve(actor=world["actor"], run=first)
    ann = Payable.objects.get(person=world["ann"].person, rule="sag.residual.hbsvod")
    payables_before = Payable.objects.count()

    correct(world, subscriber_tier="tier_1")
    second = run_residuals(world)
    acknowledge_all(second)
    runs.run_approve(actor=world["actor"], run=second)

    assert Payable.objects.count() == payables_before  # the same payables, adjusted
    assert payable_amounts(ann.pk)["owed"] == Decimal("1125.00")  # half the base factor
    posted = ResidualPosting.objects.get(run=second, payable=ann)
    assert posted.amount == Decimal("-1125.00")
    assert posted.transaction.kind == JournalTransaction.Kind.ADJUSTMENT


def test_a_rerun_with_nothing_changed_posts_nothing(world):
    load_schedule("wga-mba-2026", world["actor"])
    load_schedule("sag-tvth-2026", world["actor"])
    first = run_residuals(world)
    acknowledge_all(first)
    runs.run_approve(actor=world["actor"], run=first)
    transactions = JournalTransaction.objects.count()
    second = run_residuals(world)
    acknowledge_all(second)
    runs.run_approve(actor=world["actor"], run=second)
    assert JournalTransaction.objects.count() == transactions
    assert not ResidualPosting.objects.filter(run=second).exists()


def test_the_sag_success_bonus_fund_share_is_a_payable_to_the_fund_alone(world):
    load_schedule("sag-tvth-2026", world["actor"])
    correct(world, views_first_90_days=Decimal("2000000"), domestic_subscribers=10_000_000)
    run = run_residuals(world)
    share = ResidualLine.objects.get(run=run, fund="sag-aftra-fund")
    assert share.engagement_id is None
    assert share.amount == Decimal("750.00")  # 25% of 100% of 3,000
    acknowledge_all(run)
    runs.run_approve(actor=world["actor"], run=run)
    payable = Payable.objects.get(fund="sag-aftra-fund")
    assert (payable.person_id, payable.engagement_id) == (None, None)
    assert payable.agreement.code == "sag-tvth-2026"
    assert payable_amounts(payable.pk)["owed"] == Decimal("750.00")


def test_pay_and_residual_runs_of_one_period_do_not_supersede_each_other(world):
    load_schedule("sag-tvth-2026", world["actor"])
    residual = run_residuals(world)
    pay = runs.run_start(
        actor=world["actor"],
        production=world["production"],
        period_from=PERIOD[0],
        period_to=PERIOD[1],
        due_date=PERIOD[1],
    )
    residual.refresh_from_db()
    assert residual.status == CompensationRun.Status.COMPUTED
    assert pay.kind == "pay"


def test_overdue_residuals_join_the_compliance_reports_overdue_section(world):
    """residual.due: an unpaid residual past its due date (2027-10-30 here) is overdue."""
    load_schedule("sag-tvth-2026", world["actor"])
    run = run_residuals(world)
    acknowledge_all(run)
    runs.run_approve(actor=world["actor"], run=run)
    ann = Payable.objects.get(person=world["ann"].person, rule="sag.residual.hbsvod")

    def overdue(as_of) -> dict:
        report, _ = report_generate(
            target=compliance.Target.of(world["production"]),
            period_from=date(2026, 7, 1),
            period_to=date(2027, 12, 31),
            origin=Report.Origin.ON_DEMAND,
            actor=world["actor"],
            as_of=as_of,
        )
        section = next(
            s for s in json.loads(report.content)["sections"] if s["key"] == "overdue_payables"
        )
        return {row["id"]: row for row in section["rows"]}

    assert ann.pk not in overdue(datetime(2027, 10, 30, 12, tzinfo=UTC))  # due that day
    late = overdue(datetime(2027, 11, 2, 12, tzinfo=UTC))
    row = late[ann.pk]
    assert (row["rule"], row["amount"], row["person"]) == (
        "sag.residual.hbsvod",
        "2250.00",
        "Ann Actor",
    )
    funds = [r for r in late.values() if r["rule"] == "residual.ph"]
    assert funds and all(r["person"] == "SAG-AFTRA Pension and Health" for r in funds)
