"""A person's residual statement over REST: `GET statements/{person_id}/` (JSON, exact decimal
strings), `…/csv/` and `…/pdf/` (downloads), each for an optional period (`period_from`,
`period_to`). Access is compensation's: studio and guild staff see the statement of a person they
may see, cut to the lines their scope covers; a person outside the scope answers 404; payroll keys
read payables through the ledger, not statements (403)."""

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.downloads import CsvNegotiation, csv_download, csv_response
from core.api.fields import FilterDateField, StrictCharField
from ledger import access
from ledger.access import StaffOnly
from ledger.access.api import ScopedViewSet
from ledger.models import Person

from .. import statements

# --- the JSON answer, for the schema ---------------------------------------------------------


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="An exact decimal string, two places."
    )


class ResidualStatementProductionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = StrictCharField()


ExhibitionPeriod = inline_serializer(
    "ResidualStatementExhibitionPeriod",
    {"from": serializers.DateField(), "to": serializers.DateField()},
)


class ResidualStatementLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run = serializers.IntegerField()
    work = StrictCharField(help_text="The production's title and the episode.")
    production = ResidualStatementProductionSerializer()
    episode = StrictCharField(allow_blank=True)
    market = StrictCharField()
    territory = StrictCharField()
    exhibition_period = ExhibitionPeriod
    rule = StrictCharField()
    rule_title = StrictCharField()
    description = StrictCharField()
    quantity = serializers.DecimalField(max_digits=20, decimal_places=4, coerce_to_string=True)
    unit = StrictCharField()
    factors = serializers.ListField(child=serializers.DictField())
    factors_in_words = StrictCharField(
        help_text='Each factor\'s key, value and unit: "base episode:60 20,000.00 USD × …".'
    )
    amount = _money()
    currency = StrictCharField()
    due_date = serializers.DateField()
    fund = StrictCharField(required=False, help_text="Contributions only: the fund paid.")
    fund_title = StrictCharField(required=False)


class ResidualStatementPayableSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    production = StrictCharField()
    rule = StrictCharField()
    rule_title = StrictCharField()
    description = StrictCharField()
    currency = StrictCharField()
    due_date = serializers.DateField()
    owed = _money()
    paid = _money()
    due = _money()


class ResidualStatementTotalSerializer(serializers.Serializer):
    currency = StrictCharField()
    residuals = _money()
    contributions = _money()
    owed = _money()
    paid = _money()
    due = _money()


class ResidualStatementPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    legal_name = StrictCharField()
    professional_name = StrictCharField(allow_blank=True)
    payroll_ref = StrictCharField(allow_blank=True)


class ResidualStatementSerializer(serializers.Serializer):
    """A person's residual statement: a line per residual (work, market, exhibition period,
    rule, factors, amount, due date), the pension and health contributions made on their behalf,
    their residual payables with what is owed, paid and due, and totals per currency."""

    person = ResidualStatementPersonSerializer()
    period_from = serializers.DateField(allow_null=True)
    period_to = serializers.DateField(allow_null=True)
    issued_on = serializers.DateField()
    lines = ResidualStatementLineSerializer(many=True)
    contributions = ResidualStatementLineSerializer(many=True)
    payables = ResidualStatementPayableSerializer(many=True)
    totals = ResidualStatementTotalSerializer(many=True)


# --- the query ------------------------------------------------------------------------------


class ResidualStatementQuerySerializer(serializers.Serializer):
    """A statement's range is a filter, not a record: any calendar date is taken, and a range
    that ends before it starts holds no run (an empty statement), as the schema can say."""

    period_from = FilterDateField(
        required=False, help_text="Residual runs whose period ends on or after this date…"
    )
    period_to = FilterDateField(
        required=False, help_text="…and starts on or before this date. Either may be left out."
    )


PERIOD_PARAMETERS = [
    OpenApiParameter(
        "period_from",
        OpenApiTypes.DATE,
        description="Residual runs whose period ends on or after this date.",
    ),
    OpenApiParameter(
        "period_to",
        OpenApiTypes.DATE,
        description="Residual runs whose period starts on or before this date.",
    ),
]


def _attachment(body: Any, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class StatementViewSet(ScopedViewSet):
    """Residual statements: `{id}` is the person's id. Each shows the lines of the last approved
    residual run of each production and period that overlaps the range (a later run supersedes
    the earlier ones), as the caller's scope may see them, and what the person's residual
    payables owe, have been paid and is still due."""

    queryset = Person.objects.all()
    permission_classes = [StaffOnly]
    scope_queryset = staticmethod(access.people)
    serializer_class = ResidualStatementSerializer
    filter_backends: list[Any] = []
    pagination_class = None

    def _statement(self) -> statements.Statement:
        person = self.get_object()
        query = ResidualStatementQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return statements.statement(person, scope=self.scope, **query.validated_data)

    def get_queryset(self):
        return super().get_queryset().distinct()

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: ResidualStatementSerializer})
    def retrieve(self, request, pk=None):
        return Response(self._statement().as_dict())

    @csv_download(parameters=PERIOD_PARAMETERS)
    @action(detail=True, methods=["get"], content_negotiation_class=CsvNegotiation)
    def csv(self, request, pk=None):
        """The statement as one CSV table: residual, contribution, payable and total rows."""
        s = self._statement()
        return csv_response(request, statements.statement_csv(s), statements.file_name(s, "csv"))

    @extend_schema(
        parameters=PERIOD_PARAMETERS,
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """The statement as the person receives it: a table per work, totals, paid and due."""
        s = self._statement()
        return _attachment(
            statements.statement_pdf(s), "application/pdf", statements.file_name(s, "pdf")
        )
