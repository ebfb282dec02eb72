from django.core.management.base import BaseCommand, CommandError

from choeur.core.errors import ApplicationError
from choeur.directory.demo import demo_seed
from choeur.flows.demo import demo_flows_seed
from choeur.invoices.demo import demo_invoices_seed
from choeur.invoices.demo_engagements import demo_engagements_seed
from choeur.sollicitations.demo import demo_sollicitations_seed
from choeur.works.demo import demo_works_seed


class Command(BaseCommand):
    help = (
        "Charge (ou rétablit) le jeu de données de démonstration : acheteurs publics, entreprises, utilisateurs "
        "de chaque rôle, identifiants API publics, puis des factures à chaque étape de leur cycle de vie "
        "et des sollicitations dans chaque état. "
        "Relancer la commande ne crée aucun doublon."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="charge la démonstration même si la base contient d'autres structures utilisées (instance de test)",
        )

    def handle(self, *args, **options):
        try:
            report = demo_seed(force=options["force"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(report.summary()))
        # The command lives in the portal, the one layer that may import every domain app: structures
        # (directory) first, then invoices between them (invoices).
        # The buyers' engagements juridiques first: the demo invoices carry their numbers.
        self.stdout.write(self.style.SUCCESS(demo_engagements_seed().summary()))
        invoices = demo_invoices_seed()
        self.stdout.write(self.style.SUCCESS(invoices.summary()))
        self.stdout.write(self.style.SUCCESS(demo_works_seed().summary()))
        self.stdout.write(self.style.SUCCESS(demo_flows_seed().summary()))
        self.stdout.write(self.style.SUCCESS(demo_sollicitations_seed().summary()))
        self.stdout.write("Identifiants : « choeur demo_credentials » (ou --json).")
