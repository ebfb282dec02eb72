"""« Traitement en masse » on « Factures reçues »: tick invoices, choose one action, confirm, apply.

Three steps, each answered by a redirect (post/redirect/get), the selection kept in the session:
1. the list posts the ticked invoices and the action (`invoices_bulk_select`);
2. a confirmation page lists the invoices the action applies to, their total, those it cannot apply to and
   why, asks the action's fields once (motif, comment, mandate number) and, for a final status, an
   acknowledgement that it cannot be undone (`invoices_bulk_confirm`);
3. the application goes through `invoice_process` invoice by invoice, each in its own transaction with the
   status seen at selection, so an invoice is either fully processed or untouched; one summary says what
   was done and what was refused, and why (`invoices_bulk_apply`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.views.decorators.http import require_GET, require_POST

from choeur.core.errors import ApplicationError
from choeur.invoices import search
from choeur.invoices.enums import Channel, InvoiceStatus
from choeur.invoices.lifecycle import (
    RECIPIENT_TRANSITIONS,
    invoice_action_structure,
    invoice_actions_for,
    invoice_process,
)
from choeur.invoices.models import Invoice
from choeur.invoices.workflow import TRANSITIONS_BY_NAME
from choeur.portal.tracking_views.forms import BulkProcessForm, BulkSelectForm, irreversible

S = InvoiceStatus
SESSION_KEY = "invoices_bulk"
MAX_INVOICES = 200
ACTION_EFFECTS = {
    "service_fait": "Vous attestez que les prestations ont été réalisées ou les livraisons reçues.",
    "mandater": "Les mandats de paiement sont émis, sous le numéro que vous indiquez.",
    "mettre_a_disposition_comptable": "Les mandats sont transmis au comptable public.",
    "comptabiliser": "Le comptable a pris les dépenses en charge.",
    "mettre_en_paiement": "Les paiements sont ordonnés : chaque fournisseur en est informé. "
    "Cette étape est définitive.",
    "a_recycler": "Les factures retournent à leurs fournisseurs, qui corrigent l'acheminement et les renvoient.",
    "suspendre": "Le délai de paiement de chaque facture est suspendu jusqu'à ce que son fournisseur complète.",
    "rejeter": "Les factures sont annulées : chaque fournisseur devra en émettre une nouvelle. "
    "Cette étape est définitive.",
}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


def _euros(amount: Decimal) -> str:
    return f"{number_format(amount, 2, force_grouping=True)} € TTC"


def _back(request: HttpRequest) -> str:
    """The received list as the user left it (its filters), never another site."""
    base = reverse("portal:invoices_received")
    query = request.POST.get("retour", "") if request.method == "POST" else ""
    return f"{base}?{query}" if query and "//" not in query and "\n" not in query else base


@dataclass
class Candidate:
    invoice: Invoice
    seen_status: str
    reason: str = ""  # why the action cannot apply to this invoice (empty: it can)

    @property
    def status_label(self) -> str:
        return S(self.invoice.status).label


def _candidates(request: HttpRequest, selection: dict) -> list[Candidate]:
    """The selected invoices of the user's received list, each with why the action cannot apply, if so."""
    name = selection["action"]
    invoices = (
        search.dashboard_queryset(user=request.user, side=search.RECEIVED)
        .filter(pk__in=selection["ids"])
        .select_related("supplier", "recipient", "recipient_service")
        .order_by("number", "pk")
    )
    candidates = []
    for invoice in invoices:
        seen = selection["seen"].get(str(invoice.pk), invoice.status)
        candidate = Candidate(invoice, seen)
        if invoice.status != seen:
            candidate.reason = (
                f"passée au statut « {S(invoice.status).label} » depuis votre sélection : vérifiez-la avant d'agir"
            )
        elif name not in {t.name for t in invoice_actions_for(invoice=invoice, user=request.user)}:
            candidate.reason = (
                f"au statut « {S(invoice.status).label} », elle ne peut pas recevoir l'action "
                f"« {TRANSITIONS_BY_NAME[name].label} » (ou vos droits ne le permettent pas)"
            )
        candidates.append(candidate)
    return candidates


@login_required
@require_POST
def invoices_bulk_select_view(request: HttpRequest) -> HttpResponse:
    form = BulkSelectForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_back(request))
    ids = sorted(set(form.cleaned_data["invoices"]))
    if len(ids) > MAX_INVOICES:
        messages.error(
            request, f"{len(ids)} factures cochées : {MAX_INVOICES} au plus par traitement. Filtrez la liste."
        )
        return redirect(_back(request))
    seen = dict(
        search.dashboard_queryset(user=request.user, side=search.RECEIVED)
        .filter(pk__in=ids)
        .values_list("pk", "status")
    )
    if not seen:
        messages.error(request, "Aucune des factures cochées n'est dans vos factures reçues : rechargez la liste.")
        return redirect(_back(request))
    request.session[SESSION_KEY] = {
        "ids": list(seen),
        "seen": {str(pk): status for pk, status in seen.items()},
        "action": form.cleaned_data["action"],
        "retour": _back(request),
    }
    return redirect("portal:invoices_bulk_confirm")


def _process_form(selection: dict, applicable: list[Candidate], data=None) -> BulkProcessForm:
    total = sum((c.invoice.total_ttc or Decimal(0) for c in applicable), Decimal(0))
    return BulkProcessForm(
        data,
        transition=TRANSITIONS_BY_NAME[selection["action"]],
        count=len(applicable),
        total=_euros(total),
    )


@login_required
@require_GET
def invoices_bulk_confirm_view(request: HttpRequest) -> HttpResponse:
    selection = request.session.get(SESSION_KEY)
    if not selection:
        messages.info(request, "Cochez des factures dans la liste, puis choisissez l'action à leur appliquer.")
        return redirect("portal:invoices_received")
    candidates = _candidates(request, selection)
    applicable = [c for c in candidates if not c.reason]
    if not applicable:
        messages.error(
            request,
            f"L'action « {TRANSITIONS_BY_NAME[selection['action']].label} » ne s'applique à aucune des factures "
            "cochées : choisissez une autre action ou d'autres factures.",
        )
        return redirect(selection.get("retour") or "portal:invoices_received")
    # A refused submission comes back here with what was typed, and its errors (post/redirect/get).
    form = _process_form(selection, applicable, selection.pop("data", None))
    request.session[SESSION_KEY] = selection
    if form.is_bound:
        form.is_valid()
    transition = TRANSITIONS_BY_NAME[selection["action"]]
    total = sum((c.invoice.total_ttc or Decimal(0) for c in applicable), Decimal(0))
    context = {
        "title": "Traitement en masse",
        "nav_section": "tracking",
        "transition": transition,
        "target_label": S(transition.target).label,
        "effect": ACTION_EFFECTS.get(transition.name, ""),
        "irreversible": irreversible(transition),
        "applicable": applicable,
        "excluded": [c for c in candidates if c.reason],
        "total": _euros(total),
        "form": form,
        "back_url": selection.get("retour") or reverse("portal:invoices_received"),
    }
    return render(request, "portal/tracking/bulk_confirm.html", context)


@login_required
@require_POST
def invoices_bulk_apply_view(request: HttpRequest) -> HttpResponse:
    selection = request.session.get(SESSION_KEY)
    if not selection:
        messages.error(
            request,
            "Ce traitement a déjà été appliqué ou a expiré : rien n'a été refait. Vérifiez les statuts dans la liste.",
        )
        return redirect("portal:invoices_received")
    candidates = _candidates(request, selection)
    applicable = [c for c in candidates if not c.reason]
    form = _process_form(selection, applicable, request.POST)
    if not applicable or not form.is_valid():
        selection["data"] = request.POST.dict()
        request.session[SESSION_KEY] = selection
        return redirect("portal:invoices_bulk_confirm")
    del request.session[SESSION_KEY]
    name, data = selection["action"], form.cleaned_data
    done, refused = [], [(c.invoice, c.reason) for c in candidates if c.reason]
    for candidate in applicable:
        invoice = candidate.invoice
        try:
            invoice_process(
                invoice=invoice,
                by=request.user,
                structure=invoice_action_structure(invoice=invoice, user=request.user, transition=name),
                transition=name,
                motif=data.get("motif", ""),
                comment=data.get("comment", ""),
                numero_dp_mandat=data.get("numero_dp_mandat", ""),
                channel=Channel.PORTAIL,
                expected_status=candidate.seen_status,
            )
        except ApplicationError as exc:
            refused.append((invoice, exc.message))
        else:
            done.append(invoice)
    label = TRANSITIONS_BY_NAME[name].label
    summary = f"« {label} » : {_plural(len(done), 'facture')} traitée{'s' if len(done) > 1 else ''}"
    if refused:
        details = " ; ".join(f"{invoice.number} ({reason})" for invoice, reason in refused)
        summary += f", {len(refused)} refusée{'s' if len(refused) > 1 else ''} : {details}"
        messages.warning(request, summary + ".")
    else:
        messages.success(request, summary + ".")
    return redirect(selection.get("retour") or "portal:invoices_received")


def bulk_actions_for(invoices) -> list[tuple[str, str]]:
    """The recipient actions that leave at least one status shown in the list, in table order (the
    confirmation step then says which ticked invoices each applies to)."""
    statuses = {invoice.status for invoice in invoices}
    return [
        (name, TRANSITIONS_BY_NAME[name].label)
        for name in RECIPIENT_TRANSITIONS
        if TRANSITIONS_BY_NAME[name].sources & statuses
    ]
