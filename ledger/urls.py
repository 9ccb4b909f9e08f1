from django.urls import path

from core.api.common import ApiRouter
from ledger.payroll import api as payroll_api
from ledger.registry import api as registry_api
from ledger.webhooks import api as webhooks_api

router = ApiRouter(trailing_slash=True)
router.register("guilds", registry_api.GuildViewSet, basename="guild")
router.register("agreements", registry_api.AgreementViewSet, basename="agreement")
router.register("studios", registry_api.StudioViewSet, basename="studio")
router.register("people", registry_api.PersonViewSet, basename="person")
router.register("productions", registry_api.ProductionViewSet, basename="production")
router.register("engagements", registry_api.EngagementViewSet, basename="engagement")
router.register("payables", payroll_api.PayableViewSet, basename="payable")
router.register("payments", payroll_api.PaymentViewSet, basename="payment")
router.register("ledger/transactions", payroll_api.TransactionViewSet, basename="transaction")
router.register(
    "webhook-endpoints", webhooks_api.WebhookEndpointViewSet, basename="webhook-endpoint"
)

urlpatterns = [
    path("ledger/balances/", payroll_api.BalanceView.as_view(), name="balances"),
    *router.urls,
]
