from django.urls import path

from core.api.common import ApiRouter

from . import api, api_requests

router = ApiRouter(trailing_slash=True)
router.register("consents", api.ConsentViewSet, basename="consent")
router.register("consent-requests", api_requests.ConsentRequestViewSet, basename="consent-request")
router.register("ai-uses", api.AiUseViewSet, basename="ai-use")
router.register("union-notices", api.UnionNoticeViewSet, basename="union-notice")
router.register("strike-periods", api.StrikePeriodViewSet, basename="strike-period")
router.register("wga-disclosures", api.WgaDisclosureViewSet, basename="wga-disclosure")

urlpatterns = [
    path("consent-checks/", api.ConsentCheckView.as_view(), name="consent-check"),
    path("consent-checks/batch/", api.ConsentCheckBatchView.as_view(), name="consent-check-batch"),
    *router.urls,
]
