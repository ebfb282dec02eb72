"""Dashboards' searches (search.py): scope, every filter, sort, counts, synthèse, hidden « mise en paiement »,
CSV and XLSX exports."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from choeur.core.errors import ApplicationError
from choeur.directory.enums import EspaceCode
from choeur.invoices import search
from choeur.invoices.enums import Cadre, InvoiceStatus
from choeur.invoices.lifecycle import invoice_process
from choeur.invoices.search import ISSUED, RECEIVED, InvoiceFilters
from choeur.invoices.search_keys import prefix_bounds, upper_like_database
from tests.accounts.factories import UserFactory
from tests.directory.factories import ServiceFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, member_of

pytestmark = pytest.mark.django_db

S = InvoiceStatus


def paris(year, month, day, hour=12):
    return timezone.make_aware(datetime.datetime(year, month, day, hour))


@pytest.fixture
def supplier():
    return StructureFactory(raison_sociale="Menuiserie Lambert")


@pytest.fixture
def buyer():
    return StructureFactory(public=True, raison_sociale="Commune de Belair")


@pytest.fixture
def other_buyer():
    return StructureFactory(public=True, raison_sociale="Hôpital de Valmont")


@pytest.fixture
def seller_user(supplier):
    return member_of(supplier, EspaceCode.FACTURES_EMISES)


@pytest.fixture
def buyer_user(buyer):
    return member_of(buyer, EspaceCode.FACTURES_RECUES)


def sent(supplier, recipient, **kwargs):
    return InvoiceFactory(sent=True, supplier=supplier, recipient=recipient, **kwargs)


def numbers(queryset):
    return sorted(i.number for i in queryset)


def issued(user, **filters):
    return search.invoices_search(user=user, side=ISSUED, filters=InvoiceFilters(**filters))


def received(user, **filters):
    return search.invoices_search(user=user, side=RECEIVED, filters=InvoiceFilters(**filters))


# --- Scope ----------------------------------------------------------------------------------------------


def test_scope_is_the_users_structures_with_the_espace(supplier, buyer, seller_user):
    mine = sent(supplier, buyer, number="MINE-1")
    sent(StructureFactory(), buyer, number="THEIRS-1")
    draft = InvoiceFactory(supplier=supplier, recipient=buyer, number="DRAFT-1")
    assert numbers(issued(seller_user)) == ["DRAFT-1", "MINE-1"]
    assert draft.status == S.BROUILLON and mine.status == S.MISE_A_DISPOSITION
    # Without the espace « Factures émises », nothing: the rattachement alone does not open the dashboard.
    outsider = UserFactory()
    assert search.dashboard_structures(user=outsider, side=ISSUED) == []
    assert not issued(outsider).exists()


def test_received_leaves_out_what_has_not_reached_the_recipient(supplier, buyer, buyer_user):
    sent(supplier, buyer, number="ARRIVED")
    sent(supplier, buyer, number="AT-VALIDEUR", status=S.A_VALIDER_1)
    InvoiceFactory(supplier=supplier, recipient=buyer, number="DRAFT")
    assert numbers(received(buyer_user)) == ["ARRIVED"]


def test_received_needs_the_factures_recues_espace(supplier):
    public = StructureFactory(public=True)
    user = member_of(public, EspaceCode.FACTURES_EMISES)
    sent(supplier, public, number="X-1")
    assert search.dashboard_structures(user=user, side=RECEIVED) == []
    assert not received(user).exists()


# --- Filters --------------------------------------------------------------------------------------------


def test_every_filter_narrows_the_list(supplier, buyer, other_buyer, seller_user):
    service = ServiceFactory(structure=buyer, code="SERV_TECH", libelle="Services techniques")
    a = sent(
        supplier,
        buyer,
        number="FA-2026-001",
        recipient_service=service,
        total_ttc=Decimal("120.00"),
        deposited_at=paris(2026, 3, 2),
        invoice_date=datetime.date(2026, 2, 27),
        numero_flux_depot="CPP-FLUX-0001",
        numero_engagement="EJ-777",
    )
    b = sent(
        supplier,
        other_buyer,
        number="FA-2026-002",
        total_ttc=Decimal("2500.00"),
        deposited_at=paris(2026, 4, 15),
        invoice_date=datetime.date(2026, 4, 14),
        cadre=Cadre.A2,
    )
    c = sent(
        supplier,
        buyer,
        number="AV-2026-003",
        total_ttc=Decimal("900.00"),
        deposited_at=paris(2026, 4, 30, 23),
        invoice_date=datetime.date(2026, 4, 30),
        status=S.SUSPENDUE,
    )
    assert numbers(issued(seller_user)) == sorted([a.number, b.number, c.number])
    assert numbers(issued(seller_user, statuses=(S.SUSPENDUE,))) == [c.number]
    # Deposit dates are Paris days: 30 April at 23:00 is the 30th, not the 1st of May.
    april = {"date_from": datetime.date(2026, 4, 1), "date_to": datetime.date(2026, 4, 30)}
    assert numbers(issued(seller_user, **april)) == sorted([b.number, c.number])
    assert numbers(issued(seller_user, date_field="facture", date_to=datetime.date(2026, 2, 28))) == [a.number]
    assert numbers(issued(seller_user, amount_min=Decimal("500"), amount_max=Decimal("1000"))) == [c.number]
    assert numbers(issued(seller_user, counterpart="valmont")) == [b.number]
    assert numbers(issued(seller_user, counterpart=other_buyer.identifier[:9])) == [b.number]
    assert numbers(issued(seller_user, service="serv_tech")) == [a.number]
    assert numbers(issued(seller_user, service="techniques")) == [a.number]
    assert numbers(issued(seller_user, cadre="A2")) == [b.number]
    assert numbers(issued(seller_user, number="av-2026")) == [c.number]
    assert numbers(issued(seller_user, flow_number="FLUX-0001")) == [a.number]
    assert numbers(issued(seller_user, q="EJ-777")) == [a.number]
    assert numbers(issued(seller_user, q="Belair")) == sorted([a.number, c.number])
    assert numbers(issued(seller_user, structure_id=supplier.pk, number="FA")) == sorted([a.number, b.number])


def test_unknown_cadre_is_a_french_error(seller_user):
    with pytest.raises(ApplicationError) as exc:
        list(issued(seller_user, cadre="Z9"))
    assert exc.value.field == "cadre" and "Cadre de facturation inconnu" in exc.value.message


def test_downloaded_filter_on_the_recipient_side(supplier, buyer, buyer_user):
    sent(supplier, buyer, number="OPENED", downloaded_by_recipient=True)
    sent(supplier, buyer, number="UNOPENED")
    assert numbers(received(buyer_user, downloaded=False)) == ["UNOPENED"]
    assert numbers(received(buyer_user, downloaded=True)) == ["OPENED"]
    assert numbers(received(buyer_user, counterpart="lambert")) == ["OPENED", "UNOPENED"]


# --- Sort -----------------------------------------------------------------------------------------------


def test_sort_keys(supplier, buyer, other_buyer, seller_user):
    sent(supplier, buyer, number="MID", total_ttc=Decimal("50"))
    sent(supplier, other_buyer, number="HIGH", total_ttc=Decimal("500"))
    sent(supplier, buyer, number="LOW", total_ttc=Decimal("5"))
    assert [i.number for i in issued(seller_user, sort="montant")] == ["LOW", "MID", "HIGH"]
    assert [i.number for i in issued(seller_user, sort="-montant")] == ["HIGH", "MID", "LOW"]
    assert [i.number for i in issued(seller_user, sort="contrepartie")][0] == "MID"  # Commune < Hôpital
    assert [i.number for i in issued(seller_user, sort="-contrepartie")][0] == "HIGH"
    # An unknown key falls back to the default order (newest first), never to an error.
    assert [i.number for i in issued(seller_user, sort="; drop table")] == ["LOW", "HIGH", "MID"]


# --- Hidden « mise en paiement », counts and synthèse ----------------------------------------------------


def pay(invoice, user):
    invoice_process(invoice=invoice, by=user, structure=invoice.recipient, transition="comptabiliser")
    return invoice_process(invoice=invoice, by=user, structure=invoice.recipient, transition="mettre_en_paiement")


def test_supplier_does_not_see_a_payment_its_buyer_does_not_report(supplier, buyer, seller_user, buyer_user):
    buyer.mise_en_paiement_non_remontee = True
    buyer.save()
    invoice = pay(sent(supplier, buyer, number="PAID-1"), buyer_user)
    assert invoice.status == S.MISE_EN_PAIEMENT
    row = issued(seller_user).get()
    assert row.shown_status == S.COMPTABILISEE
    assert not issued(seller_user, statuses=(S.MISE_EN_PAIEMENT,)).exists()
    assert numbers(issued(seller_user, statuses=(S.COMPTABILISEE,))) == ["PAID-1"]
    counts = {
        c.status: c.count
        for c in search.status_counts(search.dashboard_queryset(user=seller_user, side=ISSUED), side=ISSUED)
    }
    assert counts == {S.COMPTABILISEE: 1}
    # The buyer sees the truth.
    assert received(buyer_user).get().shown_status == S.MISE_EN_PAIEMENT


def test_service_setting_hides_the_payment_too(supplier, buyer, seller_user, buyer_user):
    silent = ServiceFactory(structure=buyer, mise_en_paiement=False)
    pay(sent(supplier, buyer, number="SILENT", recipient_service=silent), buyer_user)
    pay(sent(supplier, buyer, number="LOUD"), buyer_user)
    shown = {i.number: i.shown_status for i in issued(seller_user)}
    assert shown == {"SILENT": S.COMPTABILISEE, "LOUD": S.MISE_EN_PAIEMENT}
    assert numbers(issued(seller_user, statuses=(S.MISE_EN_PAIEMENT,))) == ["LOUD"]
    assert numbers(issued(seller_user, statuses=(S.COMPTABILISEE, S.MISE_EN_PAIEMENT))) == ["LOUD", "SILENT"]
    counts = search.status_counts(search.dashboard_queryset(user=seller_user, side=ISSUED), side=ISSUED)
    assert {c.status: c.count for c in counts} == {S.COMPTABILISEE: 1, S.MISE_EN_PAIEMENT: 1}


def test_invoice_page_fetches_rows_in_list_order(supplier, buyer, seller_user):
    from django.core.paginator import Paginator

    for amount in (30, 10, 20):
        sent(supplier, buyer, number=f"P-{amount}", total_ttc=Decimal(amount))
    listed = search.invoices_sort(
        search.dashboard_queryset(user=seller_user, side=ISSUED), side=ISSUED, sort="montant"
    )
    page = Paginator(search.InvoicePage(listed, side=ISSUED), 2).get_page(1)
    assert page.paginator.count == 3
    assert [(i.number, i.shown_status, i.recipient.designation) for i in page] == [
        ("P-10", S.MISE_A_DISPOSITION, "Commune de Belair"),
        ("P-20", S.MISE_A_DISPOSITION, "Commune de Belair"),
    ]


def test_status_counts_follow_the_status_list_order(supplier, buyer, seller_user):
    sent(supplier, buyer, status=S.REJETEE)
    sent(supplier, buyer)
    sent(supplier, buyer)
    InvoiceFactory(supplier=supplier, recipient=buyer)
    counts = search.status_counts(search.dashboard_queryset(user=seller_user, side=ISSUED), side=ISSUED)
    assert [(c.status, c.count) for c in counts] == [(S.BROUILLON, 1), (S.MISE_A_DISPOSITION, 2), (S.REJETEE, 1)]
    assert counts[0].label == "Brouillon"


def test_issued_synthesis(supplier, buyer, seller_user):
    InvoiceFactory(supplier=supplier, recipient=buyer, number="D-1")
    InvoiceFactory(supplier=supplier, recipient=buyer, number="D-2")
    sent(supplier, buyer, status=S.A_RECYCLER)
    sent(supplier, buyer, status=S.SUSPENDUE)
    sent(supplier, buyer, status=S.REJETEE)
    sent(supplier, buyer, status=S.REJETEE, rejet_traite=True)
    synthesis = search.issued_synthesis(search.dashboard_queryset(user=seller_user, side=ISSUED), drafts_shown=1)
    assert synthesis.drafts_count == 2 and len(synthesis.drafts) == 1
    assert (synthesis.to_recycle, synthesis.suspended, synthesis.rejected_unacknowledged) == (1, 1, 1)


def test_received_synthesis(supplier, buyer, buyer_user):
    sent(supplier, buyer)
    sent(supplier, buyer, status=S.COMPLETEE, downloaded_by_recipient=True)
    sent(supplier, buyer, status=S.SERVICE_FAIT, downloaded_by_recipient=True)
    synthesis = search.received_synthesis(search.dashboard_queryset(user=buyer_user, side=RECEIVED))
    assert (synthesis.to_process, synthesis.not_downloaded) == (2, 1)


# --- Exports --------------------------------------------------------------------------------------------


def test_csv_export_for_french_spreadsheets(supplier, buyer, seller_user):
    sent(supplier, buyer, number="CSV-1", total_ttc=Decimal("1234.50"), invoice_date=datetime.date(2026, 3, 9))
    text = "".join(search.export_csv(issued(seller_user), side=ISSUED))
    assert text.startswith("\ufeffNuméro;Type;Cadre;")
    header, row = text.lstrip("\ufeff").strip().split("\r\n")
    cells = dict(zip(header.split(";"), row.split(";"), strict=True))
    assert cells["Numéro"] == "CSV-1"
    assert cells["Montant TTC"] == "1234,50"
    assert cells["Date de facture"] == "09/03/2026"
    assert cells["Destinataire"] == "Commune de Belair"
    assert cells["Code statut"] == "MISE_A_DISPOSITION"
    assert cells["Téléchargée par le destinataire"] == ""


def test_xlsx_export_has_typed_cells(supplier, buyer, buyer_user):
    from openpyxl import load_workbook

    sent(supplier, buyer, number="XL-1", total_ttc=Decimal("99.90"), invoice_date=datetime.date(2026, 1, 5))
    sent(supplier, buyer, number="XL-2", total_ttc=Decimal("10.00"))
    content = search.export_xlsx(received(buyer_user, sort="numero"), side=RECEIVED)
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Numéro" and len(rows) == 3
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Numéro"] == "XL-1"
    assert first["Montant TTC"] == pytest.approx(99.90)
    assert first["Date de facture"].date() == datetime.date(2026, 1, 5)
    assert first["Téléchargée par le destinataire"] == "non"


# Within an invoice number's maximum length (PostgreSQL enforces it; SQLite does not).
FORMULAS = ('=HYPERLINK("//x.io")', "+1+2", "-3+4", "@SUM(A1)")


@pytest.mark.parametrize("number", FORMULAS)
def test_csv_export_neutralises_formulas_in_supplier_text(supplier, buyer, buyer_user, number):
    # The invoice number is the supplier's: in the buyer's CSV it must stay text, not run as a formula.
    sent(supplier, buyer, number=number, total_ttc=Decimal("-12.50"))
    text = "".join(search.export_csv(received(buyer_user), side=RECEIVED))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    cells = dict(zip(rows[0], rows[1], strict=True))
    assert cells["Numéro"] == "'" + number
    assert cells["Montant TTC"] == "-12,50"  # amounts stay numbers, negative ones included


@pytest.mark.parametrize("number", FORMULAS)
def test_xlsx_export_stores_supplier_text_as_text(supplier, buyer, buyer_user, number):
    from openpyxl import load_workbook

    sent(supplier, buyer, number=number)
    content = search.export_xlsx(received(buyer_user), side=RECEIVED)
    cell = load_workbook(io.BytesIO(content)).active["A2"]
    assert cell.value == number and cell.data_type == "s"


def test_hidden_payment_date_is_not_exported_to_the_supplier(supplier, buyer, seller_user, buyer_user):
    buyer.mise_en_paiement_non_remontee = True
    buyer.save()
    pay(sent(supplier, buyer, number="HID-1"), buyer_user)
    row = next(search.export_rows(issued(seller_user), side=ISSUED))
    assert row[search.EXPORT_HEADERS.index("Code statut")] == S.COMPTABILISEE
    assert row[search.EXPORT_HEADERS.index("Date du statut")] is None


# --- « Recherche » (free text): identifier prefixes, counterpart names ------------------------------------


def test_free_text_finds_identifiers_by_prefix_whatever_the_case(supplier, buyer, other_buyer, seller_user):
    a = sent(supplier, buyer, number="FA-2026-101", numero_engagement="EJ0421", numero_marche="M-0042")
    b = sent(supplier, other_buyer, number="FA-2026-102", numero_flux_depot="CPP-FLUX-0000042")
    c = sent(supplier, buyer, number="AV-2026-103", numero_engagement="EJ04211")
    assert numbers(issued(seller_user, q="fa-2026-1")) == sorted([a.number, b.number])
    assert numbers(issued(seller_user, q="ej0421")) == sorted([a.number, c.number])
    assert numbers(issued(seller_user, q="EJ04211")) == [c.number]
    assert numbers(issued(seller_user, q="m-00")) == [a.number]
    assert numbers(issued(seller_user, q="cpp-flux-00000")) == [b.number]
    # Prefixes, not substrings: the middle of a number is a job for the « Numéro de facture » filter.
    assert numbers(issued(seller_user, q="2026-101")) == []
    assert numbers(issued(seller_user, number="2026-101")) == [a.number]
    # The range is exact: the next character up is not a match, nor is a longer prefix.
    assert numbers(issued(seller_user, q="FA-2026-10")) == sorted([a.number, b.number])
    assert numbers(issued(seller_user, q="FA-2026-11")) == []
    assert numbers(issued(seller_user, q="FA-2026-1010")) == []


def test_free_text_finds_counterparts_by_name_or_siret(supplier, buyer, other_buyer, seller_user, buyer_user):
    a = sent(supplier, buyer, number="FA-1")
    b = sent(supplier, other_buyer, number="FA-2")
    assert numbers(issued(seller_user, q="belair")) == [a.number]
    assert numbers(issued(seller_user, q="de Valmont")) == [b.number]
    assert numbers(issued(seller_user, q=other_buyer.identifier[:9])) == [b.number]
    # On the recipient's side the counterpart is the supplier; its own name finds nothing more.
    assert numbers(received(buyer_user, q="lambert")) == [a.number]
    assert numbers(received(buyer_user, q="belair")) == []
    # Counterpart or identifier: either matches.
    assert numbers(issued(seller_user, q="FA-2")) == [b.number]
    assert numbers(received(buyer_user, q="fa-")) == [a.number]


def test_free_text_stays_within_the_users_scope(supplier, buyer, seller_user):
    other_supplier = StructureFactory(raison_sociale="Plomberie Martin")
    sent(other_supplier, buyer, number="FA-9", numero_engagement="EJ-SHARED")
    mine = sent(supplier, buyer, number="FA-8", numero_engagement="EJ-SHARED")
    assert numbers(issued(seller_user, q="ej-shared")) == [mine.number]
    assert numbers(issued(seller_user, q="plomberie")) == []


def test_many_matching_counterparts_are_joined_rather_than_listed(supplier, seller_user, monkeypatch):
    monkeypatch.setattr(search, "COUNTERPART_IDS_MAX", 1)
    first = StructureFactory(public=True, raison_sociale="Commune de Saint-Jean")
    second = StructureFactory(public=True, raison_sociale="Commune de Saint-Just")
    a, b = sent(supplier, first, number="FA-1"), sent(supplier, second, number="FA-2")
    assert numbers(issued(seller_user, q="saint-j")) == sorted([a.number, b.number])


@pytest.mark.parametrize(
    ("prefix", "bounds"),
    [
        ("EJ0421", ("EJ0421", "EJ0422")),
        ("FA-", ("FA-", "FA.")),
        ("Z", ("Z", "[")),
        ("\U0010ffff", ("\U0010ffff", None)),
    ],
)
def test_prefix_bounds(prefix, bounds):
    assert prefix_bounds(prefix) == bounds


def test_upper_like_database():
    assert upper_like_database("ej-é", "sqlite") == "EJ-é"  # SQLite's UPPER() folds ASCII only
    assert upper_like_database("ej-é", "postgresql") == "EJ-É"
