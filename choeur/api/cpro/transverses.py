"""`transverses/v1/*`: health-check, referentials (`recuperer/*`), the caller's active structures and bank
details, the SIRET information and the search of recipients and their services (chorus-pro.md §8.5).

Labels are French whatever `codeLangue` says (FR or EN are both accepted): Chœur has no English tables.
"""

from __future__ import annotations

from typing import Annotated, Literal

from ninja import Router, Schema
from pydantic import BeforeValidator

from choeur.api import selectors
from choeur.api.cpro import referentials
from choeur.api.cpro.auth import CproAuth
from choeur.api.cpro.envelope import INVALID_VALUE, MISSING_FIELD, CproError, list_result, no_result, not_found, ok
from choeur.api.cpro.pagination import PaginationIn, paginate_queryset
from choeur.api.cpro.routing import cpro_post
from choeur.api.cpro.schemas import (
    CodeLangue,
    CproIn,
    CproOut,
    EmptyIn,
    LangueIn,
    OptionalBool,
    OptionalStr,
    ParametresRetour,
    upper_or_none,
)
from choeur.core import referentials as core
from choeur.core.errors import ApplicationError
from choeur.directory.enums import EspaceCode, IdentifierType
from choeur.directory.identifiers import clean_siret
from choeur.directory.models import Structure
from choeur.invoices.enums import ActorRole, InvoiceStatus, TypeDemandePaiement
from choeur.invoices.workflow import next_statuses

router = Router(tags=["Transverses"])


# ---------------------------------------------------------------------------------------------------
# health-check
# ---------------------------------------------------------------------------------------------------


class HealthCheckOut(Schema):
    body: str
    statusCode: str
    statusCodeValue: int


@router.get(
    "health-check",
    response={200: HealthCheckOut},
    auth=CproAuth(require_account=False),
    operation_id="healthCheck",
    summary="Vérifier que l'API répond",
    description=(
        "Seul le jeton d'accès est exigé, comme derrière PISTE (pas d'en-tête `cpro-account`). "
        "Réponse au format Spring (`body`, `statusCode`, `statusCodeValue`)."
    ),
)
def health_check(request):
    return {
        "body": "Chœur — API compatible Chorus Pro : service disponible",
        "statusCode": "OK",
        "statusCodeValue": 200,
    }


# ---------------------------------------------------------------------------------------------------
# Simple referentials
# ---------------------------------------------------------------------------------------------------


class Devise(Schema):
    codeDevise: str
    libelleDevise: str


class DevisesOut(CproOut):
    listeDevises: list[Devise] | None = None


@cpro_post(router, "recuperer/devises", DevisesOut, operation_id="recupererDevise", summary="Devises (ISO 4217)")
def recuperer_devises(request, payload: LangueIn | None = None):
    return ok(listeDevises=[{"codeDevise": code, "libelleDevise": label} for code, label in core.CURRENCIES])


class Pays(Schema):
    codePays: str
    libellePays: str


class PaysOut(CproOut):
    listePays: list[Pays] | None = None


@cpro_post(router, "recuperer/pays", PaysOut, operation_id="recupererPays", summary="Pays (ISO 3166-1)")
def recuperer_pays(request, payload: LangueIn | None = None):
    return ok(listePays=[{"codePays": code, "libellePays": label} for code, label in core.COUNTRIES])


class TauxTva(Schema):
    codeTauxTva: str
    libelleTauxTva: str
    # A JSON number, not a string: clients decode it as a float.
    valeurTauxTva: float


class TauxTvaOut(CproOut):
    listeTauxTva: list[TauxTva] | None = None


@cpro_post(
    router,
    "recuperer/tauxtva",
    TauxTvaOut,
    operation_id="recupererTauxTva",
    summary="Taux de TVA français",
    description="Métropole, Corse et départements d'outre-mer ; TVA1 est la franchise en base (art. 293 B du CGI).",
)
def recuperer_taux_tva(request, payload: LangueIn | None = None):
    return ok(
        listeTauxTva=[
            {"codeTauxTva": rate.code, "libelleTauxTva": rate.label, "valeurTauxTva": float(rate.value)}
            for rate in core.VAT_RATES
        ]
    )


class MotifExoneration(Schema):
    codeMotifExonerationTva: str
    libelleMotifExonerationTva: str


class MotifsExonerationOut(CproOut):
    listeMotifsExonerationTva: list[MotifExoneration] | None = None


@cpro_post(
    router,
    "recuperer/motifs/exonerationtva",
    MotifsExonerationOut,
    operation_id="recupererMotifsExonerationTva",
    summary="Motifs d'exonération de TVA",
    description="Les codes sont ceux de la liste VATEX de la norme EN 16931 (BT-121).",
)
def recuperer_motifs_exoneration(request, payload: LangueIn | None = None):
    return ok(
        listeMotifsExonerationTva=[
            {"codeMotifExonerationTva": reason.code, "libelleMotifExonerationTva": reason.label}
            for reason in core.VAT_EXEMPTION_REASONS
        ]
    )


TypeObjet = Annotated[Literal[core.ATTACHMENT_OBJECT_TYPES] | None, BeforeValidator(upper_or_none)]


class TypesPieceJointeIn(CproIn):
    codeLangue: CodeLangue = None
    typeObjet: TypeObjet = None


class TypePieceJointe(Schema):
    idTypePieceJointe: int
    codeTypePieceJointe: str
    libelleTypePieceJointe: str
    typeObjet: str


class TypesPieceJointeOut(CproOut):
    listeTypePieceJointe: list[TypePieceJointe] | None = None


@cpro_post(
    router,
    "recuperer/typespj",
    TypesPieceJointeOut,
    operation_id="recupererTypePieceJointe",
    summary="Types de pièces jointes",
    description="Tous les types, ou ceux d'un `typeObjet` (FACTURE, STRUCTURE, CB…).",
)
def recuperer_types_pj(request, payload: TypesPieceJointeIn | None = None):
    object_type = payload.typeObjet if payload else None
    items = [
        {
            "idTypePieceJointe": t.id,
            "codeTypePieceJointe": t.code,
            "libelleTypePieceJointe": t.label,
            "typeObjet": t.object_type,
        }
        for t in referentials.types_piece_jointe(object_type)
    ]
    return list_result("listeTypePieceJointe", items)


class ModeDepotItem(Schema):
    modeDepot: str


class ModeDepotOut(CproOut):
    listeModeDepot: list[ModeDepotItem] | None = None


@cpro_post(router, "recuperer/modedepot", ModeDepotOut, operation_id="recupererModeDepot", summary="Modes de dépôt")
def recuperer_mode_depot(request, payload: EmptyIn | None = None):
    return ok(listeModeDepot=[{"modeDepot": mode} for mode in referentials.modes_depot()])


class ModePaiementItem(Schema):
    modePaiement: str


class ModeReglementsOut(CproOut):
    listeModePaiement: list[ModePaiementItem] | None = None


@cpro_post(
    router,
    "recuperer/modereglements",
    ModeReglementsOut,
    operation_id="recupererModeReglements",
    summary="Modes de règlement",
)
def recuperer_mode_reglements(request, payload: EmptyIn | None = None):
    return ok(listeModePaiement=[{"modePaiement": mode} for mode in referentials.modes_paiement()])


TypeDP = Annotated[Literal[tuple(TypeDemandePaiement.values)] | None, BeforeValidator(upper_or_none)]


class CadreFacturationIn(CproIn):
    typeDemandePaiement: TypeDP = None


class CadreFacturation(Schema):
    codeCadreFacturation: str


class CadreFacturationOut(CproOut):
    listeCadreFacturation: list[CadreFacturation] | None = None


@cpro_post(
    router,
    "recuperer/cadrefacturation",
    CadreFacturationOut,
    operation_id="recupererCadreFacturation",
    summary="Cadres de facturation",
    description=(
        "Les cadres A1 à A25, ou ceux d'un `typeDemandePaiement` : FACTURE (A1, A2, A3, A9, A12, A21) ou "
        "FACTURE_TRAVAUX (les cadres des marchés de travaux)."
    ),
)
def recuperer_cadre_facturation(request, payload: CadreFacturationIn | None = None):
    type_dp = payload.typeDemandePaiement if payload else None
    items = [{"codeCadreFacturation": cadre} for cadre in referentials.cadres_facturation(type_dp)]
    return list_result("listeCadreFacturation", items)


class TypeDPItem(Schema):
    typeDemandePaiement: str


class TypeDPOut(CproOut):
    listeTypeDemandePaiement: list[TypeDPItem] | None = None


@cpro_post(
    router,
    "recuperer/typedp",
    TypeDPOut,
    operation_id="recupererTypeDemandePaiement",
    summary="Types de demande de paiement",
)
def recuperer_type_dp(request, payload: EmptyIn | None = None):
    return ok(listeTypeDemandePaiement=[{"typeDemandePaiement": t} for t in referentials.types_demande_paiement()])


class TypeFactureTravauxItem(Schema):
    typeFactureTravaux: str


class TypeFactureTravauxOut(CproOut):
    listeTypeFactureTravaux: list[TypeFactureTravauxItem] | None = None


@cpro_post(
    router,
    "recuperer/typefacturetravaux",
    TypeFactureTravauxOut,
    operation_id="recupererTypeFactureTravaux",
    summary="Types de facture de travaux",
)
def recuperer_type_facture_travaux(request, payload: EmptyIn | None = None):
    return ok(listeTypeFactureTravaux=[{"typeFactureTravaux": t} for t in referentials.TYPES_FACTURE_TRAVAUX])


class TypeIdentifiantItem(Schema):
    typeIdentifiantStructure: str


class TypeIdentifiantOut(CproOut):
    listeTypeIdentifiant: list[TypeIdentifiantItem] | None = None


@cpro_post(
    router,
    "recuperer/typeidentifiant/structure",
    TypeIdentifiantOut,
    operation_id="recupererTypeIdentifiantStructure",
    summary="Types d'identifiant de structure",
)
def recuperer_type_identifiant(request, payload: EmptyIn | None = None):
    return ok(
        listeTypeIdentifiant=[{"typeIdentifiantStructure": t} for t in referentials.types_identifiant_structure()]
    )


class FormatFluxItem(Schema):
    formatFlux: str


class FormatFluxOut(CproOut):
    listeFormatFlux: list[FormatFluxItem] | None = None


@cpro_post(
    router,
    "recuperer/formatflux",
    FormatFluxOut,
    operation_id="recupererFormatFlux",
    summary="Formats de flux acceptés",
    description="IN_DP_E1_STRUCT (XML structuré), IN_DP_E2_MIXTE (PDF et données minimales), IN_DP_E2_FACTURX.",
)
def recuperer_format_flux(request, payload: EmptyIn | None = None):
    return list_result("listeFormatFlux", [{"formatFlux": fmt} for fmt in referentials.formats_flux()])


# ---------------------------------------------------------------------------------------------------
# The caller's structures and bank details
# ---------------------------------------------------------------------------------------------------


class StructureActive(Schema):
    idStructureCPP: int
    identifiant: str
    designationStructure: str


class StructuresActivesOut(CproOut):
    listeStructures: list[StructureActive] | None = None


def _active_structures_with_espace(request, espace: str) -> dict:
    structure = request.cpro.structure
    items = []
    if structure.is_active and selectors.structure_has_open_espace(structure=structure, code=espace):
        items.append(
            {
                "idStructureCPP": structure.pk,
                "identifiant": structure.identifier,
                "designationStructure": structure.designation,
            }
        )
    return list_result("listeStructures", items)


@cpro_post(
    router,
    "recuperer/structures/actives/fournisseur",
    StructuresActivesOut,
    operation_id="recupererStructuresActivesFournisseur",
    summary="Vos structures actives qui émettent des factures",
    description="Votre structure, si elle est active et a l'espace « Factures émises » ouvert.",
)
def structures_actives_fournisseur(request, payload: EmptyIn | None = None):
    return _active_structures_with_espace(request, EspaceCode.FACTURES_EMISES)


@cpro_post(
    router,
    "recuperer/structures/actives/destinataire",
    StructuresActivesOut,
    operation_id="recupererStructuresActivesDestinataire",
    summary="Vos structures actives qui reçoivent des factures",
    description="Votre structure, si elle est active et a l'espace « Factures reçues » ouvert.",
)
def structures_actives_destinataire(request, payload: EmptyIn | None = None):
    return _active_structures_with_espace(request, EspaceCode.FACTURES_RECUES)


class CoordonneesBancairesIn(CproIn):
    idStructure: int


class CoordonneeBancaire(Schema):
    idCoordonneeBancaire: int
    nomCoordonneeBancaire: str


class CoordonneesBancairesOut(CproOut):
    listeCoordonneeBancaire: list[CoordonneeBancaire] | None = None


@cpro_post(
    router,
    "recuperer/coordbanc/valides",
    CoordonneesBancairesOut,
    operation_id="recupererCoordonneesBancairesValides",
    summary="Coordonnées bancaires valides de votre structure",
    description="Seules les coordonnées bancaires de votre propre structure sont lisibles.",
)
def recuperer_coordbanc_valides(request, payload: CoordonneesBancairesIn):
    structure = selectors.structure_own_get(caller=request.cpro.structure, structure_id=payload.idStructure)
    if structure is None:
        raise not_found("Structure")
    accounts = selectors.bank_accounts_valid(structure=structure).order_by("label", "pk")
    items = [{"idCoordonneeBancaire": account.pk, "nomCoordonneeBancaire": account.label} for account in accounts]
    return list_result("listeCoordonneeBancaire", items)


# ---------------------------------------------------------------------------------------------------
# consulter/information/siret
# ---------------------------------------------------------------------------------------------------


class InformationSiretIn(CproIn):
    siretStructure: str


class InformationSiretOut(CproOut):
    siret: str | None = None
    siren: str | None = None
    raisonSociale: str | None = None
    adresse: str | None = None
    estActif: bool | None = None


@cpro_post(
    router,
    "consulter/information/siret",
    InformationSiretOut,
    operation_id="consulterInformationSIRET",
    summary="Informations sur un SIRET connu de Chœur",
    description=(
        "Répond depuis l'annuaire de Chœur (et non depuis la base INSEE) : SIRET, SIREN, raison sociale, "
        "adresse et état actif d'une structure enregistrée. Un SIRET inconnu répond codeRetour 20000."
    ),
)
def consulter_information_siret(request, payload: InformationSiretIn):
    try:
        siret = clean_siret(payload.siretStructure)
    except ApplicationError as exc:
        raise CproError(INVALID_VALUE, f"Champ « siretStructure » : {exc.message}") from None
    structure = selectors.structure_by_siret(siret=siret)
    if structure is None:
        return no_result()
    address = ", ".join(
        part
        for part in (
            structure.adresse,
            structure.complement_adresse,
            f"{structure.code_postal} {structure.ville}".strip(),
        )
        if part
    )
    return ok(
        siret=structure.identifier,
        siren=structure.identifier[:9],
        raisonSociale=structure.raison_sociale,
        adresse=address,
        estActif=structure.is_active,
    )


# ---------------------------------------------------------------------------------------------------
# rechercher/destinataire and rechercher/serviceexecutant
# ---------------------------------------------------------------------------------------------------

TypeStructureDestinataire = Annotated[
    Literal[(*IdentifierType.values, "PUBLIQUE", "PRIVEE")] | None, BeforeValidator(upper_or_none)
]


class RechercherDestinataireIn(CproIn):
    identifiant: OptionalStr = None
    nomVilleCodePostal: OptionalStr = None
    typeStructure: TypeStructureDestinataire = None
    parametresRecherche: PaginationIn | None = None


class Destinataire(Schema):
    idStructureCPP: int
    siret: str
    nomDestinataire: str
    adresseCodePostal: str
    adresseVille: str


class RechercherDestinataireOut(CproOut):
    listeDestinataires: list[Destinataire] | None = None
    parametresRetour: ParametresRetour | None = None


DESTINATAIRE_SORT = {
    "NomDestinataire": ("raison_sociale",),
    "Siret": ("identifier",),
    "AdresseCodePostal": ("code_postal",),
    "AdresseVille": ("ville",),
}


@cpro_post(
    router,
    "rechercher/destinataire",
    RechercherDestinataireOut,
    operation_id="rechercherDestinataire",
    summary="Rechercher un destinataire public",
    description=(
        "Structures publiques actives (l'annuaire des destinataires). `nomVilleCodePostal` est un nom, une "
        "ville ou un code postal ; `typeStructure` est un type d'identifiant (SIRET…) ou PUBLIQUE."
    ),
)
def rechercher_destinataire(request, payload: RechercherDestinataireIn):
    if payload.typeStructure == "PRIVEE":
        # Only public structures receive invoices on the platform.
        structures = Structure.objects.none()
    else:
        structures = selectors.recipients_search(
            identifier=payload.identifiant,
            text=payload.nomVilleCodePostal,
            identifier_type=payload.typeStructure if payload.typeStructure in IdentifierType.values else None,
        )
    page = paginate_queryset(
        structures,
        payload.parametresRecherche,
        wire_name="parametresRecherche",
        columns=DESTINATAIRE_SORT,
        default_column="NomDestinataire",
    )
    items = [
        {
            "idStructureCPP": structure.pk,
            "siret": structure.identifier,
            "nomDestinataire": structure.designation,
            "adresseCodePostal": structure.code_postal,
            "adresseVille": structure.ville,
        }
        for structure in page.items
    ]
    return list_result("listeDestinataires", items, parametresRetour=page.parametres_retour())


class RechercherServiceExecutantIn(CproIn):
    idDestinataireCPP: int
    codeServiceExecutant: OptionalStr = None
    nomServiceExecutant: OptionalStr = None
    actif: OptionalBool = None
    parametresRecherche: PaginationIn | None = None


class ServiceExecutant(Schema):
    idServicesCPP: int
    codeServiceExecutant: str
    nomServiceExecutant: str


class RechercherServiceExecutantOut(CproOut):
    listeServices: list[ServiceExecutant] | None = None
    parametresRetour: ParametresRetour | None = None


SERVICE_EXECUTANT_SORT = {"CodeServiceExecutant": ("code",), "NomServiceExecutant": ("libelle",)}


@cpro_post(
    router,
    "rechercher/serviceexecutant",
    RechercherServiceExecutantOut,
    operation_id="rechercherServiceExecutant",
    summary="Rechercher les services exécutants d'un destinataire",
    description="Par code ou nom (recherche partielle) ; `actif` vrai ou faux filtre sur l'état du service.",
)
def rechercher_service_executant(request, payload: RechercherServiceExecutantIn):
    structure = selectors.structure_visible_get(caller=request.cpro.structure, structure_id=payload.idDestinataireCPP)
    if structure is None:
        raise not_found("Destinataire")
    services = selectors.services_search(
        structure=structure,
        code=payload.codeServiceExecutant,
        libelle=payload.nomServiceExecutant,
        active=payload.actif,
    )
    page = paginate_queryset(
        services,
        payload.parametresRecherche,
        wire_name="parametresRecherche",
        columns=SERVICE_EXECUTANT_SORT,
        default_column="CodeServiceExecutant",
    )
    items = [
        {"idServicesCPP": service.pk, "codeServiceExecutant": service.code, "nomServiceExecutant": service.libelle}
        for service in page.items
    ]
    return list_result("listeServices", items, parametresRetour=page.parametres_retour())


# ---------------------------------------------------------------------------------------------------
# consulterCR, consulterCRDetaille (the compte rendu of a deposited flow, chorus-pro.md §7.3 and §12)
# ---------------------------------------------------------------------------------------------------


class ConsulterCRIn(CproIn):
    numeroFluxDepot: OptionalStr = None
    # Sent by some clients with the number; the number alone identifies the flow.
    dateDepot: OptionalStr = None
    syntaxeFlux: OptionalStr = None


class ConsulterCROut(CproOut):
    numeroFluxDepot: str | None = None
    nomFichierFlux: str | None = None
    dateDepotFlux: str | None = None
    codeInterfaceFlux: str | None = None
    codeAppliPartenaire: str | None = None
    designationPartenaire: str | None = None
    etatCourantFlux: str | None = None
    dateHeureEtatCourantFlux: str | None = None
    fichierCR: str | None = None


class ErreurTechnique(Schema):
    codeErreur: str | None = None
    libelleErreur: str | None = None
    natureErreur: str | None = None


class ErreurDP(Schema):
    identifiantFournisseur: str | None = None
    identifiantDestinataire: str | None = None
    numeroDP: str | None = None
    libelleErreurDP: str | None = None
    rangDansFlux: int | None = None
    nomFichier: str | None = None
    erreurs: list[dict] | None = None


class ConsulterCRDetailleOut(CproOut):
    nomFichier: str | None = None
    dateDepotFlux: str | None = None
    codeInterfaceDepotFlux: str | None = None
    etatCourantDepotFlux: str | None = None
    dateHeureEtatCourantFlux: str | None = None
    listeErreurTechnique: list[ErreurTechnique] | None = None
    listeErreurDP: list[ErreurDP] | None = None


def _flow_of_caller(request, payload: ConsulterCRIn):
    from choeur.flows.models import Flow

    if not payload.numeroFluxDepot:
        raise CproError(
            MISSING_FIELD,
            "Le champ « numeroFluxDepot » est obligatoire : le numéro rendu par `factures/v1/deposer/flux`.",
        )
    flow = (
        Flow.objects.select_related("structure")
        .filter(structure=request.cpro.structure, numero_flux_depot=payload.numeroFluxDepot)
        .first()
    )
    if flow is None:
        # Another structure's flow gets the same answer as a number that does not exist.
        raise not_found("Flux")
    return flow


@cpro_post(
    router,
    "consulterCR",
    ConsulterCROut,
    operation_id="consulterCR",
    summary="Compte rendu d'un flux déposé",
    description=(
        "L'état du flux (`etatCourantFlux` : IN_EN_ATTENTE_TRAITEMENT_CPP, IN_EN_COURS_TRAITEMENT_CPP, "
        "IN_INTEGRE, IN_INTEGRE_PARTIEL, IN_REJETE, IN_INCIDENTE) et le compte rendu en PDF (`fichierCR`, base64). "
        "Interrogez jusqu'à un état final ; le détail des erreurs est dans `consulterCRDetaille`."
    ),
)
def consulter_cr(request, payload: ConsulterCRIn):
    from choeur.flows.cr import consulter_cr as flow_consulter_cr

    answer = flow_consulter_cr(_flow_of_caller(request, payload))
    answer.pop("codeRetour", None)
    answer.pop("libelle", None)
    return ok(**answer)


@cpro_post(
    router,
    "consulterCRDetaille",
    ConsulterCRDetailleOut,
    operation_id="consulterCRDetaille",
    summary="Compte rendu détaillé d'un flux (erreurs)",
    description=(
        "L'état du flux (`etatCourantDepotFlux`), ses erreurs techniques (`listeErreurTechnique`) et, par facture "
        "rejetée, `listeErreurDP` (identifiants, numéro, libellé) avec le détail de chaque règle en plus."
    ),
)
def consulter_cr_detaille(request, payload: ConsulterCRIn):
    from choeur.flows.cr import consulter_cr_detaille as flow_consulter_cr_detaille

    answer = flow_consulter_cr_detaille(_flow_of_caller(request, payload))
    answer.pop("codeRetour", None)
    answer.pop("libelle", None)
    return ok(**answer)


# --- recuperer/etats/traitement --------------------------------------------------------------------------


class EtatsTraitementIn(CproIn):
    statutCourant: str


class StatutPossible(Schema):
    statutPossiblePourTraitement: str


class EtatsTraitementOut(CproOut):
    listeStatutsPossiblesPourTraitement: list[StatutPossible] | None = None


@cpro_post(
    router,
    "recuperer/etats/traitement",
    EtatsTraitementOut,
    operation_id="recupererEtatsPossiblesPourTraitement",
    summary="Statuts possibles pour le traitement d'une facture reçue",
    description=(
        "Les statuts qu'un destinataire peut donner (`factures/v1/traiter/recue`) à une facture dans le statut "
        "`statutCourant`, lus dans la table des transitions du serveur, celle qu'applique le portail."
    ),
)
def recuperer_etats_traitement(request, payload: EtatsTraitementIn):
    status = (payload.statutCourant or "").strip().upper()
    if status not in InvoiceStatus.values:
        raise CproError(
            INVALID_VALUE,
            f"Le champ « statutCourant » vaut « {payload.statutCourant} », qui n'est pas un statut de facture : "
            "indiquez un statut de la liste de Chorus Pro (par exemple MISE_A_DISPOSITION).",
        )
    possible = next_statuses(status, ActorRole.DESTINATAIRE)
    if not possible:
        return no_result()
    return ok(listeStatutsPossiblesPourTraitement=[{"statutPossiblePourTraitement": s} for s in possible])
