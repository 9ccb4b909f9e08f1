"""The payables list is built from `.values()` rows for speed; it must say exactly what the
documented PayableSerializer says for the same payable."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from core.api.renderers import FastJSONRenderer
from core.audit import system_user
from ledger.access import Scope
from ledger.journal import selectors as journal_selectors
from ledger.journal import services as journal_services
from ledger.models import Payable
from ledger.payroll.api import PayableSerializer, _payable_csv_row
from ledger.payroll.rows import PAYABLE_VALUES, payable_row
from tests.factories import EngagementFactory

pytestmark = pytest.mark.django_db


def test_list_rows_equal_the_serializer(django_capture_on_commit_callbacks):
    engagement = EngagementFactory(person__professional_name="Stage Name")
    payable = journal_services.payable_create(
        actor=system_user(),
        production=engagement.production,
        person=engagement.person,
        engagement=engagement,
        rule="sag.pay.day",
        description="Day pay",
        amount=Decimal("1500.00"),
        currency="USD",
        period_from=date(2025, 8, 1),
        period_to=date(2025, 8, 2),
        due_date=date(2025, 8, 8),
        source_type="test",
        source_id="1",
        fringes=[journal_services.Fringe("sag-aftra-ph", "sag.ph", Decimal("315.005"))],
    )
    qs = journal_selectors.open_payables(Scope(superuser=True))
    values = qs.annotate(fringes_json=Cast("fringes", TextField())).values(*PAYABLE_VALUES)
    fund_payable = qs.get(fund="sag-aftra-ph")
    for one in (payable, fund_payable):
        via_serializer = PayableSerializer(qs.get(pk=one.pk)).data
        via_row = json.loads(FastJSONRenderer().render([payable_row(values.get(pk=one.pk))]))[0]
        assert via_row == json.loads(JSONRenderer().render(via_serializer))
        assert list(via_row) == list(via_serializer)  # same fields, same order
    person_row = payable_row(values.get(pk=payable.pk))
    assert person_row["person"]["name"] == "Stage Name"
    assert person_row["payee"] == {"kind": "person", "person": engagement.person_id, "fund": ""}
    fund_row = payable_row(values.get(pk=fund_payable.pk))
    assert (fund_row["person"], fund_row["amount"]) == (None, "315.01")
    assert fund_row["payee"] == {"kind": "fund", "person": None, "fund": "sag-aftra-ph"}


def test_rows_of_old_payables_pass_their_noted_fringes_through():
    """Payables written before contributions were payables of their own noted them as JSON."""
    engagement = EngagementFactory()
    old = Payable.objects.create(
        studio_id=engagement.production.studio_id,
        production=engagement.production,
        person=engagement.person,
        engagement=engagement,
        rule="sag.pay.day",
        description="Day pay",
        amount=Decimal("1000.00"),
        currency="USD",
        fringes=[{"fund": "sag-aftra-ph", "rule": "sag.ph", "amount": "210.00"}],
        period_from=date(2025, 8, 1),
        period_to=date(2025, 8, 2),
        due_date=date(2025, 8, 8),
        source_type="test",
        source_id="old",
        created_at=timezone.now(),
    )
    qs = Payable.objects.annotate(fringes_json=Cast("fringes", TextField()))
    qs = journal_selectors.payables_with_amounts(qs)
    row = payable_row(qs.values(*PAYABLE_VALUES).get(pk=old.pk))
    assert json.loads(FastJSONRenderer().render(row))["fringes"] == [
        {"fund": "sag-aftra-ph", "rule": "sag.ph", "amount": "210.00"}
    ]
    # The CSV export shows them too, in two columns a spreadsheet can sum.
    csv_row = _payable_csv_row(qs.values(*PAYABLE_VALUES).get(pk=old.pk))
    assert csv_row[16:18] == ["sag-aftra-ph sag.ph 210.00", "210.00"]
