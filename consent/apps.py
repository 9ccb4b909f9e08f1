from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"

    def load_demo(self, *, actor):
        from .demo import load

        load(actor=actor)
