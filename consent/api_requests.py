"""Consent requests over REST: prepared (checked in full before anything is sent), sent, reminded
and withdrawn by the studio's staff; read by them and by the staff of the guild whose agreement
the consent would be under. The person signs on the signing page, not here."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.common import IdFilter
from core.api.fields import (
    DecimalStringField,
    ModelSerializer,
)
from core.errors import Forbidden
from ledger.access import StaffOnly
from ledger.access.api import ScopedViewSet

from . import requests, selectors
from .api import ConsentTermsSerializer
from .models import REQUEST_FIELDS, ConsentRequest


class NoticeClockSerializer(serializers.Serializer):
    notice_at = serializers.DateTimeField(
        help_text="When notice is given: the first sending (for a draft, now, as if sent now)."
    )
    scan_from = serializers.DateTimeField(
        help_text="The earliest instant a scan may take place (sag.consent.notice_48h)."
    )
    hours = serializers.IntegerField(help_text="The notice period, in hours.")
    given = serializers.BooleanField(help_text="The notice instant is recorded (sent).")


class ConsentRequestSerializer(ModelSerializer):
    """A consent request: what is asked, of whom, and where it stands."""

    agreement: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    status = serializers.SerializerMethodField()
    notice_clock = serializers.SerializerMethodField()
    bargained_amount = DecimalStringField(
        max_digits=14, decimal_places=2, allow_null=True, read_only=True
    )

    class Meta:
        model = ConsentRequest
        fields = [
            "id",
            *REQUEST_FIELDS,
            "signer_capacity",
            "status",
            "sent_to",
            "sent_at",
            "reminded_at",
            "viewed_at",
            "answered_at",
            "expires_at",
            "decline_reason",
            "consent",
            "notice_clock",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ConsentRequest.Status.choices))
    def get_status(self, request) -> str:
        return requests.effective_status(request)

    @extend_schema_field(NoticeClockSerializer)
    def get_notice_clock(self, request) -> dict:
        clock = requests.notice_clock(request)
        return NoticeClockSerializer(clock).data


class ConsentRequestCreateSerializer(ConsentTermsSerializer):
    """A consent request to prepare: the consent the person will be asked to sign."""

    class Meta:
        model = ConsentRequest
        fields = list(REQUEST_FIELDS)


class ConsentRequestFilter(django_filters.FilterSet):
    person = IdFilter(field_name="person_id")
    production = IdFilter(field_name="production_id")
    status = django_filters.ChoiceFilter(
        choices=ConsentRequest.Status.choices,
        method="filter_status",
        help_text="As `status` answers it: a link past its expiry is `expired`.",
    )

    class Meta:
        model = ConsentRequest
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        return requests.with_effective_status(queryset, value)


class ConsentRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Consent requests. `POST` prepares one (checked in full first: `400
    consent_request_invalid` names each failing rule); `send`, `remind` and `withdraw` move it
    on. Once signed, `consent` is the consent recorded."""

    queryset = ConsentRequest.objects.select_related("agreement", "production__studio")
    serializer_class = ConsentRequestSerializer
    filterset_class = ConsentRequestFilter
    permission_classes = [StaffOnly]
    scope_queryset = staticmethod(selectors.consent_requests)

    @extend_schema(
        request={"application/json": ConsentRequestCreateSerializer},
        responses={201: ConsentRequestSerializer},
    )
    def create(self, request):
        """Prepare a request: refused with `consent_request_invalid` (each failing rule in
        `fields`) when the consent it would produce, signed now, would not hold. Nothing is sent
        yet; the notice clock shows when a scan could take place if it were sent now."""
        body = ConsentRequestCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        created = requests.request_prepare(
            actor=request.user, scope=self.scope, **body.validated_data
        )
        return Response(self._read(created.pk), status=status.HTTP_201_CREATED)

    def _read(self, pk):
        return ConsentRequestSerializer(
            self.get_queryset().get(pk=pk), context=self.get_serializer_context()
        ).data

    def _move(self, request, service):
        found = self.get_object()
        if not self.scope.can_write_studio(found.production.studio_id):
            raise Forbidden("You can see this request but not change it.")
        service(actor=request.user, scope=self.scope, request=found)
        return Response(self._read(found.pk))

    @extend_schema(request=None, responses=ConsentRequestSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Send a draft: the signer's recorded address receives a single-use link; the notice
        instant is recorded. 409 `consent_request_not_draft` if it was sent already; 503
        `mail_unavailable` (nothing recorded) if the mail server fails."""
        return self._move(request, requests.request_send)

    @extend_schema(request=None, responses=ConsentRequestSerializer)
    @action(detail=True, methods=["post"])
    def remind(self, request, pk=None):
        """Send a new link to a request not yet answered (an expired one opens again); the
        previous link stops working."""
        return self._move(request, requests.request_remind)

    @extend_schema(request=None, responses=ConsentRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw a request not yet signed or declined; its link stops working."""
        return self._move(request, requests.request_withdraw)
