"""Background side effects of invoices (django.tasks; the backend is a setting)."""

from __future__ import annotations

import logging

from django.tasks import task

logger = logging.getLogger(__name__)


@task
def invoice_status_changed(status_change_id: int) -> None:
    """Side effects of one status change, enqueued by workflow.invoice_transition after the commit.

    For now it only logs a line: the lifecycle issue fills it with the notifications (e-mail to the
    supplier's contact address on every status change, chorus-pro.md §6.2) and webhooks. It takes the
    id, not the object, since tasks are serialised (a JSON-serialisable argument for every backend).
    """
    from choeur.invoices.models import InvoiceStatusChange

    change = InvoiceStatusChange.objects.select_related("invoice").filter(pk=status_change_id).first()
    if change is None:
        logger.warning("Changement de statut %s introuvable (transaction annulée ?)", status_change_id)
        return
    logger.info(
        "Facture %s (id %s) : %s → %s (%s)",
        change.invoice.number,
        change.invoice_id,
        change.from_status,
        change.to_status,
        change.transition,
    )
