"""Residual runs and their lines over REST: start a run of a production and period (its
computation is queued, as a pay run's is), read its status, totals, exceptions and lines, and
approve it into the journal (the differences from earlier approvals of the period)."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import Sum
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from compensation import runs
from compensation.api import RunFilter, RunReviewMixin
from compensation.models import CompensationRun, ResidualLine
from core.api.common import IdFilter, TextFilter
from core.api.fields import (
    ModelSerializer,
    StrictCharField,
    StrictDateField,
    StrictPrimaryKeyRelatedField,
)
from core.errors import Forbidden
from ledger import access
from ledger.access import Scope, StaffOnly, request_scope
from ledger.access.api import ScopedChoices, ScopedViewSet
from ledger.models import Engagement, Production

from .. import selectors

Totals = inline_serializer(
    "ResidualTotal",
    {
        "payee_kind": serializers.ChoiceField(choices=["person", "fund"]),
        "currency": StrictCharField(),
        "amount": serializers.DecimalField(max_digits=14, decimal_places=2),
    },
    many=True,
)


class ResidualLineSerializer(ModelSerializer):
    person = serializers.SerializerMethodField()
    payee_kind = StrictCharField(read_only=True)

    class Meta:
        model = ResidualLine
        fields = [
            "id",
            "run",
            "exhibition",
            "engagement",
            "person",
            "payee_kind",
            "fund",
            "rule",
            "description",
            "market",
            "territory",
            "date",
            "quantity",
            "unit",
            "amount",
            "currency",
            "due_date",
            "due_basis",
            "schedule",
            "tier",
            "flags",
            "factors",
        ]

    @extend_schema_field(StrictCharField(allow_null=True))
    def get_person(self, line: ResidualLine) -> str | None:
        """The person paid, or the member a fund's contribution is for (none: the fund's share)."""
        return str(line.engagement.person) if line.engagement is not None else None


class ResidualRunSerializer(ModelSerializer):
    production = StrictPrimaryKeyRelatedField(read_only=True)
    schedules = serializers.JSONField(source="rate_sheets", read_only=True)
    totals = serializers.SerializerMethodField()
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
            "status",
            "rules_version",
            "schedules",
            "engagements",
            "line_count",
            "totals",
            "exceptions",
            "error",
            "started_by",
            "started_at",
            "finished_at",
            "approved_by",
            "approved_at",
        ]

    @extend_schema_field(Totals)
    def get_totals(self, run: CompensationRun) -> list[dict[str, Any]]:
        """What the run's lines the caller may see add up to, per payee kind and currency."""
        scope = _scope(self)
        sums: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
        rows = (
            selectors.lines(scope, ResidualLine.objects.filter(run=run))
            .values("fund", "currency")
            .annotate(total=Sum("amount"))
            .order_by()
        )
        for row in rows:
            sums["fund" if row["fund"] else "person", row["currency"]] += Decimal(row["total"])
        return [
            {"payee_kind": kind, "currency": currency, "amount": f"{amount:.2f}"}
            for (kind, currency), amount in sorted(sums.items())
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["exceptions"] = visible_exceptions(_scope(self), instance)
        return data


def _scope(serializer) -> Scope:
    return request_scope(serializer.context["request"])


def visible_exceptions(scope: Scope, run: CompensationRun) -> list[dict[str, Any]]:
    """All of a run's exceptions for the production's studio staff; for guild staff, those of
    their guild's agreements."""
    if scope.superuser or run.production.studio_id in scope.studio_ids:
        return list(run.exceptions)
    mine = set(
        Engagement.objects.filter(
            production_id=run.production_id, agreement__guild_id__in=scope.guild_ids
        ).values_list("agreement__code", flat=True)
    )
    return [e for e in run.exceptions if e.get("agreement") in mine]


class ResidualRunStartSerializer(ScopedChoices, serializers.Serializer):
    scoped_choices = {"production": access.writable_productions}

    production = StrictPrimaryKeyRelatedField(queryset=Production.objects.all())
    period_from = StrictDateField(help_text="Exhibitions whose period ends from this date…")
    period_to = StrictDateField(help_text="…to this date (inclusive) are computed.")


class ResidualLineFilter(django_filters.FilterSet):
    run = IdFilter(field_name="run_id")
    exhibition = IdFilter(field_name="exhibition_id")
    engagement = IdFilter(field_name="engagement_id")
    person = IdFilter(field_name="engagement__person_id")
    rule = TextFilter(max_length=60)
    fund = TextFilter(max_length=60)

    class Meta:
        model = ResidualLine
        fields: list[str] = []


def _run_body(view, run: CompensationRun) -> dict[str, Any]:
    return ResidualRunSerializer(
        view.get_queryset().get(pk=run.pk), context=view.get_serializer_context()
    ).data


class ResidualRunViewSet(
    RunReviewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet
):
    """Residual runs of a production and period. Starting one queues its computation in the
    background (`202`); `status` tells where it is. Approval posts each person's and each fund's
    residuals to the ledger as payables with their due dates (the differences from earlier runs
    of the same period); approving twice posts nothing twice. It follows the run's review: every
    item of it (exceptions, and lines needing confirmation) acknowledged with a note."""

    queryset = CompensationRun.objects.filter(kind=CompensationRun.Kind.RESIDUALS).select_related(
        "started_by", "approved_by", "production"
    )
    serializer_class = ResidualRunSerializer
    filterset_class = RunFilter  # a run's filters, pay or residuals
    permission_classes = [StaffOnly]
    scope_queryset = staticmethod(selectors.runs)

    @extend_schema(request=ResidualRunStartSerializer, responses={202: ResidualRunSerializer})
    def create(self, request):
        body = ResidualRunStartSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        run = runs.residual_run_start(actor=request.user, **body.validated_data)
        return Response(_run_body(self, run), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: ResidualRunSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        run = self.get_object()
        if not self.scope.can_write_studio(run.production.studio_id):
            raise Forbidden("Only the production's studio staff approve its runs.")
        runs.run_approve(actor=request.user, run=run)
        return Response(_run_body(self, run))

    @extend_schema(responses={200: ResidualLineSerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"])
    def lines(self, request, pk=None):
        run = self.get_object()
        qs = selectors.lines(self.scope, ResidualLine.objects.filter(run=run)).order_by(
            "exhibition_id", "id"
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ResidualLineSerializer(page, many=True).data)


class ResidualLineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Residual lines with their explanation: rule, the exhibition, quantity and unit, every
    factor multiplied (schedule key, value, tier, source), the payee (a person, or a fund with
    the member it is for), amount and due date with the reading of `residual.due` used."""

    queryset = ResidualLine.objects.all()
    serializer_class = ResidualLineSerializer
    filterset_class = ResidualLineFilter
    permission_classes = [StaffOnly]
    scope_queryset = staticmethod(selectors.lines)
