"""Pièces jointes: 10 Mo per file, 120 Mo in all, 50-character names with an allowed extension, and content
that is what the extension says."""

import pytest

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.invoices import services
from choeur.invoices.enums import InvoiceEventAction, InvoiceStatus
from choeur.invoices.models import Invoice, InvoiceEvent
from choeur.invoices.services import (
    invoice_attachment_add,
    invoice_attachment_remove,
    invoice_main_document_set,
)
from tests.accounts.factories import UserFactory
from tests.invoices.factories import InvoiceFactory, issuer_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
ZIP = b"PK\x03\x04" + b"\x00" * 32


@pytest.fixture
def draft():
    return InvoiceFactory(with_lines=True)


@pytest.fixture
def user(draft):
    return issuer_for(draft.supplier)


def add(draft, user, name, content, **kwargs):
    return invoice_attachment_add(invoice=draft, by=user, name=name, content=content, **kwargs)


@pytest.mark.parametrize(
    "name, content",
    [
        ("bon-de-livraison.pdf", PDF),
        ("PHOTO.PNG", PNG),
        ("releve.xlsx", ZIP),
        ("annexe.txt", "Relevé des interventions\n".encode()),
        ("donnees.xml", b"<?xml version='1.0'?><releve/>"),
        ("ancien.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16),
    ],
)
def test_allowed_files_are_attached_and_stored_by_content(draft, user, name, content):
    attachment = add(draft, user, name, content, line_number=1)
    assert attachment.name == name
    assert attachment.file.read() == content
    assert attachment.line_number == 1
    assert attachment.added_in_status == InvoiceStatus.BROUILLON


def test_name_is_at_most_50_characters_extension_included(draft, user):
    add(draft, user, "a" * 46 + ".pdf", PDF)
    with pytest.raises(ApplicationError, match="compte 51 caractères ; 50 au plus, extension comprise") as excinfo:
        add(draft, user, "b" * 47 + ".pdf", PDF)
    assert excinfo.value.field == "name"


@pytest.mark.parametrize("name", ["facture", ".pdf", "facture."])
def test_name_needs_an_extension(draft, user, name):
    with pytest.raises(ApplicationError, match="n'a pas d'extension"):
        add(draft, user, name, PDF)


@pytest.mark.parametrize("name", ["programme.exe", "script.js", "archive.rar", "page.php"])
def test_extension_must_be_in_chorus_pros_list(draft, user, name):
    with pytest.raises(ApplicationError, match=r"l'extension \.\w+ n'est pas acceptée. Extensions admises : bmp,"):
        add(draft, user, name, PDF)


@pytest.mark.parametrize(
    "name, content, said",
    [
        ("facture.pdf", PNG, "une image PNG"),
        ("photo.jpg", PDF, "un PDF"),
        ("tableau.xlsx", PDF, "un PDF"),
        ("notes.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00", "un fichier binaire"),
    ],
)
def test_content_must_match_the_extension(draft, user, name, content, said):
    with pytest.raises(ApplicationError) as excinfo:
        add(draft, user, name, content)
    assert excinfo.value.code == "piece_jointe_type_incoherent"
    assert f"porte l'extension .{name.rsplit('.', 1)[1]} mais son contenu est {said}" in excinfo.value.message


def test_a_file_is_at_most_10_mo(draft, user):
    content = PDF + b"0" * (10 * 1024 * 1024 + 1 - len(PDF))
    with pytest.raises(ApplicationError, match="pèse 10,0 Mo ; 10 Mo au plus par fichier") as excinfo:
        add(draft, user, "gros.pdf", content)
    assert excinfo.value.code == "piece_jointe_trop_grande"


def test_the_invoice_and_its_files_are_at_most_120_mo(draft, user, monkeypatch):
    # Same rule, smaller numbers: a 1 000-byte budget instead of 120 Mo.
    monkeypatch.setattr(services, "MAX_TOTAL_SIZE", 1000)
    invoice_main_document_set(invoice=draft, by=user, name="facture.pdf", content=PDF + b"0" * 500)
    add(draft, user, "a.txt", b"x" * 300)
    with pytest.raises(ApplicationError, match="pèseraient 0,0 Mo ; 120 Mo au plus") as excinfo:
        add(draft, user, "b.txt", b"y" * 300)
    assert excinfo.value.code == "pieces_jointes_trop_lourdes"
    assert draft.attachments.count() == 1


def test_names_are_unique_on_an_invoice(draft, user):
    add(draft, user, "pv.pdf", PDF)
    with pytest.raises(ApplicationError, match="une pièce jointe s'appelle déjà « PV.pdf »"):
        add(draft, user, "PV.pdf", PDF)


def test_line_number_must_exist(draft, user):
    with pytest.raises(ApplicationError, match="la facture n'a pas de ligne 9"):
        add(draft, user, "pv.pdf", PDF, line_number=9)


def test_empty_file_and_unknown_type(draft, user):
    with pytest.raises(ApplicationError, match="est vide"):
        add(draft, user, "vide.pdf", b"")
    with pytest.raises(ApplicationError, match="Type de pièce jointe : « PHOTO » inconnu"):
        add(draft, user, "pv.pdf", PDF, type_code="PHOTO")


def test_attachments_only_on_drafts_and_suspended_invoices(draft, user):
    Invoice.objects.filter(pk=draft.pk).update(status=InvoiceStatus.MISE_A_DISPOSITION)
    with pytest.raises(ApplicationError, match="on n'en ajoute qu'à un brouillon ou à une facture suspendue"):
        add(draft, user, "pv.pdf", PDF)
    Invoice.objects.filter(pk=draft.pk).update(status=InvoiceStatus.SUSPENDUE)
    attachment = add(draft, user, "pv.pdf", PDF)
    assert attachment.added_in_status == InvoiceStatus.SUSPENDUE
    event = InvoiceEvent.objects.get(invoice=draft)
    assert event.action == InvoiceEventAction.AJOUT_PIECE_JOINTE and event.data["nom"] == "pv.pdf"
    with pytest.raises(ApplicationError, match="a déjà été envoyée"):
        invoice_attachment_remove(attachment=attachment, by=user)


def test_removing_from_a_draft(draft, user):
    attachment = add(draft, user, "pv.pdf", PDF)
    invoice_attachment_remove(attachment=attachment, by=user)
    assert not draft.attachments.exists()


def test_only_issuers_attach(draft):
    with pytest.raises(PermissionDeniedError):
        add(draft, UserFactory(), "pv.pdf", PDF)


def test_main_document_must_be_a_pdf(draft, user):
    with pytest.raises(ApplicationError, match="n'est pas un PDF"):
        invoice_main_document_set(invoice=draft, by=user, name="facture.png", content=PNG)
