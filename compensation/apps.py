from django.apps import AppConfig


class CompensationConfig(AppConfig):
    name = "compensation"

    def ready(self):
        from ledger import dispatch

        from . import runs

        dispatch.register("compensation_runs", runs.runs_publish_waiting)

    def load_demo(self, *, actor):
        from .demo import load

        load(actor=actor)
