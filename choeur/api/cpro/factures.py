"""`factures/v1/*`: deposit invoices (flow, PDF, structured data), read them as supplier or recipient, process
them through their lifecycle and download them (chorus-pro.md §8.3, field names of Chorus Pro's API).

The valideur operations and the works operations live in their own modules. Writes call the invoices,
flows and lifecycle services; reads are bounded by the caller's structure (factures_common).
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from ninja import Router, Schema

from choeur.api.cpro import transverses
from choeur.api.cpro.envelope import INVALID_VALUE, MISSING_FIELD, CproError, list_result, no_result, not_found, ok
from choeur.api.cpro.factures_common import (
    ANY_PARTY,
    RECIPIENT,
    SUPPLIER,
    AmountIn,
    DateIn,
    DateTimeIn,
    FlagIn,
    IdIn,
    StrListIn,
    amount_filters,
    business_errors,
    day,
    decode_file,
    encode_file,
    invoice_for_caller,
    invoices_for,
    money,
    parse_amount,
    search_row,
    size_of,
    statuses_checked,
)
from choeur.api.cpro.factures_schemas import (
    FactureOut,
    PiecesComplementairesIn,
    facture_object,
    take_uploaded_files,
)
from choeur.api.cpro.pagination import PaginationIn, paginate_queryset
from choeur.api.cpro.routing import cpro_post
from choeur.api.cpro.schemas import (
    CodeLangue,
    CproIn,
    CproObject,
    CproOut,
    OptionalStr,
    ParametresRetour,
    chorus_datetime,
)
from choeur.api.models import ApiUploadedFile
from choeur.core.files import file_store, sniff_mime
from choeur.directory.enums import IdentifierType, StructureKind
from choeur.directory.models import Structure
from choeur.flows.enums import Channel as FlowChannel
from choeur.flows.services import flow_deposit
from choeur.invoices import services as invoice_services
from choeur.invoices.enums import (
    Channel,
    InvoiceEventAction,
    InvoiceStatus,
    ModeDepot,
    TypeDemandePaiement,
)
from choeur.invoices.lifecycle import status_changes_for, status_for_supplier
from choeur.invoices.models import Invoice, InvoiceEvent
from choeur.invoices.rendering import invoice_readable_file
from choeur.invoices.workflow import TRANSITIONS, ActorRole

router = Router(tags=["Factures"])


def caller_label(request) -> str:
    account = request.cpro.technical_account
    return f"API — compte technique {account.login}" if account else "API"


# ---------------------------------------------------------------------------------------------------
# deposer/flux
# ---------------------------------------------------------------------------------------------------


class DeposerFluxIn(CproIn):
    fichierFlux: str | None = None
    nomFichier: str | None = None
    syntaxeFlux: OptionalStr = None
    avecSignature: FlagIn = None


class DeposerFluxOut(CproOut):
    numeroFluxDepot: str | None = None
    dateDepot: str | None = None
    syntaxeFlux: str | None = None


@cpro_post(
    router,
    "deposer/flux",
    DeposerFluxOut,
    operation_id="deposerFluxFacture",
    summary="Déposer un flux de factures",
    description=(
        "Un fichier XML (UBL, CII), un PDF Factur-X ou une archive (zip, tar.gz) encodé en base64 dans "
        "`fichierFlux`. La réponse est immédiate (`numeroFluxDepot`) : le flux est traité ensuite, suivez-le par "
        "`transverses/v1/consulterCR`. Le même fichier déposé deux fois rend le même numéro de flux. "
        "`syntaxeFlux` vide : détection automatique."
    ),
)
def deposer_flux(request, payload: DeposerFluxIn):
    if not (payload.nomFichier or "").strip():
        raise CproError(MISSING_FIELD, "Le champ « nomFichier » est obligatoire : donnez le nom du fichier déposé.")
    # The flow limit (120 Mo by default) is the flows service's; the 10 Mo limit is for attachments.
    content = decode_file(payload.fichierFlux, field="fichierFlux", max_size=None)
    with business_errors():
        flow, _created = flow_deposit(
            structure=request.cpro.structure,
            content=content,
            filename=payload.nomFichier,
            syntaxe_flux=payload.syntaxeFlux,
            channel=FlowChannel.API,
            by_label=caller_label(request),
        )
    return ok(
        numeroFluxDepot=flow.numero_flux_depot,
        dateDepot=day(flow.deposited_at),
        syntaxeFlux=flow.syntaxe_flux or payload.syntaxeFlux or "",
    )


# ---------------------------------------------------------------------------------------------------
# ajouter/fichier, deposer/pdf: files kept for a later soumettre / completer
# ---------------------------------------------------------------------------------------------------


class AjouterFichierIn(CproIn):
    pieceJointeFichier: str | None = None
    pieceJointeNom: str | None = None
    pieceJointeTypeMime: OptionalStr = None
    pieceJointeExtension: OptionalStr = None


class AjouterFichierOut(CproOut):
    pieceJointeId: int | None = None


def _upload(request, *, content: bytes, name: str, purpose: str) -> ApiUploadedFile:
    with business_errors():
        name, mime = invoice_services.check_file(name=name, content=content)
    if purpose == ApiUploadedFile.Purpose.FACTURE and mime != "application/pdf":
        raise CproError(
            INVALID_VALUE,
            f"Le fichier « {name} » n'est pas un PDF : `deposer/pdf` n'accepte que la facture au format PDF.",
        )
    return ApiUploadedFile.objects.create(
        structure=request.cpro.structure,
        technical_account=request.cpro.technical_account,
        file=file_store(content=content, mime_type=mime),
        name=name,
        mime_type=mime,
        purpose=purpose,
    )


@cpro_post(
    transverses.router,
    "ajouter/fichier",
    AjouterFichierOut,
    operation_id="ajouterFichierDansSysteme",
    summary="Déposer une pièce jointe pour une facture à venir",
    description=(
        "Le chemin de Chorus Pro (transverses/v1, chorus-pro.md §8.5) et des clients publics. Le fichier (base64, "
        "10 Mo au plus, sinon codeRetour 20003) est gardé pour votre structure ; son `pieceJointeId` se cite "
        "ensuite dans `soumettre` ou `completer` (`pieceJointeComplementaire`)."
    ),
)
@cpro_post(
    router,
    "ajouter/fichier",
    AjouterFichierOut,
    operation_id="ajouterFichierDansSystemeFactures",
    summary="Déposer une pièce jointe pour une facture à venir",
    description=(
        "Le fichier (base64, 10 Mo au plus, sinon codeRetour 20003) est gardé pour votre structure ; son "
        "`pieceJointeId` se cite ensuite dans `soumettre` ou `completer` (`pieceJointeComplementaire`). "
        "Nom de 50 caractères au plus avec une extension admise ; le contenu doit être ce que dit l'extension. "
        "Même opération que transverses/v1/ajouter/fichier, gardée sous factures/v1 pour les intégrations existantes."
    ),
)
def ajouter_fichier(request, payload: AjouterFichierIn):
    name = (payload.pieceJointeNom or "").strip()
    if not name:
        raise CproError(MISSING_FIELD, "Le champ « pieceJointeNom » est obligatoire : donnez le nom du fichier.")
    extension = (payload.pieceJointeExtension or "").strip().lstrip(".")
    if extension and "." not in name:
        name = f"{name}.{extension}"
    content = decode_file(payload.pieceJointeFichier, field="pieceJointeFichier")
    upload = _upload(request, content=content, name=name, purpose=ApiUploadedFile.Purpose.PIECE_JOINTE)
    return ok(pieceJointeId=upload.pk)


class DeposerPdfIn(CproIn):
    fichierFacture: str | None = None
    nomFichier: str | None = None
    formatDepot: OptionalStr = None


class DeposerPdfOut(CproOut):
    pieceJointeId: int | None = None
    numeroFacture: str | None = None
    dateFacture: str | None = None
    codeDestinataire: str | None = None
    codeServiceExecutant: str | None = None
    codeFournisseur: str | None = None
    codeDeviseFacture: str | None = None
    typeFacture: str | None = None
    typeTva: str | None = None
    numeroBonCommande: str | None = None
    montantTtcAvantRemiseGlobalTTC: float | None = None
    montantAPayer: float | None = None
    montantHtTotal: float | None = None
    montantTVA: float | None = None


PDF_FORMATS = ("PDF_NON_SIGNE", "PDF_SIGNE")


def _extract_pdf_data(content: bytes) -> dict[str, Any]:
    """What a Factur-X PDF says about itself (its embedded XML); a plain PDF says nothing: Chœur reads no
    image (Chorus Pro's OCR has no equivalent here), the client then gives the data in `soumettre`."""
    from choeur.flows.validation import container
    from choeur.flows.validation.detect import UnsupportedFormat, detect
    from choeur.flows.validation.extract import extract_invoice_data
    from choeur.flows.validation.limits import DEFAULT_LIMITS
    from choeur.flows.validation.xmlparse import XmlRejected, parse_xml

    entries = container.extract(content, filename="facture.pdf", limits=DEFAULT_LIMITS)
    xml = next((entry.xml for entry in entries if entry.xml), None)
    if xml is None:
        return {}
    try:
        root = parse_xml(xml).root
        data = extract_invoice_data(root, detect(root).syntax)
    except (XmlRejected, UnsupportedFormat, ValueError):
        return {}
    totals = data.totals
    return {
        "numeroFacture": data.number,
        "dateFacture": day(data.issue_date),
        "codeDestinataire": data.buyer.siret,
        "codeServiceExecutant": data.code_service,
        "codeFournisseur": data.supplier.siret,
        "codeDeviseFacture": data.currency,
        "typeFacture": data.invoice_type,
        "numeroBonCommande": data.engagement,
        "montantTtcAvantRemiseGlobalTTC": money(getattr(totals, "with_vat", None)),
        "montantAPayer": money(getattr(totals, "payable", None)),
        "montantHtTotal": money(getattr(totals, "without_vat", None)),
        "montantTVA": money(getattr(totals, "vat", None)),
    }


@cpro_post(
    router,
    "deposer/pdf",
    DeposerPdfOut,
    operation_id="deposerPDFFacture",
    summary="Déposer le PDF d'une facture et lire ses données",
    description=(
        "Le PDF (base64, 10 Mo au plus) est gardé pour votre structure : citez son `pieceJointeId` dans "
        "`soumettre` (`pieceJointePrincipale`, `modeDepot` DEPOT_PDF_API). Si c'est un Factur-X, les données "
        "de son XML sont rendues pour préremplir la saisie ; un PDF sans XML ne rend que `pieceJointeId`."
    ),
)
def deposer_pdf(request, payload: DeposerPdfIn):
    if payload.formatDepot and payload.formatDepot.upper() not in PDF_FORMATS:
        raise CproError(
            INVALID_VALUE,
            f"Le champ « formatDepot » vaut « {payload.formatDepot[:40]} » : utilisez PDF_NON_SIGNE ou PDF_SIGNE.",
        )
    name = (payload.nomFichier or "").strip() or "facture.pdf"
    content = decode_file(payload.fichierFacture, field="fichierFacture")
    upload = _upload(request, content=content, name=name, purpose=ApiUploadedFile.Purpose.FACTURE)
    extracted = {key: value for key, value in _extract_pdf_data(content).items() if value not in (None, "")}
    return ok(pieceJointeId=upload.pk, **extracted)


# ---------------------------------------------------------------------------------------------------
# soumettre
# ---------------------------------------------------------------------------------------------------


class DestinataireIn(CproObject):
    codeDestinataire: OptionalStr = None
    codeServiceExecutant: OptionalStr = None


class FournisseurIn(CproObject):
    idFournisseur: IdIn = None
    idServiceFournisseur: IdIn = None
    codeCoordonneesBancairesFournisseur: IdIn = None


class CadreDeFacturationIn(CproObject):
    codeCadreFacturation: OptionalStr = None
    codeServiceValideur: OptionalStr = None
    codeStructureValideur: OptionalStr = None


class ReferencesIn(CproObject):
    deviseFacture: OptionalStr = None
    typeFacture: OptionalStr = None
    typeTva: OptionalStr = None
    motifExonerationTva: OptionalStr = None
    numeroMarche: OptionalStr = None
    numeroBonCommande: OptionalStr = None
    numeroFactureOrigine: OptionalStr = None
    modePaiement: OptionalStr = None


class LignePosteIn(CproObject):
    lignePosteNumero: IdIn = None
    lignePosteReference: OptionalStr = None
    lignePosteDenomination: OptionalStr = None
    lignePosteQuantite: AmountIn = None
    lignePosteUnite: OptionalStr = None
    lignePosteMontantUnitaireHT: AmountIn = None
    lignePosteMontantRemiseHT: AmountIn = None
    lignePosteTauxTva: OptionalStr = None
    lignePosteTauxTvaManuel: AmountIn = None


class LigneTvaIn(CproObject):
    ligneTvaTaux: OptionalStr = None
    ligneTvaTauxManuel: AmountIn = None
    ligneTvaMontantBaseHtParTaux: AmountIn = None
    ligneTvaMontantTvaParTaux: AmountIn = None


class MontantTotalIn(CproObject):
    montantHtTotal: AmountIn = None
    montantTVA: AmountIn = None
    montantTtcTotal: AmountIn = None
    montantRemiseGlobaleTTC: AmountIn = None
    motifRemiseGlobaleTTC: OptionalStr = None
    montantAPayer: AmountIn = None


class PieceJointePrincipaleIn(CproObject):
    pieceJointePrincipaleDesignation: OptionalStr = None
    pieceJointePrincipaleId: IdIn = None


SOUMETTRE_MODES = (ModeDepot.SAISIE_API, ModeDepot.DEPOT_PDF_API, ModeDepot.DEPOT_PDF_SIGNE_API)


class SoumettreIn(PiecesComplementairesIn):
    numeroFactureSaisi: OptionalStr = None
    dateFacture: DateIn = None
    modeDepot: OptionalStr = None
    destinataire: DestinataireIn | None = None
    fournisseur: FournisseurIn | None = None
    cadreDeFacturation: CadreDeFacturationIn | None = None
    references: ReferencesIn | None = None
    lignePoste: list[LignePosteIn] | None = None
    ligneTva: list[LigneTvaIn] | None = None
    montantTotal: MontantTotalIn | None = None
    # A list in the API appendix, a single object for the Go client: both are read.
    pieceJointePrincipale: list[PieceJointePrincipaleIn] | PieceJointePrincipaleIn | None = None
    commentaire: OptionalStr = None


class SoumettreOut(CproOut):
    identifiantFactureCPP: int | None = None
    numeroFacture: str | None = None
    dateDepot: str | None = None
    statutFacture: str | None = None
    identifiantStructure: str | None = None
    empreinteCertificatDepot: str | None = None


def _vat_rate(code: str | None, manual, *, field: str):
    from choeur.core.referentials import vat_rate_by_code

    if manual is not None:
        return manual
    if code:
        rate = vat_rate_by_code(code)
        if rate is not None:
            return rate.value
        try:
            return parse_amount(code)
        except ValueError:
            raise CproError(
                INVALID_VALUE,
                f"Le champ « {field} » vaut « {code[:20]} » : donnez un code de `recuperer/tauxtva` (TVA1…TVA10) "
                "ou le taux dans le champ « …TauxTvaManuel ».",
            ) from None
    return None


def _public_recipient(code: str | None) -> Structure | None:
    if not code:
        return None
    identifier = "".join(code.split())
    recipient = Structure.objects.filter(kind=StructureKind.PUBLIQUE, identifier=identifier).first()
    if recipient is None:
        raise CproError(
            INVALID_VALUE,
            f"Le champ « destinataire.codeDestinataire » vaut « {identifier[:20]} » : aucune structure publique n'a "
            "cet identifiant. Cherchez le destinataire avec `transverses/v1/rechercher/destinataire`.",
        )
    return recipient


def _draft_data(request, payload: SoumettreIn, mode_depot: str) -> tuple[dict, list, list]:
    caller = request.cpro.structure
    fournisseur = payload.fournisseur or FournisseurIn()
    if fournisseur.idFournisseur is not None and fournisseur.idFournisseur != caller.pk:
        raise CproError(
            INVALID_VALUE,
            "Le champ « fournisseur.idFournisseur » doit désigner votre structure (celle du compte technique) : "
            f"{caller.pk}.",
        )
    destinataire = payload.destinataire or DestinataireIn()
    recipient = _public_recipient(destinataire.codeDestinataire)
    data: dict[str, Any] = {
        "number": payload.numeroFactureSaisi or "",
        "invoice_date": payload.dateFacture,
        "mode_depot": mode_depot,
        "recipient": recipient,
        "comment": payload.commentaire or "",
    }
    if recipient is not None and destinataire.codeServiceExecutant:
        service = recipient.services.filter(code=destinataire.codeServiceExecutant).first()
        if service is None:
            raise CproError(
                INVALID_VALUE,
                f"Le champ « destinataire.codeServiceExecutant » vaut « {destinataire.codeServiceExecutant[:40]} » : "
                f"{recipient.designation} n'a pas ce service (voir `transverses/v1/rechercher/serviceexecutant`).",
            )
        data["recipient_service"] = service
    if fournisseur.idServiceFournisseur is not None:
        service = caller.services.filter(pk=fournisseur.idServiceFournisseur).first()
        if service is None:
            raise not_found("Service fournisseur")
        data["supplier_service"] = service
    if fournisseur.codeCoordonneesBancairesFournisseur is not None:
        account = caller.bank_accounts.filter(
            pk=fournisseur.codeCoordonneesBancairesFournisseur, is_active=True
        ).first()
        if account is None:
            raise not_found("Coordonnées bancaires")
        data["supplier_bank_account"] = account
    cadre = payload.cadreDeFacturation or CadreDeFacturationIn()
    if cadre.codeCadreFacturation:
        data["cadre"] = cadre.codeCadreFacturation
    if cadre.codeStructureValideur:
        valideur = Structure.objects.filter(
            identifier="".join(cadre.codeStructureValideur.split()), identifier_type=IdentifierType.SIRET
        ).first()
        if valideur is None:
            raise CproError(
                INVALID_VALUE,
                "Le champ « cadreDeFacturation.codeStructureValideur » ne désigne aucune structure de Chœur : "
                "vérifiez le SIRET du valideur (titulaire ou mandataire du marché).",
            )
        data["valideur"] = valideur
        if cadre.codeServiceValideur:
            data["valideur_service"] = valideur.services.filter(code=cadre.codeServiceValideur).first()
    references = payload.references or ReferencesIn()
    for wire, name in (
        ("deviseFacture", "currency"),
        ("typeFacture", "invoice_type"),
        ("typeTva", "type_tva"),
        ("motifExonerationTva", "motif_exoneration"),
        ("numeroMarche", "numero_marche"),
        ("numeroBonCommande", "numero_engagement"),
        ("numeroFactureOrigine", "origin_number"),
        ("modePaiement", "payment_mode"),
    ):
        value = getattr(references, wire)
        if value:
            data[name] = value.upper() if name in ("currency", "invoice_type", "type_tva", "payment_mode") else value
    totals = payload.montantTotal or MontantTotalIn()
    for wire, name in (
        ("montantHtTotal", "total_ht"),
        ("montantTVA", "total_tva"),
        ("montantTtcTotal", "total_ttc"),
        ("montantRemiseGlobaleTTC", "remise_globale_ttc"),
        ("montantAPayer", "montant_a_payer"),
    ):
        value = getattr(totals, wire)
        if value is not None:
            data[name] = value
    if totals.motifRemiseGlobaleTTC:
        data["motif_remise_globale"] = totals.motifRemiseGlobaleTTC
    lines = []
    for index, line in enumerate(payload.lignePoste or []):
        spec: dict[str, Any] = {
            "reference": line.lignePosteReference or "",
            "designation": line.lignePosteDenomination or "",
            "unit": (line.lignePosteUnite or "C62").upper(),
            "vat_rate": _vat_rate(
                line.lignePosteTauxTva, line.lignePosteTauxTvaManuel, field=f"lignePoste[{index}].lignePosteTauxTva"
            ),
        }
        for wire, name in (
            ("lignePosteQuantite", "quantity"),
            ("lignePosteMontantUnitaireHT", "unit_price_ht"),
            ("lignePosteMontantRemiseHT", "discount_ht"),
        ):
            value = getattr(line, wire)
            if value is not None:
                spec[name] = value
        lines.append({key: value for key, value in spec.items() if value is not None})
    vat_lines = []
    seen_rates: dict = {}
    for index, row in enumerate(payload.ligneTva or []):
        rate = _vat_rate(row.ligneTvaTaux, row.ligneTvaTauxManuel, field=f"ligneTva[{index}].ligneTvaTaux")
        if rate in seen_rates:
            # The recap holds one row per rate (a stored row per rate): two would be one total split in two.
            raise CproError(
                INVALID_VALUE,
                f"Les lignes ligneTva[{seen_rates[rate]}] et ligneTva[{index}] portent le même taux de TVA "
                f"({rate} %) : le récapitulatif compte une seule ligne par taux, additionnez-les.",
            )
        seen_rates[rate] = index
        vat_lines.append(
            {"rate": rate, "base_ht": row.ligneTvaMontantBaseHtParTaux, "vat_amount": row.ligneTvaMontantTvaParTaux}
        )
    return data, lines, vat_lines


def attachment_name(designation: str | None, uploaded_name: str) -> str:
    """The name an attachment is stored under: its `…Designation` (a label for clients, « Bon de livraison »)
    keeps the extension of the uploaded file when it has none, so that its type stays known."""
    designation = (designation or "").strip()
    if not designation:
        return uploaded_name
    extension = uploaded_name.rpartition(".")[2] if "." in uploaded_name else ""
    if extension and not designation.lower().endswith(f".{extension.lower()}"):
        return f"{designation}.{extension}"
    return designation


def _main_document_id(payload: SoumettreIn) -> int | None:
    main = payload.pieceJointePrincipale
    if isinstance(main, list):
        if len(main) > 1:
            raise CproError(INVALID_VALUE, "Le champ « pieceJointePrincipale » ne peut citer qu'un seul document.")
        main = main[0] if main else None
    return main.pieceJointePrincipaleId if main is not None else None


@cpro_post(
    router,
    "soumettre",
    SoumettreOut,
    operation_id="soumettreFacture",
    summary="Créer et envoyer une facture à partir de ses données",
    description=(
        "`modeDepot` SAISIE_API (Chœur produit le PDF Factur-X) ou DEPOT_PDF_API / DEPOT_PDF_SIGNE_API (le PDF "
        "déposé par `deposer/pdf`, cité dans `pieceJointePrincipale`). Les contrôles sont ceux du portail ; tous "
        "les points à corriger sont listés dans `libelle`. Rien n'est créé si la facture est refusée."
    ),
)
def soumettre(request, payload: SoumettreIn):
    mode_depot = (payload.modeDepot or ModeDepot.SAISIE_API).upper()
    if mode_depot not in SOUMETTRE_MODES:
        raise CproError(
            INVALID_VALUE,
            f"Le champ « modeDepot » vaut « {mode_depot[:30]} » : utilisez {', '.join(SOUMETTRE_MODES)}.",
        )
    caller = request.cpro.structure
    data, lines, vat_lines = _draft_data(request, payload, mode_depot)
    main_id = _main_document_id(payload)
    if mode_depot != ModeDepot.SAISIE_API and main_id is None:
        raise CproError(
            MISSING_FIELD,
            f"Le champ « pieceJointePrincipale » est obligatoire en {mode_depot} : déposez le PDF par "
            "`deposer/pdf` et citez son pieceJointeId.",
        )
    with transaction.atomic(), business_errors():
        main = take_uploaded_files(
            caller, [main_id] if main_id else [], field="pieceJointePrincipale.pieceJointePrincipaleId"
        )
        attachments = take_uploaded_files(
            caller,
            [piece.pieceJointeComplementaireId for piece in payload.pieceJointeComplementaire or []],
            field="pieceJointeComplementaire.pieceJointeComplementaireId",
        )
        invoice = invoice_services.invoice_draft_create(
            supplier=caller, by=None, lines=lines or None, vat_lines=vat_lines or None, **data
        )
        if main:
            invoice.main_document = main[0].file
            invoice.main_document_name = main[0].name
            invoice.save(update_fields=["main_document", "main_document_name", "updated_at"])
        for piece, upload in zip(payload.pieceJointeComplementaire or [], attachments, strict=True):
            invoice_services.invoice_attachment_add(
                invoice=invoice,
                by=None,
                name=attachment_name(piece.pieceJointeComplementaireDesignation, upload.name),
                content=upload.file.read(),
                type_code=piece.type_code(),
                line_number=piece.pieceJointeComplementaireNumeroLigneFacture,
                channel=Channel.API,
            )
        invoice = invoice_services.invoice_send(
            invoice=invoice, by=None, channel=Channel.API, by_label=caller_label(request)
        )
    return ok(
        identifiantFactureCPP=invoice.pk,
        numeroFacture=invoice.number,
        dateDepot=day(invoice.deposited_at),
        statutFacture=invoice.status,
        identifiantStructure=caller.identifier,
        empreinteCertificatDepot=invoice.document_sha256,
    )


# ---------------------------------------------------------------------------------------------------
# consulter/fournisseur, consulter/recipiendaire
# ---------------------------------------------------------------------------------------------------


class ConsulterFournisseurIn(CproIn):
    identifiantFactureCPP: IdIn = None
    codeLangue: CodeLangue = None
    pLignesPoste: PaginationIn | None = None
    pListePiecesJointes: PaginationIn | None = None
    pLigneRecapTva: PaginationIn | None = None


class ConsulterRecipiendaireIn(CproIn):
    identifiantFactureCPP: IdIn = None
    codeLangue: CodeLangue = None
    rechercheLignePoste: PaginationIn | None = None
    recherchePj: PaginationIn | None = None
    rechercheligneTvaRecap: PaginationIn | None = None


@cpro_post(
    router,
    "consulter/fournisseur",
    FactureOut,
    operation_id="consulterFactureParFournisseur",
    summary="Consulter une facture émise",
    description="La facture complète (parties, références, lignes, TVA, montants, pièces jointes), côté fournisseur.",
)
def consulter_fournisseur(request, payload: ConsulterFournisseurIn):
    invoice = invoice_for_caller(
        request.cpro.structure, payload.identifiantFactureCPP, SUPPLIER, field="identifiantFactureCPP"
    )
    facture = facture_object(
        invoice, lines=payload.pLignesPoste, attachments=payload.pListePiecesJointes, vat=payload.pLigneRecapTva
    )
    facture["statutFacture"] = status_for_supplier(invoice)
    return ok(facture=facture)


@cpro_post(
    router,
    "consulter/recipiendaire",
    FactureOut,
    operation_id="consulterFactureParRecipiendaire",
    summary="Consulter une facture reçue",
    description="La facture complète, vue du destinataire (une fois mise à sa disposition).",
)
def consulter_recipiendaire(request, payload: ConsulterRecipiendaireIn):
    invoice = invoice_for_caller(
        request.cpro.structure, payload.identifiantFactureCPP, RECIPIENT, field="identifiantFactureCPP"
    )
    return ok(
        facture=facture_object(
            invoice,
            lines=payload.rechercheLignePoste,
            attachments=payload.recherchePj,
            vat=payload.rechercheligneTvaRecap,
        )
    )


# ---------------------------------------------------------------------------------------------------
# consulter/historique
# ---------------------------------------------------------------------------------------------------


class HistoriqueIn(CproIn):
    idFacture: IdIn = None
    idEspace: IdIn = None
    nbResultatsMaximum: IdIn = None
    paramRechercheHistoStatuts: PaginationIn | None = None
    paramRechercheHistoActionsUtilisateurs: PaginationIn | None = None
    paramRechercheHistoEvenementsComplementaires: PaginationIn | None = None


class HistoStatut(Schema):
    histoStatutId: int
    histoStatutCode: str
    histoStatutDatePassage: str | None
    histoStatutCommentaire: str
    histoStatutUtilisateurNom: str
    histoStatutUtilisateurPrenom: str
    histoStatutUtilisateurEmail: str
    histoStatutUtilisateurTelephone: str


class HistoriquesDesStatuts(Schema):
    histoStatut: list[HistoStatut]
    pageCourante: int
    pages: int
    nbResultatsParPage: int
    total: int


class HistoAction(Schema):
    histoActionId: int
    histoActionCode: str
    histoActionDateHeure: str | None
    histoActionUtilisateurNom: str
    histoActionUtilisateurPrenom: str
    histoActionUtilisateurEmail: str
    histoActionUtilisateurTelephone: str


class HistoriquesDesActions(Schema):
    histoAction: list[HistoAction]
    pageCourante: int
    pages: int
    nbResultatsParPage: int
    total: int


class Evenement(Schema):
    evenementId: int
    evenementLibelle: str
    evenementQui: str
    evenementDateHeure: str | None


class HistoriquesDesEvenements(Schema):
    evenement: list[Evenement]
    pageCourante: int
    pages: int
    nbResultatsParPage: int
    total: int


class DerniereAction(Schema):
    derniereActionId: int | None
    derniereActionCode: str


class HistoriqueOut(CproOut):
    idFacture: int | None = None
    numeroFacture: str | None = None
    modeDepot: str | None = None
    statutCourantCode: str | None = None
    historiquesDesStatuts: HistoriquesDesStatuts | None = None
    historiquesDesActionsUtilisateurs: HistoriquesDesActions | None = None
    historiquesDesEvenementsComplementaires: HistoriquesDesEvenements | None = None
    derniereAction: DerniereAction | None = None


def _person(row, caller: Structure) -> tuple[str, str, str, str]:
    """(nom, prénom, e-mail, téléphone) of who acted. A person of another structure is shown by their
    structure only: the caller learns who acted, not the other side's staff directory."""
    user = row.actor_user
    if user is not None and row.actor_structure_id == caller.pk:
        return user.last_name, user.first_name, user.email, getattr(user, "phone", "")
    if row.actor_structure is not None:
        return row.actor_structure.designation, "", "", ""
    return row.actor_label or "Chœur", "", "", ""


def _page(rows: list, params: PaginationIn | None, maximum: int | None) -> tuple[list, dict[str, int]]:
    """Chronological order; `pageResultatDemandee`/`nbResultatsParPage` slice it (all rows by default)."""
    if maximum:
        rows = rows[:maximum]
    params = params or PaginationIn()
    size = params.nbResultatsParPage or max(len(rows), 1)
    page = params.pageResultatDemandee or 1
    total = len(rows)
    chunk = rows[(page - 1) * size : page * size]
    return chunk, {
        "pageCourante": page,
        "pages": (total + size - 1) // size if total else 0,
        "nbResultatsParPage": size,
        "total": total,
    }


@cpro_post(
    router,
    "consulter/historique",
    HistoriqueOut,
    operation_id="consulterHistoriqueFacture",
    summary="Historique d'une facture",
    description=(
        "Les statuts successifs (avec motif et commentaire), les actions sans changement de statut "
        "(téléchargements, acquittements, ajouts de pièces) et la dernière action, pour le fournisseur comme "
        "pour le destinataire."
    ),
)
def consulter_historique(request, payload: HistoriqueIn):
    caller = request.cpro.structure
    invoice = invoice_for_caller(caller, payload.idFacture, ANY_PARTY, field="idFacture")
    # The supplier does not see a « mise en paiement » its recipient does not report.
    changes = status_changes_for(invoice=invoice, structure=caller)
    events = list(
        InvoiceEvent.objects.filter(invoice=invoice)
        .select_related("actor_user", "actor_structure")
        .order_by("created_at", "id")
    )
    status_rows = []
    for change in changes:
        nom, prenom, email, telephone = _person(change, caller)
        status_rows.append(
            {
                "histoStatutId": change.pk,
                "histoStatutCode": change.to_status,
                "histoStatutDatePassage": chorus_datetime(change.created_at),
                "histoStatutCommentaire": " — ".join(part for part in (change.motif, change.comment) if part),
                "histoStatutUtilisateurNom": nom,
                "histoStatutUtilisateurPrenom": prenom,
                "histoStatutUtilisateurEmail": email,
                "histoStatutUtilisateurTelephone": telephone,
            }
        )
    action_rows = []
    for event in events:
        nom, prenom, email, telephone = _person(event, caller)
        action_rows.append(
            {
                "histoActionId": event.pk,
                "histoActionCode": event.action,
                "histoActionDateHeure": chorus_datetime(event.created_at),
                "histoActionUtilisateurNom": nom,
                "histoActionUtilisateurPrenom": prenom,
                "histoActionUtilisateurEmail": email,
                "histoActionUtilisateurTelephone": telephone,
            }
        )
    # Complementary events: the automatic steps of the platform (routing, tacit validations…).
    event_rows = [
        {
            "evenementId": change.pk,
            "evenementLibelle": f"{InvoiceStatus(change.from_status).label} → {InvoiceStatus(change.to_status).label}",
            "evenementQui": "Chœur",
            "evenementDateHeure": chorus_datetime(change.created_at),
        }
        for change in changes
        if change.actor_role == ActorRole.SYSTEME
    ]
    maximum = payload.nbResultatsMaximum
    statuts, statuts_page = _page(status_rows, payload.paramRechercheHistoStatuts, maximum)
    actions, actions_page = _page(action_rows, payload.paramRechercheHistoActionsUtilisateurs, maximum)
    evenements, evenements_page = _page(event_rows, payload.paramRechercheHistoEvenementsComplementaires, maximum)
    last = max([*changes, *events], key=lambda row: (row.created_at, row.pk), default=None)
    if last is None:
        derniere = {"derniereActionId": None, "derniereActionCode": ""}
    elif isinstance(last, InvoiceEvent):
        derniere = {"derniereActionId": last.pk, "derniereActionCode": last.action}
    else:
        derniere = {"derniereActionId": last.pk, "derniereActionCode": last.transition.upper()}
    return ok(
        idFacture=invoice.pk,
        numeroFacture=invoice.number,
        modeDepot=invoice.mode_depot,
        statutCourantCode=invoice.status if caller.pk == invoice.recipient_id else status_for_supplier(invoice),
        historiquesDesStatuts={"histoStatut": statuts, **statuts_page},
        historiquesDesActionsUtilisateurs={"histoAction": actions, **actions_page},
        historiquesDesEvenementsComplementaires={"evenement": evenements, **evenements_page},
        derniereAction=derniere,
    )


# ---------------------------------------------------------------------------------------------------
# rechercher/fournisseur
# ---------------------------------------------------------------------------------------------------


class DestinataireCritere(CproObject):
    idDestinataire: IdIn = None
    listeIdServiceExecutant: list[int] | None = None
    raisonSocialeStuctDmd: OptionalStr = None


class RechercherFournisseurIn(CproIn):
    numeroFluxDepot: OptionalStr = None
    numeroFacture: OptionalStr = None
    numeroFactureOrigine: OptionalStr = None
    typeFacture: OptionalStr = None
    statutCourant: StrListIn = None
    idFournisseur: IdIn = None
    idServiceFournisseur: IdIn = None
    listeDestinataire: list[DestinataireCritere] | None = None
    cadreFacturation: OptionalStr = None
    idStructureValideur: IdIn = None
    modeDepot: OptionalStr = None
    montantHTMin: AmountIn = None
    montantHTMax: AmountIn = None
    montantTTCMin: AmountIn = None
    montantTTCMax: AmountIn = None
    montantApayerMin: AmountIn = None
    montantApayerMax: AmountIn = None
    # The API appendix spells it with a capital P, the Go client with a small one: both are read.
    montantAPayerMin: AmountIn = None
    montantAPayerMax: AmountIn = None
    periodeDateDepotDu: DateIn = None
    periodeDateDepotAu: DateIn = None
    periodeDateFactureDu: DateIn = None
    periodeDateFactureAu: DateIn = None
    periodeDateHeureEtatCourantDu: DateTimeIn = None
    periodeDateHeureEtatCourantAu: DateTimeIn = None
    numeroMarche: OptionalStr = None
    numeroBonCommande: OptionalStr = None
    coordonneeBancaire: IdIn = None
    idUtilisateurCreateur: list[int] | None = None
    rechercheSirenDestinataire: FlagIn = None
    recupererTaille: FlagIn = None
    rejetTraite: FlagIn = None
    rechercheFactureParFournisseur: PaginationIn | None = None


class FactureFournisseurItem(Schema):
    identifiantFactureCPP: int
    numeroFacture: str
    typeFacture: str
    typeDemandePaiement: str
    statut: str
    dateFacture: str | None
    dateDepot: str | None
    dateHeureEtatCourant: str | None
    commentaireEtatCourant: str
    montantHT: float | None
    montantTTC: float | None
    montantAPayer: float | None
    devise: str
    modeDepot: str
    numeroFluxDepot: str
    codeFournisseur: str
    typeIdentifiantFournisseur: str
    designationFournisseur: str
    codeServiceFournisseur: str
    nomServiceFournisseur: str
    idDestinataire: int | None
    codeDestinataire: str
    designationDestinataire: str
    idServiceExecutant: int | None
    codeServiceExecutant: str
    nomServiceExecutant: str
    numeroMarche: str
    numeroBonCommande: str
    numeroFactureOrigine: str
    codeValideur1: str
    raisonSocialeValideur1: str
    typeIdentifiantValideur1: str
    codeValideur2: str
    raisonSocialeValideur2: str
    typeIdentifiantValideur2: str
    coordBancairesFournisseurNomCb: str
    coordBancairesFournisseurCompteBancaire: str
    nomPrenomUtilisateurCreateur: str
    taille: int | None
    rejetTraite: bool


class RechercherFournisseurOut(CproOut):
    listeFactures: list[FactureFournisseurItem] | None = None
    parametresRetour: ParametresRetour | None = None


INVOICE_SORT = {
    "NumeroFacture": ("number",),
    "DateFacture": ("invoice_date",),
    "DateDepot": ("deposited_at",),
    "DateHeureEtatCourant": ("status_changed_at",),
    "Statut": ("status",),
    "MontantTTC": ("total_ttc",),
    "MontantHT": ("total_ht",),
    "MontantAPayer": ("montant_a_payer",),
    "TypeFacture": ("invoice_type",),
}


def _common_filters(queryset, payload):
    if getattr(payload, "numeroFacture", None):
        queryset = queryset.filter(number__icontains=payload.numeroFacture)
    if getattr(payload, "numeroMarche", None):
        queryset = queryset.filter(numero_marche__icontains=payload.numeroMarche)
    if getattr(payload, "numeroBonCommande", None):
        queryset = queryset.filter(numero_engagement__icontains=payload.numeroBonCommande)
    statuses = statuses_checked(getattr(payload, "statutCourant", None), field="statutCourant")
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if getattr(payload, "cadreFacturation", None):
        queryset = queryset.filter(
            Q(cadre=payload.cadreFacturation) | Q(cadre__startswith=f"{payload.cadreFacturation}_")
        )
    if getattr(payload, "idStructureValideur", None) is not None:
        queryset = queryset.filter(
            Q(valideur_id=payload.idStructureValideur) | Q(valideur2_id=payload.idStructureValideur)
        )
    for wire, lookup in (
        ("periodeDateDepotDu", "deposited_at__date__gte"),
        ("periodeDateDepotAu", "deposited_at__date__lte"),
        ("periodeDateFactureDu", "invoice_date__gte"),
        ("periodeDateFactureAu", "invoice_date__lte"),
        ("periodeDateHeureEtatCourantDu", "status_changed_at__gte"),
        ("periodeDateHeureEtatCourantAu", "status_changed_at__lte"),
    ):
        value = getattr(payload, wire, None)
        if value is not None:
            queryset = queryset.filter(**{lookup: value})
    return queryset.filter(
        amount_filters(
            {
                "montantHTMin": "total_ht__gte",
                "montantHTMax": "total_ht__lte",
                "montantTTCMin": "total_ttc__gte",
                "montantTTCMax": "total_ttc__lte",
                "montantApayerMin": "montant_a_payer__gte",
                "montantApayerMax": "montant_a_payer__lte",
                "montantAPayerMin": "montant_a_payer__gte",
                "montantAPayerMax": "montant_a_payer__lte",
            },
            payload,
        )
    )


@cpro_post(
    router,
    "rechercher/fournisseur",
    RechercherFournisseurOut,
    operation_id="rechercherFactureParFournisseur",
    summary="Rechercher les factures émises",
    description=(
        "Les factures de votre structure (brouillons compris), par numéro de flux, numéro, statut, destinataire, "
        "montants, périodes… Tri (`rechercheFactureParFournisseur.triColonne`) : "
        + ", ".join(INVOICE_SORT)
        + ". Sans résultat : codeRetour 20000."
    ),
)
def rechercher_fournisseur(request, payload: RechercherFournisseurIn):
    caller = request.cpro.structure
    if payload.idFournisseur is not None and payload.idFournisseur != caller.pk:
        return no_result(listeFactures=[])
    queryset = _common_filters(invoices_for(caller, SUPPLIER), payload)
    if payload.numeroFluxDepot:
        queryset = queryset.filter(numero_flux_depot=payload.numeroFluxDepot)
    if payload.numeroFactureOrigine:
        queryset = queryset.filter(origin_number__icontains=payload.numeroFactureOrigine)
    if payload.typeFacture:
        queryset = queryset.filter(invoice_type=payload.typeFacture.upper())
    if payload.idServiceFournisseur is not None:
        queryset = queryset.filter(supplier_service_id=payload.idServiceFournisseur)
    if payload.modeDepot:
        queryset = queryset.filter(mode_depot=payload.modeDepot.upper())
    if payload.coordonneeBancaire is not None:
        queryset = queryset.filter(supplier_bank_account_id=payload.coordonneeBancaire)
    if payload.rejetTraite:
        queryset = queryset.filter(rejet_traite=True)
    destinations = Q()
    for criterion in payload.listeDestinataire or []:
        one = Q()
        if criterion.idDestinataire is not None:
            one &= Q(recipient_id=criterion.idDestinataire)
        if criterion.listeIdServiceExecutant:
            one &= Q(recipient_service_id__in=criterion.listeIdServiceExecutant)
        if criterion.raisonSocialeStuctDmd:
            one &= Q(recipient__raison_sociale__icontains=criterion.raisonSocialeStuctDmd)
        destinations |= one
    queryset = queryset.filter(destinations)
    page = paginate_queryset(
        queryset.select_related("created_by", "main_document"),
        payload.rechercheFactureParFournisseur,
        wire_name="rechercheFactureParFournisseur",
        columns=INVOICE_SORT,
        default_column="DateDepot",
    )
    items = []
    for invoice in page.items:
        account = invoice.supplier_bank_account
        creator = invoice.created_by
        items.append(
            {
                "identifiantFactureCPP": invoice.pk,
                **search_row(invoice),
                # A recipient that does not report « mise en paiement » keeps it from its suppliers.
                "statut": status_for_supplier(invoice),
                "modeDepot": invoice.mode_depot,
                "numeroFluxDepot": invoice.numero_flux_depot,
                "numeroFactureOrigine": invoice.origin_number,
                "codeValideur1": invoice.valideur.identifier if invoice.valideur else "",
                "raisonSocialeValideur1": invoice.valideur.designation if invoice.valideur else "",
                "typeIdentifiantValideur1": invoice.valideur.identifier_type if invoice.valideur else "",
                "codeValideur2": invoice.valideur2.identifier if invoice.valideur2 else "",
                "raisonSocialeValideur2": invoice.valideur2.designation if invoice.valideur2 else "",
                "typeIdentifiantValideur2": invoice.valideur2.identifier_type if invoice.valideur2 else "",
                "coordBancairesFournisseurNomCb": account.label if account else "",
                "coordBancairesFournisseurCompteBancaire": account.iban if account else "",
                "nomPrenomUtilisateurCreateur": f"{creator.last_name} {creator.first_name}".strip() if creator else "",
                "taille": size_of(invoice) if payload.recupererTaille else None,
                "rejetTraite": invoice.rejet_traite,
            }
        )
    return list_result("listeFactures", items, parametresRetour=page.parametres_retour())


# ---------------------------------------------------------------------------------------------------
# rechercher/recipiendaire
# ---------------------------------------------------------------------------------------------------


class FournisseurCritere(CproObject):
    idFournisseur: IdIn = None
    listeIdService: list[int] | None = None


class RechercherRecipiendaireIn(CproIn):
    typeDemandePaiement: OptionalStr = None
    idDestinataire: IdIn = None
    idServiceExecutant: IdIn = None
    listeFournisseurs: list[FournisseurCritere] | None = None
    numeroFacture: OptionalStr = None
    statutCourant: StrListIn = None
    listeTypeFacture: StrListIn = None
    listeTypeFactureTravaux: StrListIn = None
    cadreFacturation: OptionalStr = None
    idStructureValideur: IdIn = None
    factureTelechargeeParDestinataire: FlagIn = None
    numeroMarche: OptionalStr = None
    numeroBonCommande: OptionalStr = None
    montantHTMin: AmountIn = None
    montantHTMax: AmountIn = None
    montantTTCMin: AmountIn = None
    montantTTCMax: AmountIn = None
    montantApayerMin: AmountIn = None
    montantApayerMax: AmountIn = None
    montantAPayerMin: AmountIn = None
    montantAPayerMax: AmountIn = None
    periodeDateDepotDu: DateIn = None
    periodeDateDepotAu: DateIn = None
    periodeDateFactureDu: DateIn = None
    periodeDateFactureAu: DateIn = None
    periodeDateHeureEtatCourantDu: DateTimeIn = None
    periodeDateHeureEtatCourantAu: DateTimeIn = None
    rechercheSirenFournisseur: FlagIn = None
    recupererTaille: FlagIn = None
    paramRecherche: PaginationIn | None = None


class FactureRecipiendaireItem(Schema):
    idFacture: int
    numeroFacture: str
    statut: str
    typeFacture: str
    typeDemandePaiement: str
    typeFactureTravaux: str
    dateFacture: str | None
    dateDepot: str | None
    dateHeureEtatCourant: str | None
    commentaireEtatCourant: str
    montantHT: float | None
    montantTTC: float | None
    montantAPayer: float | None
    devise: str
    codeFournisseur: str
    typeIdentifiantFournisseur: str
    designationFournisseur: str
    codeServiceFournisseur: str
    nomServiceFournisseur: str
    idDestinataire: int | None
    codeDestinataire: str
    designationDestinataire: str
    idServiceExecutant: int | None
    codeServiceExecutant: str
    nomServiceExecutant: str
    codeMOA: str
    designationMOA: str
    typeIdentifiantMOA: str
    codeMOE: str
    designationMOE: str
    typeIdentifiantMOE: str
    factureTelechargeeParDestinataire: bool
    numeroMarche: str
    numeroBonCommande: str
    taille: int | None


class RechercherRecipiendaireOut(CproOut):
    listeFactures: list[FactureRecipiendaireItem] | None = None
    # This operation puts the page figures at the top level (chorus-pro.md §8.2).
    pageCourante: int | None = None
    pages: int | None = None
    nbResultatsParPage: int | None = None
    total: int | None = None


@cpro_post(
    router,
    "rechercher/recipiendaire",
    RechercherRecipiendaireOut,
    operation_id="rechercherFactureParRecipiendaire",
    summary="Rechercher les factures reçues",
    description=(
        "Les factures mises à la disposition de votre structure. `factureTelechargeeParDestinataire` filtre sur "
        "téléchargée / non téléchargée. La pagination est rendue au premier niveau (`pageCourante`, `pages`, "
        "`nbResultatsParPage`, `total`), comme sur Chorus Pro. Tri (`paramRecherche.triColonne`) : "
        + ", ".join(INVOICE_SORT)
        + "."
    ),
)
def rechercher_recipiendaire(request, payload: RechercherRecipiendaireIn):
    caller = request.cpro.structure
    if payload.idDestinataire is not None and payload.idDestinataire != caller.pk:
        return no_result(listeFactures=[])
    queryset = _common_filters(invoices_for(caller, RECIPIENT), payload)
    if payload.typeDemandePaiement:
        if payload.typeDemandePaiement.upper() not in TypeDemandePaiement.values:
            raise CproError(
                INVALID_VALUE,
                f"Le champ « typeDemandePaiement » vaut « {payload.typeDemandePaiement[:30]} » : utilisez FACTURE ou "
                "FACTURE_TRAVAUX.",
            )
        queryset = queryset.filter(type_demande_paiement=payload.typeDemandePaiement.upper())
    if payload.idServiceExecutant is not None:
        queryset = queryset.filter(recipient_service_id=payload.idServiceExecutant)
    if payload.listeTypeFacture:
        queryset = queryset.filter(invoice_type__in=[value.upper() for value in payload.listeTypeFacture])
    if payload.factureTelechargeeParDestinataire is not None:
        queryset = queryset.filter(downloaded_by_recipient=payload.factureTelechargeeParDestinataire)
    suppliers = Q()
    for criterion in payload.listeFournisseurs or []:
        one = Q()
        if criterion.idFournisseur is not None:
            one &= Q(supplier_id=criterion.idFournisseur)
        if criterion.listeIdService:
            one &= Q(supplier_service_id__in=criterion.listeIdService)
        suppliers |= one
    queryset = queryset.filter(suppliers)
    page = paginate_queryset(
        queryset.select_related("main_document"),
        payload.paramRecherche,
        wire_name="paramRecherche",
        columns=INVOICE_SORT,
        default_column="DateDepot",
    )
    items = []
    for invoice in page.items:
        items.append(
            {
                "idFacture": invoice.pk,
                **search_row(invoice),
                "typeFactureTravaux": "",
                "codeMOA": invoice.moa.identifier if invoice.moa else "",
                "designationMOA": invoice.moa.designation if invoice.moa else "",
                "typeIdentifiantMOA": invoice.moa.identifier_type if invoice.moa else "",
                "codeMOE": invoice.moe.identifier if invoice.moe else "",
                "designationMOE": invoice.moe.designation if invoice.moe else "",
                "typeIdentifiantMOE": invoice.moe.identifier_type if invoice.moe else "",
                "factureTelechargeeParDestinataire": invoice.downloaded_by_recipient,
                "taille": size_of(invoice) if payload.recupererTaille else None,
            }
        )
    return list_result("listeFactures", items, **page.parametres_retour())


# ---------------------------------------------------------------------------------------------------
# rechercher/demandePaiement
# ---------------------------------------------------------------------------------------------------


class StructureFournisseurCritere(CproObject):
    idStructureFournisseur: IdIn = None
    identifiantStructureFournisseur: OptionalStr = None
    typeIdentifiantStructureFournisseur: OptionalStr = None


class StructureDestinataireCritere(CproObject):
    idStructureDestinataire: IdIn = None
    identifiantStructureDestinataire: OptionalStr = None
    typeIdentifiantStructureDestinataire: OptionalStr = None


class StructureValideurCritere(CproObject):
    idStructureValideur: IdIn = None
    identifiantStructureValideur: OptionalStr = None
    typeIdentifiantStructureValideur: OptionalStr = None


class StructureMoaCritere(CproObject):
    idStructureMoa: IdIn = None
    identifiantStructureMoa: OptionalStr = None
    typeIdentifiantStructureMoa: OptionalStr = None


class StructureMoeCritere(CproObject):
    idStructureMoe: IdIn = None
    identifiantStructureMoe: OptionalStr = None
    typeIdentifiantStructureMoe: OptionalStr = None


ROLES_UTILISATEUR = {
    "FOURNISSEUR": ("supplier", "structureFournisseur"),
    "DESTINATAIRE": ("recipient", "structureDestinataire"),
    "VALIDEUR": ("valideur", "structureValideur"),
    "MOA": ("moa", "structureMoa"),
    "MOE": ("moe", "structureMoe"),
}


class RechercherDemandePaiementIn(CproIn):
    roleUtilisateur: OptionalStr = None
    structureFournisseur: StructureFournisseurCritere | None = None
    structureDestinataire: StructureDestinataireCritere | None = None
    structureValideur: StructureValideurCritere | None = None
    structureMoa: StructureMoaCritere | None = None
    structureMoe: StructureMoeCritere | None = None
    idServiceFournisseur: IdIn = None
    idServiceDestinataire: IdIn = None
    idServiceMoa: IdIn = None
    idServiceMoe: IdIn = None
    typeDemandePaiement: OptionalStr = None
    typeFactureTravaux: OptionalStr = None
    typeFacture: OptionalStr = None
    cadreFacturation: OptionalStr = None
    statutCourant: StrListIn = None
    dpOuDpArchive: OptionalStr = None
    numeroDossierFacturation: OptionalStr = None
    numeroDpMandat: OptionalStr = None
    numeroFacture: OptionalStr = None
    numeroFactureMemoire: OptionalStr = None
    numeroFactureOrigine: OptionalStr = None
    numeroMarche: OptionalStr = None
    numeroBonCommande: OptionalStr = None
    montantHTMin: AmountIn = None
    montantHTMax: AmountIn = None
    montantTTCMin: AmountIn = None
    montantTTCMax: AmountIn = None
    montantAPayerMin: AmountIn = None
    montantAPayerMax: AmountIn = None
    periodeDateDepotDu: DateIn = None
    periodeDateDepotAu: DateIn = None
    periodeDateFournisseurDu: DateIn = None
    periodeDateFournisseurAu: DateIn = None
    periodeDateHeureEtatCourantDu: DateTimeIn = None
    periodeDateHeureEtatCourantAu: DateTimeIn = None
    rechercheSirenDestinataire: FlagIn = None
    rechercheSirenFournisseur: FlagIn = None
    parametresRecherche: PaginationIn | None = None


class DemandePaiementItem(Schema):
    idDemandePaiement: int
    numeroDemandePaiement: str
    typeDemandePaiement: str
    typeFacture: str
    cadreFacturation: str
    etatCourant: str
    dateHeureEtatCourant: str | None
    commentaireEtatCourant: str
    dpOuDpArchive: str
    dateDepot: str | None
    dateFournisseur: str | None
    idStructureFournisseur: int
    identifiantStructureFournisseur: str
    idServiceFournisseur: int | None
    idStructureDestinataire: int | None
    identifiantStructureDestinataire: str
    idServiceDestinataire: int | None
    codeServiceDestinataire: str
    nomServiceDestinataire: str
    idStructureValideur1: int | None
    idStructureValideur2: int | None
    idStructureMoa: int | None
    idStructureMoe: int | None
    numeroDpMandat: str
    numeroMarche: str
    numeroBonCommande: str
    numeroFactureOrigine: str
    montantHT: float | None
    montantTTC: float | None
    montantAPayer: float | None


class RechercherDemandePaiementOut(CproOut):
    listeDemandePaiement: list[DemandePaiementItem] | None = None
    parametresRetour: ParametresRetour | None = None


@cpro_post(
    router,
    "rechercher/demandePaiement",
    RechercherDemandePaiementOut,
    operation_id="rechercherDemandePaiement",
    summary="Rechercher les demandes de paiement",
    description=(
        "Toutes les demandes de paiement dont votre structure est partie, ou celles où elle joue "
        "`roleUtilisateur` (FOURNISSEUR, DESTINATAIRE, VALIDEUR, MOA, MOE). Chœur n'archive pas : "
        "`dpOuDpArchive` vaut toujours DEMANDE_PAIEMENT (DP_ARCHIVE ne rend rien)."
    ),
)
def rechercher_demande_paiement(request, payload: RechercherDemandePaiementIn):
    caller = request.cpro.structure
    role = (payload.roleUtilisateur or "").upper()
    if role and role not in ROLES_UTILISATEUR:
        raise CproError(
            INVALID_VALUE,
            f"Le champ « roleUtilisateur » vaut « {role[:30]} » : utilisez {', '.join(ROLES_UTILISATEUR)}.",
        )
    if (payload.dpOuDpArchive or "").upper() == "DP_ARCHIVE":
        return no_result(listeDemandePaiement=[])
    queryset = invoices_for(caller, ANY_PARTY)
    if role:
        model_field, _ = ROLES_UTILISATEUR[role]
        queryset = (
            queryset.filter(**{model_field: caller})
            if role != "VALIDEUR"
            else queryset.filter(Q(valideur=caller) | Q(valideur2=caller))
        )
    for wire, (model_field, _) in (
        ("structureFournisseur", ROLES_UTILISATEUR["FOURNISSEUR"]),
        ("structureDestinataire", ROLES_UTILISATEUR["DESTINATAIRE"]),
        ("structureMoa", ROLES_UTILISATEUR["MOA"]),
        ("structureMoe", ROLES_UTILISATEUR["MOE"]),
        ("structureValideur", ROLES_UTILISATEUR["VALIDEUR"]),
    ):
        criterion = getattr(payload, wire)
        if criterion is None:
            continue
        suffix = wire.removeprefix("structure")
        structure_id = getattr(criterion, f"idStructure{suffix}")
        identifier = getattr(criterion, f"identifiantStructure{suffix}")
        if structure_id is not None:
            queryset = queryset.filter(**{f"{model_field}_id": structure_id})
        if identifier:
            queryset = queryset.filter(**{f"{model_field}__identifier": "".join(identifier.split())})
    for wire, model_field in (
        ("idServiceFournisseur", "supplier_service_id"),
        ("idServiceDestinataire", "recipient_service_id"),
        ("idServiceMoa", "moa_service_id"),
        ("idServiceMoe", "moe_service_id"),
    ):
        value = getattr(payload, wire)
        if value is not None:
            queryset = queryset.filter(**{model_field: value})
    queryset = _common_filters(queryset, payload)
    if payload.typeDemandePaiement:
        queryset = queryset.filter(type_demande_paiement=payload.typeDemandePaiement.upper())
    if payload.typeFacture:
        queryset = queryset.filter(invoice_type=payload.typeFacture.upper())
    if payload.numeroDpMandat:
        queryset = queryset.filter(numero_dp_mandat=payload.numeroDpMandat)
    if payload.numeroFactureOrigine:
        queryset = queryset.filter(origin_number__icontains=payload.numeroFactureOrigine)
    if payload.periodeDateFournisseurDu is not None:
        queryset = queryset.filter(invoice_date__gte=payload.periodeDateFournisseurDu)
    if payload.periodeDateFournisseurAu is not None:
        queryset = queryset.filter(invoice_date__lte=payload.periodeDateFournisseurAu)
    page = paginate_queryset(
        queryset,
        payload.parametresRecherche,
        wire_name="parametresRecherche",
        columns=INVOICE_SORT,
        default_column="DateDepot",
    )
    items = []
    for invoice in page.items:
        row = search_row(invoice)
        items.append(
            {
                "idDemandePaiement": invoice.pk,
                "numeroDemandePaiement": invoice.number,
                "typeDemandePaiement": invoice.type_demande_paiement,
                "typeFacture": invoice.invoice_type,
                "cadreFacturation": invoice.cadre,
                "etatCourant": invoice.status,
                "dateHeureEtatCourant": row["dateHeureEtatCourant"],
                "commentaireEtatCourant": row["commentaireEtatCourant"],
                "dpOuDpArchive": "DEMANDE_PAIEMENT",
                "dateDepot": row["dateDepot"],
                "dateFournisseur": row["dateFacture"],
                "idStructureFournisseur": invoice.supplier_id,
                "identifiantStructureFournisseur": invoice.supplier.identifier,
                "idServiceFournisseur": invoice.supplier_service_id,
                "idStructureDestinataire": invoice.recipient_id,
                "identifiantStructureDestinataire": row["codeDestinataire"],
                "idServiceDestinataire": invoice.recipient_service_id,
                "codeServiceDestinataire": row["codeServiceExecutant"],
                "nomServiceDestinataire": row["nomServiceExecutant"],
                "idStructureValideur1": invoice.valideur_id,
                "idStructureValideur2": invoice.valideur2_id,
                "idStructureMoa": invoice.moa_id,
                "idStructureMoe": invoice.moe_id,
                "numeroDpMandat": invoice.numero_dp_mandat,
                "numeroMarche": invoice.numero_marche,
                "numeroBonCommande": invoice.numero_engagement,
                "numeroFactureOrigine": invoice.origin_number,
                "montantHT": row["montantHT"],
                "montantTTC": row["montantTTC"],
                "montantAPayer": row["montantAPayer"],
            }
        )
    return list_result("listeDemandePaiement", items, parametresRetour=page.parametres_retour())


# ---------------------------------------------------------------------------------------------------
# traiter/recue
# ---------------------------------------------------------------------------------------------------

# `nouveauStatut` → the recipient's transition leading there (the table is the single source).
RECIPIENT_TRANSITIONS = {t.target: t.name for t in TRANSITIONS if ActorRole.DESTINATAIRE in t.roles}
MOTIF_REQUIRED = (InvoiceStatus.REJETEE, InvoiceStatus.SUSPENDUE, InvoiceStatus.A_RECYCLER)


class TraiterRecueIn(CproIn):
    idFacture: IdIn = None
    nouveauStatut: OptionalStr = None
    motif: OptionalStr = None
    numeroDPMandat: OptionalStr = None
    # Chœur's additions: a comment besides the motif, and the status the caller last read (409 when
    # someone acted meanwhile).
    commentaire: OptionalStr = None
    statutCourantAttendu: OptionalStr = None


# The « other » reason of each return: Chorus Pro's `motif` is free text, Chœur's returns carry a coded
# reason (lifecycle.MOTIFS) plus a comment. A known code is used as is; any other text becomes this code
# with the text as the comment the supplier reads.
OTHER_MOTIF = {"a_recycler": "ERREUR_ACHEMINEMENT_AUTRE", "suspendre": "AUTRE_PIECE", "rejeter": "AUTRE_REJET"}


def _motif_and_comment(transition: str, motif: str | None, commentaire: str | None) -> tuple[str, str]:
    from choeur.invoices.lifecycle import MOTIFS, motif_label

    motif = (motif or "").strip()
    commentaire = (commentaire or "").strip()
    if transition not in MOTIFS:
        return motif, " — ".join(part for part in (motif, commentaire) if part)
    codes = {code for code, _label in MOTIFS[transition]}
    if motif.upper() in codes:
        return motif.upper(), commentaire or motif_label(transition, motif.upper())
    return OTHER_MOTIF[transition], " — ".join(part for part in (motif, commentaire) if part)


class TraiterRecueOut(CproOut):
    idFacture: int | None = None
    numeroFacture: str | None = None
    nouveauStatut: str | None = None
    dateTraitement: str | None = None


@cpro_post(
    router,
    "traiter/recue",
    TraiterRecueOut,
    operation_id="traiterFactureRecue",
    summary="Traiter une facture reçue (changer son statut)",
    description=(
        "`nouveauStatut` : "
        + ", ".join(RECIPIENT_TRANSITIONS)
        + ". `motif` obligatoire pour REJETEE, SUSPENDUE et A_RECYCLER : un code de motif de Chœur "
        "(PIECE_JUSTIFICATIVE_MANQUANTE, AUTRE_REJET…) ou un texte libre ; `numeroDPMandat` avec MANDATEE. "
        "Les statuts possibles depuis le statut courant sont servis par `transverses/v1/recuperer/etats/traitement`."
    ),
)
def traiter_recue(request, payload: TraiterRecueIn):
    from choeur.invoices import lifecycle

    caller = request.cpro.structure
    invoice = invoice_for_caller(caller, payload.idFacture, RECIPIENT, field="idFacture")
    target = (payload.nouveauStatut or "").upper()
    if not target:
        raise CproError(MISSING_FIELD, "Le champ « nouveauStatut » est obligatoire : donnez le statut à appliquer.")
    transition = RECIPIENT_TRANSITIONS.get(target)
    if transition is None:
        raise CproError(
            INVALID_VALUE,
            f"Le champ « nouveauStatut » vaut « {target[:50]} » : un destinataire peut appliquer "
            f"{', '.join(RECIPIENT_TRANSITIONS)}.",
        )
    if target in MOTIF_REQUIRED and not payload.motif:
        raise CproError(
            MISSING_FIELD,
            f"Le champ « motif » est obligatoire pour le statut {target} : dites au fournisseur ce qui ne va pas.",
        )
    motif, comment = _motif_and_comment(transition, payload.motif, payload.commentaire)
    with business_errors():
        invoice = lifecycle.invoice_process(
            invoice=invoice,
            by=None,
            structure=caller,
            transition=transition,
            motif=motif,
            comment=comment,
            numero_dp_mandat=payload.numeroDPMandat or "",
            channel=Channel.API,
            expected_status=(payload.statutCourantAttendu or "").upper() or None,
        )
    return ok(
        idFacture=invoice.pk,
        numeroFacture=invoice.number,
        nouveauStatut=invoice.status,
        dateTraitement=day(timezone.now()),
    )


# ---------------------------------------------------------------------------------------------------
# completer, recycler, traiterRejet (the supplier's answers)
# ---------------------------------------------------------------------------------------------------


class CompleterIn(PiecesComplementairesIn):
    identifiantFactureCPP: IdIn = None
    commentaire: OptionalStr = None


class CompleterOut(CproOut):
    identifiantFactureCPP: int | None = None
    numeroFacture: str | None = None
    dateTraitement: str | None = None


@cpro_post(
    router,
    "completer",
    CompleterOut,
    operation_id="completerFacture",
    summary="Compléter une facture suspendue",
    description=(
        "Sur une facture SUSPENDUE : un commentaire et/ou des pièces jointes déposées par `ajouter/fichier` "
        "(`pieceJointeComplementaire[].pieceJointeComplementaireId`). La facture passe COMPLETEE et revient au "
        "destinataire."
    ),
)
def completer(request, payload: CompleterIn):
    from choeur.invoices import lifecycle

    caller = request.cpro.structure
    invoice = invoice_for_caller(caller, payload.identifiantFactureCPP, SUPPLIER, field="identifiantFactureCPP")
    if not payload.commentaire and not payload.pieceJointeComplementaire:
        raise CproError(
            MISSING_FIELD,
            "Compléter une facture demande un « commentaire » ou au moins une « pieceJointeComplementaire ».",
        )
    with transaction.atomic(), business_errors():
        uploads = take_uploaded_files(
            caller,
            [piece.pieceJointeComplementaireId for piece in payload.pieceJointeComplementaire or []],
            field="pieceJointeComplementaire.pieceJointeComplementaireId",
        )
        attachments = [
            (attachment_name(piece.pieceJointeComplementaireDesignation, upload.name), upload.file.read())
            for piece, upload in zip(payload.pieceJointeComplementaire or [], uploads, strict=True)
        ]
        invoice = lifecycle.invoice_complete(
            invoice=invoice,
            by=None,
            structure=caller,
            comment=payload.commentaire or "",
            attachments=attachments,
            channel=Channel.API,
        )
    return ok(identifiantFactureCPP=invoice.pk, numeroFacture=invoice.number, dateTraitement=day(timezone.now()))


class RecyclerReferenceIn(CproObject):
    numeroBonCommande: OptionalStr = None
    # The Go client sends the whole `references` object of soumettre here; the rest has no meaning.
    deviseFacture: OptionalStr = None
    typeFacture: OptionalStr = None
    typeTva: OptionalStr = None
    motifExonerationTva: OptionalStr = None
    numeroMarche: OptionalStr = None
    numeroFactureOrigine: OptionalStr = None
    modePaiement: OptionalStr = None


class RecyclerIn(CproIn):
    identifiantFactureCPP: IdIn = None
    destinataire: DestinataireIn | None = None
    reference: RecyclerReferenceIn | None = None
    commentaire: OptionalStr = None


class RecyclerOut(CproOut):
    identifiantFactureCPP: int | None = None
    numeroFacture: str | None = None
    dateDepot: str | None = None
    statutFacture: str | None = None


@cpro_post(
    router,
    "recycler",
    RecyclerOut,
    operation_id="recyclerFacture",
    summary="Recycler une facture (nouvelles données d'acheminement)",
    description=(
        "Sur une facture A_RECYCLER : nouveau destinataire (`destinataire.codeDestinataire`, SIRET), service "
        "exécutant et/ou numéro d'engagement (`reference.numeroBonCommande`). Le numéro de facture ne change pas."
    ),
)
def recycler(request, payload: RecyclerIn):
    from choeur.invoices import lifecycle

    caller = request.cpro.structure
    invoice = invoice_for_caller(caller, payload.identifiantFactureCPP, SUPPLIER, field="identifiantFactureCPP")
    destinataire = payload.destinataire or DestinataireIn()
    recipient = _public_recipient(destinataire.codeDestinataire) or invoice.recipient
    if recipient is None:
        raise CproError(MISSING_FIELD, "Le champ « destinataire.codeDestinataire » est obligatoire : donnez le SIRET.")
    service = None
    if destinataire.codeServiceExecutant:
        service = recipient.services.filter(code=destinataire.codeServiceExecutant).first()
        if service is None:
            raise CproError(
                INVALID_VALUE,
                f"Le champ « destinataire.codeServiceExecutant » vaut « {destinataire.codeServiceExecutant[:40]} » : "
                f"{recipient.designation} n'a pas ce service.",
            )
    engagement = (payload.reference.numeroBonCommande if payload.reference else None) or ""
    with business_errors():
        invoice = lifecycle.invoice_recycle(
            invoice=invoice,
            by=None,
            structure=caller,
            recipient=recipient,
            recipient_service=service,
            numero_engagement=engagement,
            channel=Channel.API,
        )
    return ok(
        identifiantFactureCPP=invoice.pk,
        numeroFacture=invoice.number,
        dateDepot=day(invoice.deposited_at),
        statutFacture=invoice.status,
    )


class DemandePaiementRef(CproObject):
    idDemandePaiement: IdIn = None


class TraiterRejetIn(CproIn):
    listeDemandePaiement: list[DemandePaiementRef] | None = None
    motifRejet: OptionalStr = None
    cpltInfos: OptionalStr = None


@cpro_post(
    router,
    "traiterRejet",
    CproOut,
    operation_id="traiterFacturesRejetees",
    summary="Acquitter le rejet de factures",
    description="Le fournisseur indique avoir pris en compte le rejet de ses factures REJETEE (`rejetTraite`).",
)
def traiter_rejet(request, payload: TraiterRejetIn):
    from choeur.invoices import lifecycle

    caller = request.cpro.structure
    ids = [ref.idDemandePaiement for ref in payload.listeDemandePaiement or []]
    if not ids or any(value is None for value in ids):
        raise CproError(
            MISSING_FIELD,
            "Le champ « listeDemandePaiement » est obligatoire : une liste de { idDemandePaiement } de vos factures "
            "rejetées.",
        )
    invoices = [
        invoice_for_caller(caller, value, SUPPLIER, field="listeDemandePaiement.idDemandePaiement") for value in ids
    ]
    with business_errors():
        lifecycle.invoice_rejection_acknowledge(invoices=invoices, by=None, structure=caller, channel=Channel.API)
    return ok()


# ---------------------------------------------------------------------------------------------------
# telecharger/groupe
# ---------------------------------------------------------------------------------------------------


class FactureRef(CproObject):
    idFacture: IdIn = None


class TelechargerGroupeIn(CproIn):
    listeFacture: list[FactureRef] | None = None
    format: OptionalStr = None
    avecPiecesJointesComplementaires: OptionalStr | bool = None
    idEspace: IdIn = None


class TelechargerGroupeOut(CproOut):
    fichierResultat: str | None = None
    # Chœur's addition: what the base64 holds (a client may save it without guessing).
    nomFichierResultat: str | None = None
    typeMimeFichierResultat: str | None = None


DOWNLOAD_FORMATS = ("PDF", "PIVOT", "XML", "ZIP")
MAX_DOWNLOAD_INVOICES = 100


def _with_attachments(value) -> bool:
    if isinstance(value, bool):
        return value
    return (value or "NON").strip().upper() in ("OUI", "TRUE", "O", "1")


def _invoice_files(invoice: Invoice, fmt: str, attachments: bool) -> list[tuple[str, bytes]]:
    stem = "".join(c if c.isalnum() or c in "-_+" else "-" for c in invoice.number) or f"facture-{invoice.pk}"
    files = []
    # The readable PDF of an XML-only deposit is rendered on demand if its task has not run yet.
    readable = invoice_readable_file(invoice=invoice) if fmt in ("PDF", "ZIP") else None
    if readable is not None:
        files.append((f"{stem}.pdf", readable.read()))
    if fmt in ("PIVOT", "XML", "ZIP") and invoice.structured_xml_id:
        files.append((f"{stem}.xml", invoice.structured_xml.read()))
    if attachments:
        for attachment in invoice.attachments.select_related("file"):
            files.append((f"{stem}/{attachment.name}", attachment.file.read()))
    return files


@cpro_post(
    router,
    "telecharger/groupe",
    TelechargerGroupeOut,
    operation_id="telechargerGroupeFacture",
    summary="Télécharger une ou plusieurs factures",
    description=(
        "`format` PDF (le document de facture), PIVOT ou XML (les données structurées CII/UBL) ; "
        "`avecPiecesJointesComplementaires` OUI ajoute les pièces jointes. Une seule facture en PDF sans pièce "
        f"jointe rend le PDF, sinon une archive ZIP (base64). {MAX_DOWNLOAD_INVOICES} factures au plus. "
        "Un téléchargement par le destinataire marque la facture « téléchargée »."
    ),
)
def telecharger_groupe(request, payload: TelechargerGroupeIn):
    caller = request.cpro.structure
    refs = payload.listeFacture or []
    if not refs or any(ref.idFacture is None for ref in refs):
        raise CproError(MISSING_FIELD, "Le champ « listeFacture » est obligatoire : une liste de { idFacture }.")
    if len(refs) > MAX_DOWNLOAD_INVOICES:
        raise CproError(
            INVALID_VALUE,
            f"Le champ « listeFacture » cite {len(refs)} factures ; {MAX_DOWNLOAD_INVOICES} au plus par appel.",
        )
    fmt = (payload.format or "PDF").upper()
    if fmt not in DOWNLOAD_FORMATS:
        raise CproError(
            INVALID_VALUE, f"Le champ « format » vaut « {fmt[:20]} » : utilisez {', '.join(DOWNLOAD_FORMATS)}."
        )
    attachments = _with_attachments(payload.avecPiecesJointesComplementaires)
    invoices = []
    for ref in refs:
        invoice = invoice_for_caller(caller, ref.idFacture, ANY_PARTY, field="listeFacture.idFacture")
        if invoice.is_draft:
            raise not_found("Facture")
        invoices.append(invoice)
    files = [item for invoice in invoices for item in _invoice_files(invoice, fmt, attachments)]
    if not files:
        raise CproError(
            INVALID_VALUE,
            f"Aucun document au format {fmt} pour ces factures : essayez le format PDF (toujours disponible pour une "
            "facture envoyée) ou ZIP.",
        )
    if len(files) == 1 and fmt != "ZIP":
        name, content = files[0]
        mime = sniff_mime(content)
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file_name, content in files:
                archive.writestr(file_name, content)
        name, content, mime = "factures.zip", buffer.getvalue(), "application/zip"
    for invoice in invoices:
        invoice_services.invoice_event_record(
            invoice=invoice,
            action=InvoiceEventAction.TELECHARGEMENT_FACTURE,
            actor_structure=caller,
            channel=Channel.API,
            data={"format": fmt},
        )
    return ok(fichierResultat=encode_file(content), nomFichierResultat=name, typeMimeFichierResultat=mime)
