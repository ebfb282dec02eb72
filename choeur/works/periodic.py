"""Periodic jobs of works invoices, run by `choeur run_periodic`."""

from datetime import timedelta

from choeur.core.scheduler import periodic
from choeur.works.services import works_send_reminders


@periodic(
    name="works.moe_reminders",
    every=timedelta(hours=1),
    description="Rappelle à la maîtrise d'œuvre les projets de décompte dont le délai de 7 jours expire ou a expiré.",
)
def moe_reminders(*, now, since):
    # Reminders are due on a state, not on an instant: one pass at `now` catches up whatever fell due meanwhile.
    works_send_reminders(now=now)
