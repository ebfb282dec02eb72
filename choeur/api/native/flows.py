"""Flows (« flux »): deposit a file of invoices (UBL, CII, Factur-X, or an archive of several), then follow
its processing and read its compte rendu. The deposit answers at once; processing runs in the background
(follow `state`, or subscribe to `flow.state_changed` events)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field

from choeur.api.native.auth import NativeAuth
from choeur.api.native.pagination import DEFAULT_LIMIT, MAX_LIMIT, cursor_page
from choeur.api.native.problems import Problem
from choeur.flows.cr import flow_cr
from choeur.flows.enums import Channel, FlowState
from choeur.flows.models import Flow
from choeur.flows.services import flow_deposit

router = Router(tags=["Flux"])
read_auth = NativeAuth(scope="flows:write", alternatives=("invoices:read",))
write_auth = NativeAuth(scope="flows:write")


class FlowOut(Schema):
    id: int
    numero_flux_depot: str
    filename: str
    syntaxe_flux: str
    size: int
    sha256: str
    state: str
    state_label: str
    state_changed_at: datetime
    deposited_at: datetime
    processed_at: datetime | None
    is_final: bool
    url: str


class FlowDepositOut(FlowOut):
    created: bool = Field(description="false : ce même fichier avait déjà été déposé ; voici ce flux-là.")


class FlowDetailOut(FlowOut):
    report: dict[str, Any] = Field(
        description="Le compte rendu (champs de l'API Chorus Pro : listeFacturesIntegrees, listeErreurDP…)."
    )


class FlowPage(Schema):
    results: list[FlowOut]
    next_cursor: str | None
    next: str | None


class FlowFilters(Schema):
    state: FlowState | None = Field(None, description="État courant (etatCourantFlux).")
    numero_flux_depot: str | None = Field(None, max_length=25, description="Numéro de flux exact.")
    cursor: str | None = Field(None, description="Recopié depuis `next_cursor` de la page précédente.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Nombre de résultats par page.")


class FlowBase64In(Schema):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(..., min_length=1, max_length=255, description="Nom du fichier, avec son extension.")
    content_base64: str = Field(..., min_length=1, description="Le fichier encodé en base64.")
    syntaxe_flux: str | None = Field(None, max_length=40, description="Vide : détection automatique.")


def _flow(request, flow: Flow) -> dict:
    return {
        "id": flow.pk,
        "numero_flux_depot": flow.numero_flux_depot or "",
        "filename": flow.filename,
        "syntaxe_flux": flow.syntaxe_flux,
        "size": flow.size,
        "sha256": flow.sha256,
        "state": flow.state,
        "state_label": flow.get_state_display(),
        "state_changed_at": flow.state_changed_at,
        "deposited_at": flow.deposited_at,
        "processed_at": flow.processed_at,
        "is_final": flow.is_final,
        "url": request.build_absolute_uri(f"/api/v1/flows/{flow.pk}"),
    }


def _own_flows(request):
    return Flow.objects.filter(structure=request.auth.api_client.structure).select_related("structure")


def _deposit(request, *, content: bytes, filename: str, syntaxe_flux: str | None):
    client = request.auth.api_client
    flow, created = flow_deposit(
        structure=client.structure,
        content=content,
        filename=filename,
        syntaxe_flux=syntaxe_flux or None,
        channel=Channel.API,
        by_label=f"Client API « {client.label} »"[:150],
    )
    return (201 if created else 200), {**_flow(request, flow), "created": created}


@router.post(
    "flows",
    response={200: FlowDepositOut, 201: FlowDepositOut},
    auth=write_auth,
    operation_id="flows_deposit",
    summary="Déposer un flux (multipart/form-data)",
    description=(
        "Champ `file` : le fichier ; champ `syntaxe_flux` facultatif (IN_DP_E1_UBL_INVOICE, IN_DP_E2_CII_FACTURX…). "
        "201 à la création, 200 si le même fichier avait déjà été déposé (dépôt idempotent)."
    ),
)
def flows_deposit(request, file: File[UploadedFile], syntaxe_flux: Form[str | None] = None):
    return _deposit(request, content=file.read(), filename=file.name or "", syntaxe_flux=syntaxe_flux)


@router.post(
    "flows/base64",
    response={200: FlowDepositOut, 201: FlowDepositOut},
    auth=write_auth,
    operation_id="flows_deposit_base64",
    summary="Déposer un flux (JSON, fichier en base64)",
)
def flows_deposit_base64(request, payload: FlowBase64In):
    try:
        content = base64.b64decode(payload.content_base64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Problem(
            "requete_invalide",
            "Le champ « content_base64 » n'est pas du base64 valide : encodez le fichier en base64 standard "
            "(alphabet A-Z a-z 0-9 + /, sans retour à la ligne).",
            errors=[{"field": "content_base64", "code": "base64_invalide", "message": "Base64 invalide."}],
        ) from None
    return _deposit(request, content=content, filename=payload.filename, syntaxe_flux=payload.syntaxe_flux)


@router.get(
    "flows",
    response=FlowPage,
    auth=read_auth,
    operation_id="flows_list",
    summary="Lister les flux déposés par votre structure",
)
def flows_list(request, filters: Query[FlowFilters]):
    flows = _own_flows(request)
    if filters.state:
        flows = flows.filter(state=filters.state)
    if filters.numero_flux_depot:
        flows = flows.filter(numero_flux_depot=filters.numero_flux_depot.strip())
    rows, next_cursor, next_url = cursor_page(request, flows, cursor=filters.cursor, limit=filters.limit)
    return {"results": [_flow(request, row) for row in rows], "next_cursor": next_cursor, "next": next_url}


@router.get(
    "flows/{flow_id}",
    response=FlowDetailOut,
    auth=read_auth,
    operation_id="flows_get",
    summary="Lire un flux et son compte rendu",
)
def flows_get(request, flow_id: int):
    flow = _own_flows(request).filter(pk=flow_id).first()
    if flow is None:
        raise Problem("introuvable", f"Flux {flow_id} introuvable parmi les flux de votre structure.")
    return {**_flow(request, flow), "report": flow_cr(flow)}
