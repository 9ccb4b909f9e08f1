"""The reporting API: compliance reports (list, JSON, PDF, CSV, run now), consent receipts, the
production's AI disclosure label, and the caller's own report subscriptions."""

from typing import Any, cast

import django_filters
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.relations import RelatedField
from rest_framework.response import Response
from rest_framework.views import APIView

from consent import selectors as consent_selectors
from consent.models import Consent, ConsentEvent
from core.api import scopes
from core.api.common import IdFilter, TextFilter
from core.api.downloads import CsvNegotiation, csv_download, csv_response
from core.api.fields import (
    DecimalStringField,
    FilterDateField,
    ModelSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictDateField,
    StrictIntegerField,
    StrictPrimaryKeyRelatedField,
)
from core.errors import Forbidden, NotFound
from core.parse import ParseError, parse_ascii_id
from ledger import access
from ledger.access import ReadForAnyStaff, StaffOnly, request_scope
from ledger.access.api import ScopedViewSet
from ledger.access.filters import KnownValuesFilterSet, StudioFilter
from ledger.models import Guild, Production, Studio

from . import label, receipts, remittance, render, selectors, services
from .compliance import Target
from .models import DisclosureLabel, ReceiptDelivery, Report, Subscription

PDF = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)}


# --- compliance reports ---------------------------------------------------------------------


class ReportSerializer(ModelSerializer):
    # null on a production's or a studio's report
    guild: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    scope = StrictCharField(source="scope_label", read_only=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "scope_kind",
            "scope_key",
            "scope",
            "production",
            "studio",
            "guild",
            "period_from",
            "period_to",
            "origin",
            "generated_at",
            "sha256",
            "counts",
            "links",
        ]
        read_only_fields = fields

    def get_links(self, report) -> dict[str, str]:
        return {
            kind: reverse(f"report-{kind}", args=[report.pk]) for kind in ("detail", "pdf", "csv")
        }


class ReportDetailSerializer(ReportSerializer):
    content = serializers.SerializerMethodField(
        help_text="The stored report: scope, period, generated_at, sections (key, title, rules, "
        "count, totals, rows) and the ledger chain's verification."
    )

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "content"]
        read_only_fields = fields

    def get_content(self, report) -> dict:
        return render.content(report)


class ReportDeliverySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["not_requested", "sent", "failed"],
        help_text="not_requested (send was false); sent; failed (the mail server could not be "
        "reached or refused it: the report is stored all the same).",
    )
    sent = serializers.IntegerField(
        min_value=0, help_text="Messages sent now (subscribers already sent it are skipped)."
    )


class ReportRunResultSerializer(ReportDetailSerializer):
    delivery = serializers.SerializerMethodField(help_text="What became of `send`.")

    class Meta(ReportDetailSerializer.Meta):
        fields = [*ReportDetailSerializer.Meta.fields, "delivery"]
        read_only_fields = fields

    @extend_schema_field(ReportDeliverySerializer)
    def get_delivery(self, report) -> dict:
        return ReportDeliverySerializer(self.context["delivery"]).data


class ReportRunSerializer(serializers.Serializer):
    production = StrictIntegerField(required=False, min_value=1, max_value=2**63 - 1)
    studio = StrictIntegerField(required=False, min_value=1, max_value=2**63 - 1)
    guild = serializers.SlugField(required=False, help_text="sag-aftra, wga or iatse.")
    period_from = StrictDateField()
    period_to = StrictDateField()
    send = StrictBooleanField(default=False, help_text="Also e-mail it to the scope's subscribers.")

    def validate(self, attrs):
        named = [key for key in ("production", "studio", "guild") if key in attrs]
        if len(named) != 1:
            raise serializers.ValidationError(
                {"production": "Name exactly one of production, studio or guild."}
            )
        if attrs["period_to"] < attrs["period_from"]:
            raise serializers.ValidationError(
                {"period_to": "The period cannot end before it starts."}
            )
        attrs["target"] = self._target(named[0], attrs.pop(named[0]))
        return attrs

    def _target(self, kind: str, value) -> Target:
        scope = request_scope(self.context["request"])
        model, lookup = {
            "production": (Production.objects.select_related("studio"), "pk"),
            "studio": (Studio.objects.all(), "pk"),
            "guild": (Guild.objects.all(), "code"),
        }[kind]
        obj = model.filter(**{lookup: value}).first()
        if obj is None or not selectors.may_run(scope, Target.of(obj)):
            raise NotFound(f"No such {kind} whose report you may run.", fields={kind: "Not found."})
        return Target.of(obj)


class ReportFilter(KnownValuesFilterSet):
    production = IdFilter(field_name="production_id")
    studio = StudioFilter()
    guild = TextFilter(field_name="guild__code", max_length=20)
    period_to_after = django_filters.DateFilter(field_name="period_to", lookup_expr="gte")
    period_to_before = django_filters.DateFilter(field_name="period_to", lookup_expr="lte")

    class Meta:
        model = Report
        fields = ["scope_kind", "origin"]


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Stored compliance reports, newest first. Guild staff see their guild's reports; studio
    staff the reports of their studios and productions. A report is never changed: its
    `sha256` is the SHA-256 of the stored JSON content."""

    queryset = Report.objects.all()
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    permission_classes = [ReadForAnyStaff]  # guild staff run their guild's reports too
    scope_queryset = staticmethod(selectors.reports)

    def get_serializer_class(self):
        return ReportDetailSerializer if self.action == "retrieve" else ReportSerializer

    @extend_schema(request=ReportRunSerializer, responses={201: ReportRunResultSerializer})
    def create(self, request):
        """Run a report now (studio staff for their studios and productions, guild staff for
        their guild), optionally sending it to the subscribers."""
        body = ReportRunSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        report = services.report_on_demand(data, actor=request.user)
        # The report is stored: the answer is 201 with it whatever the mail server does, and
        # says whether it was sent.
        delivery = (
            services.report_send_now(report=report)
            if data["send"]
            else services.Delivery(status="not_requested")
        )
        result = ReportRunResultSerializer(report, context={"delivery": delivery})
        return Response(result.data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=PDF)
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        report = self.get_object()
        return render.attachment(
            render.pdf(report), "application/pdf", render.file_name(report, "pdf")
        )

    @csv_download()
    @action(detail=True, methods=["get"], content_negotiation_class=CsvNegotiation)
    def csv(self, request, pk=None):
        """Every row of every section: section, rule, object, id, production, person, date,
        detail, count, amount, currency."""
        report = self.get_object()
        return csv_response(request, render.csv_text(report), render.file_name(report, "csv"))


# --- consent receipts -----------------------------------------------------------------------


class ReceiptSendSerializer(serializers.Serializer):
    """A receipt holds personal data: it goes to the person's address on record, never to one
    the caller names (an `email` in the body is refused)."""

    event = StrictIntegerField(
        required=False, allow_null=True, help_text="A revocation or suspension; empty: the grant."
    )

    def validate(self, attrs):
        if isinstance(self.initial_data, dict) and "email" in self.initial_data:
            raise serializers.ValidationError(
                {"email": "Receipts go to the person's address on record; none can be given."}
            )
        return attrs


class ReceiptDeliverySerializer(ModelSerializer):
    sent_by = StrictCharField(source="sent_by.username", read_only=True)

    class Meta:
        model = ReceiptDelivery
        fields = ["id", "consent", "event", "email", "sent_by", "sent_at"]
        read_only_fields = fields


EVENT_PARAM = OpenApiParameter(
    "event", int, description="The revocation, suspension or resumption; omit for the grant."
)


class ReceiptViewSet(viewsets.GenericViewSet):
    """Consent receipts for the person, after ISO/IEC TS 27560: the grant and each revocation,
    suspension and resumption, with the evidence hash and the ledger chain position. `{id}` is
    the consent's id."""

    queryset = Consent.objects.select_related("person", "production__studio", "agreement")
    permission_classes = [StaffOnly]
    serializer_class = ReceiptSendSerializer

    def get_queryset(self):
        return consent_selectors.consents(request_scope(self.request), super().get_queryset())

    def _event(self, consent, value):
        if value in (None, ""):
            return None
        try:
            # A query parameter's id is ASCII digits: int() would read "٢١" as event 21.
            return consent.events.get(pk=parse_ascii_id(value, field="event"))
        except (ParseError, ConsentEvent.DoesNotExist):
            raise NotFound(
                "No such event of this consent.", fields={"event": "Not found."}
            ) from None

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, pk=None):
        """The grant's receipt, then one per event, in order."""
        consent = self.get_object()
        return Response({"consent": consent.pk, "receipts": receipts.receipts_for(consent)})

    @extend_schema(parameters=[EVENT_PARAM], responses=PDF)
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        consent = self.get_object()
        receipt = receipts.receipt(consent, self._event(consent, request.query_params.get("event")))
        return render.attachment(
            receipts.pdf(receipt), "application/pdf", f"{receipt['record_id']}.pdf"
        )

    @extend_schema(request=ReceiptSendSerializer, responses={201: ReceiptDeliverySerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """E-mail the receipt, PDF and JSON attached, to the person's address on record (the
        production's studio staff)."""
        consent = self.get_object()
        if not request_scope(request).can_write_studio(consent.production.studio_id):
            raise Forbidden("Only the production's studio staff send its receipts.")
        body = ReceiptSendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        delivery = services.receipt_send(
            actor=request.user,
            consent=consent,
            event=self._event(consent, body.validated_data.get("event")),
        )
        return Response(ReceiptDeliverySerializer(delivery).data, status=status.HTTP_201_CREATED)


# --- the AI disclosure label ----------------------------------------------------------------


class LabelSerializer(serializers.Serializer):
    production = StrictIntegerField(read_only=True)
    published = StrictBooleanField()
    public_url = StrictCharField(read_only=True, allow_null=True)
    content = serializers.DictField(read_only=True)


class LabelViewSet(viewsets.GenericViewSet):
    """The production's AI disclosure label as it would be published (`{id}`: the production).
    Studio staff publish it (`PATCH {"published": true}`); off by default. When published it is
    public, without login, at `public_url`."""

    queryset = Production.objects.select_related("studio")
    permission_classes = [StaffOnly]
    serializer_class = LabelSerializer

    def get_queryset(self):
        return access.productions(request_scope(self.request), super().get_queryset())

    def _body(self, production) -> dict:
        state = DisclosureLabel.objects.filter(production=production).first()
        published = state is not None and state.published
        url = reverse("disclosure-label", args=[state.public_id]) if state and published else None
        return {
            "production": production.pk,
            "published": published,
            "public_url": self.request.build_absolute_uri(url) if url else None,
            "content": label.content(production),
        }

    @extend_schema(responses={200: LabelSerializer})
    def retrieve(self, request, pk=None):
        return Response(self._body(self.get_object()))

    @extend_schema(request=LabelSerializer, responses={200: LabelSerializer})
    def partial_update(self, request, pk=None):
        production = self.get_object()
        body = LabelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.label_publish(
            actor=request.user,
            scope=request_scope(request),
            production=production,
            published=body.validated_data["published"],
        )
        return Response(self._body(production))


# --- subscriptions --------------------------------------------------------------------------


class SubscriptionSerializer(ModelSerializer):
    studio = StrictPrimaryKeyRelatedField(
        queryset=Studio.objects.all(), required=False, allow_null=True
    )
    guild = serializers.SlugRelatedField(
        slug_field="code", queryset=Guild.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Subscription
        fields = ["id", "studio", "guild", "active", "created_at"]
        read_only_fields = ["id", "created_at"]

    def __init__(self, *args, **kwargs):
        # One subscribes to one's own studios and guilds: any other is answered as an id that
        # does not exist, never with its name.
        super().__init__(*args, **kwargs)
        if "request" not in self.context:
            return
        scope = request_scope(self.context["request"])
        if not scope.superuser:
            cast(RelatedField, self.fields["studio"]).queryset = Studio.objects.filter(
                id__in=scope.studio_ids
            )
            cast(RelatedField, self.fields["guild"]).queryset = Guild.objects.filter(
                id__in=scope.guild_ids
            )


class SubscriptionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The caller's own report subscriptions: studio staff to their studios (the studio's and
    its productions' reports), guild staff to their guild (the monthly guild report). POST
    subscribes, or with `active: false` stops."""

    queryset = Subscription.objects.select_related("studio", "guild")
    serializer_class = SubscriptionSerializer
    permission_classes = [ReadForAnyStaff]

    def get_queryset(self):
        return super().get_queryset().filter(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.subscription_set(
            actor=self.request.user,
            user=self.request.user,
            studio=serializer.validated_data.get("studio"),
            guild=serializer.validated_data.get("guild"),
            active=serializer.validated_data.get("active", True),
        )


# --- union-fund remittance reports ----------------------------------------------------------


class RemittanceQuerySerializer(serializers.Serializer):
    fund = serializers.ChoiceField(choices=remittance.known_funds(), help_text="The fund's code.")
    period_from = FilterDateField()
    period_to = FilterDateField(
        help_text="The contributions whose obligation period ends from period_from to period_to "
        "(a period that ends before it starts holds none)."
    )
    studio = serializers.SlugField(
        required=False, max_length=60, help_text="One of the caller's studios, by its slug."
    )


class RemittanceAmountsSerializer(serializers.Serializer):
    currency = StrictCharField()
    owed = DecimalStringField(max_digits=14, decimal_places=2)
    paid = DecimalStringField(max_digits=14, decimal_places=2)
    due = DecimalStringField(max_digits=14, decimal_places=2)


class RemittanceMemberSerializer(serializers.Serializer):
    id = StrictIntegerField()
    name = StrictCharField(help_text="The member's legal name.")
    member_number = StrictCharField(
        allow_null=True, help_text="The member's number in the fund's guild, if recorded."
    )


class RemittanceRowSerializer(RemittanceAmountsSerializer):
    member = RemittanceMemberSerializer(
        allow_null=True, help_text="Empty for the fund's share that is no member's."
    )
    rule = StrictCharField()
    due_date = StrictDateField(help_text="The earliest due date of the row's payables.")
    payables = serializers.ListField(child=StrictIntegerField())

    def get_fields(self):
        # Declared here: a serializer's own `label` attribute would shadow a class attribute.
        fields = super().get_fields()
        fields["label"] = StrictCharField(help_text='The member\'s name, or "no member: <rule>".')
        return fields


class RemittanceStudioSerializer(serializers.Serializer):
    slug = StrictCharField()
    name = StrictCharField()


class RemittanceProductionSerializer(serializers.Serializer):
    id = StrictIntegerField()
    title = StrictCharField()
    studio = RemittanceStudioSerializer()
    rows = RemittanceRowSerializer(many=True)
    totals = RemittanceAmountsSerializer(many=True, help_text="Per currency.")


class RemittanceSerializer(serializers.Serializer):
    fund = StrictCharField()
    fund_title = StrictCharField()
    period_from = StrictDateField()
    period_to = StrictDateField()
    studio = StrictCharField(allow_null=True)
    generated_at = serializers.DateTimeField()
    productions = RemittanceProductionSerializer(many=True)
    totals = RemittanceAmountsSerializer(many=True, help_text="Per currency, from the rows.")
    postings = RemittanceAmountsSerializer(
        many=True,
        help_text="Per currency, the postings on the report's payables summed directly: equal to "
        "`totals`.",
    )


class RemittanceView(APIView):
    """A union fund's remittance for a period: the per-member, per-production breakdown a
    benefit plan expects, from the fund's payables whose obligation period ends in the period.
    Studio staff and payroll keys see their studios' contributions; guild staff those under their
    guild's agreements. Owed, paid and due are sums of the journal's postings."""

    payroll_read_scope = scopes.PAYABLES_READ

    def remittance(self, request) -> remittance.Remittance:
        query = RemittanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return remittance.remittance(request_scope(request), **query.validated_data)

    @extend_schema(
        summary="Get a union fund's remittance",
        parameters=[RemittanceQuerySerializer],
        responses=RemittanceSerializer,
    )
    def get(self, request):
        return Response(self.remittance(request).as_json())


class RemittanceCsvView(RemittanceView):
    """The remittance as CSV, one line per row: fund, period, studio, production, person,
    member, member number, rule, currency, owed, paid, due, due date."""

    content_negotiation_class = CsvNegotiation

    @csv_download(parameters=[RemittanceQuerySerializer])
    def get(self, request):
        report = self.remittance(request)
        return csv_response(request, report.csv_text(), report.file_name("csv"))


class RemittancePdfView(RemittanceView):
    """The remittance as PDF: a table per production, with the totals."""

    @extend_schema(parameters=[RemittanceQuerySerializer], responses=PDF)
    def get(self, request):
        report = self.remittance(request)
        return render.attachment(remittance.pdf(report), "application/pdf", report.file_name("pdf"))
