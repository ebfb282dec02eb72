"""The piste d'audit export: the whole history of one invoice, its documents' fingerprints, and a
verification that catches an edited audit row or an altered document."""

import io
import json

import pytest
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.urls import reverse
from pypdf import PdfReader

from choeur.core.audit import audit_verify
from choeur.core.models import AuditEntry
from choeur.invoices.enums import Channel, InvoiceStatus
from choeur.invoices.lifecycle import (
    invoice_audit_trail_json,
    invoice_audit_trail_pdf,
    invoice_process,
    invoice_rejection_acknowledge,
)
from choeur.invoices.services import invoice_send
from tests.directory.factories import ServiceFactory
from tests.invoices.factories import InvoiceFactory, issuer_for, member_of

pytestmark = pytest.mark.django_db

S = InvoiceStatus


@pytest.fixture
def invoice():
    draft = InvoiceFactory(with_lines=True)
    supplier_user = issuer_for(draft.supplier)
    sent = invoice_send(invoice=draft, by=supplier_user)
    buyer = member_of(sent.recipient)
    invoice_process(
        invoice=sent,
        by=buyer,
        structure=sent.recipient,
        transition="rejeter",
        motif="DOUBLE_FACTURE",
        comment="Déjà reçue sous le numéro F-1.",
        channel=Channel.PORTAIL,
    )
    invoice_rejection_acknowledge(invoices=[sent], by=supplier_user, structure=sent.supplier, channel=Channel.PORTAIL)
    sent.refresh_from_db()
    return sent


def test_the_trail_gathers_the_whole_history(invoice):
    trail = invoice_audit_trail_json(invoice=invoice)
    json.dumps(trail)  # Serialisable as is.
    assert trail["facture"]["numero"] == invoice.number
    assert trail["facture"]["statut"] == S.REJETEE
    assert [s["vers"] for s in trail["statuts"]] == [S.DEPOSEE, S.MISE_A_DISPOSITION, S.REJETEE]
    rejection = trail["statuts"][-1]
    assert (rejection["motif"], rejection["commentaire"]) == ("DOUBLE_FACTURE", "Déjà reçue sous le numéro F-1.")
    assert [a["action"] for a in trail["actions"]] == ["TRAITEMENT_REJET"]
    actions = [e["action"] for e in trail["journal_audit"]]
    assert "invoices.invoice.send" in actions and "invoices.invoice.rejeter" in actions
    assert "invoices.invoice.traitement_rejet" in actions
    roles = {d["role"]: d for d in trail["documents"]}
    assert set(roles) == {"Document de facture", "Données structurées", "Certificat de dépôt"}
    assert roles["Document de facture"]["sha256"] == invoice.document_sha256
    assert all(d["intact"] for d in trail["documents"])
    assert trail["verification"]["integre"] is True
    assert trail["verification"]["problemes"] == []
    assert trail["verification"]["entrees_verifiees"] == len(trail["journal_audit"])


def test_the_trail_joins_the_signed_checkpoint_that_covers_it(invoice, settings, tmp_path):
    from choeur.core.audit_checkpoints import verify_signature
    from choeur.core.audit_signing import checkpoint_create

    settings.CHOEUR_AUDIT_SIGNING_KEY = str(tmp_path / "audit.pem")
    settings.CHOEUR_AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    assert invoice_audit_trail_json(invoice=invoice)["verification"]["point_de_controle_signe"] is None
    checkpoint_create()
    trail = invoice_audit_trail_json(invoice=invoice)
    signed = trail["verification"]["point_de_controle_signe"]
    assert signed["signature_valide"] and signed["entree_conforme"] and trail["verification"]["integre"]
    # What a reader holds is enough to check the signature offline.
    record = {"payload": json.loads(signed["contenu_signe"]), "signature": signed["signature_ed25519"]}
    assert verify_signature(record, signed["cle_publique"])
    pdf = invoice_audit_trail_pdf(invoice=invoice)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", " ")
    assert "Point de contrôle signé n°1" in text and "signature valide" in text


def test_an_edited_audit_row_shows_in_the_trail(invoice):
    entry = AuditEntry.objects.for_object(invoice).get(action="invoices.invoice.rejeter")
    AuditEntry.objects.filter(pk=entry.pk).update(data={**entry.data, "motif": "ERREUR_MONTANT"})
    trail = invoice_audit_trail_json(invoice=invoice)
    assert trail["verification"]["integre"] is False
    assert (
        f"Entrée n°{entry.pk} (invoices.invoice.rejeter) : contenu modifié après écriture."
        in (trail["verification"]["problemes"])
    )
    # The whole-chain check agrees, and `choeur verify_audit` fails.
    assert any(f"Entrée n°{entry.pk}" in p for p in audit_verify())
    with pytest.raises(CommandError):
        call_command("verify_audit")


def test_a_deleted_audit_row_shows_in_the_trail(invoice):
    entries = list(AuditEntry.objects.for_object(invoice).order_by("pk"))
    victim = AuditEntry.objects.filter(pk__lt=entries[-1].pk, pk__gt=entries[0].pk).order_by("pk").first()
    AuditEntry.objects.filter(pk=victim.pk)._raw_delete(AuditEntry.objects.db)
    trail = invoice_audit_trail_json(invoice=invoice)
    assert trail["verification"]["integre"] is False
    assert any(
        "maillon précédent ne correspond pas" in p or "ne la désigne plus" in p
        for p in trail["verification"]["problemes"]
    )


def test_an_altered_document_shows_in_the_trail(invoice):
    storage = storages["default"]
    name = invoice.main_document.storage_name
    storage.delete(name)
    storage.save(name, io.BytesIO(b"%PDF-1.7 faux"))
    trail = invoice_audit_trail_json(invoice=invoice)
    document = next(d for d in trail["documents"] if d["role"] == "Document de facture")
    assert document["intact"] is False
    assert trail["verification"]["integre"] is False
    assert trail["verification"]["document_principal_intact"] is False


def test_the_pdf_states_the_history_and_the_verification(invoice):
    pdf = invoice_audit_trail_pdf(invoice=invoice)
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Piste d'audit" in text
    assert invoice.number in text
    assert "Vérification : intègre." in text
    assert invoice.document_sha256[:16] in text.replace("\n", "")
    assert "Rejetée" in text and "DOUBLE_FACTURE" in text


# --- A mise en paiement the recipient does not report stays out of the supplier's trail ------------------


def _paid(*, structure_setting: bool = True):
    """A sent invoice processed up to MISE_EN_PAIEMENT by a recipient that does not report it to suppliers
    (its structure setting, or its service's flag)."""
    draft = InvoiceFactory(with_lines=True)
    supplier_user = issuer_for(draft.supplier)
    recipient = draft.recipient
    if structure_setting:
        recipient.mise_en_paiement_non_remontee = True
        recipient.save(update_fields=["mise_en_paiement_non_remontee"])
    else:
        service = ServiceFactory(structure=recipient, mise_en_paiement=False)
        draft.recipient_service = service
        draft.save(update_fields=["recipient_service"])
    sent = invoice_send(invoice=draft, by=supplier_user)
    buyer = member_of(recipient)
    for transition, extra in (
        ("service_fait", {}),
        ("mandater", {"numero_dp_mandat": "MDT-7"}),
        ("comptabiliser", {}),
    ):
        invoice_process(invoice=sent, by=buyer, structure=recipient, transition=transition, **extra)
    invoice_process(invoice=sent, by=buyer, structure=recipient, transition="mettre_en_paiement")
    sent.refresh_from_db()
    assert sent.status == S.MISE_EN_PAIEMENT
    return sent, supplier_user, buyer


def _mentions_payment(trail: dict) -> bool:
    return "MISE_EN_PAIEMENT" in json.dumps(trail) or "mettre_en_paiement" in json.dumps(trail)


@pytest.mark.parametrize("structure_setting", [True, False], ids=["structure", "service"])
def test_the_supplier_trail_hides_an_unreported_payment(structure_setting):
    invoice, _, _ = _paid(structure_setting=structure_setting)
    full = invoice_audit_trail_json(invoice=invoice)
    assert full["facture"]["statut"] == S.MISE_EN_PAIEMENT
    assert full["statuts"][-1]["vers"] == S.MISE_EN_PAIEMENT
    assert "invoices.invoice.mettre_en_paiement" in [e["action"] for e in full["journal_audit"]]

    trail = invoice_audit_trail_json(invoice=invoice, for_supplier=True)
    assert not _mentions_payment(trail), json.dumps(trail, ensure_ascii=False, indent=1)
    assert (trail["facture"]["statut"], trail["facture"]["statut_libelle"]) == (S.COMPTABILISEE, "Comptabilisée")
    assert [s["vers"] for s in trail["statuts"]] == [
        S.DEPOSEE,
        S.MISE_A_DISPOSITION,
        S.SERVICE_FAIT,
        S.MANDATEE,
        S.COMPTABILISEE,
    ]
    assert len(trail["journal_audit"]) == len(full["journal_audit"]) - 1
    # What stays is still checked, and checks out.
    assert trail["verification"]["integre"] is True
    assert trail["verification"]["entrees_verifiees"] == len(trail["journal_audit"])


def test_a_reported_payment_stays_in_the_supplier_trail():
    invoice, _, _ = _paid()
    recipient = invoice.recipient
    recipient.mise_en_paiement_non_remontee = False
    recipient.save(update_fields=["mise_en_paiement_non_remontee"])
    trail = invoice_audit_trail_json(invoice=invoice, for_supplier=True)
    assert trail["facture"]["statut"] == S.MISE_EN_PAIEMENT
    assert trail["statuts"][-1]["vers"] == S.MISE_EN_PAIEMENT


def test_the_supplier_pdf_hides_an_unreported_payment():
    invoice, _, _ = _paid()
    supplier_text = "".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(invoice_audit_trail_pdf(invoice=invoice, for_supplier=True))).pages
    )
    recipient_text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(invoice_audit_trail_pdf(invoice=invoice))).pages
    )
    assert "Mise en paiement" in recipient_text and "mettre_en_paiement" in recipient_text
    assert "Mise en paiement" not in supplier_text and "mettre_en_paiement" not in supplier_text
    assert "Comptabilisée" in supplier_text and "Vérification : intègre." in supplier_text


@pytest.mark.parametrize("kind", ["piste-json", "piste-pdf"])
def test_the_portal_serves_each_side_its_own_trail(client, kind):
    invoice, supplier_user, buyer = _paid()
    url = reverse("portal:invoice_download", args=[invoice.pk, kind])

    def read(user) -> str:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        if kind == "piste-json":
            return response.content.decode()
        return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)

    seen_by_supplier, seen_by_recipient = read(supplier_user), read(buyer)
    marker = "MISE_EN_PAIEMENT" if kind == "piste-json" else "Mise en paiement"
    assert marker in seen_by_recipient
    assert marker not in seen_by_supplier and "mettre_en_paiement" not in seen_by_supplier
