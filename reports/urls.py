from django.urls import path

from core.api.common import ApiRouter

from . import api

router = ApiRouter(trailing_slash=True)
router.register("reports", api.ReportViewSet, basename="report")
router.register("receipts", api.ReceiptViewSet, basename="receipt")
router.register("disclosure-labels", api.LabelViewSet, basename="label")
router.register("report-subscriptions", api.SubscriptionViewSet, basename="report-subscription")

urlpatterns = router.urls
# The remittance report is one computation in three formats, not a collection of records.
urlpatterns = [
    *urlpatterns,
    path("remittances/", api.RemittanceView.as_view(), name="remittance"),
    path("remittances/csv/", api.RemittanceCsvView.as_view(), name="remittance-csv"),
    path("remittances/pdf/", api.RemittancePdfView.as_view(), name="remittance-pdf"),
]
