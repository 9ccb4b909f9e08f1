"""Export and erasure over REST, for the data protection officer.

`GET people/{id}/export/` returns everything held about the person (and records the export);
`POST people/{id}/erase/` with `{"reason"}` pseudonymizes it and returns the erasure record.

Only superusers may do either. The export spans every studio and guild that worked with the
person, so no studio's or guild's staff may take it: their scope covers part of it only, and a
subject access request is answered whole, by the controller's officer. A person outside the
caller's scope is 404; inside it but not the caller's to export or erase, 403 `dpo_only`.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import ModelSerializer, StrictCharField
from core.errors import DomainError
from ledger import access
from ledger.models import Person

from . import services
from .models import ErasureRecord
from .services import REASON_MAX


class EraseRequestSerializer(serializers.Serializer):
    reason = StrictCharField(
        max_length=REASON_MAX,
        help_text="The request and its legal basis. Kept on the record: name no one.",
    )


class ErasureRecordSerializer(ModelSerializer):
    actor = StrictCharField(source="actor.username", read_only=True)
    changed = serializers.JSONField()
    history_changed = serializers.JSONField()
    reports_rewritten = serializers.JSONField()
    retained = serializers.JSONField()

    class Meta:
        model = ErasureRecord
        fields = [
            "id",
            "person",
            "actor",
            "erased_at",
            "reason",
            "pseudonym",
            "changed",
            "history_changed",
            "evidence_files_deleted",
            "reports_rewritten",
            "retained",
            "export_sha256",
        ]


class AnyStaffCaller(BasePermission):
    """Staff callers reach the view, which answers 404 outside their scope and 403 inside it
    unless they are the officer; payroll keys never do."""

    def has_permission(self, request, view):
        scope = access.request_scope(request)
        return not scope.is_empty and scope.payroll_key is None


class _PersonView(APIView):
    permission_classes = [AnyStaffCaller]

    def person(self, request, pk) -> Person:
        scope = access.request_scope(request)
        person = get_object_or_404(access.people(scope), pk=pk)
        if not scope.superuser:
            raise DomainError(
                "Only the data protection officer (an administrator) exports or erases a "
                "person's data.",
                code="dpo_only",
                status_code=status.HTTP_403_FORBIDDEN,
            )
        return person


class PersonExportView(_PersonView):
    @extend_schema(
        operation_id="people_export",
        summary="Export everything held about a person",
        tags=["people"],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The export.")},
    )
    def get(self, request, pk: int):
        """Everything held about the person, as JSON (GDPR Art. 15 and 20). Recorded."""
        export, _ = services.person_export_take(person=self.person(request, pk), actor=request.user)
        return Response(export)


class PersonEraseView(_PersonView):
    @extend_schema(
        operation_id="people_erase",
        summary="Erase a person's personal data",
        tags=["people"],
        request=EraseRequestSerializer,
        responses={201: ErasureRecordSerializer},
    )
    def post(self, request, pk: int):
        """Pseudonymize the person's data (GDPR Art. 17) and record the erasure. 409
        `already_erased`, or `payables_due` while money is still owed to them."""
        person = self.person(request, pk)
        body = EraseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = services.person_erase(
            person=person, actor=request.user, reason=body.validated_data["reason"]
        )
        return Response(ErasureRecordSerializer(record).data, status=status.HTTP_201_CREATED)
