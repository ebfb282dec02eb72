"""`/metrics` (Prometheus, behind its token) and the admin page « État de la plateforme »: the same figures."""

from __future__ import annotations

import pytest

from choeur.api.metrics import platform_figures
from tests.accounts.factories import UserFactory
from tests.flows.factories import supplier_structure

pytestmark = pytest.mark.django_db

TOKEN = "jeton-de-metriques-0123456789"


def test_metrics_are_off_without_a_token(client, settings):
    settings.CHOEUR_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


def test_metrics_refuse_a_missing_or_wrong_token(client, settings):
    settings.CHOEUR_METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer autre-chose"}).status_code == 401


def test_metrics_give_request_latency_by_route_and_database_figures(client, settings):
    settings.CHOEUR_METRICS_TOKEN = TOKEN
    from choeur.flows.enums import Channel
    from choeur.flows.services import flow_deposit

    flow_deposit(structure=supplier_structure(), content=b"<Invoice/>", filename="a.xml", channel=Channel.API)
    client.get("/healthz")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'choeur_http_request_duration_seconds_count{method="GET",route="healthz",status="200"}' in text
    # The immediate backend of the tests runs the flow at once: it ends in a final state, counted by state.
    assert "choeur_flows{state=" in text and "choeur_invoices{status=" in text
    assert 'choeur_task_queue_tasks{status="ready"}' in text
    assert "choeur_webhook_deliveries{status=" in text
    assert sum(platform_figures().flows_by_state.values()) == 1


def test_the_platform_status_page_is_for_staff_only(client):
    page = "/admin/etat-de-la-plateforme/"
    assert client.get(page).status_code == 302  # to the admin login
    client.force_login(UserFactory())
    assert client.get(page).status_code == 302
    client.force_login(UserFactory(staff=True))
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "État de la plateforme" in html and "File des tâches" in html and "Flux par état" in html
