"""Routing and semantic data read from UBL and CII invoices (used to create invoices from flows)."""

import datetime
from decimal import Decimal

import pytest
from lxml import etree

from choeur.flows.validation import extract_invoice_data, validate_bytes
from tests.flows.conftest import fixture_bytes

UBL = fixture_bytes("ubl_facture_b2g.xml")
CII = fixture_bytes("cii_facture_b2g.xml")


def _data(xml: bytes, syntax: str):
    return extract_invoice_data(etree.fromstring(xml), syntax)


@pytest.mark.parametrize(("xml", "syntax", "number"), [(UBL, "UBL", "FA-2026-0042"), (CII, "CII", "FA-2026-0043")])
def test_routing_data_of_both_syntaxes(xml, syntax, number):
    data = _data(xml, syntax)
    assert data.syntax == syntax
    assert data.number == number
    assert (data.type_code, data.invoice_type) == ("380", "FACTURE")
    assert data.issue_date == datetime.date(2026, 9, 15)
    assert data.due_date == datetime.date(2026, 10, 15)
    assert data.currency == "EUR"
    assert data.specification_id == "urn:cen.eu:en16931:2017"
    assert data.business_process == "S1"
    assert data.supplier_siret == "50123456100014"
    assert data.supplier.siren == "501234561"
    assert data.supplier.name == "Atelier Durand SARL"
    assert data.supplier.vat_number == "FR92501234561"
    assert data.supplier.country == "FR"
    assert data.buyer_siret == "13000123300019"
    assert data.buyer.name == "Direction régionale de l'équipement"
    assert data.code_service == "SERV-TECH-01"
    assert data.engagement == "EJ-2026-000123"
    assert data.marche == "MARCHE-2025-17"
    assert data.preceding_invoices == []
    assert data.payment_means_code == "30"
    assert data.iban == "FR7630006000011234567890189"
    assert data.payment_terms == "Paiement à 30 jours par virement."
    assert [
        (line.id, line.name, line.quantity, line.unit_code, line.unit_net_price, line.net_amount)
        for line in data.lines
    ] == [
        ("1", "Chaise de bureau", Decimal("10"), "C62", Decimal("50.00"), Decimal("500.00")),
        ("2", "Montage et installation", Decimal("5"), "HUR", Decimal("100.00"), Decimal("500.00")),
    ]
    assert {(line.vat_category, line.vat_rate) for line in data.lines} == {("S", Decimal("20"))}
    [vat] = data.vat_breakdown
    assert (vat.category, vat.rate, vat.taxable_amount, vat.tax_amount) == (
        "S",
        Decimal("20"),
        Decimal("1000.00"),
        Decimal("200.00"),
    )
    totals = data.totals
    assert (totals.line_net, totals.without_vat, totals.vat, totals.with_vat, totals.prepaid, totals.due) == (
        Decimal("1000.00"),
        Decimal("1000.00"),
        Decimal("200.00"),
        Decimal("1200.00"),
        None,
        Decimal("1200.00"),
    )
    assert [note.subject_code for note in data.notes] == ["PMT", "PMD", "AAB"]
    assert data.notes[0].content.startswith("Indemnité forfaitaire")
    assert all(isinstance(v, Decimal) for v in (totals.line_net, totals.due, data.lines[0].quantity))


def test_credit_note_is_an_avoir_with_its_preceding_invoice():
    [report] = validate_bytes(fixture_bytes("ubl_avoir_b2g.xml"), rules="fr", fr_blocking=True)
    assert report.valid, report.findings
    assert report.document_type == "CreditNote"
    data = report.invoice
    assert (data.number, data.type_code, data.invoice_type) == ("AV-2026-0007", "381", "AVOIR")
    assert data.preceding_invoices == ["FA-2026-0042"]
    assert data.due_date == datetime.date(2026, 10, 15)
    assert [line.quantity for line in data.lines] == [Decimal("10"), Decimal("5")]


def test_cii_credit_note_type_code():
    data = _data(CII.replace(b"<ram:TypeCode>380</ram:TypeCode>", b"<ram:TypeCode>381</ram:TypeCode>"), "CII")
    assert data.invoice_type == "AVOIR"


def test_siret_falls_back_to_the_legal_registration_identifier():
    # No BT-29 with scheme 0009 and no SIRET electronic address: BT-30 (scheme 0009) gives the SIRET.
    xml = (
        UBL.replace(b'<cbc:ID schemeID="0009">50123456100014</cbc:ID>', b"<cbc:ID>FOURNISSEUR-17</cbc:ID>")
        .replace(b'<cbc:EndpointID schemeID="0009">50123456100014</cbc:EndpointID>', b"")
        .replace(
            b'<cbc:CompanyID schemeID="0002">501234561</cbc:CompanyID>',
            b'<cbc:CompanyID schemeID="0009">50123456100014</cbc:CompanyID>',
        )
    )
    data = _data(xml, "UBL")
    assert data.supplier.identifiers == [(None, "FOURNISSEUR-17")]
    assert data.supplier_siret == "50123456100014"
    assert data.supplier.siren == "501234561"


def test_siret_falls_back_to_the_electronic_address():
    xml = CII.replace(b'<ram:GlobalID schemeID="0009">13000123300019</ram:GlobalID>', b"")
    assert _data(xml, "CII").buyer_siret == "13000123300019"


def test_missing_and_malformed_values_give_none():
    xml = UBL.replace(b"<cbc:IssueDate>2026-09-15</cbc:IssueDate>", b"<cbc:IssueDate>demain</cbc:IssueDate>").replace(
        b'<cbc:PayableAmount currencyID="EUR">1200.00</cbc:PayableAmount>',
        b'<cbc:PayableAmount currencyID="EUR">douze</cbc:PayableAmount>',
    )
    data = _data(xml, "UBL")
    assert data.issue_date is None
    assert data.totals.due is None
    assert (
        _data(
            b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>',
            "CII",
        ).number
        is None
    )


def test_unknown_syntax_is_refused():
    with pytest.raises(ValueError, match="Syntaxe inconnue"):
        extract_invoice_data(etree.fromstring(UBL), "EDIFACT")
