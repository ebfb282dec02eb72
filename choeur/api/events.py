"""Events of the native API: every invoice status change and every flow state change, recorded once per
structure concerned (`ApiEvent`), read by `/api/v1/events` and pushed to webhooks.

Sources (connected in `ApiConfig.ready`):
- `choeur.invoices.signals.invoice_status_changed` (sent after the commit of a transition);
- the audit entries of flows (`flows.flow.deposit`, `…process`…): flows change state with conditional
  UPDATEs that send no model signal, but each visible change writes one audit entry, in the same
  transaction as the change.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from choeur.api.models import ApiEvent
from choeur.invoices.enums import PRE_RECIPIENT_STATUSES, InvoiceStatus
from choeur.invoices.lifecycle import payment_status_hidden

logger = logging.getLogger(__name__)

# The flow audit actions that are state changes seen by the depositor.
FLOW_ACTIONS = {
    "flows.flow.deposit": "deposit",
    "flows.flow.redeposit": "redeposit",
    "flows.flow.process": "process",
    "flows.flow.reject": "reject",
    "flows.flow.incident": "incident",
}


def _invoice_audience(invoice, to_status: str) -> list[int]:
    """The structures that see the invoice after this change (the rule of `visible_to_structures`)."""
    ids = [invoice.supplier_id, invoice.valideur_id, invoice.valideur2_id, invoice.moe_id, invoice.moa_id]
    if to_status == InvoiceStatus.MISE_EN_PAIEMENT and payment_status_hidden(invoice):
        # The recipient does not report payments: only it learns of this one (lifecycle.status_for_supplier).
        ids = []
    if to_status not in PRE_RECIPIENT_STATUSES:
        ids.append(invoice.recipient_id)
    unique: list[int] = []
    for pk in ids:
        if pk is not None and pk not in unique:
            unique.append(pk)
    return unique


def _record(*, structure_ids: list[int], type: str, source: str, occurred_at, data: dict) -> list[ApiEvent]:
    """One event per structure; an already recorded (structure, source) is skipped (idempotence)."""
    events = []
    for structure_id in structure_ids:
        try:
            with transaction.atomic():
                event, _ = ApiEvent.objects.get_or_create(
                    structure_id=structure_id,
                    source=source,
                    defaults={"type": type, "occurred_at": occurred_at, "data": data},
                )
        except IntegrityError:
            # The same source recorded concurrently (a replayed task): the other writer's row is the event.
            event = ApiEvent.objects.get(structure_id=structure_id, source=source)
        events.append(event)
    return events


def invoice_event_record(*, change) -> list[ApiEvent]:
    """Record the events of one InvoiceStatusChange and queue their webhook deliveries."""
    from choeur.api.webhooks import deliveries_create_for

    invoice = change.invoice
    data = {
        "invoice": {
            "id": invoice.pk,
            "number": invoice.number,
            "invoice_type": invoice.invoice_type,
            "supplier_id": invoice.supplier_id,
            "recipient_id": invoice.recipient_id,
            "numero_flux_depot": invoice.numero_flux_depot,
        },
        "status_change_id": change.pk,
        "from_status": change.from_status,
        "to_status": change.to_status,
        "to_status_label": InvoiceStatus(change.to_status).label if change.to_status in InvoiceStatus.values else "",
        "transition": change.transition,
        "actor_role": change.actor_role,
        "channel": change.channel,
        "motif": change.motif,
    }
    events = _record(
        structure_ids=_invoice_audience(invoice, change.to_status),
        type=ApiEvent.Type.INVOICE_STATUS_CHANGED,
        source=f"invoice_status_change:{change.pk}",
        occurred_at=change.created_at,
        data=data,
    )
    deliveries_create_for(events)
    return events


def flow_event_record(*, entry) -> list[ApiEvent]:
    """Record the event of one flow audit entry (its structure only: flows are private to the depositor)."""
    from choeur.api.webhooks import deliveries_create_for
    from choeur.flows.models import Flow

    kind = FLOW_ACTIONS.get(entry.action)
    if kind is None or entry.target_type != "flows.flow" or not entry.target_id.isdigit():
        return []
    flow = Flow.objects.filter(pk=int(entry.target_id)).first()
    if flow is None:
        return []
    data = {
        "flow": {
            "id": flow.pk,
            "numero_flux_depot": flow.numero_flux_depot,
            "filename": flow.filename,
            "channel": flow.channel,
        },
        "action": kind,
        "state": flow.state,
        "state_label": flow.get_state_display(),
    }
    for key in ("factures", "integrees"):
        if key in entry.data:
            data[{"factures": "invoice_count", "integrees": "integrated_count"}[key]] = entry.data[key]
    events = _record(
        structure_ids=[flow.structure_id],
        type=ApiEvent.Type.FLOW_STATE_CHANGED,
        source=f"audit:{entry.pk}",
        occurred_at=entry.created_at,
        data=data,
    )
    deliveries_create_for(events)
    return events


def sollicitation_event_record(*, sollicitation, action: str, actor_role: str, event_key: str) -> list[ApiEvent]:
    """Record the event of a sollicitation's creation or action for its sender and recipient structures."""
    from choeur.api.webhooks import deliveries_create_for

    data = {
        "sollicitation": {
            "id": sollicitation.pk,
            "numero": sollicitation.numero,
            "category": sollicitation.category.code,
            "subcategory": sollicitation.subcategory.code,
            "sender_structure_id": sollicitation.sender_structure_id,
            "recipient_kind": sollicitation.recipient_kind,
            "recipient_structure_id": sollicitation.recipient_structure_id,
            "invoice_id": sollicitation.invoice_id,
        },
        "action": action,
        "actor_role": actor_role,
        "status": sollicitation.status,
        "status_label": sollicitation.get_status_display(),
    }
    ids = [pk for pk in (sollicitation.sender_structure_id, sollicitation.recipient_structure_id) if pk]
    events = _record(
        structure_ids=list(dict.fromkeys(ids)),
        type=ApiEvent.Type.SOLLICITATION_CHANGED,
        source=f"sollicitation:{event_key}",
        occurred_at=sollicitation.status_changed_at,
        data=data,
    )
    deliveries_create_for(events)
    return events


def on_sollicitation_event(sender, sollicitation=None, action="", actor_role="", event_key="", **kwargs) -> None:
    try:
        sollicitation_event_record(
            sollicitation=sollicitation, action=action, actor_role=actor_role, event_key=event_key
        )
    except Exception:  # an event must never break the sollicitation that was saved
        logger.exception("Événement de la sollicitation %s non enregistré", getattr(sollicitation, "pk", None))


def event_payload(event: ApiEvent) -> dict:
    """The JSON of an event, the same in the feed and in a webhook body."""
    return {
        "id": event.public_id,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "structure_id": event.structure_id,
        "data": event.data,
    }


# ---------------------------------------------------------------------------------------------------
# Signal receivers (connected in ApiConfig.ready)
# ---------------------------------------------------------------------------------------------------


def on_invoice_status_changed(sender, change=None, **kwargs) -> None:
    if change is None:
        return
    try:
        invoice_event_record(change=change)
    except Exception:
        # The status change is committed; an event that cannot be recorded must not fail the other side
        # effects (notifications) of the task that sent the signal.
        logger.exception("Événement d'API non enregistré pour le changement de statut %s", change.pk)


def on_audit_entry_saved(sender, instance=None, created=False, **kwargs) -> None:
    if not created or instance is None or instance.action not in FLOW_ACTIONS:
        return
    # Inside the transaction of the flow's change: the event commits (or rolls back) with it. A failure
    # here is confined to a savepoint so that it never undoes the flow's own change.
    try:
        with transaction.atomic():
            flow_event_record(entry=instance)
    except Exception:
        logger.exception("Événement d'API non enregistré pour l'entrée d'audit %s", instance.pk)
