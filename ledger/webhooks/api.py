"""A payroll key's webhook endpoints over REST: registered, listed and changed by the key that
owns them."""

from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from core.api import scopes
from core.api.fields import ModelSerializer
from ledger.access.api import ScopedViewSet
from ledger.models import WebhookEndpoint
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
