from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "choeur.core"
    label = "core"

    def ready(self):
        from choeur.core import checks  # noqa: F401  (registers the start-up checks)
        from choeur.core.observability import connect_task_signals

        # A task's log lines carry the id of the request that enqueued it.
        connect_task_signals()
