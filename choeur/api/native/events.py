"""The events feed: every invoice status change and flow state change your structure sees, in a stable
ascending order. Poll with the `next_cursor` of the previous answer: it is always given (even on an empty
page), so a client keeps its place and never misses nor repeats an event."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from ninja import Query, Router, Schema
from pydantic import Field

from choeur.api.events import event_payload
from choeur.api.models import ApiEvent
from choeur.api.native.auth import NativeAuth
from choeur.api.native.pagination import DEFAULT_LIMIT, MAX_LIMIT, cursor_decode, cursor_encode

router = Router(tags=["Événements"], auth=NativeAuth(scope="invoices:read", alternatives=("flows:write",)))


class EventOut(Schema):
    id: str = Field(description="Identifiant stable (evt_…), le même dans les webhooks.")
    type: str
    occurred_at: datetime
    structure_id: int
    data: dict[str, Any]


class EventPage(Schema):
    results: list[EventOut]
    next_cursor: str = Field(description="À renvoyer dans `cursor` au prochain appel, même si la page est vide.")
    next: str
    has_more: bool = Field(description="true : d'autres événements attendent déjà, rappelez tout de suite.")


class EventFilters(Schema):
    cursor: str | None = Field(None, description="Recopié depuis `next_cursor` ; absent : depuis le début.")
    type: ApiEvent.Type | None = Field(None, description="Un seul type d'événement.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Nombre de résultats par page.")


@router.get(
    "events",
    response=EventPage,
    operation_id="events_list",
    summary="Flux des événements",
    description=(
        "Changements de statut des factures (`invoice.status_changed`) et d'état des flux "
        "(`flow.state_changed`) de votre structure, du plus ancien au plus récent."
    ),
)
def events_list(request, filters: Query[EventFilters]):
    after = cursor_decode(filters.cursor) if filters.cursor else 0
    events = ApiEvent.objects.filter(structure=request.auth.api_client.structure, pk__gt=after)
    if filters.type:
        events = events.filter(type=filters.type)
    rows = list(events.order_by("pk")[: filters.limit + 1])
    has_more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    next_cursor = cursor_encode(rows[-1].pk if rows else after)
    params = request.GET.copy()
    params["cursor"] = next_cursor
    return {
        "results": [event_payload(event) for event in rows],
        "next_cursor": next_cursor,
        "next": request.build_absolute_uri(f"{request.path}?{urlencode(sorted(params.items()))}"),
        "has_more": has_more,
    }
