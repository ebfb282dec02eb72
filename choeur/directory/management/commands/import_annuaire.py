from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from choeur.directory.annuaire import AnnuaireImportInvalid, annuaire_import


class Command(BaseCommand):
    help = (
        "Importe les structures publiques et leurs services depuis un fichier CSV (format décrit dans "
        "docs/annuaire-import.md). Tout ou rien : si une ligne est fausse, rien n'est écrit."
    )

    def add_arguments(self, parser):
        parser.add_argument("fichier", help="chemin du fichier CSV (UTF-8, séparateur « ; » ou « , »)")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="vérifie le fichier et compte ce qui changerait, sans rien écrire",
        )

    def handle(self, *args, **options):
        path = Path(options["fichier"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Impossible de lire « {path} » : {exc.strerror or exc}.") from None
        try:
            report = annuaire_import(data=data, dry_run=options["dry_run"], source_name=path.name)
        except AnnuaireImportInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"{exc.message} Corrigez le fichier puis relancez l'import.") from None
        self.stdout.write(self.style.SUCCESS(report.summary()))
