"""The union-fund remittance report (reports.remittance): per fund and period, one row per member
and rule on each production, with owed, paid and due summed from the journal's postings; in JSON
over the API, as CSV and as PDF, and on an admin page.

The scene (tests/compensation/api_helpers.build_world): on Meridian's film `The Long Light`, Ann
(a SAG-AFTRA member, number SAG-0042) and Dee, SAG-AFTRA day performers at 1000 a day, each work
4 August 2025 07:00-19:30 with a 30-minute meal: 2336.25 covered pay each, P&H 0.21 × 2336.25 =
490.61 each to the SAG-AFTRA P&H fund, obligation period 4-10 August. Ann also worked 22 July
(obligation period 21-27 July: outside an August report). On Northgate's `Harbor Nights`, Bob
works 4 August the same way. Payroll pays 200.00 of Ann's August contribution. A success bonus's
share of the SAG-AFTRA fund (no member) is owed on the film too, to fund `sag-aftra-fund`."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db.models import Q, Sum
from django.urls import reverse
from pypdf import PdfReader

from compensation import runs
from ledger.access import Scope
from ledger.journal import services as journal_services
from ledger.models import Account, Payable, Posting
from reports import remittance
from tests.compensation.api_helpers import (
    build_world,
    clear_parameter_cache,
    client_for,
    computed_run,
    record_day,
)
from tests.factories import (
    EngagementFactory,
    MembershipFactory,
    PersonFactory,
    UserFactory,
    agreement,
    guild,
)
from tests.helpers import acknowledge_all, assert_error, csv_text, key_client
from tests.ledger.test_admin_no_raw_json import raw_literals
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/remittances/"
FUND = "sag-aftra-ph"
AUGUST = {"fund": FUND, "period_from": "2025-08-01", "period_to": "2025-08-31"}
FORMULA_NAME = "=1+2 Dee"  # a name a spreadsheet would evaluate


@pytest.fixture(autouse=True)
def fresh_parameters():
    clear_parameter_cache()
    yield
    clear_parameter_cache()


def _pay(payable: Payable, amount: str, ref: str) -> None:
    journal_services.payment_confirm(
        actor=UserFactory(username="payroll-clerk"),
        client="user:test",
        idempotency_key=f"pay-{ref}",
        payable=payable,
        amount=D(amount),
        paid_at=datetime(2025, 8, 25, 12, tzinfo=UTC),
        payroll_reference=ref,
        render=lambda payment: {"id": payment.pk},
    )


def _fund_share(production, amount: str) -> Payable:
    """The SAG-AFTRA fund's share of a success bonus: a fund payable with no member, posted
    through the ledger's one write path as a residual run posts it."""
    payable = journal_services.fund_payable(
        fund="sag-aftra-fund",
        rule="sag.residual.success_bonus",
        amount=D(amount),
        currency="USD",
        production=production,
        engagement=None,
        person_id=None,
        agreement=agreement("sag-tvth-2023"),
        period_from=date(2025, 8, 1),
        period_to=date(2025, 8, 31),
        due_date=date(2025, 9, 30),
        source_type="residual_run",
        source_id="test:funds",
    )
    journal_services.obligations_post(
        actor=UserFactory(username="residual-clerk"),
        obligations=[
            journal_services.Obligation(
                engagement=None,
                production=production,
                source_type="residual_run",
                source_id="test:funds",
                description="Residual run to the funds",
                effective_date=date(2025, 8, 31),
                pay=[(payable, D(amount))],
                expense_purpose=Account.Purpose.RESIDUAL_EXPENSE,
            )
        ],
    )
    return payable


def approve(run, actor) -> None:
    acknowledge_all(run)  # its review's items (figures to confirm), so that it may be approved
    runs.run_approve(actor=actor, run=run)


@pytest.fixture
def world():
    w = build_world()
    MembershipFactory(person=w.ann.person, guild=guild("sag-aftra"), member_number="SAG-0042")
    w.dee = EngagementFactory(
        production=w.film,
        person=PersonFactory(legal_name=FORMULA_NAME, registered_by=w.meridian),
        rate_amount=D("1000.00"),
    )
    for engagement in (w.ann, w.dee):
        record_day(engagement, w.maya)
    record_day(w.ann, w.maya, day=date(2025, 7, 22))
    approve(computed_run(w.film, w.maya), w.maya)
    approve(computed_run(w.film, w.maya, date(2025, 7, 21), date(2025, 7, 27)), w.maya)
    record_day(w.bob, w.nora)
    approve(computed_run(w.harbor, w.nora), w.nora)
    w.ann_august = Payable.objects.get(fund=FUND, engagement=w.ann, period_to=date(2025, 8, 10))
    w.ann_july = Payable.objects.get(fund=FUND, engagement=w.ann, period_to=date(2025, 7, 27))
    w.dee_august = Payable.objects.get(fund=FUND, engagement=w.dee)
    w.bob_august = Payable.objects.get(fund=FUND, engagement=w.bob)
    _pay(w.ann_august, "200.00", "PAY-ANN-PH")
    return w


def get(user_or_client, path=URL, **params):
    client = user_or_client if hasattr(user_or_client, "get") else client_for(user_or_client)
    return client.get(path, {**AUGUST, **params})


def ok(response) -> dict:
    assert response.status_code == 200, response.content[:1500]
    return response.json()


def table(body: dict) -> dict:
    """{production title: [(label, member number, rule, owed, paid, due, due date)]}"""
    return {
        p["title"]: [
            (
                r["label"],
                r["member"]["member_number"] if r["member"] else None,
                r["rule"],
                r["owed"],
                r["paid"],
                r["due"],
                r["due_date"],
            )
            for r in p["rows"]
        ]
        for p in body["productions"]
    }


def posted_sums(**payable_filter) -> dict:
    """What the journal's postings on the matching payables say, per currency, summed here."""
    rows = (
        Posting.objects.filter(**{f"payable__{k}": v for k, v in payable_filter.items()})
        .values("currency")
        .annotate(
            owed=-Sum("amount", filter=Q(effect="owed")),
            paid=Sum("amount", filter=Q(effect="paid")),
        )
    )
    return {r["currency"]: (round(r["owed"] or 0, 2), round(r["paid"] or 0, 2)) for r in rows}


# --- the report ----------------------------------------------------------------------------


def test_the_report_lists_each_member_per_production_with_owed_paid_and_due(world):
    body = ok(get(world.root))
    assert table(body) == {
        "Harbor Nights": [
            ("Bob Other", None, "sag.ph", "490.61", "0.00", "490.61", "2025-08-20"),
        ],
        # members by name: "=1+2 Dee" sorts before "Ann Example"
        "The Long Light": [
            (FORMULA_NAME, None, "sag.ph", "490.61", "0.00", "490.61", "2025-08-20"),
            ("Ann Example", "SAG-0042", "sag.ph", "490.61", "200.00", "290.61", "2025-08-20"),
        ],
    }
    assert (body["fund"], body["fund_title"]) == (FUND, "SAG-AFTRA Pension and Health")
    assert (body["period_from"], body["period_to"], body["studio"]) == (
        "2025-08-01",
        "2025-08-31",
        None,
    )
    film = next(p for p in body["productions"] if p["title"] == "The Long Light")
    assert film["studio"] == {"slug": "meridian", "name": "Meridian"}
    assert film["totals"] == [
        {"currency": "USD", "owed": "981.22", "paid": "200.00", "due": "781.22"}
    ]
    ann = next(r for r in film["rows"] if r["label"] == "Ann Example")
    assert ann["member"] == {
        "id": world.ann.person_id,
        "name": "Ann Example",
        "member_number": "SAG-0042",
    }
    assert ann["payables"] == [world.ann_august.pk]  # July's obligation is not in August's
    assert body["totals"] == [
        {"currency": "USD", "owed": "1471.83", "paid": "200.00", "due": "1271.83"}
    ]
    assert_matches_schema(get(world.root), "get", URL)


def test_the_totals_equal_the_funds_postings(world):
    body = ok(get(world.root))
    in_august = {"fund": FUND, "period_to__range": (date(2025, 8, 1), date(2025, 8, 31))}
    [(currency, (owed, paid))] = posted_sums(**in_august).items()
    [total] = body["totals"]
    assert (total["currency"], D(total["owed"]), D(total["paid"])) == (currency, owed, paid)
    assert D(total["due"]) == owed - paid
    assert body["postings"] == body["totals"]
    # Each production's totals are its rows' sums.
    for production in body["productions"]:
        [sums] = production["totals"]
        for name in ("owed", "paid", "due"):
            assert D(sums[name]) == sum(D(r[name]) for r in production["rows"])

    # A second payment shows at once: the report is read from the postings, never stored.
    _pay(world.bob_august, "490.61", "PAY-BOB-PH")
    body = ok(get(world.root))
    assert body["totals"][0]["paid"] == "690.61" == body["postings"][0]["paid"]
    assert table(body)["Harbor Nights"][0][3:6] == ("490.61", "490.61", "0.00")


def test_the_period_is_the_obligation_periods_end(world):
    body = ok(get(world.root, period_from="2025-07-01", period_to="2025-07-31"))
    assert [(p["title"], [r["payables"] for r in p["rows"]]) for p in body["productions"]] == [
        ("The Long Light", [[world.ann_july.pk]])
    ]
    summer = ok(get(world.root, period_from="2025-07-01", period_to="2025-08-31"))
    [film] = [p for p in summer["productions"] if p["title"] == "The Long Light"]
    ann = next(r for r in film["rows"] if r["label"] == "Ann Example")
    assert sorted(ann["payables"]) == sorted([world.ann_july.pk, world.ann_august.pk])
    assert D(ann["owed"]) == world.ann_july.amount + world.ann_august.amount
    assert (
        ok(get(world.root, period_from="2025-09-01", period_to="2025-09-30"))["productions"] == []
    )


def test_a_share_with_no_member_is_a_row_of_its_own(world):
    share = _fund_share(world.film, "250.00")
    body = ok(get(world.maya, fund="sag-aftra-fund"))
    assert body["fund_title"] == "SAG-AFTRA fund (streaming success-bonus share)"
    [film] = body["productions"]
    assert film["rows"] == [
        {
            "member": None,
            "label": "no member: sag.residual.success_bonus",
            "rule": "sag.residual.success_bonus",
            "currency": "USD",
            "owed": "250.00",
            "paid": "0.00",
            "due": "250.00",
            "due_date": "2025-09-30",
            "payables": [share.pk],
        }
    ]
    assert body["postings"] == body["totals"] == film["totals"]


def test_the_report_asks_a_constant_number_of_queries(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        report = remittance.remittance(
            Scope(superuser=True),
            fund=FUND,
            period_from=date(2025, 8, 1),
            period_to=date(2025, 8, 31),
        )
    assert len(report.rows) == 3


# --- access --------------------------------------------------------------------------------


def titles(response) -> list[str]:
    return [p["title"] for p in ok(response)["productions"]]


def test_each_caller_sees_the_contributions_of_its_scope(world):
    assert titles(get(world.maya)) == ["The Long Light"]
    assert titles(get(world.nora)) == ["Harbor Nights"]
    # SAG-AFTRA's staff see both studios' (by studio: Meridian, then Northgate)
    assert titles(get(world.sam)) == ["The Long Light", "Harbor Nights"]
    assert titles(get(key_client(world.meridian_key))) == ["The Long Light"]
    assert titles(get(key_client(world.northgate_key))) == ["Harbor Nights"]
    for outsider in (world.wes, world.ian):  # staff of other guilds
        body = ok(get(outsider))
        assert (body["productions"], body["totals"], body["postings"]) == ([], [], [])


def test_a_studio_narrows_the_report_to_one_of_the_callers_studios(world):
    body = ok(get(world.root, studio="northgate"))
    assert (body["studio"], table(body)) == (
        "northgate",
        {
            "Harbor Nights": [
                ("Bob Other", None, "sag.ph", "490.61", "0.00", "490.61", "2025-08-20")
            ]
        },
    )
    assert titles(get(world.sam, studio="meridian")) == ["The Long Light"]
    # Another studio is answered as one that does not exist.
    for slug in ("northgate", "no-such-studio"):
        body = assert_error(get(world.maya, studio=slug), 404)
        assert set(body["fields"]) == {"studio"}


def test_callers_without_a_scope_or_the_payables_scope_are_refused(world):
    from rest_framework.test import APIClient

    assert_error(APIClient().get(URL, AUGUST), 401, "not_authenticated")
    key = world.meridian_key
    from ledger.models import PayrollKey

    stored = PayrollKey.objects.get(name="payroll-meridian")
    stored.scopes = ["payments:read"]
    stored.save()
    body = assert_error(key_client(key).get(URL, AUGUST), 403, "scope_missing")
    assert "payables:read" in body["message"]


# --- parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, field",
    [
        ({"fund": "no-such-fund"}, "fund"),
        ({"fund": ""}, "fund"),
        ({"period_from": "2025-08-32"}, "period_from"),
        ({"period_to": "31/08/2025"}, "period_to"),
        ({"studio": "not a slug"}, "studio"),
    ],
)
@pytest.mark.parametrize("path", [URL, f"{URL}csv/", f"{URL}pdf/"])
def test_bad_parameters_are_400_naming_the_field(world, params, field, path):
    body = assert_error(get(world.maya, path, **params), 400)
    assert field in body["fields"], body


@pytest.mark.parametrize("missing", ["fund", "period_from", "period_to"])
def test_each_required_parameter_is_named_when_missing(world, missing):
    params = {k: v for k, v in AUGUST.items() if k != missing}
    body = assert_error(client_for(world.maya).get(URL, params), 400)
    assert missing in body["fields"]


@pytest.mark.parametrize("path", [URL, f"{URL}csv/", f"{URL}pdf/"])
def test_the_period_is_a_filter_the_schema_can_describe(world, path):
    """Any calendar date is read: a period that ends before it starts, or one of years, is
    answered (the first holds nothing), never refused: the schema cannot say otherwise."""
    assert (
        get(world.maya, path, period_from="2025-09-01", period_to="2025-08-31").status_code == 200
    )
    assert (
        get(world.maya, path, period_from="1800-01-01", period_to="2999-12-31").status_code == 200
    )
    reversed_ = ok(get(world.maya, period_from="2025-09-01", period_to="2025-08-31"))
    assert reversed_["productions"] == [] and reversed_["totals"] == []


def test_a_studio_the_caller_does_not_see_is_not_found(world):
    body = assert_error(get(world.maya, studio="no-such-studio"), 404)
    assert "studio" in body["fields"]


def test_a_year_fits_and_every_fund_the_product_pays_is_known(world):
    year = ok(get(world.root, period_from="2024-09-01", period_to="2025-08-31"))
    assert len(year["productions"]) == 2
    assert "wga-health" in remittance.known_funds()  # titled, though nothing is owed to it yet
    assert ok(get(world.root, fund="sag-aftra-fund"))["productions"] == []
    _fund_share(world.film, "10.00")
    assert ok(get(world.root, fund="sag-aftra-fund"))["fund"] == "sag-aftra-fund"


# --- CSV and PDF ---------------------------------------------------------------------------


def test_the_csv_holds_every_row_and_neutralises_formula_cells(world):
    response = get(world.maya, f"{URL}csv/")
    assert response.status_code == 200, response.content[:800]
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        'attachment; filename="remittance-sag-aftra-ph-2025-08-01-2025-08-31.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(csv_text(response))))
    assert list(rows[0]) == list(remittance.CSV_COLUMNS)
    assert [(r["member"], r["member_number"], r["owed"], r["paid"], r["due"]) for r in rows] == [
        ("'" + FORMULA_NAME, "", "490.61", "0.00", "490.61"),
        ("Ann Example", "SAG-0042", "490.61", "200.00", "290.61"),
    ]
    assert {(r["fund"], r["studio"], r["production"], r["currency"]) for r in rows} == {
        (FUND, "meridian", "The Long Light", "USD")
    }
    assert sum(D(r["due"]) for r in rows) == D("781.22")


def squeeze(text: str) -> str:
    return "".join(text.split())


def test_the_pdf_holds_the_fund_the_members_and_the_totals(world):
    response = get(world.root, f"{URL}pdf/")
    assert response.status_code == 200, response.content[:800]
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = squeeze(
        "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    )
    for expected in (
        "SAG-AFTRA Pension and Health",
        "Ann Example",
        "SAG-0042",
        "Bob Other",
        "Harbor Nights",
        "781.22 USD",  # the film's due
        "1,471.83 USD",  # owed in all
        "1,271.83 USD",  # due in all
    ):
        assert squeeze(expected) in text, expected


# --- the admin page ------------------------------------------------------------------------

PAGE = "admin:reports_remittance"


def test_the_admin_page_shows_the_report_readably(world, client):
    client.force_login(world.maya)
    home = client.get(reverse("admin:index"))
    assert reverse(PAGE) in home.content.decode()
    empty = client.get(reverse(PAGE))
    assert empty.status_code == 200 and b"Ann Example" not in empty.content
    response = client.get(reverse(PAGE), {**AUGUST, "as": "show"})
    assert response.status_code == 200
    page = response.content.decode()
    for expected in ("SAG-AFTRA Pension and Health", "The Long Light", "Ann Example", "SAG-0042"):
        assert expected in page, expected
    assert "981.22 USD" in page and "781.22 USD" in page  # owed and due, with the currency
    assert "Bob Other" not in page  # Northgate's
    assert raw_literals(page) == []


def test_the_admin_page_formats_money_with_separators(world, client):
    client.force_login(world.root)
    page = client.get(reverse(PAGE), AUGUST).content.decode()
    assert "1,471.83 USD" in page and "1,271.83 USD" in page
    assert raw_literals(page) == []


def test_the_admin_page_downloads_the_pdf_and_the_csv(world, client):
    client.force_login(world.sam)
    pdf = client.get(reverse(PAGE), {**AUGUST, "as": "pdf"})
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF")
    csv_response = client.get(reverse(PAGE), {**AUGUST, "as": "csv", "studio": "northgate"})
    rows = list(csv.DictReader(io.StringIO(csv_text(csv_response))))
    assert [(r["member"], r["studio"]) for r in rows] == [("Bob Other", "northgate")]


def test_the_admin_page_shows_bad_parameters_on_the_form(world, client):
    client.force_login(world.maya)
    response = client.get(
        reverse(PAGE), {**AUGUST, "period_from": "2025-09-01", "as": "pdf"}
    )  # reversed: the form again, with the error, never a download
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "The period cannot end before it starts." in response.content.decode()
    response = client.get(reverse(PAGE), {**AUGUST, "fund": "no-such-fund"})
    assert response.status_code == 200 and b"Ann Example" not in response.content


def test_the_admin_page_shows_other_guilds_staff_nothing(world, client):
    client.force_login(world.wes)
    page = client.get(reverse(PAGE), AUGUST).content.decode()
    assert "No contribution to this fund" in page
    assert "Ann Example" not in page and "Bob Other" not in page
