from django.apps import AppConfig


class CompensationConfig(AppConfig):
    name = "compensation"

    def load_demo(self, *, actor):
        from .demo import load

        load(actor=actor)
