"""`utilisateurs/v1/*`: the technical account's own rattachements (chorus-pro.md §8.6).

Integrators call `monCompte/recuperer/rattachements` to test their credentials: it must answer quickly and
say which structure the technical account acts for.
"""

from __future__ import annotations

from ninja import Router, Schema

from choeur.api import selectors
from choeur.api.cpro.envelope import list_result
from choeur.api.cpro.pagination import PaginationIn, paginate_list
from choeur.api.cpro.routing import cpro_post
from choeur.api.cpro.schemas import CproIn, CproOut, ParametresRetour, chorus_minute
from choeur.api.cpro.structures import service_start, service_statut

router = Router(tags=["Utilisateurs"])

# A technical account is attached to its whole structure by construction (it is created by a gestionnaire
# of that structure) and acts with every service of it.
TECHNICAL_ROLE = "UTILISATEUR_TECHNIQUE"


class RecupererRattachementsIn(CproIn):
    parametresRecherche: PaginationIn | None = None


class ServiceRattache(Schema):
    idRattachementService: int | None
    idService: int
    codeService: str
    libelleService: str
    dateDbtService: str | None
    dateFinService: str | None
    estActif: bool
    statutRattachementService: str
    statutService: str


class StructureRattachement(Schema):
    idStructure: int
    identifiantStructure: str
    typeIdentifiantStructure: str
    designationStructure: str
    idRattachementStructure: int
    statutRattachementStructure: str
    roleUtilisateur: str
    statutUtilisateur: str
    listeServicesRattache: list[ServiceRattache]


class RecupererRattachementsOut(CproOut):
    listeStructureRattachement: list[StructureRattachement] | None = None
    parametresRetour: ParametresRetour | None = None


SORT = {
    "IdStructure": lambda row: row["idStructure"],
    "IdentifiantStructure": lambda row: row["identifiantStructure"],
    "DesignationStructure": lambda row: row["designationStructure"],
}


@cpro_post(
    router,
    "monCompte/recuperer/rattachements",
    RecupererRattachementsOut,
    operation_id="recupererRattachementsMonCompteUtilisateur",
    summary="Rattachements du compte technique",
    description=(
        "La structure pour laquelle agit le compte technique de l'en-tête `cpro-account`, avec ses services. "
        "`idRattachementStructure` est l'identifiant du compte technique ; le rôle vaut "
        f"`{TECHNICAL_ROLE}`."
    ),
)
def recuperer_rattachements(request, payload: RecupererRattachementsIn):
    caller = request.cpro
    structure = caller.structure
    services = [
        {
            "idRattachementService": None,
            "idService": service.pk,
            "codeService": service.code,
            "libelleService": service.libelle,
            "dateDbtService": chorus_minute(service_start(service)),
            "dateFinService": chorus_minute(service.valid_until),
            "estActif": service.is_currently_active(),
            "statutRattachementService": "VALIDEE",
            "statutService": service_statut(service),
        }
        for service in selectors.services_of(structure).order_by("code", "pk")
    ]
    rows = [
        {
            "idStructure": structure.pk,
            "identifiantStructure": structure.identifier,
            "typeIdentifiantStructure": structure.identifier_type,
            "designationStructure": structure.designation,
            "idRattachementStructure": caller.technical_account.pk,
            "statutRattachementStructure": "VALIDEE",
            "roleUtilisateur": TECHNICAL_ROLE,
            "statutUtilisateur": "ACTIF",
            "listeServicesRattache": services,
        }
    ]
    page = paginate_list(
        rows, payload.parametresRecherche, wire_name="parametresRecherche", columns=SORT, default_column="IdStructure"
    )
    return list_result("listeStructureRattachement", page.items, parametresRetour=page.parametres_retour())
