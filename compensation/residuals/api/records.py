"""Exhibitions and writing credits over REST, under /api/v1/residuals/: what the studio reports
was exhibited (one at a time or imported from CSV) and which writers share in each work.

Studio staff record and correct their productions'; guild staff read those under their guild's
agreements; payroll keys read residual payables through the ledger, not these. A correction
reaches the ledger through the next residual run of its period."""

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from compensation.api import (
    EngagementField,
    ImportResult,
    ImportUpload,
    _RecordViewSet,
    upload_text,
)
from compensation.models import Exhibition, WritingCredit
from compensation.models.residuals import MARKET_CHOICES
from core.api.common import IdFilter, TextFilter
from core.api.fields import ModelSerializer, StrictCharField, StrictPrimaryKeyRelatedField
from core.api.parsers import JSONParser as BoundedJSONParser
from core.errors import Forbidden
from ledger import access
from ledger.access.api import ScopedChoices
from ledger.models import Production

from .. import exhibitions, selectors

# --- exhibitions ----------------------------------------------------------------------------


class ExhibitionSerializer(ScopedChoices, ModelSerializer):
    scoped_choices = {"production": access.writable_productions}
    fixed_after_create = ("production",)

    production = StrictPrimaryKeyRelatedField(queryset=Production.objects.all())

    class Meta:
        model = Exhibition
        fields = ["id", *exhibitions.EXHIBITION_FIELDS]
        extra_kwargs = {
            "territory": {
                "required": False,
                "help_text": "domestic or foreign; high-budget SVOD also worldwide (the default "
                "there: a domestic and a foreign line).",
            },
            "market": {
                "help_text": "Which fields a market takes: hbsvod: service, subscriber_tier, "
                "exhibition_year, and for the success bonus views_first_90_days or "
                "hours_streamed_first_90_days with domestic_subscribers; network_tv: "
                "gross_receipts, broadcast_on; syndication: gross_receipts, broadcast_on "
                "(optional); basic_cable: gross_receipts; supplemental_markets: gross_receipts, "
                "first_period. Every market but hbsvod needs a territory."
            },
            "exhibition_year": {"help_text": "High-budget SVOD: 1 to 99, 1 for the first year."},
            "running_minutes": {"help_text": "1 to 999."},
            "views_first_90_days": {"min_value": 0},
            "hours_streamed_first_90_days": {"min_value": 0},
            "gross_receipts": {"min_value": 0},
        }
        # One report per exhibition: a second is the service's 409 (correct the first).
        validators: list[Any] = []


class ExhibitionFilter(django_filters.FilterSet):
    production = IdFilter(field_name="production_id")
    episode = TextFilter(max_length=40)
    market = django_filters.ChoiceFilter(choices=MARKET_CHOICES)
    period_from = django_filters.DateFilter(
        field_name="period_to",
        lookup_expr="gte",
        help_text="Exhibitions whose period ends on or after this date.",
    )
    period_to = django_filters.DateFilter(
        field_name="period_from",
        lookup_expr="lte",
        help_text="Exhibitions whose period starts on or before this date.",
    )

    class Meta:
        model = Exhibition
        fields: list[str] = []


class _ResidualRecordViewSet(_RecordViewSet):
    """Residual records: JSON bodies (a CSV import is its own multipart action); a correction
    only by the staff of the record's studio."""

    parser_classes = [BoundedJSONParser]

    def studio_id(self, obj) -> int:
        raise NotImplementedError

    def get_object(self):
        obj = super().get_object()
        if self.request.method not in SAFE_METHODS and not self.scope.can_write_studio(
            self.studio_id(obj)
        ):
            raise Forbidden("Only the production's studio staff correct its residual records.")
        return obj

    def perform_update(self, serializer):
        serializer.instance = self._save(serializer.validated_data, serializer.instance)


class ExhibitionViewSet(_ResidualRecordViewSet):
    """Exhibitions of a production's works: market, territory, period and the figures the
    market's residual rule reads. A field the market does not have is refused, as is a report
    the residual engine could not compute; a second report of the same exhibition (production,
    episode, market, territory, service and first day) is a 409: correct the first."""

    queryset = Exhibition.objects.all()
    serializer_class = ExhibitionSerializer
    filterset_class = ExhibitionFilter
    scope_queryset = staticmethod(selectors.exhibitions)

    def studio_id(self, obj) -> int:
        return obj.production.studio_id

    def _save(self, data, instance=None):
        return exhibitions.exhibition_save(actor=self.request.user, exhibition=instance, **data)

    @extend_schema(
        request={"multipart/form-data": ImportUpload},
        responses={201: ImportResult},
        description="CSV columns: "
        + ", ".join(exhibitions.EXHIBITION_COLUMNS)
        + " (production is its id; dates YYYY-MM-DD; first_period true or false). A row for an "
        "exhibition already reported corrects it. Any row's error refuses the whole file, listing "
        "every faulty row; a cell a spreadsheet reads as a formula is refused.",
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_csv(self, request):
        text, _ = upload_text(request)
        result = exhibitions.exhibitions_import(
            actor=request.user, text=text, productions=access.writable_productions(self.scope)
        )
        return Response(result.as_dict(), status=status.HTTP_201_CREATED)


# --- writing credits ------------------------------------------------------------------------


class WritingCreditSerializer(ModelSerializer):
    fixed_after_create = ("engagement",)

    engagement = EngagementField(help_text="A WGA engagement of a production you record on.")
    writer = StrictCharField(source="engagement.person.__str__", read_only=True)

    class Meta:
        model = WritingCredit
        fields = ["id", "engagement", "writer", "episode", "credit"]
        # One credit per writer and work: a second is the service's 409 (correct the first).
        validators: list[Any] = []


class WritingCreditFilter(django_filters.FilterSet):
    production = IdFilter(field_name="engagement__production_id")
    engagement = IdFilter(field_name="engagement_id")

    class Meta:
        model = WritingCredit
        fields: list[str] = []


class WritingCreditViewSet(_ResidualRecordViewSet):
    """Writers' credits on a production's works (wga.residual.credit_share): an episode, or the
    whole work when `episode` is empty. Only a WGA engagement has one, and one per work."""

    queryset = WritingCredit.objects.select_related("engagement__agreement__guild")
    serializer_class = WritingCreditSerializer
    filterset_class = WritingCreditFilter
    scope_queryset = staticmethod(selectors.credits)

    def studio_id(self, obj) -> int:
        return obj.engagement.production.studio_id

    def _save(self, data, instance=None):
        return exhibitions.credit_save(
            actor=self.request.user,
            credit=instance,
            engagement=data.get("engagement", instance.engagement if instance else None),
            episode=data.get("episode", instance.episode if instance else ""),
            credit_kind=data.get("credit", instance.credit if instance else ""),
        )

    @extend_schema(
        request={"multipart/form-data": ImportUpload},
        responses={201: ImportResult},
        description="CSV columns: "
        + ", ".join(exhibitions.CREDIT_COLUMNS)
        + " (engagement is its id; credit one of written_by, story_by, screenplay_by, "
        "teleplay_by, adaptation_by). A row for a writer's work that has a credit corrects it. "
        "Any row's error refuses the whole file, listing every faulty row.",
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_csv(self, request):
        return self._import(request, exhibitions.credits_import)
