"""The `facture{…}` object of `consulter/fournisseur`, `consulter/recipiendaire` (and `consulter/valideur`),
the attachment references of `soumettre` / `completer`, and the files uploaded beforehand by
`ajouter/fichier` and `deposer/pdf` that they cite."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from choeur.api.cpro.envelope import INVALID_VALUE, CproError, not_found
from choeur.api.cpro.factures_common import IdIn, day, money, status_comment
from choeur.api.cpro.pagination import PaginationIn
from choeur.api.cpro.schemas import CproIn, CproObject, CproOut, OptionalStr
from choeur.api.models import ApiUploadedFile
from choeur.directory.models import Structure
from choeur.invoices.enums import AttachmentType
from choeur.invoices.models import Invoice


class PieceJointeComplementaireIn(CproObject):
    pieceJointeComplementaireDesignation: OptionalStr = None
    pieceJointeComplementaireId: IdIn = None
    pieceJointeComplementaireIdLiaison: IdIn = None
    pieceJointeComplementaireNumeroLigneFacture: IdIn = None
    pieceJointeComplementaireType: OptionalStr = None

    def type_code(self) -> str:
        value = (self.pieceJointeComplementaireType or "").upper()
        if not value:
            return AttachmentType.PIECE_JUSTIFICATIVE
        if value not in AttachmentType.values:
            raise CproError(
                INVALID_VALUE,
                f"Le champ « pieceJointeComplementaireType » vaut « {value[:40]} » : utilisez un code de "
                "`transverses/v1/recuperer/typespj` (typeObjet FACTURE).",
            )
        return value


class PiecesComplementairesIn(CproIn):
    pieceJointeComplementaire: list[PieceJointeComplementaireIn] | None = None


def take_uploaded_files(structure: Structure, ids: list[int | None], *, field: str) -> list[ApiUploadedFile]:
    """The caller's uploaded files, in the order cited, locked and marked used (inside the caller's
    transaction: a refused invoice leaves them usable). Another structure's id is « introuvable »."""
    if any(value is None for value in ids):
        raise CproError(INVALID_VALUE, f"Le champ « {field} » est obligatoire pour chaque pièce citée.")
    if len(set(ids)) != len(ids):
        raise CproError(INVALID_VALUE, f"Le champ « {field} » cite deux fois la même pièce.")
    found = {
        upload.pk: upload
        for upload in ApiUploadedFile.objects.select_for_update()
        .select_related("file")
        .filter(structure=structure, pk__in=ids, used_at__isnull=True)
    }
    missing = [value for value in ids if value not in found]
    if missing:
        error = not_found(f"Pièce jointe {missing[0]}")
        error.message += " Une pièce ne sert qu'une fois : déposez-la de nouveau par `ajouter/fichier`."
        raise error
    now = timezone.now()
    for upload in found.values():
        upload.used_at = now
        upload.save(update_fields=["used_at"])
    return [found[value] for value in ids]


class FactureOut(CproOut):
    facture: dict[str, Any] | None = None


def _page(rows: list, params: PaginationIn | None) -> tuple[list, dict[str, int]]:
    params = params or PaginationIn()
    size = params.nbResultatsParPage or max(len(rows), 1)
    page = params.pageResultatDemandee or 1
    total = len(rows)
    return rows[(page - 1) * size : page * size], {
        "pageCourante": page,
        "pages": (total + size - 1) // size if total else 0,
        "nbResultatsParPage": size,
        "total": total,
    }


def _suffixed(page: dict[str, int], suffix: str) -> dict[str, int]:
    """The page counters again under the sub-list's own names (`pageCouranteLignesPoste`…), which is
    what the Go client reads (go-choruspro, factures_consultations.go); the plain names stay for the others."""
    return {f"{key}{suffix}": value for key, value in page.items()}


def _address(structure: Structure | None, prefix: str) -> dict[str, Any]:
    if structure is None:
        return {}
    return {
        f"{prefix}Id": structure.pk,
        f"{prefix}Detail": structure.adresse,
        f"{prefix}Complement1": structure.complement_adresse,
        f"{prefix}Complement2": "",
        f"{prefix}CodePostal": structure.code_postal,
        f"{prefix}Ville": structure.ville,
        f"{prefix}CodePays": structure.pays,
        f"{prefix}LibellePays": structure.pays,
    }


def facture_object(
    invoice: Invoice,
    *,
    lines: PaginationIn | None = None,
    attachments: PaginationIn | None = None,
    vat: PaginationIn | None = None,
) -> dict[str, Any]:
    """The invoice as Chorus Pro's `consulter/*` return it (chorus-pro.md §8.3), amounts as numbers. The
    sub-lists are paged by the request's page objects (all rows when none is given)."""
    supplier, recipient = invoice.supplier, invoice.recipient
    account = invoice.supplier_bank_account
    line_rows, line_page = _page(
        [
            {
                "lignePosteNumero": line.position,
                "lignePosteReference": line.reference,
                "lignePosteDenomination": line.designation,
                "lignePosteQuantite": money(line.quantity),
                "lignePosteUniteCode": line.unit,
                "lignePosteUniteLibelle": line.get_unit_display(),
                "lignePosteMontantUnitaireHT": money(line.unit_price_ht),
                "lignePosteMontantRemiseHT": money(line.discount_ht),
                "lignePosteTauxTva": money(line.vat_rate),
                "lignePosteMontantHtApresRemise": money(line.line_net_ht),
                "lignePosteMontantTva": money(line.line_vat),
                "lignePosteMontantTtcApresRemise": money(line.line_net_ht + line.line_vat),
                # EN 16931 terms Chorus Pro's answer has no field for (Chœur extensions, documented).
                "lignePosteMontantChargesHT": money(line.charge_ht),
                "lignePostePrixBrutHT": money(line.gross_price_ht),
                "lignePosteRabaisPrixHT": money(line.price_discount_ht),
                "lignePosteQuantiteBasePrix": money(line.price_base_quantity),
                "lignePosteCategorieTva": line.vat_category,
            }
            for line in invoice.lines.all()
        ],
        lines,
    )
    vat_rows, vat_page = _page(
        [
            {
                "ligneTvaTauxRefCode": row.category,
                "ligneTvaTauxRefValeur": money(row.rate),
                "ligneTvaTauxManuel": money(row.rate),
                "ligneTvaMontantBaseHtParTaux": money(row.base_ht),
                "ligneTvaMontantTvaParTaux": money(row.vat_amount),
                "ligneTvaMotifExoneration": row.exemption_reason,
                "ligneTvaCodeMotifExoneration": row.exemption_reason_code,
            }
            for row in invoice.vat_lines.all()
        ],
        vat,
    )
    attachment_rows, attachment_page = _page(
        [
            {
                "pieceJointeId": attachment.pk,
                "pieceJointeDesignation": attachment.name,
                "pieceJointeExtension": attachment.name.rpartition(".")[2].upper(),
                "pieceJointeTypeCode": attachment.type_code,
                "pieceJointeTypeLibelle": attachment.get_type_code_display(),
                "pieceJointeNumeroLigneFacture": attachment.line_number,
            }
            for attachment in invoice.attachments.all()
        ],
        attachments,
    )
    ttc = invoice.total_ttc
    return {
        "identifiantFactureCPP": invoice.pk,
        "numeroFacture": invoice.number,
        "statutFacture": invoice.status,
        "commentaireEtatCourant": status_comment(invoice),
        "modeDepot": invoice.mode_depot,
        "numeroFluxDepot": invoice.numero_flux_depot,
        "commentaire": invoice.comment,
        "cadreDeFacturation": {
            "codeCadreFacturation": invoice.cadre,
            "idValideur1": invoice.valideur_id,
            "codeValideur1": invoice.valideur.identifier if invoice.valideur else "",
            "typeIdentifiantValideur1": invoice.valideur.identifier_type if invoice.valideur else "",
            "raisonSocialeValideur1": invoice.valideur.designation if invoice.valideur else "",
            "idValideur2": invoice.valideur2_id,
            "codeValideur2": invoice.valideur2.identifier if invoice.valideur2 else "",
            "typeIdentifiantValideur2": invoice.valideur2.identifier_type if invoice.valideur2 else "",
            "raisonSocialeValideur2": invoice.valideur2.designation if invoice.valideur2 else "",
            "idMoe": invoice.moe_id,
            "identifiantMoe": invoice.moe.identifier if invoice.moe else "",
            "raisonSocialeMoe": invoice.moe.designation if invoice.moe else "",
            "idMoa": invoice.moa_id,
            "identifiantMoa": invoice.moa.identifier if invoice.moa else "",
            "raisonSocialeMoa": invoice.moa.designation if invoice.moa else "",
        },
        "destinataire": {
            "idDestinataire": invoice.recipient_id,
            "codeDestinataire": recipient.identifier if recipient else "",
            "libelleDestinataire": recipient.designation if recipient else "",
            "destinataireEtat": ("ACTIF" if recipient.is_active else "INACTIF") if recipient else "",
            "idServiceExecutant": invoice.recipient_service_id,
            "codeServiceExecutant": invoice.recipient_service.code if invoice.recipient_service else "",
            "libelleServiceExecutant": invoice.recipient_service.libelle if invoice.recipient_service else "",
            **_address(recipient, "adresseDestinataire"),
        },
        "fournisseur": {
            "idFournisseur": supplier.pk,
            "codeFournisseur": supplier.identifier,
            "typeIdentifiantFournisseur": supplier.identifier_type,
            "designationFournisseur": supplier.designation,
            "numeroRcsFournisseur": supplier.numero_rcs,
            "numeroTvaFournisseur": supplier.numero_tva,
            "idServiceFournisseur": invoice.supplier_service_id,
            "codeServiceFournisseur": invoice.supplier_service.code if invoice.supplier_service else "",
            "libelleServiceFournisseur": invoice.supplier_service.libelle if invoice.supplier_service else "",
            **_address(supplier, "adresseFournisseur"),
            "idCoordonneesBancaires": account.pk if account else None,
            "coordBancairesNom": account.label if account else "",
            "coordBancairesIban": account.iban if account else "",
        },
        "references": {
            "typeFacture": invoice.invoice_type,
            "typeTva": invoice.type_tva,
            "codeDeviseFacture": invoice.currency,
            "dateFacture": day(invoice.invoice_date),
            "dateDepot": day(invoice.deposited_at),
            "dateCreationFacture": day(invoice.created_at),
            "modePaiement": invoice.payment_mode,
            "motifExonerationTva": invoice.motif_exoneration,
            "numeroMarche": invoice.numero_marche,
            "numeroBonCommande": invoice.numero_engagement,
            "numeroFactureOrigine": invoice.origin_number,
            "numeroDpMandat": invoice.numero_dp_mandat,
            "empreinteCertificatDepot": invoice.document_sha256,
        },
        "lignesDePoste": {"lignePoste": line_rows, **line_page, **_suffixed(line_page, "LignesPoste")},
        "recapitulatifDeTva": {"ligneTva": vat_rows, **vat_page, **_suffixed(vat_page, "LignesRecapitulativesTVA")},
        "montantTotal": {
            "montantHtTotal": money(invoice.total_ht),
            "montantTVA": money(invoice.total_tva),
            "montantTtcAvantRemiseGlobalTTC": money(ttc),
            "montantRemiseGlobaleTTC": money(invoice.remise_globale_ttc),
            "motifRemiseGlobaleTTC": invoice.motif_remise_globale,
            "montantTtcTotal": money(ttc),
            "montantAPayer": money(invoice.montant_a_payer),
            # EN 16931 totals (BT-106, BT-107, BT-108, BT-113, BT-114): Chœur extensions.
            "montantLignesHT": money(invoice.line_total_ht),
            "montantRemisesHT": money(invoice.allowance_total_ht),
            "montantChargesHT": money(invoice.charge_total_ht),
            "montantDejaPaye": money(invoice.prepaid_amount),
            "montantArrondi": money(invoice.rounding_amount),
        },
        "remisesEtCharges": [
            {
                "remiseOuCharge": "CHARGE" if row.is_charge else "REMISE",
                "numeroLigne": row.line.position if row.line_id else None,
                "montantHT": money(row.amount),
                "baseHT": money(row.base_amount),
                "pourcentage": money(row.percentage),
                "motif": row.reason,
                "codeMotif": row.reason_code,
                "categorieTva": row.vat_category,
                "tauxTva": money(row.vat_rate),
            }
            for row in invoice.allowance_charges.select_related("line").order_by("line_id", "position")
        ],
        "periodeFacturation": {"dateDebut": day(invoice.period_start), "dateFin": day(invoice.period_end)},
        "dateLivraison": day(invoice.delivery_date),
        "autresTermesMetier": invoice.business_terms or {},
        "pieceJointePrincipale": {
            "idPieceJointePrincipale": invoice.main_document_id,
            "designationPieceJointePrincipale": invoice.main_document_name,
        },
        "listeDesPiecesJointes": {
            "pieceJointe": attachment_rows,
            **attachment_page,
            **_suffixed(attachment_page, "ListePiecesJointe"),
        },
    }
