"""A person's residual statement (compensation/residuals/statements.py): JSON, CSV and PDF over
the API and in the admin.

The scene, built by hand (runs approved as compensation.residuals.runs.post approves them: one
payable per key, the differences posted through `obligations_post`):
- Meridian's "Harbor Nights" (SAG-AFTRA): episode 101 exhibited on high-budget SVOD worldwide in
  2025 Q1. Ann and Bob share its residuals. A first Q1 run gave Ann 40% of the performers' days;
  a second Q1 run, approved later, 50% (it supersedes the first): Ann's fixed residual of
  20,000.00 × 1 × 10% (domestic) and × 5% (foreign) is 1,000.00 and 500.00, and 21% P&H on
  1,500.00 = 315.00 goes to the SAG-AFTRA P&H fund on her behalf. Episode 102 in 2025 Q2: Ann's
  domestic share 1,000.00, P&H 210.00. Payroll paid 600.00 of Ann's Q1 payable (one payable per
  key: her domestic and foreign Q1 residuals are owed on the same one).
- Northgate's production (SAG-AFTRA, a title a spreadsheet would evaluate): Ann's Q1 residual
  700.00 and P&H 147.00.
So Meridian's staff see Ann's 2,500.00 of residuals (paid 600.00, due 1,900.00), Northgate's
staff her 700.00, SAG-AFTRA staff all 3,200.00; WGA staff (Ann is a WGA member) see Ann and none
of her residuals; IATSE staff do not see her at all.
"""

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from compensation.models import (
    CompensationRun,
    Exhibition,
    ResidualLine,
    ResidualPosting,
)
from compensation.residuals import statements
from core.audit import save_audited
from ledger.access import Scope
from ledger.journal import services as journal_services
from ledger.models import Account, Engagement, Payable
from tests.factories import (
    EngagementFactory,
    MembershipFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    guild,
    guild_staff,
    payroll_key,
    studio_staff,
)
from tests.helpers import assert_error, assert_refused_role, csv_text, role_client
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db

D = Decimal
Q1 = (date(2025, 1, 1), date(2025, 3, 31))
Q2 = (date(2025, 4, 1), date(2025, 6, 30))
EVIL_TITLE = '=HYPERLINK("http://evil.example","x")'
SOURCE = "SAG-AFTRA HBSVOD residual schedule 2025 (test figures)"
PATH = "/api/v1/residuals/statements/{id}/"


def url(person, suffix: str = "") -> str:
    return f"/api/v1/residuals/statements/{person.pk}/{suffix}"


# --- the scene -------------------------------------------------------------------------------


def _factor(parameter, value, unit, tier="P"):
    return {
        "parameter": parameter,
        "value": value,
        "unit": unit,
        "from": None,
        "tier": tier,
        "source": SOURCE,
        "rule": "sag.residual.hbsvod",
    }


def _exhibition(production, episode, period, actor, territory="worldwide"):
    return save_audited(
        Exhibition(
            production=production,
            episode=episode,
            work_type="episode",
            running_minutes=60,
            market="hbsvod",
            territory=territory,
            period_from=period[0],
            period_to=period[1],
            service="Streamly",
            subscriber_tier="tier_2",
            exhibition_year=1,
        ),
        actor=actor,
    )


def _run(production, period, actor, approved_at):
    return save_audited(
        CompensationRun(
            kind=CompensationRun.Kind.RESIDUALS,
            production=production,
            period_from=period[0],
            period_to=period[1],
            due_date=period[1] + timedelta(days=30),
            status=CompensationRun.Status.APPROVED,
            started_by=actor,
            started_at=approved_at - timedelta(hours=1),
            finished_at=approved_at - timedelta(minutes=50),
            approved_by=actor,
            approved_at=approved_at,
        ),
        actor=actor,
    )


def _share(run, exhibition, engagement, territory, percent, share):
    """A performer's HBSVOD line: 20,000.00 × subscriber factor 1 × `percent`% × `share`."""
    amount = D("20000.00") * D(percent) / 100 * D(share)
    return ResidualLine.objects.create(
        run=run,
        exhibition=exhibition,
        engagement=engagement,
        rule="sag.residual.hbsvod",
        description=f"High-budget SVOD fixed residual, {territory}",
        market="hbsvod",
        territory=territory,
        date=exhibition.period_from,
        quantity=D(1),
        unit="exhibition year",
        amount=amount.quantize(D("0.01")),
        currency="USD",
        due_date=run.due_date,
        due_basis="supplemental markets: 4 months, then quarterly",
        tier="D",
        factors=[
            _factor("base:episode:60", "20000.00", "USD"),
            _factor("subscriber_factor:tier_2", "1", "factor"),
            _factor(f"exhibition_year:1:{territory}", percent, "percent"),
            _factor(f"residual_days:{engagement.pk}", share, "fraction", tier="D"),
        ],
    )


def _contribution(run, exhibition, engagement, base, fund="sag-aftra-ph"):
    """21% P&H on `base` to `fund`, for `engagement`'s person (None: the fund's own share)."""
    return ResidualLine.objects.create(
        run=run,
        exhibition=exhibition,
        engagement=engagement,
        fund=fund,
        rule="residual.ph",
        description="Pension and health on the residuals of this exhibition",
        market="hbsvod",
        territory=exhibition.territory,
        date=exhibition.period_from,
        quantity=D(base),
        unit="USD",
        amount=(D(base) * D("0.21")).quantize(D("0.01")),
        currency="USD",
        due_date=run.due_date,
        due_basis="supplemental markets: 4 months, then quarterly",
        tier="P",
        factors=[_factor("sag.ph.rate.principal", "0.21", "fraction")],
    )


def approve(run, actor):
    """Post the run as compensation.residuals.runs.post does: per key (engagement, fund, rule,
    currency, due date) the difference from what the period's earlier approvals posted, on one
    payable per key, one obligation per engagement (and one for fund lines with no member)."""
    target: defaultdict[tuple, D] = defaultdict(D)
    for line in ResidualLine.objects.filter(run=run):
        key = (line.engagement_id, line.fund, line.rule, line.currency, line.due_date)
        target[key] += line.amount
    before: dict[tuple, tuple[D, Payable]] = {}
    for posting in ResidualPosting.objects.filter(
        run__production=run.production,
        run__period_from=run.period_from,
        run__period_to=run.period_to,
    ).select_related("payable"):
        p = posting.payable
        key = (p.engagement_id, p.fund, p.rule, p.currency, p.due_date)
        total, _ = before.get(key, (D(0), p))
        before[key] = (total + posting.amount, p)
    obligations: dict[int | None, journal_services.Obligation] = {}
    changes = []
    for index, key in enumerate(sorted(set(target) | set(before), key=str)):
        posted, payable = before.get(key, (D(0), None))
        change = target.get(key, D(0)) - posted
        if not change:
            continue
        engagement = Engagement.objects.get(pk=key[0]) if key[0] else None
        obligation = obligations.setdefault(
            key[0],
            journal_services.Obligation(
                engagement=engagement,
                production=None if engagement else run.production,
                source_type="residual_run",
                source_id=f"{run.pk}:{key[0] or 'funds'}",
                description=f"Residual run #{run.pk}",
                effective_date=run.period_to,
                expense_purpose=Account.Purpose.RESIDUAL_EXPENSE,
            ),
        )
        if payable is None:
            fund = key[1]
            payable = Payable(
                studio_id=run.production.studio_id,
                production=run.production,
                person_id=None if fund or engagement is None else engagement.person_id,
                fund=fund,
                engagement=engagement,
                agreement=engagement.agreement if engagement else None,
                rule=key[2],
                description=f"Residuals: {run.production.title}",
                amount=change,
                currency=key[3],
                period_from=run.period_from,
                period_to=run.period_to,
                due_date=key[4],
                source_type="residual_run",
                source_id=f"{run.pk}:{index}",
            )
        else:
            obligation.adjustment = True
        obligation.pay.append((payable, change))
        changes.append((obligation, payable, change, key[3]))
    ordered = list(obligations.values())
    posted_transactions = journal_services.obligations_post(actor=actor, obligations=ordered)
    transaction_of = {id(o): t for o, t in zip(ordered, posted_transactions, strict=True)}
    for obligation, payable, change, currency in changes:
        ResidualPosting.objects.create(
            run=run,
            payable=payable,
            amount=change,
            currency=currency,
            transaction=transaction_of[id(obligation)],
        )


def pay(payable, amount, actor):
    journal_services.payment_confirm(
        actor=actor,
        client=f"user:{actor.pk}",
        idempotency_key=f"statement-test-{payable.pk}",
        payable=payable,
        amount=D(amount),
        paid_at=datetime(2025, 5, 2, 12, tzinfo=UTC),
        payroll_reference=f"CHK-{payable.pk}",
        render=lambda payment: {"id": payment.pk},
    )


class World:
    pass


@pytest.fixture
def world():
    w = World()
    w.meridian = StudioFactory(name="Meridian Pictures", slug="meridian")
    w.northgate = StudioFactory(name="Northgate Media", slug="northgate")
    w.maya = studio_staff(w.meridian, "maya")
    w.nora = studio_staff(w.northgate, "nora")
    w.users = {
        "studio_a": w.maya,
        "studio_b": w.nora,
        "sag": guild_staff("sag-aftra", "sam"),
        "wga": guild_staff("wga", "wes"),
        "iatse": guild_staff("iatse", "ian"),
        "root": UserFactory(username="root", is_superuser=True),
    }
    _, w.raw_key = payroll_key(w.meridian, name="meridian-payroll")
    w.harbor = ProductionFactory(
        studio=w.meridian, title="Harbor Nights", kind="television", episode_minutes=60
    )
    w.other = ProductionFactory(
        studio=w.northgate, title=EVIL_TITLE, kind="television", episode_minutes=60
    )
    w.ann_person = PersonFactory(
        legal_name="Ann Example", payroll_ref="PR-ANN", registered_by=w.meridian
    )
    MembershipFactory(person=w.ann_person, guild=guild("wga"), member_number="W-1")
    w.bob_person = PersonFactory(legal_name="Bob Other", registered_by=w.meridian)
    w.ann = EngagementFactory(person=w.ann_person, production=w.harbor)
    w.bob = EngagementFactory(person=w.bob_person, production=w.harbor)
    w.ann_other = EngagementFactory(person=w.ann_person, production=w.other)

    ep101 = _exhibition(w.harbor, "101", Q1, w.maya)
    ep102 = _exhibition(w.harbor, "102", Q2, w.maya, territory="domestic")
    ep201 = _exhibition(w.other, "201", Q1, w.nora, territory="domestic")

    # Q1, first run (superseded): Ann 40%, Bob 60%.
    w.first = _run(w.harbor, Q1, w.maya, datetime(2025, 4, 2, 9, tzinfo=UTC))
    w.superseded = [
        _share(w.first, ep101, w.ann, "domestic", "10", "0.4"),
        _share(w.first, ep101, w.ann, "foreign", "5", "0.4"),
        _contribution(w.first, ep101, w.ann, "1200.00"),
    ]
    _share(w.first, ep101, w.bob, "domestic", "10", "0.6")
    approve(w.first, w.maya)

    # Q1, second run: Ann 50%, Bob 50%, and the SAG-AFTRA fund's own share.
    w.second = _run(w.harbor, Q1, w.maya, datetime(2025, 4, 20, 9, tzinfo=UTC))
    w.ann_q1 = [
        _share(w.second, ep101, w.ann, "domestic", "10", "0.5"),
        _share(w.second, ep101, w.ann, "foreign", "5", "0.5"),
    ]
    w.ann_q1_ph = _contribution(w.second, ep101, w.ann, "1500.00")
    w.bob_q1 = _share(w.second, ep101, w.bob, "domestic", "10", "0.5")
    w.fund_only = _contribution(w.second, ep101, None, "400.00", fund="sag-aftra-fund")
    approve(w.second, w.maya)

    w.q2 = _run(w.harbor, Q2, w.maya, datetime(2025, 7, 3, 9, tzinfo=UTC))
    w.ann_q2 = _share(w.q2, ep102, w.ann, "domestic", "10", "0.5")
    w.ann_q2_ph = _contribution(w.q2, ep102, w.ann, "1000.00")
    approve(w.q2, w.maya)

    w.northgate_run = _run(w.other, Q1, w.nora, datetime(2025, 4, 5, 9, tzinfo=UTC))
    w.ann_other_q1 = _share(w.northgate_run, ep201, w.ann_other, "domestic", "10", "0.35")
    w.ann_other_ph = _contribution(w.northgate_run, ep201, w.ann_other, "700.00")
    approve(w.northgate_run, w.nora)

    w.q1_payable = Payable.objects.get(engagement=w.ann, fund="", period_from=Q1[0])
    pay(w.q1_payable, "600.00", w.maya)
    return w


def client(world, role):
    return role_client(role, world.users, {"payroll_a": world.raw_key})


def get_json(world, role, person, **params):
    response = client(world, role).get(url(person), params)
    assert response.status_code == 200, response.content[:800]
    return response.json()


def line_ids(rows) -> set[int]:
    return {row["id"] for row in rows}


# --- the figures -----------------------------------------------------------------------------


def test_the_lines_are_the_last_approved_runs_lines_of_the_person(world):
    body = get_json(world, "studio_a", world.ann_person)
    lines = {row["id"]: row for row in body["lines"]}
    expected = [*world.ann_q1, world.ann_q2]
    assert set(lines) == {line.pk for line in expected}
    for line in expected:
        row = lines[line.pk]
        assert row["amount"] == f"{line.amount:.2f}"
        assert (row["currency"], row["due_date"]) == ("USD", line.due_date.isoformat())
        assert (row["market"], row["territory"]) == ("hbsvod", line.territory)
        assert row["rule"] == "sag.residual.hbsvod"
        assert row["factors"] == line.factors
    domestic = lines[world.ann_q1[0].pk]
    assert domestic["amount"] == "1000.00"
    assert domestic["work"] == "Harbor Nights, episode 101"
    assert domestic["exhibition_period"] == {"from": "2025-01-01", "to": "2025-03-31"}
    assert domestic["factors_in_words"] == (
        "base episode:60 20,000.00 USD × subscriber factor tier_2 1 × exhibition year 1 "
        "domestic 10% × share by residual days 0.5"
    )
    assert [t for t in body["totals"]] == [
        {
            "currency": "USD",
            "residuals": "2500.00",
            "contributions": "525.00",
            "owed": "2500.00",
            "paid": "600.00",
            "due": "1900.00",
        }
    ]
    assert body["person"] == {
        "id": world.ann_person.pk,
        "legal_name": "Ann Example",
        "professional_name": "",
        "payroll_ref": "PR-ANN",
    }
    assert (body["period_from"], body["period_to"]) == (None, None)


def test_a_superseded_runs_lines_are_not_shown_nor_counted(world):
    body = get_json(world, "root", world.ann_person)
    shown = line_ids(body["lines"]) | line_ids(body["contributions"])
    assert not shown & {line.pk for line in world.superseded}
    assert world.first.pk not in {row["run"] for row in body["lines"]}
    # Without the second run, the first one's 800.00 + 400.00 would be Meridian's Q1 figure.
    q1 = [row for row in body["lines"] if row["run"] == world.second.pk]
    assert sorted(row["amount"] for row in q1) == ["1000.00", "500.00"]


def test_paid_and_due_are_the_ledgers(world):
    body = get_json(world, "studio_a", world.ann_person)
    rows = {row["id"]: row for row in body["payables"]}
    expected = Payable.objects.filter(person=world.ann_person, production=world.harbor)
    assert set(rows) == set(expected.values_list("id", flat=True))
    assert len(rows) == 2  # one per key (engagement, rule, currency, due date): Q1 and Q2
    for pk, row in rows.items():
        amounts = journal_services.payable_amounts(pk)
        assert (row["owed"], row["paid"], row["due"]) == (
            f"{amounts['owed']:.2f}",
            f"{amounts['paid']:.2f}",
            f"{amounts['due']:.2f}",
        )
    paid = rows[world.q1_payable.pk]
    # Posted 1,200.00 by the first run and adjusted by 300.00 by the second; 600.00 paid.
    assert (paid["owed"], paid["paid"], paid["due"]) == ("1500.00", "600.00", "900.00")
    assert paid["due_date"] == "2025-04-30"


@pytest.mark.parametrize("role", ["studio_a", "studio_b", "sag", "root"])
def test_the_line_total_equals_the_payables_owed_total(world, role):
    body = get_json(world, role, world.ann_person)
    assert body["lines"], role
    for total in body["totals"]:
        lines = sum(D(r["amount"]) for r in body["lines"] if r["currency"] == total["currency"])
        owed = sum(D(r["owed"]) for r in body["payables"] if r["currency"] == total["currency"])
        assert lines == owed == D(total["residuals"]) == D(total["owed"]), (role, total)


def test_contributions_on_the_persons_behalf_are_listed_apart(world):
    body = get_json(world, "sag", world.ann_person)
    assert line_ids(body["contributions"]) == {
        world.ann_q1_ph.pk,
        world.ann_q2_ph.pk,
        world.ann_other_ph.pk,
    }
    assert not line_ids(body["lines"]) & line_ids(body["contributions"])
    assert {row["fund"] for row in body["contributions"]} == {"sag-aftra-ph"}
    assert world.fund_only.pk not in line_ids(body["contributions"])
    assert world.bob_q1.pk not in line_ids(body["lines"])
    # Contributions are owed to the funds: none of the person's payables is a fund's.
    assert all(row["rule"] != "residual.ph" for row in body["payables"])
    [total] = body["totals"]
    assert (total["residuals"], total["contributions"]) == ("3200.00", "672.00")


def test_the_period_keeps_the_runs_that_overlap_it(world):
    body = get_json(world, "studio_a", world.ann_person, period_from="2025-04-01")
    assert line_ids(body["lines"]) == {world.ann_q2.pk}
    assert body["period_from"] == "2025-04-01"
    assert [row["due_date"] for row in body["payables"]] == ["2025-07-30"]
    body = get_json(
        world, "studio_a", world.ann_person, period_from="2025-02-01", period_to="2025-02-28"
    )
    assert line_ids(body["lines"]) == {line.pk for line in world.ann_q1}
    assert body["totals"][0]["residuals"] == "1500.00"
    body = get_json(world, "studio_a", world.ann_person, period_to="2024-12-31")
    assert (body["lines"], body["payables"], body["totals"]) == ([], [], [])
    body = get_json(world, "studio_a", world.ann_person, period_from="", period_to="")
    assert len(body["lines"]) == 3 and body["period_from"] is None  # an empty date: no limit


@pytest.mark.parametrize(
    "params, field",
    [
        ({"period_from": "2025-13-01"}, "period_from"),
        ({"period_to": "yesterday"}, "period_to"),
        ({"period_from": "２０２５-01-01"}, "period_from"),
    ],
)
@pytest.mark.parametrize("suffix", ["", "csv/", "pdf/"])
def test_a_bad_period_is_a_400_naming_the_field(world, params, field, suffix):
    response = client(world, "studio_a").get(url(world.ann_person, suffix), params)
    body = assert_error(response, 400)
    assert field in body["fields"], body


@pytest.mark.parametrize(
    "params",
    [{"period_from": "2025-06-01", "period_to": "2025-05-31"}, {"period_to": "1800-01-01"}],
)
def test_a_period_that_holds_no_run_is_an_empty_statement_not_an_error(world, params):
    """The range is a filter the schema can describe (any date): a reversed or far-off range
    simply holds no run."""
    body = client(world, "studio_a").get(url(world.ann_person), params).json()
    assert (body["lines"], body["payables"], body["totals"]) == ([], [], [])


def test_the_json_answer_matches_the_schema(world):
    response = client(world, "sag").get(url(world.ann_person))
    assert response.status_code == 200
    assert_matches_schema(response, "GET", PATH)


def test_factors_in_words():
    factors = [
        {"parameter": "base:episode:60", "value": "20000.00", "unit": "USD"},
        {"parameter": "subscriber_factor:tier_2", "value": "1", "unit": "factor"},
        {"parameter": "exhibition_year:1:domestic", "value": "10", "unit": "percent"},
    ]
    assert statements.factor_words(factors) == (
        "base episode:60 20,000.00 USD × subscriber factor tier_2 1 × exhibition year 1 "
        "domestic 10%"
    )
    assert statements.factor_words(
        [{"parameter": "gross_receipts:basic_cable:foreign", "value": "2.50", "unit": "percent"}]
    ) == ("gross receipts basic_cable foreign 2.5%")
    assert statements.basis_words(D("1250000.00"), "USD of gross receipts") == (
        "1,250,000.00 USD of gross receipts"
    )
    assert statements.basis_words(D("1"), "exhibition year") == ""


# --- CSV and PDF -----------------------------------------------------------------------------


def test_the_csv_parses_and_neutralises_formula_cells(world):
    response = client(world, "sag").get(url(world.ann_person, "csv/"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="residual-statement-{world.ann_person.pk}-start-now.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(csv_text(response))))
    assert list(rows[0]) == list(statements.CSV_COLUMNS)
    by_section = defaultdict(list)
    for row in rows:
        by_section[row["section"]].append(row)
    assert len(by_section["residual"]) == 4 and len(by_section["contribution"]) == 3
    assert len(by_section["payable"]) == 3
    domestic = next(
        r
        for r in by_section["residual"]
        if r["work"] == "Harbor Nights, episode 101" and r["territory"] == "domestic"
    )
    assert domestic["amount"] == "1,000.00 USD"
    assert domestic["market"] == "high-budget SVOD"
    assert domestic["factors"].startswith("base episode:60 20,000.00 USD × ")
    evil = [r for r in by_section["residual"] if "evil.example" in r["work"]]
    assert len(evil) == 1 and evil[0]["work"].startswith("'=HYPERLINK(")
    assert not any(cell.startswith("=") for row in rows for cell in row.values())
    [total] = by_section["total"]
    assert (total["amount"], total["owed"], total["paid"], total["due"]) == (
        "3,200.00 USD",
        "3,200.00 USD",
        "600.00 USD",
        "2,600.00 USD",
    )
    assert by_section["contributions total"][0]["amount"] == "672.00 USD"
    assert {r["person"] for r in rows} == {"Ann Example"}


def _pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_reads_as_a_statement(world):
    response = client(world, "studio_a").get(
        url(world.ann_person, "pdf/"), {"period_to": "2025-12-31"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = _pdf_text(response.content)
    for expected in (
        "Residual statement",
        "Ann Example",
        "Payroll reference PR-ANN",
        "up to 31 December 2025",
        "Harbor Nights, episode 101",
        "Harbor Nights, episode 102",
        "1,000.00 USD",
        "2,500.00 USD",  # the residuals
        "600.00 USD",  # paid
        "1,900.00 USD",  # still due
        "Paid and due",
        "Pension and health contributions",
        "525.00 USD",
    ):
        assert expected in text, expected
    assert "evil.example" not in text  # Northgate's production is not Meridian's to show


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, residuals",
    [("studio_a", "2500.00"), ("studio_b", "700.00"), ("sag", "3200.00"), ("root", "3200.00")],
)
def test_each_scope_sees_its_own_residuals_of_the_person(world, role, residuals):
    body = get_json(world, role, world.ann_person)
    assert body["totals"][0]["residuals"] == residuals


def test_guild_staff_of_another_guild_see_nothing(world):
    body = get_json(world, "wga", world.ann_person)  # Ann is a WGA member: WGA sees her
    assert (body["lines"], body["contributions"], body["payables"], body["totals"]) == (
        [],
        [],
        [],
        [],
    )
    csv_rows = csv_text(client(world, "wga").get(url(world.ann_person, "csv/")))
    assert csv_rows.splitlines()[1:] == []


@pytest.mark.parametrize("suffix", ["", "csv/", "pdf/"])
@pytest.mark.parametrize("role, person", [("studio_b", "bob_person"), ("iatse", "ann_person")])
def test_a_person_outside_the_scope_is_a_404_like_a_missing_one(world, role, person, suffix):
    api = client(world, role)
    missing = assert_error(api.get(f"/api/v1/residuals/statements/987654321/{suffix}"), 404)
    response = api.get(url(getattr(world, person), suffix))
    assert assert_error(response, 404, "not_found") == missing


@pytest.mark.parametrize("suffix", ["", "csv/", "pdf/"])
@pytest.mark.parametrize("role", ["payroll_a", "anonymous"])
def test_payroll_keys_and_anonymous_callers_are_refused(world, role, suffix):
    assert_refused_role(client(world, role).get(url(world.ann_person, suffix)), role)


def test_the_statement_reads_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    scope = Scope(superuser=True)
    with django_assert_max_num_queries(3) as captured:
        big = statements.statement(world.ann_person, scope=scope)
    assert len(big.lines) == 4 and len(captured.captured_queries) == 3


# --- the admin -------------------------------------------------------------------------------


def admin_client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def admin_url(person) -> str:
    return reverse("admin:residual_statement", args=[person.pk])


def test_the_persons_admin_page_links_to_the_statement(world):
    page = admin_client(world.maya).get(
        reverse("admin:ledger_person_change", args=[world.ann_person.pk])
    )
    assert page.status_code == 200
    assert f'href="{admin_url(world.ann_person)}"' in page.content.decode()


def test_the_admin_page_shows_the_totals_and_downloads_pdf_and_csv(world):
    c = admin_client(world.maya)
    page = c.get(admin_url(world.ann_person), {"period_from": "2025-01-01"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Residual statement: Ann Example" in html
    assert "2,500.00 USD" in html and "1,900.00 USD" in html
    assert "Harbor Nights, episode 101" in html and "evil.example" not in html

    pdf = c.get(admin_url(world.ann_person), {"period_from": "2025-04-01", "download": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    text = _pdf_text(pdf.content)
    assert "Harbor Nights, episode 102" in text and "episode 101" not in text

    got = c.get(admin_url(world.ann_person), {"download": "csv"})
    assert got["Content-Type"].startswith("text/csv")
    assert got["Content-Disposition"].endswith('-start-now.csv"')
    rows = list(csv.DictReader(io.StringIO(csv_text(got))))
    assert {r["section"] for r in rows} == {
        "residual",
        "contribution",
        "payable",
        "total",
        "contributions total",
    }


def test_the_admin_page_refuses_a_bad_period_without_downloading(world):
    page = admin_client(world.maya).get(
        admin_url(world.ann_person),
        {"period_from": "2025-06-01", "period_to": "2025-05-01", "download": "pdf"},
    )
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "The period ends before it starts." in page.content.decode()


def test_the_admin_page_of_a_person_outside_the_scope_is_a_404(world):
    assert admin_client(world.nora).get(admin_url(world.bob_person)).status_code == 404
    assert admin_client(world.users["iatse"]).get(admin_url(world.ann_person)).status_code == 404


def test_a_share_that_does_not_end_is_shown_to_four_places():
    from compensation.residuals.statements import factor_value

    assert factor_value("0.6666666666666666666666666667", "fraction") == "0.6667…"
    assert factor_value("0.5", "fraction") == "0.5"
    assert factor_value("0.25", "fraction") == "0.25"
