from django.apps import AppConfig


class CompensationConfig(AppConfig):
    name = "compensation"

    def ready(self):
        from core import outbox

        from . import runs, tasks  # noqa: F401  (tasks: registers the run's task)

        outbox.register("compensation_runs", runs.runs_publish_waiting)

    def load_demo(self, *, actor):
        from .demo import load

        load(actor=actor)
