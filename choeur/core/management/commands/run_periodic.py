import importlib
import signal
import time

from django.apps import apps
from django.core.management.base import BaseCommand

from choeur.core.scheduler import registered_jobs, scheduler_tick


def load_periodic_modules() -> None:
    """Import every app's `periodic` module so that its jobs register themselves."""
    for config in apps.get_app_configs():
        if config.name.startswith("choeur."):
            try:
                importlib.import_module(f"{config.name}.periodic")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.periodic":
                    raise


class Command(BaseCommand):
    help = "Lance le planificateur des tâches périodiques (validations tacites, relances, réconciliation)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Un seul passage, puis sortie.")
        parser.add_argument("--interval", type=float, default=5.0, help="Secondes entre deux passages.")

    def handle(self, *args, once=False, interval=5.0, **options):
        load_periodic_modules()
        self.stdout.write(f"Tâches périodiques : {', '.join(sorted(registered_jobs())) or 'aucune'}")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while True:
            ran = scheduler_tick()
            if ran:
                self.stdout.write(f"Exécutées : {', '.join(ran)}")
            if once or stopping:
                break
            time.sleep(interval)
