"""Periodic jobs of core, run by `choeur run_periodic`."""

from datetime import timedelta

from django.conf import settings

from choeur.core.audit_signing import checkpoint_create
from choeur.core.scheduler import periodic


@periodic(
    name="core.audit_checkpoint",
    every=timedelta(minutes=settings.CHOEUR_AUDIT_CHECKPOINT_MINUTES),
    description="Signe la tête de la chaîne du journal d'audit avec la clé gardée hors de la base.",
)
def audit_checkpoint(*, now, since):
    checkpoint = checkpoint_create(now=now)
    return f"point de contrôle n°{checkpoint.sequence}" if checkpoint else "rien de nouveau"
