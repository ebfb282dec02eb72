"""The official EN 16931 examples (../shared/corpus/en16931/{cii,ubl}/examples), given a platform supplier's
and buyer's routing data as an integrator would: seller and buyer SIRET (ISO 6523 scheme 0009), the buyer's
service code as BT-10, and a cheque (UNTDID 4461 code 20) as payment means where the example has one. The
rest of the document — lines, allowances, charges, prepaid and rounding amounts, VAT — is left as it is.

`official_verdict` runs the CEN artefacts (../shared/artefacts/en16931-1.3.16) so that a test can show the
substituted file is still valid by the norm before it asks the platform to accept it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from tests.conftest import CORPUS_DIR, SHARED_DIR

EXAMPLES_DIR = CORPUS_DIR / "en16931"
ARTEFACTS_DIR = SHARED_DIR / "artefacts" / "en16931-1.3.16"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS = {"cac": CAC, "cbc": CBC, "ram": RAM, "rsm": RSM}
CHEQUE = "20"

# Elements that follow cbc:BuyerReference in a UBL Invoice/CreditNote (UBL 2.1 XSD order).
_UBL_AFTER_BUYER_REFERENCE = (
    "InvoicePeriod", "OrderReference", "BillingReference", "DespatchDocumentReference", "ReceiptDocumentReference",
    "StatementDocumentReference", "OriginatorDocumentReference", "ContractDocumentReference",
    "AdditionalDocumentReference", "ProjectReference", "Signature", "AccountingSupplierParty",
)  # fmt: skip
# Elements that follow cac:PartyIdentification in a UBL Party.
_UBL_AFTER_PARTY_IDENTIFICATION = (
    "PartyName", "Language", "PostalAddress", "PhysicalLocation", "PartyTaxScheme", "PartyLegalEntity", "Contact",
)  # fmt: skip


def example_paths(syntax: str) -> list[Path]:
    folder = EXAMPLES_DIR / syntax.lower() / "examples"
    if not folder.exists():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xml")


def _insert_before(parent: etree._Element, element: etree._Element, following_localnames) -> None:
    for index, child in enumerate(parent):
        if isinstance(child.tag, str) and etree.QName(child).localname in following_localnames:
            parent.insert(index, element)
            return
    parent.append(element)


def _ubl_party_siret(party: etree._Element, siret: str) -> None:
    for old in party.findall("cac:PartyIdentification", NS):
        party.remove(old)
    identification = etree.Element(f"{{{CAC}}}PartyIdentification")
    etree.SubElement(identification, f"{{{CBC}}}ID", schemeID="0009").text = siret
    _insert_before(party, identification, _UBL_AFTER_PARTY_IDENTIFICATION)


def _ubl(root: etree._Element, *, supplier_siret: str, buyer_siret: str, service_code: str) -> None:
    _ubl_party_siret(root.find("cac:AccountingSupplierParty/cac:Party", NS), supplier_siret)
    _ubl_party_siret(root.find("cac:AccountingCustomerParty/cac:Party", NS), buyer_siret)
    reference = root.find("cbc:BuyerReference", NS)
    if reference is None:
        reference = etree.Element(f"{{{CBC}}}BuyerReference")
        _insert_before(root, reference, _UBL_AFTER_BUYER_REFERENCE)
    reference.text = service_code
    for means in root.findall("cac:PaymentMeans", NS):
        means.find("cbc:PaymentMeansCode", NS).text = CHEQUE
        for name in ("cac:CardAccount", "cac:PayeeFinancialAccount", "cac:PaymentMandate"):
            for old in means.findall(name, NS):
                means.remove(old)


def _cii_party_siret(party: etree._Element, siret: str) -> None:
    for old in party.findall("ram:GlobalID", NS):
        party.remove(old)
    global_id = etree.Element(f"{{{RAM}}}GlobalID", schemeID="0009")
    global_id.text = siret
    ids = party.findall("ram:ID", NS)
    party.insert(party.index(ids[-1]) + 1 if ids else 0, global_id)


def _cii(root: etree._Element, *, supplier_siret: str, buyer_siret: str, service_code: str) -> None:
    agreement = root.find("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement", NS)
    _cii_party_siret(agreement.find("ram:SellerTradeParty", NS), supplier_siret)
    _cii_party_siret(agreement.find("ram:BuyerTradeParty", NS), buyer_siret)
    reference = agreement.find("ram:BuyerReference", NS)
    if reference is None:
        reference = etree.Element(f"{{{RAM}}}BuyerReference")
        agreement.insert(0, reference)
    reference.text = service_code
    settlement = root.find("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement", NS)
    for means in settlement.findall("ram:SpecifiedTradeSettlementPaymentMeans", NS):
        means.find("ram:TypeCode", NS).text = CHEQUE
        for name in (
            "ram:ApplicableTradeSettlementFinancialCard",
            "ram:PayerPartyDebtorFinancialAccount",
            "ram:PayeePartyCreditorFinancialAccount",
            "ram:PayeeSpecifiedCreditorFinancialInstitution",
        ):
            for old in means.findall(name, NS):
                means.remove(old)


def with_routing(path: Path, *, supplier_siret: str, buyer_siret: str, service_code: str) -> bytes:
    root = etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
    if etree.QName(root).namespace == RSM:
        _cii(root, supplier_siret=supplier_siret, buyer_siret=buyer_siret, service_code=service_code)
    else:
        _ubl(root, supplier_siret=supplier_siret, buyer_siret=buyer_siret, service_code=service_code)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@functools.cache
def _official(syntax: str):
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    xslt = ARTEFACTS_DIR / syntax / f"EN16931-{syntax.upper()}-validation.xslt"
    return processor, processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(xslt))


def official_fatal_rules(content: bytes) -> list[str]:
    """The ids of the fatal CEN rules the official artefacts fire on `content` (caller skips when the
    artefacts are absent: `ARTEFACTS_DIR.exists()`)."""
    root = etree.fromstring(content)
    syntax = "cii" if etree.QName(root).namespace == RSM else "ubl"
    processor, executable = _official(syntax)
    node = processor.parse_xml(xml_text=content.decode("utf-8"))
    svrl = etree.fromstring(executable.transform_to_string(xdm_node=node).encode("utf-8"))
    return [
        failed.get("id")
        for failed in svrl.iter("{http://purl.oclc.org/dsdl/svrl}failed-assert")
        if failed.get("flag") == "fatal"
    ]


def xml_totals(content: bytes) -> dict:
    """The document's BT-109, BT-110, BT-112, BT-113, BT-115 as the platform should keep them."""
    from choeur.flows.validation.detect import SYNTAX_CII, SYNTAX_UBL
    from choeur.flows.validation.extract import extract_invoice_data

    root = etree.fromstring(content)
    data = extract_invoice_data(root, SYNTAX_CII if etree.QName(root).namespace == RSM else SYNTAX_UBL)
    return {
        "number": data.number,
        "line_total_ht": data.totals.line_net,
        "total_ht": data.totals.without_vat,
        "total_tva": data.totals.vat,
        "total_ttc": data.totals.with_vat,
        "prepaid_amount": data.totals.prepaid,
        "montant_a_payer": data.totals.due,
        "allowances": data.totals.allowances,
        "charges": data.totals.charges,
    }
