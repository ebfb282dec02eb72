"""A sent invoice is a legal document: its content never changes and it is never deleted."""

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from choeur.core.files import file_store
from choeur.invoices.enums import Channel, InvoiceStatus
from choeur.invoices.models import (
    ImmutableInvoiceError,
    Invoice,
    InvoiceAttachment,
    InvoiceLine,
    InvoiceStatusChange,
    InvoiceVatLine,
)
from tests.directory.factories import ServiceFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    return InvoiceFactory(sent=True, with_lines=True)


@pytest.mark.parametrize(
    "field, value",
    [
        ("number", "AUTRE-1"),
        ("total_ttc", D("1.00")),
        ("numero_engagement", "EJ-2"),
        ("comment", "ajout"),
        ("document_sha256", "0" * 64),
        ("payment_mode", "CHEQUE"),
    ],
)
def test_content_of_a_sent_invoice_cannot_change(sent, field, value):
    setattr(sent, field, value)
    with pytest.raises(ImmutableInvoiceError, match="Une facture envoyée ne se modifie pas") as excinfo:
        sent.save()
    assert excinfo.value.field == field
    sent.refresh_from_db()
    assert getattr(sent, field) != value


def test_changing_a_frozen_field_through_update_fields_is_refused_too(sent):
    sent.recipient = StructureFactory(public=True)
    with pytest.raises(ImmutableInvoiceError, match="destinataire"):
        sent.save(update_fields=["recipient"])


def test_lifecycle_fields_of_a_sent_invoice_can_change(sent):
    sent.status = InvoiceStatus.MANDATEE
    sent.numero_dp_mandat = "M-42"
    sent.downloaded_by_recipient = True
    sent.rejet_traite = True
    sent.save()
    sent.refresh_from_db()
    assert (sent.status, sent.numero_dp_mandat, sent.downloaded_by_recipient) == ("MANDATEE", "M-42", True)


def test_recycling_reopens_the_routing_fields_only(sent):
    Invoice.objects.filter(pk=sent.pk).update(status=InvoiceStatus.A_RECYCLER)
    sent.refresh_from_db()
    sent.recipient_service = ServiceFactory(structure=sent.recipient)
    sent.numero_engagement = "EJ-NOUVEAU"
    sent.save()
    sent.number = "AUTRE"
    with pytest.raises(ImmutableInvoiceError):
        sent.save()


def test_valideur_correction_reopens_the_valideur_fields_only():
    invoice = InvoiceFactory(sent=True, a9=True, status=InvoiceStatus.ERREUR_FOURNISSEUR_SUR_VALIDEUR)
    invoice.valideur = StructureFactory()
    invoice.save()
    invoice.recipient = StructureFactory(public=True)
    with pytest.raises(ImmutableInvoiceError):
        invoice.save()


def test_a_draft_changes_freely():
    draft = InvoiceFactory(with_lines=True)
    draft.number = "NOUVEAU-1"
    draft.total_ttc = D("1")
    draft.save()
    draft.refresh_from_db()
    assert draft.number == "NOUVEAU-1"


def test_a_sent_invoice_cannot_be_deleted(sent):
    with pytest.raises(ImmutableInvoiceError, match="ne se supprime pas"):
        sent.delete()
    assert Invoice.objects.filter(pk=sent.pk).exists()


def test_a_draft_can_be_deleted():
    draft = InvoiceFactory(with_lines=True)
    draft.delete()
    assert not Invoice.objects.filter(pk=draft.pk).exists()


def test_lines_vat_lines_and_attachments_of_a_sent_invoice_are_frozen(sent):
    line = sent.lines.first()
    line.designation = "Autre chose"
    with pytest.raises(ImmutableInvoiceError):
        line.save()
    with pytest.raises(ImmutableInvoiceError):
        line.delete()
    with pytest.raises(ImmutableInvoiceError):
        InvoiceLine.objects.create(invoice=sent, position=99, designation="Ajout", unit_price_ht=D("1"))
    with pytest.raises(ImmutableInvoiceError):
        sent.vat_lines.first().delete()
    with pytest.raises(ImmutableInvoiceError):
        InvoiceVatLine.objects.create(invoice=sent, rate=D("10"), base_ht=D("1"), vat_amount=D("0.1"))
    attachment = InvoiceAttachment.objects.create(
        invoice=sent, file=file_store(content=b"justificatif"), name="pj.txt", added_in_status=sent.status
    )
    attachment.name = "autre.txt"
    with pytest.raises(ImmutableInvoiceError):
        attachment.save()
    with pytest.raises(ImmutableInvoiceError):
        attachment.delete()


def test_number_is_unique_per_supplier_among_sent_invoices(sent):
    InvoiceFactory(supplier=sent.supplier, number=sent.number)  # a draft may reuse it until sent
    InvoiceFactory(sent=True, number=sent.number)  # another supplier may use it
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceFactory(sent=True, supplier=sent.supplier, number=sent.number)


def test_status_history_is_append_only(sent):
    change = InvoiceStatusChange.objects.create(
        invoice=sent, from_status="DEPOSEE", to_status="MISE_A_DISPOSITION", transition="x", channel=Channel.SYSTEME
    )
    change.comment = "réécrit"
    with pytest.raises(RuntimeError, match="ajout seul"):
        change.save()
    with pytest.raises(RuntimeError, match="ajout seul"):
        change.delete()
