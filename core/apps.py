from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app uses; no models of its own."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        from core.security import login_guard

        login_guard.connect()  # log-ins, failures and lock-outs become security events
