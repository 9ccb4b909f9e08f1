from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("guilds", api.GuildViewSet, basename="guild")
router.register("agreements", api.AgreementViewSet, basename="agreement")
router.register("studios", api.StudioViewSet, basename="studio")
router.register("people", api.PersonViewSet, basename="person")
router.register("productions", api.ProductionViewSet, basename="production")
router.register("engagements", api.EngagementViewSet, basename="engagement")

urlpatterns = router.urls
