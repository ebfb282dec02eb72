"""Background side effects of invoices (django.tasks; the backend is a setting)."""

from __future__ import annotations

import logging

from django.tasks import task

logger = logging.getLogger(__name__)

# Below the flows (priority 0): a worker integrates the deposited invoices first and tells people after.
# Under a burst of flows the notifications trail by seconds instead of slowing the integration down; the
# PDF rendering (rendering.RENDER_PRIORITY) comes after them.
SIDE_EFFECTS_PRIORITY = -10


@task(priority=SIDE_EFFECTS_PRIORITY)
def invoice_status_changed(status_change_id: int) -> None:
    """Side effects of one status change, enqueued by workflow.invoice_transition after the commit.

    Notifications first (e-mail to the supplier's contact address and to subscribed people, in-app rows:
    notifications.py), then the `invoice_status_changed` signal the API's webhooks listen to. Both are safe to
    run twice: notifications are unique per change and person, webhook deliveries carry the change's id. It
    takes the id, not the object, since tasks are serialised (a JSON-serialisable argument for every backend).
    """
    from choeur.invoices.models import InvoiceStatusChange

    # The invoice only: its parties load when used, by primary key, and most are empty (valideurs, MOE,
    # MOA). One query joining all seven took PostgreSQL's planner longer than the seven small ones.
    change = InvoiceStatusChange.objects.select_related("invoice").filter(pk=status_change_id).first()
    if change is None:
        logger.warning("Changement de statut %s introuvable (transaction annulée ?)", status_change_id)
        return
    _status_change_effects(change)


@task(priority=SIDE_EFFECTS_PRIORITY)
def invoice_status_changes(status_change_ids: list[int]) -> None:
    """`invoice_status_changed` for the changes of a flow's batch, in order, with one read (enqueued by
    core.tasks.tasks_batched). Each change's effects are independent: a failure is logged and the others go
    on; the task then fails, naming them, and a replay is safe (see above)."""
    from choeur.invoices.models import InvoiceStatusChange

    changes = InvoiceStatusChange.objects.select_related("invoice").in_bulk(status_change_ids)
    failed = []
    for change_id in status_change_ids:
        change = changes.get(change_id)
        if change is None:
            logger.warning("Changement de statut %s introuvable (transaction annulée ?)", change_id)
            continue
        try:
            _status_change_effects(change)
        except Exception:
            logger.exception("Effets du changement de statut %s en échec", change_id)
            failed.append(change_id)
    if failed:
        raise RuntimeError(f"Effets des changements de statut {failed} en échec (voir le journal).")


def _status_change_effects(change) -> None:
    from choeur.invoices.notifications import notify_status_change
    from choeur.invoices.signals import invoice_status_changed as status_changed_signal

    status_change_id = change.pk
    logger.info(
        "Facture %s (id %s) : %s → %s (%s)",
        change.invoice.number,
        change.invoice_id,
        change.from_status,
        change.to_status,
        change.transition,
    )
    try:
        notify_status_change(change)
    except Exception:
        # A mail server down must not keep the webhooks from leaving; the rows already made stay made.
        logger.exception("Notifications du changement de statut %s en échec", status_change_id)
    status_changed_signal.send(sender=type(change), change=change)
