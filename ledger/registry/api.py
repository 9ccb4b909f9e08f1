"""The registry over REST: studios, people, productions (with attach and detach), engagements,
and the guilds and agreements they refer to. Views are thin: they scope, validate the shape and
call a service."""

from collections.abc import Callable
from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import scopes
from core.api.common import BooleanFilter, IdFilter, TextFilter
from core.api.fields import (
    DecimalStringField,
    ModelSerializer,
    StrictCharField,
    StrictPrimaryKeyRelatedField,
)
from core.errors import Forbidden
from core.money import Currency
from ledger import access
from ledger.access.api import ScopedChoices, ScopedViewSet
from ledger.access.filters import KnownValuesFilterSet, StudioFilter
from ledger.models import (
    Agreement,
    Engagement,
    Guild,
    Membership,
    Person,
    Production,
    RateUnit,
    Studio,
)
from ledger.registry import services
from ledger.registry.models import membership_number_unavailable

# --- serializers ---------------------------------------------------------------------------


class GuildSerializer(ModelSerializer):
    """A union: SAG-AFTRA, WGA or IATSE, by its code."""

    class Meta:
        model = Guild
        fields = ["id", "code", "name"]


class AgreementSerializer(ModelSerializer):
    """A dated version of a guild's agreement, by its code (`sag-tvth-2023`), with the dates it is
    in force and the source it was read from."""

    guild: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="The guild's code; null for the non-union agreement (RULES.md §1).",
    )

    class Meta:
        model = Agreement
        fields = ["id", "code", "name", "guild", "effective_from", "effective_to", "tier", "source"]


class StudioSerializer(ModelSerializer):
    """A studio; its `slug` names it in filters and in other records."""

    class Meta:
        model = Studio
        fields = ["id", "name", "slug", "created_at"]
        read_only_fields = ["created_at"]


class MembershipSerializer(ModelSerializer):
    """A person's membership of a guild, with their member number."""

    guild = serializers.SlugRelatedField(slug_field="code", queryset=Guild.objects.all())

    class Meta:
        model = Membership
        fields = ["guild", "member_number"]
        validators: list[Any] = []  # uniqueness is checked by the service and the database


class PersonSerializer(ScopedChoices, ModelSerializer):
    """A performer, writer or crew member: names, contact address, payroll reference, guild
    memberships and, for a deceased performer, the authorized representative. `name` is the
    professional name, or the legal one when there is none."""

    scoped_choices = {"registered_by": access.writable_studios}

    name = StrictCharField(read_only=True)
    memberships = MembershipSerializer(many=True, required=False)
    registered_by = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Studio.objects.all(),
        required=False,
        allow_null=True,
        help_text="The studio registering the person; defaults to the caller's only studio.",
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "legal_name",
            "professional_name",
            "email",
            "payroll_ref",
            "registered_by",
            "memberships",
            "is_deceased",
            "date_of_death",
            "authorized_representative",
            "representative_email",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def validate_memberships(self, value):
        # The list replaces the person's memberships, so every item names its guild and number
        # even in a PATCH, whose partial validation would otherwise let either be left out.
        missing = [
            {
                name: ["This field is required."]
                for name in ("guild", "member_number")
                if name not in membership
            }
            for membership in value
        ]
        if any(missing):
            raise serializers.ValidationError(missing)
        guilds = [m["guild"].code for m in value]
        if len(guilds) != len(set(guilds)):
            raise serializers.ValidationError("One membership per guild.")
        return value

    def validate(self, attrs):
        if self.instance is None and attrs.get("registered_by") is None:
            scope = access.request_scope(self.context["request"])
            if len(scope.studio_ids) == 1:
                attrs["registered_by"] = Studio.objects.get(pk=next(iter(scope.studio_ids)))
            elif not scope.superuser:
                raise serializers.ValidationError(
                    {"registered_by": "Name the studio that registers this person."}
                )
        for membership in attrs.get("memberships", []):
            clash = Membership.objects.filter(
                guild=membership["guild"], member_number=membership["member_number"]
            )
            if self.instance is not None:
                clash = clash.exclude(person=self.instance)
            if clash.exists():
                # The holder may be another tenant's: say nothing about them.
                raise serializers.ValidationError(
                    {"memberships": membership_number_unavailable(membership["guild"])}
                )
        return attrs


class ProductionSerializer(ScopedChoices, ModelSerializer):
    """A studio's production, with the codes of the agreements attached to it."""

    scoped_choices = {"studio": access.writable_studios}

    fixed_after_create = ("studio",)
    studio = serializers.SlugRelatedField(slug_field="slug", queryset=Studio.objects.all())
    agreements: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Production
        fields = [
            "id",
            "studio",
            "title",
            "kind",
            "episode_minutes",
            "budget_tier",
            "start_date",
            "end_date",
            "status",
            "agreements",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        validators: list[
            Any
        ] = []  # (studio, title) uniqueness: the service's full_clean reports it


class AttachSerializer(serializers.Serializer):
    """The agreement to attach or detach, by its code."""

    agreement = serializers.SlugRelatedField(slug_field="code", queryset=Agreement.objects.all())


class AttachWarningSerializer(serializers.Serializer):
    """Why an attachment may be a mistake; the attachment is made all the same."""

    code = StrictCharField(help_text="agreement_not_in_force")
    message = StrictCharField()


class AttachedProductionSerializer(ProductionSerializer):
    """The production with the agreement attached, and `warnings` about the attachment."""

    warnings = serializers.SerializerMethodField(
        help_text="The attachment is made; these say why it may be a mistake (RULES.md §1)."
    )

    class Meta(ProductionSerializer.Meta):
        fields = [*ProductionSerializer.Meta.fields, "warnings"]

    @extend_schema_field(AttachWarningSerializer(many=True))
    def get_warnings(self, production) -> list[dict[str, str]]:
        return [warning.as_dict() for warning in self.context["warnings"]]


class RateSerializer(serializers.Serializer):
    """An engagement's rate: an amount per unit, in a currency (US dollars unless given)."""

    amount = DecimalStringField(source="rate_amount", max_digits=14, decimal_places=2, min_value=0)
    unit = serializers.ChoiceField(source="rate_unit", choices=RateUnit.choices)
    currency = serializers.ChoiceField(
        source="rate_currency", choices=Currency.choices, default=Currency.USD
    )

    def validate(self, attrs):
        # A rate changes whole, in a PATCH too: an amount means nothing without its unit.
        missing = {
            name: ["This field is required."]
            for name in ("amount", "unit")
            if self.fields[name].source not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        attrs.setdefault("rate_currency", Currency.USD)
        return attrs


class EngagementSerializer(ScopedChoices, ModelSerializer):
    """A person's work on a production under an agreement: classification, role, rate and dates.
    `studio` is the production's."""

    scoped_choices = {"production": access.writable_productions, "person": access.people}

    fixed_after_create = ("person", "production")
    person = StrictPrimaryKeyRelatedField(queryset=Person.objects.all())
    production = StrictPrimaryKeyRelatedField(queryset=Production.objects.all())
    studio: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        source="production.studio", slug_field="slug", read_only=True
    )
    agreement = serializers.SlugRelatedField(slug_field="code", queryset=Agreement.objects.all())
    rate = RateSerializer(source="*")

    class Meta:
        model = Engagement
        fields = [
            "id",
            "person",
            "production",
            "studio",
            "agreement",
            "classification",
            "role",
            "rate",
            "start_date",
            "end_date",
            "created_at",
        ]
        read_only_fields = ["created_at"]


# --- filters -------------------------------------------------------------------------------
# Filters compare ids and codes as plain values (no existence check), so that filtering on an
# object outside the caller's scope gives an empty page, exactly like a nonexistent one.


class PersonFilter(KnownValuesFilterSet):
    name = TextFilter(method="filter_name", max_length=200)
    guild = TextFilter(field_name="memberships__guild__code", max_length=20)
    payroll_ref = TextFilter(max_length=64)
    production = IdFilter(method="filter_production")
    is_deceased = BooleanFilter()

    class Meta:
        model = Person
        fields = ["is_deceased"]

    def filter_name(self, queryset, name, value):
        return queryset.filter(
            Q(legal_name__icontains=value) | Q(professional_name__icontains=value)
        )

    def filter_production(self, queryset, name, value):
        # Through the caller's engagements only: a visible person's engagement outside the scope
        # must not reveal that they work on another tenant's production.
        engaged = access.engagements(access.request_scope(self.request)).filter(
            person_id=OuterRef("pk"), production_id=value
        )
        return queryset.filter(Exists(engaged))


class ProductionFilter(KnownValuesFilterSet):
    studio = StudioFilter()
    agreement = TextFilter(field_name="agreements__code", max_length=40)
    title = TextFilter(lookup_expr="icontains", max_length=200)

    class Meta:
        model = Production
        fields = ["kind", "status"]


class EngagementFilter(KnownValuesFilterSet):
    person = IdFilter(field_name="person_id")
    production = IdFilter(field_name="production_id")
    studio = StudioFilter(via="production__studio")
    agreement = TextFilter(field_name="agreement__code", max_length=40)
    active_on = django_filters.DateFilter(method="filter_active_on")

    class Meta:
        model = Engagement
        fields = ["classification"]

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(start_date__lte=value).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=value)
        )


# --- viewsets ------------------------------------------------------------------------------


class ReadOnlyScopedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    payroll_read_scope = scopes.REGISTRY_READ


class WritableScopedViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, ReadOnlyScopedViewSet
):
    # Create and update call `create_service` / `update_service` with the acting user. (A comment,
    # not a docstring: a viewset's docstring is its operations' description in the API schema.)

    create_service: Callable[..., Any] | None = None
    update_service: Callable[..., Any] | None = None
    instance_kwarg = ""

    def writable(self, instance) -> bool:
        raise NotImplementedError

    def get_object(self):
        obj = super().get_object()
        if self.request.method not in ("GET", "HEAD", "OPTIONS") and not self.writable(obj):
            raise Forbidden("You can see this record but not change it.")
        return obj

    def perform_create(self, serializer):
        create = type(self).create_service
        assert create is not None, f"{type(self).__name__} names no create_service"
        serializer.instance = create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        update = type(self).update_service
        assert update is not None, f"{type(self).__name__} names no update_service"
        kwargs = {self.instance_kwarg: serializer.instance}
        serializer.instance = update(actor=self.request.user, **kwargs, **serializer.validated_data)


class GuildViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The unions. Reference data, the same for every caller."""

    queryset = Guild.objects.all()
    serializer_class = GuildSerializer
    payroll_read_scope = scopes.REGISTRY_READ
    lookup_field = "code"
    scope_queryset = staticmethod(lambda scope, qs: qs)


class AgreementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Dated versions of the guild agreements (RULES.md §1). Reference data."""

    queryset = Agreement.objects.select_related("guild")
    serializer_class = AgreementSerializer
    payroll_read_scope = scopes.REGISTRY_READ
    lookup_field = "code"
    scope_queryset = staticmethod(lambda scope, qs: qs)


class StudioViewSet(WritableScopedViewSet):
    """Studios, by name and slug. Every staff user reads the studios in their scope; only an
    administrator registers or changes one (403 otherwise)."""

    queryset = Studio.objects.all()
    serializer_class = StudioSerializer
    scope_queryset = staticmethod(access.studios)
    create_service = staticmethod(services.studio_create)
    update_service = staticmethod(services.studio_update)
    instance_kwarg = "studio"

    def writable(self, instance):
        return self.scope.superuser

    def create(self, request, *args, **kwargs):
        if not self.scope.superuser:
            raise Forbidden("Only an administrator registers studios.")
        return super().create(request, *args, **kwargs)


class PersonViewSet(WritableScopedViewSet):
    """People: performers, writers and crew, with their guild memberships and payroll reference.
    A person the caller can see but not change answers 403; one it cannot see, 404."""

    queryset = Person.objects.prefetch_related("memberships__guild").select_related("registered_by")
    serializer_class = PersonSerializer
    filterset_class = PersonFilter
    scope_queryset = staticmethod(lambda scope, qs: access.people(scope, qs).distinct())
    create_service = staticmethod(services.person_create)
    update_service = staticmethod(services.person_update)
    instance_kwarg = "person"

    def writable(self, instance):
        return access.person_writable(self.scope, instance)


class ProductionViewSet(WritableScopedViewSet):
    """Productions of a studio, with the agreements attached to them. A production the caller can
    see but not change answers 403; one it cannot see, 404."""

    queryset = Production.objects.select_related("studio").prefetch_related("agreements")
    serializer_class = ProductionSerializer
    filterset_class = ProductionFilter
    scope_queryset = staticmethod(lambda scope, qs: access.productions(scope, qs).distinct())
    create_service = staticmethod(services.production_create)
    update_service = staticmethod(services.production_update)
    instance_kwarg = "production"

    def writable(self, instance):
        return self.scope.can_write_studio(instance.studio_id)

    def _attachment(self, request, service) -> tuple[Production, Agreement]:
        production = self.get_object()
        body = AttachSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        agreement = body.validated_data["agreement"]
        service(actor=request.user, production=production, agreement=agreement)
        return self.get_queryset().get(pk=production.pk), agreement

    @extend_schema(
        summary="Attach an agreement to a production",
        request=AttachSerializer,
        responses=AttachedProductionSerializer,
    )
    @action(detail=True, methods=["post"])
    def attach(self, request, pk=None):
        """Attach an agreement (by code) to the production. Attaching twice changes nothing.
        `warnings` lists `agreement_not_in_force` when the agreement is in force on no day of the
        production (the attachment is made all the same)."""
        production, agreement = self._attachment(request, services.production_attach)
        warnings = services.production_attach_warnings(production=production, agreement=agreement)
        context = {**self.get_serializer_context(), "warnings": warnings}
        return Response(AttachedProductionSerializer(production, context=context).data)

    @extend_schema(
        summary="Detach an agreement from a production",
        request=AttachSerializer,
        responses=ProductionSerializer,
    )
    @action(detail=True, methods=["post"])
    def detach(self, request, pk=None):
        """Detach an agreement; 409 `agreement_in_use` while an engagement is under it."""
        production, _ = self._attachment(request, services.production_detach)
        context = self.get_serializer_context()
        return Response(ProductionSerializer(production, context=context).data)


class EngagementViewSet(WritableScopedViewSet):
    """Engagements: a person's work on a production under an agreement, with its dates and
    classification. One the caller can see but not change answers 403; one it cannot see, 404."""

    queryset = Engagement.objects.select_related("production__studio", "agreement", "person")
    serializer_class = EngagementSerializer
    filterset_class = EngagementFilter
    scope_queryset = staticmethod(access.engagements)
    create_service = staticmethod(services.engagement_create)
    update_service = staticmethod(services.engagement_update)
    instance_kwarg = "engagement"

    def writable(self, instance):
        return self.scope.can_write_studio(instance.production.studio_id)
