from core.api.common import ApiRouter

from . import api

router = ApiRouter(trailing_slash=True)
router.register("reports", api.ReportViewSet, basename="report")
router.register("receipts", api.ReceiptViewSet, basename="receipt")
router.register("disclosure-labels", api.LabelViewSet, basename="label")
router.register("report-subscriptions", api.SubscriptionViewSet, basename="report-subscription")

urlpatterns = router.urls
