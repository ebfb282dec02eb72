"""Human-readable renderings that may come after a deposit: the certificat de dépôt PDF and, for an invoice
deposited as XML only, a readable Factur-X PDF.

Why after: WeasyPrint takes a few hundred milliseconds per PDF, twenty times the cost of validating and
integrating an invoice. A flow of thousands of invoices must not wait for them (issue « dépôt de flux »: ≥ 50
invoices/s). What the certificate *states* — deposit timestamp, fingerprint, parties, amounts — is fixed at
deposit in `invoice.snapshot["certificate"]`; the PDF only renders it, so rendering it later changes nothing
it proves. A low-priority task renders both after the commit; any reader that needs a file before the task
ran (a download) renders it on the spot. Both paths are idempotent: the conditional update keeps the first
file stored, whoever rendered it.
"""

from __future__ import annotations

import logging

from django.tasks import task

from choeur.core.files import file_store
from choeur.core.models import StoredFile
from choeur.invoices import facturx
from choeur.invoices.certificate import certificate_data, render_certificate
from choeur.invoices.models import Invoice

logger = logging.getLogger(__name__)

# Below the default priority (0): flows and status changes first, renderings when the workers are idle.
RENDER_PRIORITY = -20


def _safe_filename(number: str) -> str:
    return "".join(c if c.isalnum() or c in "-_+" else "-" for c in number) or "facture"


def invoice_certificate_file(*, invoice: Invoice) -> StoredFile | None:
    """The certificat de dépôt PDF of a sent invoice (rendered now if the background task has not yet)."""
    if invoice.certificate_id is not None:
        return invoice.certificate
    if invoice.deposited_at is None:
        return None
    data = (invoice.snapshot or {}).get("certificate") or certificate_data(invoice)
    stored = file_store(content=render_certificate(data), mime_type="application/pdf")
    # A queryset update, not save(): the certificate is frozen once set, and this only fills an empty slot.
    Invoice.objects.filter(pk=invoice.pk, certificate__isnull=True).update(certificate=stored)
    invoice.certificate_id = Invoice.objects.filter(pk=invoice.pk).values_list("certificate_id", flat=True).first()
    return StoredFile.objects.get(pk=invoice.certificate_id)


def invoice_readable_file(*, invoice: Invoice) -> StoredFile | None:
    """The invoice as a PDF: the deposited or generated document, else a Factur-X rendered from the
    deposited XML's data (the XML stays the original; its fingerprint is the one certified)."""
    if invoice.main_document_id is not None:
        return invoice.main_document
    if invoice.deposited_at is None:
        return None
    pdf, _xml = facturx.generate_facturx(invoice, snapshot=invoice.snapshot or {})
    stored = file_store(content=pdf, mime_type="application/pdf")
    Invoice.objects.filter(pk=invoice.pk, main_document__isnull=True).update(
        main_document=stored, main_document_name=f"{_safe_filename(invoice.number)}.pdf"
    )
    invoice.refresh_from_db(fields=["main_document", "main_document_name"])
    return invoice.main_document


@task(priority=RENDER_PRIORITY)
def invoice_render_documents(invoice_id: int) -> None:
    """Render what a deposit left for later (idempotent; a replay finds the files and returns)."""
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None:
        logger.warning("Facture %s introuvable : rendu des documents abandonné", invoice_id)
        return
    invoice_certificate_file(invoice=invoice)
    invoice_readable_file(invoice=invoice)


@task(priority=RENDER_PRIORITY)
def invoice_render_documents_many(invoice_ids: list[int]) -> None:
    """`invoice_render_documents` for a flow's batch (enqueued by core.tasks.tasks_batched)."""
    failed = []
    for invoice_id in invoice_ids:
        try:
            invoice_render_documents.call(invoice_id)
        except Exception:
            logger.exception("Rendu des documents de la facture %s en échec", invoice_id)
            failed.append(invoice_id)
    if failed:
        raise RuntimeError(f"Rendu des documents des factures {failed} en échec (voir le journal).")
