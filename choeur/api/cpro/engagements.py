"""`engagementsJuridiques/v1/rechercher` (chorus-pro.md §8.6): the EJs the calling structure recorded, or that
a public structure addressed to it. Suppliers use it to check that a purchase order number exists before
invoicing (Odoo's l10n_fr_chorus_account does exactly that).

`structureReceptriceEngagementJuridique` is the supplier's `idStructureCPP` (a string in the samples); a
caller never reads the EJs of a structure it is not party to, whatever it asks.
"""

from __future__ import annotations

from typing import Annotated

from ninja import Router, Schema
from pydantic import BeforeValidator

from choeur.api.cpro.envelope import INVALID_VALUE, MISSING_FIELD, NOT_FOUND, CproError, list_result, not_found, ok
from choeur.api.cpro.factures_common import AmountIn, DateIn, amount_filters, day, encode_file, money
from choeur.api.cpro.pagination import PaginationIn, paginate_queryset
from choeur.api.cpro.pieces_jointes import piece_jointe_handler
from choeur.api.cpro.routing import cpro_post
from choeur.api.cpro.schemas import CproIn, CproOut, OptionalStr, ParametresRetour, strip_or_none, upper_or_none
from choeur.directory.enums import EngagementState, EngagementType
from choeur.directory.models import EngagementJuridique
from choeur.invoices.engagement_selectors import engagements_for_caller

router = Router(tags=["Engagements juridiques"])


def _id_text(value):
    """The samples send the structure id as a string, some clients as a number: both are read."""
    value = strip_or_none(value)
    if value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError("doit être l'identifiant numérique d'une structure (idStructureCPP)")


StructureId = Annotated[int | None, BeforeValidator(_id_text)]
UpperStr = Annotated[str | None, BeforeValidator(upper_or_none)]


class RechercherEngagementsIn(CproIn):
    structureReceptriceEngagementJuridique: StructureId = None
    numeroEngagementJuridique: OptionalStr = None
    etatCourantEngagementJuridique: UpperStr = None
    codeEngagementJuridique: UpperStr = None
    numeroMarcheEngagementJuridique: OptionalStr = None
    periodeDateNotificationEJDu: DateIn = None
    periodeDateNotificationEJAu: DateIn = None
    montantTTCMin: AmountIn = None
    montantTTCMax: AmountIn = None
    parametresRecherche: PaginationIn | None = None


class EngagementJuridiqueOut(Schema):
    idEngagementJuridique: int
    libelleTypeEngagementJuridique: str
    numeroEngagementJuridique: str
    structureReceptrice: int
    identifiantStructureReceptrice: str
    libelleStructureReceptrice: str
    codeServiceExecutant: str | None
    libelleServiceExecutant: str | None
    dateNotificationEJ: str
    libelleEtatCourantEJ: str
    montantTotalTtc: float
    deviseEngagement: str
    taillePJ: int


class RechercherEngagementsOut(CproOut):
    listeEngagementJuridique: list[EngagementJuridiqueOut] | None = None
    parametresRetour: ParametresRetour | None = None


SORT = {
    "DateCreationEJ": ("created_at",),
    "DateNotificationEJ": ("notified_on",),
    "NumeroEngagementJuridique": ("number",),
    "MontantTotalTtc": ("amount_ttc",),
    "LibelleEtatCourantEJ": ("state",),
}


def _enum(value: str | None, field: str, allowed: list[str]) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        raise CproError(INVALID_VALUE, f"Le champ « {field} » vaut « {value[:40]} » : utilisez {', '.join(allowed)}.")
    return value


def engagement_row(engagement: EngagementJuridique) -> dict:
    service = engagement.service
    return {
        "idEngagementJuridique": engagement.pk,
        "libelleTypeEngagementJuridique": engagement.type,
        "numeroEngagementJuridique": engagement.number,
        "structureReceptrice": engagement.supplier_id,
        "identifiantStructureReceptrice": engagement.supplier.identifier,
        "libelleStructureReceptrice": engagement.supplier.designation,
        "codeServiceExecutant": service.code if service else None,
        "libelleServiceExecutant": service.libelle if service else None,
        "dateNotificationEJ": day(engagement.notified_on),
        "libelleEtatCourantEJ": engagement.state,
        "montantTotalTtc": money(engagement.amount_ttc),
        "deviseEngagement": engagement.currency,
        "taillePJ": engagement.document.size if engagement.document_id else 0,
    }


@cpro_post(
    router,
    "rechercher",
    RechercherEngagementsOut,
    operation_id="rechercherEngagementJuridique",
    summary="Rechercher des engagements juridiques",
    description=(
        "Les engagements juridiques (bons de commande, marchés) que votre structure a enregistrés ou qu'une "
        "structure publique lui a adressés : par numéro, état (`COMMANDE`, `CLOTURE`, `ANNULE`), type "
        "(`codeEngagementJuridique` : BON_DE_COMMANDE, MARCHE, CONTRAT), numéro de marché, période de notification "
        "et montant TTC. `structureReceptriceEngagementJuridique` : l'idStructureCPP du fournisseur. Tri "
        "(`parametresRecherche.triColonne`) : " + ", ".join(SORT) + ". Sans résultat : codeRetour 20000."
    ),
)
def rechercher(request, payload: RechercherEngagementsIn):
    caller = request.cpro.structure
    queryset = engagements_for_caller(caller=caller)
    if payload.structureReceptriceEngagementJuridique is not None:
        queryset = queryset.filter(supplier_id=payload.structureReceptriceEngagementJuridique)
    if payload.numeroEngagementJuridique:
        queryset = queryset.filter(number__iexact=payload.numeroEngagementJuridique)
    state = _enum(payload.etatCourantEngagementJuridique, "etatCourantEngagementJuridique", EngagementState.values)
    if state:
        queryset = queryset.filter(state=state)
    kind = _enum(payload.codeEngagementJuridique, "codeEngagementJuridique", EngagementType.values)
    if kind:
        queryset = queryset.filter(type=kind)
    if payload.numeroMarcheEngagementJuridique:
        queryset = queryset.filter(numero_marche__icontains=payload.numeroMarcheEngagementJuridique)
    if payload.periodeDateNotificationEJDu is not None:
        queryset = queryset.filter(notified_on__gte=payload.periodeDateNotificationEJDu)
    if payload.periodeDateNotificationEJAu is not None:
        queryset = queryset.filter(notified_on__lte=payload.periodeDateNotificationEJAu)
    queryset = queryset.filter(
        amount_filters({"montantTTCMin": "amount_ttc__gte", "montantTTCMax": "amount_ttc__lte"}, payload)
    )
    page = paginate_queryset(
        queryset,
        payload.parametresRecherche,
        wire_name="parametresRecherche",
        columns=SORT,
        default_column="DateCreationEJ",
    )
    return list_result(
        "listeEngagementJuridique",
        [engagement_row(engagement) for engagement in page.items],
        parametresRetour=page.parametres_retour(),
    )


@piece_jointe_handler("ENGAGEMENT_JURIDIQUE")
def telecharger_piece_jointe_ej(request, payload) -> dict:
    """`telecharger/pieceJointe` with `objetPieceJointe` ENGAGEMENT_JURIDIQUE: the EJ's PDF, base64."""
    reference = payload.engagementJuridique or {}
    number = str(reference.get("numeroEngagementJuridique") or "").strip()
    ej_id = reference.get("idEngagementJuridique")
    if not number and ej_id in (None, ""):
        raise CproError(
            MISSING_FIELD,
            "Le champ « engagementJuridique.numeroEngagementJuridique » est obligatoire avec objetPieceJointe "
            "ENGAGEMENT_JURIDIQUE : { engagementJuridique: { numeroEngagementJuridique } }.",
        )
    queryset = engagements_for_caller(caller=request.cpro.structure)
    if number:
        queryset = queryset.filter(number__iexact=number)
    if ej_id not in (None, ""):
        try:
            queryset = queryset.filter(pk=int(ej_id))
        except (TypeError, ValueError):
            raise CproError(
                INVALID_VALUE, "Le champ « engagementJuridique.idEngagementJuridique » doit être un nombre."
            ) from None
    found = list(queryset.order_by("pk")[:2])
    if not found:
        raise not_found("Engagement juridique")
    if len(found) > 1:
        raise CproError(
            INVALID_VALUE,
            f"Plusieurs engagements portent le numéro « {number[:50]} » (structures publiques différentes) : "
            "précisez « engagementJuridique.idEngagementJuridique » (lu dans engagementsJuridiques/v1/rechercher).",
        )
    engagement = found[0]
    if engagement.document_id is None:
        raise CproError(NOT_FOUND, f"L'engagement juridique {engagement.number} n'a pas de pièce jointe (PDF).")
    return ok(
        pieceJointe=encode_file(engagement.document.read()),
        nomFichierResultat=engagement.document_name or f"{engagement.number}.pdf",
        typeMimeFichierResultat="application/pdf",
    )
