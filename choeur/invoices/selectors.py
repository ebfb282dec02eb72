"""Reads of payment requests, always bounded to the structures of the person asking
(`Structure.objects.of_user`): the portal's lists, the API's searches and the dashboards go through here."""

from __future__ import annotations

from django.db.models import QuerySet

from choeur.core.errors import NotFoundError
from choeur.directory.enums import EspaceCode
from choeur.directory.models import Rattachement, Structure
from choeur.directory.selectors import user_can as directory_user_can
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import Invoice, InvoiceEvent, InvoiceStatusChange, InvoiceTemplate

_RELATED = (
    "supplier",
    "recipient",
    "recipient_service",
    "valideur",
    "valideur2",
    "supplier_bank_account",
    "main_document",
    "certificate",
)


def user_belongs_to(*, user, structure: Structure) -> bool:
    """A validated rattachement of `user` to `structure` (whatever the espaces)."""
    if user is None or not getattr(user, "is_active", False):
        return False
    return Rattachement.objects.validated().filter(user=user, structure=structure).exists()


def user_can(user, structure: Structure, espace_code: str, write: bool = False) -> bool:
    """The directory's single permission predicate (rattachement validated, espace open, habilitation)."""
    return directory_user_can(user, structure, espace_code, write=write)


def structures_of(user) -> QuerySet[Structure]:
    return Structure.objects.of_user(user)


def invoices_visible_to(*, user) -> QuerySet[Invoice]:
    """Every invoice any of the user's structures is party to (supplier, recipient once received,
    valideur, MOE, MOA)."""
    return Invoice.objects.visible_to_structures(structures_of(user)).select_related(*_RELATED)


def invoice_get_for_user(*, user, invoice_id: int) -> Invoice:
    """One invoice the user may see; NotFoundError (never « forbidden », which would leak existence)."""
    invoice = invoices_visible_to(user=user).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFoundError("Facture introuvable, ou vous n'y avez pas accès.")
    return invoice


def invoices_issued(*, user, structure: Structure | None = None, status: str | None = None) -> QuerySet[Invoice]:
    """Invoices issued by the user's structures (« Factures émises »), drafts included, newest first."""
    structures = structures_of(user)
    if structure is not None:
        structures = structures.filter(pk=structure.pk)
    queryset = Invoice.objects.issued_by(structures).select_related(*_RELATED)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def invoice_drafts(*, user, structure: Structure | None = None) -> QuerySet[Invoice]:
    return invoices_issued(user=user, structure=structure, status=InvoiceStatus.BROUILLON)


def invoices_received(*, user, structure: Structure | None = None) -> QuerySet[Invoice]:
    """Invoices that reached the user's structures as recipient (« Factures reçues »), newest deposit first."""
    structures = structures_of(user)
    if structure is not None:
        structures = structures.filter(pk=structure.pk)
    return Invoice.objects.received_by(structures).select_related(*_RELATED).order_by("-deposited_at", "-id")


def invoices_to_validate(*, user, structure: Structure | None = None) -> QuerySet[Invoice]:
    """Invoices waiting for one of the user's structures as valideur (« Factures à valider »)."""
    structures = structures_of(user)
    if structure is not None:
        structures = structures.filter(pk=structure.pk)
    return Invoice.objects.to_validate_by(structures).select_related(*_RELATED).order_by("deposited_at", "id")


def invoice_find_sent(*, supplier: Structure, number: str) -> Invoice | None:
    """The sent invoice of `supplier` with this number (numbers are unique per supplier once sent)."""
    return Invoice.objects.sent().filter(supplier=supplier, number=number).first()


def invoice_history(*, invoice: Invoice) -> list[InvoiceStatusChange | InvoiceEvent]:
    """Status changes and other actions, in chronological order (the « Historique » tab)."""
    changes = list(InvoiceStatusChange.objects.for_invoice(invoice).select_related("actor_user", "actor_structure"))
    events = list(InvoiceEvent.objects.filter(invoice=invoice).select_related("actor_user", "actor_structure"))
    return sorted([*changes, *events], key=lambda item: (item.created_at, item.pk))


def invoice_templates(*, supplier: Structure) -> QuerySet[InvoiceTemplate]:
    return InvoiceTemplate.objects.filter(supplier=supplier).order_by("name")


def can_issue_for(*, user, structure: Structure) -> bool:
    """May the user create and send invoices for `structure` (espace Factures émises, modification)?"""
    return user_can(user, structure, EspaceCode.FACTURES_EMISES, write=True)
