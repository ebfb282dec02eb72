"""Engagements juridiques (EJ) your structure recorded (a public structure) or that are addressed to it (a
supplier), with what invoices consumed of each; a public structure creates or imports its own."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from ninja import File, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from choeur.api.native.auth import NativeAuth
from choeur.api.native.pagination import DEFAULT_LIMIT, MAX_LIMIT, cursor_page
from choeur.api.native.problems import Problem
from choeur.core.errors import ApplicationError
from choeur.directory.enums import EngagementState, EngagementType
from choeur.directory.models import EngagementJuridique, Structure
from choeur.invoices import engagement_selectors as selectors
from choeur.invoices.engagements import engagement_create, engagement_import

router = Router(tags=["Engagements juridiques"])
read_auth = NativeAuth(scope="engagements:read")
write_auth = NativeAuth(scope="engagements:write")


class PartyOut(Schema):
    id: int
    identifier: str
    name: str


class ConsumptionOut(Schema):
    invoiced_ttc: Decimal
    validated_ttc: Decimal
    paid_ttc: Decimal | None = Field(description="Pour la structure publique seulement (null pour le fournisseur).")
    remaining_ttc: Decimal
    invoices: int


class EngagementOut(Schema):
    id: int
    number: str
    type: str
    state: str
    buyer: PartyOut
    supplier: PartyOut
    service_code: str | None
    amount_ttc: Decimal
    currency: str
    notified_on: date
    numero_marche: str
    label: str
    has_pdf: bool
    side: Literal["acheteur", "fournisseur"]
    consumption: ConsumptionOut


class EngagementPage(Schema):
    results: list[EngagementOut]
    next_cursor: str | None
    next: str | None


class EngagementFilters(Schema):
    side: Literal["acheteur", "fournisseur"] | None = Field(
        None, description="« acheteur » : ceux que votre structure a enregistrés ; « fournisseur » : ceux reçus."
    )
    number: str | None = Field(None, max_length=50, description="Numéro exact (casse indifférente).")
    state: Literal[tuple(EngagementState.values)] | None = None
    cursor: str | None = Field(None, description="Recopié depuis `next_cursor` de la page précédente.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class EngagementIn(Schema):
    number: str = Field(max_length=50)
    supplier_identifier: str = Field(max_length=20, description="SIRET du fournisseur (inscrit sur Chœur).")
    amount_ttc: Decimal
    notified_on: date
    type: Literal[tuple(EngagementType.values)] = EngagementType.BON_DE_COMMANDE
    service_code: str | None = Field(None, max_length=100)
    currency: str = Field("EUR", min_length=3, max_length=3)
    state: Literal[tuple(EngagementState.values)] = EngagementState.COMMANDE
    numero_marche: str = Field("", max_length=50)
    label: str = Field("", max_length=255)


class ImportErrorOut(Schema):
    line: int
    field: str
    message: str


class ImportOut(Schema):
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def _caller(request) -> Structure:
    return request.auth.api_client.structure


def _party(structure: Structure) -> dict:
    return {"id": structure.pk, "identifier": structure.identifier, "name": structure.designation}


def _out(request, row: selectors.EngagementRow) -> dict:
    ej = row.engagement
    is_buyer = ej.structure_id == _caller(request).pk
    return {
        "id": ej.pk,
        "number": ej.number,
        "type": ej.type,
        "state": ej.state,
        "buyer": _party(ej.structure),
        "supplier": _party(ej.supplier),
        "service_code": ej.service.code if ej.service_id else None,
        "amount_ttc": ej.amount_ttc,
        "currency": ej.currency,
        "notified_on": ej.notified_on,
        "numero_marche": ej.numero_marche,
        "label": ej.label,
        "has_pdf": ej.document_id is not None,
        "side": "acheteur" if is_buyer else "fournisseur",
        "consumption": {
            "invoiced_ttc": row.invoiced,
            "validated_ttc": row.validated,
            "paid_ttc": row.paid if is_buyer else None,
            "remaining_ttc": row.remaining,
            "invoices": row.consumption.invoices,
        },
    }


def _get_or_404(request, engagement_id: int) -> EngagementJuridique:
    engagement = selectors.engagements_for_caller(caller=_caller(request)).filter(pk=engagement_id).first()
    if engagement is None:
        raise Problem(
            "introuvable", f"Engagement {engagement_id} introuvable parmi les engagements de votre structure."
        )
    return engagement


def _require_public(request) -> Structure:
    caller = _caller(request)
    if not caller.is_public:
        raise Problem(
            "acces_refuse",
            f"{caller.designation} n'est pas une structure publique : seules les structures publiques enregistrent "
            "des engagements juridiques. Ceux qui vous sont adressés se lisent par GET /api/v1/engagements.",
        )
    return caller


@router.get(
    "engagements",
    response=EngagementPage,
    auth=read_auth,
    operation_id="engagements_list",
    summary="Lister les engagements juridiques de votre structure",
    description="Enregistrés par votre structure publique, ou adressés à votre structure ; par ordre d'id.",
)
def engagements_list(request, filters: Query[EngagementFilters]):
    caller = _caller(request)
    queryset = selectors.engagements_for_caller(caller=caller)
    if filters.side == "acheteur":
        queryset = queryset.filter(structure=caller)
    elif filters.side == "fournisseur":
        queryset = queryset.filter(supplier=caller)
    if filters.number:
        queryset = queryset.filter(number__iexact=filters.number.strip())
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    rows, next_cursor, next_url = cursor_page(request, queryset, cursor=filters.cursor, limit=filters.limit)
    return {
        "results": [_out(request, row) for row in selectors.engagements_with_consumption(rows)],
        "next_cursor": next_cursor,
        "next": next_url,
    }


@router.post(
    "engagements",
    response={201: EngagementOut},
    auth=write_auth,
    operation_id="engagements_create",
    summary="Enregistrer un engagement juridique",
    description="Pour une structure publique. 422 `erreur_metier` : numéro déjà pris, fournisseur inconnu, montant…",
)
def engagements_create(request, payload: EngagementIn):
    caller = _require_public(request)
    engagement = engagement_create(
        by=None,
        structure=caller,
        number=payload.number,
        supplier=payload.supplier_identifier,
        amount_ttc=payload.amount_ttc,
        notified_on=payload.notified_on,
        type=payload.type,
        service=payload.service_code or None,
        currency=payload.currency,
        state=payload.state,
        numero_marche=payload.numero_marche,
        label=payload.label,
    )
    [row] = selectors.engagements_with_consumption([engagement])
    return 201, _out(request, row)


@router.post(
    "engagements/import",
    response=ImportOut,
    auth=write_auth,
    operation_id="engagements_import",
    summary="Importer des engagements juridiques (CSV ou XLSX, multipart/form-data)",
    description=(
        "Le même fichier que sur le portail (en-tête numero_engagement;type;siret_fournisseur;code_service;"
        "montant_ttc;devise;date_notification;etat;numero_marche;objet). Idempotent : un numéro existant est mis à "
        "jour. Une ligne fausse refuse tout le fichier : 422 avec `errors[]` ligne par ligne, rien n'est enregistré."
    ),
)
def engagements_import(request, file: File[UploadedFile]):
    caller = _require_public(request)
    try:
        report = engagement_import(by=None, structure=caller, name=file.name or "", content=file.read())
    except ApplicationError as exc:
        errors = [
            {"field": f"ligne {item['line']}.{item['field']}", "code": "ligne_invalide", "message": item["message"]}
            for item in exc.extra.get("errors", [])
        ] or [{"field": "file", "code": exc.code, "message": exc.message}]
        raise Problem("erreur_metier", exc.message, errors=errors) from None
    return {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}


# After engagements/import, so that « import » is never read as an id.
@router.get(
    "engagements/{engagement_id}",
    response=EngagementOut,
    auth=read_auth,
    operation_id="engagements_get",
    summary="Lire un engagement juridique",
)
def engagements_get(request, engagement_id: int):
    [row] = selectors.engagements_with_consumption([_get_or_404(request, engagement_id)])
    return _out(request, row)
