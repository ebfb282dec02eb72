"""`/metrics` (Prometheus) and the admin page « État de la plateforme », from the same figures.

Two sources: what the processes measured (request latency by route, validation time per layer, tasks run —
choeur.core.observability, added up over every process of `choeur serve` through PROMETHEUS_MULTIPROC_DIR),
and what the database says at the time of the scrape (task queue depth and age, flows and invoices by
state, webhook deliveries by status).

`/metrics` answers only to `Authorization: Bearer <CHOEUR_METRICS_TOKEN>`, and 404 when no token is set:
a probe address is often reachable from outside, and the figures say how busy each structure's counterpart
is. Counts by state are one GROUP BY each on an indexed column.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from choeur.api.models import WebhookDelivery
from choeur.flows.enums import FlowState
from choeur.flows.models import Flow
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import Invoice


@dataclass
class PlatformFigures:
    queue_ready: int = 0
    queue_running: int = 0
    queue_failed: int = 0
    queue_oldest_ready_age_seconds: float = 0.0
    flows_by_state: dict[str, int] = field(default_factory=dict)
    invoices_by_status: dict[str, int] = field(default_factory=dict)
    webhooks_by_status: dict[str, int] = field(default_factory=dict)
    measured_at: datetime | None = None


def _counts(queryset, column: str, choices) -> dict[str, int]:
    found = dict(queryset.order_by().values_list(column).annotate(n=Count("pk")))
    return {value: found.get(value, 0) for value in choices.values}


def platform_figures() -> PlatformFigures:
    now = timezone.now()
    figures = PlatformFigures(measured_at=now)
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the queue backend is a dependency
        DBTaskResult = None
    if DBTaskResult is not None:
        by_status = dict(DBTaskResult.objects.order_by().values_list("status").annotate(n=Count("pk")))
        figures.queue_ready = by_status.get(TaskResultStatus.READY, 0)
        figures.queue_running = by_status.get(TaskResultStatus.RUNNING, 0)
        figures.queue_failed = by_status.get(TaskResultStatus.FAILED, 0)
        oldest = DBTaskResult.objects.ready().aggregate(oldest=Min("enqueued_at"))["oldest"]
        figures.queue_oldest_ready_age_seconds = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    figures.flows_by_state = _counts(Flow.objects.all(), "state", FlowState)
    figures.invoices_by_status = _counts(Invoice.objects.all(), "status", InvoiceStatus)
    figures.webhooks_by_status = _counts(WebhookDelivery.objects.all(), "status", WebhookDelivery.Status)
    return figures


class DatabaseFiguresCollector:
    """Read at each scrape: the database is the truth, whatever process answers."""

    def collect(self):
        figures = platform_figures()
        depth = GaugeMetricFamily("choeur_task_queue_tasks", "Tâches de la file, par état.", labels=["status"])
        depth.add_metric(["ready"], figures.queue_ready)
        depth.add_metric(["running"], figures.queue_running)
        depth.add_metric(["failed"], figures.queue_failed)
        yield depth
        yield GaugeMetricFamily(
            "choeur_task_queue_oldest_ready_age_seconds",
            "Attente de la plus ancienne tâche prête (0 si la file est vide).",
            value=figures.queue_oldest_ready_age_seconds,
        )
        for name, help_text, label, values in (
            ("choeur_flows", "Flux déposés, par état.", "state", figures.flows_by_state),
            ("choeur_invoices", "Factures, par statut.", "status", figures.invoices_by_status),
            ("choeur_webhook_deliveries", "Livraisons de webhooks, par statut.", "status", figures.webhooks_by_status),
        ):
            family = GaugeMetricFamily(name, help_text, labels=[label])
            for value, count in values.items():
                family.add_metric([value], count)
            yield family


def metrics_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in list(REGISTRY._collector_to_names):  # this process's metrics (runserver, tests)
            registry.register(collector)
    registry.register(DatabaseFiguresCollector())
    return registry


def _authorised(request: HttpRequest) -> bool:
    token = settings.CHOEUR_METRICS_TOKEN
    if not token:
        return False
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(given.encode(), token.encode())


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.CHOEUR_METRICS_TOKEN:
        raise Http404("Métriques désactivées : définissez CHOEUR_METRICS_TOKEN.")
    if not _authorised(request):
        response = HttpResponse("Jeton de métriques absent ou invalide.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


# --- Admin page ---------------------------------------------------------------------------------------------


def _process_rows(registry: CollectorRegistry) -> tuple[list[dict], list[dict], dict[str, float]]:
    """Requests by route and validation time by layer (count, mean) and tasks run, from the process metrics."""
    routes: dict[str, dict] = {}
    layers: dict[str, dict] = {}
    tasks: dict[str, float] = {}
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == "choeur_http_request_duration_seconds_count":
                row = routes.setdefault(sample.labels["route"], {"route": sample.labels["route"], "n": 0, "s": 0.0})
                row["n"] += sample.value
            elif sample.name == "choeur_http_request_duration_seconds_sum":
                row = routes.setdefault(sample.labels["route"], {"route": sample.labels["route"], "n": 0, "s": 0.0})
                row["s"] += sample.value
            elif sample.name == "choeur_validation_duration_seconds_count":
                layers.setdefault(sample.labels["layer"], {"layer": sample.labels["layer"], "n": 0, "s": 0.0})
                layers[sample.labels["layer"]]["n"] += sample.value
            elif sample.name == "choeur_validation_duration_seconds_sum":
                layers.setdefault(sample.labels["layer"], {"layer": sample.labels["layer"], "n": 0, "s": 0.0})
                layers[sample.labels["layer"]]["s"] += sample.value
            elif sample.name == "choeur_tasks_total":
                tasks[sample.labels["status"]] = tasks.get(sample.labels["status"], 0) + sample.value
    for row in [*routes.values(), *layers.values()]:
        row["count"] = int(row["n"])
        row["mean_ms"] = (row["s"] / row["n"] * 1000) if row["n"] else 0.0
    return (
        sorted(routes.values(), key=lambda row: -row["n"]),
        sorted(layers.values(), key=lambda row: row["layer"]),
        tasks,
    )


@never_cache
def platform_status(request: HttpRequest) -> HttpResponse:
    """« État de la plateforme » in the admin (staff only, wrapped by admin.site.admin_view in config/urls.py)."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        for collector in list(REGISTRY._collector_to_names):
            registry.register(collector)
    routes, layers, tasks = _process_rows(registry)
    figures = platform_figures()
    labels_flow = dict(FlowState.choices)
    labels_invoice = dict(InvoiceStatus.choices)
    labels_webhook = dict(WebhookDelivery.Status.choices)
    context = {
        **admin.site.each_context(request),
        "title": "État de la plateforme",
        "figures": figures,
        "flows": [(labels_flow[key], key, n) for key, n in figures.flows_by_state.items()],
        "invoices": [(labels_invoice[key], key, n) for key, n in figures.invoices_by_status.items() if n],
        "webhooks": [(labels_webhook[key], key, n) for key, n in figures.webhooks_by_status.items()],
        "routes": routes[:30],
        "layers": layers,
        "tasks": tasks,
        "metrics_enabled": bool(settings.CHOEUR_METRICS_TOKEN),
    }
    return render(request, "api/admin/platform_status.html", context)
