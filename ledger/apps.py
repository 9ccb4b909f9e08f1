from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Registry and ledger"

    def ready(self):
        from core import outbox
        from ledger.journal import admin as _journal_admin  # noqa: F401  (the rooms' admin pages)
        from ledger.journal import tasks as _journal_tasks  # noqa: F401  (the checkpoint task)
        from ledger.payroll import admin as _payroll_admin  # noqa: F401
        from ledger.registry import admin as _registry_admin  # noqa: F401
        from ledger.webhooks import admin as _webhooks_admin  # noqa: F401
        from ledger.webhooks import services as webhooks
        from ledger.webhooks import tasks  # noqa: F401  (registers the delivery task)

        outbox.register("webhook_deliveries", webhooks.deliveries_publish_waiting)
