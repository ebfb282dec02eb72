from django.core.management.base import BaseCommand, CommandError

from choeur.core.audit_signing import SigningKeyError, key_id_of, key_path, public_key_pem, signing_key_create


class Command(BaseCommand):
    help = (
        "Clé Ed25519 qui signe les points de contrôle du journal d'audit : « create » la crée (hors de la base), "
        "« show » affiche sa clé publique, à archiver pour vérifier les exports hors ligne."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "show"])

    def handle(self, *args, action, **options):
        try:
            if action == "create":
                signing_key_create()
                self.stdout.write(f"Clé de signature créée dans {key_path()} (lisible par son propriétaire seul).")
            public = public_key_pem(create=False)
        except SigningKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(public.strip())
        self.stdout.write(f"Empreinte : {key_id_of(public)}")
