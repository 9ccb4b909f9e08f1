from django.apps import AppConfig


class CompensationConfig(AppConfig):
    name = "compensation"

    def ready(self):
        from core import outbox

        from . import runs, tasks  # noqa: F401  (tasks: registers the run's task)
        from .residuals import admin  # noqa: F401  (registers the residual admins)

        outbox.register("compensation_runs", runs.runs_publish_waiting)

    def load_demo(self, *, actor):
        from .demo import load
        from .residuals.demo import load as load_residuals

        load(actor=actor)
        load_residuals(actor=actor)
