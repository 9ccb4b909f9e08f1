from django.urls import path

from core.api.common import ApiRouter

from . import api

router = ApiRouter(trailing_slash=True)
router.register("rate-sheets", api.RateSheetViewSet, basename="rate-sheet")
router.register("engagement-terms", api.TermsViewSet, basename="engagement-terms")
router.register("timecards", api.TimecardViewSet, basename="timecard")
router.register("deliveries", api.DeliveryViewSet, basename="delivery")
router.register("runs", api.RunViewSet, basename="run")
router.register("lines", api.LineViewSet, basename="line")
router.register("hold-resolutions", api.HoldResolutionViewSet, basename="hold-resolution")

urlpatterns = [
    path("quote/", api.QuoteView.as_view(), name="quote"),
    *router.urls,
]
