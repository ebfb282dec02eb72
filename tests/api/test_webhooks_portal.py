"""« Raccordement API › Webhooks » on the portal: gestionnaires create (secret shown once), read the delivery
log, replay, deactivate and delete; other people see nothing of it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from choeur.api.models import ApiEvent, WebhookDelivery, WebhookEndpoint
from choeur.api.webhooks import deliveries_create_for, webhook_create
from choeur.directory.enums import Role
from tests.directory.factories import RattachementFactory, StructureFactory


@pytest.fixture
def gestionnaire(world):
    return RattachementFactory(structure=world["structure:fournisseur"], role=Role.GESTIONNAIRE_PRINCIPAL).user


def test_gestionnaire_creates_a_webhook_and_sees_its_secret_once(client, world, gestionnaire, settings):
    settings.CHOEUR_WEBHOOKS_ALLOW_PRIVATE = False
    client.force_login(gestionnaire)
    page = client.get(reverse("portal:webhooks"))
    assert page.status_code == 200 and "Nouveau webhook" in page.content.decode()

    refused = client.post(
        reverse("portal:webhooks"),
        {
            "structure": world["structure:fournisseur"].pk,
            "url": "http://10.0.0.1/x",
            "event_types": ["invoice.status_changed"],
        },
    )
    assert refused.status_code == 400
    assert "adresse" in refused.content.decode() and not WebhookEndpoint.objects.exists()

    response = client.post(
        reverse("portal:webhooks"),
        {
            "structure": world["structure:fournisseur"].pk,
            "url": "https://erp.menuiserie-dupont.example/choeur",
            "event_types": ["invoice.status_changed", "flow.state_changed"],
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.content.decode()
    detail = client.get(reverse("portal:webhook_detail", args=[endpoint.pk]))
    assert detail.status_code == 200 and endpoint.secret not in detail.content.decode()


def test_delivery_log_replay_toggle_and_delete(client, world, gestionnaire, monkeypatch, settings):
    from choeur.api import webhooks

    settings.CHOEUR_WEBHOOKS_ALLOW_PRIVATE = True
    monkeypatch.setattr(webhooks, "http_post", lambda *args: (502, "passerelle en panne"))
    structure = world["structure:fournisseur"]
    endpoint, _ = webhook_create(structure=structure, url="https://erp.example/x", event_types=["flow.state_changed"])
    event = ApiEvent.objects.create(
        structure=structure, type="flow.state_changed", source="test:1", occurred_at="2026-03-02T09:00Z"
    )
    (delivery,) = deliveries_create_for([event])
    webhooks.delivery_attempt(delivery_id=delivery.pk)
    client.force_login(gestionnaire)
    detail = client.get(reverse("portal:webhook_detail", args=[endpoint.pk])).content.decode()
    assert f"evt_{event.pk}" in detail and "HTTP 502" in detail and "passerelle en panne" in detail

    response = client.post(reverse("portal:webhook_replay", args=[endpoint.pk, delivery.pk]))
    assert response.status_code == 302
    assert WebhookDelivery.objects.filter(replay_of=delivery).count() == 1

    client.post(reverse("portal:webhook_toggle", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert client.get(reverse("portal:webhook_delete", args=[endpoint.pk])).status_code == 200
    client.post(reverse("portal:webhook_delete", args=[endpoint.pk]))
    assert not WebhookEndpoint.objects.exists()


def test_others_cannot_see_nor_act(client, world, gestionnaire):
    structure = world["structure:fournisseur"]
    endpoint, _ = webhook_create(structure=structure, url="https://erp.example/x", event_types=["flow.state_changed"])
    simple_member = world["user:agent"]  # attached, not gestionnaire
    outsider = RattachementFactory(structure=StructureFactory(), role=Role.GESTIONNAIRE_PRINCIPAL).user
    for user in (simple_member, outsider):
        client.force_login(user)
        assert client.get(reverse("portal:webhook_detail", args=[endpoint.pk])).status_code == 404
        assert client.post(reverse("portal:webhook_toggle", args=[endpoint.pk])).status_code == 404
        listing = client.get(reverse("portal:webhooks")).content.decode()
        assert "erp.example" not in listing
    client.force_login(simple_member)
    refused = client.post(
        reverse("portal:webhooks"),
        {"structure": structure.pk, "url": "https://erp.example/y", "event_types": ["flow.state_changed"]},
    )
    assert refused.status_code == 400
    assert WebhookEndpoint.objects.count() == 1
