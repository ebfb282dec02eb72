"""Native API: invoices (list, filters, detail, status changes, transitions) bounded to the caller's structure."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import Invoice, InvoiceStatusChange
from tests.api.conftest import make_raccordement
from tests.api.native_client import NativeClient, assert_problem
from tests.invoices.factories import InvoiceFactory


@pytest.fixture
def parties(client, world):
    fournisseur = world["structure:fournisseur"]
    commune = world["structure:commune"]
    autre = world["structure:autre_prive"]
    commune_racc = make_raccordement(commune, name="commune")
    received = InvoiceFactory(sent=True, with_lines=True, supplier=fournisseur, recipient=commune, number="F-001")
    draft = InvoiceFactory(supplier=fournisseur, recipient=commune, number="F-002")
    deposited = InvoiceFactory(
        sent=True, supplier=fournisseur, recipient=commune, number="F-003", status=InvoiceStatus.DEPOSEE
    )
    foreign = InvoiceFactory(sent=True, supplier=autre, recipient=world["structure:hopital"], number="X-001")
    return {
        "supplier": NativeClient(client, world.fournisseur, name="fournisseur"),
        "recipient": NativeClient(client, commune_racc, name="commune"),
        "received": received,
        "draft": draft,
        "deposited": deposited,
        "foreign": foreign,
        "commune": commune,
    }


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_supplier_lists_its_invoices_recipient_only_received_ones(parties):
    supplier_ids = _ids(parties["supplier"].get("invoices"))
    assert supplier_ids == sorted([parties["received"].pk, parties["draft"].pk, parties["deposited"].pk])
    # The recipient does not see the draft nor the invoice still being deposited; nobody sees the foreign one.
    assert _ids(parties["recipient"].get("invoices")) == [parties["received"].pk]


def test_filters_status_number_role_and_updated_since(parties):
    supplier = parties["supplier"]
    assert _ids(supplier.get("invoices", status="BROUILLON")) == [parties["draft"].pk]
    assert _ids(supplier.get("invoices", number="F-003")) == [parties["deposited"].pk]
    assert _ids(supplier.get("invoices", role="DESTINATAIRE")) == []
    assert len(_ids(supplier.get("invoices", role="FOURNISSEUR"))) == 3
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert _ids(supplier.get("invoices", updated_since=future)) == []
    assert_problem(supplier.get("invoices", status="INCONNU"), 400, "requete_invalide")
    assert_problem(supplier.get("invoices", updated_since="hier"), 400, "requete_invalide")


def test_cursor_pagination_walks_every_invoice_once(parties):
    supplier = parties["supplier"]
    first = supplier.get("invoices", limit=2)
    body = first.json()
    assert len(body["results"]) == 2 and body["next_cursor"]
    second = supplier.follow(body["next"]).json()
    assert second["next_cursor"] is None
    seen = [row["id"] for row in body["results"] + second["results"]]
    assert seen == sorted(set(seen)) and len(seen) == 3


def test_detail_has_lines_vat_and_actions_of_the_caller(parties):
    invoice = parties["received"]
    supplier_view = parties["supplier"].get(f"invoices/{invoice.pk}").json()
    assert supplier_view["number"] == "F-001"
    assert supplier_view["your_roles"] == ["FOURNISSEUR"]
    assert [line["position"] for line in supplier_view["lines"]] == [1, 2]
    assert Decimal(supplier_view["total_ttc"]) == invoice.total_ttc
    assert {Decimal(v["rate"]) for v in supplier_view["vat_lines"]} == {Decimal("20"), Decimal("5.5")}
    assert supplier_view["available_transitions"] == []  # Nothing for the supplier on a received invoice.

    recipient_view = parties["recipient"].get(f"invoices/{invoice.pk}").json()
    assert recipient_view["your_roles"] == ["DESTINATAIRE"]
    names = {t["name"] for t in recipient_view["available_transitions"]}
    assert {"service_fait", "mandater", "mettre_en_paiement", "rejeter", "suspendre"} <= names


def test_another_structures_invoice_is_not_found_like_a_missing_one(parties):
    foreign = parties["foreign"]
    missing = Invoice.objects.order_by("-pk").first().pk + 100
    for invoice_id in (foreign.pk, missing):
        body = assert_problem(parties["supplier"].get(f"invoices/{invoice_id}"), 404, "introuvable")
        assert str(invoice_id) in body["detail"]
    # The recipient does not see an invoice still being deposited either.
    assert_problem(parties["recipient"].get(f"invoices/{parties['deposited'].pk}"), 404, "introuvable")


def test_scopes_are_required(parties, client, world):
    reader = NativeClient(client, world.fournisseur, scope="structures:read", name="lecteur")
    assert_problem(reader.get("invoices"), 403, "portee_insuffisante")
    read_only = NativeClient(client, world.fournisseur, scope="invoices:read", name="lecture")
    invoice = parties["received"]
    response = read_only.post(f"invoices/{invoice.pk}/transitions", {"transition": "service_fait"})
    assert_problem(response, 403, "portee_insuffisante")


def test_recipient_processes_the_invoice_and_history_shows_it(parties):
    invoice = parties["received"]
    recipient = parties["recipient"]
    response = recipient.post(
        f"invoices/{invoice.pk}/transitions", {"transition": "service_fait", "comment": "Livraison conforme"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "SERVICE_FAIT"
    response = recipient.post(
        f"invoices/{invoice.pk}/transitions",
        {"transition": "mandater", "numero_dp_mandat": "MDT-42", "expected_status": "SERVICE_FAIT"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "MANDATEE"

    history = parties["supplier"].get(f"invoices/{invoice.pk}/status-changes").json()["results"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("MISE_A_DISPOSITION", "SERVICE_FAIT"),
        ("SERVICE_FAIT", "MANDATEE"),
    ]
    assert history[0]["actor_role"] == "DESTINATAIRE"
    assert history[0]["channel"] == "API"
    assert history[0]["actor_structure"]["id"] == parties["commune"].pk
    assert InvoiceStatusChange.objects.filter(invoice=invoice).count() == 2


def test_transition_errors_are_precise_problems(parties):
    invoice = parties["received"]
    recipient = parties["recipient"]
    path = f"invoices/{invoice.pk}/transitions"
    # Stale screen: 409.
    stale = recipient.post(path, {"transition": "service_fait", "expected_status": "SUSPENDUE"})
    assert_problem(stale, 409, "conflit")
    # Motif required.
    body = assert_problem(recipient.post(path, {"transition": "rejeter"}), 422, "erreur_metier")
    assert "motif" in body["detail"]
    # Unknown action, unknown field, malformed JSON.
    assert_problem(recipient.post(path, {"transition": "envoyer_au_ciel"}), 422, "erreur_metier")
    assert_problem(recipient.post(path, {"transition": "mandater", "foo": 1}), 400, "requete_invalide")
    assert_problem(recipient.post(path, raw="{pas du json"), 400, "json_invalide")
    # An action of another role: the supplier may not declare the service done.
    assert_problem(parties["supplier"].post(path, {"transition": "service_fait"}), 403, "acces_refuse")
    # Not an action of a recipient (a supplier's answer to a suspension).
    assert_problem(recipient.post(path, {"transition": "completer"}), 422, "erreur_metier")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.MISE_A_DISPOSITION
