"""Webhooks of your structure: endpoints that receive its events as signed POSTs, their delivery log and the
replay of a delivery. The same as « Raccordement API › Webhooks » on the portal."""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from choeur.api.models import ApiEvent, WebhookDelivery, WebhookEndpoint
from choeur.api.native.auth import NativeAuth
from choeur.api.native.pagination import DEFAULT_LIMIT, MAX_LIMIT, cursor_page
from choeur.api.native.problems import Problem
from choeur.api.webhooks import (
    URL_MAX_LENGTH,
    deliveries_of,
    delivery_replay,
    webhook_create,
    webhook_delete,
    webhook_update,
    webhooks_of,
)

router = Router(tags=["Webhooks"], auth=NativeAuth(scope="webhooks:manage"))


class WebhookOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    created_at: datetime
    deliveries_url: str


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="Secret de signature : affiché cette seule fois, conservez-le.")


class WebhookPage(Schema):
    results: list[WebhookOut]
    next_cursor: str | None
    next: str | None


class WebhookIn(Schema):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., max_length=URL_MAX_LENGTH, description="https://… qui recevra les POST signés.")
    event_types: list[ApiEvent.Type] = Field(..., min_length=1, description="Types d'événements reçus.")
    description: str = Field("", max_length=200)


class WebhookPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=URL_MAX_LENGTH)
    event_types: list[ApiEvent.Type] | None = Field(None, min_length=1)
    description: str | None = Field(None, max_length=200)
    is_active: bool | None = None


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    response_status: int | None
    last_error: str
    replay_of: int | None
    created_at: datetime


class DeliveryPage(Schema):
    results: list[DeliveryOut]
    next_cursor: str | None
    next: str | None


class PageFilters(Schema):
    cursor: str | None = Field(None, description="Recopié depuis `next_cursor` de la page précédente.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Nombre de résultats par page.")


def _label(request) -> str:
    return f"Client API « {request.auth.api_client.label} »"[:150]


def _webhook(request, endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "is_active": endpoint.is_active,
        "created_at": endpoint.created_at,
        "deliveries_url": request.build_absolute_uri(f"/api/v1/webhooks/{endpoint.pk}/deliveries"),
    }


def _delivery(delivery: WebhookDelivery) -> dict:
    return {
        "id": delivery.pk,
        "event_id": delivery.event.public_id,
        "event_type": delivery.event.type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at if delivery.status == WebhookDelivery.Status.PENDING else None,
        "last_attempt_at": delivery.last_attempt_at,
        "delivered_at": delivery.delivered_at,
        "response_status": delivery.response_status,
        "last_error": delivery.last_error,
        "replay_of": delivery.replay_of_id,
        "created_at": delivery.created_at,
    }


def _get_or_404(request, webhook_id: int) -> WebhookEndpoint:
    endpoint = webhooks_of(request.auth.api_client.structure).select_related("structure").filter(pk=webhook_id).first()
    if endpoint is None:
        raise Problem("introuvable", f"Webhook {webhook_id} introuvable parmi ceux de votre structure.")
    return endpoint


@router.get("webhooks", response=WebhookPage, operation_id="webhooks_list", summary="Lister vos webhooks")
def webhooks_list(request, filters: Query[PageFilters]):
    rows, next_cursor, next_url = cursor_page(
        request, webhooks_of(request.auth.api_client.structure), cursor=filters.cursor, limit=filters.limit
    )
    return {"results": [_webhook(request, row) for row in rows], "next_cursor": next_cursor, "next": next_url}


@router.post(
    "webhooks",
    response={201: WebhookCreatedOut},
    operation_id="webhooks_create",
    summary="Créer un webhook",
    description="La réponse contient le secret de signature, affiché cette seule fois.",
)
def webhooks_create(request, payload: WebhookIn):
    endpoint, secret = webhook_create(
        structure=request.auth.api_client.structure,
        url=payload.url,
        event_types=[str(value) for value in payload.event_types],
        description=payload.description,
        by=None,
        by_label=_label(request),
    )
    return 201, {**_webhook(request, endpoint), "secret": secret}


@router.get("webhooks/{webhook_id}", response=WebhookOut, operation_id="webhooks_get", summary="Lire un webhook")
def webhooks_get(request, webhook_id: int):
    return _webhook(request, _get_or_404(request, webhook_id))


@router.patch(
    "webhooks/{webhook_id}", response=WebhookOut, operation_id="webhooks_update", summary="Modifier un webhook"
)
def webhooks_update(request, webhook_id: int, payload: WebhookPatch):
    endpoint = webhook_update(
        endpoint=_get_or_404(request, webhook_id),
        url=payload.url,
        event_types=[str(value) for value in payload.event_types] if payload.event_types is not None else None,
        description=payload.description,
        is_active=payload.is_active,
        by=None,
        by_label=_label(request),
    )
    return _webhook(request, endpoint)


@router.delete(
    "webhooks/{webhook_id}", response={204: None}, operation_id="webhooks_delete", summary="Supprimer un webhook"
)
def webhooks_delete(request, webhook_id: int):
    webhook_delete(endpoint=_get_or_404(request, webhook_id), by=None, by_label=_label(request))
    return 204, None


@router.get(
    "webhooks/{webhook_id}/deliveries",
    response=DeliveryPage,
    operation_id="webhooks_deliveries",
    summary="Journal des livraisons d'un webhook",
    description="Par ordre d'id ; chaque livraison dit ses tentatives, la dernière réponse reçue et la suivante.",
)
def webhooks_deliveries(request, webhook_id: int, filters: Query[PageFilters]):
    endpoint = _get_or_404(request, webhook_id)
    rows, next_cursor, next_url = cursor_page(
        request, deliveries_of(endpoint), cursor=filters.cursor, limit=filters.limit
    )
    return {"results": [_delivery(row) for row in rows], "next_cursor": next_cursor, "next": next_url}


@router.post(
    "webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    response={202: DeliveryOut},
    operation_id="webhooks_delivery_replay",
    summary="Rejouer une livraison",
    description="Renvoie le même événement (même `Choeur-Event-Id`) dans une nouvelle livraison.",
)
def webhooks_delivery_replay(request, webhook_id: int, delivery_id: int):
    endpoint = _get_or_404(request, webhook_id)
    delivery = deliveries_of(endpoint).filter(pk=delivery_id).first()
    if delivery is None:
        raise Problem("introuvable", f"Livraison {delivery_id} introuvable pour ce webhook.")
    replay = delivery_replay(delivery=delivery, by=None, by_label=_label(request))
    replay.refresh_from_db()
    return 202, _delivery(replay)
