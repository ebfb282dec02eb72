"""The valideur's operations (chorus-pro.md §6.3, §8.3): the titulaire or mandataire who validates A9/A12
invoices searches them, reads one, answers (`traiter/factureAValider`); the supplier names another valideur
(`corriger/valideur/facture`); and two referentials (refusal reasons, statuses a valideur sees).

Mounted at the root of /cpro/ because it spans two PISTE APIs (`factures/v1/…` and `transverses/v1/…`).
Every read is bounded by the caller's structure: an invoice it is not valideur of answers « introuvable ».
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import Q
from django.utils import timezone
from ninja import Router, Schema
from pydantic import BeforeValidator, Field, model_validator

from choeur.api.cpro.envelope import INVALID_VALUE, MISSING_FIELD, CproError, list_result, not_found, ok
from choeur.api.cpro.pagination import PaginationIn, fold_list_page_fields, paginate_queryset
from choeur.api.cpro.routing import cpro_post
from choeur.api.cpro.schemas import (
    CodeLangue,
    CproIn,
    CproObject,
    CproOut,
    OptionalBool,
    OptionalStr,
    ParametresRetour,
    TypeIdentifiant,
    chorus_datetime,
    empty_to_none,
)
from choeur.core.errors import ApplicationError
from choeur.directory.enums import IdentifierType
from choeur.directory.models import Service, Structure
from choeur.invoices.enums import Cadre, Channel, InvoiceStatus, InvoiceType
from choeur.invoices.models import Invoice
from choeur.invoices.validation_circuit import (
    ERREUR_VALIDEUR,
    REFUS,
    VALIDATION,
    VALIDEUR_VISIBLE_STATUSES,
    invoice_validate,
    invoice_valideur_correct,
    invoices_seen_by_valideur,
    refusal_motifs_for,
    validation_deadline,
    validation_level,
)

router = Router(tags=["Factures à valider"])

_RELATED = (
    "supplier",
    "supplier_service",
    "recipient",
    "recipient_service",
    "valideur",
    "valideur_service",
    "valideur2",
    "valideur2_service",
    "moa",
    "moe",
    "supplier_bank_account",
)

# Actions of `traiter/factureAValider` a valideur may take. Chorus Pro's list also holds recipient actions
# (MISE_EN_PAIEMENT, SUSPENSION, REJET); which value means « je ne suis pas le bon valideur » is not public:
# Chœur names it ERREUR_VALIDEUR and reads MISE_EN_RECYCLAGE (back to the supplier to fix the routing) the same.
ACTIONS = {
    VALIDATION: VALIDATION,
    REFUS: REFUS,
    ERREUR_VALIDEUR: ERREUR_VALIDEUR,
    "MISE_EN_RECYCLAGE": ERREUR_VALIDEUR,
}
RECIPIENT_ACTIONS = ("MISE_EN_PAIEMENT", "SUSPENSION", "REJET")


def zero_to_none(value: Any) -> Any:
    """The Go client sends 0 for every id (or amount) left empty: it means « no criterion »."""
    value = empty_to_none(value)
    if value == 0 and not isinstance(value, bool):
        return None
    return value


def date_part(value: Any) -> Any:
    """A date, or the date of a date-time (`2026-03-02T00:00:00Z`, as the Go client sends some periods)."""
    value = empty_to_none(value)
    if isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        return value[:10]
    return value


def cadre_code(value: Any) -> Any:
    """`cadreFacturation` as a code, or as the object `{codeCadreFacturation: …}` the Go client sends."""
    if isinstance(value, dict):
        value = value.get("codeCadreFacturation")
    return empty_to_none(value)


OptionalId = Annotated[int | None, BeforeValidator(zero_to_none)]
OptionalAmount = Annotated[Decimal | None, BeforeValidator(zero_to_none)]
OptionalDate = Annotated[datetime.date | None, BeforeValidator(date_part)]
CadreCriterion = Annotated[str | None, BeforeValidator(cadre_code)]


def _amount(value) -> float | None:
    return None if value is None else float(value)


def _date(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        value = timezone.localdate(value)
    return value.isoformat()


def _cadre_value(code: str, field: str) -> str:
    try:
        return Cadre.from_code(code).value
    except ValueError:
        raise CproError(
            INVALID_VALUE,
            f"Le champ « {field} » vaut « {code[:60]} », cadre de facturation inconnu : utilisez un code A1 à A25 "
            "(par exemple « A9_FACTURE_SOUSTRAITANT »).",
        ) from None


def _statuses(values: list[str], field: str) -> list[str]:
    wanted = [v.strip().upper() for v in values if v and v.strip()]
    unknown = [v for v in wanted if v not in InvoiceStatus.values]
    if unknown:
        raise CproError(INVALID_VALUE, f"Le champ « {field} » contient un statut inconnu : « {unknown[0][:60]} ».")
    return wanted


# ---------------------------------------------------------------------------------------------------
# factures/v1/rechercher/valideur
# ---------------------------------------------------------------------------------------------------


class RechercherValideurIn(CproIn):
    cadreFacturation: CadreCriterion = None
    idDestinataire: OptionalId = None
    idFournisseur: OptionalId = None
    idServiceExecutant: OptionalId = None
    idServiceFournisseur: OptionalId = None
    idStructureMoa: OptionalId = None
    idStructureMoe: OptionalId = None
    idStructureValideur: OptionalId = None
    listeTypeFacture: list[str] | None = None
    listeTypeFactureTravaux: list[str] | None = None
    montantAPayerMax: OptionalAmount = None
    montantAPayerMin: OptionalAmount = None
    montantHTMax: OptionalAmount = None
    montantHTMin: OptionalAmount = None
    montantTTCMax: OptionalAmount = None
    montantTTCMin: OptionalAmount = None
    numeroEngagement: OptionalStr = None
    numeroFacture: OptionalStr = None
    numeroMarche: OptionalStr = None
    pagination: PaginationIn | None = None
    periodeDateDepotAu: OptionalDate = None
    periodeDateDepotDu: OptionalDate = None
    periodeDateFactureAu: OptionalDate = None
    periodeDateFactureDu: OptionalDate = None
    rechercheSirenDestinataire: OptionalBool = None
    rechercheSirenFournisseur: OptionalBool = None
    statutCourant: list[str] | None = None
    typeDemandePaiement: OptionalStr = None


class FactureParValideur(Schema):
    idFacture: int
    numeroFacture: str
    typeFacture: str
    typeDemandePaiement: str
    cadreFacturation: str
    statut: str
    niveauValidation: int | None
    dateLimiteValidation: str | None
    dateFacture: str | None
    dateDepot: str | None
    dateHeureEtatCourant: str | None
    devise: str
    montantHT: float | None
    montantTTC: float | None
    montantAPayer: float | None
    idFournisseur: int
    identifiantFournisseur: str
    typeIdentifiantFournisseur: str
    designationFournisseur: str
    codeServiceFournisseur: str | None
    nomServiceFournisseur: str | None
    idDestinataire: int | None
    identifiantDestinataire: str | None
    typeIdentifiantDestinataire: str | None
    designationDestinataire: str | None
    idServiceExecutant: int | None
    codeServiceExecutant: str | None
    nomServiceExecutant: str | None
    idValideur: int
    identifiantValideur: str
    typeIdentifiantValideur: str
    designationValideur: str
    idMoa: int | None
    designationMoa: str | None
    idMoe: int | None
    designationMoe: str | None
    numeroMarche: str
    numeroEngagement: str


class RechercherValideurOut(CproOut):
    listeFactures: list[FactureParValideur] | None = None
    parametresRetour: ParametresRetour | None = None


VALIDEUR_SORT = {
    "DateDepot": ("deposited_at",),
    "DateFacture": ("invoice_date",),
    "NumeroFacture": ("number",),
    "Statut": ("status",),
    "MontantTTC": ("total_ttc",),
    "DateHeureEtatCourant": ("status_changed_at",),
}


def _siren_or_structure(prefix: str, structure_id: int, by_siren: bool) -> Q:
    if not by_siren:
        return Q(**{f"{prefix}_id": structure_id})
    structure = Structure.objects.filter(pk=structure_id).values("identifier").first()
    if structure is None:
        return Q(pk__in=[])
    return Q(**{f"{prefix}__identifier__startswith": structure["identifier"][:9]})


def _filter(queryset, payload: RechercherValideurIn):
    if payload.cadreFacturation:
        queryset = queryset.filter(cadre=_cadre_value(payload.cadreFacturation, "cadreFacturation"))
    if payload.idFournisseur is not None:
        queryset = queryset.filter(
            _siren_or_structure("supplier", payload.idFournisseur, bool(payload.rechercheSirenFournisseur))
        )
    if payload.idDestinataire is not None:
        queryset = queryset.filter(
            _siren_or_structure("recipient", payload.idDestinataire, bool(payload.rechercheSirenDestinataire))
        )
    simple = {
        "idServiceExecutant": "recipient_service_id",
        "idServiceFournisseur": "supplier_service_id",
        "idStructureMoa": "moa_id",
        "idStructureMoe": "moe_id",
        "numeroEngagement": "numero_engagement",
        "numeroFacture": "number",
        "numeroMarche": "numero_marche",
        "typeDemandePaiement": "type_demande_paiement",
        "montantAPayerMin": "montant_a_payer__gte",
        "montantAPayerMax": "montant_a_payer__lte",
        "montantHTMin": "total_ht__gte",
        "montantHTMax": "total_ht__lte",
        "montantTTCMin": "total_ttc__gte",
        "montantTTCMax": "total_ttc__lte",
        "periodeDateFactureDu": "invoice_date__gte",
        "periodeDateFactureAu": "invoice_date__lte",
        "periodeDateDepotDu": "deposited_at__date__gte",
        "periodeDateDepotAu": "deposited_at__date__lte",
    }
    for wire, lookup in simple.items():
        value = getattr(payload, wire)
        if value is not None:
            queryset = queryset.filter(**{lookup: value})
    if payload.listeTypeFacture:
        types = [t.strip().upper() for t in payload.listeTypeFacture if t and t.strip()]
        unknown = [t for t in types if t not in InvoiceType.values]
        if unknown:
            raise CproError(
                INVALID_VALUE,
                f"Le champ « listeTypeFacture » contient « {unknown[0][:40]} » : valeurs possibles FACTURE, AVOIR.",
            )
        if types:
            queryset = queryset.filter(invoice_type__in=types)
    if payload.statutCourant:
        statuses = _statuses(payload.statutCourant, "statutCourant")
        if statuses:
            queryset = queryset.filter(status__in=statuses)
    return queryset


def _facture_par_valideur(invoice: Invoice, caller: Structure) -> dict:
    # The valideur the caller is: level 2 when it is the invoice's level-2 valideur, else level 1.
    valideur = invoice.valideur2 if invoice.valideur2_id == caller.pk else invoice.valideur
    deadline = validation_deadline(invoice)
    return {
        "idFacture": invoice.pk,
        "numeroFacture": invoice.number,
        "typeFacture": invoice.invoice_type,
        "typeDemandePaiement": invoice.type_demande_paiement,
        "cadreFacturation": invoice.cadre,
        "statut": invoice.status,
        "niveauValidation": validation_level(invoice),
        "dateLimiteValidation": chorus_datetime(deadline),
        "dateFacture": _date(invoice.invoice_date),
        "dateDepot": _date(invoice.deposited_at),
        "dateHeureEtatCourant": chorus_datetime(invoice.status_changed_at),
        "devise": invoice.currency,
        "montantHT": _amount(invoice.total_ht),
        "montantTTC": _amount(invoice.total_ttc),
        "montantAPayer": _amount(invoice.montant_a_payer),
        "idFournisseur": invoice.supplier_id,
        "identifiantFournisseur": invoice.supplier.identifier,
        "typeIdentifiantFournisseur": invoice.supplier.identifier_type,
        "designationFournisseur": invoice.supplier.designation,
        "codeServiceFournisseur": invoice.supplier_service.code if invoice.supplier_service else None,
        "nomServiceFournisseur": invoice.supplier_service.libelle if invoice.supplier_service else None,
        "idDestinataire": invoice.recipient_id,
        "identifiantDestinataire": invoice.recipient.identifier if invoice.recipient else None,
        "typeIdentifiantDestinataire": invoice.recipient.identifier_type if invoice.recipient else None,
        "designationDestinataire": invoice.recipient.designation if invoice.recipient else None,
        "idServiceExecutant": invoice.recipient_service_id,
        "codeServiceExecutant": invoice.recipient_service.code if invoice.recipient_service else None,
        "nomServiceExecutant": invoice.recipient_service.libelle if invoice.recipient_service else None,
        "idValideur": valideur.pk,
        "identifiantValideur": valideur.identifier,
        "typeIdentifiantValideur": valideur.identifier_type,
        "designationValideur": valideur.designation,
        "idMoa": invoice.moa_id,
        "designationMoa": invoice.moa.designation if invoice.moa else None,
        "idMoe": invoice.moe_id,
        "designationMoe": invoice.moe.designation if invoice.moe else None,
        "numeroMarche": invoice.numero_marche,
        "numeroEngagement": invoice.numero_engagement,
    }


@cpro_post(
    router,
    "factures/v1/rechercher/valideur",
    RechercherValideurOut,
    operation_id="rechercherFactureParValideur",
    summary="Rechercher les factures à valider (valideur)",
    description=(
        "Les factures A9 (sous-traitant) et A12 (cotraitant) dont votre structure est valideur : de niveau 1, "
        "ou de niveau 2 une fois la facture parvenue à ce niveau. Sans `statutCourant`, tous les statuts visibles "
        "d'un valideur (`recuperer/statutsFactureVisibles/valideur`). `dateLimiteValidation` (propre à Chœur) : "
        "fin du délai de 15 jours, après laquelle la validation est tacite."
    ),
)
def rechercher_valideur(request, payload: RechercherValideurIn):
    caller = request.cpro.structure
    if payload.idStructureValideur is not None and payload.idStructureValideur != caller.pk:
        # Another structure's invoices to validate are not the caller's to read.
        return list_result("listeFactures", [], parametresRetour=_empty_page(payload))
    queryset = _filter(invoices_seen_by_valideur(structure=caller).select_related(*_RELATED), payload)
    page = paginate_queryset(
        queryset, payload.pagination, wire_name="pagination", columns=VALIDEUR_SORT, default_column="DateDepot"
    )
    items = [_facture_par_valideur(invoice, caller) for invoice in page.items]
    return list_result("listeFactures", items, parametresRetour=page.parametres_retour())


def _empty_page(payload: RechercherValideurIn) -> dict:
    page = paginate_queryset(
        Invoice.objects.none(),
        payload.pagination,
        wire_name="pagination",
        columns=VALIDEUR_SORT,
        default_column="DateDepot",
    )
    return page.parametres_retour()


# ---------------------------------------------------------------------------------------------------
# factures/v1/consulter/valideur
# ---------------------------------------------------------------------------------------------------


class PaginationLignes(CproObject):
    pageResultatDemandee: OptionalId = Field(None, ge=0)
    nbResultatsParPage: OptionalId = Field(None, ge=0, le=10_000)
    triColonne: OptionalStr = None
    triSens: OptionalStr = None

    # The Go client names each field after its sub-list (`nbResultatsParPageLignesPoste`…): same meaning.
    @model_validator(mode="before")
    @classmethod
    def _list_page_fields(cls, data):
        return fold_list_page_fields(data)


class ConsulterValideurIn(CproIn):
    identifiantFactureCPP: OptionalId = None
    # The Go client sends `idFacture` in its other factures operations; accepted as the same thing.
    idFacture: OptionalId = None
    codeLangue: CodeLangue = None
    rechercheLignePoste: PaginationLignes | None = None
    recherchePj: PaginationLignes | None = None
    rechercheligneTvaRecap: PaginationLignes | None = None


class ConsulterValideurOut(CproOut):
    facture: dict | None = None


def _slice(items: list, params: PaginationLignes | None) -> tuple[list, dict]:
    page = (params.pageResultatDemandee if params else None) or 1
    size = (params.nbResultatsParPage if params else None) or max(len(items), 1)
    start = (page - 1) * size
    chosen = items[start : start + size]
    pages = (len(items) + size - 1) // size if items else 0
    return chosen, {"page": page, "size": size, "pages": pages, "total": len(items)}


def _cadre_block(invoice: Invoice) -> dict:
    block: dict[str, Any] = {"codeCadreFacturation": invoice.cadre}
    for level, structure, service in (
        (1, invoice.valideur, invoice.valideur_service),
        (2, invoice.valideur2, invoice.valideur2_service),
    ):
        if structure is None:
            continue
        block.update(
            {
                f"idValideur{level}": structure.pk,
                f"codeValideur{level}": structure.identifier,
                f"typeIdentifiantValideur{level}": structure.identifier_type,
                f"raisonSocialeValideur{level}": structure.raison_sociale,
                f"nomValideur{level}": structure.nom,
                f"prenomValideur{level}": structure.prenom,
                f"codeServiceValideur{level}": service.code if service else None,
                f"dateValidation{level}": _date(_validated_at(invoice, level)),
            }
        )
    if invoice.valideur2 is not None:
        block["designationValideur2"] = invoice.valideur2.designation
    block["niveauValidation"] = validation_level(invoice)
    block["dateLimiteValidation"] = chorus_datetime(validation_deadline(invoice))
    return block


def _validated_at(invoice: Invoice, level: int) -> datetime.datetime | None:
    change = (
        invoice.status_changes.filter(transition__in=[f"valider_{level}", f"valider_tacitement_{level}"])
        .order_by("-created_at", "-id")
        .first()
    )
    return change.created_at if change else None


def _facture(invoice: Invoice, payload: ConsulterValideurIn) -> dict:
    supplier, recipient = invoice.supplier, invoice.recipient
    account = invoice.supplier_bank_account
    lines, lines_page = _slice(list(invoice.lines.all()), payload.rechercheLignePoste)
    vat_lines, vat_page = _slice(list(invoice.vat_lines.all()), payload.rechercheligneTvaRecap)
    attachments, pj_page = _slice(list(invoice.attachments.all()), payload.recherchePj)
    return {
        "identifiantFactureCPP": invoice.pk,
        "numeroFacture": invoice.number,
        "statutFacture": invoice.status,
        "modeDepot": invoice.mode_depot,
        "commentaire": invoice.comment,
        "cadreDeFacturation": _cadre_block(invoice),
        "fournisseur": {
            "idFournisseur": supplier.pk,
            "codeFournisseur": supplier.identifier,
            "typeIdentifiantFournisseur": supplier.identifier_type,
            "designationFournisseur": supplier.designation,
            "numeroRcsFournisseur": supplier.numero_rcs,
            "idServiceFournisseur": invoice.supplier_service_id,
            "codeServiceFournisseur": invoice.supplier_service.code if invoice.supplier_service else None,
            "libelleServiceFournisseur": invoice.supplier_service.libelle if invoice.supplier_service else None,
            "adresseFournisseurDetail": supplier.adresse,
            "adresseFournisseurCodePostal": supplier.code_postal,
            "adresseFournisseurVille": supplier.ville,
            "adresseFournisseurCodePays": supplier.pays,
            # Bank details are the supplier's and the payer's business: the valideur reads only which account.
            "coordBancairesFournisseurId": account.pk if account else None,
            "coordBancairesFournisseurLibelle": account.label if account else None,
        },
        "destinataire": {
            "idDestinataire": recipient.pk if recipient else None,
            "codeDestinataire": recipient.identifier if recipient else None,
            "libelleDestinataire": recipient.designation if recipient else None,
            "idServiceExecutant": invoice.recipient_service_id,
            "codeServiceExecutant": invoice.recipient_service.code if invoice.recipient_service else None,
            "libelleServiceExecutant": invoice.recipient_service.libelle if invoice.recipient_service else None,
            "adresseDestinataireDetail": recipient.adresse if recipient else None,
            "adresseDestinataireCodePostal": recipient.code_postal if recipient else None,
            "adresseDestinataireVille": recipient.ville if recipient else None,
            "adresseDestinataireCodePays": recipient.pays if recipient else None,
        },
        "references": {
            "typeFacture": invoice.invoice_type,
            "typeTva": invoice.type_tva,
            "codeDeviseFacture": invoice.currency,
            "dateFacture": _date(invoice.invoice_date),
            "dateDepot": _date(invoice.deposited_at),
            "dateCreationFacture": chorus_datetime(invoice.created_at),
            "modePaiement": invoice.payment_mode,
            "motifExonerationTva": invoice.motif_exoneration,
            "numeroMarche": invoice.numero_marche,
            "numeroBonCommande": invoice.numero_engagement,
            "numeroFactureOrigine": invoice.origin_number,
        },
        "montantTotal": {
            "montantHtTotal": _amount(invoice.total_ht),
            "montantTVA": _amount(invoice.total_tva),
            "montantRemiseGlobaleTTC": _amount(invoice.remise_globale_ttc),
            "motifRemiseGlobaleTTC": invoice.motif_remise_globale,
            "montantTtcTotal": _amount(invoice.total_ttc),
            "montantAPayer": _amount(invoice.montant_a_payer),
        },
        "lignesDePoste": {
            "lignePoste": [
                {
                    "lignePosteNumero": line.position,
                    "lignePosteReference": line.reference,
                    "lignePosteDenomination": line.designation,
                    "lignePosteQuantite": float(line.quantity),
                    "lignePosteUniteCode": line.unit,
                    "lignePosteUniteLibelle": line.get_unit_display(),
                    "lignePosteMontantUnitaireHT": float(line.unit_price_ht),
                    "lignePosteMontantRemiseHT": float(line.discount_ht),
                    "lignePosteTauxTvaManuel": float(line.vat_rate),
                    "lignePosteMontantHtApresRemise": float(line.line_net_ht),
                    "lignePosteMontantTva": float(line.line_vat),
                }
                for line in lines
            ],
            "pageCouranteLignesPoste": lines_page["page"],
            "pagesLignesPoste": lines_page["pages"],
            "nbResultatsParPageLignesPoste": lines_page["size"],
            "totalLignesPoste": lines_page["total"],
        },
        "recapitulatifDeTva": {
            "ligneTva": [
                {
                    "ligneTvaTauxManuel": float(vat.rate),
                    "ligneTvaMontantBaseHtParTaux": float(vat.base_ht),
                    "ligneTvaMontantTvaParTaux": float(vat.vat_amount),
                }
                for vat in vat_lines
            ],
            "pageCouranteLignesRecapitulativesTVA": vat_page["page"],
            "pagesLignesRecapitulativesTVA": vat_page["pages"],
            "nbResultatsParPageLignesRecapitulativesTVA": vat_page["size"],
            "totalLignesRecapitulativesTVA": vat_page["total"],
        },
        "listeDesPiecesJointes": {
            "pieceJointe": [
                {
                    "pieceJointeId": attachment.pk,
                    "pieceJointeDesignation": attachment.name,
                    "pieceJointeExtension": attachment.name.rsplit(".", 1)[-1].upper()
                    if "." in attachment.name
                    else "",
                    "pieceJointeTypeCode": attachment.type_code,
                    "pieceJointeTypeLibelle": attachment.get_type_code_display(),
                    "pieceJointeNumeroLigneFacture": attachment.line_number,
                }
                for attachment in attachments
            ],
            "pageCouranteListePiecesJointe": pj_page["page"],
            "pagesListePiecesJointe": pj_page["pages"],
            "nbResultatsParPageListePiecesJointe": pj_page["size"],
            "totalListePiecesJointe": pj_page["total"],
        },
        "pieceJointePrincipale": (
            {"idPieceJointePrincipale": invoice.main_document_id} if invoice.main_document_id else None
        ),
    }


def _invoice_of_valideur(caller: Structure, invoice_id: int | None, field: str) -> Invoice:
    if invoice_id is None:
        raise CproError(
            MISSING_FIELD, f"Le champ « {field} » est obligatoire : renseignez l'identifiant de la facture."
        )
    invoice = invoices_seen_by_valideur(structure=caller).select_related(*_RELATED).filter(pk=invoice_id).first()
    if invoice is None:
        raise not_found("Facture")
    return invoice


@cpro_post(
    router,
    "factures/v1/consulter/valideur",
    ConsulterValideurOut,
    operation_id="consulterFactureParValideur",
    summary="Consulter une facture à valider (valideur)",
    description=(
        "Le détail d'une facture dont votre structure est valideur : parties, cadre de facturation (valideurs, "
        "dates de validation, `dateLimiteValidation`), références, montants, lignes, TVA, pièces jointes."
    ),
)
def consulter_valideur(request, payload: ConsulterValideurIn):
    invoice_id = payload.identifiantFactureCPP if payload.identifiantFactureCPP is not None else payload.idFacture
    invoice = _invoice_of_valideur(request.cpro.structure, invoice_id, "identifiantFactureCPP")
    return ok(facture=_facture(invoice, payload))


# ---------------------------------------------------------------------------------------------------
# factures/v1/traiter/factureAValider
# ---------------------------------------------------------------------------------------------------


class TraiterFactureAValiderIn(CproIn):
    action: str
    idFacture: OptionalId = None
    idValideur: OptionalId = None
    typeValideur: OptionalStr = None
    motifRefus: OptionalStr = None
    complementInfo: OptionalStr = Field(None, max_length=2000)
    idPieceJointe: OptionalId = None


class TraitementOut(CproOut):
    idFacture: int | None = None
    numeroFacture: str | None = None
    statutFacture: str | None = None
    dateTraitement: str | None = None


@cpro_post(
    router,
    "factures/v1/traiter/factureAValider",
    TraitementOut,
    operation_id="traiterFactureAValider",
    summary="Valider ou refuser une facture à valider (valideur)",
    description=(
        "`action` : `VALIDATION` (la facture part au valideur de niveau 2 ou au destinataire), `REFUS` "
        "(`motifRefus` obligatoire : un `codeMotif` ou `idMotif` de "
        "`transverses/v1/recuperer/motifs/refus/Facture/AValider`) ou `ERREUR_VALIDEUR` (« je ne suis pas le bon "
        "valideur » ; `MISE_EN_RECYCLAGE` est lu de même). `complementInfo` : message au fournisseur. "
        "`idValideur`, s'il est donné, doit être votre structure. `statutFacture` : le statut après traitement."
    ),
)
def traiter_facture_a_valider(request, payload: TraiterFactureAValiderIn):
    caller = request.cpro.structure
    action = payload.action.strip().upper()
    if action in RECIPIENT_ACTIONS:
        raise CproError(
            INVALID_VALUE,
            f"Le champ « action » vaut « {action} », action réservée au destinataire (factures/v1/traiter/recue) : "
            "un valideur répond VALIDATION, REFUS ou ERREUR_VALIDEUR.",
        )
    if action not in ACTIONS:
        raise CproError(
            INVALID_VALUE,
            f"Le champ « action » vaut « {payload.action[:40]} » : utilisez VALIDATION, REFUS ou ERREUR_VALIDEUR.",
        )
    if payload.idPieceJointe is not None:
        raise CproError(
            INVALID_VALUE,
            "Le champ « idPieceJointe » n'est pas pris en charge par Chœur pour une validation : écrivez votre "
            "message dans « complementInfo ».",
        )
    if payload.idValideur is not None and payload.idValideur != caller.pk:
        raise CproError(
            INVALID_VALUE,
            "Le champ « idValideur » doit désigner votre structure (celle du compte technique) : un valideur ne "
            "répond que pour lui-même.",
        )
    invoice = _invoice_of_valideur(caller, payload.idFacture, "idFacture")
    if ACTIONS[action] == REFUS and not payload.motifRefus:
        raise CproError(
            MISSING_FIELD,
            "Le champ « motifRefus » est obligatoire pour un REFUS : choisissez un motif de "
            "transverses/v1/recuperer/motifs/refus/Facture/AValider.",
        )
    result = invoice_validate(
        invoice=invoice,
        by=None,
        structure=caller,
        decision=ACTIONS[action],
        motif=payload.motifRefus or "",
        comment=payload.complementInfo or "",
        channel=Channel.API,
    )
    return ok(
        idFacture=result.pk,
        numeroFacture=result.number,
        statutFacture=result.status,
        dateTraitement=chorus_datetime(timezone.now()),
    )


# ---------------------------------------------------------------------------------------------------
# factures/v1/corriger/valideur/facture
# ---------------------------------------------------------------------------------------------------


class CorrigerValideurIn(CproIn):
    idFacture: OptionalId = None
    idStructure: OptionalId = None
    identifiantStructure: OptionalStr = None
    typeIdentifiantStructure: TypeIdentifiant = None
    # Chœur's addition: the valideur's service, by id or by code.
    idService: OptionalId = None
    codeService: OptionalStr = None


def _new_valideur(payload: CorrigerValideurIn) -> Structure:
    if payload.idStructure is not None:
        structure = Structure.objects.filter(pk=payload.idStructure).first()
        if structure is None:
            raise not_found("Structure valideur")
        return structure
    if payload.identifiantStructure:
        kind = payload.typeIdentifiantStructure or IdentifierType.SIRET
        identifier = "".join(payload.identifiantStructure.split())
        structure = Structure.objects.filter(identifier_type=kind, identifier=identifier).first()
        if structure is None:
            raise CproError(
                INVALID_VALUE,
                f"Aucune structure n'a l'identifiant {kind} « {identifier[:40]} » sur Chœur : vérifiez l'identifiant "
                "du titulaire (ou du mandataire) ; il doit être inscrit pour valider la facture.",
            )
        return structure
    raise CproError(
        MISSING_FIELD,
        "Désignez le nouveau valideur : « idStructure », ou « identifiantStructure » (et "
        "« typeIdentifiantStructure », SIRET par défaut).",
    )


def _new_service(payload: CorrigerValideurIn, valideur: Structure) -> Service | None:
    if payload.idService is not None:
        service = valideur.services.filter(pk=payload.idService).first()
    elif payload.codeService:
        service = valideur.services.filter(code=payload.codeService).first()
    else:
        return None
    if service is None:
        raise CproError(
            INVALID_VALUE,
            f"Le service indiqué n'appartient pas à {valideur.designation} : "
            "vérifiez « idService » ou « codeService ».",
        )
    return service


@cpro_post(
    router,
    "factures/v1/corriger/valideur/facture",
    TraitementOut,
    operation_id="corrigerValideurFacture",
    summary="Corriger le valideur d'une facture (fournisseur)",
    description=(
        "Après un « je ne suis pas le bon valideur » (statut ERREUR_FOURNISSEUR_SUR_VALIDEUR ou "
        "ERREUR_COTRAITANT_SUR_VALIDEUR), le fournisseur désigne le bon : `idStructure`, ou "
        "`identifiantStructure` + `typeIdentifiantStructure`. Extension Chœur : `idService` ou `codeService` du "
        "valideur. La facture repart au valideur de niveau 1, pour un nouveau délai de 15 jours."
    ),
)
def corriger_valideur(request, payload: CorrigerValideurIn):
    caller = request.cpro.structure
    if payload.idFacture is None:
        raise CproError(
            MISSING_FIELD, "Le champ « idFacture » est obligatoire : renseignez l'identifiant de la facture."
        )
    invoice = Invoice.objects.filter(pk=payload.idFacture, supplier=caller).first()
    if invoice is None:
        raise not_found("Facture")
    valideur = _new_valideur(payload)
    service = _new_service(payload, valideur)
    result = invoice_valideur_correct(
        invoice=invoice, by=None, structure=caller, valideur=valideur, valideur_service=service, channel=Channel.API
    )
    return ok(
        idFacture=result.pk,
        numeroFacture=result.number,
        statutFacture=result.status,
        dateTraitement=chorus_datetime(timezone.now()),
    )


# ---------------------------------------------------------------------------------------------------
# Referentials
# ---------------------------------------------------------------------------------------------------


class MotifsRefusIn(CproIn):
    codeCadreFacturationAValider: OptionalStr = None
    codeLangue: CodeLangue = None


class MotifRefus(Schema):
    idMotif: int
    codeMotif: str
    libelleMotif: str


class MotifsRefusOut(CproOut):
    listeMotifRefusFactureAValider: list[MotifRefus] | None = None


@cpro_post(
    router,
    "transverses/v1/recuperer/motifs/refus/Facture/AValider",
    MotifsRefusOut,
    operation_id="recupererMotifsRefusFactureAValider",
    summary="Motifs de refus d'une facture à valider",
    description=(
        "Les motifs qu'un valideur peut donner à `traiter/factureAValider` (action REFUS) pour le cadre "
        "`codeCadreFacturationAValider` (A9 ou A12, code court ou complet). Le motif « AUTRE » demande un "
        "`complementInfo`."
    ),
)
def recuperer_motifs_refus(request, payload: MotifsRefusIn):
    if not payload.codeCadreFacturationAValider:
        raise CproError(
            MISSING_FIELD,
            "Le champ « codeCadreFacturationAValider » est obligatoire : A9_FACTURE_SOUSTRAITANT ou "
            "A12_FACTURE_COTRAITANT.",
        )
    code = payload.codeCadreFacturationAValider
    _cadre_value(code, "codeCadreFacturationAValider")
    try:
        motifs = refusal_motifs_for(code)
    except ApplicationError as exc:
        raise CproError(INVALID_VALUE, f"Le champ « codeCadreFacturationAValider » : {exc.message}") from None
    return ok(
        listeMotifRefusFactureAValider=[
            {"idMotif": motif.id, "codeMotif": motif.code, "libelleMotif": motif.label} for motif in motifs
        ]
    )


class StatutVisible(Schema):
    codeStatutFacture: str
    libelleStatutFacture: str


class StatutsVisiblesOut(CproOut):
    listeStatutFacture: list[StatutVisible] | None = None


class StatutsVisiblesIn(CproIn):
    codeLangue: CodeLangue = None


@cpro_post(
    router,
    "factures/v1/recuperer/statutsFactureVisibles/valideur",
    StatutsVisiblesOut,
    operation_id="recupererStatutsFactureVisiblesParValideur",
    summary="Statuts des factures visibles par un valideur",
    description="Les statuts auxquels un valideur retrouve une facture (critère `statutCourant` de "
    "`rechercher/valideur`) : ceux du circuit de validation, puis ceux du traitement par le destinataire.",
)
def recuperer_statuts_visibles(request, payload: StatutsVisiblesIn | None = None):
    return ok(
        listeStatutFacture=[
            {"codeStatutFacture": status, "libelleStatutFacture": InvoiceStatus(status).label}
            for status in VALIDEUR_VISIBLE_STATUSES
        ]
    )
