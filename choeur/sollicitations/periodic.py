"""Periodic jobs of sollicitations, run by `choeur run_periodic` (which imports this module)."""

from datetime import timedelta

from choeur.core.scheduler import periodic
from choeur.sollicitations.notifications import sollicitation_notifications_send_digests


@periodic(
    name="sollicitations.notifications_digest",
    every=timedelta(weeks=1),
    description="Envoie le récapitulatif hebdomadaire des sollicitations.",
)
def notifications_digest(*, now, since):
    return sollicitation_notifications_send_digests(now=now)
