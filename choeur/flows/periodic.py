"""Periodic jobs of flows, run by `choeur run_periodic`."""

from datetime import timedelta

from choeur.core.scheduler import periodic
from choeur.flows.services import flows_reconcile


@periodic(
    name="flows.reconcile",
    every=timedelta(seconds=15),
    description="Remet en file les flux abandonnés par un traitement interrompu.",
)
def reconcile(*, now, since):
    flows_reconcile(now=now)
