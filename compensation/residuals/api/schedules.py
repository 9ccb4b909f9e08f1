"""Residual schedules over REST, under /api/v1/residuals/schedules/: every staff caller lists and
reads them; administrators, guild staff (their guild's agreements) and studio staff load one
from a CSV or JSON file (compensation.residuals.schedules); `template/` is the CSV template,
every kind with an example key and no figure. Payroll keys have no access."""

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from compensation.api import upload_text
from compensation.models import EvidenceTier, ResidualSchedule
from compensation.residuals import schedules, selectors
from core.api.common import TextFilter
from core.api.downloads import CsvNegotiation, csv_download, csv_response
from core.api.fields import ModelSerializer, StrictCharField, StrictDateField
from core.money import Currency
from ledger.access import request_scope
from ledger.access.api import ScopedViewSet
from ledger.models import Agreement


class ResidualScheduleFiguresSerializer(serializers.Serializer):
    """The figures as the residual rules read them: the what-if's `schedule` object. `name` is
    the schedule's label (agreement:name vN), as residual lines cite it."""

    name = StrictCharField()
    # A declared field named like Field.source: the stubs read it as that attribute.
    source = StrictCharField()  # type: ignore[assignment]
    tier = serializers.ChoiceField(choices=EvidenceTier)
    currency = serializers.ChoiceField(choices=Currency.choices)
    due_rule = StrictCharField(
        required=False,
        help_text="The market whose due dates the HBSVOD residual follows (syndication, "
        "basic_cable or supplemental_markets); absent: supplemental markets.",
    )
    bases = serializers.DictField(
        child=StrictCharField(), help_text='{"<work type>:<minutes up to>": amount}'
    )
    subscriber_factors = serializers.DictField(
        child=StrictCharField(), help_text='{"<tier>": factor}'
    )
    exhibition_year_percent = serializers.DictField(
        child=StrictCharField(), help_text='{"<year>:domestic|foreign": percent}'
    )
    gross_receipts_percent = serializers.DictField(
        child=StrictCharField(), help_text='{"<market>:domestic|foreign": percent}'
    )


class ResidualScheduleSerializer(ModelSerializer):
    agreement: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    loaded_by = StrictCharField(source="loaded_by.username", read_only=True)
    figures = ResidualScheduleFiguresSerializer(read_only=True)

    class Meta:
        model = ResidualSchedule
        fields = [
            "id",
            "agreement",
            "name",
            "version",
            "effective_from",
            "source",
            "tier",
            "currency",
            "due_rule",
            "figures",
            "file_name",
            "file_format",
            "sha256",
            "loaded_by",
            "loaded_at",
        ]


class ResidualScheduleLoadSerializer(serializers.Serializer):
    agreement = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Agreement.objects.all(),
        help_text="A SAG-AFTRA or WGA agreement's code, e.g. wga-mba-2023.",
    )
    name = StrictCharField(
        max_length=schedules.NAME_LENGTH,
        help_text="A new load of the same name (and agreement) is its next version.",
    )
    # A declared field named like Field.source: the stubs read it as that attribute.
    source = StrictCharField(  # type: ignore[assignment]
        max_length=schedules.SOURCE_LENGTH,
        help_text="Where the figures come from: title, date and address.",
    )
    effective_from = StrictDateField(help_text="In force for exhibitions from this date.")
    tier = serializers.ChoiceField(choices=EvidenceTier, default="P")
    currency = serializers.ChoiceField(choices=Currency.choices, default="USD")
    # The model's choice set (with the empty "none"), so that the schema names one enum.
    due_rule = serializers.ChoiceField(
        choices=ResidualSchedule._meta.get_field("due_rule").choices or [],
        required=False,
        allow_blank=True,
        help_text="The market whose due dates the HBSVOD residual follows; empty: "
        "supplemental markets.",
    )
    file_format = serializers.ChoiceField(
        choices=ResidualSchedule.Format.choices,
        required=False,
        help_text="Default: json for a file named *.json, else csv.",
    )
    file = serializers.FileField(
        help_text="CSV (kind,key,value) or JSON ({bases, subscriber_factors, "
        "exhibition_year_percent, gross_receipts_percent}); every figure a decimal string."
    )


class ResidualScheduleFilter(django_filters.FilterSet):
    agreement = TextFilter(field_name="agreement__code", max_length=40)
    name = TextFilter(max_length=schedules.NAME_LENGTH)

    class Meta:
        model = ResidualSchedule
        fields: list[str] = []


class LoadersWrite(BasePermission):
    """Every staff caller reads; those who may load some agreement's schedule write (the view
    checks the agreement named); payroll keys neither."""

    def has_permission(self, request, view):
        scope = request_scope(request)
        if scope.is_empty or scope.payroll_key is not None:
            return False
        return request.method in SAFE_METHODS or schedules.can_load_any(scope)


class ScheduleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Residual schedules as loaded, numbered per agreement and name and never edited. The
    agreement's schedule in force on a date is the one with the latest `effective_from` on or
    before it (the last loaded, among equals); a figure it lacks is `rate_missing`."""

    queryset = ResidualSchedule.objects.all()
    serializer_class = ResidualScheduleSerializer
    filterset_class = ResidualScheduleFilter
    permission_classes = [LoadersWrite]
    parser_classes = [MultiPartParser, FormParser]
    scope_queryset = staticmethod(selectors.schedules)

    @extend_schema(
        request={"multipart/form-data": ResidualScheduleLoadSerializer},
        responses={201: ResidualScheduleSerializer},
    )
    def create(self, request):
        """Load a schedule: the whole file is checked, and a faulty one is refused
        (`residual_schedule_invalid`) with every faulty row in `fields.file`."""
        body = ResidualScheduleLoadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        schedules.check_may_load(self.scope, data["agreement"])
        text, name = upload_text(request)
        row = schedules.schedule_load(
            actor=request.user,
            agreement=data["agreement"],
            name=data["name"],
            source=data["source"],
            effective_from=data["effective_from"],
            tier=data["tier"],
            currency=data["currency"],
            due_rule=data.get("due_rule"),
            file_name=name,
            file_format=data.get("file_format")
            or ("json" if name.lower().endswith(".json") else "csv"),
            content=text,
        )
        return Response(ResidualScheduleSerializer(row).data, status=status.HTTP_201_CREATED)

    @csv_download()
    @action(detail=False, methods=["get"], content_negotiation_class=CsvNegotiation)
    def template(self, request):
        """The CSV template: the header kind,key,value and every kind with an example key and an
        empty value. The figures come from the guild's schedule; none is given here."""
        return csv_response(request, schedules.SCHEDULE_TEMPLATE_CSV, schedules.TEMPLATE_FILE_NAME)
