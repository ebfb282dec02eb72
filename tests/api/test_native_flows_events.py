"""Native API: flows (deposit multipart or base64, list, detail with compte rendu) and the events feed."""

from __future__ import annotations

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from choeur.api.models import ApiEvent
from choeur.flows.enums import FlowState
from choeur.invoices.models import InvoiceStatusChange
from choeur.invoices.signals import invoice_status_changed
from tests.api.conftest import FROZEN_AT, make_raccordement
from tests.api.native_client import NativeClient, assert_problem
from tests.directory.factories import StructureFactory
from tests.flows.factories import buyer_structure, supplier_structure
from tests.flows.fixtures import invoice_xml
from tests.invoices.factories import InvoiceFactory

pytestmark = pytest.mark.django_db
FROZEN_DAY = FROZEN_AT.date()


@pytest.fixture
def setup(client, frozen):
    supplier = supplier_structure(raison_sociale="Atelier Dupont")
    buyer = buyer_structure(raison_sociale="Commune de Valfleurie")
    other = StructureFactory(raison_sociale="Autre entreprise")
    return {
        "supplier": supplier,
        "buyer": buyer,
        "api": NativeClient(client, make_raccordement(supplier, name="atelier"), name="atelier"),
        "buyer_api": NativeClient(client, make_raccordement(buyer, name="commune"), name="commune"),
        "other_api": NativeClient(client, make_raccordement(other, name="autre"), name="autre"),
        "xml": lambda number="F-1": invoice_xml(
            supplier_siret=supplier.identifier, buyer_siret=buyer.identifier, number=number, issue_date=FROZEN_DAY
        ),
    }


def _events(api, **params) -> dict:
    response = api.get("events", **params)
    assert response.status_code == 200, response.content
    return response.json()


def test_deposit_multipart_then_same_bytes_in_base64_is_the_same_flow(setup, django_capture_on_commit_callbacks):
    api = setup["api"]
    content = setup["xml"]()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.upload("flows", {"file": SimpleUploadedFile("facture.xml", content, "application/xml")})
    assert response.status_code == 201, response.content
    flow = response.json()
    assert flow["created"] is True
    assert flow["numero_flux_depot"].startswith("CHO") and flow["filename"] == "facture.xml"

    encoded = base64.b64encode(content).decode()
    again = api.post("flows/base64", {"filename": "autre-nom.xml", "content_base64": encoded})
    assert again.status_code == 200, again.content
    assert again.json()["id"] == flow["id"] and again.json()["created"] is False

    detail = api.get(f"flows/{flow['id']}").json()
    assert detail["state"] == FlowState.IN_INTEGRE
    assert detail["report"]["nombreFacturesIntegrees"] == 1
    assert detail["report"]["listeFacturesIntegrees"][0]["numeroDP"] == "F-1"

    listed = api.get("flows", state="IN_INTEGRE").json()["results"]
    assert [row["id"] for row in listed] == [flow["id"]]


def test_flow_errors_and_tenancy(setup, settings):
    api = setup["api"]
    body = assert_problem(
        api.post("flows/base64", {"filename": "f.xml", "content_base64": "pas du base64 !"}), 400, "requete_invalide"
    )
    assert body["errors"][0]["field"] == "content_base64"
    assert_problem(api.post("flows/base64", {"filename": "f.xml"}), 400, "requete_invalide")
    settings.CHOEUR_FLOW_MAX_BYTES = 10
    big = base64.b64encode(b"x" * 11).decode()
    body = assert_problem(api.post("flows/base64", {"filename": "f.xml", "content_base64": big}), 422, "erreur_metier")
    assert "Mo" in body["detail"]
    settings.CHOEUR_FLOW_MAX_BYTES = 1024 * 1024
    created = api.post("flows/base64", {"filename": "f.xml", "content_base64": base64.b64encode(b"<x/>").decode()})
    assert created.status_code == 201
    flow_id = created.json()["id"]
    assert_problem(setup["other_api"].get(f"flows/{flow_id}"), 404, "introuvable")
    assert setup["other_api"].get("flows").json()["results"] == []
    # Reading flows is open to invoices:read; depositing needs flows:write.
    reader = NativeClient(api.client, make_raccordement(setup["supplier"], name="lecteur"), scope="invoices:read")
    assert reader.get(f"flows/{flow_id}").status_code == 200
    assert_problem(reader.post("flows/base64", {"filename": "g.xml", "content_base64": "PHgvPg=="}), 403,
                   "portee_insuffisante")  # fmt: skip


def test_events_feed_lists_flow_changes_in_order_and_resumes_from_its_cursor(
    setup, django_capture_on_commit_callbacks
):
    api = setup["api"]
    assert _events(api)["results"] == []
    start = _events(api)["next_cursor"]
    with django_capture_on_commit_callbacks(execute=True):
        api.upload("flows", {"file": SimpleUploadedFile("facture.xml", setup["xml"](), "application/xml")})
    page = _events(api, cursor=start, type="flow.state_changed")
    flow_events = page["results"]
    assert [(e["data"]["action"], e["data"]["state"]) for e in flow_events] == [
        ("deposit", "IN_EN_ATTENTE_TRAITEMENT_CPP"),
        ("process", "IN_INTEGRE"),
    ]
    assert flow_events[0]["id"].startswith("evt_")
    assert flow_events[1]["data"]["integrated_count"] == 1
    # Nothing new: the same cursor comes back, nothing is repeated.
    after = _events(api, cursor=page["next_cursor"], type="flow.state_changed")
    assert after["results"] == [] and after["next_cursor"] == page["next_cursor"] and after["has_more"] is False
    # Another structure sees none of it.
    assert _events(setup["other_api"])["results"] == []


def test_events_feed_pages_with_has_more(setup):
    supplier = setup["supplier"]
    for index in range(3):
        ApiEvent.objects.create(
            structure=supplier, type="flow.state_changed", source=f"test:{index}", occurred_at="2026-03-02T09:00Z"
        )
    first = _events(setup["api"], limit=2)
    assert len(first["results"]) == 2 and first["has_more"] is True
    second = _events(setup["api"], cursor=first["next_cursor"], limit=2)
    assert len(second["results"]) == 1 and second["has_more"] is False
    assert_problem(setup["api"].get("events", cursor="!!"), 400, "curseur_invalide")


def _send_signals(invoice) -> None:
    """What the invoices task does after the commit (idempotent: events are recorded once per change)."""
    for change in InvoiceStatusChange.objects.filter(invoice=invoice):
        invoice_status_changed.send(sender=InvoiceStatusChange, change=change)


def test_invoice_status_changes_reach_supplier_and_recipient_feeds(setup, django_capture_on_commit_callbacks):
    invoice = InvoiceFactory(sent=True, supplier=setup["supplier"], recipient=setup["buyer"], number="F-9")
    with django_capture_on_commit_callbacks(execute=True):
        response = setup["buyer_api"].post(f"invoices/{invoice.pk}/transitions", {"transition": "service_fait"})
    assert response.status_code == 200, response.content
    _send_signals(invoice)
    _send_signals(invoice)  # A replayed task records nothing twice.
    for api in (setup["api"], setup["buyer_api"]):
        events = _events(api, type="invoice.status_changed")["results"]
        assert len(events) == 1
        data = events[0]["data"]
        assert (data["invoice"]["number"], data["from_status"], data["to_status"]) == (
            "F-9",
            "MISE_A_DISPOSITION",
            "SERVICE_FAIT",
        )
    assert _events(setup["other_api"])["results"] == []


def test_hidden_payment_is_not_announced_to_the_supplier(setup, django_capture_on_commit_callbacks):
    buyer = setup["buyer"]
    buyer.mise_en_paiement_non_remontee = True
    buyer.save()
    invoice = InvoiceFactory(sent=True, supplier=setup["supplier"], recipient=buyer, number="F-10")
    response = setup["buyer_api"].post(f"invoices/{invoice.pk}/transitions", {"transition": "mettre_en_paiement"})
    assert response.status_code == 200, response.content
    _send_signals(invoice)
    assert _events(setup["buyer_api"])["results"][0]["data"]["to_status"] == "MISE_EN_PAIEMENT"
    assert _events(setup["api"])["results"] == []
    # And the supplier reads the status before it.
    assert setup["api"].get(f"invoices/{invoice.pk}").json()["status"] == "MISE_A_DISPOSITION"
    assert setup["api"].get(f"invoices/{invoice.pk}/status-changes").json()["results"] == []
