"""`choeur revalidate [--reason TEXT] [--engine …] [--rules en16931|fr] [--jobs N] [--batch N]`: re-judge every
archived invoice (after a rule set changed) across processes and record the new verdicts."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from choeur.flows.validation import cli, engines


class Command(BaseCommand):
    help = (
        "Rejuge toutes les factures archivées (données structurées UBL ou CII) selon les règles installées, "
        "sur tous les cœurs, et enregistre les nouveaux verdicts à côté des précédents."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reason", default="", help="Motif (ex. « artefacts CEN 1.3.17 installés »).")
        parser.add_argument("--engine", choices=list(engines.ENGINES), default=None, help=cli.ENGINE_HELP)
        parser.add_argument("--rules", choices=["en16931", "fr"], default="en16931", help=cli.RULES_HELP)
        parser.add_argument("--jobs", type=cli._positive, default=None, metavar="N", help=cli.JOBS_HELP)
        parser.add_argument("--batch", type=cli._positive, default=500, metavar="N", help="Factures par lot.")

    def handle(self, *args, **options):
        from choeur.flows.revalidation import revalidation_run

        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  {done} / {total} factures rejugées")

        try:
            run = revalidation_run(
                reason=options["reason"],
                engine=options["engine"],
                rules=options["rules"],
                jobs=options["jobs"],
                batch_size=options["batch"],
                progress=progress,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        elapsed = time.perf_counter() - started
        rate = f" ({run.checked / elapsed:.0f} par seconde)" if elapsed > 0 and run.checked else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Revalidation n° {run.pk} : {cli.plural(run.checked, 'facture')} rejugée(s) en {elapsed:.1f} s{rate} "
                f"— {run.valid_count} conforme(s), {run.invalid_count} non conforme(s), "
                f"{run.changed_count} verdict(s) changé(s)."
            )
        )
        for info in run.rule_sets:
            self.stdout.write(f"  jugé par le moteur {info['engine']} : {info['name']} {info['version']}")
