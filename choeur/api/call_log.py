"""Tracing of every API call (see `choeur.api.models.ApiCallLog` for why not the audit log).

Each API registers `call_logger(...)` as a Ninja "view" decorator: it wraps the whole operation, including
authentication and validation, so refused and malformed calls are traced too. Handlers and authenticators
leave what they learnt on the request (`request.api_trace`); the decorator writes one row at the end.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass

from django.db import DatabaseError

from choeur.api.models import ApiCallLog

logger = logging.getLogger(__name__)


@dataclass
class ApiTrace:
    """What is known about the caller and the outcome, filled in as the call goes."""

    outcome: str = ""
    structure_id: int | None = None
    api_client_id: int | None = None
    technical_account_id: int | None = None
    client_id: str = ""
    account_login: str = ""


def api_trace(request) -> ApiTrace:
    trace = getattr(request, "api_trace", None)
    if trace is None:
        trace = ApiTrace()
        request.api_trace = trace
    return trace


def _operation_name(request, prefix: str) -> str:
    path = request.path_info or request.path
    marker = f"/{prefix.strip('/')}/"
    index = path.find(marker)
    return (path[index + len(marker) :] if index >= 0 else path).strip("/")[:200]


def call_logger(*, api: str, prefix: str):
    """A Ninja view decorator that writes one `ApiCallLog` row per call of the API mounted under `prefix`."""

    def decorator(run):
        @functools.wraps(run)
        def wrapper(request, *args, **kwargs):
            started = time.monotonic()
            response = run(request, *args, **kwargs)
            trace = api_trace(request)
            try:
                ApiCallLog.objects.create(
                    api=api,
                    method=request.method[:10],
                    operation=_operation_name(request, prefix),
                    http_status=response.status_code,
                    outcome=trace.outcome[:60],
                    duration_ms=int((time.monotonic() - started) * 1000),
                    structure_id=trace.structure_id,
                    api_client_id=trace.api_client_id,
                    technical_account_id=trace.technical_account_id,
                    client_id=trace.client_id[:100],
                    account_login=trace.account_login[:150],
                )
            except DatabaseError:
                # Tracing must never turn an answered call into an error; the failure is logged instead.
                logger.exception("Impossible d'écrire la trace d'appel d'API")
            return response

        return wrapper

    return decorator
