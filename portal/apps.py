from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The pages a performer or writer reaches from a link sent to them, without an account."""

    name = "portal"

    def load_demo(self, *, actor):
        from .demo import load

        return load(actor=actor)
