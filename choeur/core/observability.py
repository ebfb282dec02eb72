"""Request ids, structured logs and the process-level Prometheus metrics.

- Every request gets an id (the proxy's `X-Request-ID` when it is a sane token, else a new one), returned in
  the `X-Request-ID` response header, put on every log line written while it runs, stored with each task it
  enqueues (choeur.core.taskqueue) and put back on the worker's log lines while that task runs.
- One JSON log line per request: method, route, status, duration.
- Metrics are prometheus_client objects; under `choeur serve` every process writes them to
  PROMETHEUS_MULTIPROC_DIR and `/metrics` (choeur.api.metrics) adds them up with the figures read in the
  database (queue, flows and invoices by state, webhook failures).
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from prometheus_client import Counter, Histogram
from pythonjsonlogger.json import JsonFormatter

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("choeur_request_id", default="")
_REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

request_logger = logging.getLogger("choeur.request")

REQUEST_LATENCY = Histogram(
    "choeur_http_request_duration_seconds",
    "Durée de traitement des requêtes HTTP, par route.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
VALIDATION_DURATION = Histogram(
    "choeur_validation_duration_seconds",
    "Durée de validation d'un document déposé, par couche du moteur (total : tout le document).",
    ["layer"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
TASKS_RUN = Counter("choeur_tasks_total", "Tâches exécutées par les workers, par issue.", ["status"])


def current_request_id() -> str:
    return _request_id.get()


def bind_request_id(value: str) -> contextvars.Token:
    return _request_id.set(value)


def unbind_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (empty outside a request or a task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = _request_id.get()
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request id, and the record's extra fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__("%(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs)


class RequestObservabilityMiddleware:
    """First middleware: the request id, the request's log line and its latency by route."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(_REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = bind_request_id(request_id)
        started = time.perf_counter()
        try:
            # Django turns a view's exception into a 500 response before it reaches here.
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            self._record(request, response.status_code, started)
        finally:
            unbind_request_id(token)
        return response

    def _record(self, request, status: int, started: float) -> None:
        duration = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        # The route pattern (never the path: ids in paths would make one series per invoice).
        route = match.route if match is not None and match.route else ("static" if _is_static(request) else "other")
        REQUEST_LATENCY.labels(request.method, route, str(status)).observe(duration)
        request_logger.info(
            "%s %s %s",
            request.method,
            route,
            status,
            extra={
                "method": request.method,
                "route": route,
                "path": request.path,
                "status": status,
                "duration_ms": round(duration * 1000, 2),
            },
        )


def _is_static(request) -> bool:
    from django.conf import settings

    return request.path.startswith(settings.STATIC_URL)


# --- Tasks: the request id travels with the task row -------------------------------------------------

_task_tokens: dict[str, contextvars.Token] = {}


def task_started_receiver(sender, task_result, **kwargs) -> None:
    db_result = getattr(task_result, "db_result", None)
    request_id = ""
    if db_result is not None and isinstance(db_result.args_kwargs, dict):
        request_id = db_result.args_kwargs.get("request_id", "")
    _task_tokens[str(task_result.id)] = bind_request_id(request_id or f"task-{task_result.id}")
    logging.getLogger("choeur.tasks").info(
        "Tâche commencée : %s", task_result.task.module_path, extra={"task_id": str(task_result.id)}
    )


def task_finished_receiver(sender, task_result, **kwargs) -> None:
    TASKS_RUN.labels(str(task_result.status).lower()).inc()
    logging.getLogger("choeur.tasks").info(
        "Tâche terminée : %s (%s)",
        task_result.task.module_path,
        task_result.status,
        extra={"task_id": str(task_result.id), "task_status": str(task_result.status)},
    )
    token = _task_tokens.pop(str(task_result.id), None)
    if token is not None:
        try:
            unbind_request_id(token)
        except ValueError:  # reset from another context: nothing to undo
            pass


def connect_task_signals() -> None:
    from django.tasks.signals import task_finished, task_started

    task_started.connect(task_started_receiver, dispatch_uid="choeur.observability.task_started")
    task_finished.connect(task_finished_receiver, dispatch_uid="choeur.observability.task_finished")
