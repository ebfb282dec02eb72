"""The lists served by `transverses/v1/recuperer/*`, read from where the rest of Chœur takes them.

Nothing here is a second copy: cadres, deposit and payment modes come from the invoices app, flow formats
from the syntaxes the flows app accepts, VAT rates, exemptions, currencies, countries and the
non-invoice attachment types from `choeur.core.referentials`. Only the lists no other app owns yet (the
works invoice types) are defined here.
"""

from __future__ import annotations

from dataclasses import dataclass

from choeur.core import referentials as core
from choeur.directory.enums import IdentifierType
from choeur.flows.enums import SyntaxeFlux
from choeur.invoices.cadres import CADRE_RULES
from choeur.invoices.enums import AttachmentType as InvoiceAttachmentType
from choeur.invoices.enums import ModeDepot, PaymentMode, TypeDemandePaiement

# `typeFactureTravaux` [PHP ITypeFactureTravaux] (chorus-pro.md §5.1).
TYPES_FACTURE_TRAVAUX: tuple[str, ...] = (
    "DP_DE_SOUSTRAITANT_TRAVAUX",
    "PROJET_DECOMPTE_MENSUEL",
    "ETAT_ACOMPTE",
    "ETAT_ACOMPTE_VALIDE",
    "PROJET_DECOMPTE_FINAL",
    "PROJET_DECOMPTE_GENERAL",
    "PROJET_DECOMPTE_GENERAL_PROCEDURE_TACITE",
    "DECOMPTE_GENERAL",
    "DECOMPTE_GENERAL_SIGNE",
    "DECOMPTE_GENERAL_DEFINITIF_TACITE",
    "DECOMPTE_GENERAL_DEFINITIF_PROCEDURE_TACITE",
)

# `formatFlux` [PHP IFormatFlux]: the family of each accepted `syntaxeFlux`.
FORMAT_E1_STRUCT = "IN_DP_E1_STRUCT"
FORMAT_E2_MIXTE = "IN_DP_E2_MIXTE"
FORMAT_E2_FACTURX = "IN_DP_E2_FACTURX"


def _format_of(syntax: str) -> str | None:
    if syntax.startswith("IN_DP_E1_"):
        return FORMAT_E1_STRUCT
    if syntax == "IN_DP_E2_CII_FACTURX":
        return FORMAT_E2_FACTURX
    if syntax.startswith("IN_DP_E2_"):
        return FORMAT_E2_MIXTE
    return None


def formats_flux() -> list[str]:
    """The formats for which the flows app accepts at least one syntax, in Chorus Pro's order."""
    accepted = {_format_of(syntax) for syntax in SyntaxeFlux.values}
    return [fmt for fmt in (FORMAT_E1_STRUCT, FORMAT_E2_MIXTE, FORMAT_E2_FACTURX) if fmt in accepted]


def modes_depot() -> list[str]:
    return list(ModeDepot.values)


def modes_paiement() -> list[str]:
    return list(PaymentMode.values)


def types_demande_paiement() -> list[str]:
    return list(TypeDemandePaiement.values)


def cadres_facturation(type_demande_paiement: str | None = None) -> list[str]:
    """Every cadre A1…A25 (API strings), or those of one type of payment request, in cadre order."""
    return [
        rule.api_value
        for rule in CADRE_RULES.values()
        if type_demande_paiement is None or rule.type_demande_paiement == type_demande_paiement
    ]


def types_identifiant_structure() -> list[str]:
    return list(IdentifierType.values)


# Invoice attachment types keep stable numeric ids on the API: clients store them. A new invoices type must
# get the next free id here (tests/api fail until it does).
INVOICE_ATTACHMENT_TYPE_IDS: dict[str, int] = {
    InvoiceAttachmentType.PIECE_JUSTIFICATIVE: 1,
    InvoiceAttachmentType.BON_DE_COMMANDE: 2,
    InvoiceAttachmentType.BON_DE_LIVRAISON: 3,
    InvoiceAttachmentType.PROCES_VERBAL: 4,
    InvoiceAttachmentType.DEVIS: 5,
    InvoiceAttachmentType.CONTRAT: 6,
    InvoiceAttachmentType.RIB: 7,
    InvoiceAttachmentType.DONNEES_STRUCTUREES: 8,
    InvoiceAttachmentType.AUTRE: 9,
}


@dataclass(frozen=True)
class PieceJointeType:
    id: int
    code: str
    label: str
    object_type: str


def types_piece_jointe(object_type: str | None = None) -> list[PieceJointeType]:
    """`recuperer/typespj`: the invoices' attachment types for FACTURE, the core table for the others."""
    types: list[PieceJointeType] = []
    if object_type in (None, "FACTURE"):
        types += [
            PieceJointeType(INVOICE_ATTACHMENT_TYPE_IDS[choice.value], choice.value, choice.label, "FACTURE")
            for choice in InvoiceAttachmentType
        ]
    types += [
        PieceJointeType(t.id, t.code, t.label, t.object_type) for t in core.attachment_types(object_type or None)
    ]
    return sorted(types, key=lambda t: t.id)
