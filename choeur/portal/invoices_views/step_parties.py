"""Step 1 (parties: the recipient and its service, the valideur, live by HTMX) and step 2 (references) of
the saisie."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from choeur.core.errors import ApplicationError
from choeur.directory.models import Structure
from choeur.invoices import drafting
from choeur.invoices.cadres import VALIDEUR_CADRES, cadre_rule
from choeur.invoices.checks import recipient_requirements
from choeur.invoices.enums import Cadre
from choeur.invoices.models import Invoice
from choeur.invoices.services import (
    invoice_precheck,
)
from choeur.portal.invoices_views.common import (
    NON_BLOCKING_FIELDS,
    _action,
    _add_error,
    _after_save,
    _apply_error,
    _blocking,
    _int,
    _issued_or_404,
    _next_step_data,
    _recompute_totals,
    _save,
    _step_context,
    _wants_check,
)
from choeur.portal.invoices_views.engagements import DATALIST_ID, offer_on_form, proposed_engagements
from choeur.portal.invoices_views.forms import (
    PartiesForm,
    ReferencesForm,
)


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
