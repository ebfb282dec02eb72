from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "choeur.core"
    label = "core"

    def ready(self):
        from choeur.core import checks  # noqa: F401  (registers the start-up checks)
