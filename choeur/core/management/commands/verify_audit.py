from django.core.management.base import BaseCommand, CommandError

from choeur.core.audit import audit_verify
from choeur.core.models import AuditEntry


class Command(BaseCommand):
    help = "Vérifie l'intégrité de la chaîne du journal d'audit (entrées modifiées, supprimées ou réordonnées)."

    def handle(self, *args, **options):
        problems = audit_verify()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"Journal d'audit altéré : {len(problems)} anomalie(s).")
        self.stdout.write(f"Journal d'audit intègre ({AuditEntry.objects.count()} entrées).")
