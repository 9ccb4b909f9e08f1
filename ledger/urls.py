from django.urls import path

from . import api, payroll_api
from .api_common import ApiRouter

router = ApiRouter(trailing_slash=True)
router.register("guilds", api.GuildViewSet, basename="guild")
router.register("agreements", api.AgreementViewSet, basename="agreement")
router.register("studios", api.StudioViewSet, basename="studio")
router.register("people", api.PersonViewSet, basename="person")
router.register("productions", api.ProductionViewSet, basename="production")
router.register("engagements", api.EngagementViewSet, basename="engagement")
router.register("payables", payroll_api.PayableViewSet, basename="payable")
router.register("payments", payroll_api.PaymentViewSet, basename="payment")
router.register("ledger/transactions", payroll_api.TransactionViewSet, basename="transaction")
router.register(
    "webhook-endpoints", payroll_api.WebhookEndpointViewSet, basename="webhook-endpoint"
)

urlpatterns = [
    path("ledger/balances/", payroll_api.BalanceView.as_view(), name="balances"),
    *router.urls,
]
