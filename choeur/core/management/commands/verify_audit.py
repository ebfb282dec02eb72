from django.core.management.base import BaseCommand, CommandError

from choeur.core.audit_signing import audit_verify_report


class Command(BaseCommand):
    help = (
        "Vérifie l'intégrité du journal d'audit : la chaîne (entrées modifiées, supprimées ou réordonnées) et les "
        "points de contrôle signés hors de la base (chaîne réécrite et recalculée)."
    )

    def handle(self, *args, **options):
        report = audit_verify_report()
        for note in report.notes:
            self.stdout.write(note)
        if report.problems:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(f"Journal d'audit altéré : {len(report.problems)} anomalie(s).")
        self.stdout.write(
            f"Journal d'audit intègre ({report.entries} entrées, {report.checkpoints} point(s) de contrôle signé(s))."
        )
