"""`structures/v1/*`: search and consult structures, their services and espaces, and the rattachements of a
person to the caller's structure (official Swagger of the Structures API, chorus-pro.md §8.4)."""

from __future__ import annotations

from typing import Annotated, Literal

from django.db.models import Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from ninja import Router, Schema
from pydantic import BeforeValidator

from choeur.api import selectors
from choeur.api.cpro.envelope import MISSING_FIELD, CproError, list_result, not_found, ok
from choeur.api.cpro.pagination import PaginationIn, paginate_list, paginate_queryset
from choeur.api.cpro.routing import cpro_post
from choeur.api.cpro.schemas import (
    AdressePostale,
    CodeLangue,
    CproIn,
    CproObject,
    CproOut,
    OptionalBool,
    OptionalInt,
    OptionalStr,
    ParametresRetour,
    TypeIdentifiant,
    chorus_datetime,
    chorus_minute,
    upper_or_none,
)
from choeur.directory.enums import ESPACE_NUMERIC_CODES, Habilitation
from choeur.directory.models import Rattachement, Service, Structure, StructureEspace, TechnicalAccount

router = Router(tags=["Structures"])

TypeStructure = Annotated[Literal["PRIVEE", "PUBLIQUE"] | None, BeforeValidator(upper_or_none)]
StatutStructure = Annotated[Literal["ACTIF", "INACTIF"] | None, BeforeValidator(upper_or_none)]


def structure_statut(structure: Structure) -> str:
    return "ACTIVE" if structure.is_active else "INACTIVE"


def service_statut(service: Service) -> str:
    return "ACTIF" if service.is_currently_active() else "INACTIF"


def structure_address(structure: Structure) -> dict:
    return {
        "adresse": structure.adresse,
        "complementAdresse1": structure.complement_adresse,
        "complementAdresse2": "",
        "codePostal": structure.code_postal,
        "ville": structure.ville,
        "pays": structure.pays,
        "telephone": structure.telephone,
        "indicatifTelephone": "",
        "fax": "",
        "indicatifFax": "",
    }


# ---------------------------------------------------------------------------------------------------
# rechercher
# ---------------------------------------------------------------------------------------------------


class RechercherStructureCriteres(CproObject):
    identifiantStructure: OptionalStr = None
    typeIdentifiantStructure: TypeIdentifiant = None
    typeStructure: TypeStructure = None
    statutStructure: StatutStructure = None
    raisonSocialeStructure: OptionalStr = None
    libelleStructure: OptionalStr = None
    nomStructure: OptionalStr = None
    prenomStructure: OptionalStr = None
    adresseCodePays: OptionalStr = None
    adresseCodePostal: OptionalStr = None
    adresseVille: OptionalStr = None
    estMOA: OptionalBool = None
    estMOAUniquement: OptionalBool = None


class RechercherStructureIn(CproIn):
    structure: RechercherStructureCriteres | None = None
    restreindreStructuresPrivees: OptionalBool = None
    parametres: PaginationIn | None = None


class StructureAAfficher(Schema):
    idStructureCPP: int
    identifiantStructure: str
    typeIdentifiantStructure: str
    designationStructure: str
    statut: str


class RechercherStructureOut(CproOut):
    listeStructures: list[StructureAAfficher] | None = None
    parametresRetour: ParametresRetour | None = None


STRUCTURE_SORT = {
    "IdentifiantStructure": ("identifier",),
    "DesignationStructure": ("designation_sort",),
    "TypeIdentifiantStructure": ("identifier_type",),
    "Statut": ("is_active",),
}


@cpro_post(
    router,
    "rechercher",
    RechercherStructureOut,
    operation_id="rechercherStructure",
    summary="Rechercher des structures",
    description=(
        "Recherche des structures par identifiant (début de SIRET accepté), raison sociale, adresse… "
        "Si `restreindreStructuresPrivees` est absent ou vaut `true`, la liste contient toutes les structures "
        "publiques et, parmi les privées, seulement la vôtre ; s'il vaut `false`, toutes les structures "
        "correspondant aux critères."
    ),
)
def rechercher_structure(request, payload: RechercherStructureIn):
    criteria = payload.structure or RechercherStructureCriteres()
    structures = selectors.structures_search(
        caller=request.cpro.structure,
        restrict_private=payload.restreindreStructuresPrivees is not False,
        identifier=criteria.identifiantStructure,
        identifier_type=criteria.typeIdentifiantStructure,
        kind=criteria.typeStructure,
        active={"ACTIF": True, "INACTIF": False}.get(criteria.statutStructure),
        raison_sociale=criteria.raisonSocialeStructure,
        libelle=criteria.libelleStructure,
        nom=criteria.nomStructure,
        prenom=criteria.prenomStructure,
        pays=criteria.adresseCodePays,
        code_postal=criteria.adresseCodePostal,
        ville=criteria.adresseVille,
        moa=criteria.estMOA,
        moa_only=criteria.estMOAUniquement,
    )
    # `designationStructure` is the libellé when there is one, else the raison sociale: sort on the same.
    structures = structures.annotate(designation_sort=Coalesce(NullIf("libelle", Value("")), "raison_sociale"))
    page = paginate_queryset(
        structures,
        payload.parametres,
        wire_name="parametres",
        columns=STRUCTURE_SORT,
        default_column="IdentifiantStructure",
    )
    items = [
        {
            "idStructureCPP": structure.pk,
            "identifiantStructure": structure.identifier,
            "typeIdentifiantStructure": structure.identifier_type,
            "designationStructure": structure.designation,
            "statut": structure_statut(structure),
        }
        for structure in page.items
    ]
    return list_result("listeStructures", items, parametresRetour=page.parametres_retour())


# ---------------------------------------------------------------------------------------------------
# consulter
# ---------------------------------------------------------------------------------------------------


class ConsulterStructureIn(CproIn):
    idStructureCPP: OptionalInt = None
    # The Go client (go-choruspro) sends `idStructure` here; accepted as the same thing.
    idStructure: OptionalInt = None
    codeLangue: CodeLangue = None


class StructureDupliquee(Schema):
    structureDupliquee: int


class InformationGenerales(Schema):
    idStructureCPP: int
    identifiantStructure: str
    typeIdentifiantStructure: str
    libelleStructure: str
    raisonSocialeStructure: str
    nomStructure: str
    prenomStructure: str
    emailStructure: str
    numeroRcsStructure: str
    numeroTVA: str
    structurePriveePublique: str
    estValideurDeleguee: bool
    idStructureOrigine: int | None
    listeStructureDupliquees: list[StructureDupliquee]
    dateExpirationMotPasseCompteTech: str | None


class ParametresStructure(Schema):
    codeServiceDoitEtreRenseigne: bool
    numeroEJDoitEtreRenseigne: bool
    gestionNumeroEJOuCodeService: bool
    statutMiseEnPaiementNestPasRemonte: bool
    connexionEDI: bool
    recevoirDonneesViaEDI: bool
    estMoaUniquement: bool
    getaMoa: bool
    aMoa: bool
    estValideurDelegue: bool
    nonDiffusibleInsee: bool


class ConsulterStructureOut(CproOut):
    informationGenerales: InformationGenerales | None = None
    adressePostaleDuSiege: AdressePostale | None = None
    parametres: ParametresStructure | None = None


@cpro_post(
    router,
    "consulter",
    ConsulterStructureOut,
    operation_id="consulterStructureAvecTVAIntraCom",
    summary="Consulter une structure",
    description=(
        "Informations générales, adresse du siège et paramètres de facturation (code service, numéro "
        "d'engagement obligatoires…) d'une structure publique ou de votre structure. "
        "`dateExpirationMotPasseCompteTech` n'est renseignée que pour votre structure."
    ),
)
def consulter_structure(request, payload: ConsulterStructureIn):
    structure_id = payload.idStructureCPP if payload.idStructureCPP is not None else payload.idStructure
    if structure_id is None:
        raise CproError(MISSING_FIELD, "Le champ « idStructureCPP » est obligatoire : renseignez-le.")
    caller = request.cpro
    structure = selectors.structure_visible_get(caller=caller.structure, structure_id=structure_id)
    if structure is None:
        raise not_found("Structure")
    own = structure.pk == caller.structure.pk
    has_raccordement = TechnicalAccount.objects.filter(
        structure=structure, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).exists()
    return ok(
        informationGenerales={
            "idStructureCPP": structure.pk,
            "identifiantStructure": structure.identifier,
            "typeIdentifiantStructure": structure.identifier_type,
            "libelleStructure": structure.libelle,
            "raisonSocialeStructure": structure.raison_sociale,
            "nomStructure": structure.nom,
            "prenomStructure": structure.prenom,
            "emailStructure": structure.email,
            "numeroRcsStructure": structure.numero_rcs,
            "numeroTVA": structure.numero_tva,
            "structurePriveePublique": structure.kind,
            # Chœur has no delegated validators nor structure duplication.
            "estValideurDeleguee": False,
            "idStructureOrigine": None,
            "listeStructureDupliquees": [],
            "dateExpirationMotPasseCompteTech": (
                chorus_datetime(caller.technical_account.expires_at) if own and caller.technical_account else None
            ),
        },
        adressePostaleDuSiege=structure_address(structure),
        parametres={
            "codeServiceDoitEtreRenseigne": structure.code_service_obligatoire,
            "numeroEJDoitEtreRenseigne": structure.engagement_obligatoire,
            "gestionNumeroEJOuCodeService": structure.engagement_ou_service,
            "statutMiseEnPaiementNestPasRemonte": structure.mise_en_paiement_non_remontee,
            "connexionEDI": has_raccordement,
            # Chœur sends nothing by EDI (no push of flows to structures) and does not read INSEE's flag.
            "recevoirDonneesViaEDI": False,
            "estMoaUniquement": structure.is_moa_only,
            # The Swagger spells it `getaMoa` and the Python client `aMoa`: both are given.
            "getaMoa": structure.is_moa,
            "aMoa": structure.is_moa,
            "estValideurDelegue": False,
            "nonDiffusibleInsee": False,
        },
    )


# ---------------------------------------------------------------------------------------------------
# rechercher/services
# ---------------------------------------------------------------------------------------------------


class RechercherServicesIn(CproIn):
    idStructure: int
    parametresRechercherServicesStructure: PaginationIn | None = None


class ServiceExpose(Schema):
    idService: int
    codeService: str
    libelleService: str
    estActif: bool
    statutService: str
    dateDbtService: str | None
    dateFinService: str | None


class RechercherServicesOut(CproOut):
    listeServices: list[ServiceExpose] | None = None
    parametresRetour: ParametresRetour | None = None


SERVICE_SORT = {
    "CodeService": ("code",),
    "LibelleService": ("libelle",),
    "DateDbtService": ("valid_from", "created_at"),
    "DateFinService": ("valid_until",),
    "EstActif": ("active_now",),
}


def service_start(service: Service):
    return service.valid_from or service.created_at


@cpro_post(
    router,
    "rechercher/services",
    RechercherServicesOut,
    operation_id="rechercherServicesStructure",
    summary="Rechercher les services d'une structure",
    description="Services (actifs ou non) d'une structure publique ou de votre structure, dont FACTURES_PUBLIQUES.",
)
def rechercher_services(request, payload: RechercherServicesIn):
    structure = selectors.structure_visible_get(caller=request.cpro.structure, structure_id=payload.idStructure)
    if structure is None:
        raise not_found("Structure")
    page = paginate_queryset(
        selectors.services_of(structure),
        payload.parametresRechercherServicesStructure,
        wire_name="parametresRechercherServicesStructure",
        columns=SERVICE_SORT,
        default_column="CodeService",
    )
    items = [
        {
            "idService": service.pk,
            "codeService": service.code,
            "libelleService": service.libelle,
            "estActif": service.is_currently_active(),
            "statutService": service_statut(service),
            "dateDbtService": chorus_minute(service_start(service)),
            "dateFinService": chorus_minute(service.valid_until),
        }
        for service in page.items
    ]
    return list_result("listeServices", items, parametresRetour=page.parametres_retour())


# ---------------------------------------------------------------------------------------------------
# consulter/service
# ---------------------------------------------------------------------------------------------------


class ConsulterServiceIn(CproIn):
    idStructure: OptionalInt = None
    idService: int
    codeLangue: CodeLangue = None


class InformationsGeneralesService(Schema):
    codeService: str
    nomService: str
    descriptionService: str


class ParametresService(Schema):
    dateCreation: str | None
    dateDebutValidite: str | None
    dateFinValidite: str | None
    dateModification: str | None
    miseEnPaiement: bool
    numeroEngagement: bool


class ConsulterServiceOut(CproOut):
    informationsGenerales: InformationsGeneralesService | None = None
    adressePostale: AdressePostale | None = None
    parametres: ParametresService | None = None


@cpro_post(
    router,
    "consulter/service",
    ConsulterServiceOut,
    operation_id="consulterServiceStructure",
    summary="Consulter un service",
    description="Paramètres d'un service d'une structure publique ou de votre structure (numéro d'engagement "
    "obligatoire, remontée de la mise en paiement, dates de validité).",
)
def consulter_service(request, payload: ConsulterServiceIn):
    service = selectors.service_visible_get(
        caller=request.cpro.structure, service_id=payload.idService, structure_id=payload.idStructure
    )
    if service is None:
        raise not_found("Service")
    address = structure_address(service.structure)
    if service.adresse or service.code_postal or service.ville:
        address.update(
            adresse=service.adresse,
            complementAdresse1="",
            codePostal=service.code_postal,
            ville=service.ville,
            telephone="",
        )
    return ok(
        informationsGenerales={
            "codeService": service.code,
            "nomService": service.libelle,
            "descriptionService": service.description,
        },
        adressePostale=address,
        parametres={
            "dateCreation": chorus_minute(service.created_at),
            "dateDebutValidite": chorus_minute(service.valid_from),
            "dateFinValidite": chorus_minute(service.valid_until),
            "dateModification": chorus_minute(service.updated_at),
            "miseEnPaiement": service.mise_en_paiement,
            "numeroEngagement": service.engagement_obligatoire,
        },
    )


# ---------------------------------------------------------------------------------------------------
# rechercher/espaces
# ---------------------------------------------------------------------------------------------------


class StructureEspacesIn(CproObject):
    idStructure: OptionalInt = None
    identifiantStructure: OptionalStr = None
    typeIdentifiantStructure: TypeIdentifiant = None


class RechercherEspacesIn(CproIn):
    structure: StructureEspacesIn | None = None
    idService: OptionalInt = None
    parametresRechercherEspaces: PaginationIn | None = None


class EspaceOut(Schema):
    idEspaceFo: int
    codeEspace: int
    libelleEspace: str
    etatCourant: str
    typeHabilitation: str
    idService: int | None
    codeService: str | None
    libelleService: str | None


class RechercherEspacesOut(CproOut):
    listeEspace: list[EspaceOut] | None = None
    parametresRetour: ParametresRetour | None = None


ESPACE_SORT = {
    "idEspaceFo": lambda espace: espace.pk,
    "CodeEspace": lambda espace: ESPACE_NUMERIC_CODES.get(espace.code, 0),
    "LibelleEspace": lambda espace: espace.get_code_display(),
    "etatCourant": lambda espace: espace.is_open,
    "TypeHabilitation": lambda espace: Habilitation.MODIFICATION.value,
    # Espaces are opened on the whole structure: the service columns are the same for every row.
    "CodeService": lambda espace: espace.pk,
    "LibelleService": lambda espace: espace.pk,
    "IdService": lambda espace: espace.pk,
}


def _own_structure(request, *, structure_id=None, identifier=None, identifier_type=None) -> Structure:
    structure = selectors.structure_own_get(
        caller=request.cpro.structure,
        structure_id=structure_id,
        identifier=identifier,
        identifier_type=identifier_type,
    )
    if structure is None:
        raise not_found("Structure")
    return structure


@cpro_post(
    router,
    "rechercher/espaces",
    RechercherEspacesOut,
    operation_id="rechercherEspaces",
    summary="Rechercher les espaces de votre structure",
    description=(
        "Espaces ouverts ou fermés de votre structure. Les espaces de Chœur sont ouverts sur toute la "
        "structure : avec `idService`, chaque espace est rendu pour ce service. Le compte technique agit avec "
        "l'habilitation MODIFICATION."
    ),
)
def rechercher_espaces(request, payload: RechercherEspacesIn):
    criteria = payload.structure or StructureEspacesIn()
    structure = _own_structure(
        request,
        structure_id=criteria.idStructure,
        identifier=criteria.identifiantStructure,
        identifier_type=criteria.typeIdentifiantStructure,
    )
    service = None
    if payload.idService is not None:
        service = selectors.services_of(structure).filter(pk=payload.idService).first()
        if service is None:
            raise not_found("Service")
    page = paginate_list(
        selectors.espaces_of(structure=structure),
        payload.parametresRechercherEspaces,
        wire_name="parametresRechercherEspaces",
        columns=ESPACE_SORT,
        default_column="CodeEspace",
    )
    items = [_espace(espace, service) for espace in page.items]
    return list_result("listeEspace", items, parametresRetour=page.parametres_retour())


def _espace(espace: StructureEspace, service: Service | None) -> dict:
    return {
        "idEspaceFo": espace.pk,
        "codeEspace": ESPACE_NUMERIC_CODES.get(espace.code, 0),
        "libelleEspace": espace.get_code_display(),
        "etatCourant": "ACTIVE" if espace.is_open else "SUPPRIME",
        "typeHabilitation": Habilitation.MODIFICATION.value,
        "idService": service.pk if service else None,
        "codeService": service.code if service else None,
        "libelleService": service.libelle if service else None,
    }


# ---------------------------------------------------------------------------------------------------
# lister/rattachementsutilisateur
# ---------------------------------------------------------------------------------------------------


class ListerRattachementsIn(CproIn):
    idUtilisateur: OptionalInt = None
    adresseEmailConnexionUtilisateur: OptionalStr = None
    idStructure: OptionalInt = None
    identifiantStructure: OptionalStr = None
    typeIdentifiantStructure: TypeIdentifiant = None
    parametresListerRattachementsStructureUtilisateur: PaginationIn | None = None


class RattachementServiceOut(Schema):
    idRattachement: int
    idService: int | None
    codeService: str | None
    nomService: str | None
    statutRattachement: str
    dateDebut: str | None
    dateFin: str | None
    commentaire: str


class ListerRattachementsOut(CproOut):
    idStructure: int | None = None
    identifiantStructure: str | None = None
    designationStructure: str | None = None
    premierService: bool | None = None
    listeServices: list[RattachementServiceOut] | None = None
    parametresRetour: ParametresRetour | None = None


RATTACHEMENT_SORT = {
    "CodeService": lambda row: row["codeService"],
    "NomService": lambda row: row["nomService"],
    "StatutRattachement": lambda row: row["statutRattachement"],
}


@cpro_post(
    router,
    "lister/rattachementsutilisateur",
    ListerRattachementsOut,
    operation_id="listerRattachementsStructureUtilisateur",
    summary="Lister les rattachements d'un utilisateur à votre structure",
    description=(
        "Rattachement d'une personne (par `idUtilisateur` ou `adresseEmailConnexionUtilisateur`) à votre "
        "structure et aux services demandés. `premierService` vaut `true` quand elle est rattachée à toute "
        "la structure, sans service : la ligne unique n'a alors pas de service."
    ),
)
def lister_rattachements_utilisateur(request, payload: ListerRattachementsIn):
    structure = _own_structure(
        request,
        structure_id=payload.idStructure,
        identifier=payload.identifiantStructure,
        identifier_type=payload.typeIdentifiantStructure,
    )
    if payload.idUtilisateur is None and not payload.adresseEmailConnexionUtilisateur:
        raise CproError(
            MISSING_FIELD,
            "Renseignez le champ « idUtilisateur » ou le champ « adresseEmailConnexionUtilisateur » : ils "
            "désignent la personne dont on liste les rattachements.",
        )
    rattachement = selectors.rattachement_of_user(
        structure=structure, user_id=payload.idUtilisateur, email=payload.adresseEmailConnexionUtilisateur
    )
    if rattachement is None:
        raise not_found("Rattachement de cet utilisateur à votre structure")
    services = list(rattachement.services.order_by("code"))
    rows = [_rattachement_row(rattachement, service) for service in services] or [
        _rattachement_row(rattachement, None)
    ]
    page = paginate_list(
        rows,
        payload.parametresListerRattachementsStructureUtilisateur,
        wire_name="parametresListerRattachementsStructureUtilisateur",
        columns=RATTACHEMENT_SORT,
        default_column="CodeService",
    )
    return ok(
        idStructure=structure.pk,
        identifiantStructure=structure.identifier,
        designationStructure=structure.designation,
        premierService=not services,
        listeServices=page.items,
        parametresRetour=page.parametres_retour(),
    )


def _rattachement_row(rattachement: Rattachement, service: Service | None) -> dict:
    ended = rattachement.status in ("REFUSEE", "DESACTIVEE")
    return {
        "idRattachement": rattachement.pk,
        "idService": service.pk if service else None,
        "codeService": service.code if service else None,
        "nomService": service.libelle if service else None,
        "statutRattachement": rattachement.status,
        "dateDebut": chorus_datetime(rattachement.created_at),
        "dateFin": chorus_datetime(rattachement.decided_at) if ended else None,
        "commentaire": rattachement.decision_comment or rattachement.message,
    }
