from core.api.common import ApiRouter

router = ApiRouter(trailing_slash=True)
# schedules
# records
# runs
# statements

urlpatterns = router.urls
