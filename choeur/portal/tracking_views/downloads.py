"""Authorised downloads of one invoice: its document, deposit certificate, XML, audit trail (PDF, JSON) and
attachments. A recipient's download marks the invoice « téléchargée »; nothing uploaded is ever served as
HTML in our origin."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from choeur.invoices.enums import Channel, InvoiceEventAction
from choeur.invoices.lifecycle import invoice_audit_trail_json, invoice_audit_trail_pdf
from choeur.invoices.models import Invoice
from choeur.invoices.rendering import invoice_certificate_file, invoice_readable_file
from choeur.invoices.services import invoice_event_record
from choeur.portal.tracking_views.views import Viewer, _load

DOWNLOAD_KINDS = ("document", "certificat", "xml", "piste-pdf", "piste-json")


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_.+" else "-" for c in name)
    return cleaned.strip(".") or "document"


def file_response(content: bytes, *, filename: str, mime: str) -> HttpResponse:
    # Never let the browser render an uploaded HTML or SVG in our origin: anything not a PDF, an image or
    # XML goes out as a plain download.
    safe_types = {"application/pdf", "application/xml", "image/png", "image/jpeg", "image/gif", "application/json"}
    response = HttpResponse(content, content_type=mime if mime in safe_types else "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{_safe(filename)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _record_download(request: HttpRequest, invoice: Invoice, viewer: Viewer, kind: str) -> None:
    """A recipient's download of the invoice marks it « téléchargée »; a supplier's download of its deposit
    certificate is logged too."""
    if kind in ("document", "xml") and viewer.recipient is not None:
        invoice_event_record(
            invoice=invoice,
            action=InvoiceEventAction.TELECHARGEMENT_FACTURE,
            actor=request.user,
            actor_structure=viewer.recipient,
            channel=Channel.PORTAIL,
            data={"document": kind},
        )
    elif kind == "certificat" and viewer.supplier is not None:
        invoice_event_record(
            invoice=invoice,
            action=InvoiceEventAction.TELECHARGEMENT_CERTIFICAT,
            actor=request.user,
            actor_structure=viewer.supplier,
            channel=Channel.PORTAIL,
        )


@login_required
@require_GET
def invoice_download_view(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    invoice, viewer = _load(request, pk)
    if kind not in DOWNLOAD_KINDS or not viewer.may_download:
        raise Http404("Document introuvable.")
    number = invoice.number or f"brouillon-{invoice.pk}"
    if kind == "piste-json":
        if invoice.is_draft:
            raise Http404("Un brouillon n'a pas de piste d'audit.")
        body = json.dumps(
            invoice_audit_trail_json(invoice=invoice, for_supplier=viewer.sees_as_supplier),
            ensure_ascii=False,
            indent=2,
            default=str,
        )
        return file_response(body.encode(), filename=f"piste-audit-{number}.json", mime="application/json")
    if kind == "piste-pdf":
        if invoice.is_draft:
            raise Http404("Un brouillon n'a pas de piste d'audit.")
        return file_response(
            invoice_audit_trail_pdf(invoice=invoice, for_supplier=viewer.sees_as_supplier),
            filename=f"piste-audit-{number}.pdf",
            mime="application/pdf",
        )
    # A structured deposit's PDFs may not be rendered yet (invoices/rendering.py): render them on demand.
    if kind == "document":
        stored = invoice_readable_file(invoice=invoice)
        filename = invoice.main_document_name or f"{number}.pdf"
    elif kind == "certificat":
        stored, filename = invoice_certificate_file(invoice=invoice), f"certificat-depot-{number}.pdf"
    else:
        stored, filename = invoice.structured_xml, f"{number}.xml"
    if stored is None:
        raise Http404("Ce document n'existe pas pour cette facture.")
    content = stored.read()
    _record_download(request, invoice, viewer, kind)
    return file_response(content, filename=filename, mime=stored.mime_type)


@login_required
@require_GET
def invoice_attachment_download_view(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    invoice, viewer = _load(request, pk)
    if not viewer.may_download:
        raise Http404("Document introuvable.")
    attachment = invoice.attachments.select_related("file").filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("Pièce jointe introuvable.")
    return file_response(attachment.file.read(), filename=attachment.name, mime=attachment.file.mime_type)
