"""Consent over REST: consents (granted with their evidence, revoked, suspended, resumed), the
AI-use register, union notices, strike periods, WGA disclosures and the consent check. Scoped like
the registry: studio staff see and record their productions' records, guild staff read those
under their guild's agreements, payroll keys see none of it."""

import re
from collections.abc import Callable
from typing import Any

import django_filters
from django.core.validators import RegexValidator
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.common import BooleanFilter, IdFilter, TextFilter
from core.api.fields import (
    DecimalStringField,
    ModelSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictInstantField,
    StrictIntegerField,
    StrictPrimaryKeyRelatedField,
)
from core.api.parsers import JSONParser
from core.errors import DomainError, Forbidden
from core.money import Currency, money_str
from core.parse import (
    ParseError,
    parse_choice,
    parse_flag,
    parse_json_id,
    parse_list,
    parse_object,
    parse_string,
    parse_utc_instant,
)
from ledger import access
from ledger.access import ReadForAnyStaff, StaffOnly, StaffWrites, request_scope
from ledger.access.api import ScopedChoices, ScopedViewSet
from ledger.access.filters import KNOWN, KnownValuesFilterSet, StudioFilter, person_visible
from ledger.models import Agreement, Guild, Person, Production

from . import rules, selectors, services, whatif
from .models import (
    GRANT_FIELDS,
    REGION_PATTERN,
    USE_FIELDS,
    AdExemption,
    AiUse,
    AlterationException,
    Capacity,
    Category,
    Consent,
    ConsentEvent,
    ConsentKind,
    Instrument,
    Representation,
    StrikePeriod,
    UnionNotice,
    UnionNoticeKind,
    UseKind,
    WgaDisclosure,
)

BATCH_LIMIT = 1000
REGION_MESSAGE = 'A country or ISO 3166-2 code in capitals, e.g. "US" or "US-NY".'
CONSENT_STATUSES = ["granted", "superseded", "revoked", "suspended", "expired"]


# --- consents -------------------------------------------------------------------------------


class ConsentEventSerializer(ModelSerializer):
    actor = StrictCharField(source="actor.username", read_only=True)

    class Meta:
        model = ConsentEvent
        fields = ["kind", "effective_at", "reason", "actor", "recorded_at"]


class EvidenceSerializer(serializers.Serializer):
    name = StrictCharField(source="evidence_name")
    sha256 = StrictCharField(source="evidence_sha256")
    size = StrictIntegerField(source="evidence_size")


class AmountSerializer(serializers.Serializer):
    amount = StrictCharField()
    currency = StrictCharField()


class ConsentSerializer(ModelSerializer):
    studio: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        source="production.studio", slug_field="slug", read_only=True
    )
    agreement: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    bargained_amount = serializers.SerializerMethodField()
    evidence = EvidenceSerializer(source="*", read_only=True)
    superseded_by = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    events = ConsentEventSerializer(many=True, read_only=True)
    recorded_by = StrictCharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = Consent
        # The granted fields (the amount carries its currency), then what the record adds.
        fields = [
            "id",
            "studio",
            *(f for f in GRANT_FIELDS if f not in ("bargained_currency", "supersedes")),
            "evidence",
            "supersedes",
            "superseded_by",
            "status",
            "events",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(AmountSerializer(allow_null=True))
    def get_bargained_amount(self, consent) -> dict | None:
        if consent.bargained_amount is None:
            return None
        return {
            "amount": money_str(consent.bargained_amount),
            "currency": consent.bargained_currency,
        }

    @extend_schema_field(StrictIntegerField(allow_null=True))
    def get_superseded_by(self, consent) -> int | None:
        successor = getattr(consent, "superseded_by", None)
        return successor.pk if successor else None

    @extend_schema_field(serializers.ChoiceField(choices=CONSENT_STATUSES))
    def get_status(self, consent) -> str:
        return selectors.consent_status(
            consent, now=timezone.now(), events=list(consent.events.all())
        )


class ConsentTermsSerializer(ScopedChoices, ModelSerializer):
    """The terms a consent and a consent request share: whose, where, under which agreement,
    what kind, with whom negotiated, for what bargained amount."""

    scoped_choices = {
        "production": access.writable_productions,
        "person": access.people,
    }

    person = StrictPrimaryKeyRelatedField(queryset=Person.objects.all())
    production = StrictPrimaryKeyRelatedField(queryset=Production.objects.all())
    agreement = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Agreement.objects.all(),
        required=False,
        help_text="Default: the production's attached agreement of the person's guild.",
    )
    category = serializers.ChoiceField(
        choices=Category,
        required=False,
        help_text="Default: from the person's engagement on the production.",
    )
    kind = serializers.ChoiceField(choices=ConsentKind)
    represented_by = serializers.ChoiceField(
        choices=Representation.choices, default=Representation.NONE
    )
    bargained_amount = DecimalStringField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    bargained_currency = serializers.ChoiceField(choices=Currency.choices, default=Currency.USD)

    def validate(self, attrs):
        if attrs.get("term_to") and attrs["term_to"] < attrs["term_from"]:
            raise serializers.ValidationError({"term_to": "The term cannot end before it starts."})
        return attrs


class ConsentCreateSerializer(ConsentTermsSerializer):
    """A signed consent to record, with its evidence document."""

    scoped_choices = {
        **ConsentTermsSerializer.scoped_choices,
        "supersedes": lambda scope: selectors.consents(
            scope, Consent.objects.filter(production__in=access.writable_productions(scope))
        ),
    }

    instrument = serializers.ChoiceField(choices=Instrument)
    signed_by_capacity = serializers.ChoiceField(choices=Capacity)
    evidence = serializers.FileField(
        allow_empty_file=False,
        max_length=200,
        help_text="The signed writing or rider; its SHA-256 is computed on upload.",
    )
    supersedes = StrictPrimaryKeyRelatedField(
        queryset=Consent.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Consent
        fields = [*GRANT_FIELDS[:-1], "evidence", "supersedes"]


class ConsentDraftSerializer(ConsentCreateSerializer):
    """A consent as it would be granted, checked before it is: the body of a create, with the
    evidence optional (it plays no part in the check)."""

    evidence = serializers.FileField(
        allow_empty_file=False,
        max_length=200,
        required=False,
        help_text="Optional here: the check does not read it.",
    )


class FindingSerializer(serializers.Serializer):
    rule = StrictCharField(help_text="RULES.md §2 id.")
    passed = StrictBooleanField()
    message = StrictCharField()


class WarningSerializer(serializers.Serializer):
    rule = StrictCharField(help_text="RULES.md §2 id (an advisory or unconfirmed rule).")
    message = StrictCharField()


class ConsentReviewSerializer(serializers.Serializer):
    ok = StrictBooleanField(help_text="Every finding passed (warnings never refuse).")
    agreement = StrictCharField(help_text="The agreement it would be granted under.")
    category = serializers.ChoiceField(choices=Category)
    findings = FindingSerializer(many=True)
    warnings = WarningSerializer(many=True)


class ConsentEventRequestSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000)
    at = StrictInstantField(required=False, help_text="When it takes effect; default: now.")


class ConsentFilter(KnownValuesFilterSet):
    person = IdFilter(field_name="person_id")
    production = IdFilter(field_name="production_id")
    studio = StudioFilter(via="production__studio")
    agreement = TextFilter(field_name="agreement__code", max_length=40)
    kind = django_filters.ChoiceFilter(choices=ConsentKind)

    class Meta:
        model = Consent
        fields: list[str] = []


class ConsentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Consents with their evidence and events. Never edited: a change of scope is a new consent
    that `supersedes` the old one; `revoke`, `suspend` and `resume` record events."""

    queryset = Consent.objects.select_related(
        "production__studio", "agreement", "superseded_by", "recorded_by"
    ).prefetch_related("events__actor")
    serializer_class = ConsentSerializer
    filterset_class = ConsentFilter
    permission_classes = [StaffOnly]
    scope_queryset = staticmethod(selectors.consents)

    def get_parsers(self):
        # A create carries the evidence file, so it is multipart (the schema says only that); a
        # JSON body is still read, to be refused field by field. DRF picks the parsers before it
        # names the action, so the route's method map names it here.
        name = getattr(self, "action", None) or self.action_map.get(
            (self.request.method or "").lower()
        )
        if name == "create":
            return [JSONParser(), MultiPartParser()]
        return super().get_parsers()

    @extend_schema(
        request={"multipart/form-data": ConsentCreateSerializer}, responses={201: ConsentSerializer}
    )
    def create(self, request):
        """Record a signed consent (multipart, with the `evidence` file)."""
        body = ConsentCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        consent = services.consent_grant(actor=request.user, **body.validated_data)
        return Response(self._read(consent.pk), status=status.HTTP_201_CREATED)

    # Advertised as multipart, as the create it checks (it may carry the evidence file); a JSON
    # body is read too. One body type keeps generated clients whole.
    @extend_schema(
        summary="Check a draft consent",
        request={"multipart/form-data": ConsentDraftSerializer},
        responses={200: ConsentReviewSerializer},
    )
    # Named apart from the use check's "consent-check" (ConsentCheckView).
    @action(
        detail=False,
        methods=["post"],
        url_path="check",
        url_name="draft-check",
        parser_classes=[JSONParser, MultiPartParser],
    )
    def check(self, request):
        """Check a draft consent before recording it: the body of a create (the evidence is
        optional), answered rule by rule with what can be judged on the consent alone (its
        instrument, description, notice, business reason, signer, state law, term). Refused as
        a create would be (a production the caller may not record consents for is not found);
        writes nothing."""
        body = ConsentDraftSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        review = services.consent_review(**body.validated_data)
        return Response(review.as_dict())

    def _read(self, pk):
        return ConsentSerializer(
            self.get_queryset().get(pk=pk), context=self.get_serializer_context()
        ).data

    def _event(self, request, service):
        consent = self.get_object()
        if not self.scope.can_write_studio(consent.production.studio_id):
            raise Forbidden("You can see this consent but not change it.")
        body = ConsentEventRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service(actor=request.user, consent=consent, **body.validated_data)
        return Response(self._read(consent.pk))

    @extend_schema(request=ConsentEventRequestSerializer, responses=ConsentSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """consent.revoked: covers no use dated at or after `at`; final. 409 if already revoked."""
        return self._event(request, services.consent_revoke)

    @extend_schema(request=ConsentEventRequestSerializer, responses=ConsentSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """Suspend from `at` until resumed; suspending a suspended consent changes nothing."""
        return self._event(request, services.consent_suspend)

    @extend_schema(request=ConsentEventRequestSerializer, responses=ConsentSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """End a suspension; 409 `consent_not_suspended` if there is none."""
        return self._event(request, services.consent_resume)

    # The document's own type (PDF, image, text), guessed from its name as uploaded.
    @extend_schema(responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"])
    def evidence(self, request, pk=None):
        """The evidence document as uploaded. `X-Evidence-SHA256` carries the hash recorded at
        upload; compare it with the bytes received."""
        consent = self.get_object()
        if not consent.evidence:
            raise DomainError(
                "The evidence document was erased at the person's request; its SHA-256 and "
                "size remain on the consent.",
                code="evidence_erased",
                status_code=status.HTTP_409_CONFLICT,
            )
        try:
            handle = consent.evidence.open("rb")
        except FileNotFoundError:
            raise DomainError(
                "The evidence file is missing from storage.",
                code="evidence_missing",
                status_code=status.HTTP_409_CONFLICT,
            ) from None
        response = FileResponse(handle, as_attachment=True, filename=consent.evidence_name)
        response["X-Evidence-SHA256"] = consent.evidence_sha256
        return response


# --- the AI-use register --------------------------------------------------------------------


class AiUseVoidSerializer(serializers.Serializer):
    reason = StrictCharField()
    actor = StrictCharField(source="actor.username")
    voided_at = serializers.DateTimeField()


class AiUseVoidRequestSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000, help_text="Why the use is voided.")


class AiUseSerializer(ModelSerializer):
    studio: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        source="production.studio", slug_field="slug", read_only=True
    )
    agreement: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    # Read-only model fields lose `allow_blank`, and with it the "" that most uses carry.
    alteration_exception = serializers.ChoiceField(
        choices=AlterationException, allow_blank=True, read_only=True
    )
    ad_exemption = serializers.ChoiceField(choices=AdExemption, allow_blank=True, read_only=True)
    distributed_in = serializers.ListField(child=StrictCharField(), read_only=True)
    recorded_by = StrictCharField(source="recorded_by.username", read_only=True)
    rules = serializers.ListField(child=StrictCharField(), read_only=True)
    reasons = serializers.ListField(child=StrictCharField(), read_only=True)
    warnings = WarningSerializer(many=True, read_only=True)
    void = serializers.SerializerMethodField(
        help_text="Who voided the use, when and why; null while it counts."
    )

    class Meta:
        model = AiUse
        fields = [
            "id",
            "production",
            "studio",
            *USE_FIELDS[1:],  # after the production: person, kind, times, the flags
            "status",
            "agreement",
            "consent",
            "rules",
            "reasons",
            "warnings",
            "recorded_by",
            "created_at",
            "void",
        ]
        read_only_fields = fields

    @extend_schema_field(AiUseVoidSerializer(allow_null=True))
    def get_void(self, use) -> dict | None:
        try:
            void = use.void
        except AiUse.void.RelatedObjectDoesNotExist:
            return None
        return AiUseVoidSerializer(void).data


class AiUseCreateSerializer(ScopedChoices, ModelSerializer):
    scoped_choices = {"production": access.writable_productions, "person": access.people}

    production = StrictPrimaryKeyRelatedField(queryset=Production.objects.all())
    # Left out, it is null, as the service expects (a use of no one's likeness or material).
    person = StrictPrimaryKeyRelatedField(
        queryset=Person.objects.all(), allow_null=True, default=None
    )
    days = DecimalStringField(
        max_digits=6, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    distributed_in = serializers.ListField(
        child=StrictCharField(validators=[RegexValidator(REGION_PATTERN, REGION_MESSAGE)]),
        max_length=300,
        required=False,
        help_text="Where the advertisement is distributed: country or ISO 3166-2 codes, e.g. "
        '["US-NY"] (law.ny.gbl396b).',
    )

    class Meta:
        model = AiUse
        fields = list(USE_FIELDS)

    def validate(self, attrs):
        if attrs.get("ends_at") and attrs["ends_at"] < attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": "The use cannot end before it starts."})
        if attrs.get("alteration_exception") and attrs["kind"] != "digital_alteration":
            raise serializers.ValidationError(
                {"alteration_exception": "Only a digital alteration has exceptions."}
            )
        if not attrs.get("advertisement"):
            for name in ("distributed_in", "ad_exemption"):
                if attrs.get(name):
                    raise serializers.ValidationError({name: "Only an advertisement has this."})
        distributed = attrs.get("distributed_in") or []
        if len(set(distributed)) != len(distributed):
            raise serializers.ValidationError({"distributed_in": "A place is listed twice."})
        return attrs


class AiUseFilter(KnownValuesFilterSet):
    person = IdFilter(field_name="person_id")
    production = IdFilter(field_name="production_id")
    consent = IdFilter(field_name="consent_id")
    studio = StudioFilter(via="production__studio")
    kind = django_filters.ChoiceFilter(choices=AiUse._meta.get_field("kind").choices)
    status = django_filters.ChoiceFilter(choices=AiUse.Status.choices)
    voided = BooleanFilter(field_name="void", lookup_expr="isnull", exclude=True)

    known = {**KNOWN, "consent": lambda scope, pk: selectors.consents(scope).filter(pk=pk).exists()}

    class Meta:
        model = AiUse
        fields: list[str] = []


class AiUseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The AI-use register. Recording a use runs the consent check and stores the decision; a use
    no consent covers is recorded with status `violation` (201), never refused."""

    queryset = AiUse.objects.select_related(
        "production__studio", "agreement", "recorded_by", "void__actor"
    )
    serializer_class = AiUseSerializer
    filterset_class = AiUseFilter
    permission_classes = [StaffOnly]
    scope_queryset = staticmethod(selectors.ai_uses)

    @extend_schema(request=AiUseCreateSerializer, responses={201: AiUseSerializer})
    def create(self, request):
        body = AiUseCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        use = services.ai_use_record(actor=request.user, scope=self.scope, **body.validated_data)
        data = AiUseSerializer(
            self.get_queryset().get(pk=use.pk), context=self.get_serializer_context()
        ).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AiUseVoidRequestSerializer, responses=AiUseSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Void a use recorded by mistake, with a reason: it stays in the register (with who
        voided it, when and why) and counts in no decision, report, run or dashboard. Who may
        record the production's uses may void them; 409 `ai_use_voided` if already voided."""
        use = self.get_object()
        if not self.scope.can_write_studio(use.production.studio_id):
            raise Forbidden("You can see this use but not change it.")
        body = AiUseVoidRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.ai_use_void(actor=request.user, use=use, **body.validated_data)
        data = AiUseSerializer(
            self.get_queryset().get(pk=use.pk), context=self.get_serializer_context()
        ).data
        return Response(data)


# --- union notices, strikes, WGA disclosures ------------------------------------------------


class UnionNoticeSerializer(ScopedChoices, ModelSerializer):
    scoped_choices = {"production": access.writable_productions}

    production = StrictPrimaryKeyRelatedField(queryset=Production.objects.all())
    guild = serializers.SlugRelatedField(slug_field="code", queryset=Guild.objects.all())
    kind = serializers.ChoiceField(choices=UnionNoticeKind)

    class Meta:
        model = UnionNotice
        fields = [
            "id",
            "production",
            "guild",
            "kind",
            "given_at",
            "description",
            "recipient",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    # The notice's guild rule is the service's (union_notice_record), for the admin too.


class StrikePeriodSerializer(ModelSerializer):
    guild = serializers.SlugRelatedField(slug_field="code", queryset=Guild.objects.all())

    class Meta:
        model = StrikePeriod
        fields = ["id", "guild", "starts_on", "ends_on", "description", "created_at"]
        read_only_fields = ["created_at"]

    # Who records a strike, its fixed guild and its ordered dates are the services' rules
    # (strike_period_record, strike_period_update), for the admin too.


class WgaDisclosureSerializer(ScopedChoices, ModelSerializer):
    scoped_choices = {"production": access.writable_productions, "writer": access.people}

    production = StrictPrimaryKeyRelatedField(queryset=Production.objects.all())
    writer = StrictPrimaryKeyRelatedField(queryset=Person.objects.all())

    class Meta:
        model = WgaDisclosure
        fields = [
            "id",
            "production",
            "writer",
            "material",
            "handed_over_on",
            "disclosed_at",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class _RecordViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet
):
    permission_classes = [StaffOnly]
    record_service: Callable[..., Any] | None = None  # the consent service that records it

    def perform_create(self, serializer):
        record = type(self).record_service
        assert record is not None, f"{type(self).__name__} names no record_service"
        serializer.instance = record(
            actor=self.request.user, scope=self.scope, **serializer.validated_data
        )


class UnionNoticeFilter(KnownValuesFilterSet):
    production = IdFilter(field_name="production_id")
    guild = TextFilter(field_name="guild__code", max_length=20)
    kind = django_filters.ChoiceFilter(choices=UnionNoticeKind)

    class Meta:
        model = UnionNotice
        fields: list[str] = []


class UnionNoticeViewSet(_RecordViewSet):
    """Notices to a union: synthetic performer use (SAG-AFTRA) and AI impact (IATSE)."""

    queryset = UnionNotice.objects.select_related("guild")
    serializer_class = UnionNoticeSerializer
    filterset_class = UnionNoticeFilter
    scope_queryset = staticmethod(selectors.union_notices)
    record_service = staticmethod(services.union_notice_record)


class StrikePeriodFilter(django_filters.FilterSet):
    guild = TextFilter(field_name="guild__code", max_length=20)
    active_on = django_filters.DateFilter(method="filter_active_on")

    class Meta:
        model = StrikePeriod
        fields: list[str] = []

    def filter_active_on(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(starts_on__lte=value).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=value)
        )


class StrikePeriodViewSet(mixins.UpdateModelMixin, _RecordViewSet):
    """Strike periods per guild (sag.consent.strike). Read by all staff; written by the guild's
    own staff. A strike's end date is set by updating it when the strike ends."""

    # Who may write a strike is the services' rule (strike_period_record, strike_period_update).

    queryset = StrikePeriod.objects.select_related("guild")
    serializer_class = StrikePeriodSerializer
    filterset_class = StrikePeriodFilter
    permission_classes = [StaffWrites]
    scope_queryset = staticmethod(selectors.strike_periods)
    record_service = staticmethod(services.strike_period_record)

    def perform_update(self, serializer):
        serializer.instance = services.strike_period_update(
            actor=self.request.user,
            scope=self.scope,
            strike=serializer.instance,
            **serializer.validated_data,
        )


class WgaDisclosureFilter(KnownValuesFilterSet):
    production = IdFilter(field_name="production_id")
    writer = IdFilter(field_name="writer_id")

    known = {**KNOWN, "writer": person_visible}

    class Meta:
        model = WgaDisclosure
        fields: list[str] = []


class WgaDisclosureViewSet(_RecordViewSet):
    """Disclosures to writers that material handed over is AI-generated (wga.disclosure)."""

    queryset = WgaDisclosure.objects.all()
    serializer_class = WgaDisclosureSerializer
    filterset_class = WgaDisclosureFilter
    scope_queryset = staticmethod(selectors.wga_disclosures)
    record_service = staticmethod(services.wga_disclosure_record)


# --- the consent check ----------------------------------------------------------------------


JUSTIFICATION_LIMIT = 5000
REGION_LIMIT = 300


class ConsentCheckSerializer(serializers.Serializer):
    """One use to check against the consents on record: who, in which production, what kind of
    use and when."""

    # Documents the body only: `_parse_check` reads it (the single and the batch forms alike).

    person = StrictIntegerField(allow_null=True, help_text="Null only for a synthetic performer.")
    production = StrictIntegerField()
    use_kind = serializers.ChoiceField(choices=UseKind)
    on = StrictCharField(help_text="ISO 8601 instant, or a date (start of that day, UTC).")
    until = StrictCharField(required=False, allow_null=True, help_text="End of a range.")
    alteration_exception = serializers.ChoiceField(
        choices=AlterationException, required=False, allow_null=True
    )
    synthetic_source_person = StrictBooleanField(required=False)
    company_required = StrictBooleanField(required=False)
    displacing_prompts = StrictBooleanField(required=False)
    condition_of_employment = StrictBooleanField(required=False)
    material_handed_over = StrictBooleanField(required=False)
    counted_toward_headcount = StrictBooleanField(required=False)
    human_role = StrictBooleanField(required=False)
    synthetic_justification = StrictCharField(
        required=False, allow_blank=True, max_length=JUSTIFICATION_LIMIT
    )
    advertisement = StrictBooleanField(required=False)
    distributed_in = serializers.ListField(
        child=StrictCharField(), required=False, allow_null=True, max_length=REGION_LIMIT
    )
    disclosure_given = StrictBooleanField(required=False)
    ad_exemption = serializers.ChoiceField(choices=AdExemption, required=False, allow_null=True)


class DecisionSerializer(serializers.Serializer):
    allowed = StrictBooleanField()
    consent = StrictIntegerField(allow_null=True, help_text="The consent relied on.")
    rules = serializers.ListField(child=StrictCharField(), help_text="RULES.md §2 ids.")
    reasons = serializers.ListField(child=StrictCharField())
    agreement = StrictCharField()
    warnings = WarningSerializer(many=True, help_text="Advisory notes; they never refuse a use.")


class BatchRequestSerializer(serializers.Serializer):
    # many=True builds a ListSerializer, which takes max_length (the stubs type the child).
    checks = ConsentCheckSerializer(many=True, max_length=BATCH_LIMIT)  # type: ignore[call-arg]


class BatchErrorSerializer(serializers.Serializer):
    code = StrictCharField()
    message = StrictCharField()
    # A declared field named like Serializer.fields: the stubs read it as that attribute.
    fields = serializers.DictField(child=serializers.JSONField())  # type: ignore[assignment]


class BatchResultSerializer(serializers.Serializer):
    allowed = StrictBooleanField(required=False)
    consent = StrictIntegerField(allow_null=True, required=False)
    rules = serializers.ListField(child=StrictCharField(), required=False)
    reasons = serializers.ListField(child=StrictCharField(), required=False)
    agreement = StrictCharField(required=False)
    warnings = WarningSerializer(many=True, required=False)
    error = BatchErrorSerializer(required=False, help_text="Present instead of a decision.")


class BatchResponseSerializer(serializers.Serializer):
    results = BatchResultSerializer(many=True)


_CHECK_KEYS = set(ConsentCheckSerializer().fields)


def _parse_check(item: object, where: str = "") -> selectors.CheckRequest:
    """One check body → a CheckRequest; a core.parse.ParseError names the faulty field, prefixed
    with `where` (e.g. "checks[3].")."""
    try:
        return _check_request(item)
    except ParseError as error:
        raise ParseError(f"{where}{error.field}", error.message) from None


def _check_request(item: object) -> selectors.CheckRequest:
    body = parse_object(
        item,
        field="non_field_errors",
        keys=_CHECK_KEYS,
        message="A check is an object.",
        unknown=lambda names: ParseError(names[0], "Unknown field."),
    )
    person = body.get("person")
    if person is not None:
        person = parse_json_id(
            person, field="person", message="A person id (a positive whole number) or null."
        )
    production = parse_json_id(
        body.get("production"),
        field="production",
        message="A production id (a positive whole number).",
    )
    kind = parse_choice(body.get("use_kind"), rules.USE_KINDS, field="use_kind")
    exception = body.get("alteration_exception")
    if exception is not None:
        exception = parse_choice(
            exception, rules.ALTERATION_EXCEPTIONS, field="alteration_exception"
        )
    at = whatif.instant(body.get("on"), "on")
    until = body.get("until")
    if until is not None:
        until = parse_utc_instant(until, field="until")
        if until < at:
            raise ParseError("until", "until is before on.")
    flags = rules.UseFlags(
        **{flag: parse_flag(body.get(flag, False), field=flag) for flag in rules.USE_FLAGS}
    )
    ad_exemption = body.get("ad_exemption")
    if ad_exemption is not None:
        ad_exemption = parse_choice(ad_exemption, rules.AD_EXEMPTIONS, field="ad_exemption")
    return selectors.CheckRequest(
        person_id=person,
        production_id=production,
        kind=kind,
        at=at,
        until=until,
        alteration_exception=exception,
        flags=flags,
        synthetic_justification=parse_string(
            body.get("synthetic_justification", ""),
            field="synthetic_justification",
            max_length=JUSTIFICATION_LIMIT,
            blank=True,
        ),
        distributed_in=_regions(body.get("distributed_in")),
        ad_exemption=ad_exemption,
    )


_REGION = re.compile(REGION_PATTERN)


def _regions(value: object) -> tuple[str, ...]:
    """law.ny.gbl396b's `distributed_in`: a list of distinct country or ISO 3166-2 codes."""
    message = f'A list of at most {REGION_LIMIT} country or ISO 3166-2 codes, e.g. ["US-NY"].'
    codes = parse_list(value, field="distributed_in", message=message)
    if len(codes) > REGION_LIMIT:
        raise ParseError("distributed_in", message)
    for i, code in enumerate(codes):
        parse_string(code, field=f"distributed_in[{i}]", pattern=_REGION, message=REGION_MESSAGE)
    if len(set(codes)) != len(codes):
        raise ParseError("distributed_in", "A place is listed twice.")
    return tuple(codes)


class ConsentCheckView(APIView):
    """May this person be used this way in this production at this instant? Writes nothing."""

    permission_classes = [ReadForAnyStaff]

    @extend_schema(
        summary="Check a use against consent",
        request=ConsentCheckSerializer,
        responses=DecisionSerializer,
    )
    def post(self, request):
        check = _parse_check(request.data)
        _, decision = selectors.check_one(request_scope(request), check)
        return Response(decision.as_dict())


class ConsentCheckBatchView(APIView):
    """Up to 1,000 checks in one request, answered in order. A check that cannot be answered
    (a person or production not found, a use kind its agreement does not cover) gets an `error`
    in its place; a malformed body is refused as a whole."""

    permission_classes = [ReadForAnyStaff]

    @extend_schema(
        summary="Check uses against consent in a batch",
        request=BatchRequestSerializer,
        responses=BatchResponseSerializer,
    )
    def post(self, request):
        checks = request.data.get("checks") if isinstance(request.data, dict) else None
        if not isinstance(checks, list):
            raise serializers.ValidationError({"checks": ["A list of checks."]})
        if len(checks) > BATCH_LIMIT:
            raise serializers.ValidationError(
                {"checks": [f"At most {BATCH_LIMIT} checks per request."]}
            )
        parsed = [_parse_check(item, f"checks[{i}].") for i, item in enumerate(checks)]
        results = []
        for outcome in selectors.check_many(request_scope(request), parsed):
            if isinstance(outcome, DomainError):
                results.append(
                    {
                        "error": {
                            "code": outcome.code,
                            "message": outcome.message,
                            "fields": outcome.fields,
                        }
                    }
                )
            else:
                results.append(outcome.as_dict())
        return Response({"results": results})
