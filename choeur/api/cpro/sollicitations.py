"""The sollicitation operations of the Transverses API (chorus-pro.md §8.5, §9): the catégorie and
sous-catégorie referential, and the download of a sollicitation's documents through `telecharger/pieceJointe`
(`objetPieceJointe` SOLLICITATION). Field names are Chorus Pro's (go-choruspro transverses_sollicitations.go).

The referential is the one the portal routes with (seeded, administrable): the same codes everywhere.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from ninja import Schema

from choeur.api.cpro.envelope import INVALID_VALUE, MISSING_FIELD, CproError, list_result, not_found, ok
from choeur.api.cpro.factures_common import encode_file
from choeur.api.cpro.pagination import PaginationIn, paginate_queryset
from choeur.api.cpro.pieces_jointes import piece_jointe_handler
from choeur.api.cpro.routing import cpro_post
from choeur.api.cpro.schemas import CproIn, CproOut, OptionalBool, OptionalInt, OptionalStr, chorus_datetime
from choeur.api.cpro.transverses import router
from choeur.sollicitations.models import Sollicitation, SollicitationCategory, SollicitationSubCategory
from choeur.sollicitations.selectors import sollicitations_of_structure

# ---------------------------------------------------------------------------------------------------
# rechercher/categorieSollicitation
# ---------------------------------------------------------------------------------------------------


class RechercherCategorieIn(CproIn):
    codeCategorie: OptionalStr = None
    libelleCategorie: OptionalStr = None
    estActif: OptionalBool = None
    pagination: PaginationIn | None = None


class CategorieSollicitation(Schema):
    idTechniqueCategorie: int
    codeCategorie: str
    libelleCategorie: str


class RechercherCategorieOut(CproOut):
    listeCategories: list[CategorieSollicitation] | None = None
    parametresRetour: dict[str, int] | None = None


CATEGORY_SORT = {
    "CodeCategorie": ("code",),
    "LibelleCategorie": ("libelle",),
    "IdTechniqueCategorie": ("id",),
    "Ordre": ("position", "code"),
}


def _category(category: SollicitationCategory) -> dict:
    return {"idTechniqueCategorie": category.pk, "codeCategorie": category.code, "libelleCategorie": category.libelle}


@cpro_post(
    router,
    "rechercher/categorieSollicitation",
    RechercherCategorieOut,
    operation_id="rechercherCategorieSollicitation",
    summary="Rechercher les catégories de sollicitation",
    description=(
        "Critères facultatifs : `codeCategorie` (exact), `libelleCategorie` (contient), `estActif` ; pagination "
        "dans `pagination` (tri : CodeCategorie, LibelleCategorie, IdTechniqueCategorie, Ordre). Les mêmes codes "
        "que le portail ; `idTechniqueCategorie` sert à `rechercher/sousCategorieSollicitation`."
    ),
)
def rechercher_categorie_sollicitation(request, payload: RechercherCategorieIn | None = None):
    payload = payload or RechercherCategorieIn()
    categories = SollicitationCategory.objects.all()
    if payload.codeCategorie:
        categories = categories.filter(code__iexact=payload.codeCategorie)
    if payload.libelleCategorie:
        categories = categories.filter(libelle__icontains=payload.libelleCategorie)
    if payload.estActif is not None:
        categories = categories.filter(is_active=payload.estActif)
    page = paginate_queryset(
        categories, payload.pagination, wire_name="pagination", columns=CATEGORY_SORT, default_column="Ordre"
    )
    return list_result(
        "listeCategories", [_category(c) for c in page.items], parametresRetour=page.parametres_retour()
    )


# ---------------------------------------------------------------------------------------------------
# rechercher/sousCategorieSollicitation
# ---------------------------------------------------------------------------------------------------


class RechercherSousCategorieIn(CproIn):
    idTechniqueCategorie: OptionalInt = None
    code: OptionalStr = None
    libelle: OptionalStr = None
    estActif: OptionalBool = None
    pagination: PaginationIn | None = None


class SsCategorie(Schema):
    code: str
    libelle: str
    estActif: bool
    dateCreation: str | None = None
    dateDerniereModification: str | None = None
    idTechniqueCategorie: int


class SousCategoriesDeCategorie(Schema):
    categorie: list[CategorieSollicitation]
    ssCategorie: list[SsCategorie]


class RechercherSousCategorieOut(CproOut):
    listeSousCategories: list[SousCategoriesDeCategorie] | None = None
    parametresRetour: dict[str, int] | None = None


SUBCATEGORY_SORT = {
    "Code": ("code",),
    "Libelle": ("libelle",),
    "Ordre": ("category__position", "category__code", "position", "code"),
}


@cpro_post(
    router,
    "rechercher/sousCategorieSollicitation",
    RechercherSousCategorieOut,
    operation_id="rechercherSousCategorieSollicitation",
    summary="Rechercher les sous-catégories de sollicitation",
    description=(
        "Critères facultatifs : `idTechniqueCategorie` (la catégorie), `code` (exact), `libelle` (contient), "
        "`estActif`. Réponse groupée par catégorie : `listeSousCategories[]{categorie[], ssCategorie[]}` ; "
        "dans `ssCategorie`, `idTechniqueCategorie` est celui de la catégorie. La pagination (`pagination`) "
        "porte sur les sous-catégories."
    ),
)
def rechercher_sous_categorie_sollicitation(request, payload: RechercherSousCategorieIn | None = None):
    payload = payload or RechercherSousCategorieIn()
    subs = SollicitationSubCategory.objects.select_related("category")
    if payload.idTechniqueCategorie is not None:
        if not SollicitationCategory.objects.filter(pk=payload.idTechniqueCategorie).exists():
            raise not_found(f"Catégorie de sollicitation {payload.idTechniqueCategorie}")
        subs = subs.filter(category_id=payload.idTechniqueCategorie)
    if payload.code:
        subs = subs.filter(code__iexact=payload.code)
    if payload.libelle:
        subs = subs.filter(libelle__icontains=payload.libelle)
    if payload.estActif is not None:
        subs = (
            subs.filter(is_active=payload.estActif, category__is_active=True)
            if payload.estActif
            else subs.filter(is_active=False)
        )
    page = paginate_queryset(
        subs, payload.pagination, wire_name="pagination", columns=SUBCATEGORY_SORT, default_column="Ordre"
    )
    groups: dict[int, dict[str, Any]] = {}
    for sub in page.items:
        group = groups.setdefault(sub.category_id, {"categorie": [_category(sub.category)], "ssCategorie": []})
        group["ssCategorie"].append(
            {
                "code": sub.code,
                "libelle": sub.libelle,
                "estActif": sub.is_active,
                "dateCreation": chorus_datetime(sub.created_at),
                "dateDerniereModification": chorus_datetime(sub.updated_at),
                "idTechniqueCategorie": sub.category_id,
            }
        )
    return list_result("listeSousCategories", list(groups.values()), parametresRetour=page.parametres_retour())


# ---------------------------------------------------------------------------------------------------
# telecharger/pieceJointe, objetPieceJointe SOLLICITATION
# ---------------------------------------------------------------------------------------------------


def _yes(value) -> bool:
    return value is True or value == "OUI"


def sollicitation_piece_jointe(request, sollicitation_ref: dict | None) -> dict:
    """`sollicitation{idSollicitation, pieceJointeSollicitation}` → a ZIP of the conversation (`conversation.txt`)
    and, with pieceJointeSollicitation OUI, every document joined to it. Only the sender's or the recipient's
    structure may download it; any other id is « introuvable »."""
    ref = sollicitation_ref or {}
    if not ref:
        raise CproError(
            MISSING_FIELD,
            "Le champ « sollicitation » est obligatoire avec objetPieceJointe SOLLICITATION : "
            "{ idSollicitation, pieceJointeSollicitation: OUI ou NON }.",
        )
    unknown = set(ref) - {"idSollicitation", "pieceJointeSollicitation"}
    if unknown:
        raise CproError(
            INVALID_VALUE,
            f"Champ inconnu dans « sollicitation » : {', '.join(sorted(unknown))[:80]} ; seuls idSollicitation et "
            "pieceJointeSollicitation sont acceptés.",
        )
    raw_id = ref.get("idSollicitation")
    try:
        sollicitation_id = int(raw_id)
    except (TypeError, ValueError):
        raise CproError(
            MISSING_FIELD if raw_id in (None, "") else INVALID_VALUE,
            "Le champ « sollicitation.idSollicitation » est obligatoire et numérique (l'identifiant de la "
            "sollicitation, par exemple 42).",
        ) from None
    with_files = ref.get("pieceJointeSollicitation")
    if isinstance(with_files, str):
        with_files = with_files.strip().upper()
    if with_files not in (None, "", "OUI", "NON", True, False):
        raise CproError(INVALID_VALUE, "Le champ « sollicitation.pieceJointeSollicitation » vaut OUI ou NON.")
    sollicitation = sollicitations_of_structure(structure=request.cpro.structure).filter(pk=sollicitation_id).first()
    if sollicitation is None:
        raise not_found("Sollicitation")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conversation.txt", _transcript(sollicitation))
        if _yes(with_files):
            seen: set[str] = set()
            for message in sollicitation.messages.prefetch_related("attachments__file"):
                for attachment in message.attachments.all():
                    name = attachment.name if attachment.name not in seen else f"{attachment.pk}-{attachment.name}"
                    seen.add(name)
                    archive.writestr(f"pieces/{name}", attachment.file.read())
    return ok(
        pieceJointe=encode_file(buffer.getvalue()),
        nomFichierResultat=f"{sollicitation.numero}.zip",
        typeMimeFichierResultat="application/zip",
    )


def _transcript(sollicitation: Sollicitation) -> str:
    lines = [
        f"Sollicitation {sollicitation.numero} — {sollicitation.subject}",
        f"Catégorie : {sollicitation.category.libelle} › {sollicitation.subcategory.libelle}",
        f"Émetteur : {sollicitation.sender_label}",
        f"Destinataire : {sollicitation.recipient_label}",
        f"État : {sollicitation.get_status_display()}",
        "",
    ]
    for message in sollicitation.messages.prefetch_related("attachments"):
        lines.append(f"--- {chorus_datetime(message.created_at)} — {message.author_label}")
        lines.append(message.body)
        names = [a.name for a in message.attachments.all()]
        if names:
            lines.append("Pièces jointes : " + ", ".join(names))
        lines.append("")
    return "\n".join(lines)


@piece_jointe_handler("SOLLICITATION")
def _piece_jointe_sollicitation(request, payload) -> dict:
    return sollicitation_piece_jointe(request, payload.sollicitation)
