"""Structures: yours and the public ones (the annuaire of recipients), with their services."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.db.models import Q
from ninja import Query, Router, Schema
from pydantic import Field

from choeur.api import selectors
from choeur.api.native.auth import NativeAuth
from choeur.api.native.pagination import DEFAULT_LIMIT, MAX_LIMIT, cursor_page
from choeur.api.native.problems import Problem
from choeur.directory.models import Service, Structure

router = Router(tags=["Structures"], auth=NativeAuth(scope="structures:read"))


class Address(Schema):
    line: str
    complement: str
    postal_code: str
    city: str
    country: str


class Routing(Schema):
    """What an invoice to this structure must carry (Chorus Pro's `parametres`)."""

    code_service_required: bool
    engagement_required: bool
    engagement_or_service_required: bool
    mise_en_paiement_reported: bool


class StructureOut(Schema):
    id: int
    identifier: str
    identifier_type: str
    kind: str
    name: str
    raison_sociale: str
    is_active: bool
    is_own: bool
    address: Address
    routing: Routing
    services_url: str


class StructurePage(Schema):
    results: list[StructureOut]
    next_cursor: str | None
    next: str | None


class ServiceOut(Schema):
    id: int
    code: str
    label: str
    is_active: bool
    valid_from: date | None
    valid_until: date | None
    engagement_required: bool


class ServicePage(Schema):
    results: list[ServiceOut]
    next_cursor: str | None
    next: str | None


class StructureFilters(Schema):
    q: str | None = Field(None, description="Texte cherché dans le nom ou l'identifiant.", max_length=100)
    kind: Literal["PUBLIQUE", "PRIVEE"] | None = Field(None, description="Type de structure.")
    cursor: str | None = Field(None, description="Recopié depuis `next_cursor` de la page précédente.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Nombre de résultats par page.")


class PageFilters(Schema):
    cursor: str | None = Field(None, description="Recopié depuis `next_cursor` de la page précédente.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Nombre de résultats par page.")


def _structure(request, structure: Structure) -> dict:
    return {
        "id": structure.pk,
        "identifier": structure.identifier,
        "identifier_type": structure.identifier_type,
        "kind": structure.kind,
        "name": structure.designation,
        "raison_sociale": structure.raison_sociale,
        "is_active": structure.is_active,
        "is_own": structure.pk == request.auth.api_client.structure.pk,
        "address": {
            "line": structure.adresse,
            "complement": structure.complement_adresse,
            "postal_code": structure.code_postal,
            "city": structure.ville,
            "country": structure.pays,
        },
        "routing": {
            "code_service_required": structure.code_service_obligatoire,
            "engagement_required": structure.engagement_obligatoire,
            "engagement_or_service_required": structure.engagement_ou_service,
            "mise_en_paiement_reported": not structure.mise_en_paiement_non_remontee,
        },
        "services_url": request.build_absolute_uri(f"/api/v1/structures/{structure.pk}/services"),
    }


def _service(service: Service) -> dict:
    return {
        "id": service.pk,
        "code": service.code,
        "label": service.libelle,
        "is_active": service.is_currently_active(),
        "valid_from": service.valid_from,
        "valid_until": service.valid_until,
        "engagement_required": service.engagement_obligatoire,
    }


def _visible_or_404(request, structure_id: int) -> Structure:
    structure = selectors.structure_visible_get(caller=request.auth.api_client.structure, structure_id=structure_id)
    if structure is None:
        raise Problem(
            "introuvable", f"Structure {structure_id} introuvable parmi les structures qui vous sont visibles."
        )
    return structure


@router.get(
    "structures",
    response=StructurePage,
    operation_id="structures_list",
    summary="Lister les structures visibles",
    description="Votre structure et les structures publiques (l'annuaire des destinataires), par ordre d'id.",
)
def structures_list(request, filters: Query[StructureFilters]):
    structures = selectors.structures_visible(caller=request.auth.api_client.structure)
    if filters.q:
        text = filters.q.strip()
        structures = structures.filter(
            Q(raison_sociale__icontains=text) | Q(libelle__icontains=text) | Q(identifier__startswith=text)
        )
    if filters.kind:
        structures = structures.filter(kind=filters.kind)
    rows, next_cursor, next_url = cursor_page(request, structures, cursor=filters.cursor, limit=filters.limit)
    return {"results": [_structure(request, s) for s in rows], "next_cursor": next_cursor, "next": next_url}


@router.get(
    "structures/{structure_id}",
    response=StructureOut,
    operation_id="structures_get",
    summary="Lire une structure",
)
def structures_get(request, structure_id: int):
    return _structure(request, _visible_or_404(request, structure_id))


@router.get(
    "structures/{structure_id}/services",
    response=ServicePage,
    operation_id="structures_services",
    summary="Lister les services d'une structure",
)
def structures_services(request, structure_id: int, filters: Query[PageFilters]):
    structure = _visible_or_404(request, structure_id)
    rows, next_cursor, next_url = cursor_page(
        request, selectors.services_of(structure), cursor=filters.cursor, limit=filters.limit
    )
    return {"results": [_service(s) for s in rows], "next_cursor": next_cursor, "next": next_url}
