from django.apps import AppConfig


class WorksConfig(AppConfig):
    name = "choeur.works"
    label = "works"

    def ready(self):
        # The works rows of the invoice transition table must exist before any invoice moves.
        from choeur.works import workflow  # noqa: F401
