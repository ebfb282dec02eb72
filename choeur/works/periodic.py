"""Periodic jobs of works invoices, run by `choeur run_periodic`."""

from datetime import timedelta

from choeur.core.scheduler import periodic
from choeur.works.services import works_send_reminders
from choeur.works.validation import works_validations_due


@periodic(
    name="works.moe_reminders",
    every=timedelta(hours=1),
    description="Rappelle à la maîtrise d'œuvre les projets de décompte dont le délai de 7 jours expire ou a expiré.",
)
def moe_reminders(*, now, since):
    # Reminders are due on a state, not on an instant: one pass at `now` catches up whatever fell due meanwhile.
    works_send_reminders(now=now)


@periodic(
    name="works.titulaire_validations",
    every=timedelta(minutes=15),
    description=(
        "Valide tacitement les projets de décompte de sous-traitants (A10, A11) que le titulaire n'a pas traités en "
        "15 jours, puis les transmet à la maîtrise d'œuvre ; fait suivre ceux validés ailleurs."
    ),
)
def titulaire_validations(*, now, since):
    # Also a state, not an instant: whatever fell due during a downtime is caught up by one pass at `now`.
    works_validations_due(now=now)
