import time

from django.core.management.base import BaseCommand

from choeur.flows.services import flows_reconcile


class Command(BaseCommand):
    help = (
        "Remet en file les flux dont le traitement a été interrompu (bail expiré) ou qui attendent depuis trop "
        "longtemps, et passe en IN_INCIDENTE ceux qui ont épuisé leurs tentatives."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Recommencer indéfiniment (voir --interval).")
        parser.add_argument("--interval", type=float, default=60.0, help="Secondes entre deux passages.")

    def handle(self, *args, loop=False, interval=60.0, **options):
        while True:
            result = flows_reconcile()
            self.stdout.write(
                f"Flux remis en file : {result['requeued']} ; passés en incident : {result['incident']}."
            )
            if not loop:
                break
            time.sleep(interval)
