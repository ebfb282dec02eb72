"""« Saisir une facture » (a five-step wizard over a BROUILLON) and « Déposer une facture » (a PDF or a
structured file that prefills a draft). Every write goes through `choeur.invoices.services` (or
`drafting`); every read is bounded to the user's structures; the pré-contrôle's findings are shown on the
field they name."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.directory.models import Structure
from choeur.invoices import drafting
from choeur.invoices.amounts import computed_totals
from choeur.invoices.cadres import VALIDEUR_CADRES, cadre_rule
from choeur.invoices.checks import Finding, recipient_requirements
from choeur.invoices.computations import compute_totals, format_amount, format_rate
from choeur.invoices.enums import Cadre, Channel, ModeDepot
from choeur.invoices.models import Invoice, InvoiceTemplate
from choeur.invoices.selectors import (
    can_issue_for,
    invoice_drafts,
    invoice_templates,
    invoices_issued,
    structures_of,
)
from choeur.invoices.services import (
    invoice_attachment_add,
    invoice_attachment_remove,
    invoice_draft_create,
    invoice_draft_delete,
    invoice_draft_update,
    invoice_duplicate,
    invoice_main_document_set,
    invoice_precheck,
    invoice_send,
    invoice_template_apply,
    invoice_template_delete,
    invoice_template_save,
)
from choeur.portal.amounts import invoice_amounts
from choeur.portal.invoices_views.engagements import DATALIST_ID, offer_on_form, overrun_warning, proposed_engagements
from choeur.portal.invoices_views.forms import (
    ALLOWANCE_CHARGE_FIELDS,
    LINE_FIELDS,
    NATURE_CHARGE,
    VAT_RATE_HINTS,
    AllowanceChargeForm,
    AllowanceChargeFormSet,
    AttachmentForm,
    DiscountForm,
    LineForm,
    LineFormSet,
    MainDocumentForm,
    PartiesForm,
    ReferencesForm,
    SendForm,
    SupplierChoiceForm,
    TemplateSaveForm,
    UploadForm,
)
from choeur.portal.invoices_views.prefill import UploadRefused, read_upload

NAV = "invoices"
STEPS = (
    (1, "Parties"),
    (2, "Références"),
    (3, "Lignes et montants"),
    (4, "Pièces jointes"),
    (5, "Récapitulatif et envoi"),
)
STEP_LABELS = dict(STEPS)
LAST_STEP = 5
# Which step a pré-contrôle finding is fixed in, by the field it names.
STEP_OF_FIELD = {
    **dict.fromkeys(
        (
            "supplier",
            "supplier_service",
            "supplier_bank_account",
            "cadre",
            "type_demande_paiement",
            "recipient",
            "recipient_service",
            "valideur",
            "valideur_service",
            "valideur2",
            "valideur2_service",
        ),
        1,
    ),
    **dict.fromkeys(ReferencesForm.FIELDS, 2),
    **dict.fromkeys(
        (
            "lines",
            "remise_globale_ttc",
            "motif_remise_globale",
            "total_ht",
            "total_tva",
            "total_ttc",
            "montant_a_payer",
            "vat_lines",
        ),
        3,
    ),
    **dict.fromkeys(("main_document", "attachments", "content", "name"), 4),
}
# Findings about the supplier structure itself are fixed in its record, not in the wizard: they do not
# stop the « Suivant » of step 1 (the summary still shows them and the sending still refuses).
NON_BLOCKING_FIELDS = {"supplier"}
TOTAL_FIELDS = ("total_ht", "total_tva", "total_ttc", "montant_a_payer")


# --- Helpers --------------------------------------------------------------------------------------------


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(
        request,
        "portal/invoices/forbidden.html",
        {"title": "Accès refusé", "nav_section": NAV, "message": message},
        status=403,
    )


def _no_issuer_message() -> str:
    return (
        "Pour saisir ou déposer une facture, il faut être rattaché à une structure et abonné à son espace "
        "« Factures émises » avec l'habilitation « Modification ». Demandez-le au gestionnaire de la structure."
    )


def _issuing_structures(user) -> list[Structure]:
    return [s for s in structures_of(user).order_by("raison_sociale") if can_issue_for(user=user, structure=s)]


def _issued_or_404(request: HttpRequest, pk: int) -> Invoice:
    """An invoice issued by one of the user's structures; 404 otherwise (never says whether it exists)."""
    invoice = invoices_issued(user=request.user).filter(pk=pk).first()
    if invoice is None:
        raise Http404("Facture introuvable, ou vous n'y avez pas accès.")
    return invoice


class _NoWrite(Exception):
    pass


def _draft_for_write(request: HttpRequest, pk: int) -> Invoice:
    invoice = _issued_or_404(request, pk)
    if not can_issue_for(user=request.user, structure=invoice.supplier):
        raise _NoWrite
    return invoice


def _step_url(invoice: Invoice, step: int, **params) -> str:
    url = reverse("portal:invoice_draft_step", kwargs={"pk": invoice.pk, "step": step})
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def _detail_url(invoice: Invoice) -> str:
    """The invoice's page in « Suivi des factures » once it exists, else the wizard's summary."""
    try:
        return reverse("portal:invoice_detail", args=[invoice.pk])
    except NoReverseMatch:
        return _step_url(invoice, LAST_STEP)


def _apply_error(form, error: ApplicationError) -> None:
    field = error.field if error.field in form.fields else None
    _add_error(form, field, error.message)


def _add_error(form, field: str | None, message: str) -> None:
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}  # an unbound form (re-displayed from the draft) can carry errors too
    if field is not None and form.errors.get(field) and message in form.errors[field]:
        return
    form.add_error(field, message)


def _findings_by_step(findings: list[Finding]) -> dict[int, list[Finding]]:
    grouped: dict[int, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(_step_of(finding.field), []).append(finding)
    return grouped


def _step_of(field: str) -> int:
    head = (field or "").split(".", 1)[0]
    return STEP_OF_FIELD.get(field, STEP_OF_FIELD.get(head, LAST_STEP))


def _blocking(findings: list[Finding], step: int) -> list[Finding]:
    return [f for f in findings if _step_of(f.field) == step and f.field not in NON_BLOCKING_FIELDS]


def _recompute_totals(invoice: Invoice) -> dict:
    """Drafts whose document is not a deposited structured file have no declared totals of their own: they
    follow the lines (a structured deposit keeps the file's totals for the pré-contrôle to compare)."""
    if invoice.mode_depot == ModeDepot.UPLOAD_PORTAIL:
        return {}
    return dict.fromkeys(TOTAL_FIELDS)


def _save(request: HttpRequest, invoice: Invoice, data: dict, *, lines=None) -> Invoice:
    return invoice_draft_update(invoice=invoice, by=request.user, data=data, lines=lines)


def _after_save(request: HttpRequest, invoice: Invoice, step: int, action: str):
    """Where a step's buttons lead once the draft is saved; None to re-display the step."""
    if action == "save":
        messages.success(request, "Brouillon enregistré. Vous pourrez reprendre la saisie plus tard.")
        return redirect(_step_url(invoice, step))
    if action == "prev":
        return redirect(_step_url(invoice, max(1, step - 1)))
    if action == "precheck":
        return redirect(_step_url(invoice, LAST_STEP, precontrole=1))
    return redirect(_step_url(invoice, min(LAST_STEP, step + 1)))


def _next_step_data(invoice: Invoice, step: int, action: str) -> dict:
    if action == "next":
        return {"draft_step": max(invoice.draft_step, step + 1)}
    return {"draft_step": max(invoice.draft_step, step)}


def _step_context(invoice: Invoice, step: int, **extra) -> dict:
    return {
        "title": f"Saisie de facture — {STEP_LABELS[step]}",
        "nav_section": NAV,
        "invoice": invoice,
        "step": step,
        "steps": STEPS,
        "step_label": STEP_LABELS[step],
        "next_label": STEP_LABELS.get(step + 1, ""),
        "last_step": LAST_STEP,
        **extra,
    }


def _money(value, currency="EUR") -> str:
    return format_amount(value, currency) if value is not None else "—"


def _number_text(value) -> str:
    if value is None or value == "":
        return ""
    text = f"{Decimal(value).normalize():f}"
    return text.replace(".", ",")


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


def _action(request: HttpRequest) -> str:
    return request.POST.get("action", "next")


def _wants_check(request: HttpRequest) -> bool:
    return bool(request.GET.get("controle"))


def _structure(value, *, public_only: bool) -> Structure | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    structures = Structure.objects.filter(pk=pk)
    if public_only:
        structures = structures.public()
    return structures.first()


def _party_context(invoice: Invoice, target: str, structure: Structure | None, service_id) -> dict:
    service = None
    if structure is not None and service_id not in (None, ""):
        service = structure.services.filter(pk=_int(service_id)).first()
    context = {
        "invoice": invoice,
        "target": target,
        "structure": structure,
        "service_id": str(service.pk) if service else "",
        "services": list(structure.services.active().order_by("code")) if structure is not None else [],
    }
    if target == "recipient":
        context["requirements"] = recipient_requirements(structure, service)
        context["engagements"] = proposed_engagements(invoice, structure, service)
    return context


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _step_parties(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    if request.method == "POST":
        recipient = _structure(request.POST.get("recipient"), public_only=True)
        valideur = _structure(request.POST.get("valideur"), public_only=False)
        form = PartiesForm(request.POST, invoice=invoice, recipient=recipient, valideur=valideur)
        action = _action(request)
        if form.is_valid():
            data = form.draft_data()
            if request.POST.get("recipient") and recipient is None:
                _add_error(form, None, "Destinataire : structure publique introuvable ; recherchez-la de nouveau.")
            else:
                try:
                    invoice = _save(
                        request, invoice, {**data, **_recompute_totals(invoice), **_next_step_data(invoice, 1, action)}
                    )
                except ApplicationError as exc:
                    _apply_error(form, exc)
                else:
                    if action != "next":
                        return _after_save(request, invoice, 1, action)
                    blocking = _blocking(invoice_precheck(invoice=invoice), 1)
                    if not blocking:
                        return _after_save(request, invoice, 1, action)
                    for finding in blocking:
                        _add_error(form, finding.field if finding.field in form.fields else None, finding.message)
                    messages.warning(request, "Brouillon enregistré. Corrigez les points signalés pour continuer.")
        status = 200 if form.is_valid() else 400
    else:
        recipient, valideur = invoice.recipient, invoice.valideur
        form = PartiesForm(invoice=invoice, recipient=recipient, valideur=valideur)
        if _wants_check(request):
            for finding in _blocking(invoice_precheck(invoice=invoice), 1):
                _add_error(form, finding.field if finding.field in form.fields else None, finding.message)
        status = 200
    supplier_findings = [f for f in invoice_precheck(invoice=invoice) if f.field in NON_BLOCKING_FIELDS]
    context = _step_context(
        invoice,
        1,
        form=form,
        recipient_block=_party_context(invoice, "recipient", recipient, form["recipient_service"].value()),
        valideur_block=_party_context(invoice, "valideur", valideur, form["valideur_service"].value()),
        recipient_errors=form.errors.get("recipient", []) + form.errors.get("recipient_service", []),
        valideur_errors=form.errors.get("valideur", []) + form.errors.get("valideur_service", []),
        valideur_cadres=", ".join(Cadre(c).code for c in sorted(VALIDEUR_CADRES)),
        valideur_expected=_valideur_expected(form["cadre"].value() or invoice.cadre),
        supplier_findings=supplier_findings,
    )
    return render(request, "portal/invoices/step_parties.html", context, status=status)


def _valideur_expected(cadre: str) -> bool:
    try:
        return cadre_rule(cadre).valideur_required
    except ValueError:
        return False


@login_required
@require_GET
def invoice_party_search(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX: structures matching the typed name or SIRET, for the recipient (public) or the valideur."""
    invoice = _issued_or_404(request, pk)
    target = "valideur" if request.GET.get("target") == "valideur" else "recipient"
    query = request.GET.get(f"{target}_q", "") or request.GET.get("q", "")
    results = list(
        drafting.structures_search(query=query, public_only=target == "recipient", exclude=invoice.supplier)[:15]
    )
    return render(
        request,
        "portal/invoices/_party_results.html",
        {
            "invoice": invoice,
            "target": target,
            "results": results,
            "query": query,
            "too_short": len(query.strip()) < 3,
        },
    )


@login_required
@require_GET
def invoice_party_pick(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX: the party block once a structure is chosen (or its service changed): the hidden id, the
    services select and, for the recipient, what it requires — live."""
    invoice = _issued_or_404(request, pk)
    target = "valideur" if request.GET.get("target") == "valideur" else "recipient"
    structure = _structure(request.GET.get("structure"), public_only=target == "recipient")
    if structure is not None and not structure.is_active:
        structure = None
    context = _party_context(invoice, target, structure, request.GET.get(f"{target}_service"))
    return render(request, "portal/invoices/_party_block.html", context)


def _step_references(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = ReferencesForm(request.POST, invoice=invoice)
        action = _action(request)
        if form.is_valid():
            try:
                invoice = _save(
                    request,
                    invoice,
                    {**form.draft_data(), **_recompute_totals(invoice), **_next_step_data(invoice, 2, action)},
                )
            except ApplicationError as exc:
                _apply_error(form, exc)
            else:
                if action != "next":
                    return _after_save(request, invoice, 2, action)
                blocking = _blocking(invoice_precheck(invoice=invoice), 2)
                if not blocking:
                    return _after_save(request, invoice, 2, action)
                for finding in blocking:
                    _add_error(form, finding.field if finding.field in form.fields else None, finding.message)
                messages.warning(request, "Brouillon enregistré. Corrigez les points signalés pour continuer.")
        if form.errors:
            status = 400
    else:
        form = ReferencesForm(invoice=invoice)
        if _wants_check(request):
            for finding in _blocking(invoice_precheck(invoice=invoice), 2):
                _add_error(form, finding.field if finding.field in form.fields else None, finding.message)
    context = _step_context(invoice, 2, form=form, engagements=offer_on_form(form, invoice), datalist_id=DATALIST_ID)
    return render(request, "portal/invoices/step_references.html", context, status=status)


def _raw_rows(data) -> list[dict]:
    try:
        total = min(int(data.get("lines-TOTAL_FORMS", 0)), 500)
    except ValueError:
        total = 0
    return [{name: data.get(f"lines-{i}-{name}", "") for name in LINE_FIELDS} for i in range(total)]


def _raw_allowance_charges(data) -> list[dict]:
    try:
        total = min(int(data.get("ac-TOTAL_FORMS", 0)), 100)
    except ValueError:
        total = 0
    return [{name: data.get(f"ac-{i}-{name}", "") for name in ALLOWANCE_CHARGE_FIELDS} for i in range(total)]


def _allowance_charges_of(invoice: Invoice) -> list[dict]:
    return [
        {
            "nature": NATURE_CHARGE if row.is_charge else "remise",
            "reason": row.reason,
            "amount": _number_text(row.amount),
            "vat_rate": _number_text(row.vat_rate) if row.vat_rate is not None else "",
        }
        for row in invoice.allowance_charges.filter(line__isnull=True).order_by("position")
    ]


def _unbound_lines(rows: list[dict]):
    return LineFormSet(prefix="lines", initial=rows or [{"unit": "C62", "quantity": "1", "vat_rate": "20"}])


def _rows_of(invoice: Invoice) -> list[dict]:
    return [
        {
            "reference": line.reference,
            "designation": line.designation,
            "quantity": _number_text(line.quantity),
            "unit": line.unit,
            "unit_price_ht": _number_text(line.unit_price_ht),
            "discount_ht": _number_text(line.discount_ht) if line.discount_ht else "",
            "vat_rate": _number_text(line.vat_rate),
        }
        for line in invoice.lines.order_by("position")
    ]


def _typed_allowance_charges(ac_formset) -> list[dict]:
    items = []
    for form in ac_formset.forms:
        probe = form if form.is_bound else AllowanceChargeForm(data=dict(form.initial))
        if probe.is_valid() and not probe.is_blank():
            items.append(probe.item())
    return items


def _totals_context(invoice: Invoice, formset, remise, ac_formset=None, prepaid=None) -> dict:
    """Per-row nets and the invoice totals, computed on the server from what is typed (valid rows)."""
    nets, lines = [], []
    for form in formset.forms:
        probe = form if form.is_bound else LineForm(data=dict(form.initial))
        if not probe.is_valid() or probe.is_blank():
            nets.append("—")
            continue
        line = probe.line()
        try:
            nets.append(_money(compute_totals([line], type_tva=invoice.type_tva).total_ht, invoice.currency))
        except ValueError:
            nets.append("—")
            continue
        lines.append(line)
    context = {"nets": nets, "currency": invoice.currency, "has_lines": bool(lines)}
    try:
        totals = compute_totals(
            lines,
            type_tva=invoice.type_tva,
            remise_globale_ttc=remise or None,
            allowance_charges=_typed_allowance_charges(ac_formset) if ac_formset is not None else (),
            prepaid_amount=prepaid,
        )
    except ValueError:
        return context
    cur = invoice.currency
    context.update(
        vat_rows=[
            {
                "rate": format_rate(row.rate),
                "category": row.category,
                "base": _money(row.base_ht, cur),
                "vat": _money(row.vat_amount, cur),
            }
            for row in totals.vat_breakdown
        ],
        line_total=_money(totals.line_total_ht, cur),
        allowances=_money(totals.allowance_total_ht, cur) if totals.allowance_total_ht else "",
        charges=_money(totals.charge_total_ht, cur) if totals.charge_total_ht else "",
        total_ht=_money(totals.total_ht, cur),
        total_tva=_money(totals.total_tva, cur),
        total_ttc=_money(totals.total_ttc, cur),
        prepaid=_money(totals.prepaid_amount, cur) if totals.prepaid_amount else "",
        remise=_money(totals.remise_globale_ttc, cur) if totals.remise_globale_ttc else "",
        net=_money(totals.montant_a_payer, cur),
    )
    if invoice.mode_depot == ModeDepot.UPLOAD_PORTAIL and invoice.total_ttc is not None:
        declared = {name: getattr(invoice, name) for name in TOTAL_FIELDS}
        computed = {name: getattr(totals, name) for name in TOTAL_FIELDS}
        context["declared"] = {
            "total_ht": _money(declared["total_ht"], cur),
            "total_tva": _money(declared["total_tva"], cur),
            "total_ttc": _money(declared["total_ttc"], cur),
            "net": _money(declared["montant_a_payer"], cur),
            "differs": any(declared[n] is not None and declared[n] != computed[n] for n in TOTAL_FIELDS),
        }
    return context


def _step_lines(request: HttpRequest, invoice: Invoice) -> HttpResponse:
    status = 200
    if request.method == "POST":
        action = _action(request)
        rows = _raw_rows(request.POST)
        ac_rows = _raw_allowance_charges(request.POST)
        discount = DiscountForm(request.POST)
        if action in ("add_line", "add_ac") or action.startswith(("remove_line:", "remove_ac:")):
            # Rows are added or removed on the re-displayed form; nothing is lost and nothing saved yet.
            if action == "add_line":
                rows.append({"unit": "C62", "quantity": "1", "vat_rate": rows[-1]["vat_rate"] if rows else "20"})
            elif action == "add_ac":
                ac_rows.append({"nature": "remise", "vat_rate": rows[-1]["vat_rate"] if rows else "20"})
            else:
                target = rows if action.startswith("remove_line:") else ac_rows
                index = _int(action.split(":", 1)[1])
                if index is not None and 0 <= index < len(target):
                    target.pop(index)
            formset = _unbound_lines(rows)
            ac_formset = AllowanceChargeFormSet(prefix="ac", initial=ac_rows)
            discount.is_valid()
        else:
            formset = LineFormSet(request.POST, prefix="lines")
            # A form posted without the remises block (an older page) leaves the remises as they are.
            ac_posted = "ac-TOTAL_FORMS" in request.POST
            ac_formset = (
                AllowanceChargeFormSet(request.POST, prefix="ac")
                if ac_posted
                else AllowanceChargeFormSet(prefix="ac", initial=_allowance_charges_of(invoice))
            )
            if formset.is_valid() and (not ac_posted or ac_formset.is_valid()) and discount.is_valid():
                lines = formset.lines()
                try:
                    invoice = invoice_draft_update(
                        invoice=invoice,
                        by=request.user,
                        data={
                            **discount.draft_data(),
                            **_recompute_totals(invoice),
                            **_next_step_data(invoice, 3, action),
                        },
                        lines=lines,
                        allowance_charges=ac_formset.items() if ac_posted else None,
                    )
                except ApplicationError as exc:
                    _line_error(formset, discount, exc.field or "", exc.message, ac_formset)
                else:
                    if action != "next":
                        return _after_save(request, invoice, 3, action)
                    blocking = _blocking(invoice_precheck(invoice=invoice), 3)
                    if not blocking:
                        return _after_save(request, invoice, 3, action)
                    for finding in blocking:
                        _line_error(formset, discount, finding.field, finding.message, ac_formset)
                    messages.warning(request, "Brouillon enregistré. Corrigez les points signalés pour continuer.")
            has_errors = (
                formset.total_error_count()
                or (ac_posted and ac_formset.total_error_count())
                or discount.errors
                or formset.non_form_errors()
            )
            status = 400 if has_errors else 200
    else:
        formset = _unbound_lines(_rows_of(invoice))
        ac_formset = AllowanceChargeFormSet(prefix="ac", initial=_allowance_charges_of(invoice))
        discount = DiscountForm(
            initial={
                "remise_globale_ttc": _number_text(invoice.remise_globale_ttc) if invoice.remise_globale_ttc else "",
                "motif_remise_globale": invoice.motif_remise_globale,
                "prepaid_amount": _number_text(invoice.prepaid_amount) if invoice.prepaid_amount else "",
            }
        )
        if _wants_check(request):
            for finding in _blocking(invoice_precheck(invoice=invoice), 3):
                _line_error(formset, discount, finding.field, finding.message, ac_formset)
    remise = _remise_of(discount, invoice)
    context = _step_context(
        invoice,
        3,
        formset=formset,
        ac_formset=ac_formset,
        discount=discount,
        totals=_totals_context(invoice, formset, remise, ac_formset, _prepaid_of(discount, invoice)),
        vat_rates=[rate.replace(".", ",") for rate in VAT_RATE_HINTS],
        lines_errors=getattr(formset, "_choeur_errors", []),
    )
    return render(request, "portal/invoices/step_lines.html", context, status=status)


def _prepaid_of(discount: DiscountForm, invoice: Invoice):
    if discount.is_bound:
        return discount.cleaned_data.get("prepaid_amount") if discount.is_valid() else None
    return invoice.prepaid_amount


def _remise_of(discount: DiscountForm, invoice: Invoice):
    if discount.is_bound:
        return discount.cleaned_data.get("remise_globale_ttc") if discount.is_valid() else None
    return invoice.remise_globale_ttc


def _line_error(formset, discount, field: str, message: str, ac_formset=None) -> None:
    """Put an error on the line row it names (`lines.<index>.<field>`, index among the non-blank rows), or
    on the remise/charge row (`allowance_charges.<index>`)."""
    if field in discount.fields:
        _add_error(discount, field, message)
        return
    parts = field.split(".")
    if parts[0] == "allowance_charges" and ac_formset is not None and len(parts) >= 2 and parts[1].isdigit():
        filled = [form for form in ac_formset.forms if not (form.is_bound and form.is_valid() and form.is_blank())]
        if int(parts[1]) < len(filled):
            _add_error(filled[int(parts[1])], None, message)
            return
    if parts[0] == "lines" and len(parts) >= 2 and parts[1].isdigit():
        filled = [form for form in formset.forms if not _form_blank(form)]
        index = int(parts[1])
        if index < len(filled):
            form = filled[index]
            name = parts[2] if len(parts) > 2 and parts[2] in form.fields else None
            _add_error(form, name, message)
            return
    errors = getattr(formset, "_choeur_errors", [])
    if message not in errors:
        errors.append(message)
    formset._choeur_errors = errors


def _form_blank(form) -> bool:
    if form.is_bound:
        return form.is_valid() and form.is_blank()
    return not any(v not in (None, "") for k, v in form.initial.items() if k not in ("unit", "quantity", "vat_rate"))


@login_required
@require_POST
def invoice_draft_totals(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX: the totals block (and each row's net amount, out of band) for the lines as typed, computed
    on the server with the same functions as the sending."""
    invoice = _issued_or_404(request, pk)
    formset = LineFormSet(request.POST, prefix="lines")
    formset.is_valid()
    ac_formset = (
        AllowanceChargeFormSet(request.POST, prefix="ac")
        if "ac-TOTAL_FORMS" in request.POST
        else AllowanceChargeFormSet(prefix="ac", initial=_allowance_charges_of(invoice))
    )
    ac_formset.is_valid()
    discount = DiscountForm(request.POST)
    valid = discount.is_valid()
    remise = discount.cleaned_data.get("remise_globale_ttc") if valid else None
    prepaid = discount.cleaned_data.get("prepaid_amount") if valid else None
    response = render(
        request,
        "portal/invoices/_totals.html",
        {"totals": _totals_context(invoice, formset, remise, ac_formset, prepaid), "oob": True, "invoice": invoice},
    )
    response["Cache-Control"] = "no-store"
    return response


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
