from django.core.management.base import BaseCommand, CommandError

from choeur.core.audit_signing import SigningKeyError, checkpoint_create


class Command(BaseCommand):
    help = "Signe maintenant la tête de la chaîne du journal d'audit (le planificateur le fait périodiquement)."

    def handle(self, *args, **options):
        try:
            checkpoint = checkpoint_create()
        except SigningKeyError as exc:
            raise CommandError(str(exc)) from None
        if checkpoint is None:
            self.stdout.write("Rien à signer : le dernier point de contrôle couvre déjà la dernière entrée.")
        else:
            self.stdout.write(
                f"Point de contrôle n°{checkpoint.sequence} signé : entrées jusqu'à n°{checkpoint.entry_id} "
                f"({checkpoint.entries} entrées), clé {checkpoint.key_id}."
            )
