import json

from django.core.management.base import BaseCommand, CommandError

from choeur.directory.demo import demo_credentials


class Command(BaseCommand):
    help = (
        "Affiche les identifiants publics de démonstration (portail et API) encore valides dans la base. "
        "N'affiche jamais d'autres identifiants."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="sortie JSON (users, api, structures)")

    def handle(self, *args, **options):
        credentials, warnings = demo_credentials()
        for warning in warnings:
            self.stderr.write(warning)
        if not credentials["structures"]:
            raise CommandError("Les données de démonstration ne sont pas chargées : lancez « choeur seed_demo ».")
        if options["json"]:
            self.stdout.write(json.dumps(credentials, ensure_ascii=False, indent=2))
            return
        self._table(credentials)

    def _table(self, credentials):
        names = {item["siret"]: item["raison_sociale"] for item in credentials["structures"]}
        write = self.stdout.write
        write("Identifiants de démonstration (publics, pour une instance de test uniquement)\n")
        write("Structures")
        for item in credentials["structures"]:
            kind = "publique" if item["publique"] else "privée"
            write(f"  {item['siret']}  {item['raison_sociale']} ({kind})")
        write("\nUtilisateurs du portail")
        rows = [("Adresse de connexion", "Mot de passe", "Rôle", "Structure")]
        for item in credentials["users"]:
            structure = names.get(item["siret"], "—") if item["siret"] else "— (toute la plateforme)"
            rows.append((item["email"], item["password"], item["role"], structure))
        self._rows(rows)
        write("\nAccès API (jeton : POST /api/oauth/token ; en-tête cpro-account : base64(login:mot de passe))")
        for item in credentials["api"]:
            write(f"  {names.get(item['siret'], item['siret'])} ({item['siret']})")
            write(f"    client_id     : {item['client_id']}")
            write(f"    client_secret : {item['client_secret']}")
            write(f"    compte technique : {item['cpro_login']}")
            write(f"    mot de passe     : {item['cpro_password']}")

    def _rows(self, rows):
        widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
