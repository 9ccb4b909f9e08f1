"""A payroll key's webhook endpoints over REST: registered, listed and changed by the key that
owns them."""

from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from core.api import scopes
from core.api.fields import ModelSerializer, StrictIntegerField
from ledger.access.api import ScopedViewSet
from ledger.models import WebhookEndpoint
from ledger.payroll.api import PayableSerializer
from ledger.webhooks.services import webhook_endpoint_create, webhook_endpoint_update


class WebhookEndpointSerializer(ModelSerializer):
    """Where a payroll system receives signed notices of new payables (`payables.created`)."""

    secret = serializers.SerializerMethodField(
        help_text="The signing secret (whsec_…), shown only in the response that creates it."
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "is_active", "secret", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {
            "url": {
                "help_text": "https on a public address (no loopback, private, link-local, "
                "multicast or reserved address; no user name or password). Redirects are not "
                "followed. Refused with `webhook_url_refused`."
            }
        }

    def get_secret(self, obj) -> str | None:
        return obj.secret if self.context.get("show_secret") else None


class WebhookEndpointViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """A payroll key's webhook endpoints: `payables.created` is sent to each active one."""

    serializer_class = WebhookEndpointSerializer
    queryset = WebhookEndpoint.objects.all()
    payroll_read_scope = scopes.WEBHOOKS_READ
    payroll_write_scope = scopes.WEBHOOKS_WRITE
    scope_queryset = staticmethod(
        lambda scope, qs: (
            qs.filter(payroll_key=scope.payroll_key)
            if scope.payroll_key is not None
            else (qs if scope.superuser else qs.none())
        )
    )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_create(
            actor=request.user, scope=self.scope, **serializer.validated_data
        )
        body = WebhookEndpointSerializer(endpoint, context={"show_secret": True}).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = webhook_endpoint_update(
            actor=self.request.user, endpoint=serializer.instance, **serializer.validated_data
        )


# --- the messages an endpoint receives ---------------------------------------------------------


class PayablesCreatedDataSerializer(serializers.Serializer):
    studio = StrictIntegerField(
        help_text="The studio's id: the payables list's `studio` filter takes it (or its slug)."
    )
    payables = PayableSerializer(
        many=True,
        read_only=True,
        help_text="Each new payable as `GET /api/v1/payables/{id}/` shows it: payee (a person "
        "or a union fund), amount, currency, production, period and due date.",
    )


class PayablesCreatedMessageSerializer(serializers.Serializer):
    """New payables of one studio, each in full: what payroll needs to schedule the payments
    without another call."""

    # A message this API sends (documented under the schema's `webhooks`), never a body it reads:
    # every field is read-only.

    type = serializers.ChoiceField(choices=["payables.created"], read_only=True)
    timestamp = serializers.DateTimeField(
        read_only=True, help_text="When the message was made (ISO 8601, UTC)."
    )
    # DRF's metaclass takes declared fields off the class: this does not replace `.data`.
    data = PayablesCreatedDataSerializer(read_only=True)  # type: ignore[assignment]


payables_created = OpenApiWebhook(
    name="payables.created",
    decorator=extend_schema(
        operation_id="payables_created",
        summary="New payables",
        description=(
            "Sent, as a JSON POST, to every active endpoint of the payroll keys that serve the "
            "payables' studio, once their obligations are posted (a pay or residual run's "
            "approval).\n\n"
            "Signed as Standard Webhooks specify, in three headers: `webhook-id` (the message's "
            "id, `msg_…`, the same on every retry: use it as the idempotency key), "
            "`webhook-timestamp` (seconds since the Unix epoch) and `webhook-signature` (`v1,` "
            "and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed with "
            "the endpoint's secret). Verify the signature, and that the timestamp is within "
            "5 minutes, before acting.\n\n"
            "Any 2xx answer acknowledges; anything else, or no answer within 15 seconds, is "
            "retried with backoff for about 3 days."
        ),
        request=PayablesCreatedMessageSerializer,
        responses={
            200: OpenApiResponse(description="Received (any 2xx)."),
        },
    ),
)
