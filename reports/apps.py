from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def load_demo(self, *, actor):
        from .demo import load

        load(actor=actor)
