"""Reads of engagements juridiques (EJ), bounded to the structures of the person (or API caller) asking, and
what invoices consumed of each EJ.

An invoice consumes an EJ when it was sent to the EJ's structure by the EJ's supplier with the EJ's number in
`numero_engagement` (case aside). Amounts are TTC, an avoir counts negative:

- *facturé*: every sent invoice still alive (not rejected, refused, abandoned, deleted or to be re-routed);
- *validé*: those the buyer processed (service fait, mandatée, comptabilisée … mise en paiement);
- *payé*: those mises en paiement;
- *reste à facturer*: the EJ's amount minus what was invoiced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from choeur.core.errors import NotFoundError
from choeur.directory.enums import EngagementState, EspaceCode
from choeur.directory.models import EngagementJuridique, Service, Structure
from choeur.directory.selectors import user_can
from choeur.invoices.enums import InvoiceStatus, InvoiceType
from choeur.invoices.models import Invoice
from choeur.invoices.search_keys import SearchKey, upper_like_database

S = InvoiceStatus
NOT_CONSUMING = frozenset(
    {
        S.BROUILLON,
        S.REJETEE,
        S.SUPPRIMEE,
        S.ABANDONNEE,
        S.REFUSEE_1,
        S.REFUSEE_2,
        S.NON_CONFORME,
        S.A_RECYCLER,
        *(status for status in S.values if status.startswith("ERREUR_")),
    }
)
VALIDATED = frozenset(
    {S.SERVICE_FAIT, S.MANDATEE, S.MISE_A_DISPOSITION_COMPTABLE, S.COMPTABILISEE, S.MISE_EN_PAIEMENT}
)
PAID = frozenset({S.MISE_EN_PAIEMENT})
ZERO = Decimal("0.00")
_RELATED = ("structure", "supplier", "service", "document")


@dataclass(frozen=True)
class Consumption:
    invoiced: Decimal = ZERO
    validated: Decimal = ZERO
    paid: Decimal = ZERO
    invoices: int = 0


@dataclass(frozen=True)
class EngagementRow:
    engagement: EngagementJuridique
    consumption: Consumption

    @property
    def invoiced(self) -> Decimal:
        return self.consumption.invoiced

    @property
    def validated(self) -> Decimal:
        return self.consumption.validated

    @property
    def paid(self) -> Decimal:
        return self.consumption.paid

    @property
    def remaining(self) -> Decimal:
        return self.engagement.amount_ttc - self.consumption.invoiced

    @property
    def percent_invoiced(self) -> int:
        amount = self.engagement.amount_ttc
        return int(min(self.consumption.invoiced / amount * 100, 999)) if amount else 0


# --- Who reads what -------------------------------------------------------------------------------------


def buyer_structures(*, user) -> list[Structure]:
    """The public structures whose EJs `user` reads (espace « Engagements » or « Factures reçues »)."""
    return [
        structure
        for structure in Structure.objects.of_user(user).public().order_by("raison_sociale")
        if any(user_can(user, structure, code) for code in (EspaceCode.ENGAGEMENTS, EspaceCode.FACTURES_RECUES))
    ]


def supplier_structures(*, user) -> list[Structure]:
    """The structures for which `user` reads the EJs addressed to them (« Engagements » or « Factures émises »)."""
    return [
        structure
        for structure in Structure.objects.of_user(user).order_by("raison_sociale")
        if any(user_can(user, structure, code) for code in (EspaceCode.ENGAGEMENTS, EspaceCode.FACTURES_EMISES))
    ]


def engagements_of_buyer(*, user, structure: Structure | None = None) -> QuerySet[EngagementJuridique]:
    """EJs recorded by the user's public structures (« Mes engagements »)."""
    structures = buyer_structures(user=user)
    if structure is not None:
        structures = [s for s in structures if s.pk == structure.pk]
    return EngagementJuridique.objects.of_buyers(structures).select_related(*_RELATED)


def engagements_addressed(*, user, structure: Structure | None = None) -> QuerySet[EngagementJuridique]:
    """EJs public structures addressed to the user's structures (« Engagements reçus »)."""
    structures = supplier_structures(user=user)
    if structure is not None:
        structures = [s for s in structures if s.pk == structure.pk]
    return EngagementJuridique.objects.addressed_to(structures).select_related(*_RELATED)


def engagement_get_for_user(*, user, engagement_id: int) -> tuple[EngagementJuridique, str]:
    """One EJ and the user's side of it (« acheteur » or « fournisseur »); NotFoundError otherwise (never
    « forbidden », which would say that it exists)."""
    engagement = engagements_of_buyer(user=user).filter(pk=engagement_id).first()
    if engagement is not None:
        return engagement, "acheteur"
    engagement = engagements_addressed(user=user).filter(pk=engagement_id).first()
    if engagement is not None:
        return engagement, "fournisseur"
    raise NotFoundError("Engagement juridique introuvable, ou vous n'y avez pas accès.")


def engagements_for_caller(*, caller: Structure) -> QuerySet[EngagementJuridique]:
    """The API's bound: EJs the calling structure recorded or that are addressed to it."""
    return EngagementJuridique.objects.filter(Q(structure=caller) | Q(supplier=caller)).select_related(*_RELATED)


# --- Consumption ----------------------------------------------------------------------------------------


def _upper(number: str) -> str:
    """The number as the database's UPPER() folds it: the same expression as the index on invoices'
    `numero_engagement` (invoices_engagement_key), so the match uses it."""
    return upper_like_database((number or "").strip(), connection.vendor)


def _key(structure_id: int, supplier_id: int, number: str) -> tuple[int, int, str]:
    return structure_id, supplier_id, _upper(number)


def engagement_consumptions(engagements: Iterable[EngagementJuridique]) -> dict[int, Consumption]:
    """What the invoices consumed of each EJ, by EJ id, in one grouped query."""
    engagements = list(engagements)
    if not engagements:
        return {}
    keys = {_key(e.structure_id, e.supplier_id, e.number): e.pk for e in engagements}
    sums: dict[tuple, dict[str, Decimal | int]] = {}
    rows = (
        Invoice.objects.exclude(status__in=NOT_CONSUMING)
        .filter(
            recipient_id__in={k[0] for k in keys},
            supplier_id__in={k[1] for k in keys},
            numero_engagement__gt="",
        )
        .annotate(ej_key=SearchKey("numero_engagement"))
        .filter(ej_key__in={k[2] for k in keys})
        .values("recipient_id", "supplier_id", "ej_key", "status", "invoice_type")
        .annotate(total=Sum("total_ttc"), count=Count("id"))
        .order_by()
    )
    for row in rows:
        key = (row["recipient_id"], row["supplier_id"], row["ej_key"])
        if key not in keys:
            continue
        amount = row["total"] or ZERO
        if row["invoice_type"] == InvoiceType.AVOIR:
            amount = -amount
        bucket = sums.setdefault(key, {"invoiced": ZERO, "validated": ZERO, "paid": ZERO, "invoices": 0})
        bucket["invoiced"] += amount
        bucket["invoices"] += row["count"] or 0
        if row["status"] in VALIDATED:
            bucket["validated"] += amount
        if row["status"] in PAID:
            bucket["paid"] += amount
    return {pk: Consumption(**sums[key]) if key in sums else Consumption() for key, pk in keys.items()}


def engagements_with_consumption(engagements: Iterable[EngagementJuridique]) -> list[EngagementRow]:
    engagements = list(engagements)
    consumptions = engagement_consumptions(engagements)
    return [EngagementRow(e, consumptions.get(e.pk, Consumption())) for e in engagements]


def engagement_invoices(engagement: EngagementJuridique) -> QuerySet[Invoice]:
    """The sent invoices that carry this EJ's number (the dead ones too, shown with their status)."""
    return (
        Invoice.objects.sent()
        .filter(recipient_id=engagement.structure_id, supplier_id=engagement.supplier_id)
        .annotate(ej_key=SearchKey("numero_engagement"))
        .filter(ej_key=_upper(engagement.number))
        .select_related("supplier", "recipient")
        .order_by("-deposited_at", "-id")
    )


def engagements_proposed(
    *, supplier: Structure, recipient: Structure | None, service: Service | None = None
) -> list[EngagementRow]:
    """The open EJs (état COMMANDE) `recipient` addressed to `supplier`, those of the chosen service (or of no
    particular service) first: what the invoice form proposes."""
    if recipient is None:
        return []
    queryset = EngagementJuridique.objects.filter(
        structure=recipient, supplier=supplier, state=EngagementState.COMMANDE
    ).select_related(*_RELATED)
    if service is not None:
        queryset = queryset.filter(Q(service=service) | Q(service__isnull=True))
    return engagements_with_consumption(queryset.order_by("-notified_on", "number")[:50])


def engagement_for_invoice(invoice: Invoice) -> EngagementJuridique | None:
    """The EJ an invoice's `numero_engagement` designates, when the recipient recorded it for this supplier."""
    number = (invoice.numero_engagement or "").strip()
    if not number or invoice.recipient_id is None:
        return None
    return (
        EngagementJuridique.objects.filter(
            structure_id=invoice.recipient_id, supplier_id=invoice.supplier_id, number__iexact=number
        )
        .select_related(*_RELATED)
        .first()
    )


def engagement_overrun(invoice: Invoice) -> tuple[EngagementRow, Decimal] | None:
    """(the EJ row, by how much) when a draft's TTC exceeds what remains of the EJ it carries; else None.
    A warning for the supplier, never a refusal (chorus-pro.md §8.6: the EJ number is checked, not the amount)."""
    engagement = engagement_for_invoice(invoice)
    if engagement is None or invoice.total_ttc is None or invoice.invoice_type == InvoiceType.AVOIR:
        return None
    [row] = engagements_with_consumption([engagement])
    already = row.invoiced
    if not invoice.is_draft and invoice.status not in NOT_CONSUMING:
        already -= invoice.total_ttc  # a sent invoice is already counted
    excess = already + invoice.total_ttc - engagement.amount_ttc
    return (row, excess) if excess > 0 else None
