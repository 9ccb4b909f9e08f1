"""Webhook endpoints and deliveries in the staff admin, for administrators: an endpoint is
changed through its service (the URL checked again), its secret never shown; deliveries and
their attempts are read-only."""

import dataclasses
import re

from django import forms
from django.contrib import admin
from simple_history.template_utils import HistoricalRecordContextHelper

from core.admin import display
from core.admin.base import ReadOnlyInline, ServiceForm, ServiceSavedMixin
from ledger.access.admin import ReadOnlyAdmin, SuperuserOnlyAdmin, SuperuserOnlyMixin
from ledger.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ledger.webhooks.services import webhook_endpoint_update


class WebhookEndpointForm(ServiceForm):
    """Changes an endpoint through the service the API uses: a new URL is checked the same way."""

    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "is_active"]

    def record(self, data):
        return webhook_endpoint_update(
            actor=self.request.user,
            endpoint=self.instance,
            url=data.get("url"),
            is_active=data.get("is_active"),
        )


class _HistoryWithoutSecret(HistoricalRecordContextHelper):
    def context_for_delta_changes(self, delta):
        changes = [change for change in delta.changes if change.field != "secret"]
        return super().context_for_delta_changes(dataclasses.replace(delta, changes=changes))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceSavedMixin, SuperuserOnlyAdmin):
    """Endpoints are registered by their payroll key through the API, whose answer is the only
    place the signing secret is shown. Here neither the secret (on any page, history included)
    nor the key's hash is shown; a change goes through the same service as the API."""

    form = WebhookEndpointForm
    list_display = ["url", "key", "is_active", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["payroll_key"]
    fields = ["url", "key", "is_active", "created_at"]
    readonly_fields = ["key", "created_at"]

    @admin.display(description="payroll API key")
    def key(self, obj):
        return f"{obj.payroll_key.name} ({obj.payroll_key.prefix})"

    def has_add_permission(self, request, obj=None):
        return False

    def get_historical_record_context_helper(self, request, historical_record):
        return _HistoryWithoutSecret(self.model, historical_record)


ATTEMPT_COLUMNS = ("attempted_at", "status_code", "succeeded", "outcome")


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ATTEMPT_COLUMNS
    readonly_fields = ATTEMPT_COLUMNS

    @admin.display(description="error")
    def outcome(self, obj):
        # A stable category (ledger.webhooks.transport). An attempt recorded before categories
        # holds a socket's text, which says which ports answer: not shown.
        if not obj.error or re.fullmatch(r"[a-z0-9_]{1,40}", obj.error):
            return obj.error
        return "error"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SuperuserOnlyMixin, ReadOnlyAdmin):
    list_display = ["message_id", "event_type", "endpoint", "created_at"]
    exclude = ["payload"]  # shown in words (payload_shown)
    readonly_fields = ["endpoint", "message_id", "event_type", "payload_shown", "created_at"]
    inlines = [WebhookAttemptInline]

    @admin.display(description="payload")
    def payload_shown(self, obj):
        return display.structured(obj.payload)
