import signal
import time

from django.core.management.base import BaseCommand, CommandError

from choeur.core.errors import ApplicationError
from choeur.flows.services import flows_ingest_directory


class Command(BaseCommand):
    help = (
        "Dépose comme flux (canal EDI) les fichiers posés dans un répertoire : un sous-dossier par structure "
        "déposante, nommé par son SIRET (DIR/<SIRET>/facture.xml), ou --structure pour un seul déposant. "
        "Chaque fichier déposé part dans traites/, chaque fichier refusé dans erreurs/ avec une explication."
    )

    def add_arguments(self, parser):
        parser.add_argument("dir", help="Répertoire de dépôt.")
        parser.add_argument("--structure", help="SIRET de la structure déposante de tous les fichiers de DIR.")
        parser.add_argument("--once", action="store_true", help="Un seul passage, puis sortie.")
        parser.add_argument("--interval", type=float, default=10.0, help="Secondes entre deux passages.")
        parser.add_argument(
            "--min-age",
            type=float,
            default=5.0,
            help="Ignorer les fichiers modifiés depuis moins de N secondes (transfert en cours).",
        )

    def handle(self, *args, dir, structure=None, once=False, interval=10.0, min_age=5.0, **options):
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        if not once:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        while True:
            try:
                result = flows_ingest_directory(root=dir, structure_identifier=structure, min_age=min_age)
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
            if once or any(result.values()):
                self.stdout.write(
                    f"Flux déposés : {result['deposited']} ; déjà reçus : {result['already']} ; "
                    f"refusés : {result['refused']}."
                )
            if once or stopping:
                break
            time.sleep(interval)
