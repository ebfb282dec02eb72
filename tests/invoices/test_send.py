"""« Valider et envoyer »: checks, documents, fingerprint, deposit timestamp, certificate, routing."""

import datetime
import hashlib
import io
from decimal import Decimal as D

import pytest
import time_machine
from pypdf import PdfReader

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.core.models import AuditEntry
from choeur.directory.enums import EspaceCode, Habilitation, SubscriptionStatus
from choeur.directory.models import EspaceSubscription
from choeur.invoices import facturx
from choeur.invoices.enums import ActorRole, Channel, InvoiceStatus, ModeDepot
from choeur.invoices.models import Invoice, InvoiceStatusChange, InvoiceVatLine
from choeur.invoices.services import invoice_draft_create, invoice_main_document_set, invoice_send
from tests.directory.factories import RattachementFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, issuer_for, open_espace

pytestmark = pytest.mark.django_db

PARIS_WINTER = datetime.datetime(2026, 3, 2, 9, 30, 15, tzinfo=datetime.UTC)  # 10:30:15 in Paris (UTC+01:00)


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def draft():
    return InvoiceFactory(with_lines=True, number="F2026-0042")


@pytest.fixture
def user(draft):
    return issuer_for(draft.supplier)


def test_send_deposits_fingerprints_certifies_and_makes_available(draft, user):
    with time_machine.travel(PARIS_WINTER, tick=False):
        draft.invoice_date = datetime.date(2026, 3, 1)
        draft.save()
        sent = invoice_send(invoice=draft, by=user)

    sent.refresh_from_db()
    assert sent.status == InvoiceStatus.MISE_A_DISPOSITION
    assert sent.deposited_at == PARIS_WINTER
    # Amounts and VAT breakdown stored at sending (20 % and 5.5 %).
    assert (sent.total_ht, sent.total_tva, sent.total_ttc, sent.montant_a_payer) == (
        D("473.30"),
        D("63.22"),
        D("536.52"),
        D("536.52"),
    )
    assert [(v.rate, v.base_ht, v.vat_amount) for v in sent.vat_lines.all()] == [
        (D("20.00"), D("256.50"), D("51.30")),
        (D("5.50"), D("216.80"), D("11.92")),
    ]
    # The generated Factur-X is the document; its SHA-256 is the fingerprint.
    document = sent.main_document.read()
    assert document.startswith(b"%PDF-")
    assert sent.document_sha256 == hashlib.sha256(document).hexdigest()
    assert sent.main_document_name == "F2026-0042.pdf"
    assert sent.structured_xml.mime_type == "application/xml"
    assert sent.snapshot["recipient"]["identifier"] == sent.recipient.identifier
    assert sent.snapshot["due_date"] == "2026-04-01"

    history = list(InvoiceStatusChange.objects.for_invoice(sent))
    assert [(h.from_status, h.to_status, h.transition, h.actor_role, h.channel) for h in history] == [
        ("BROUILLON", "DEPOSEE", "deposer", ActorRole.FOURNISSEUR, Channel.PORTAIL),
        ("DEPOSEE", "MISE_A_DISPOSITION", "mettre_a_disposition", ActorRole.SYSTEME, Channel.SYSTEME),
    ]
    assert history[0].actor_user == user
    assert history[0].actor_structure == sent.supplier

    # The certificate: deposit time with its time zone, fingerprint, parties, number, amounts, id.
    assert sent.certificate_number == f"CD-20260302-{sent.pk:010d}"
    text = pdf_text(sent.certificate.read())
    compact = "".join(text.split())
    assert "Certificat de dépôt" in text
    assert sent.certificate_number in text
    assert "2026-03-02T10:30:15+01:00" in compact
    assert "02/03/2026 à 10:30:15 (heure de Paris, UTC+01:00)" in text
    assert sent.document_sha256 in compact
    assert "F2026-0042" in text
    assert sent.supplier.raison_sociale in text and sent.supplier.identifier in text
    assert sent.recipient.raison_sociale in text
    assert "536,52" in text and "473,30" in text
    assert user.email in text
    assert sent.snapshot["certificate"]["deposited_at"] == "2026-03-02T10:30:15+01:00"

    sent_entry = AuditEntry.objects.for_object(sent).get(action="invoices.invoice.send")
    assert sent_entry.data["empreinte"] == sent.document_sha256
    assert sent_entry.actor_user == user


def test_summer_deposit_states_the_summer_offset(draft, user):
    Invoice.objects.filter(pk=draft.pk).update(invoice_date=datetime.date(2026, 7, 14))
    with time_machine.travel(datetime.datetime(2026, 7, 14, 22, 5, tzinfo=datetime.UTC), tick=False):
        sent = invoice_send(invoice=draft, by=user)
    assert sent.certificate_number.startswith("CD-20260715-")  # already the 15th in Paris
    assert "2026-07-15T00:05:00+02:00" in "".join(pdf_text(sent.certificate.read()).split())


def test_subcontractor_invoice_goes_to_its_valideur():
    draft = InvoiceFactory(with_lines=True, a9=True)
    sent = invoice_send(invoice=draft, by=issuer_for(draft.supplier))
    assert sent.status == InvoiceStatus.A_VALIDER_1
    assert list(InvoiceStatusChange.objects.for_invoice(sent).values_list("to_status", flat=True)) == [
        "DEPOSEE",
        "A_VALIDER_1",
    ]
    assert Invoice.objects.received_by([sent.recipient]).count() == 0
    assert Invoice.objects.to_validate_by([sent.valideur]).get() == sent


def _assert_untouched(draft):
    after = Invoice.objects.get(pk=draft.pk)
    assert after.status == InvoiceStatus.BROUILLON
    assert after.deposited_at is None
    assert after.main_document_id is None and after.structured_xml_id is None and after.certificate_id is None
    assert after.document_sha256 == "" and after.certificate_number == ""
    assert after.snapshot == {}
    assert (after.number, after.total_ttc) == (draft.number, draft.total_ttc)
    assert after.lines.count() == 2
    assert not InvoiceVatLine.objects.filter(invoice=draft).exists()
    assert not InvoiceStatusChange.objects.filter(invoice=draft).exists()
    assert not AuditEntry.objects.for_object(draft).filter(action="invoices.invoice.send").exists()


def test_a_generation_failure_sends_nothing_and_leaves_the_draft_intact(draft, user, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("police introuvable")

    monkeypatch.setattr(facturx, "render_html_pdf", broken)
    with pytest.raises(ApplicationError) as excinfo:
        invoice_send(invoice=draft, by=user)
    assert excinfo.value.code == "GENERATION_ECHEC"
    assert "la facture n'a pas été envoyée et reste en brouillon, inchangée" in excinfo.value.message
    _assert_untouched(draft)


def test_a_certificate_failure_sends_nothing_either(draft, user, monkeypatch):
    from choeur.invoices import services

    def broken(data):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(services, "render_certificate", broken)
    with pytest.raises(ApplicationError, match="certificat de dépôt a échoué") as excinfo:
        invoice_send(invoice=draft, by=user)
    assert excinfo.value.code == "GENERATION_ECHEC"
    _assert_untouched(draft)


def test_findings_stop_the_sending_and_come_all_at_once(draft, user):
    Invoice.objects.filter(pk=draft.pk).update(number="", recipient=None)
    with pytest.raises(ApplicationError) as excinfo:
        invoice_send(invoice=draft, by=user)
    error = excinfo.value
    assert error.code == "CONTROLES"
    assert error.message == "La facture ne peut pas être envoyée : 2 points sont à corriger avant l'envoi."
    assert [f["code"] for f in error.extra["findings"]] == ["NUMERO_ABSENT", "DESTINATAIRE_ABSENT"]
    assert error.field == "number"
    assert Invoice.objects.get(pk=draft.pk).status == InvoiceStatus.BROUILLON


def test_a_number_cannot_be_sent_twice(draft, user):
    invoice_send(invoice=draft, by=user)
    twin = InvoiceFactory(with_lines=True, supplier=draft.supplier, recipient=draft.recipient, number=draft.number)
    with pytest.raises(ApplicationError) as excinfo:
        invoice_send(invoice=twin, by=user)
    assert [f["code"] for f in excinfo.value.extra["findings"]] == ["NUMERO_DEJA_UTILISE"]
    assert Invoice.objects.get(pk=twin.pk).status == InvoiceStatus.BROUILLON


def test_a_sent_invoice_is_not_sent_again(draft, user):
    invoice_send(invoice=draft, by=user)
    with pytest.raises(ApplicationError, match="a déjà été envoyée"):
        invoice_send(invoice=draft, by=user)


def test_only_people_allowed_to_issue_can_send(draft):
    stranger = RattachementFactory().user
    with pytest.raises(PermissionDeniedError, match="Vous n'avez pas le droit d'émettre des factures"):
        invoice_send(invoice=draft, by=stranger)
    open_espace(draft.supplier, EspaceCode.FACTURES_EMISES)
    reader = RattachementFactory(structure=draft.supplier)
    EspaceSubscription.objects.create(
        rattachement=reader,
        espace=draft.supplier.espaces.get(code=EspaceCode.FACTURES_EMISES),
        habilitation=Habilitation.CONSULTATION_UNIQUEMENT,
        status=SubscriptionStatus.VALIDEE,
    )
    with pytest.raises(PermissionDeniedError):
        invoice_send(invoice=draft, by=reader.user)
    assert Invoice.objects.get(pk=draft.pk).status == InvoiceStatus.BROUILLON


def test_a_deposited_pdf_is_sent_as_is_with_its_own_fingerprint():
    supplier = StructureFactory(numero_tva="")
    user = issuer_for(supplier)
    recipient = StructureFactory(public=True)
    draft = invoice_draft_create(
        supplier=supplier,
        by=user,
        recipient=recipient,
        number="PDF-001",
        invoice_date=datetime.date(2026, 1, 15),
        payment_mode="CHEQUE",
        total_ht="100",
        total_tva="20",
        total_ttc="120",
        montant_a_payer="120",
        vat_lines=[{"rate": "20", "base_ht": "100", "vat_amount": "20"}],
    )
    content = b"%PDF-1.4\n% facture du fournisseur\n%%EOF\n"
    draft = invoice_main_document_set(invoice=draft, by=user, name="facture-001.pdf", content=content)
    assert draft.mode_depot == ModeDepot.DEPOT_PDF_PORTAIL
    sent = invoice_send(invoice=draft, by=user)
    assert sent.status == InvoiceStatus.MISE_A_DISPOSITION
    assert sent.document_sha256 == hashlib.sha256(content).hexdigest()
    assert sent.main_document.read() == content  # nothing generated, nothing changed
    assert sent.structured_xml is None
    assert sent.main_document_name == "facture-001.pdf"
    assert hashlib.sha256(content).hexdigest() in "".join(pdf_text(sent.certificate.read()).split())


def test_a_pdf_deposit_without_vat_gets_a_zero_vat_line():
    supplier = StructureFactory()
    user = issuer_for(supplier)
    draft = invoice_draft_create(
        supplier=supplier,
        by=user,
        recipient=StructureFactory(public=True),
        number="PDF-002",
        invoice_date=datetime.date(2026, 1, 15),
        payment_mode="CHEQUE",
        type_tva="EXONERATION",
        motif_exoneration="TVA non applicable, art. 293 B du CGI",
        total_ht="80",
        total_tva="0",
        total_ttc="80",
        montant_a_payer="80",
    )
    invoice_main_document_set(invoice=draft, by=user, name="f.pdf", content=b"%PDF-1.4\n%%EOF\n")
    sent = invoice_send(invoice=draft, by=user)
    assert [(v.rate, v.category, v.base_ht) for v in sent.vat_lines.all()] == [(D("0.00"), "E", D("80.00"))]
