"""The tacit validation of A9/A12 invoices, run by `choeur run_periodic` (imported by invoices/periodic.py).

Every slot looks for every invoice whose valideur let the 15 days pass, so a scheduler that was down for a
while catches up in one pass; the unique (job, slot) row of the scheduler keeps two schedulers from running
the same slot, and `invoice_validate_tacitly` re-checks each invoice under its row lock.
"""

import logging
from datetime import timedelta

from choeur.core.scheduler import periodic
from choeur.invoices.validation_circuit import invoices_validate_tacitly_due

logger = logging.getLogger(__name__)


@periodic(
    name="invoices.tacit_validation",
    every=timedelta(minutes=15),
    description="Valide tacitement les factures A9/A12 restées 15 jours sans réponse de leur valideur.",
)
def tacit_validation(*, now, since):
    done = invoices_validate_tacitly_due(now=now)
    if done:
        logger.info("Validations tacites : %s", ", ".join(f"{i.number} ({i.status})" for i in done))
    return done
