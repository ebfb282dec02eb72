"""Step 4 (attachments and the invoice document) and step 5 (summary, pré-contrôle, « Valider et envoyer »)
of the saisie."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.invoices.amounts import computed_totals
from choeur.invoices.cadres import cadre_rule
from choeur.invoices.checks import Finding, recipient_requirements
from choeur.invoices.computations import format_rate
from choeur.invoices.enums import Channel
from choeur.invoices.models import Invoice
from choeur.invoices.selectors import (
    can_issue_for,
)
from choeur.invoices.services import (
    invoice_attachment_add,
    invoice_attachment_remove,
    invoice_main_document_set,
    invoice_precheck,
    invoice_send,
)
from choeur.portal.amounts import invoice_amounts
from choeur.portal.invoices_views.common import (
    LAST_STEP,
    STEP_LABELS,
    _action,
    _add_error,
    _after_save,
    _detail_url,
    _draft_for_write,
    _findings_by_step,
    _forbidden,
    _int,
    _money,
    _next_step_data,
    _no_issuer_message,
    _NoWrite,
    _number_text,
    _save,
    _step_context,
    _step_url,
)
from choeur.portal.invoices_views.engagements import overrun_warning
from choeur.portal.invoices_views.forms import (
    AttachmentForm,
    MainDocumentForm,
    SendForm,
    TemplateSaveForm,
)


def _step_attachments(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    document_form = MainDocumentForm()
    attachment_form = AttachmentForm()
    status = 200
    if request.method == "POST":
        action = _action(request)
        if action == "document":
            document_form = MainDocumentForm(request.POST, request.FILES)
            if document_form.is_valid():
                uploaded = document_form.cleaned_data["document"]
                try:
                    invoice_main_document_set(
                        invoice=invoice, by=request.user, name=uploaded.name, content=uploaded.read()
                    )
                except ApplicationError as exc:
                    _add_error(document_form, "document", exc.message)
                else:
                    messages.success(request, f"Document de la facture « {uploaded.name} » enregistré.")
                    return redirect(_step_url(invoice, 4))
        elif action == "attachment":
            attachment_form = AttachmentForm(request.POST, request.FILES)
            if attachment_form.is_valid():
                uploaded = attachment_form.cleaned_data["fichier"]
                try:
                    invoice_attachment_add(
                        invoice=invoice,
                        by=request.user,
                        name=uploaded.name,
                        content=uploaded.read(),
                        type_code=attachment_form.cleaned_data["type_code"],
                    )
                except ApplicationError as exc:
                    _add_error(attachment_form, "fichier", exc.message)
                else:
                    messages.success(request, f"Pièce jointe « {uploaded.name} » ajoutée.")
                    return redirect(_step_url(invoice, 4))
        elif action.startswith("remove:"):
            attachment = invoice.attachments.filter(pk=_int(action.split(":", 1)[1])).first()
            if attachment is None:
                raise Http404("Pièce jointe introuvable.")
            try:
                invoice_attachment_remove(attachment=attachment, by=request.user)
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"Pièce jointe « {attachment.name} » retirée.")
            return redirect(_step_url(invoice, 4))
        else:
            try:
                invoice = _save(request, invoice, _next_step_data(invoice, 4, action))
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                return _after_save(request, invoice, 4, action)
        status = 400
    return render(
        request,
        "portal/invoices/step_attachments.html",
        _step_context(
            invoice,
            4,
            document_form=document_form,
            attachment_form=attachment_form,
            attachments=list(invoice.attachments.select_related("file")),
        ),
        status=status,
    )


def _summary_context(invoice: Invoice, findings: list[Finding] | None = None) -> dict:
    lines = list(invoice.lines.order_by("position"))
    cur = invoice.currency
    rows = [
        {
            "line": line,
            "quantity": _number_text(line.quantity),
            "unit": line.get_unit_display(),
            "unit_price": _money(line.unit_price_ht, cur),
            "discount": _money(line.discount_ht, cur) if line.discount_ht else "",
            "rate": format_rate(line.vat_rate),
            "net": _money(line.line_net_ht, cur),
        }
        for line in lines
    ]
    computed = None
    if invoice.is_draft and lines and not invoice.amounts_from_document:
        computed = computed_totals(invoice, lines)
        vat_rows = [(r.rate, r.base_ht, r.vat_amount) for r in computed.vat_breakdown]
    else:
        vat_rows = [(v.rate, v.base_ht, v.vat_amount) for v in invoice.vat_lines.all()]
    detail = invoice_amounts(invoice, computed=computed)
    for row in rows:
        row["details"] = detail["line_details"].get(row["line"].pk, "")
    grouped = _findings_by_step(findings) if findings is not None else {}
    return {
        "rows": rows,
        "amount_detail": detail,
        "vat_rows": [{"rate": format_rate(r), "base": _money(b, cur), "vat": _money(v, cur)} for r, b, v in vat_rows],
        "amounts": {
            "total_ht": _money(invoice.total_ht, cur),
            "total_tva": _money(invoice.total_tva, cur),
            "total_ttc": _money(invoice.total_ttc, cur),
            "remise": _money(invoice.remise_globale_ttc, cur) if invoice.remise_globale_ttc else "",
            "net": _money(invoice.montant_a_payer, cur),
        },
        "attachments": list(invoice.attachments.all()),
        "findings": findings or [],
        "findings_by_step": [
            {"step": step, "label": STEP_LABELS[step], "url": _step_url(invoice, step, controle=1), "items": items}
            for step, items in sorted(grouped.items())
        ],
        "cadre": cadre_rule(invoice.cadre) if invoice.cadre else None,
        "recipient_requirements": recipient_requirements(invoice.recipient, invoice.recipient_service),
        "detail_url": _detail_url(invoice) if not invoice.is_draft else "",
        "generates_document": invoice.main_document_id is None,
        "engagement_warning": overrun_warning(invoice) if invoice.is_draft else "",
    }


def _summary(
    request: HttpRequest, invoice: Invoice, *, send_form=None, error: str = "", findings=None, status: int = 200
) -> HttpResponse:
    if invoice.is_draft and findings is None:
        findings = invoice_precheck(invoice=invoice)
    context = _step_context(
        invoice,
        LAST_STEP,
        send_form=send_form or SendForm(),
        template_form=TemplateSaveForm(),
        send_error=error,
        precheck_requested=bool(request.GET.get("precontrole")),
        can_write=can_issue_for(user=request.user, structure=invoice.supplier),
        **_summary_context(invoice, findings),
    )
    if not invoice.is_draft:
        context["title"] = f"Facture {invoice.number} envoyée"
    return render(request, "portal/invoices/summary.html", context, status=status)


@login_required
@require_POST
def invoice_draft_send(request: HttpRequest, pk: int) -> HttpResponse:
    """« Valider et envoyer »: runs every check, generates the Factur-X when no document was deposited,
    deposits, certifies and routes. Any refusal leaves the draft as it was."""
    try:
        invoice = _draft_for_write(request, pk)
    except _NoWrite:
        return _forbidden(request, _no_issuer_message())
    if not invoice.is_draft:
        messages.info(request, f"La facture {invoice.number} a déjà été envoyée.")
        return redirect(_detail_url(invoice))
    form = SendForm(request.POST)
    if not form.is_valid():
        return _summary(request, invoice, send_form=form, status=400)
    try:
        sent = invoice_send(invoice=invoice, by=request.user, channel=Channel.PORTAIL)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc.message)
    except ApplicationError as exc:
        invoice.refresh_from_db()
        findings = [Finding(**item) for item in exc.extra.get("findings", [])] or None
        return _summary(request, invoice, send_form=form, error=exc.message, findings=findings, status=400)
    where = sent.valideur.designation if sent.valideur_id and sent.status == "A_VALIDER_1" else None
    deposited = timezone.localtime(sent.deposited_at)
    waiting = f", en attente de validation par {where}" if where else ""
    messages.success(
        request,
        f"Facture {sent.number} envoyée le {deposited:%d/%m/%Y à %H:%M} : statut « {sent.get_status_display()} »"
        f"{waiting}. Certificat de dépôt n° {sent.certificate_number}.",
    )
    return redirect(_detail_url(sent))
