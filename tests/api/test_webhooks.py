"""Webhooks: signed deliveries to a local HTTP server, retries with backoff, abandon, replay, the retry sweep,
SSRF refusals, and their management through the native API."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from choeur.api import webhooks
from choeur.api.models import ApiEvent, WebhookDelivery, WebhookEndpoint
from choeur.api.webhooks import (
    backoff,
    deliveries_create_for,
    deliveries_retry_due,
    delivery_attempt,
    delivery_replay,
    signature_header,
    signature_verify,
    webhook_create,
    webhook_url_clean,
)
from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.core.models import AuditEntry
from tests.api.native_client import NativeClient, assert_problem
from tests.directory.factories import RattachementFactory


class Receiver:
    """A local HTTP server answering each POST with the next status of `statuses` (then the last one)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses = [200]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"merci" if status < 300 else b"indisponible")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/choeur"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.CHOEUR_WEBHOOKS_ALLOW_PRIVATE = True  # 127.0.0.1 is private: allowed for the test only.
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def structure(world):
    return world["structure:fournisseur"]


def _event(structure, source="test:1", type=ApiEvent.Type.INVOICE_STATUS_CHANGED) -> ApiEvent:
    return ApiEvent.objects.create(
        structure=structure, type=type, source=source, occurred_at=timezone.now(), data={"to_status": "SERVICE_FAIT"}
    )


def test_signature_roundtrip_and_tolerance():
    header = signature_header(secret="whsec_x", timestamp=1_000_000, body=b'{"a":1}')
    assert header.startswith("t=1000000,v1=")
    assert signature_verify(secret="whsec_x", header=header, body=b'{"a":1}', now=1_000_100)
    assert not signature_verify(secret="whsec_y", header=header, body=b'{"a":1}', now=1_000_100)
    assert not signature_verify(secret="whsec_x", header=header, body=b'{"a":2}', now=1_000_100)
    assert not signature_verify(secret="whsec_x", header=header, body=b'{"a":1}', now=1_000_000 + 301)
    assert not signature_verify(secret="whsec_x", header="v1=abc", body=b"", now=0)


def test_delivery_is_signed_and_logged(structure, receiver, django_capture_on_commit_callbacks):
    endpoint, secret = webhook_create(structure=structure, url=receiver.url, event_types=["invoice.status_changed"])
    assert secret.startswith("whsec_") and endpoint.secret == secret
    event = _event(structure)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = deliveries_create_for([event])
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts == 1 and delivery.response_status == 200 and delivery.last_error == ""
    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Choeur-Event-Id"] == f"evt_{event.pk}"
    assert headers["Choeur-Event-Type"] == "invoice.status_changed"
    assert signature_verify(
        secret=secret, header=headers["Choeur-Signature"], body=body, now=timezone.now().timestamp()
    )
    payload = json.loads(body)
    assert payload["id"] == f"evt_{event.pk}" and payload["data"] == {"to_status": "SERVICE_FAIT"}


def test_only_subscribed_active_endpoints_of_the_structure_receive(world, structure, receiver):
    webhook_create(structure=structure, url=receiver.url, event_types=["flow.state_changed"])
    inactive, _ = webhook_create(structure=structure, url=receiver.url, event_types=["invoice.status_changed"])
    inactive.is_active = False
    inactive.save()
    webhook_create(structure=world["structure:autre_prive"], url=receiver.url, event_types=["invoice.status_changed"])
    assert deliveries_create_for([_event(structure)]) == []
    assert len(deliveries_create_for([_event(structure, "test:2", ApiEvent.Type.FLOW_STATE_CHANGED)])) == 1


def test_failures_are_retried_with_backoff_then_abandoned(structure, receiver, settings, frozen):
    settings.CHOEUR_WEBHOOKS_MAX_ATTEMPTS = 3
    receiver.statuses = [503, 500, 503]
    endpoint, _ = webhook_create(structure=structure, url=receiver.url, event_types=["invoice.status_changed"])
    (delivery,) = deliveries_create_for([_event(structure)])
    now = timezone.now()
    assert delivery_attempt(delivery_id=delivery.pk, now=now) == WebhookDelivery.Status.PENDING
    delivery.refresh_from_db()
    assert delivery.response_status == 503 and "indisponible" in delivery.last_error
    assert delivery.next_attempt_at == now + timedelta(seconds=30)
    # Not due yet: nothing happens.
    assert delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(seconds=10)) == ""
    now += timedelta(seconds=30)
    assert delivery_attempt(delivery_id=delivery.pk, now=now) == WebhookDelivery.Status.PENDING
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == now + timedelta(minutes=1)
    now += timedelta(minutes=1)
    assert delivery_attempt(delivery_id=delivery.pk, now=now) == WebhookDelivery.Status.FAILED
    delivery.refresh_from_db()
    assert delivery.attempts == 3 and delivery.next_attempt_at is None
    assert len(receiver.requests) == 3
    assert [backoff(n) for n in (1, 2, 3, 20)] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(hours=6),
    ]


def test_network_error_is_a_failed_attempt(structure, settings, monkeypatch):
    settings.CHOEUR_WEBHOOKS_ALLOW_PRIVATE = True

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("connexion refusée")

    monkeypatch.setattr(webhooks, "http_post", refuse)
    webhook_create(structure=structure, url="http://127.0.0.1:9/x", event_types=["invoice.status_changed"])
    (delivery,) = deliveries_create_for([_event(structure)])
    assert delivery_attempt(delivery_id=delivery.pk) == WebhookDelivery.Status.PENDING
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("Échec de connexion") and delivery.response_status is None


def test_sweep_requeues_due_deliveries_once(structure, receiver, frozen):
    receiver.statuses = [500, 200]
    webhook_create(structure=structure, url=receiver.url, event_types=["invoice.status_changed"])
    (delivery,) = deliveries_create_for([_event(structure)])
    now = timezone.now()
    delivery_attempt(delivery_id=delivery.pk, now=now)  # fails, next attempt in 30 s
    assert deliveries_retry_due(now=now + timedelta(seconds=5)) == 0
    # Due: the sweep queues it (the immediate task backend sends it at once).
    frozen.shift(timedelta(seconds=31))
    assert deliveries_retry_due(now=timezone.now()) == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 2
    assert deliveries_retry_due(now=timezone.now()) == 0


def test_replay_sends_the_same_event_again(world, structure, receiver, django_capture_on_commit_callbacks):
    webhook_create(structure=structure, url=receiver.url, event_types=["invoice.status_changed"])
    event = _event(structure)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = deliveries_create_for([event])
    stranger = world["user:agent"]  # attached to the structure, but not gestionnaire
    with pytest.raises(PermissionDeniedError):
        delivery_replay(delivery=delivery, by=stranger)
    gestionnaire = RattachementFactory(structure=structure, role="GESTIONNAIRE_PRINCIPAL").user
    with django_capture_on_commit_callbacks(execute=True):
        replay = delivery_replay(delivery=delivery, by=gestionnaire)
    replay.refresh_from_db()
    assert replay.replay_of == delivery and replay.status == WebhookDelivery.Status.SUCCEEDED
    first, second = receiver.requests
    assert first["headers"]["Choeur-Event-Id"] == second["headers"]["Choeur-Event-Id"] == f"evt_{event.pk}"
    assert first["headers"]["Choeur-Delivery-Id"] != second["headers"]["Choeur-Delivery-Id"]
    assert AuditEntry.objects.filter(action="api.webhook.replay").count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "ftp://exemple.fr/x",
        "file:///etc/passwd",
        "https://user:pw@exemple.fr/x",
        "https:///x",
        "http://127.0.0.1/x",
        "http://10.0.0.8/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:8000/x",
        "http://LOCALHOST./x",
        # The numeric spellings that resolvers (inet_aton) take for a loopback or private address.
        "http://2130706433/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://0177.0.0.1/",
        "http://0x7f000001/",
        "http://127.0.0.1./x",
        "http://10.1/x",
        "http://3232235777/x",  # 192.168.1.1
        "http://[::ffff:127.0.0.1]/x",
        "http://0/x",
    ],
)
def test_urls_refused_in_production(settings, url):
    settings.CHOEUR_WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ApplicationError) as refused:
        webhook_url_clean(url)
    assert refused.value.field == "url"


@pytest.mark.parametrize(
    "url", ["https://exemple.fr/x", "https://1.2.3.4/x", "https://16843009/x", "https://0x1e.dev/x"]
)
def test_public_urls_accepted_in_production(settings, url):
    settings.CHOEUR_WEBHOOKS_ALLOW_PRIVATE = False
    assert webhook_url_clean(url) == url


def test_private_address_refused_at_delivery_when_a_name_resolves_to_it(structure, settings, monkeypatch):
    settings.CHOEUR_WEBHOOKS_ALLOW_PRIVATE = False
    sent = []
    monkeypatch.setattr(webhooks, "http_post", lambda *args: sent.append(args) or (200, ""))
    monkeypatch.setattr(webhooks.socket, "getaddrinfo", lambda *args, **kwargs: [(2, 1, 6, "", ("192.168.1.10", 443))])
    webhook_create(structure=structure, url="https://intranet.exemple.fr/x", event_types=["invoice.status_changed"])
    (delivery,) = deliveries_create_for([_event(structure)])
    delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert sent == [] and "adresse privée" in delivery.last_error


# ---------------------------------------------------------------------------------------------------
# Native API
# ---------------------------------------------------------------------------------------------------


@pytest.fixture
def api(client, world):
    return NativeClient(client, world.fournisseur, scope="webhooks:manage", name="webhooks")


def test_native_api_manages_webhooks(api, world, structure, receiver, client, django_capture_on_commit_callbacks):
    created = api.post("webhooks", {"url": receiver.url, "event_types": ["invoice.status_changed"]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    webhook_id = body["id"]
    shown = api.get(f"webhooks/{webhook_id}").json()
    assert "secret" not in shown and shown["event_types"] == ["invoice.status_changed"]
    assert [row["id"] for row in api.get("webhooks").json()["results"]] == [webhook_id]

    patched = api.patch(f"webhooks/{webhook_id}", {"event_types": ["flow.state_changed", "invoice.status_changed"]})
    assert patched.status_code == 200 and patched.json()["event_types"] == [
        "invoice.status_changed",
        "flow.state_changed",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        deliveries_create_for([_event(structure)])
    deliveries = api.get(f"webhooks/{webhook_id}/deliveries").json()["results"]
    assert deliveries[0]["status"] == "SUCCEEDED" and deliveries[0]["response_status"] == 200
    with django_capture_on_commit_callbacks(execute=True):
        replay = api.post(f"webhooks/{webhook_id}/deliveries/{deliveries[0]['id']}/replay")
    assert replay.status_code == 202, replay.content
    assert replay.json()["replay_of"] == deliveries[0]["id"]
    assert len(receiver.requests) == 2

    # Another structure's webhook does not exist for this caller.
    other, _ = webhook_create(
        structure=world["structure:autre_prive"], url=receiver.url, event_types=["flow.state_changed"]
    )
    assert_problem(api.get(f"webhooks/{other.pk}"), 404, "introuvable")
    assert_problem(api.delete(f"webhooks/{other.pk}"), 404, "introuvable")
    assert api.delete(f"webhooks/{webhook_id}").status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=webhook_id).exists()


def test_native_api_webhook_errors(api, settings):
    settings.CHOEUR_WEBHOOKS_ALLOW_PRIVATE = False
    body = assert_problem(
        api.post("webhooks", {"url": "ftp://exemple.fr", "event_types": ["flow.state_changed"]}), 422, "erreur_metier"
    )
    assert body["errors"][0]["field"] == "url"
    assert_problem(api.post("webhooks", {"url": "https://exemple.fr", "event_types": []}), 400, "requete_invalide")
    assert_problem(
        api.post("webhooks", {"url": "https://exemple.fr", "event_types": ["facture.payee"]}), 400, "requete_invalide"
    )
    assert_problem(api.get("webhooks", token="jeton-fournisseur"), 403, "portee_insuffisante")
