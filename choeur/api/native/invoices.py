"""Invoices (payment requests) your structure is party to — as supplier, recipient (once received), valideur,
MOE or MOA — with their lines, VAT breakdown, attachments (metadata only), status history, and the actions
(transitions) your structure may fire on them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from choeur.api.native.auth import NativeAuth
from choeur.api.native.pagination import DEFAULT_LIMIT, MAX_LIMIT, cursor_page
from choeur.api.native.problems import Problem
from choeur.directory.models import Structure
from choeur.invoices import lifecycle, validation_circuit
from choeur.invoices.enums import Channel, InvoiceStatus
from choeur.invoices.models import Invoice, InvoiceStatusChange
from choeur.invoices.workflow import TRANSITIONS_BY_NAME, roles_of, transitions_from

router = Router(tags=["Factures"])
read_auth = NativeAuth(scope="invoices:read")
write_auth = NativeAuth(scope="invoices:write")

_RELATED = ("supplier", "recipient", "recipient_service", "main_document")


class PartyOut(Schema):
    id: int
    identifier: str
    name: str


class InvoiceOut(Schema):
    id: int
    number: str
    invoice_type: str
    type_demande_paiement: str
    cadre: str
    status: str
    status_label: str
    status_changed_at: datetime
    invoice_date: date | None
    deposited_at: datetime | None
    updated_at: datetime
    currency: str
    total_ht: Decimal | None
    total_tva: Decimal | None
    total_ttc: Decimal | None
    montant_a_payer: Decimal | None
    supplier: PartyOut
    recipient: PartyOut | None
    recipient_service_code: str
    numero_engagement: str
    numero_marche: str
    numero_flux_depot: str
    your_roles: list[str] = Field(description="Vos rôles sur cette facture (FOURNISSEUR, DESTINATAIRE…).")
    url: str


class InvoicePage(Schema):
    results: list[InvoiceOut]
    next_cursor: str | None
    next: str | None


class LineOut(Schema):
    position: int
    reference: str
    designation: str
    quantity: Decimal
    unit: str
    unit_price_ht: Decimal
    discount_ht: Decimal = Field(description="Somme des remises de la ligne (BT-136).")
    charge_ht: Decimal = Field(description="Somme des charges de la ligne (BT-141).")
    price_base_quantity: Decimal = Field(description="Quantité de base du prix (BT-149).")
    gross_price_ht: Decimal | None = Field(description="Prix brut (BT-148).")
    price_discount_ht: Decimal | None = Field(description="Rabais sur le prix (BT-147).")
    vat_rate: Decimal
    vat_category: str = Field(description="Catégorie de TVA de la ligne (BT-151), vide : déduite du type de TVA.")
    period_start: date | None
    period_end: date | None
    note: str
    line_net_ht: Decimal


class VatLineOut(Schema):
    rate: Decimal
    category: str
    base_ht: Decimal
    vat_amount: Decimal
    exemption_reason: str
    exemption_reason_code: str


class AllowanceChargeOut(Schema):
    is_charge: bool = Field(description="Vrai pour une charge (BG-21, BG-28), faux pour une remise (BG-20, BG-27).")
    line_position: int | None = Field(description="Numéro de la ligne, vide pour une remise ou charge de document.")
    amount: Decimal
    base_amount: Decimal | None
    percentage: Decimal | None
    reason: str
    reason_code: str
    vat_category: str
    vat_rate: Decimal | None


class AmountsOut(Schema):
    """The EN 16931 totals (BG-22) beside Chorus Pro's."""

    line_total_ht: Decimal | None = Field(description="Somme des montants nets des lignes (BT-106).")
    allowance_total_ht: Decimal = Field(description="Remises au niveau du document (BT-107).")
    charge_total_ht: Decimal = Field(description="Charges au niveau du document (BT-108).")
    total_ht: Decimal | None = Field(description="Total HT (BT-109).")
    total_tva: Decimal | None = Field(description="Total TVA (BT-110).")
    total_ttc: Decimal | None = Field(description="Total TTC (BT-112).")
    prepaid_amount: Decimal = Field(description="Montant déjà payé (BT-113).")
    remise_globale_ttc: Decimal = Field(description="Remise globale TTC de Chorus Pro.")
    rounding_amount: Decimal = Field(description="Arrondi (BT-114).")
    montant_a_payer: Decimal | None = Field(description="Net à payer (BT-115).")
    from_document: bool = Field(description="Montants repris du XML déposé (UBL, CII, Factur-X).")


class AttachmentOut(Schema):
    id: int
    name: str
    type_code: str
    size: int
    sha256: str
    added_at: datetime


class DocumentOut(Schema):
    name: str
    size: int
    sha256: str


class TransitionOut(Schema):
    name: str
    label: str
    target_status: str
    motif_required: bool


class InvoiceDetailOut(InvoiceOut):
    comment: str
    payment_mode: str
    numero_dp_mandat: str
    main_document: DocumentOut | None
    lines: list[LineOut]
    vat_lines: list[VatLineOut]
    amounts: AmountsOut
    allowance_charges: list[AllowanceChargeOut]
    period_start: date | None = Field(description="Début de la période de facturation (BT-73).")
    period_end: date | None = Field(description="Fin de la période de facturation (BT-74).")
    delivery_date: date | None = Field(description="Date de livraison (BT-72).")
    business_terms: dict = Field(description="Autres termes métier EN 16931 (références, bénéficiaire, livraison…).")
    attachments: list[AttachmentOut]
    available_transitions: list[TransitionOut] = Field(
        description="Les actions que votre structure peut faire maintenant (POST …/transitions)."
    )
    status_changes_url: str


class StatusChangeOut(Schema):
    id: int
    from_status: str
    to_status: str
    transition: str
    actor_role: str
    actor_structure: PartyOut | None
    channel: str
    motif: str
    comment: str
    created_at: datetime


class StatusChangePage(Schema):
    results: list[StatusChangeOut]
    next_cursor: str | None
    next: str | None


class InvoiceFilters(Schema):
    status: InvoiceStatus | None = Field(None, description="Statut courant (statutFacture).")
    updated_since: datetime | None = Field(None, description="Modifiées depuis cette date (ISO 8601).")
    number: str | None = Field(None, max_length=20, description="Numéro de facture exact.")
    role: Literal["FOURNISSEUR", "DESTINATAIRE", "VALIDEUR", "MOE", "MOA"] | None = Field(
        None, description="Votre rôle : factures émises (FOURNISSEUR), reçues (DESTINATAIRE)…"
    )
    cursor: str | None = Field(None, description="Recopié depuis `next_cursor` de la page précédente.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Nombre de résultats par page.")


class PageFilters(Schema):
    cursor: str | None = Field(None, description="Recopié depuis `next_cursor` de la page précédente.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Nombre de résultats par page.")


class TransitionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    transition: str = Field(..., max_length=60, description="Nom de l'action : voir `available_transitions`.")
    motif: str = Field("", max_length=100, description="Obligatoire pour un refus, un rejet, une suspension…")
    comment: str = Field("", max_length=2000)
    numero_dp_mandat: str = Field("", max_length=50, description="Numéro de mandat (action `mandater`).")
    expected_status: InvoiceStatus | None = Field(
        None, description="Statut que vous croyez courant : 409 `conflit` si la facture a bougé entre-temps."
    )


# ---------------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------------


def _caller(request) -> Structure:
    return request.auth.api_client.structure


def _visible(request):
    caller = _caller(request)
    return Invoice.objects.visible_to_structures(Structure.objects.filter(pk=caller.pk)).select_related(*_RELATED)


def _get_or_404(request, invoice_id: int) -> Invoice:
    invoice = _visible(request).filter(pk=invoice_id).first()
    if invoice is None:
        raise Problem("introuvable", f"Facture {invoice_id} introuvable parmi les factures de votre structure.")
    return invoice


def _party(structure: Structure | None) -> dict | None:
    if structure is None:
        return None
    return {"id": structure.pk, "identifier": structure.identifier, "name": structure.designation}


def _status_seen(request, invoice: Invoice) -> str:
    """A recipient that does not report « mise en paiement » keeps it hidden from the other parties."""
    if invoice.recipient_id == _caller(request).pk:
        return invoice.status
    return lifecycle.status_for_supplier(invoice)


def _invoice(request, invoice: Invoice) -> dict:
    status = _status_seen(request, invoice)
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "invoice_type": invoice.invoice_type,
        "type_demande_paiement": invoice.type_demande_paiement,
        "cadre": invoice.cadre,
        "status": status,
        "status_label": InvoiceStatus(status).label,
        "status_changed_at": invoice.status_changed_at,
        "invoice_date": invoice.invoice_date,
        "deposited_at": invoice.deposited_at,
        "updated_at": invoice.updated_at,
        "currency": invoice.currency,
        "total_ht": invoice.total_ht,
        "total_tva": invoice.total_tva,
        "total_ttc": invoice.total_ttc,
        "montant_a_payer": invoice.montant_a_payer,
        "supplier": _party(invoice.supplier),
        "recipient": _party(invoice.recipient),
        "recipient_service_code": invoice.recipient_service.code if invoice.recipient_service_id else "",
        "numero_engagement": invoice.numero_engagement,
        "numero_marche": invoice.numero_marche,
        "numero_flux_depot": invoice.numero_flux_depot,
        "your_roles": sorted(roles_of(invoice, _caller(request))),
        "url": request.build_absolute_uri(f"/api/v1/invoices/{invoice.pk}"),
    }


def _detail(request, invoice: Invoice) -> dict:
    caller = _caller(request)
    roles = roles_of(invoice, caller)
    available = [t for t in transitions_from(invoice.status) if t.roles & roles and t.name in API_TRANSITIONS]
    document = invoice.main_document
    return {
        **_invoice(request, invoice),
        "comment": invoice.comment,
        "payment_mode": invoice.payment_mode,
        "numero_dp_mandat": invoice.numero_dp_mandat,
        "main_document": (
            {"name": invoice.main_document_name, "size": document.size, "sha256": document.sha256}
            if document is not None
            else None
        ),
        "lines": list(invoice.lines.order_by("position")),
        "vat_lines": list(invoice.vat_lines.all()),
        "amounts": {
            "line_total_ht": invoice.line_total_ht,
            "allowance_total_ht": invoice.allowance_total_ht,
            "charge_total_ht": invoice.charge_total_ht,
            "total_ht": invoice.total_ht,
            "total_tva": invoice.total_tva,
            "total_ttc": invoice.total_ttc,
            "prepaid_amount": invoice.prepaid_amount,
            "remise_globale_ttc": invoice.remise_globale_ttc,
            "rounding_amount": invoice.rounding_amount,
            "montant_a_payer": invoice.montant_a_payer,
            "from_document": invoice.amounts_from_document,
        },
        "allowance_charges": [
            {
                "is_charge": row.is_charge,
                "line_position": row.line.position if row.line_id else None,
                "amount": row.amount,
                "base_amount": row.base_amount,
                "percentage": row.percentage,
                "reason": row.reason,
                "reason_code": row.reason_code,
                "vat_category": row.vat_category,
                "vat_rate": row.vat_rate,
            }
            for row in invoice.allowance_charges.select_related("line").order_by("line_id", "position")
        ],
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "delivery_date": invoice.delivery_date,
        "business_terms": invoice.business_terms or {},
        "attachments": [
            {
                "id": attachment.pk,
                "name": attachment.name,
                "type_code": attachment.type_code,
                "size": attachment.file.size,
                "sha256": attachment.file.sha256,
                "added_at": attachment.added_at,
            }
            for attachment in invoice.attachments.select_related("file")
        ],
        "available_transitions": [
            {"name": t.name, "label": t.label, "target_status": t.target, "motif_required": t.motif_required}
            for t in available
        ],
        "status_changes_url": request.build_absolute_uri(f"/api/v1/invoices/{invoice.pk}/status-changes"),
    }


@router.get(
    "invoices",
    response=InvoicePage,
    auth=read_auth,
    operation_id="invoices_list",
    summary="Lister les factures de votre structure",
    description="Émises, reçues (une fois mises à disposition), à valider, ou comme MOE/MOA ; par ordre d'id.",
)
def invoices_list(request, filters: Query[InvoiceFilters]):
    invoices = _visible(request)
    if filters.status:
        invoices = invoices.filter(status=filters.status)
    if filters.updated_since:
        invoices = invoices.filter(updated_at__gte=filters.updated_since)
    if filters.number:
        invoices = invoices.filter(number=filters.number.strip())
    if filters.role:
        caller = _caller(request)
        field = {
            "FOURNISSEUR": "supplier",
            "DESTINATAIRE": "recipient",
            "MOE": "moe",
            "MOA": "moa",
        }.get(filters.role)
        if field:
            invoices = invoices.filter(**{field: caller})
        else:
            invoices = invoices.filter(pk__in=Invoice.objects.to_validate_by([caller]).values("pk"))
    rows, next_cursor, next_url = cursor_page(request, invoices, cursor=filters.cursor, limit=filters.limit)
    return {"results": [_invoice(request, row) for row in rows], "next_cursor": next_cursor, "next": next_url}


@router.get(
    "invoices/{invoice_id}",
    response=InvoiceDetailOut,
    auth=read_auth,
    operation_id="invoices_get",
    summary="Lire une facture",
    description="Lignes, ventilation de la TVA, pièces jointes (métadonnées seulement) et actions possibles.",
)
def invoices_get(request, invoice_id: int):
    return _detail(request, _get_or_404(request, invoice_id))


@router.get(
    "invoices/{invoice_id}/status-changes",
    response=StatusChangePage,
    auth=read_auth,
    operation_id="invoices_status_changes",
    summary="Historique des statuts d'une facture",
)
def invoices_status_changes(request, invoice_id: int, filters: Query[PageFilters]):
    invoice = _get_or_404(request, invoice_id)
    changes = InvoiceStatusChange.objects.filter(invoice=invoice).select_related("actor_structure")
    if invoice.recipient_id != _caller(request).pk and lifecycle.payment_status_hidden(invoice):
        changes = changes.exclude(to_status=InvoiceStatus.MISE_EN_PAIEMENT)
    rows, next_cursor, next_url = cursor_page(request, changes, cursor=filters.cursor, limit=filters.limit)
    return {
        "results": [
            {
                "id": change.pk,
                "from_status": change.from_status,
                "to_status": change.to_status,
                "transition": change.transition,
                "actor_role": change.actor_role,
                "actor_structure": _party(change.actor_structure),
                "channel": change.channel,
                "motif": change.motif,
                "comment": change.comment,
                "created_at": change.created_at,
            }
            for change in rows
        ],
        "next_cursor": next_cursor,
        "next": next_url,
    }


# ---------------------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------------------


# The lifecycle services behind each action; the API adds nothing to their rules.
_VALIDEUR_DECISIONS = {
    "valider_1": validation_circuit.VALIDATION,
    "valider_2": validation_circuit.VALIDATION,
    "refuser_1": validation_circuit.REFUS,
    "refuser_2": validation_circuit.REFUS,
    "signaler_erreur_valideur_1": validation_circuit.ERREUR_VALIDEUR,
    "signaler_erreur_valideur_2": validation_circuit.ERREUR_VALIDEUR,
}
API_TRANSITIONS = (*lifecycle.RECIPIENT_TRANSITIONS, "completer", *_VALIDEUR_DECISIONS)


def _process(*, invoice: Invoice, structure: Structure, payload: TransitionIn) -> None:
    common = {"invoice": invoice, "by": None, "structure": structure, "channel": Channel.API}
    expected = payload.expected_status
    if payload.transition in lifecycle.RECIPIENT_TRANSITIONS:
        lifecycle.invoice_process(
            **common,
            transition=payload.transition,
            motif=payload.motif,
            comment=payload.comment,
            numero_dp_mandat=payload.numero_dp_mandat,
            expected_status=expected,
        )
    elif payload.transition == "completer":
        lifecycle.invoice_complete(**common, comment=payload.comment, expected_status=expected)
    else:
        validation_circuit.invoice_validate(
            **common,
            decision=_VALIDEUR_DECISIONS[payload.transition],
            motif=payload.motif,
            comment=payload.comment,
            expected_status=expected,
        )


@router.post(
    "invoices/{invoice_id}/transitions",
    response=InvoiceDetailOut,
    auth=write_auth,
    operation_id="invoices_transition",
    summary="Faire une action sur une facture",
    description=(
        "Traiter une facture reçue (service_fait, mandater, mettre_en_paiement, suspendre, rejeter, a_recycler…), "
        "valider ou refuser comme valideur, compléter ou recycler comme fournisseur. Erreurs : 404 `introuvable`, "
        "403 `acces_refuse` (action réservée à un autre rôle), 409 `conflit` (`expected_status` dépassé), "
        "422 `erreur_metier` (action impossible depuis le statut courant, motif manquant…)."
    ),
)
def invoices_transition(request, invoice_id: int, payload: TransitionIn):
    invoice = _get_or_404(request, invoice_id)
    if payload.transition not in API_TRANSITIONS:
        known = payload.transition in TRANSITIONS_BY_NAME
        raise Problem(
            "erreur_metier",
            (
                f"L'action « {payload.transition} » (recyclage, correction du valideur) se fait par l'API "
                "compatible Chorus Pro (/cpro/factures/v1/…) ou sur le portail."
                if known
                else f"Action inconnue : « {payload.transition[:60]} ». Actions de cette API : "
                f"{', '.join(API_TRANSITIONS)} ; celles possibles sur une facture sont dans "
                "`available_transitions` de GET /api/v1/invoices/{id}."
            ),
            errors=[{"field": "transition", "code": "transition_inconnue", "message": "Action indisponible ici."}],
        )
    _process(invoice=invoice, structure=_caller(request), payload=payload)
    return _detail(request, _get_or_404(request, invoice_id))
