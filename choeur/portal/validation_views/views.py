"""« Factures à valider »: the titulaire's (or mandataire's) queue of A9/A12 invoices, each with its 15-day
deadline, and the three answers (valider, refuser, « je ne suis pas le bon valideur »); on the supplier's
side, the page that names the right valideur after such an answer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from choeur.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from choeur.directory.models import Structure
from choeur.directory.selectors import structure_search
from choeur.invoices.enums import Channel, InvoiceStatus
from choeur.invoices.models import InvoiceStatusChange
from choeur.invoices.rendering import invoice_readable_file
from choeur.invoices.validation_circuit import (
    ERREUR_VALIDEUR,
    REFUS,
    VALIDATION,
    current_valideur,
    invoice_get_for_valideur,
    invoice_get_for_valideur_correction,
    invoice_validate,
    invoice_valideur_correct,
    invoices_valideur_to_correct,
    validation_days_left,
    validation_deadline,
    validation_level,
    validation_queue,
    validation_structures_of,
)
from choeur.portal.amounts import invoice_amounts
from choeur.portal.validation_views.forms import (
    DECISION_FORMS,
    RefuseForm,
    ValidateForm,
    ValideurChoiceForm,
    ValideurSearchForm,
    WrongValideurForm,
)

PER_PAGE = 50
SEARCH_LIMIT = 20
NAV = "validation"
# Days left from which the deadline is shown as close.
SOON = 3


def invoice_detail_url(invoice_id: int) -> str | None:
    # The invoice page belongs to another part of the portal; link to it once it exists.
    try:
        return reverse("portal:invoice_detail", args=[invoice_id])
    except NoReverseMatch:
        return None


def _deadline_badge(days_left: int | None) -> str:
    if days_left is None:
        return "info"
    if days_left < 0:
        return "error"
    if days_left <= SOON:
        return "warning"
    return "info"


def _row(invoice, now) -> dict:
    days_left = validation_days_left(invoice, now=now)
    return {
        "invoice": invoice,
        "level": validation_level(invoice),
        "deadline": validation_deadline(invoice),
        "days_left": days_left,
        "badge": _deadline_badge(days_left),
    }


@login_required
@require_GET
def invoices_to_validate_view(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    page_obj = Paginator(validation_queue(user=request.user), PER_PAGE).get_page(request.GET.get("page"))
    rows = [_row(invoice, now) for invoice in page_obj]
    return render(
        request,
        "portal/validation/queue.html",
        {
            "title": "Factures à valider",
            "nav_section": NAV,
            "page_obj": page_obj,
            "rows": rows,
            "has_espace": bool(validation_structures_of(request.user)),
            "to_correct": list(invoices_valideur_to_correct(user=request.user)),
        },
    )


def _decision_forms(invoice, data=None, bound: str | None = None) -> dict:
    forms = {}
    for decision, form_class in DECISION_FORMS.items():
        forms[decision] = form_class(data if decision == bound else None, invoice=invoice)
    return forms


def _detail(request: HttpRequest, invoice, forms: dict, *, status: int = 200) -> HttpResponse:
    now = timezone.now()
    valideur = current_valideur(invoice)
    return render(
        request,
        "portal/validation/detail.html",
        {
            "title": f"Facture à valider {invoice.number}",
            "nav_section": NAV,
            "invoice": invoice,
            "row": _row(invoice, now),
            "valideur": valideur,
            "lines": list(invoice.lines.all()),
            "amounts": invoice_amounts(invoice),
            "vat_lines": list(invoice.vat_lines.all()),
            "attachments": list(invoice.attachments.all()),
            "detail_url": invoice_detail_url(invoice.pk),
            "validate_form": forms[VALIDATION],
            "refuse_form": forms[REFUS],
            "wrong_form": forms[ERREUR_VALIDEUR],
        },
        status=status,
    )


def _invoice_or_404(request: HttpRequest, invoice_id: int):
    try:
        return invoice_get_for_valideur(user=request.user, invoice_id=invoice_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from None


@login_required
def invoice_to_validate_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice_or_404(request, invoice_id)
    if request.method != "POST":
        return _detail(request, invoice, _decision_forms(invoice))
    decision = request.POST.get(f"{_prefix(request)}-decision", "")
    if decision not in DECISION_FORMS:
        return _detail(request, invoice, _decision_forms(invoice), status=400)
    forms = _decision_forms(invoice, request.POST, bound=decision)
    form = forms[decision]
    if not form.is_valid():
        return _detail(request, invoice, forms, status=400)
    structure = current_valideur(invoice)
    try:
        result = invoice_validate(
            invoice=invoice,
            by=request.user,
            structure=structure,
            decision=decision,
            motif=form.cleaned_data.get("motif", ""),
            comment=form.cleaned_data.get("comment", ""),
            channel=Channel.PORTAIL,
            expected_status=form.cleaned_data["expected_status"],
            certified=bool(form.cleaned_data.get("certified")),
        )
    except ConflictError as exc:
        messages.error(request, f"{exc.message} Aucune modification n'a été faite.")
        return redirect("portal:invoices_to_validate")
    except PermissionDeniedError as exc:
        return _forbidden(request, exc.message)
    except ApplicationError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _detail(request, invoice, forms, status=400)
    messages.success(request, _success_message(result, decision))
    return redirect("portal:invoices_to_validate")


def _prefix(request: HttpRequest) -> str:
    # Each of the three forms posts its own prefix; the first one found says which decision was taken.
    for form_class in (ValidateForm, RefuseForm, WrongValideurForm):
        if f"{form_class.prefix_name}-decision" in request.POST:
            return form_class.prefix_name
    return ""


def _success_message(invoice, decision: str) -> str:
    if decision == VALIDATION:
        if invoice.status == InvoiceStatus.A_VALIDER_2:
            where = f"transmise au valideur de niveau 2, {invoice.valideur2.designation}"
        else:
            where = f"mise à disposition de {invoice.recipient.designation}"
        return f"Facture {invoice.number} validée : elle est {where}."
    if decision == REFUS:
        return (
            f"Facture {invoice.number} refusée : le fournisseur {invoice.supplier.designation} est informé du motif."
        )
    return (
        f"Facture {invoice.number} renvoyée au fournisseur {invoice.supplier.designation}, qui doit désigner le bon "
        "valideur."
    )


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(
        request,
        "portal/validation/forbidden.html",
        {"title": "Accès refusé", "nav_section": NAV, "message": message},
        status=403,
    )


def _file_response(stored, name: str, *, inline: bool) -> HttpResponse:
    response = HttpResponse(stored.read(), content_type=stored.mime_type or "application/octet-stream")
    disposition = "inline" if inline else "attachment"
    safe = name.replace('"', "").replace("\n", " ") or "document"
    response["Content-Disposition"] = f'{disposition}; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def invoice_to_validate_document_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The invoice document itself, for the valideur to read before answering."""
    invoice = _invoice_or_404(request, invoice_id)
    document = invoice_readable_file(invoice=invoice)  # rendered on demand for an XML-only deposit
    if document is None:
        raise Http404("Cette facture n'a pas de document.")
    is_pdf = document.mime_type == "application/pdf"
    return _file_response(document, invoice.main_document_name or f"{invoice.number}.pdf", inline=is_pdf)


@login_required
@require_GET
def invoice_to_validate_attachment_view(request: HttpRequest, invoice_id: int, attachment_id: int) -> HttpResponse:
    invoice = _invoice_or_404(request, invoice_id)
    attachment = invoice.attachments.filter(pk=attachment_id).select_related("file").first()
    if attachment is None:
        raise Http404("Pièce jointe introuvable.")
    return _file_response(attachment.file, attachment.name, inline=False)


# --- Supplier side: correct the valideur ---------------------------------------------------------------


def _correction_or_404(request: HttpRequest, invoice_id: int):
    try:
        return invoice_get_for_valideur_correction(user=request.user, invoice_id=invoice_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from None


def _search(request: HttpRequest, invoice) -> tuple[ValideurSearchForm, list[dict] | None]:
    form = ValideurSearchForm(request.GET if "q" in request.GET else None)
    if not form.is_bound or not form.is_valid():
        return form, None
    try:
        found = list(structure_search(query=form.cleaned_data["q"]).filter(is_active=True)[:SEARCH_LIMIT])
    except ApplicationError as exc:
        form.add_error("q", exc.message)
        return form, None
    results = [
        {
            "structure": structure,
            "services": [s for s in structure.services.all().order_by("code") if s.is_currently_active()],
            "is_supplier": structure.pk == invoice.supplier_id,
        }
        for structure in found
    ]
    return form, results


def _declined(invoice) -> InvoiceStatusChange | None:
    return (
        InvoiceStatusChange.objects.filter(invoice=invoice, to_status=invoice.status)
        .select_related("actor_structure")
        .order_by("-created_at", "-id")
        .first()
    )


def _correct_page(request: HttpRequest, invoice, *, error: str = "", status: int = 200) -> HttpResponse:
    search_form, results = _search(request, invoice)
    level = 1 if invoice.status == InvoiceStatus.ERREUR_FOURNISSEUR_SUR_VALIDEUR else 2
    context = {
        "title": f"Corriger le valideur de la facture {invoice.number}",
        "nav_section": NAV,
        "invoice": invoice,
        "level": level,
        "declined_by": invoice.valideur if level == 1 else invoice.valideur2,
        "declined": _declined(invoice),
        "search_form": search_form,
        "results": results,
        "error": error,
        "detail_url": invoice_detail_url(invoice.pk),
    }
    partial = request.htmx and not request.htmx.history_restore_request and request.method == "GET"
    template = "portal/validation/_valideur_results.html" if partial else "portal/validation/correct.html"
    return render(request, template, context, status=status)


@login_required
def invoice_valideur_correct_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _correction_or_404(request, invoice_id)
    if request.method != "POST":
        return _correct_page(request, invoice)
    form = ValideurChoiceForm(request.POST)
    if not form.is_valid():
        return _correct_page(
            request, invoice, error="Choisissez le valideur dans les résultats de la recherche.", status=400
        )
    valideur = Structure.objects.filter(pk=form.cleaned_data["valideur"]).first()
    if valideur is None:
        return _correct_page(request, invoice, error="Structure introuvable : relancez la recherche.", status=400)
    service = None
    if form.cleaned_data.get("service"):
        service = valideur.services.filter(pk=form.cleaned_data["service"]).first()
        if service is None:
            return _correct_page(
                request, invoice, error=f"Ce service n'appartient pas à {valideur.designation}.", status=400
            )
    try:
        result = invoice_valideur_correct(
            invoice=invoice,
            by=request.user,
            structure=invoice.supplier,
            valideur=valideur,
            valideur_service=service,
            channel=Channel.PORTAIL,
            expected_status=form.cleaned_data["expected_status"],
        )
    except ConflictError as exc:
        messages.error(request, f"{exc.message} Aucune modification n'a été faite.")
        return redirect("portal:invoices_to_validate")
    except PermissionDeniedError as exc:
        return _forbidden(request, exc.message)
    except ApplicationError as exc:
        return _correct_page(request, invoice, error=exc.message, status=400)
    messages.success(
        request,
        f"Facture {result.number} transmise à {valideur.designation}, qui a 15 jours pour la valider.",
    )
    return redirect("portal:invoices_to_validate")
