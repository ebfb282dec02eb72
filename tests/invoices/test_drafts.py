"""Drafts, duplication, templates, pré-contrôle and events."""

import datetime
from decimal import Decimal as D

import pytest

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.core.models import AuditEntry
from choeur.invoices.enums import Cadre, InvoiceEventAction, InvoiceStatus, ModeDepot, TypeDemandePaiement
from choeur.invoices.models import Invoice, InvoiceTemplate
from choeur.invoices.services import (
    invoice_draft_create,
    invoice_draft_delete,
    invoice_draft_update,
    invoice_duplicate,
    invoice_event_record,
    invoice_precheck,
    invoice_send,
    invoice_template_apply,
    invoice_template_delete,
    invoice_template_save,
)
from tests.accounts.factories import UserFactory
from tests.directory.factories import BankAccountFactory, ServiceFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, fr_vat, issuer_for

pytestmark = pytest.mark.django_db

LINES = [
    {
        "designation": "Formation sécurité incendie",
        "quantity": "2",
        "unit": "DAY",
        "unit_price_ht": "650",
        "vat_rate": "20",
    },
    {
        "designation": "Supports imprimés",
        "quantity": "15",
        "unit_price_ht": "4,20",
        "discount_ht": "3",
        "vat_rate": "5,5",
    },
]


@pytest.fixture
def supplier():
    structure = StructureFactory()
    structure.numero_tva = fr_vat(structure.identifier)
    structure.save()
    return structure


@pytest.fixture
def user(supplier):
    return issuer_for(supplier)


@pytest.fixture
def recipient():
    return StructureFactory(public=True)


def test_draft_create_computes_the_lines_and_totals(supplier, user, recipient):
    draft = invoice_draft_create(
        supplier=supplier,
        by=user,
        recipient=recipient,
        recipient_service=recipient.services.get().pk,
        number="FORM-2026-7",
        invoice_date="2026-02-03",
        cadre="A1",
        payment_mode="CHEQUE",
        lines=LINES,
    )
    assert draft.status == InvoiceStatus.BROUILLON
    assert draft.created_by == user
    assert draft.invoice_date == datetime.date(2026, 2, 3)
    assert draft.cadre == Cadre.A1 and draft.type_demande_paiement == TypeDemandePaiement.FACTURE
    assert [(line.position, line.line_net_ht) for line in draft.lines.all()] == [(1, D("1300.00")), (2, D("60.00"))]
    assert (draft.total_ht, draft.total_tva, draft.total_ttc) == (D("1360.00"), D("263.30"), D("1623.30"))
    assert AuditEntry.objects.for_object(draft).filter(action="invoices.invoice.draft_create").exists()
    assert invoice_precheck(invoice=draft) == []


def test_an_incomplete_draft_can_be_saved(supplier, user):
    draft = invoice_draft_create(supplier=supplier, by=user)
    assert draft.number == "" and draft.recipient is None
    assert {f.code for f in invoice_precheck(invoice=draft)} >= {"NUMERO_ABSENT", "DESTINATAIRE_ABSENT"}


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"number": "F" * 21}, "number", "Numéro de facture : Assurez-vous que cette valeur comporte au plus 20"),
        ({"number": "F 2026"}, "number", "Numéro de facture : seuls les lettres sans accent, les chiffres"),
        ({"invoice_date": "03/02/2026"}, "invoice_date", "« 03/02/2026 » n'est pas une date (format AAAA-MM-JJ)"),
        ({"cadre": "A42"}, "cadre", "Cadre de facturation inconnu : « A42 »"),
        ({"payment_mode": "CB"}, "payment_mode", "Mode de paiement :"),
        ({"total_ht": "beaucoup"}, "total_ht", "« beaucoup » n'est pas un nombre"),
        ({"recipient": 999999}, "recipient", "Destinataire : élément introuvable."),
        ({"couleur": "bleu"}, "couleur", "Donnée inconnue pour une facture : couleur."),
    ],
)
def test_bad_data_is_refused_with_a_french_message_naming_the_field(supplier, user, data, field, message):
    with pytest.raises(ApplicationError) as excinfo:
        invoice_draft_create(supplier=supplier, by=user, **data)
    assert excinfo.value.field == field
    assert message in excinfo.value.message
    assert not Invoice.objects.filter(supplier=supplier).exists()


def test_bad_line_names_the_line(supplier, user):
    with pytest.raises(ApplicationError, match="Ligne 2 : Quantité : « deux » n'est pas un nombre") as excinfo:
        invoice_draft_create(supplier=supplier, by=user, lines=[LINES[0], {**LINES[1], "quantity": "deux"}])
    assert excinfo.value.field == "lines.1"
    with pytest.raises(ApplicationError, match="Ligne 1, unité :") as excinfo:
        invoice_draft_create(supplier=supplier, by=user, lines=[{**LINES[0], "unit": "XYZ"}])
    assert excinfo.value.field == "lines.0.unit"


def test_draft_update_replaces_lines_and_refreshes_totals(supplier, user, recipient):
    draft = invoice_draft_create(supplier=supplier, by=user, recipient=recipient, lines=LINES)
    updated = invoice_draft_update(invoice=draft, by=user, data={"number": "F-9", "draft_step": 3}, lines=LINES[:1])
    assert (updated.number, updated.draft_step, updated.total_ttc) == ("F-9", 3, D("1560.00"))
    assert updated.lines.count() == 1


def test_only_drafts_are_updated_or_deleted(user, supplier):
    sent = InvoiceFactory(sent=True, supplier=supplier)
    with pytest.raises(ApplicationError, match="a déjà été envoyée"):
        invoice_draft_update(invoice=sent, by=user, data={"comment": "x"})
    with pytest.raises(ApplicationError, match="a déjà été envoyée"):
        invoice_draft_delete(invoice=sent, by=user)


def test_draft_delete(supplier, user):
    draft = invoice_draft_create(supplier=supplier, by=user, lines=LINES)
    invoice_draft_delete(invoice=draft, by=user)
    assert not Invoice.objects.filter(pk=draft.pk).exists()


def test_only_issuers_create_drafts(supplier):
    with pytest.raises(PermissionDeniedError, match="Factures émises"):
        invoice_draft_create(supplier=supplier, by=UserFactory())


def test_duplicate_copies_routing_and_lines_but_not_identity(supplier, user, recipient):
    original = invoice_send(
        invoice=invoice_draft_create(
            supplier=supplier,
            by=user,
            recipient=recipient,
            number="F-ORIG",
            invoice_date=datetime.date(2026, 1, 10),
            payment_mode="VIREMENT",
            supplier_bank_account=BankAccountFactory(structure=supplier),
            numero_marche="M-1",
            lines=LINES,
        ),
        by=user,
    )
    copy = invoice_duplicate(invoice=original, by=user)
    assert copy.pk != original.pk
    assert copy.status == InvoiceStatus.BROUILLON
    assert (copy.number, copy.invoice_date, copy.main_document, copy.deposited_at) == ("", None, None, None)
    assert (copy.recipient, copy.numero_marche, copy.supplier_bank_account) == (
        recipient,
        "M-1",
        original.supplier_bank_account,
    )
    assert [line.designation for line in copy.lines.all()] == [line["designation"] for line in LINES]
    assert copy.total_ttc == original.total_ttc
    assert copy.mode_depot == ModeDepot.SAISIE_WEB


def test_templates_save_apply_replace_and_delete(supplier, user, recipient):
    service = ServiceFactory(structure=recipient, code="CRECHE")
    draft = invoice_draft_create(
        supplier=supplier, by=user, recipient=recipient, recipient_service=service, number="X-1", lines=LINES
    )
    template = invoice_template_save(invoice=draft, by=user, name="  Formation mensuelle ")
    assert template.name == "Formation mensuelle"
    assert template.data["recipient_service"] == service.pk
    assert template.lines[1]["unit_price_ht"] == "4.200000"
    again = invoice_template_save(invoice=draft, by=user, name="Formation mensuelle")
    assert again.pk == template.pk and InvoiceTemplate.objects.count() == 1

    new = invoice_template_apply(template=template, by=user)
    assert (new.recipient, new.recipient_service, new.number) == (recipient, service, "")
    assert new.total_ttc == draft.total_ttc

    template.data["recipient_service"] = 999_999  # a template outlives the services it names
    template.save()
    newer = invoice_template_apply(template=template, by=user)
    assert newer.recipient_service is None

    invoice_template_delete(template=template, by=user)
    assert not InvoiceTemplate.objects.exists()


def test_template_needs_a_name(supplier, user):
    draft = invoice_draft_create(supplier=supplier, by=user)
    with pytest.raises(ApplicationError, match="Nom du modèle : obligatoire."):
        invoice_template_save(invoice=draft, by=user, name=" ")


def test_recipient_download_is_recorded_once():
    invoice = InvoiceFactory(sent=True)
    event = invoice_event_record(
        invoice=invoice, action=InvoiceEventAction.TELECHARGEMENT_FACTURE, actor_structure=invoice.recipient
    )
    invoice.refresh_from_db()
    assert invoice.downloaded_by_recipient is True
    assert event.actor_label == invoice.recipient.designation
    invoice_event_record(
        invoice=invoice, action=InvoiceEventAction.TELECHARGEMENT_FACTURE, actor_structure=invoice.supplier
    )
    assert invoice.events.count() == 2
    with pytest.raises(ApplicationError, match="Action inconnue"):
        invoice_event_record(invoice=invoice, action="IMPRESSION")
