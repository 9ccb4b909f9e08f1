from core.api.common import ApiRouter

from .api import records, runs, schedules, statements

router = ApiRouter(trailing_slash=True)
router.register("schedules", schedules.ScheduleViewSet, basename="residual-schedule")
router.register("exhibitions", records.ExhibitionViewSet, basename="exhibition")
router.register("credits", records.WritingCreditViewSet, basename="writing-credit")
router.register("runs", runs.ResidualRunViewSet, basename="residual-run")
router.register("lines", runs.ResidualLineViewSet, basename="residual-line")
router.register("statements", statements.StatementViewSet, basename="residual-statement")

urlpatterns = router.urls
