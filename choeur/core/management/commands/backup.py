from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from choeur.core.backup import backup_create
from choeur.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Sauvegarde la base (pg_dump au format custom, ou copie SQLite cohérente) et tous les documents stockés "
        "dans DEST, avec un manifeste des empreintes SHA-256 (docs/OPERATIONS.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("destination", metavar="DEST", help="dossier neuf ou vide où écrire la sauvegarde")

    def handle(self, *args, destination, **options):
        try:
            manifest = backup_create(destination=Path(destination))
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        size = sum(entry["size"] for entry in manifest["files"].values())
        self.stdout.write(
            f"Sauvegarde écrite dans {destination} : base {manifest['database_engine']}, "
            f"{manifest['stored_files']} documents, {manifest['audit_entries']} entrées d'audit, "
            f"{len(manifest['files'])} fichiers ({size / 1_048_576:.1f} Mo), manifeste {destination}/manifest.json."
        )
