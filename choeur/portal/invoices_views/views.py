"""« Saisir une facture » (a five-step wizard over a BROUILLON) and « Déposer une facture » (a PDF or a
structured file that prefills a draft). Every write goes through `choeur.invoices.services` (or
`drafting`); every read is bounded to the user's structures; the pré-contrôle's findings are shown on the
field they name.

Split by operation family: this module (new draft, templates, copy, delete, dépôt, the step dispatcher),
`common.py` (helpers), `step_parties.py` (steps 1–2 and the live party blocks), `step_lines.py` (step 3 and
the live totals), `step_send.py` (steps 4–5 and sending)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.directory.models import Structure
from choeur.invoices import drafting
from choeur.invoices.enums import ModeDepot
from choeur.invoices.models import InvoiceTemplate
from choeur.invoices.selectors import (
    can_issue_for,
    invoice_drafts,
    invoice_templates,
    structures_of,
)
from choeur.invoices.services import (
    invoice_draft_create,
    invoice_draft_delete,
    invoice_duplicate,
    invoice_template_apply,
    invoice_template_delete,
    invoice_template_save,
)
from choeur.portal.invoices_views.common import (
    LAST_STEP,
    NAV,
    STEP_LABELS,
    _apply_error,
    _detail_url,
    _draft_for_write,
    _forbidden,
    _issued_or_404,
    _issuing_structures,
    _no_issuer_message,
    _NoWrite,
    _step_url,
)
from choeur.portal.invoices_views.forms import (
    SupplierChoiceForm,
    TemplateSaveForm,
    UploadForm,
)
from choeur.portal.invoices_views.prefill import UploadRefused, read_upload
from choeur.portal.invoices_views.step_lines import _step_lines
from choeur.portal.invoices_views.step_parties import _step_parties, _step_references
from choeur.portal.invoices_views.step_send import _step_attachments, _summary

# --- New invoice, drafts, templates --------------------------------------------------------------------


@login_required
def invoice_new(request: HttpRequest) -> HttpResponse:
    """« Saisir une facture »: choose the issuing structure, then a new draft opens on step 1. Also lists
    the drafts to resume and the templates to start from."""
    structures = _issuing_structures(request.user)
    if not structures:
        return _forbidden(request, _no_issuer_message())
    by_pk = {s.pk: s for s in structures}
    form = SupplierChoiceForm(request.POST or None, structures=structures)
    if request.method == "POST" and form.is_valid():
        try:
            invoice = invoice_draft_create(
                supplier=by_pk[form.cleaned_data["supplier"]], by=request.user, mode_depot=ModeDepot.SAISIE_WEB
            )
        except ApplicationError as exc:
            _apply_error(form, exc)
        else:
            return redirect(_step_url(invoice, 1))
    templates = [t for s in structures for t in invoice_templates(supplier=s)]
    return render(
        request,
        "portal/invoices/new.html",
        {
            "title": "Saisir une facture",
            "nav_section": NAV,
            "form": form,
            "drafts": invoice_drafts(user=request.user).filter(supplier__in=structures)[:50],
            "templates": templates,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def invoice_template_use(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template_or_404(request, pk)
    try:
        invoice = invoice_template_apply(template=template, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal:invoice_new")
    messages.success(request, f"Nouvelle facture créée depuis le modèle « {template.name} » : complétez-la.")
    return redirect(_step_url(invoice, 1))


@login_required
@require_POST
def invoice_template_remove(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template_or_404(request, pk)
    try:
        invoice_template_delete(template=template, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Modèle « {template.name} » supprimé.")
    return redirect("portal:invoice_new")


def _template_or_404(request: HttpRequest, pk: int) -> InvoiceTemplate:
    template = InvoiceTemplate.objects.filter(pk=pk, supplier__in=structures_of(request.user)).first()
    if template is None:
        raise Http404("Modèle introuvable.")
    return template


@login_required
@require_POST
def invoice_template_create(request: HttpRequest, pk: int) -> HttpResponse:
    """« Enregistrer comme modèle »: the routing, content and lines of this invoice (draft or sent)."""
    invoice = _issued_or_404(request, pk)
    form = TemplateSaveForm(request.POST)
    back = _step_url(invoice, LAST_STEP) if invoice.is_draft else _detail_url(invoice)
    if not form.is_valid():
        messages.error(request, "Nom du modèle : donnez un nom au modèle pour l'enregistrer.")
        return redirect(back)
    try:
        template = invoice_template_save(invoice=invoice, by=request.user, name=form.cleaned_data["name"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Modèle « {template.name} » enregistré : retrouvez-le dans « Saisir une facture » pour une "
            "prochaine facture.",
        )
    return redirect(back)


@login_required
@require_POST
def invoice_copy(request: HttpRequest, pk: int) -> HttpResponse:
    """« Dupliquer »: a new draft from any invoice of the user's structures, sent or not."""
    invoice = _issued_or_404(request, pk)
    try:
        draft = invoice_duplicate(invoice=invoice, by=request.user)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc.message)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(_detail_url(invoice))
    label = f"la facture {invoice.number}" if invoice.number else "le brouillon"
    messages.success(request, f"Copie de {label} créée en brouillon : indiquez son numéro et sa date.")
    return redirect(_step_url(draft, 1))


@login_required
def invoice_draft_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        invoice = _draft_for_write(request, pk)
    except _NoWrite:
        return _forbidden(request, _no_issuer_message())
    if not invoice.is_draft:
        messages.error(request, "Une facture envoyée ne se supprime pas : émettez un avoir pour l'annuler.")
        return redirect(_detail_url(invoice))
    if request.method == "POST":
        try:
            invoice_draft_delete(invoice=invoice, by=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(_step_url(invoice, LAST_STEP))
        messages.success(request, "Brouillon supprimé.")
        return redirect("portal:invoice_new")
    return render(
        request,
        "portal/invoices/delete.html",
        {"title": "Supprimer le brouillon", "nav_section": NAV, "invoice": invoice},
    )


# --- Dépôt --------------------------------------------------------------------------------------------


@login_required
def invoice_upload(request: HttpRequest) -> HttpResponse:
    """« Déposer une facture »: a structured file prefills a new draft, a plain PDF becomes its document."""
    structures = _issuing_structures(request.user)
    if not structures:
        return _forbidden(request, _no_issuer_message())
    by_pk = {s.pk: s for s in structures}
    form = UploadForm(request.POST or None, request.FILES or None, structures=structures)
    if request.method == "POST" and form.is_valid():
        supplier = by_pk[form.cleaned_data["supplier"]]
        uploaded = form.cleaned_data["fichier"]
        content = uploaded.read()
        try:
            reading = read_upload(content)
            if reading.structured:
                invoice, notes = drafting.invoice_draft_create_from_data(
                    supplier=supplier,
                    by=request.user,
                    data=reading.draft_data(),
                    mode_depot=ModeDepot.UPLOAD_PORTAIL,
                    main_document=content if reading.kind == "facturx" else None,
                    main_document_name=uploaded.name,
                    structured_xml=reading.xml,
                )
            else:
                invoice = drafting.invoice_draft_create_from_pdf(
                    supplier=supplier, by=request.user, name=uploaded.name, content=content
                )
                notes = []
        except UploadRefused as exc:
            form.add_error("fichier", exc.message)
        except PermissionDeniedError as exc:
            return _forbidden(request, exc.message)
        except ApplicationError as exc:
            form.add_error("fichier", exc.message)
        else:
            for note in reading.notes + notes + _supplier_notes(reading, supplier):
                messages.warning(request, note)
            if reading.structured:
                messages.success(
                    request,
                    f"Facture {invoice.number or ''} lue ({reading.profile}) : les données du fichier ont été "
                    "reprises dans un brouillon. Vérifiez-les, complétez ce qui manque, puis validez et envoyez.",
                )
                return redirect(_step_url(invoice, LAST_STEP))
            messages.success(
                request,
                "PDF enregistré comme document de la facture : saisissez maintenant les données qu'il porte "
                "(destinataire, références, lignes).",
            )
            return redirect(_step_url(invoice, 1))
    return render(
        request,
        "portal/invoices/upload.html",
        {"title": "Déposer une facture", "nav_section": NAV, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _supplier_notes(reading, supplier: Structure) -> list[str]:
    if reading.data is None:
        return []
    siret = reading.data.supplier.siret
    if siret and siret != supplier.identifier:
        return [
            f"Fournisseur : le fichier est émis par le SIRET {siret}, pas par {supplier.designation} "
            f"({supplier.identifier}). Vérifiez que vous déposez la facture pour la bonne structure."
        ]
    return []


# --- The wizard ---------------------------------------------------------------------------------------


@login_required
def invoice_draft_step(request: HttpRequest, pk: int, step: int) -> HttpResponse:
    if step not in STEP_LABELS:
        raise Http404("Étape inconnue.")
    invoice = _issued_or_404(request, pk)
    if not invoice.is_draft:
        if step == LAST_STEP:
            return _summary(request, invoice)
        return redirect(_detail_url(invoice))
    if not can_issue_for(user=request.user, structure=invoice.supplier):
        return _forbidden(request, _no_issuer_message())
    handler = {1: _step_parties, 2: _step_references, 3: _step_lines, 4: _step_attachments, 5: _summary}[step]
    return handler(request, invoice)
