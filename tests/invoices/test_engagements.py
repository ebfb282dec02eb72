"""Engagements juridiques: manual entry, CSV/XLSX import (idempotent, line-level errors, all or nothing), the
PDF, the CSV export, and what invoices consume of each EJ."""

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.directory.enums import EngagementState, EngagementType, EspaceCode
from choeur.directory.models import EngagementJuridique
from choeur.invoices import engagement_selectors as selectors
from choeur.invoices.engagements import engagement_create, engagement_document_set, engagement_import, export_csv
from choeur.invoices.enums import InvoiceStatus
from tests.directory.factories import EngagementFactory, ServiceFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, member_of

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
HEADER = "numero_engagement;type;siret_fournisseur;code_service;montant_ttc;devise;date_notification;etat\n"


@pytest.fixture
def buyer():
    return StructureFactory(public=True)


@pytest.fixture
def supplier():
    return StructureFactory()


@pytest.fixture
def agent(buyer):
    return member_of(buyer, EspaceCode.FACTURES_RECUES)


def csv_file(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def test_manual_entry_records_an_ej(buyer, supplier, agent):
    service = ServiceFactory(structure=buyer, code="DSI")
    ej = engagement_create(
        by=agent,
        structure=buyer,
        number=" BC-2026-001 ",
        supplier=supplier.identifier,
        service="dsi",
        amount_ttc="12 000,50",
        notified_on="15/09/2026",
        type="Marché",
        pdf=("bon.pdf", PDF),
    )
    assert (ej.number, ej.supplier, ej.service, ej.amount_ttc, ej.type) == (
        "BC-2026-001",
        supplier,
        service,
        Decimal("12000.50"),
        EngagementType.MARCHE,
    )
    assert ej.document.sha256 and ej.document_name == "bon.pdf"


def test_manual_entry_refuses_a_number_the_structure_has(buyer, supplier, agent):
    EngagementFactory(structure=buyer, supplier=supplier, number="BC-1")
    with pytest.raises(ApplicationError, match="a déjà un engagement « bc-1 »"):
        engagement_create(
            by=agent, structure=buyer, number="bc-1", supplier=supplier, amount_ttc=10, notified_on="2026-09-01"
        )


def test_manual_entry_says_every_bad_field(buyer, agent):
    with pytest.raises(ApplicationError) as caught:
        engagement_create(by=agent, structure=buyer, number="", supplier="999", amount_ttc="abc", notified_on="32/13")
    message = caught.value.message
    assert "numéro d'engagement est obligatoire" in message
    assert "aucun fournisseur d'identifiant « 999 »" in message
    assert "le montant TTC « abc » n'est pas un nombre" in message
    assert "« 32/13 » n'est pas une date" in message
    assert not EngagementJuridique.objects.exists()


def test_pdf_must_be_a_pdf(buyer, supplier, agent):
    with pytest.raises(ApplicationError, match="n'est pas un PDF"):
        engagement_create(
            by=agent,
            structure=buyer,
            number="BC-1",
            supplier=supplier,
            amount_ttc=10,
            notified_on="2026-09-01",
            pdf=("bon.txt", b"hello"),
        )
    ej = EngagementFactory(structure=buyer, supplier=supplier)
    with pytest.raises(ApplicationError, match="contenu est"):
        engagement_document_set(by=agent, engagement=ej, name="bon.pdf", content=b"hello")
    assert engagement_document_set(by=agent, engagement=ej, name="bon.pdf", content=PDF).document_id


def test_only_the_buyers_people_with_write_access_record_ejs(buyer, supplier):
    outsider = member_of(StructureFactory(public=True))
    for person in (outsider, member_of(supplier)):
        with pytest.raises(PermissionDeniedError):
            engagement_create(
                by=person, structure=buyer, number="X", supplier=supplier, amount_ttc=1, notified_on="2026-09-01"
            )
    with pytest.raises(PermissionDeniedError, match="n'est pas une structure publique"):
        engagement_import(by=None, structure=supplier, name="ej.csv", content=csv_file())


def test_import_creates_then_same_file_twice_changes_nothing(buyer, supplier, agent):
    ServiceFactory(structure=buyer, code="DSI")
    content = csv_file(
        f"BC-1;Bon de commande;{supplier.identifier};DSI;1 200,00;EUR;01/09/2026;COMMANDE",
        f"BC-2;MARCHE;{supplier.identifier};;3400.5;;2026-09-02;",
    )
    first = engagement_import(by=agent, structure=buyer, name="ej.csv", content=content)
    assert (first.created, first.updated, first.unchanged) == (["BC-1", "BC-2"], [], [])
    again = engagement_import(by=agent, structure=buyer, name="ej.csv", content=content)
    assert (again.created, again.updated, again.unchanged) == ([], [], ["BC-1", "BC-2"])
    assert EngagementJuridique.objects.filter(structure=buyer).count() == 2


def test_import_updates_where_the_number_exists(buyer, supplier, agent):
    EngagementFactory(structure=buyer, supplier=supplier, number="BC-1", amount_ttc=Decimal("100.00"))
    report = engagement_import(
        by=agent,
        structure=buyer,
        name="ej.csv",
        content=csv_file(f"bc-1;;{supplier.identifier};;250,00;EUR;01/09/2026;Clôturé"),
    )
    assert report.updated == ["BC-1"]
    ej = EngagementJuridique.objects.get(structure=buyer)
    assert (ej.amount_ttc, ej.state) == (Decimal("250.00"), EngagementState.CLOTURE)


def test_same_number_at_another_structure_is_another_ej(buyer, supplier, agent):
    other = EngagementFactory(supplier=supplier, number="BC-1")
    engagement_import(
        by=agent,
        structure=buyer,
        name="ej.csv",
        content=csv_file(f"BC-1;;{supplier.identifier};;10;EUR;01/09/2026;"),
    )
    assert EngagementJuridique.objects.filter(number="BC-1").count() == 2
    other.refresh_from_db()
    assert other.amount_ttc == Decimal("12000.00")


def test_bad_lines_refuse_the_whole_file_saying_each_line(buyer, supplier, agent):
    EngagementFactory(structure=buyer, supplier=supplier, number="BC-0", amount_ttc=Decimal("5.00"))
    content = csv_file(
        f"BC-0;;{supplier.identifier};;999;EUR;01/09/2026;",  # a valid update, not applied either
        f"BC-1;;{supplier.identifier};;100;EUR;01/09/2026;",
        f"BC-2;;{supplier.identifier};;12,5x;EUR;01/09/2026;",
        f"BC-3;;{supplier.identifier};INCONNU;10;EUR;2026-13-01;",
        f"bc-1;;{supplier.identifier};;10;EUR;01/09/2026;",
        "BC-5;Devis;00000000000000;;10;EURO;01/09/2026;",
    )
    with pytest.raises(ApplicationError) as caught:
        engagement_import(by=agent, structure=buyer, name="ej.csv", content=content)
    error = caught.value
    assert error.code == "import_lignes_invalides"
    messages = [item["message"] for item in error.extra["errors"]]
    assert "ligne 4 : le montant TTC « 12,5x » n'est pas un nombre" in messages
    assert any(m.startswith("ligne 5 : le service exécutant « INCONNU »") for m in messages)
    assert any(m.startswith("ligne 5 : la date de notification « 2026-13-01 »") for m in messages)
    assert "ligne 6 : le numéro « bc-1 » figure déjà ligne 3" in messages
    assert any(m.startswith("ligne 7 : le type « Devis » est inconnu") for m in messages)
    assert any(m.startswith("ligne 7 : aucun fournisseur") for m in messages)
    assert any(m.startswith("ligne 7 : la devise « EURO »") for m in messages)
    assert "rien n'a été enregistré" in error.message
    assert list(EngagementJuridique.objects.values_list("number", "amount_ttc")) == [("BC-0", Decimal("5.00"))]


def test_a_failure_while_writing_leaves_nothing_half_imported(buyer, supplier, agent, monkeypatch):
    content = csv_file(
        f"BC-1;;{supplier.identifier};;100;EUR;01/09/2026;", f"BC-2;;{supplier.identifier};;100;EUR;01/09/2026;"
    )
    EngagementFactory(structure=buyer, supplier=supplier, number="BC-0", amount_ttc=Decimal("5.00"))
    content += f"BC-0;;{supplier.identifier};;999;EUR;01/09/2026;\n".encode()
    original = EngagementJuridique.objects.bulk_update

    def failing_update(*args, **kwargs):
        raise RuntimeError("disque plein")  # after the new ones were written, in the same transaction

    monkeypatch.setattr(EngagementJuridique.objects, "bulk_update", failing_update)
    with pytest.raises(RuntimeError):
        engagement_import(by=agent, structure=buyer, name="ej.csv", content=content)
    monkeypatch.setattr(EngagementJuridique.objects, "bulk_update", original)
    assert list(EngagementJuridique.objects.values_list("number", "amount_ttc")) == [("BC-0", Decimal("5.00"))]


def test_missing_columns_name_the_expected_header(buyer, agent):
    with pytest.raises(ApplicationError, match=r"colonne\(s\) manquante\(s\) : siret_fournisseur, montant_ttc"):
        engagement_import(
            by=agent, structure=buyer, name="ej.csv", content=b"numero;date_notification\nBC-1;01/09/2026\n"
        )


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("ej.pdf", PDF, "ni un CSV ni un classeur XLSX"),
        ("ej.csv", b"", "est vide"),
        ("ej.xlsx", b"numero;montant\n", "n'est pas un classeur XLSX"),
        ("ej.xlsx", b"PK\x03\x04garbage", "ne s'ouvre pas"),
        ("ej.csv", HEADER.encode(), "n'a que son en-tête"),
    ],
)
def test_unreadable_files_say_what_to_do(buyer, agent, name, content, message):
    with pytest.raises(ApplicationError, match=message):
        engagement_import(by=agent, structure=buyer, name=name, content=content)


def test_xlsx_import_reads_numbers_and_dates_as_typed(buyer, supplier, agent):
    import datetime

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Numéro d'engagement", "SIRET fournisseur", "Montant TTC", "Date de notification", "Objet"])
    sheet.append(["BC-9", int(supplier.identifier), 1500.25, datetime.datetime(2026, 9, 3), "Fournitures"])
    output = io.BytesIO()
    workbook.save(output)
    report = engagement_import(by=agent, structure=buyer, name="EJ.xlsx", content=output.getvalue())
    assert report.created == ["BC-9"]
    ej = EngagementJuridique.objects.get()
    assert (ej.amount_ttc, ej.notified_on, ej.label) == (Decimal("1500.25"), datetime.date(2026, 9, 3), "Fournitures")


def _invoice(ej, status, ttc, **kwargs):
    return InvoiceFactory(
        supplier=ej.supplier,
        recipient=ej.structure,
        numero_engagement=kwargs.pop("number", ej.number),
        status=status,
        total_ttc=Decimal(ttc),
        **kwargs,
    )


def test_consumption_counts_invoiced_validated_and_paid():
    ej = EngagementFactory(number="BC-7", amount_ttc=Decimal("1000.00"))
    _invoice(ej, InvoiceStatus.MISE_A_DISPOSITION, "100.00", number="bc-7")
    _invoice(ej, InvoiceStatus.SERVICE_FAIT, "200.00")
    _invoice(ej, InvoiceStatus.MISE_EN_PAIEMENT, "300.00")
    _invoice(ej, InvoiceStatus.MISE_EN_PAIEMENT, "50.00", avoir=True)
    _invoice(ej, InvoiceStatus.REJETEE, "999.00")
    _invoice(ej, InvoiceStatus.BROUILLON, "999.00")
    InvoiceFactory(recipient=ej.structure, numero_engagement="BC-7", status=InvoiceStatus.MISE_A_DISPOSITION)
    [row] = selectors.engagements_with_consumption([ej])
    assert (row.invoiced, row.validated, row.paid, row.remaining) == (
        Decimal("550.00"),
        Decimal("450.00"),
        Decimal("250.00"),
        Decimal("450.00"),
    )
    assert row.consumption.invoices == 4


def test_overrun_warns_on_what_remains():
    ej = EngagementFactory(amount_ttc=Decimal("1000.00"))
    _invoice(ej, InvoiceStatus.MISE_A_DISPOSITION, "800.00")
    draft = _invoice(ej, InvoiceStatus.BROUILLON, "300.00")
    row, excess = selectors.engagement_overrun(draft)
    assert (row.engagement, excess) == (ej, Decimal("100.00"))
    draft.total_ttc = Decimal("200.00")
    assert selectors.engagement_overrun(draft) is None


def test_export_neutralises_formulas():
    ej = EngagementFactory(number="=HYPERLINK(1)", label="+cmd", amount_ttc=Decimal("10.50"))
    text = "".join(export_csv(selectors.engagements_with_consumption([ej])))
    assert "'=HYPERLINK(1)" in text and "'+cmd" in text and "10,50" in text
    assert text.startswith("\ufeffNuméro d'engagement;")


def test_readers_are_bounded_to_their_structures():
    ej = EngagementFactory()
    buyer_agent = member_of(ej.structure, EspaceCode.FACTURES_RECUES)
    supplier_agent = member_of(ej.supplier, EspaceCode.FACTURES_EMISES)
    stranger = member_of(StructureFactory(public=True))
    assert selectors.engagement_get_for_user(user=buyer_agent, engagement_id=ej.pk) == (ej, "acheteur")
    assert selectors.engagement_get_for_user(user=supplier_agent, engagement_id=ej.pk) == (ej, "fournisseur")
    with pytest.raises(ApplicationError, match="introuvable"):
        selectors.engagement_get_for_user(user=stranger, engagement_id=ej.pk)
    assert list(selectors.engagements_addressed(user=buyer_agent)) == []


def test_an_inactive_supplier_is_refused(buyer, agent):
    gone = StructureFactory(is_active=False)
    with pytest.raises(ApplicationError, match="est inactif"):
        engagement_create(
            by=agent, structure=buyer, number="BC-1", supplier=gone.identifier, amount_ttc=1, notified_on="2026-09-01"
        )
