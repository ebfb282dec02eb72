"""The Transverses operations around the main ones (chorus-pro.md §8.5): states per type of payment request,
the caller's structures per espace, the public-recipient directory download, and the files a caller uploaded
with `ajouter/fichier` (search, download, detach).

They are registered on the Transverses router (`transverses/v1/…`); request shapes are the clients' own
(go-choruspro transverses_*.go, Gizmo091/piste-gouv-fr Transverses.php).
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from django.db import transaction
from ninja import Schema
from pydantic import BeforeValidator

from choeur.api.cpro import referentials
from choeur.api.cpro.envelope import INVALID_VALUE, MISSING_FIELD, CproError, list_result, not_found, ok
from choeur.api.cpro.factures_common import encode_file
from choeur.api.cpro.pagination import PaginationIn, paginate_queryset
from choeur.api.cpro.pieces_jointes import handler_for, piece_jointe_handler, served_objects
from choeur.api.cpro.routing import cpro_post
from choeur.api.cpro.schemas import CodeLangue, CproIn, CproObject, CproOut, OptionalInt, OptionalStr, upper_or_none
from choeur.api.cpro.transverses import StructuresActivesOut, _active_structures_with_espace, router
from choeur.api.models import ApiUploadedFile
from choeur.core.spreadsheets import csv_text
from choeur.directory.enums import ESPACE_NUMERIC_CODES, EspaceCode
from choeur.directory.models import Structure
from choeur.invoices.enums import InvoiceStatus, TypeDemandePaiement

# ---------------------------------------------------------------------------------------------------
# recuperer/etat/typedp
# ---------------------------------------------------------------------------------------------------

# The works circuit's statuses start here in InvoiceStatus (chorus-pro.md §6.4); the validator circuit's
# end at DEPOSEE. A works invoice goes through the standard statuses and its own; an invoice never
# through the works ones.
_STATUSES = list(InvoiceStatus.values)
_WORKS_START = _STATUSES.index(InvoiceStatus.ERREUR_FOURNISSEUR_SUR_MOE)
_STANDARD_START = _STATUSES.index(InvoiceStatus.DEPOSEE)


def statuses_for_type(type_dp: str) -> list[str]:
    if type_dp == TypeDemandePaiement.FACTURE_TRAVAUX:
        return [InvoiceStatus.BROUILLON, *_STATUSES[_STANDARD_START:_WORKS_START], *_STATUSES[_WORKS_START:]]
    return _STATUSES[:_WORKS_START]


TypeDP = Annotated[str | None, BeforeValidator(upper_or_none)]


class EtatTypeDPIn(CproIn):
    typeDemandePaiement: TypeDP = None
    codeLangue: CodeLangue = None


class EtatDemandePaiement(Schema):
    etatDemandePaiement: str


class EtatTypeDPOut(CproOut):
    listeEtatDemandePaiement: list[EtatDemandePaiement] | None = None


@cpro_post(
    router,
    "recuperer/etat/typedp",
    EtatTypeDPOut,
    operation_id="recupererEtatParTypeDemandePaiement",
    summary="États possibles d'un type de demande de paiement",
    description="`typeDemandePaiement` FACTURE ou FACTURE_TRAVAUX (voir `recuperer/typedp`).",
)
def recuperer_etat_typedp(request, payload: EtatTypeDPIn):
    type_dp = payload.typeDemandePaiement
    if not type_dp:
        raise CproError(
            MISSING_FIELD,
            "Le champ « typeDemandePaiement » est obligatoire : FACTURE ou FACTURE_TRAVAUX (voir recuperer/typedp).",
        )
    if type_dp not in referentials.types_demande_paiement():
        raise CproError(
            INVALID_VALUE,
            f"Le champ « typeDemandePaiement » vaut « {type_dp[:40]} » : utilisez "
            f"{' ou '.join(referentials.types_demande_paiement())}.",
        )
    return list_result(
        "listeEtatDemandePaiement", [{"etatDemandePaiement": status} for status in statuses_for_type(type_dp)]
    )


# ---------------------------------------------------------------------------------------------------
# Structures of the caller per espace
# ---------------------------------------------------------------------------------------------------


@cpro_post(
    router,
    "recuperer/structures/actives/facturetravaux",
    StructuresActivesOut,
    operation_id="recupererStructuresActivesFactureTravaux",
    summary="Vos structures actives qui émettent des factures de travaux",
    description="Votre structure, si elle est active et a l'espace « Factures de travaux » ouvert.",
)
def structures_actives_facture_travaux(request, payload: CproIn | None = None):
    return _active_structures_with_espace(request, EspaceCode.FACTURES_TRAVAUX)


class StructuresPourUtilisateurIn(CproIn):
    # The PHP client sends the numeric code of an espace, or 0 / null for every espace.
    espaceFo: OptionalInt = None


class StructurePourUtilisateur(Schema):
    idStructure: int
    identifiantStructure: str
    designationStructure: str
    typeIdentifiantStructure: str


class StructuresPourUtilisateurOut(CproOut):
    listeStructures: list[StructurePourUtilisateur] | None = None


_ESPACE_BY_NUMBER = {number: code for code, number in ESPACE_NUMERIC_CODES.items()}


@cpro_post(
    router,
    "recuperer/structuresPourUtilisateur",
    StructuresPourUtilisateurOut,
    operation_id="recupererStructuresPourUtilisateur",
    summary="Les structures pour lesquelles vous agissez",
    description=(
        "La structure du compte technique (il agit pour une seule structure), si elle est active et, quand "
        "`espaceFo` est donné (code numérique d'un espace, 0 pour tous), si cet espace y est ouvert."
    ),
)
def structures_pour_utilisateur(request, payload: StructuresPourUtilisateurIn):
    structure = request.cpro.structure
    number = payload.espaceFo or 0
    if number and number not in _ESPACE_BY_NUMBER:
        known = ", ".join(f"{n} ({code})" for n, code in sorted(_ESPACE_BY_NUMBER.items()))
        raise CproError(INVALID_VALUE, f"Le champ « espaceFo » vaut {number} : utilisez 0 (tous) ou {known}.")
    if number:
        return _active_structures_with_espace_as_user(request, _ESPACE_BY_NUMBER[number])
    items = [_structure_item(structure)] if structure.is_active else []
    return list_result("listeStructures", items)


def _structure_item(structure: Structure) -> dict[str, Any]:
    return {
        "idStructure": structure.pk,
        "identifiantStructure": structure.identifier,
        "designationStructure": structure.designation,
        "typeIdentifiantStructure": structure.identifier_type,
    }


def _active_structures_with_espace_as_user(request, espace: str) -> dict:
    found = _active_structures_with_espace(request, espace)
    items = [_structure_item(request.cpro.structure)] if found.get("listeStructures") else []
    return list_result("listeStructures", items)


# ---------------------------------------------------------------------------------------------------
# telecharger/annuaire/destinataire
# ---------------------------------------------------------------------------------------------------

ANNUAIRE_COLUMNS = (
    "Identifiant",
    "Type identifiant",
    "Raison sociale",
    "Adresse",
    "Code postal",
    "Ville",
    "Pays",
    "Code service obligatoire",
    "Engagement juridique obligatoire",
    "Code service ou engagement obligatoire",
    "Code service",
    "Libellé du service",
    "Service actif",
)


class AnnuaireOut(CproOut):
    fichierResultat: str | None = None
    nomFichierResultat: str | None = None
    typeMimeFichierResultat: str | None = None


def _oui_non(value: bool) -> str:
    return "OUI" if value else "NON"


def annuaire_csv() -> bytes:
    """Every active public structure, one row per service (one row without service when it has none):
    what a supplier needs to address an invoice (identifier, mandatory references, service codes)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(ANNUAIRE_COLUMNS)
    structures = Structure.objects.public().active().order_by("identifier").prefetch_related("services")
    for structure in structures:
        head = [
            structure.identifier,
            structure.identifier_type,
            structure.designation,
            structure.adresse,
            structure.code_postal,
            structure.ville,
            structure.pays,
            _oui_non(structure.code_service_obligatoire),
            _oui_non(structure.engagement_obligatoire),
            _oui_non(structure.engagement_ou_service),
        ]
        services = sorted(structure.services.all(), key=lambda service: service.code)
        if not services:
            writer.writerow([csv_text(cell) for cell in (*head, "", "", "")])
        for service in services:
            writer.writerow(
                [csv_text(cell) for cell in (*head, service.code, service.libelle, _oui_non(service.is_active))]
            )
    # A BOM so that a spreadsheet opens the accents right.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@cpro_post(
    router,
    "telecharger/annuaire/destinataire",
    AnnuaireOut,
    operation_id="telechargerAnnuaireDestinataire",
    summary="Télécharger l'annuaire des destinataires publics",
    description=(
        "`fichierResultat` : un CSV (UTF-8, séparateur « ; ») des structures publiques actives, une ligne par "
        "service, avec les références obligatoires de chacune."
    ),
)
def telecharger_annuaire_destinataire(request, payload: CproIn | None = None):
    return ok(
        fichierResultat=encode_file(annuaire_csv()),
        nomFichierResultat="annuaire-destinataires.csv",
        typeMimeFichierResultat="text/csv",
    )


# ---------------------------------------------------------------------------------------------------
# rechercher/pj/moncompte, rechercher/pj/structure, detacherPieceJointe
# ---------------------------------------------------------------------------------------------------

# `ajouter/fichier` keeps files without a type: they are listed under the general attachment type.
UPLOAD_TYPE_CODE = "PIECE_JUSTIFICATIVE"


def _upload_type() -> referentials.PieceJointeType:
    return next(t for t in referentials.types_piece_jointe("FACTURE") if t.code == UPLOAD_TYPE_CODE)


class RechercherPJIn(CproIn):
    codeLangue: CodeLangue = None
    pieceJointeDesignation: OptionalStr = None
    pieceJointeTypeId: OptionalInt = None
    parametresRecherche: PaginationIn | None = None


class RechercherPJStructureIn(RechercherPJIn):
    idStructureCPP: OptionalInt = None


class PieceJointeTrouvee(Schema):
    pieceJointeId: int
    pieceJointeDesignation: str
    pieceJointeExtension: str
    pieceJointeObjetId: int | None = None
    pieceJointeTypeCode: str
    pieceJointeTypeLibelle: str
    pieceJointeUtilisateurId: int | None = None
    pieceJointeStructureId: int | None = None
    pieceJointeStructureCode: str | None = None
    pieceJointeStructureRaisonSociale: str | None = None


class RechercherPJOut(CproOut):
    listePiecesJointes: list[PieceJointeTrouvee] | None = None
    parametresRetour: dict[str, int] | None = None


PJ_SORT = {"PieceJointeDesignation": ("name",), "PieceJointeId": ("id",), "DateDepot": ("created_at",)}


def _search_uploads(payload: RechercherPJIn, uploads, *, with_structure: bool) -> dict:
    kind = _upload_type()
    if payload.pieceJointeTypeId not in (None, 0, kind.id):
        uploads = uploads.none()
    if payload.pieceJointeDesignation:
        uploads = uploads.filter(name__icontains=payload.pieceJointeDesignation)
    page = paginate_queryset(
        uploads.select_related("structure"),
        payload.parametresRecherche,
        wire_name="parametresRecherche",
        columns=PJ_SORT,
        default_column="PieceJointeId",
    )
    items = []
    for upload in page.items:
        item = {
            "pieceJointeId": upload.pk,
            "pieceJointeDesignation": upload.name,
            "pieceJointeExtension": upload.name.rpartition(".")[2].upper() if "." in upload.name else "",
            # Chorus Pro's id of the object the file is attached to; a file waiting for soumettre has none.
            "pieceJointeObjetId": None,
            "pieceJointeTypeCode": kind.code,
            "pieceJointeTypeLibelle": kind.label,
            "pieceJointeUtilisateurId": upload.technical_account_id,
        }
        if with_structure:
            item |= {
                "pieceJointeStructureId": upload.structure_id,
                "pieceJointeStructureCode": upload.structure.identifier,
                "pieceJointeStructureRaisonSociale": upload.structure.designation,
            }
        items.append(item)
    return list_result("listePiecesJointes", items, parametresRetour=page.parametres_retour())


def _pending_uploads(structure: Structure):
    return ApiUploadedFile.objects.filter(
        structure=structure, purpose=ApiUploadedFile.Purpose.PIECE_JOINTE, used_at__isnull=True
    )


@cpro_post(
    router,
    "rechercher/pj/moncompte",
    RechercherPJOut,
    operation_id="rechercherPieceJointeSurMonCompte",
    summary="Rechercher les pièces jointes déposées par votre compte",
    description="Les fichiers déposés par `ajouter/fichier` avec ce compte technique et pas encore utilisés.",
)
def rechercher_pj_moncompte(request, payload: RechercherPJIn):
    uploads = _pending_uploads(request.cpro.structure).filter(technical_account=request.cpro.technical_account)
    return _search_uploads(payload, uploads, with_structure=False)


@cpro_post(
    router,
    "rechercher/pj/structure",
    RechercherPJOut,
    operation_id="rechercherPieceJointeStructure",
    summary="Rechercher les pièces jointes déposées pour votre structure",
    description="Les fichiers déposés par `ajouter/fichier` pour votre structure et pas encore utilisés.",
)
def rechercher_pj_structure(request, payload: RechercherPJStructureIn):
    structure = request.cpro.structure
    if payload.idStructureCPP not in (None, 0, structure.pk):
        raise not_found("Structure")
    return _search_uploads(payload, _pending_uploads(structure), with_structure=True)


class DetacherPieceJointeIn(CproIn):
    idPieceJointeObjet: OptionalInt = None


@cpro_post(
    router,
    "detacherPieceJointe",
    CproOut,
    operation_id="detacherPieceJointe",
    summary="Retirer une pièce jointe déposée et pas encore utilisée",
    description=(
        "`idPieceJointeObjet` : le `pieceJointeId` rendu par `ajouter/fichier`. Une pièce déjà jointe à une "
        "facture soumise en fait partie et ne se retire pas."
    ),
)
def detacher_piece_jointe(request, payload: DetacherPieceJointeIn):
    if not payload.idPieceJointeObjet:
        raise CproError(
            MISSING_FIELD,
            "Le champ « idPieceJointeObjet » est obligatoire : le pieceJointeId rendu par ajouter/fichier.",
        )
    with transaction.atomic():
        upload = (
            ApiUploadedFile.objects.select_for_update()
            .filter(pk=payload.idPieceJointeObjet, structure=request.cpro.structure)
            .first()
        )
        if upload is None:
            raise not_found("Pièce jointe")
        if upload.used_at is not None:
            raise CproError(
                INVALID_VALUE,
                f"La pièce jointe « {upload.name} » est déjà jointe à une facture soumise : elle en fait partie et "
                "ne se retire pas.",
            )
        upload.delete()
    return ok()


# ---------------------------------------------------------------------------------------------------
# telecharger/pieceJointe
# ---------------------------------------------------------------------------------------------------


class FactureRef(CproObject):
    idFacture: OptionalInt = None


class DemandePaiementPJ(CproObject):
    listeFacture: list[FactureRef] | None = None
    format: OptionalStr = None
    avecPiecesJointesComplementaires: OptionalStr | bool = None


class TelechargerPieceJointeIn(CproIn):
    objetPieceJointe: Annotated[str | None, BeforeValidator(upper_or_none)] = None
    demandePaiement: DemandePaiementPJ | None = None
    # Accepted as sent by the Go client; the other objects are not downloadable here (see the answer).
    engagementJuridique: dict[str, Any] | None = None
    sollicitation: dict[str, Any] | None = None
    structure: dict[str, Any] | None = None


class TelechargerPieceJointeOut(CproOut):
    pieceJointe: str | None = None
    nomFichierResultat: str | None = None
    typeMimeFichierResultat: str | None = None


OBJETS_PJ = (
    "DEMANDE_PAIEMENT",
    "ENGAGEMENT_JURIDIQUE",
    "SOLLICITATION",
    "STRUCTURE_PIECEJOINTE",
    "STRUCTURE_MANDAT",
    "STRUCTURE_COORDONNEE_BANCAIRE",
    "UTILISATEUR",
)


@cpro_post(
    router,
    "telecharger/pieceJointe",
    TelechargerPieceJointeOut,
    operation_id="telechargerPieceJointe",
    summary="Télécharger une pièce jointe (demande de paiement, engagement juridique, sollicitation)",
    description=(
        "`objetPieceJointe` DEMANDE_PAIEMENT avec `demandePaiement{listeFacture[]{idFacture}, format, "
        "avecPiecesJointesComplementaires}` : comme `factures/v1/telecharger/groupe`, le fichier en base64 dans "
        "`pieceJointe`. ENGAGEMENT_JURIDIQUE avec `engagementJuridique{numeroEngagementJuridique}` : le PDF de "
        "l'engagement. SOLLICITATION avec `sollicitation{idSollicitation, pieceJointeSollicitation}` : un ZIP de "
        "la conversation et, avec OUI, de ses pièces jointes. Les autres objets ne se téléchargent pas par l'API."
    ),
)
def telecharger_piece_jointe(request, payload: TelechargerPieceJointeIn):
    objet = payload.objetPieceJointe
    if not objet:
        raise CproError(
            MISSING_FIELD, f"Le champ « objetPieceJointe » est obligatoire : l'une des valeurs {', '.join(OBJETS_PJ)}."
        )
    if objet not in OBJETS_PJ:
        raise CproError(
            INVALID_VALUE, f"Le champ « objetPieceJointe » vaut « {objet[:40]} » : utilisez {', '.join(OBJETS_PJ)}."
        )
    handler = handler_for(objet)
    if handler is None:
        raise CproError(
            INVALID_VALUE,
            f"Le téléchargement des pièces d'objet {objet} n'est pas proposé par l'API : ces pièces se consultent "
            f"dans le portail. Par l'API se téléchargent les pièces d'objet {', '.join(served_objects())}.",
        )
    return handler(request, payload)


@piece_jointe_handler("DEMANDE_PAIEMENT")
def _demande_paiement(request, payload: TelechargerPieceJointeIn) -> dict:
    # Imported here: factures imports this router's module for ajouter/fichier.
    from choeur.api.cpro.factures import TelechargerGroupeIn, telecharger_groupe

    if payload.demandePaiement is None:
        raise CproError(
            MISSING_FIELD,
            "Le champ « demandePaiement » est obligatoire avec objetPieceJointe DEMANDE_PAIEMENT : "
            "{ listeFacture: [{ idFacture }], format: PDF ou PIVOT, avecPiecesJointesComplementaires: OUI ou NON }.",
        )
    demande = payload.demandePaiement
    result = telecharger_groupe(
        request,
        TelechargerGroupeIn(
            listeFacture=[{"idFacture": ref.idFacture} for ref in demande.listeFacture or []],
            format=demande.format,
            avecPiecesJointesComplementaires=demande.avecPiecesJointesComplementaires,
        ),
    )
    return ok(
        pieceJointe=result["fichierResultat"],
        nomFichierResultat=result.get("nomFichierResultat"),
        typeMimeFichierResultat=result.get("typeMimeFichierResultat"),
    )
