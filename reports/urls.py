from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("reports", api.ReportViewSet, basename="report")
router.register("receipts", api.ReceiptViewSet, basename="receipt")
router.register("disclosure-labels", api.LabelViewSet, basename="label")
router.register("report-subscriptions", api.SubscriptionViewSet, basename="report-subscription")

urlpatterns = router.urls
