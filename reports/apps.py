from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        from core import outbox

        from . import notifications

        outbox.register("notifications", notifications.notifications_publish_waiting)

    def load_demo(self, *, actor):
        from .demo import load

        load(actor=actor)
