"""Amounts, ids, dates and instants are read by one set of strict parsers (core/parse.py) on every
path: the API's fields, the admin's forms, the CSV imports. What the OpenAPI schema refuses, the
server refuses too, with a field error in the one JSON shape, and nothing is written."""

import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from compensation.models import EngagementTerms, WgaDelivery
from consent.models import AiUse
from core import parse
from core.admin.form_fields import StrictDecimalFormField
from core.api.fields import DecimalStringField, StrictInstantField
from core.errors import DomainError
from ledger.access import Scope
from ledger.models import Engagement, JournalTransaction, Payment
from ledger.payroll.api import PaymentSerializer
from ledger.registry import engagement_import
from tests.factories import (
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    studio_staff,
)
from tests.helpers import make_payable

# What Python's Decimal (and DRF's and Django's decimal fields) took, and the schema refuses.
BAD_AMOUNTS = ["1_000.00", "1e2", "+1.00", " 1.00", "1.00 ", ".5", "5.", "１.００", "١.٠٠", "1.2.3"]
BAD_IDS = ["٢١", "²", "+21", " 21", "2_1", "99999999999999999999"]

pytestmark = pytest.mark.django_db


def error_of(response, status=400) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    return body


# --- the parsers ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", BAD_AMOUNTS + ["-1.00", "", "1.234", "1234567890123.00"])
def test_an_amount_outside_the_schema_pattern_is_refused(text):
    with pytest.raises(parse.ParseError):
        parse.parse_decimal(text, field="amount", max_digits=14, decimal_places=2)


@pytest.mark.parametrize("text", ["0", "1", "1.5", "1250.00", "999999999999.99"])
def test_an_amount_in_the_schema_pattern_is_read_exactly(text):
    assert parse.parse_decimal(text, field="a", max_digits=14, decimal_places=2) == Decimal(text)


def test_a_negative_amount_only_where_negatives_are_allowed():
    assert parse.parse_decimal("-1.50", field="a", allow_negative=True) == Decimal("-1.50")
    with pytest.raises(parse.ParseError):
        parse.parse_decimal("-1.50", field="a")


@pytest.mark.parametrize("text", BAD_IDS + ["", "1.0", "-1"])
def test_an_id_is_ascii_digits(text):
    with pytest.raises(parse.ParseError):
        parse.parse_ascii_id(text, field="id")


@pytest.mark.parametrize(
    "text", ["0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01", "2025-02-30", "２０２５-01-01"]
)
def test_a_date_is_iso_and_in_years_1900_to_2200(text):
    with pytest.raises(parse.ParseError):
        parse.parse_date(text, field="d")


@pytest.mark.parametrize(
    "text",
    [
        "2025-06-21",  # a bare date
        "2025-06-21T12:00:00",  # no offset
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2025-06-21T12:00:00+24:00",
        "٢٠٢٥-06-21T12:00:00Z",
    ],
)
def test_an_instant_has_a_time_and_an_offset_and_a_sane_year(text):
    with pytest.raises(parse.ParseError):
        parse.parse_instant(text, field="at")


def test_an_instant_is_returned_in_utc():
    moment = parse.parse_instant("2025-06-21T12:00:00+02:00", field="at")
    assert moment.isoformat() == "2025-06-21T10:00:00+00:00"


def test_the_parsers_import_nothing_of_django():
    code = "import sys, core.parse; sys.exit(any(m.startswith('django') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_schema_publishes_the_pattern_the_field_matches():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    amount = schema["components"]["schemas"]["PaymentRequest"]["properties"]["amount"]
    field = PaymentSerializer().fields["amount"]
    assert (
        amount["pattern"] == field.pattern == parse.decimal_pattern(max_digits=14, decimal_places=2)
    )
    for text in BAD_AMOUNTS:
        with pytest.raises(parse.ParseError):
            parse.parse_decimal(text, field="amount", max_digits=14, decimal_places=2)


# --- CSV ------------------------------------------------------------------------------------


def test_a_csv_value_beyond_the_field_limit_is_a_row_error_not_a_crash():
    text = "a,b\n1," + "x" * 200_000 + "\n"
    with pytest.raises(parse.ParseError) as caught:
        parse.read_csv(text)
    assert caught.value.row == 2 and "131,072" in caught.value.message


def test_a_csv_with_a_nul_names_its_line():
    with pytest.raises(parse.ParseError) as caught:
        parse.read_csv("a,b\n1,2\n3,\x004\n")
    assert caught.value.row == 3


# --- payments: amounts and instants ----------------------------------------------------------


@pytest.fixture
def payment_world():
    payable = make_payable()
    user = studio_staff(payable.production.studio, "paula")
    client = APIClient()
    client.force_authenticate(user)
    return payable, client


def post_payment(client, payable, *, key="k-1", **overrides):
    body = {
        "payable": payable.pk,
        "amount": "100.00",
        "paid_at": "2025-06-21T12:00:00Z",
        "payroll_reference": f"REF-{key}",
    }
    body.update(overrides)
    return client.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_a_payment_amount_outside_the_schema_is_refused(payment_world, amount):
    payable, client = payment_world
    before = (Payment.objects.count(), JournalTransaction.objects.count())
    body = error_of(post_payment(client, payable, amount=amount))
    assert body["code"] == "invalid" and "amount" in body["fields"]
    assert (Payment.objects.count(), JournalTransaction.objects.count()) == before


@pytest.mark.parametrize(
    "paid_at", ["2025-06-21", "2025-06-21T12:00:00", "0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"]
)
def test_a_payment_instant_needs_a_time_an_offset_and_a_sane_year(payment_world, paid_at):
    payable, client = payment_world
    body = error_of(post_payment(client, payable, paid_at=paid_at))
    assert "paid_at" in body["fields"]
    assert not Payment.objects.exists()


def test_a_payment_dated_in_the_future_is_refused_and_writes_nothing(payment_world):
    payable, client = payment_world
    before = JournalTransaction.objects.count()
    body = error_of(post_payment(client, payable, paid_at="2030-01-01T00:00:00Z"))
    assert body["code"] == "paid_at_invalid" and "paid_at" in body["fields"]
    later = timezone.now() + timedelta(minutes=10)  # beyond the 300 s tolerance
    error_of(post_payment(client, payable, key="k-2", paid_at=later.isoformat()))
    assert not Payment.objects.exists()
    assert JournalTransaction.objects.count() == before


def test_a_payment_within_the_clock_skew_tolerance_is_recorded(payment_world):
    payable, client = payment_world
    soon = timezone.now() + timedelta(seconds=60)
    response = post_payment(client, payable, paid_at=soon.isoformat())
    assert response.status_code == 201, response.content
    assert Payment.objects.get().transaction.effective_date == soon.date()


def test_a_payment_before_its_payable_is_owed_is_refused_in_the_service(payment_world):
    payable, _client = payment_world
    from tests.ledger.conftest_journal import pay

    early = parse.parse_instant("2025-06-05T23:59:59Z", field="paid_at")  # period_to 2025-06-06
    with pytest.raises(DomainError) as caught:
        pay(payable, Decimal("100.00"), paid_at=early)
    assert caught.value.code == "paid_at_invalid" and "paid_at" in caught.value.fields
    assert not Payment.objects.exists()
    on_the_day = parse.parse_instant("2025-06-06T00:00:00Z", field="paid_at")
    pay(payable, Decimal("100.00"), paid_at=on_the_day)
    assert Payment.objects.count() == 1


def test_instants_of_every_model_serializer_are_strict():
    assert isinstance(PaymentSerializer().fields["paid_at"], StrictInstantField)


# --- engagements: API, CSV import, admin ----------------------------------------------------


@pytest.fixture
def registry():
    studio = StudioFactory(slug="meridian")
    production = ProductionFactory(studio=studio, title="The Long Light")
    ProductionAgreementFactory(production=production, agreement=agreement("sag-tvth-2023"))
    person = PersonFactory(registered_by=studio, payroll_ref="PR-1")
    user = studio_staff(studio, "maya")
    client = APIClient()
    client.force_authenticate(user)
    return {"production": production, "person": person, "user": user, "client": client}


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_an_engagement_rate_outside_the_schema_is_refused(registry, amount):
    body = {
        "person": registry["person"].pk,
        "production": registry["production"].pk,
        "agreement": "sag-tvth-2023",
        "classification": "day_performer",
        "rate": {"amount": amount, "unit": "day", "currency": "USD"},
        "start_date": "2025-06-02",
    }
    error = error_of(registry["client"].post("/api/v1/engagements/", body, format="json"))
    assert "rate" in error["fields"], error
    assert not Engagement.objects.exists()


@pytest.mark.parametrize("start", ["0001-01-01", "9999-12-31", "٢٠٢٥-06-02"])
def test_an_engagement_date_outside_the_years_is_refused(registry, start):
    body = {
        "person": registry["person"].pk,
        "production": registry["production"].pk,
        "agreement": "sag-tvth-2023",
        "classification": "day_performer",
        "rate": {"amount": "1500.00", "unit": "day", "currency": "USD"},
        "start_date": start,
    }
    error = error_of(registry["client"].post("/api/v1/engagements/", body, format="json"))
    assert "start_date" in error["fields"], error
    assert not Engagement.objects.exists()


def csv_text(registry, **cells) -> str:
    row = {
        "payroll_ref": "PR-1",
        "production": str(registry["production"].pk),
        "agreement": "sag-tvth-2023",
        "classification": "day_performer",
        "rate_amount": "1500.00",
        "rate_unit": "day",
        "start_date": "2025-06-02",
        **cells,
    }
    return ",".join(row) + "\n" + ",".join(row.values()) + "\n"


def preview_errors(registry, text) -> dict:
    scope = Scope(superuser=True)
    preview = engagement_import.engagement_import_preview(scope=scope, text=text)
    (row,) = preview.rows
    return dict(row.errors)


def test_the_engagement_import_reads_only_ascii_ids(registry):
    production = registry["production"]
    for text in (f"{production.pk}".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")), "²"):
        errors = preview_errors(registry, csv_text(registry, production=text))
        assert "production" in errors, (text, errors)
    person = registry["person"]
    arabic = str(person.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    errors = preview_errors(registry, csv_text(registry, payroll_ref="", person_id=arabic))
    assert "person_id" in errors


# A CSV cell's surrounding spaces are layout (every column is stripped); the rest is the API's.
@pytest.mark.parametrize("amount", [a for a in BAD_AMOUNTS if a == a.strip()])
def test_the_engagement_import_reads_rates_as_the_api_does(registry, amount):
    errors = preview_errors(registry, csv_text(registry, rate_amount=amount))
    assert "rate_amount" in errors, (amount, errors)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_engagement_import_bounds_its_dates(registry, day):
    errors = preview_errors(registry, csv_text(registry, start_date=day))
    assert "start_date" in errors


@pytest.mark.parametrize(
    "text",
    [
        "payroll_ref,production\n" + "PR-1," + "9" * 200_000 + "\n",
        "payroll_ref,production,agreement\nPR-1,\x00,x\n",
    ],
)
def test_an_unreadable_engagement_file_is_a_clear_error_and_imports_nothing(registry, text):
    with pytest.raises(DomainError) as caught:
        engagement_import.engagement_import(
            actor=registry["user"], scope=Scope(superuser=True), text=text
        )
    assert caught.value.code == "import_invalid"
    assert not Engagement.objects.exists()


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (Engagement, "rate_amount"),
        (EngagementTerms, "kit_rental_amount"),
        (WgaDelivery, "fee"),
        (AiUse, "days"),
    ],
)
def test_admin_forms_take_amounts_as_the_api_does(model, field):
    request = RequestFactory().get("/")
    request.user = UserFactory(username="root", is_superuser=True, is_staff=True)
    form_field = admin.site._registry[model].formfield_for_dbfield(
        model._meta.get_field(field), request=request
    )
    assert isinstance(form_field, StrictDecimalFormField)
    for text in BAD_AMOUNTS:
        with pytest.raises(Exception) as caught:
            form_field.clean(text)
        assert type(caught.value).__name__ == "ValidationError", text
    assert form_field.clean("12.5") == Decimal("12.5")


def test_decimal_string_fields_allow_a_sign_only_below_zero():
    assert not DecimalStringField(max_digits=14, decimal_places=2, min_value=0).allow_negative
    assert DecimalStringField(max_digits=14, decimal_places=2).allow_negative
