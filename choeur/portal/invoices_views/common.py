"""Helpers shared by the saisie's pages: the steps, the tenancy of drafts, saving, findings by step."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from choeur.core.errors import ApplicationError
from choeur.directory.models import Structure
from choeur.invoices.checks import Finding
from choeur.invoices.computations import format_amount
from choeur.invoices.enums import ModeDepot
from choeur.invoices.models import Invoice
from choeur.invoices.selectors import (
    can_issue_for,
    invoices_issued,
    structures_of,
)
from choeur.invoices.services import (
    invoice_draft_update,
)
from choeur.portal.invoices_views.forms import (
    ReferencesForm,
)

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


def _action(request: HttpRequest) -> str:
    return request.POST.get("action", "next")


def _wants_check(request: HttpRequest) -> bool:
    return bool(request.GET.get("controle"))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
