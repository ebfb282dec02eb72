"""Structured deposits (flows engine, API soumettre): create and send in one go, same checks."""

import dataclasses
import datetime
import hashlib

import pytest

from choeur.core.errors import ApplicationError
from choeur.core.files import file_store
from choeur.invoices.enums import Channel, InvoiceStatus, ModeDepot
from choeur.invoices.models import Invoice, InvoiceStatusChange
from choeur.invoices.services import InvoiceInput, invoice_create_from_data
from tests.directory.factories import BankAccountFactory, ServiceFactory, StructureFactory
from tests.invoices.factories import DEFAULT_LINES, fr_vat, issuer_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplier():
    structure = StructureFactory()
    structure.numero_tva = fr_vat(structure.identifier)
    structure.save()
    return structure


@pytest.fixture
def recipient():
    structure = StructureFactory(commune=True)
    ServiceFactory(structure=structure, code="SERV-TECH")
    return structure


def data(recipient, **overrides):
    values = {
        "number": "API-2026-001",
        "invoice_date": "2026-02-10",
        "recipient_identifier": recipient.identifier,
        "recipient_service_code": "SERV-TECH",
        "payment_mode": "CHEQUE",
        "numero_engagement": "EJ-0099",
        "lines": [{k: str(v) for k, v in line.items()} for line in DEFAULT_LINES],
    }
    return {**values, **overrides}


def test_structured_data_is_created_and_sent(supplier, recipient):
    invoice = invoice_create_from_data(
        supplier=supplier,
        by=None,
        by_label="TECH_1_fournisseur@cpro.fr",
        data=data(recipient, iban=BankAccountFactory(structure=supplier).iban, payment_mode="VIREMENT"),
        mode_depot=ModeDepot.SAISIE_API,
    )
    assert invoice.status == InvoiceStatus.MISE_A_DISPOSITION
    assert invoice.recipient == recipient
    assert invoice.recipient_service.code == "SERV-TECH"
    assert invoice.supplier_bank_account.structure == supplier
    assert invoice.main_document.mime_type == "application/pdf"  # Chœur generated the Factur-X
    assert invoice.mode_depot == ModeDepot.SAISIE_API
    deposit = InvoiceStatusChange.objects.for_invoice(invoice).first()
    assert (deposit.channel, deposit.actor_user, deposit.actor_structure) == (Channel.API, None, supplier)
    assert invoice.snapshot["certificate"]["deposited_by"] == "TECH_1_fournisseur@cpro.fr"


def test_a_person_depositing_through_the_api_needs_the_right(supplier, recipient):
    user = issuer_for(supplier)
    invoice = invoice_create_from_data(supplier=supplier, by=user, data=data(recipient), mode_depot="SAISIE_API")
    assert invoice.created_by == user


def test_duplicate_number_is_reported_as_doublon(supplier, recipient):
    first = invoice_create_from_data(supplier=supplier, by=None, data=data(recipient), mode_depot="SAISIE_API")
    with pytest.raises(ApplicationError) as excinfo:
        invoice_create_from_data(supplier=supplier, by=None, data=data(recipient), mode_depot="SAISIE_API")
    assert excinfo.value.code == "DOUBLON"
    assert excinfo.value.extra["invoice_id"] == first.pk
    assert excinfo.value.field == "number"
    assert Invoice.objects.filter(supplier=supplier).count() == 1


def test_unknown_parties_are_named_and_nothing_is_left_behind(supplier, recipient):
    with pytest.raises(ApplicationError) as excinfo:
        invoice_create_from_data(
            supplier=supplier,
            by=None,
            data=data(recipient, recipient_identifier="11111111111111", payment_mode=""),
            mode_depot="SAISIE_API",
        )
    findings = excinfo.value.extra["findings"]
    assert excinfo.value.code == "CONTROLES"
    assert [f["code"] for f in findings] == ["RECIPIENT_INCONNU", "MODE_PAIEMENT_ABSENT"]
    assert findings[0]["message"] == (
        "Destinataire : aucune structure n'a l'identifiant SIRET 11111111111111 sur Chœur. "
        "Vérifiez l'identifiant auprès de votre client."
    )
    assert not Invoice.objects.filter(supplier=supplier).exists()


def test_unknown_service_code_and_iban(supplier, recipient):
    with pytest.raises(ApplicationError) as excinfo:
        invoice_create_from_data(
            supplier=supplier,
            by=None,
            data=data(recipient, recipient_service_code="INCONNU", iban="FR7630001007941234567890185"),
            mode_depot="SAISIE_API",
        )
    codes = [f["code"] for f in excinfo.value.extra["findings"]]
    assert codes == ["SERVICE_INCONNU", "RIB_INCONNU"]


def test_declared_totals_are_compared_field_by_field(supplier, recipient):
    with pytest.raises(ApplicationError) as excinfo:
        invoice_create_from_data(
            supplier=supplier,
            by=None,
            data=data(recipient, total_ht="473.30", total_tva="63.20", total_ttc="536.50"),
            mode_depot="SAISIE_API",
        )
    findings = excinfo.value.extra["findings"]
    assert [(f["field"], f["code"]) for f in findings] == [
        ("total_tva", "TOTAL_INCOHERENT"),
        ("total_ttc", "TOTAL_INCOHERENT"),
    ]


def test_flow_deposit_keeps_its_documents_and_flow_number(supplier, recipient):
    pdf = b"%PDF-1.7\n% Factur-X du fournisseur\n%%EOF\n"
    xml = b"<?xml version='1.0'?><rsm:CrossIndustryInvoice xmlns:rsm='urn:x'/>"
    invoice = invoice_create_from_data(
        supplier=supplier,
        by=None,
        data=data(recipient),
        main_document=file_store(content=pdf, mime_type="application/pdf"),
        structured_xml=xml,
        mode_depot="API",  # the flows engine's shortcut
        numero_flux_depot="CHO0012260000000000000042",
    )
    assert invoice.mode_depot == ModeDepot.UPLOAD_API
    assert invoice.numero_flux_depot == "CHO0012260000000000000042"
    assert invoice.document_sha256 == hashlib.sha256(pdf).hexdigest()
    assert invoice.main_document.read() == pdf
    assert invoice.structured_xml.read() == xml


def test_xml_only_deposit_is_fingerprinted_on_the_xml_and_rendered_for_people_after_commit(
    supplier, recipient, django_capture_on_commit_callbacks
):
    xml = b"<?xml version='1.0'?><Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'/>"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invoice = invoice_create_from_data(
            supplier=supplier, by=None, data=data(recipient), structured_xml=xml, mode_depot=ModeDepot.EDI_XML_STRUCT
        )
    assert invoice.document_sha256 == hashlib.sha256(xml).hexdigest()
    assert invoice.structured_xml.read() == xml
    assert InvoiceStatusChange.objects.for_invoice(invoice).first().channel == Channel.EDI
    # The certificate's statements are fixed at deposit, and name the XML as the certified document…
    certified = invoice.snapshot["certificate"]
    assert certified["document_sha256"] == invoice.document_sha256
    assert certified["document_name"] == f"{invoice.number}.xml"
    # … while the PDFs wait for the commit (the flow's hot path renders nothing).
    assert (invoice.main_document_id, invoice.certificate_id) == (None, None)
    for callback in callbacks:
        callback()  # the immediate task backend renders them now
    invoice.refresh_from_db()
    assert invoice.main_document.read().startswith(b"%PDF-")
    assert invoice.certificate.read().startswith(b"%PDF-")
    assert invoice.document_sha256 == hashlib.sha256(xml).hexdigest()  # still the XML's


def test_a_download_before_the_task_renders_the_certificate_once(supplier, recipient):
    from choeur.invoices.rendering import invoice_certificate_file, invoice_render_documents

    invoice = invoice_create_from_data(
        supplier=supplier, by=None, data=data(recipient), structured_xml=b"<Invoice/>", mode_depot="EDI_XML_STRUCT"
    )
    assert invoice.certificate_id is None
    first = invoice_certificate_file(invoice=invoice)
    assert first.read().startswith(b"%PDF-")
    invoice_render_documents.call(invoice.pk)  # the late task finds it done and keeps the first file
    invoice.refresh_from_db()
    assert invoice.certificate_id == first.pk


def test_main_document_must_be_a_pdf(supplier, recipient):
    with pytest.raises(ApplicationError, match="doit être un PDF"):
        invoice_create_from_data(
            supplier=supplier, by=None, data=data(recipient), main_document=b"PK\x03\x04zip", mode_depot="SAISIE_API"
        )


def test_unknown_mode_depot(supplier, recipient):
    with pytest.raises(ApplicationError, match="Mode de dépôt inconnu : « FAX »"):
        invoice_create_from_data(supplier=supplier, by=None, data=data(recipient), mode_depot="FAX")


def test_dataclass_input_and_flow_aliases(supplier, recipient):
    payload = InvoiceInput(
        number="DC-1",
        invoice_date=datetime.date(2026, 2, 1),
        recipient_identifier=recipient.identifier,
        recipient_service_code="SERV-TECH",
        payment_mode="CHEQUE",
        lines=[{"name": "Audit énergétique", "quantity": "1", "unit_net_price": "1500", "vat_rate": "20"}],
        extra={"engagement": "EJ-7", "marche": "MAPA-2026-3"},
    )
    invoice = invoice_create_from_data(supplier=supplier, by=None, data=payload, mode_depot="SAISIE_API")
    assert (invoice.numero_engagement, invoice.numero_marche, invoice.total_ttc) == ("EJ-7", "MAPA-2026-3", 1800)
    assert invoice.lines.get().designation == "Audit énergétique"

    @dataclasses.dataclass
    class Other:
        number: str
        issue_date: str
        buyer_siret: str
        code_service: str
        engagement: str
        payment_mode: str
        lines: list

    other = Other("DC-2", "2026-02-02", recipient.identifier, "SERV-TECH", "EJ-8", "CHEQUE", payload.lines)
    assert invoice_create_from_data(supplier=supplier, by=None, data=other, mode_depot="SAISIE_API").number == "DC-2"


def test_unknown_data_keys_are_refused(supplier, recipient):
    with pytest.raises(ApplicationError, match="Donnée inconnue pour une facture : couleur"):
        invoice_create_from_data(
            supplier=supplier, by=None, data=data(recipient, couleur="bleu"), mode_depot="SAISIE_API"
        )


def test_a_flows_invoices_read_their_recipient_once(supplier, recipient):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from choeur.core.models import AuditEntry
    from choeur.invoices.services import invoice_lookups_memoised

    audit_before = AuditEntry.objects.count()
    with CaptureQueriesContext(connection) as queries, invoice_lookups_memoised():
        for number in ("LOT-1", "LOT-2", "LOT-3"):
            invoice = invoice_create_from_data(
                supplier=supplier, by=None, data=data(recipient, number=number), mode_depot="UPLOAD_API"
            )
            assert invoice.recipient == recipient and invoice.recipient_service.code == "SERV-TECH"
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert sum('FROM "directory_structure"' in sql for sql in reads) == 1
    assert sum('FROM "directory_service"' in sql for sql in reads) == 1
    # Outside the block the directory is read again: a service closed meanwhile is seen.
    recipient.services.filter(code="SERV-TECH").update(is_active=False)
    with pytest.raises(ApplicationError) as excinfo:
        invoice_create_from_data(
            supplier=supplier, by=None, data=data(recipient, number="LOT-4"), mode_depot="UPLOAD_API"
        )
    assert "SERV-TECH" in str(excinfo.value)
    # Each sending still leaves its audit entries, appended at its end (deposit, routing, sending).
    assert AuditEntry.objects.count() == audit_before + 9
