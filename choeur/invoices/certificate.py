"""The certificat de dépôt: proof, for the supplier, that an invoice was received and when.

Chorus Pro produces one when « Valider et envoyer » succeeds (chorus-pro.md §5.4). Its timestamp is the
start of the legal payment clock (délai global de paiement, payment_clock.py), so it states it with its
time zone; the SHA-256 fingerprint of the invoice document lets anyone check later that the document
kept by the platform is the one deposited. The PDF is PDF/A-2b (archival), rendered with WeasyPrint.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from choeur.invoices.computations import format_amount
from choeur.invoices.enums import ModeDepot
from choeur.invoices.facturx import render_html_pdf
from choeur.invoices.models import Invoice


def make_certificate_number(invoice: Invoice) -> str:
    """`CD-AAAAMMJJ-<id>`: unique by construction (the invoice id), readable over the phone."""
    local = timezone.localtime(invoice.deposited_at)
    return f"CD-{local:%Y%m%d}-{invoice.pk:010d}"


def certificate_data(invoice: Invoice, *, deposited_by_label: str = "") -> dict:
    """What the certificate states (also kept in the invoice's snapshot, for the API)."""
    local = timezone.localtime(invoice.deposited_at)
    offset = local.strftime("%z")
    snapshot = invoice.snapshot or {}
    supplier = snapshot.get("supplier") or {}
    recipient = snapshot.get("recipient") or {}
    valideur = snapshot.get("valideur")
    currency = invoice.currency
    return {
        "certificate_id": make_certificate_number(invoice),
        "deposited_at": local.isoformat(timespec="seconds"),
        "deposited_at_display": f"{local:%d/%m/%Y à %H:%M:%S} (heure de Paris, UTC{offset[:3]}:{offset[3:]})",
        "document_sha256": invoice.document_sha256,
        # The certified document: the main document, else (an XML-only deposit) the structured XML.
        "document_name": (
            invoice.main_document_name
            or (f"{invoice.number}.xml" if invoice.structured_xml_id else f"{invoice.number}.pdf")
        ),
        "document_size": (
            invoice.main_document.size
            if invoice.main_document_id
            else (invoice.structured_xml.size if invoice.structured_xml_id else None)
        ),
        "structured_xml_sha256": invoice.structured_xml.sha256 if invoice.structured_xml_id else "",
        "number": invoice.number,
        "invoice_date": invoice.invoice_date.strftime("%d/%m/%Y") if invoice.invoice_date else "",
        "invoice_type": invoice.get_invoice_type_display(),
        "cadre": invoice.get_cadre_display(),
        "supplier": f"{supplier.get('raison_sociale', '')} — {supplier.get('identifier_type', '')} "
        f"{supplier.get('identifier', '')}",
        "recipient": f"{recipient.get('raison_sociale', '')} — {recipient.get('identifier_type', '')} "
        f"{recipient.get('identifier', '')}",
        "recipient_service": (
            f"{recipient['service']['code']} — {recipient['service']['libelle']}" if recipient.get("service") else ""
        ),
        "valideur": f"{valideur['raison_sociale']} — {valideur['identifier']}" if valideur else "",
        "total_ht": format_amount(invoice.total_ht, currency),
        "total_tva": format_amount(invoice.total_tva, currency),
        "total_ttc": format_amount(invoice.total_ttc, currency),
        "montant_a_payer": format_amount(invoice.montant_a_payer, currency),
        "mode_depot": ModeDepot(invoice.mode_depot).label if invoice.mode_depot in ModeDepot.values else "",
        "numero_flux_depot": invoice.numero_flux_depot,
        "deposited_by": deposited_by_label,
        "payment_delay_days": snapshot.get("payment_delay_days"),
    }


def render_certificate(data: dict) -> bytes:
    """The certificate as a PDF/A-2b document."""
    html = render_to_string("invoices/certificate.html", {"c": data})
    return render_html_pdf(html, pdf_variant="pdf/a-2b")
