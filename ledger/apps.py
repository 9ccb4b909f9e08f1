from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Registry and ledger"

    def ready(self):
        from . import dispatch, login_guard, webhooks

        login_guard.connect()  # log-ins, failures and lock-outs become security events
        dispatch.register("webhook_deliveries", webhooks.deliveries_publish_waiting)
