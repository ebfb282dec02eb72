import os
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from choeur.core import serving, startup
from choeur.core.taskqueue import tasks_hand_back


class Command(BaseCommand):
    help = (
        "Lance la plateforme comme en production : vérifie la configuration, la base et le stockage, applique "
        "les migrations, rassemble les fichiers statiques, puis démarre le serveur HTTP (granian ou gunicorn), "
        "les workers de tâches et le planificateur, et les relance s'ils s'arrêtent. SIGTERM les arrête "
        "proprement (requêtes en cours servies, tâches en cours terminées ou remises en file)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="adresse d'écoute")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="port d'écoute")
        parser.add_argument("--server", choices=serving.SERVERS, default=settings.CHOEUR_WEB_SERVER)
        parser.add_argument("--web-workers", type=int, default=settings.CHOEUR_WEB_WORKERS)
        parser.add_argument("--web-threads", type=int, default=settings.CHOEUR_WEB_THREADS)
        parser.add_argument("--task-workers", type=int, default=settings.CHOEUR_TASK_WORKERS)
        parser.add_argument("--no-scheduler", action="store_true", help="sans planificateur (il tourne ailleurs)")
        parser.add_argument("--no-migrate", action="store_true", help="sans appliquer les migrations")
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="sans rassembler les fichiers statiques (déjà faits, par exemple à la construction de l'image)",
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            default=os.environ.get("DEMO", "") in {"1", "true", "oui"},
            help="charge le jeu de démonstration (DEMO=1)",
        )
        parser.add_argument("--worker-interval", type=float, default=1.0, help="secondes entre deux relevés de file")

    def handle(self, *args, **options):
        try:
            startup.startup_verify()
        except startup.StartupRefused as exc:
            raise CommandError(f"Démarrage refusé. {exc}") from None
        if options["web_workers"] < 1 or options["task_workers"] < 0:
            raise CommandError("Il faut au moins un processus web (--web-workers) et zéro ou plus workers de tâches.")
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        if not options["no_collectstatic"]:
            # Fingerprinted and compressed once here (var/static), served by WhiteNoise with a year's caching.
            call_command("collectstatic", interactive=False, verbosity=0)
        if options["demo"]:
            call_command("seed_demo")
        self._metrics_dir()
        python = [sys.executable, "-m", "choeur"]
        processes = [
            serving.Process(
                "web",
                serving.web_command(
                    options["server"],
                    host=options["host"],
                    port=options["port"],
                    workers=options["web_workers"],
                    threads=options["web_threads"],
                    grace=settings.CHOEUR_SHUTDOWN_GRACE_SECONDS,
                ),
            )
        ]
        for slot in range(1, options["task_workers"] + 1):
            worker_id = serving.worker_id(slot)
            processes.append(
                serving.Process(
                    f"worker-{slot}",
                    [
                        *python,
                        "db_worker",
                        "--queue-name",
                        "*",
                        "--no-reload",
                        "--worker-id",
                        worker_id,
                        "--interval",
                        str(options["worker_interval"]),
                    ],
                    before_start=lambda worker_id=worker_id: self._hand_back(worker_id),
                )
            )
        if not options["no_scheduler"]:
            processes.append(serving.Process("scheduler", [*python, "run_periodic"]))
        # The children open their own connections; the supervisor's would only idle.
        connections.close_all()
        self.stdout.write(
            f"Chœur sur http://{options['host']}:{options['port']} — {options['server']} "
            f"({options['web_workers']} processus web), {options['task_workers']} worker(s) de tâches"
            f"{', planificateur' if not options['no_scheduler'] else ''}"
        )
        self.stdout.flush()
        supervisor = serving.Supervisor(processes, grace_seconds=settings.CHOEUR_SHUTDOWN_GRACE_SECONDS)
        supervisor.install_signals()
        supervisor.run()

    def _hand_back(self, worker_id: str) -> None:
        count = tasks_hand_back(worker_id=worker_id)
        connections.close_all()
        if count:
            self.stderr.write(f"{count} tâche(s) laissée(s) par {worker_id} remise(s) en file.")

    def _metrics_dir(self) -> None:
        """Every process writes its metrics there; emptied at start (the figures of a previous run are gone)."""
        directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or Path(settings.VAR_DIR) / "metrics")
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
