"""Periodic jobs of invoices, run by `choeur run_periodic` (which imports this module)."""

from datetime import timedelta

from choeur.core.scheduler import periodic
from choeur.invoices import circuit_periodic  # noqa: F401  (registers the tacit validation of A9/A12)
from choeur.invoices.notifications import notifications_send_digests


@periodic(
    name="invoices.notifications_digest",
    every=timedelta(weeks=1),
    description="Envoie le récapitulatif hebdomadaire des changements de statut de factures.",
)
def notifications_digest(*, now, since):
    # One pass sends everything still waiting, so a missed week is caught up by the next run.
    return notifications_send_digests(now=now)
