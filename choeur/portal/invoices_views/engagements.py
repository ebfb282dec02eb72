"""The engagements juridiques the saisie proposes: those the chosen recipient (and service) addressed to the
supplier, with what remains of each, and the warning when the invoice exceeds what remains."""

from __future__ import annotations

from choeur.invoices import engagement_selectors as selectors
from choeur.invoices.computations import format_amount
from choeur.invoices.models import Invoice

DATALIST_ID = "engagements-proposes"


def proposed_engagements(invoice: Invoice, recipient, service=None) -> list[dict]:
    rows = selectors.engagements_proposed(supplier=invoice.supplier, recipient=recipient, service=service)
    return [
        {
            "number": row.engagement.number,
            "label": row.engagement.label or row.engagement.get_type_display(),
            "service": row.engagement.service.code if row.engagement.service_id else "",
            "amount": format_amount(row.engagement.amount_ttc, row.engagement.currency),
            "remaining": format_amount(row.remaining, row.engagement.currency),
            "exhausted": row.remaining <= 0,
        }
        for row in rows
    ]


def offer_on_form(form, invoice: Invoice) -> list[dict]:
    """The EJs proposed for the references step; the number field suggests them (HTML datalist)."""
    engagements = proposed_engagements(invoice, invoice.recipient, invoice.recipient_service)
    if engagements and "numero_engagement" in form.fields:
        form.fields["numero_engagement"].widget.attrs["list"] = DATALIST_ID
    return engagements


def overrun_warning(invoice: Invoice) -> str:
    """A French warning when the invoice exceeds what remains of its EJ, or carries a number the recipient did
    not address to this supplier while it records its EJs here; an empty string otherwise. It does not block
    the sending: the buyer decides (chorus-pro.md §8.6 checks the number, not the amount)."""
    number = (invoice.numero_engagement or "").strip()
    if number and invoice.recipient_id and selectors.engagement_for_invoice(invoice) is None:
        proposed = proposed_engagements(invoice, invoice.recipient, invoice.recipient_service)
        if proposed:
            return (
                f"Le numéro d'engagement « {number} » ne correspond à aucun engagement ouvert que "
                f"{invoice.recipient.designation} vous a adressé (proposés : "
                f"{', '.join(ej['number'] for ej in proposed[:5])}). Vérifiez-le à l'étape « Références »."
            )
    found = selectors.engagement_overrun(invoice)
    if found is None:
        return ""
    row, excess = found
    currency = row.engagement.currency
    left, amount = format_amount(max(row.remaining, 0), currency), format_amount(row.engagement.amount_ttc, currency)
    return (
        f"Cette facture ({format_amount(invoice.total_ttc, invoice.currency)} TTC) dépasse de "
        f"{format_amount(excess, currency)} ce qui reste de l'engagement {row.engagement.number} "
        f"({left} sur {amount}). "
        "Vous pouvez l'envoyer ; le destinataire pourra la suspendre ou la rejeter : vérifiez le montant ou "
        "demandez un avenant à l'engagement."
    )
