"""End to end, as an unmodified Chorus Pro client would run it: plain HTTP calls with the documented field
names only. Token → deposit a Factur-X flow → poll its compte rendu until IN_INTEGRE → find the invoice by
its numeroFluxDepot → read it → the recipient finds it and processes it up to MISE_EN_PAIEMENT → the
supplier reads the whole history and receives, on the webhook it registered through the native API, a
signed event for each step (docs/api-native.md « Webhooks »)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.api.conftest import account_header, make_raccordement
from tests.directory.factories import BankAccountFactory
from tests.flows.fixtures import FIXTURE_IBAN, facturx_pdf, invoice_xml, vat_number

pytestmark = pytest.mark.django_db

RECIPIENT_STEPS = [
    ("SERVICE_FAIT", {}),
    ("MANDATEE", {"numeroDPMandat": "MDT-2026-0042"}),
    ("MISE_A_DISPOSITION_COMPTABLE", {}),
    ("COMPTABILISEE", {}),
    ("MISE_EN_PAIEMENT", {}),
]


def token_for(client, raccordement, scope: str = "openid") -> str:
    response = client.post(
        "/api/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": raccordement.client.application.client_id,
            "client_secret": f"secret-{raccordement.client.application.client_id.removeprefix('client-')}-0123456789",
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == scope
    return body["access_token"]


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The receiver-side check, as docs/api-native.md gives it to integrators (not Chœur's own helper)."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return abs(time.time() - timestamp) <= tolerance and hmac.compare_digest(expected, parts["v1"])


class WebhookReceiver:
    """The supplier's own HTTP endpoint: a real server on 127.0.0.1 recording every POST it gets."""

    def __init__(self):
        self.requests: list[dict] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/chorus/evenements"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver(settings):
    settings.CHOEUR_WEBHOOKS_ALLOW_PRIVATE = True  # 127.0.0.1 is private: allowed for this test only.
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


class ChorusClient:
    """What a Chorus Pro client does: POST JSON with the bearer token and the cpro-account header."""

    def __init__(self, client, raccordement):
        self.client = client
        self.headers = {
            "Authorization": f"Bearer {token_for(client, raccordement)}",
            "cpro-account": account_header(raccordement.login, raccordement.password),
        }

    def post(self, path: str, body: dict) -> dict:
        response = self.client.post(
            f"/cpro/{path}", data=body, content_type="application/json;charset=utf-8", headers=self.headers
        )
        assert response.status_code == 200, (path, response.status_code, response.content.decode())
        answer = response.json()
        assert answer["codeRetour"] == 0, (path, answer)
        return answer


def test_deposit_to_payment_through_the_chorus_api(
    client, world, webhook_receiver, django_capture_on_commit_callbacks
):
    supplier = world["structure:fournisseur"]
    recipient = world["structure:commune"]
    # The supplier's invoice names its real VAT number and an IBAN of its own (checked at integration).
    supplier.numero_tva = vat_number(supplier.identifier[:9])
    supplier.save(update_fields=["numero_tva"])
    BankAccountFactory(structure=supplier, iban=FIXTURE_IBAN, label="Compte des factures")
    recipient_raccordement = make_raccordement(recipient, name="commune")

    fournisseur = ChorusClient(client, world.fournisseur)
    destinataire = ChorusClient(client, recipient_raccordement)

    # 0. The supplier's software registers its endpoint through the native API (documented fields only) and
    #    keeps the secret, shown this once.
    native_token = token_for(client, world.fournisseur, scope="webhooks:manage")
    registered = client.post(
        "/api/v1/webhooks",
        data=json.dumps(
            {
                "url": webhook_receiver.url,
                "event_types": ["invoice.status_changed"],
                "description": "Logiciel de facturation",
            }
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {native_token}"},
    )
    assert registered.status_code == 201, registered.content
    webhook = registered.json()
    secret = webhook["secret"]

    xml = invoice_xml(
        supplier_siret=supplier.identifier,
        buyer_siret=recipient.identifier,
        number="FX-E2E-001",
        syntax="CII",
        supplier_name=supplier.raison_sociale,
        buyer_name=recipient.raison_sociale,
        issue_date=datetime.date(2026, 2, 20),
    )
    pdf = facturx_pdf(xml)

    # 1. Deposit: the answer is immediate; the commit hands the flow to the (immediate) task worker.
    with django_capture_on_commit_callbacks(execute=True):
        deposit = fournisseur.post(
            "factures/v1/deposer/flux",
            {
                "idUtilisateurCourant": 0,
                "fichierFlux": base64.b64encode(pdf).decode(),
                "nomFichier": "FX-E2E-001.pdf",
                "syntaxeFlux": "IN_DP_E2_CII_FACTURX",
                "avecSignature": False,
            },
        )
    numero_flux = deposit["numeroFluxDepot"]
    assert deposit["dateDepot"] == "2026-03-02"
    assert deposit["syntaxeFlux"] == "IN_DP_E2_CII_FACTURX"

    # 2. Poll the compte rendu until the flow reaches a final state.
    for _attempt in range(5):
        cr = fournisseur.post("transverses/v1/consulterCR", {"numeroFluxDepot": numero_flux})
        if cr["etatCourantFlux"] not in ("IN_RECU", "IN_EN_ATTENTE_TRAITEMENT_CPP", "IN_EN_COURS_TRAITEMENT_CPP"):
            break
    detail = fournisseur.post("transverses/v1/consulterCRDetaille", {"numeroFluxDepot": numero_flux})
    assert cr["etatCourantFlux"] == "IN_INTEGRE", detail
    assert base64.b64decode(cr["fichierCR"]).startswith(b"%PDF")
    assert detail["etatCourantDepotFlux"] == "IN_INTEGRE" and detail["listeErreurDP"] == []

    # 3. The supplier finds the invoice by its flow number, then reads it.
    found = fournisseur.post(
        "factures/v1/rechercher/fournisseur",
        {"numeroFluxDepot": numero_flux, "rechercheFactureParFournisseur": {"nbResultatsParPage": 10}},
    )
    assert found["parametresRetour"]["total"] == 1
    row = found["listeFactures"][0]
    assert (row["numeroFacture"], row["statut"], row["numeroFluxDepot"]) == (
        "FX-E2E-001",
        "MISE_A_DISPOSITION",
        numero_flux,
    )
    invoice_id = row["identifiantFactureCPP"]
    facture = fournisseur.post("factures/v1/consulter/fournisseur", {"identifiantFactureCPP": invoice_id})["facture"]
    assert facture["destinataire"]["codeDestinataire"] == recipient.identifier
    assert facture["montantTotal"]["montantAPayer"] == 120.0
    assert facture["references"]["numeroBonCommande"] == "EJ-2026-0001"

    # 4. The recipient finds it among its received invoices and processes it step by step.
    received = destinataire.post(
        "factures/v1/rechercher/recipiendaire",
        {"statutCourant": ["MISE_A_DISPOSITION"], "paramRecherche": {"pageResultatDemandee": 1}},
    )
    assert [item["idFacture"] for item in received["listeFactures"]] == [invoice_id]
    assert received["total"] == 1 and received["pageCourante"] == 1
    for status, extra in RECIPIENT_STEPS:
        # Each commit runs its real side effects: the status-change task, the event, the webhook delivery.
        with django_capture_on_commit_callbacks(execute=True):
            answer = destinataire.post(
                "factures/v1/traiter/recue",
                {"idUtilisateurCourant": 0, "idFacture": invoice_id, "nouveauStatut": status, **extra},
            )
        assert (answer["idFacture"], answer["nouveauStatut"]) == (invoice_id, status)

    # 5. The supplier reads the whole history.
    history = fournisseur.post("factures/v1/consulter/historique", {"idFacture": invoice_id})
    assert history["statutCourantCode"] == "MISE_EN_PAIEMENT"
    codes = [entry["histoStatutCode"] for entry in history["historiquesDesStatuts"]["histoStatut"]]
    assert codes == ["DEPOSEE", "MISE_A_DISPOSITION", *[status for status, _ in RECIPIENT_STEPS]]

    # 6. The supplier's endpoint received each step as a signed POST, MISE_EN_PAIEMENT last, which it
    #    checks as the documentation says: HMAC-SHA256 of "<t>.<raw body>" with its secret.
    received = {}
    for request in webhook_receiver.requests:
        headers = {name.lower(): value for name, value in request["headers"].items()}
        assert request["path"] == "/chorus/evenements"
        assert verify_signature(secret, headers["choeur-signature"], request["body"]), headers
        assert not verify_signature("whsec_un-autre-secret", headers["choeur-signature"], request["body"])
        event = json.loads(request["body"])
        assert headers["choeur-event-id"] == event["id"] and headers["choeur-event-type"] == event["type"]
        received[event["data"]["to_status"]] = event
    assert list(received)[-len(RECIPIENT_STEPS) :] == [status for status, _ in RECIPIENT_STEPS]
    paid = received["MISE_EN_PAIEMENT"]
    assert paid["type"] == "invoice.status_changed"
    assert paid["structure_id"] == supplier.pk
    assert paid["data"]["invoice"]["id"] == invoice_id
    assert paid["data"]["invoice"]["number"] == "FX-E2E-001"
    assert paid["data"]["invoice"]["numero_flux_depot"] == numero_flux
    assert (paid["data"]["from_status"], paid["data"]["transition"]) == ("COMPTABILISEE", "mettre_en_paiement")

    # The delivery log says the same, through the documented deliveries URL.
    log = client.get(webhook["deliveries_url"], headers={"Authorization": f"Bearer {native_token}"})
    assert log.status_code == 200, log.content
    by_event = {row["event_id"]: row for row in log.json()["results"]}
    assert by_event[paid["id"]]["status"] == "SUCCEEDED"
    assert by_event[paid["id"]]["response_status"] == 204
