"""Compensation over REST, under /api/v1/compensation/: the quote (no side effects), rate sheets,
engagement terms, timecards and WGA deliveries (one by one or imported from CSV), runs (start,
status, lines, approve), lines with their explanations, and the resolution of held uses.

Studio staff record and run their productions'; guild staff read what is under their guild's
agreements and load their guild's rate sheets; payroll keys read payables through the ledger's
API, not these."""

from typing import Any

import django_filters
from django.db import connection, models
from django.db.models import QuerySet
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from consent import selectors as consent_selectors
from consent.models import AiUse
from core import parse
from core.api.common import IdFilter, TextFilter
from core.api.fields import (
    DecimalStringField,
    ModelSerializer,
    StrictCharField,
    StrictDateField,
    StrictIntegerField,
    StrictPrimaryKeyRelatedField,
)
from core.api.parsers import JSONParser as BoundedJSONParser
from core.errors import DomainError, Forbidden
from ledger import access
from ledger.access import ReadForAnyStaff, Scope, StaffOnly, request_scope
from ledger.access.api import ScopedChoices, ScopedViewSet
from ledger.access.filters import KnownValuesFilterSet
from ledger.models import Agreement, Engagement, Production

from . import review as reviews
from . import runs, selectors, services
from .models import (
    CompensationLine,
    CompensationRun,
    EngagementTerms,
    EvidenceTier,
    HoldResolution,
    RateSheet,
    RateSheetValue,
    Timecard,
    WgaDelivery,
)
from .models.pay import RunAcknowledgement
from .rules.quote import quote

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _writable_engagements(scope: Scope) -> QuerySet:
    qs = Engagement.objects.select_related("production", "agreement__guild", "person")
    return access.on_writable_productions(scope, qs)


def upload_text(request) -> tuple[str, str]:
    """The uploaded `file` (multipart) or the raw body (text/csv), as text, and its name."""
    upload = request.FILES.get("file") if hasattr(request, "FILES") else None
    if upload is None:
        raise DomainError(
            "Upload the file as `file` (multipart/form-data).", fields={"file": "Required."}
        )
    if upload.size > MAX_UPLOAD_BYTES:
        raise DomainError(
            f"At most {MAX_UPLOAD_BYTES} bytes.",
            code="file_too_large",
            fields={"file": "Too large."},
        )
    try:
        return upload.read().decode("utf-8-sig"), upload.name or "upload"
    except UnicodeDecodeError:
        raise DomainError("The file is not UTF-8 text.", fields={"file": "Not UTF-8."}) from None


# --- the quote ------------------------------------------------------------------------------

QUOTE_EXAMPLE = {
    "agreement": "sag-tvth-2023",
    "classification": "day_performer",
    "production_kind": "theatrical",
    "episode_minutes": None,
    "rate": {"amount": "1500.00", "unit": "day", "currency": "USD"},
    "work_days": [
        {
            "date": "2025-08-01",
            "first_call": "07:00",
            "dismissal": "19:30",
            "meals": [["13:00", "13:30"]],
            "rest_start": None,
        }
    ],
    "replica_uses": [{"kind": "ebdr_use", "date": "2025-09-10", "days": "2"}],
    "scans": [
        {
            "date": "2025-03-10",
            "hours": "3.0",
            "other_work_that_day": False,
            "for_performer_convenience": False,
        }
    ],
    "deliveries": [],
    "other_pay": [],
}

QuoteResponse = inline_serializer(
    "Quote",
    {
        "lines": serializers.ListField(child=serializers.DictField()),
        "fringes": serializers.ListField(child=serializers.DictField()),
        "total": serializers.ListField(child=serializers.DictField()),
        "exceptions": serializers.ListField(child=serializers.DictField()),
        "rules_version": StrictCharField(),
    },
)


class QuoteView(APIView):
    """What is owed for a self-contained set of work, with every line explained (rule, quantity,
    rate, amount, tier, parameters with their sources, flags). Writes nothing. A missing rate is a
    `rate_missing` exception beside every line that could be computed."""

    permission_classes = [ReadForAnyStaff]

    @extend_schema(
        summary="Quote what is owed for a set of work",
        request=OpenApiTypes.OBJECT,
        responses={200: QuoteResponse},
        examples=[
            OpenApiExample("A SAG-AFTRA day performer", value=QUOTE_EXAMPLE, request_only=True)
        ],
    )
    def post(self, request):
        try:
            result = quote(request.data, selectors.current_parameters())
        except parse.ParseErrors as errors:  # every faulty field, each with its messages
            fields = {field: " ".join(texts) for field, texts in errors.by_field().items()}
            raise DomainError(errors.message, fields=fields) from None
        except parse.ParseError as error:
            raise DomainError(error.message, fields={error.field: error.message}) from None
        return Response(result.as_dict())


# --- rate sheets ----------------------------------------------------------------------------


class RateSheetValueSerializer(ModelSerializer):
    class Meta:
        model = RateSheetValue
        fields = ["parameter", "effective_from", "until", "value", "unit", "tier", "source", "rule"]


class RateSheetSerializer(ModelSerializer):
    agreement: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    loaded_by = StrictCharField(source="loaded_by.username", read_only=True)
    values = RateSheetValueSerializer(many=True, read_only=True)

    class Meta:
        model = RateSheet
        fields = [
            "id",
            "agreement",
            "name",
            "version",
            "source",
            "tier",
            "file_name",
            "file_format",
            "sha256",
            "loaded_by",
            "loaded_at",
            "values",
        ]


class RateSheetLoadSerializer(serializers.Serializer):
    agreement = serializers.SlugRelatedField(slug_field="code", queryset=Agreement.objects.all())
    name = StrictCharField(max_length=120)
    # A declared field named like Field.source: the stubs read it as that attribute.
    source = StrictCharField(max_length=2000)  # type: ignore[assignment]
    tier = serializers.ChoiceField(choices=EvidenceTier, default="P")
    file_format = serializers.ChoiceField(choices=RateSheet.Format.choices, required=False)
    file = serializers.FileField()


class GuildOrSuperuserWrites(BasePermission):
    """Rate sheets are a guild's figures: its staff (or a superuser) load them; staff read."""

    def has_permission(self, request, view):
        scope = request_scope(request)
        if scope.is_empty or scope.payroll_key is not None:
            return False
        return request.method in ("GET", "HEAD", "OPTIONS") or scope.can_write_any_guild


class RateSheetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Official rate sheets as loaded, newest first; kept and numbered, never edited. A loaded
    sheet supersedes the shipped parameters for the dates it covers."""

    queryset = RateSheet.objects.prefetch_related("values")
    serializer_class = RateSheetSerializer
    permission_classes = [GuildOrSuperuserWrites]
    parser_classes = [MultiPartParser, FormParser]
    scope_queryset = staticmethod(selectors.rate_sheets)

    @extend_schema(
        request={"multipart/form-data": RateSheetLoadSerializer},
        responses={201: RateSheetSerializer},
    )
    def create(self, request):
        body = RateSheetLoadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        agreement = body.validated_data["agreement"]
        scope = self.scope
        # The non-union agreement has no guild and no sheet: the service refuses it as such.
        if agreement.guild is not None and not scope.can_write_guild(agreement.guild_id):
            raise Forbidden(f"Only {agreement.guild.code} staff load its rate sheets.")
        text, name = upload_text(request)
        file_format = body.validated_data.get("file_format") or (
            "json" if name.lower().endswith(".json") else "csv"
        )
        sheet = services.rate_sheet_load(
            actor=request.user,
            agreement=agreement,
            name=body.validated_data["name"],
            source=body.validated_data["source"],
            tier=body.validated_data["tier"],
            file_name=name,
            file_format=file_format,
            content=text,
        )
        return Response(RateSheetSerializer(sheet).data, status=status.HTTP_201_CREATED)


# --- engagement terms, timecards and deliveries ---------------------------------------------


class EngagementField(StrictPrimaryKeyRelatedField):
    """An engagement the caller may write: their studios' (all, for a superuser)."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Engagement.objects.none()
        return _writable_engagements(request_scope(request))


class TermsSerializer(ModelSerializer):
    engagement = EngagementField()

    class Meta:
        model = EngagementTerms
        fields = ["id", "engagement", "wage_classification", "kit_rental_amount", "kit_rental_per"]
        # The wage classification's rule is the service's (terms_set), for the admin too.


class ClockTimeField(serializers.TimeField):
    """A time of day on the set, which has no time zone: "07:00" in (`core.parse`), "07:00:00"
    out."""

    def to_internal_value(self, value):
        try:
            return parse.parse_clock_time(value, field=self.field_name or "")
        except parse.ParseError as error:
            raise serializers.ValidationError(error.message, code="invalid") from None


class ClockTimeSchema(OpenApiSerializerFieldExtension):
    """OpenAPI's `format: time` is RFC 3339's full-time, which needs a zone offset ("07:00:00Z").
    A call time has none, so it is described by its pattern, in requests and answers alike."""

    target_class = ClockTimeField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return {"type": "string", "pattern": parse.CLOCK_TIME_PATTERN}
        return {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$"}


class TimecardSerializer(ModelSerializer):
    serializer_field_mapping = {
        **ModelSerializer.serializer_field_mapping,
        models.TimeField: ClockTimeField,
    }
    engagement = EngagementField()
    meals = serializers.ListField(
        child=serializers.ListField(
            child=ClockTimeField(format="%H:%M"), min_length=2, max_length=2
        ),
        max_length=4,
        required=False,
        help_text='Meal periods, [["13:00", "13:30"], …].',
    )

    class Meta:
        model = Timecard
        fields = [
            "id",
            "engagement",
            "date",
            "first_call",
            "dismissal",
            "meals",
            "rest_start",
            "episode",
            "elapsed_hours",
            "work_hours",
        ]
        read_only_fields = ["elapsed_hours", "work_hours"]
        validators: list[
            Any
        ] = []  # one card per engagement and day: a second one corrects the first

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["meals"] = instance.meals
        return data


class DeliverySerializer(ModelSerializer):
    engagement = EngagementField()

    class Meta:
        model = WgaDelivery
        fields = ["id", "engagement", "work_type", "date", "ai_material_handed_over", "fee"]
        extra_kwargs = {"fee": {"min_value": 0}}
        validators: list[Any] = []


class RecordFilter(KnownValuesFilterSet):
    engagement = IdFilter(field_name="engagement_id")
    production = IdFilter(field_name="engagement__production_id")
    person = IdFilter(field_name="engagement__person_id")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")


class TimecardFilter(RecordFilter):
    class Meta:
        model = Timecard
        fields: list[str] = []


class DeliveryFilter(RecordFilter):
    class Meta:
        model = WgaDelivery
        fields: list[str] = []


ImportResult = inline_serializer(
    "ImportResult", {"created": StrictIntegerField(), "updated": StrictIntegerField()}
)
ImportUpload = inline_serializer("ImportUpload", {"file": serializers.FileField()})


class _RecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """Work records: created, corrected (with history) and imported from CSV. A correction reaches
    the ledger through the next run of its period."""

    permission_classes = [StaffOnly]
    # JSON records; an import is its own multipart action.
    parser_classes = [BoundedJSONParser]

    def _save(self, data, instance=None):
        """Record the validated `data` (correcting `instance`) through the record's service."""
        raise NotImplementedError

    def perform_create(self, serializer):
        serializer.instance = self._save(serializer.validated_data)

    def perform_update(self, serializer):
        data = {**serializer.validated_data}
        data.setdefault("engagement", serializer.instance.engagement)
        serializer.instance = self._save(data, serializer.instance)

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response.data = self.get_serializer(self.get_queryset().get(pk=response.data["id"])).data
        return response

    def _import(self, request, service):
        text, _ = upload_text(request)
        result = service(
            actor=request.user, text=text, engagements=_writable_engagements(self.scope)
        )
        return Response(result.as_dict(), status=status.HTTP_201_CREATED)


class TermsViewSet(_RecordViewSet):
    """The compensation terms of an engagement beyond its rate: the IATSE wage classification of
    the loaded schedule, and an AI kit rental (iatse.pay.kit_rental_ai)."""

    queryset = EngagementTerms.objects.all()
    serializer_class = TermsSerializer
    scope_queryset = staticmethod(selectors.terms)

    def _save(self, data, instance=None):
        data = {**data}
        engagement = data.pop("engagement")
        return services.terms_set(actor=self.request.user, engagement=engagement, **data)


class TimecardViewSet(_RecordViewSet):
    """Timecards: one per engagement and day (posting a day again corrects it). Times are local;
    a dismissal earlier than the call is on the next day."""

    queryset = Timecard.objects.all()
    serializer_class = TimecardSerializer
    filterset_class = TimecardFilter
    scope_queryset = staticmethod(selectors.timecards)

    def _save(self, data, instance=None):
        data = {**data}
        engagement, day = (
            data.pop("engagement"),
            data.pop("date", instance.date if instance else None),
        )
        if "meals" in data:
            data["meals"] = [[t.strftime("%H:%M") for t in meal] for meal in data["meals"]]
        return services.timecard_save(
            actor=self.request.user, engagement=engagement, date=day, instance=instance, **data
        )

    @extend_schema(
        request={"multipart/form-data": ImportUpload},
        responses={201: ImportResult},
        description="CSV columns: " + ", ".join(services.TIMECARD_COLUMNS) + ". A row for an "
        "existing engagement and day corrects it. Any row's error refuses the whole file, listing "
        "every faulty row.",
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_csv(self, request):
        return self._import(request, services.timecards_import)


class DeliveryViewSet(_RecordViewSet):
    """WGA deliveries: the work type, date, whether the company handed over AI-generated material,
    and the negotiated fee."""

    queryset = WgaDelivery.objects.all()
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    scope_queryset = staticmethod(selectors.deliveries)

    def _save(self, data, instance=None):
        data = {**data}
        engagement = data.pop("engagement")
        return services.delivery_save(
            actor=self.request.user, engagement=engagement, instance=instance, **data
        )

    @extend_schema(
        request={"multipart/form-data": ImportUpload},
        responses={201: ImportResult},
        description="CSV columns: " + ", ".join(services.DELIVERY_COLUMNS) + ".",
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_csv(self, request):
        return self._import(request, services.deliveries_import)


# --- runs and lines -------------------------------------------------------------------------


class LineSerializer(ModelSerializer):
    person = StrictCharField(source="engagement.person.__str__", read_only=True)

    class Meta:
        model = CompensationLine
        fields = [
            "id",
            "run",
            "engagement",
            "person",
            "ai_use",
            "kind",
            "status",
            "rule",
            "description",
            "date",
            "episode",
            "quantity",
            "unit",
            "rate",
            "amount",
            "currency",
            "fund",
            "tier",
            "flags",
            "parameters",
            "covered",
        ]


class RunSerializer(ModelSerializer):
    production = StrictPrimaryKeyRelatedField(read_only=True)
    started_by = StrictCharField(source="started_by.username", read_only=True)
    approved_by = StrictCharField(
        source="approved_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = CompensationRun
        fields = [
            "id",
            "production",
            "period_from",
            "period_to",
            "due_date",
            "status",
            "rules_version",
            "rate_sheets",
            "engagements",
            "line_count",
            "exceptions",
            "error",
            "started_by",
            "started_at",
            "finished_at",
            "approved_by",
            "approved_at",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None:
            data["exceptions"] = selectors.visible_exceptions(request_scope(request), instance)
        return data


class RunStartSerializer(ScopedChoices, serializers.Serializer):
    scoped_choices = {"production": access.writable_productions}

    production = StrictPrimaryKeyRelatedField(queryset=Production.objects.all())
    period_from = StrictDateField()
    period_to = StrictDateField()
    due_date = StrictDateField()


class RunFilter(KnownValuesFilterSet):
    production = IdFilter(field_name="production_id")
    status = django_filters.ChoiceFilter(choices=CompensationRun.Status.choices)

    class Meta:
        model = CompensationRun
        fields: list[str] = []


class LineFilter(KnownValuesFilterSet):
    run = IdFilter(field_name="run_id")
    engagement = IdFilter(field_name="engagement_id")
    person = IdFilter(field_name="engagement__person_id")
    rule = TextFilter(max_length=60)
    kind = django_filters.ChoiceFilter(choices=CompensationLine.Kind.choices)
    status = django_filters.ChoiceFilter(choices=CompensationLine.Status.choices)
    flag = TextFilter(method="with_flag", max_length=40)

    class Meta:
        model = CompensationLine
        fields: list[str] = []

    def with_flag(self, qs, name, value):
        if connection.vendor == "postgresql":
            return qs.filter(flags__contains=[value])
        return qs.filter(flags__icontains=f'"{value}"')


# --- a run's review before approval (compensation/review.py), pay and residual runs alike -----


def _money(**kwargs) -> DecimalStringField:
    return DecimalStringField(max_digits=16, decimal_places=2, **kwargs)


class RunReviewTotalSerializer(serializers.Serializer):
    payee_kind = serializers.ChoiceField(choices=["person", "fund"])
    payee = StrictCharField(help_text="The person's name, or the fund's title.")
    payee_id = StrictCharField(help_text="The person's id, or the fund's code.")
    currency = StrictCharField()
    amount = _money()
    lines = serializers.IntegerField()


class RunReviewDifferenceSerializer(serializers.Serializer):
    change = serializers.ChoiceField(choices=["added", "removed", "changed"])
    payee = StrictCharField()
    engagement = serializers.IntegerField(allow_null=True)
    fund = StrictCharField(help_text="Fringes and fund lines: the fund.")
    rule = StrictCharField()
    date = serializers.DateField(
        source="on", allow_null=True, help_text="Pay: the line's date; residuals: null."
    )
    exhibition = serializers.IntegerField(
        allow_null=True, help_text="Residuals: the exhibition; pay: null."
    )
    detail = StrictCharField(help_text="Pay: the episode; residuals: the territory.")
    currency = StrictCharField()
    before = _money(allow_null=True, help_text="Null: the line is new.")
    after = _money(allow_null=True, help_text="Null: the line is gone.")
    delta = _money()


class RunAcknowledgementSerializer(ModelSerializer):
    acknowledged_by = StrictCharField(source="acknowledged_by.username", read_only=True)

    class Meta:
        model = RunAcknowledgement
        fields = ["id", "run", "key", "note", "acknowledged_by", "acknowledged_at"]
        read_only_fields = fields  # an answer only: AcknowledgeSerializer reads the request


class RunReviewItemSerializer(serializers.Serializer):
    key = StrictCharField(help_text="What an acknowledgement names.")
    kind = serializers.ChoiceField(choices=["exception", "confirmation"])
    code = StrictCharField()
    rule = StrictCharField()
    tier = StrictCharField(help_text="Confirmations: the evidence tier of the figure.")
    count = serializers.IntegerField(help_text="How many lines (an exception: 1).")
    message = StrictCharField()
    detail = serializers.JSONField(
        help_text="An exception as the run recorded it; a confirmation's amounts per currency."
    )
    acknowledgement = RunAcknowledgementSerializer(allow_null=True)


class RunReviewSerializer(serializers.Serializer):
    run = serializers.IntegerField(source="run.pk")
    kind = StrictCharField(source="run.kind")
    status = StrictCharField(source="run.status")
    people = RunReviewTotalSerializer(many=True, help_text="Totals per person and currency.")
    funds = RunReviewTotalSerializer(many=True, help_text="Totals per fund and currency.")
    compared_with = serializers.SerializerMethodField()
    differences = RunReviewDifferenceSerializer(many=True)
    difference_counts = serializers.DictField(child=serializers.IntegerField())
    differences_truncated = serializers.BooleanField(
        help_text=f"More than {reviews.MAX_DIFFERENCES} differences: the first are listed."
    )
    items = RunReviewItemSerializer(many=True)
    missing = serializers.ListField(
        child=StrictCharField(), help_text="The keys of the items not yet acknowledged."
    )
    complete = serializers.BooleanField(help_text="Every item is acknowledged.")

    def get_compared_with(self, review: reviews.Review) -> int | None:
        """The last approved run of the same production, kind and period, if any."""
        return review.compared_with.pk if review.compared_with else None


class AcknowledgeSerializer(serializers.Serializer):
    key = StrictCharField(max_length=200, help_text="An item's key, from the review.")
    note = StrictCharField(
        max_length=reviews.MAX_NOTE, help_text="Why the item may be approved as it is."
    )


class RunReviewMixin(ScopedViewSet):
    """A run's review before approval (`review/`) and the acknowledgement of its items
    (`acknowledge/`): approval is refused (409 `review_incomplete`) while an item is
    unacknowledged."""

    @extend_schema(responses={200: RunReviewSerializer}, filters=False)
    @action(detail=True, methods=["get"])
    def review(self, request, pk=None):
        """Totals per person and per fund, the differences from the last approved run of the
        period line by line, and the items to acknowledge before approval (exceptions, and
        lines needing confirmation grouped by rule and tier), as the caller may see them."""
        run = self.get_object()
        return Response(RunReviewSerializer(reviews.review(run, self.scope)).data)

    @extend_schema(request=AcknowledgeSerializer, responses={201: RunAcknowledgementSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledge one item of the run's review with a note (kept, never edited; once per
        item). The production's studio staff, while the run awaits approval."""
        run = self.get_object()
        scope = self.scope
        if not scope.can_write_studio(run.production.studio_id):
            raise Forbidden("Only the production's studio staff acknowledge its runs' items.")
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        acknowledgement = reviews.acknowledge(
            actor=request.user, run=run, scope=scope, **body.validated_data
        )
        return Response(
            RunAcknowledgementSerializer(acknowledgement).data, status=status.HTTP_201_CREATED
        )


class RunViewSet(RunReviewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Compensation runs of a production and period. Starting one queues its computation in the
    background (`202`); `status` tells where it is. Approval posts the payable lines to the
    ledger (as differences from earlier runs of the same period); approving twice posts nothing
    twice. It follows the run's review: every item of it acknowledged with a note."""

    queryset = CompensationRun.objects.select_related("started_by", "approved_by")
    serializer_class = RunSerializer
    filterset_class = RunFilter
    permission_classes = [StaffOnly]
    scope_queryset = staticmethod(selectors.runs)

    @extend_schema(request=RunStartSerializer, responses={202: RunSerializer})
    def create(self, request):
        body = RunStartSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        run = runs.run_start(actor=request.user, **body.validated_data)
        return Response(
            RunSerializer(
                self.get_queryset().get(pk=run.pk), context=self.get_serializer_context()
            ).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(request=None, responses={200: RunSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a computed run: its payable lines are posted to the ledger (as differences from
        earlier runs of the same period); approving twice posts nothing twice. Every item of the
        run's review must be acknowledged first. The production's studio staff only."""
        run = self.get_object()
        if not self.scope.can_write_studio(run.production.studio_id):
            raise Forbidden("Only the production's studio staff approve its runs.")
        runs.run_approve(actor=request.user, run=run)
        return Response(
            RunSerializer(
                self.get_queryset().get(pk=run.pk), context=self.get_serializer_context()
            ).data
        )

    @extend_schema(responses={200: LineSerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"])
    def lines(self, request, pk=None):
        """The run's computed lines, each with its explanation, by engagement and date."""
        run = self.get_object()
        qs = selectors.lines(self.scope, CompensationLine.objects.filter(run=run)).order_by(
            "engagement_id", "date", "id"
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(LineSerializer(page, many=True).data)


class LineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Computed lines with their explanation: rule, description, quantity and unit, rate, amount,
    tier, flags and the parameter values used with their sources."""

    queryset = CompensationLine.objects.all()
    serializer_class = LineSerializer
    filterset_class = LineFilter
    permission_classes = [StaffOnly]
    scope_queryset = staticmethod(selectors.lines)


# --- held uses ------------------------------------------------------------------------------


class HoldResolutionSerializer(ScopedChoices, ModelSerializer):
    scoped_choices = {
        "ai_use": lambda scope: access.on_writable_productions(
            scope,
            consent_selectors.not_voided(
                AiUse.objects.filter(status=AiUse.Status.VIOLATION)
            ).select_related("person", "production"),
        )
    }

    ai_use = StrictPrimaryKeyRelatedField(queryset=AiUse.objects.all())
    resolved_by = StrictCharField(source="resolved_by.username", read_only=True)
    rerun = serializers.SerializerMethodField()

    class Meta:
        model = HoldResolution
        fields = ["id", "ai_use", "decision", "reason", "resolved_by", "resolved_at", "rerun"]
        read_only_fields = ["resolved_at"]

    def get_rerun(self, obj) -> int | None:
        return getattr(obj, "rerun_id", None)


class HoldResolutionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Staff's decision on an AI use recorded as a violation, whose lines are held: `release`
    (pay them) or `void`. When an approved run covers the use's date, the period is run again,
    and its approval posts the difference."""

    queryset = HoldResolution.objects.select_related("resolved_by", "ai_use")
    serializer_class = HoldResolutionSerializer
    permission_classes = [StaffOnly]
    scope_queryset = staticmethod(selectors.hold_resolutions)

    def perform_create(self, serializer):
        serializer.instance = runs.hold_resolve_and_rerun(
            actor=self.request.user, **serializer.validated_data
        )
