from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from choeur.core.backup import backup_check, backup_restore, restore_verify
from choeur.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Restaure une sauvegarde de `choeur backup` dans la base et le stockage configurés, puis vérifie la chaîne "
        "d'audit et l'empreinte SHA-256 de chaque document (docs/OPERATIONS.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", metavar="SRC", help="dossier d'une sauvegarde (avec son manifest.json)")
        parser.add_argument(
            "--replace", action="store_true", help="écrase une base qui n'est pas vide (sinon la restauration refuse)"
        )
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="vérifie seulement les empreintes de la sauvegarde, sans rien restaurer",
        )
        parser.add_argument(
            "--verify-only",
            action="store_true",
            help="vérifie seulement la base et le stockage en place (chaîne d'audit, empreintes des documents)",
        )

    def handle(self, *args, source, replace, check_only, verify_only, **options):
        try:
            if check_only:
                manifest = backup_check(source=Path(source))
                self.stdout.write(f"Sauvegarde intègre : {len(manifest['files'])} fichiers conformes au manifeste.")
                return
            report = restore_verify() if verify_only else backup_restore(source=Path(source), replace=replace)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if report.problems:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(f"Restauration à reprendre : {len(report.problems)} anomalie(s).")
        self.stdout.write(
            f"Restauration vérifiée : journal d'audit intègre ({report.audit_entries} entrées), "
            f"{report.files_checked} documents conformes à leur empreinte SHA-256."
        )
