"""Cursor pagination of the native API: pages ordered by id, the cursor an opaque token (URL-safe base64
of the last id seen). Unlike page numbers, a cursor does not skip or repeat rows when rows are added while
a client walks the list."""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import urlencode

from django.db.models import QuerySet

from choeur.api.native.problems import Problem

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_VERSION = 1


def cursor_encode(last_id: int) -> str:
    raw = json.dumps({"v": _VERSION, "after": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        after = data["after"] if data.get("v") == _VERSION else None
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        after = None
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise Problem(
            "curseur_invalide",
            "Le paramètre « cursor » est illisible : recopiez-le tel quel depuis « next_cursor », ou retirez-le "
            "pour repartir du début.",
            errors=[{"field": "cursor", "code": "invalid", "message": "Curseur illisible."}],
        )
    return after


def cursor_page(request, queryset: QuerySet, *, cursor: str | None, limit: int) -> tuple[list, str | None, str | None]:
    """(rows, next_cursor, next URL) for one page of `queryset` (ordered by id here)."""
    if cursor:
        queryset = queryset.filter(pk__gt=cursor_decode(cursor))
    rows = list(queryset.order_by("pk")[: limit + 1])
    if len(rows) <= limit:
        return rows, None, None
    rows = rows[:limit]
    next_cursor = cursor_encode(rows[-1].pk)
    params = request.GET.copy()
    params["cursor"] = next_cursor
    next_url = request.build_absolute_uri(f"{request.path}?{urlencode(sorted(params.items()))}")
    return rows, next_cursor, next_url
