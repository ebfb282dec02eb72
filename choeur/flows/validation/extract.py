"""Routing and semantic data read from a UBL or CII invoice, to create invoices from flows.

Paths follow EN 16931 (CEN/TS 16931-3-2 for UBL, -3-3 for CII) and where Chorus Pro reads its routing data
(docs: chorus-pro reference §12): the SIRET of each party is taken from its identifier with ISO 6523 scheme
0009 (BT-29 / BT-46), else from its legal registration identifier (BT-30 / BT-47), else from its electronic
address with scheme 0009 (BT-34 / BT-49); code service = BT-10, engagement = BT-13, marché = BT-12.

Extraction is best effort: a missing or malformed value gives None, never an exception — the validation
layers already report what is wrong with the document.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lxml import etree

from choeur.flows.validation.detect import NS_CAC, NS_CBC, NS_RAM, NS_RSM, NS_UDT, SYNTAX_CII, SYNTAX_UBL

UBL = {"cac": NS_CAC, "cbc": NS_CBC}
CII = {
    "rsm": NS_RSM,
    "ram": NS_RAM,
    "udt": NS_UDT,
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}

SCHEME_SIRET = "0009"
SCHEME_SIREN = "0002"
# UNTDID 1001 credit notes used with EN 16931 (and the French BR-FR-04 list): they are Chorus Pro AVOIRs.
CREDIT_NOTE_CODES = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "502", "503", "532"}
)
TYPE_FACTURE = "FACTURE"
TYPE_AVOIR = "AVOIR"

_DIGITS = re.compile(r"\D")


@dataclass
class Party:
    name: str | None = None
    siret: str | None = None
    siren: str | None = None
    identifiers: list[tuple[str | None, str]] = field(default_factory=list)  # (scheme, value), BT-29/BT-46
    legal_id: str | None = None  # BT-30 / BT-47
    legal_id_scheme: str | None = None
    vat_number: str | None = None  # BT-31 / BT-48
    electronic_address: str | None = None  # BT-34 / BT-49
    electronic_address_scheme: str | None = None
    country: str | None = None


@dataclass
class AllowanceCharge:
    """BG-20/BG-21 at document level (with its VAT category), BG-27/BG-28 on a line."""

    is_charge: bool = False
    amount: Decimal | None = None  # BT-92 / BT-99 / BT-136 / BT-141
    base_amount: Decimal | None = None  # BT-93 / BT-100 / BT-137 / BT-142
    percentage: Decimal | None = None  # BT-94 / BT-101 / BT-138 / BT-143
    reason: str | None = None  # BT-97 / BT-104 / BT-139 / BT-144
    reason_code: str | None = None  # BT-98 / BT-105 / BT-140 / BT-145
    vat_category: str | None = None  # BT-95 / BT-102
    vat_rate: Decimal | None = None  # BT-96 / BT-103


@dataclass
class Line:
    id: str | None = None  # BT-126
    name: str | None = None  # BT-153
    quantity: Decimal | None = None  # BT-129
    unit_code: str | None = None  # BT-130
    unit_net_price: Decimal | None = None  # BT-146
    price_base_quantity: Decimal | None = None  # BT-149
    gross_price: Decimal | None = None  # BT-148
    price_discount: Decimal | None = None  # BT-147
    net_amount: Decimal | None = None  # BT-131
    vat_category: str | None = None  # BT-151
    vat_rate: Decimal | None = None  # BT-152
    note: str | None = None  # BT-127
    period_start: datetime.date | None = None  # BT-134
    period_end: datetime.date | None = None  # BT-135
    allowance_charges: list[AllowanceCharge] = field(default_factory=list)  # BG-27, BG-28


@dataclass
class VatBreakdown:
    category: str | None = None  # BT-118
    rate: Decimal | None = None  # BT-119
    taxable_amount: Decimal | None = None  # BT-116
    tax_amount: Decimal | None = None  # BT-117
    exemption_reason: str | None = None  # BT-120
    exemption_reason_code: str | None = None  # BT-121


@dataclass
class Totals:
    line_net: Decimal | None = None  # BT-106
    allowances: Decimal | None = None  # BT-107
    charges: Decimal | None = None  # BT-108
    without_vat: Decimal | None = None  # BT-109
    vat: Decimal | None = None  # BT-110
    with_vat: Decimal | None = None  # BT-112
    prepaid: Decimal | None = None  # BT-113
    rounding: Decimal | None = None  # BT-114
    due: Decimal | None = None  # BT-115


@dataclass
class Note:
    content: str
    subject_code: str | None = None  # BT-21 (PMT, PMD, AAB…)


@dataclass
class Attachment:
    id: str | None = None  # BT-122
    description: str | None = None  # BT-123
    filename: str | None = None  # BT-125 @filename
    mime_code: str | None = None  # BT-125 @mimeCode
    size: int = 0  # decoded size estimate in bytes (base64 length × 3/4)


@dataclass
class InvoiceData:
    syntax: str
    number: str | None = None  # BT-1
    type_code: str | None = None  # BT-3
    invoice_type: str | None = None  # "FACTURE" or "AVOIR"
    issue_date: datetime.date | None = None  # BT-2
    due_date: datetime.date | None = None  # BT-9
    currency: str | None = None  # BT-5
    specification_id: str | None = None  # BT-24
    business_process: str | None = None  # BT-23
    supplier: Party = field(default_factory=Party)
    buyer: Party = field(default_factory=Party)
    code_service: str | None = None  # BT-10 BuyerReference
    engagement: str | None = None  # BT-13 purchase order reference (engagement juridique / bon de commande)
    marche: str | None = None  # BT-12 contract reference
    project: str | None = None  # BT-11
    preceding_invoices: list[str] = field(default_factory=list)  # BT-25
    preceding_invoice_dates: list[datetime.date | None] = field(default_factory=list)  # BT-26
    period_start: datetime.date | None = None  # BT-73
    period_end: datetime.date | None = None  # BT-74
    delivery_date: datetime.date | None = None  # BT-72
    # Business terms kept for the record (invoices.terms keys): BT-14…BT-19, BG-10, BG-11, BG-13.
    references: dict = field(default_factory=dict)
    payee: dict = field(default_factory=dict)
    tax_representative: dict = field(default_factory=dict)
    delivery: dict = field(default_factory=dict)
    allowance_charges: list[AllowanceCharge] = field(default_factory=list)  # BG-20, BG-21
    payment_means_code: str | None = None  # BT-81
    payment_terms: str | None = None  # BT-20
    iban: str | None = None  # BT-84
    bic: str | None = None  # BT-86
    lines: list[Line] = field(default_factory=list)
    vat_breakdown: list[VatBreakdown] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)
    notes: list[Note] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def supplier_siret(self) -> str | None:
        return self.supplier.siret

    @property
    def buyer_siret(self) -> str | None:
        return self.buyer.siret

    @property
    def has_pdf_attachment(self) -> bool:
        return any((a.mime_code or "").lower() == "application/pdf" for a in self.attachments)


def extract_invoice_data(root: etree._Element, syntax: str) -> InvoiceData:
    """Read the routing and semantic data of a parsed UBL or CII invoice."""
    if syntax == SYNTAX_UBL:
        return _extract_ubl(root)
    if syntax == SYNTAX_CII:
        return _extract_cii(root)
    raise ValueError(f"Syntaxe inconnue : {syntax!r} (attendu {SYNTAX_UBL} ou {SYNTAX_CII}).")


# --- helpers -------------------------------------------------------------------------------------------------


def _t(element: etree._Element | None, path: str | None = None, ns: dict | None = None) -> str | None:
    if element is None:
        return None
    if path is not None:
        element = element.find(path, ns)
        if element is None:
            return None
    text = element.text
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None


def _dec(element: etree._Element | None, path: str | None = None, ns: dict | None = None) -> Decimal | None:
    text = _t(element, path, ns)
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _date(text: str | None, fmt: str = "%Y-%m-%d") -> datetime.date | None:
    if not text:
        return None
    try:
        return datetime.datetime.strptime(text.strip(), fmt).date()
    except ValueError:
        return None


def _invoice_type(type_code: str | None, *, credit_note_root: bool = False) -> str | None:
    if type_code is None:
        return TYPE_AVOIR if credit_note_root else None
    return TYPE_AVOIR if type_code in CREDIT_NOTE_CODES else TYPE_FACTURE


def _siret_like(value: str | None) -> str | None:
    if not value:
        return None
    digits = _DIGITS.sub("", value)
    return digits if len(digits) == 14 and len(value.replace(" ", "")) == 14 else None


def _resolve_party_ids(party: Party) -> None:
    for scheme, value in party.identifiers:
        if scheme == SCHEME_SIRET and _siret_like(value):
            party.siret = _siret_like(value)
            break
    if party.siret is None and party.legal_id:
        if party.legal_id_scheme in (SCHEME_SIRET, None) and _siret_like(party.legal_id):
            party.siret = _siret_like(party.legal_id)
    if party.siret is None and party.electronic_address_scheme == SCHEME_SIRET:
        party.siret = _siret_like(party.electronic_address)
    if party.legal_id and party.legal_id_scheme == SCHEME_SIREN:
        digits = _DIGITS.sub("", party.legal_id)
        party.siren = digits if len(digits) == 9 else None
    if party.siren is None and party.siret:
        party.siren = party.siret[:9]


def _b64_size(element: etree._Element | None) -> int:
    if element is None or not element.text:
        return 0
    return len("".join(element.text.split())) * 3 // 4


# --- UBL -----------------------------------------------------------------------------------------------------


def _ubl_party(party_el: etree._Element | None) -> Party:
    party = Party()
    if party_el is None:
        return party
    ns = UBL
    party.name = _t(party_el, "cac:PartyLegalEntity/cbc:RegistrationName", ns) or _t(
        party_el, "cac:PartyName/cbc:Name", ns
    )
    for ident in party_el.findall("cac:PartyIdentification/cbc:ID", ns):
        value = _t(ident)
        if value:
            party.identifiers.append((ident.get("schemeID"), value))
    legal = party_el.find("cac:PartyLegalEntity/cbc:CompanyID", ns)
    party.legal_id, party.legal_id_scheme = _t(legal), legal.get("schemeID") if legal is not None else None
    for tax_scheme in party_el.findall("cac:PartyTaxScheme", ns):
        if (_t(tax_scheme, "cac:TaxScheme/cbc:ID", ns) or "").upper() == "VAT":
            party.vat_number = _t(tax_scheme, "cbc:CompanyID", ns)
            break
    endpoint = party_el.find("cbc:EndpointID", ns)
    party.electronic_address = _t(endpoint)
    party.electronic_address_scheme = endpoint.get("schemeID") if endpoint is not None else None
    party.country = _t(party_el, "cac:PostalAddress/cac:Country/cbc:IdentificationCode", ns)
    _resolve_party_ids(party)
    return party


def _ubl_allowance_charges(parent: etree._Element, *, with_tax: bool) -> list[AllowanceCharge]:
    ns = UBL
    items = []
    for el in parent.findall("cac:AllowanceCharge", ns):
        items.append(
            AllowanceCharge(
                is_charge=(_t(el, "cbc:ChargeIndicator", ns) or "").lower() == "true",
                amount=_dec(el, "cbc:Amount", ns),
                base_amount=_dec(el, "cbc:BaseAmount", ns),
                percentage=_dec(el, "cbc:MultiplierFactorNumeric", ns),
                reason=_t(el, "cbc:AllowanceChargeReason", ns),
                reason_code=_t(el, "cbc:AllowanceChargeReasonCode", ns),
                vat_category=_t(el, "cac:TaxCategory/cbc:ID", ns) if with_tax else None,
                vat_rate=_dec(el, "cac:TaxCategory/cbc:Percent", ns) if with_tax else None,
            )
        )
    return items


def _kept(**values) -> dict:
    return {key: value for key, value in values.items() if value}


def _extract_ubl(root: etree._Element) -> InvoiceData:
    ns = UBL
    is_credit_note = etree.QName(root).localname == "CreditNote"
    data = InvoiceData(syntax=SYNTAX_UBL)
    data.number = _t(root, "cbc:ID", ns)
    data.type_code = _t(root, "cbc:CreditNoteTypeCode" if is_credit_note else "cbc:InvoiceTypeCode", ns)
    data.invoice_type = _invoice_type(data.type_code, credit_note_root=is_credit_note)
    data.issue_date = _date(_t(root, "cbc:IssueDate", ns))
    data.due_date = _date(_t(root, "cbc:DueDate", ns) or _t(root, "cac:PaymentMeans/cbc:PaymentDueDate", ns))
    data.currency = _t(root, "cbc:DocumentCurrencyCode", ns)
    data.specification_id = _t(root, "cbc:CustomizationID", ns)
    data.business_process = _t(root, "cbc:ProfileID", ns)
    data.supplier = _ubl_party(root.find("cac:AccountingSupplierParty/cac:Party", ns))
    data.buyer = _ubl_party(root.find("cac:AccountingCustomerParty/cac:Party", ns))
    data.code_service = _t(root, "cbc:BuyerReference", ns)
    data.engagement = _t(root, "cac:OrderReference/cbc:ID", ns)
    data.marche = _t(root, "cac:ContractDocumentReference/cbc:ID", ns)
    data.project = _t(root, "cac:ProjectReference/cbc:ID", ns)
    for reference in root.findall("cac:BillingReference/cac:InvoiceDocumentReference", ns):
        number = _t(reference, "cbc:ID", ns)
        if number:
            data.preceding_invoices.append(number)
            data.preceding_invoice_dates.append(_date(_t(reference, "cbc:IssueDate", ns)))
    data.period_start = _date(_t(root, "cac:InvoicePeriod/cbc:StartDate", ns))
    data.period_end = _date(_t(root, "cac:InvoicePeriod/cbc:EndDate", ns))
    delivery = root.find("cac:Delivery", ns)
    if delivery is not None:
        data.delivery_date = _date(_t(delivery, "cbc:ActualDeliveryDate", ns))
        address = delivery.find("cac:DeliveryLocation/cac:Address", ns)
        data.delivery = _kept(
            name=_t(delivery, "cac:DeliveryParty/cac:PartyName/cbc:Name", ns),
            location_id=_t(delivery, "cac:DeliveryLocation/cbc:ID", ns),
            address=", ".join(
                v
                for v in (
                    _t(address, "cbc:StreetName", ns),
                    _t(address, "cbc:PostalZone", ns),
                    _t(address, "cbc:CityName", ns),
                )
                if v
            )
            if address is not None
            else None,
            country=_t(address, "cac:Country/cbc:IdentificationCode", ns) if address is not None else None,
        )
    object_ids = [
        _t(d, "cbc:ID", ns)
        for d in root.findall("cac:AdditionalDocumentReference", ns)
        if _t(d, "cbc:DocumentTypeCode", ns) == "130"
    ]
    data.references = _kept(
        project_reference=_t(root, "cac:ProjectReference/cbc:ID", ns),
        sales_order_reference=_t(root, "cac:OrderReference/cbc:SalesOrderID", ns),
        receiving_advice_reference=_t(root, "cac:ReceiptDocumentReference/cbc:ID", ns),
        despatch_advice_reference=_t(root, "cac:DespatchDocumentReference/cbc:ID", ns),
        tender_reference=_t(root, "cac:OriginatorDocumentReference/cbc:ID", ns),
        object_identifier=next((v for v in object_ids if v), None),
        buyer_accounting_reference=_t(root, "cbc:AccountingCost", ns),
    )
    payee = root.find("cac:PayeeParty", ns)
    if payee is not None:
        data.payee = _kept(
            name=_t(payee, "cac:PartyName/cbc:Name", ns),
            identifier=_t(payee, "cac:PartyIdentification/cbc:ID", ns),
            legal_id=_t(payee, "cac:PartyLegalEntity/cbc:CompanyID", ns),
        )
    representative = root.find("cac:TaxRepresentativeParty", ns)
    if representative is not None:
        data.tax_representative = _kept(
            name=_t(representative, "cac:PartyName/cbc:Name", ns),
            vat_id=_t(representative, "cac:PartyTaxScheme/cbc:CompanyID", ns),
            country=_t(representative, "cac:PostalAddress/cac:Country/cbc:IdentificationCode", ns),
        )
    data.allowance_charges = _ubl_allowance_charges(root, with_tax=True)
    means = root.find("cac:PaymentMeans", ns)
    if means is not None:
        data.payment_means_code = _t(means, "cbc:PaymentMeansCode", ns)
        data.iban = _t(means, "cac:PayeeFinancialAccount/cbc:ID", ns)
        data.bic = _t(means, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID", ns)
    terms = [v for v in (_t(e) for e in root.findall("cac:PaymentTerms/cbc:Note", ns)) if v]
    data.payment_terms = "\n".join(terms) or None

    line_tag, quantity_tag = (
        ("cac:CreditNoteLine", "cbc:CreditedQuantity")
        if is_credit_note
        else (
            "cac:InvoiceLine",
            "cbc:InvoicedQuantity",
        )
    )
    for line_el in root.findall(line_tag, ns):
        quantity = line_el.find(quantity_tag, ns)
        price_allowance = line_el.find("cac:Price/cac:AllowanceCharge", ns)
        data.lines.append(
            Line(
                id=_t(line_el, "cbc:ID", ns),
                name=_t(line_el, "cac:Item/cbc:Name", ns),
                quantity=_dec(quantity),
                unit_code=quantity.get("unitCode") if quantity is not None else None,
                unit_net_price=_dec(line_el, "cac:Price/cbc:PriceAmount", ns),
                price_base_quantity=_dec(line_el, "cac:Price/cbc:BaseQuantity", ns),
                gross_price=_dec(price_allowance, "cbc:BaseAmount", ns),
                price_discount=_dec(price_allowance, "cbc:Amount", ns),
                net_amount=_dec(line_el, "cbc:LineExtensionAmount", ns),
                vat_category=_t(line_el, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID", ns),
                vat_rate=_dec(line_el, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", ns),
                note=_t(line_el, "cbc:Note", ns),
                period_start=_date(_t(line_el, "cac:InvoicePeriod/cbc:StartDate", ns)),
                period_end=_date(_t(line_el, "cac:InvoicePeriod/cbc:EndDate", ns)),
                allowance_charges=_ubl_allowance_charges(line_el, with_tax=False),
            )
        )

    for tax_total in root.findall("cac:TaxTotal", ns):
        amount = tax_total.find("cbc:TaxAmount", ns)
        # BT-110 is the TaxTotal in the invoice currency; a second one (BT-111) may follow in accounting currency.
        if amount is not None and (data.currency is None or amount.get("currencyID") in (None, data.currency)):
            if data.totals.vat is None:
                data.totals.vat = _dec(amount)
        for subtotal in tax_total.findall("cac:TaxSubtotal", ns):
            data.vat_breakdown.append(
                VatBreakdown(
                    category=_t(subtotal, "cac:TaxCategory/cbc:ID", ns),
                    rate=_dec(subtotal, "cac:TaxCategory/cbc:Percent", ns),
                    taxable_amount=_dec(subtotal, "cbc:TaxableAmount", ns),
                    tax_amount=_dec(subtotal, "cbc:TaxAmount", ns),
                    exemption_reason=_t(subtotal, "cac:TaxCategory/cbc:TaxExemptionReason", ns),
                    exemption_reason_code=_t(subtotal, "cac:TaxCategory/cbc:TaxExemptionReasonCode", ns),
                )
            )
    totals = root.find("cac:LegalMonetaryTotal", ns)
    if totals is not None:
        data.totals.line_net = _dec(totals, "cbc:LineExtensionAmount", ns)
        data.totals.allowances = _dec(totals, "cbc:AllowanceTotalAmount", ns)
        data.totals.charges = _dec(totals, "cbc:ChargeTotalAmount", ns)
        data.totals.without_vat = _dec(totals, "cbc:TaxExclusiveAmount", ns)
        data.totals.with_vat = _dec(totals, "cbc:TaxInclusiveAmount", ns)
        data.totals.prepaid = _dec(totals, "cbc:PrepaidAmount", ns)
        data.totals.rounding = _dec(totals, "cbc:PayableRoundingAmount", ns)
        data.totals.due = _dec(totals, "cbc:PayableAmount", ns)

    for note in root.findall("cbc:Note", ns):
        content = _t(note)
        if content:
            # UBL has no subject code element: the CEN mapping writes it as a "#CODE#text" prefix.
            match = re.match(r"^#([A-Z]{3})#(.*)$", content, re.S)
            data.notes.append(Note(match.group(2).strip(), match.group(1)) if match else Note(content))
    for doc in root.findall("cac:AdditionalDocumentReference", ns):
        blob = doc.find("cac:Attachment/cbc:EmbeddedDocumentBinaryObject", ns)
        data.attachments.append(
            Attachment(
                id=_t(doc, "cbc:ID", ns),
                description=_t(doc, "cbc:DocumentDescription", ns),
                filename=blob.get("filename") if blob is not None else None,
                mime_code=blob.get("mimeCode") if blob is not None else None,
                size=_b64_size(blob),
            )
        )
    return data


# --- CII -----------------------------------------------------------------------------------------------------


def _cii_party(party_el: etree._Element | None) -> Party:
    party = Party()
    if party_el is None:
        return party
    ns = CII
    party.name = _t(party_el, "ram:Name", ns)
    for ident in party_el.findall("ram:ID", ns):
        value = _t(ident)
        if value:
            party.identifiers.append((ident.get("schemeID"), value))
    for ident in party_el.findall("ram:GlobalID", ns):
        value = _t(ident)
        if value:
            party.identifiers.append((ident.get("schemeID"), value))
    legal = party_el.find("ram:SpecifiedLegalOrganization/ram:ID", ns)
    party.legal_id, party.legal_id_scheme = _t(legal), legal.get("schemeID") if legal is not None else None
    for registration in party_el.findall("ram:SpecifiedTaxRegistration/ram:ID", ns):
        if (registration.get("schemeID") or "").upper() == "VA":
            party.vat_number = _t(registration)
            break
    endpoint = party_el.find("ram:URIUniversalCommunication/ram:URIID", ns)
    party.electronic_address = _t(endpoint)
    party.electronic_address_scheme = endpoint.get("schemeID") if endpoint is not None else None
    party.country = _t(party_el, "ram:PostalTradeAddress/ram:CountryID", ns)
    _resolve_party_ids(party)
    return party


def _cii_date(element: etree._Element | None, path: str) -> datetime.date | None:
    text = _t(element, path, CII)
    if text and len(text) >= 8:
        return _date(text[:8], "%Y%m%d")
    return None


def _cii_allowance_charges(parent: etree._Element | None, *, with_tax: bool) -> list[AllowanceCharge]:
    ns = CII
    if parent is None:
        return []
    items = []
    for el in parent.findall("ram:SpecifiedTradeAllowanceCharge", ns):
        items.append(
            AllowanceCharge(
                is_charge=(_t(el, "ram:ChargeIndicator/udt:Indicator", ns) or "").lower() == "true",
                amount=_dec(el, "ram:ActualAmount", ns),
                base_amount=_dec(el, "ram:BasisAmount", ns),
                percentage=_dec(el, "ram:CalculationPercent", ns),
                reason=_t(el, "ram:Reason", ns),
                reason_code=_t(el, "ram:ReasonCode", ns),
                vat_category=_t(el, "ram:CategoryTradeTax/ram:CategoryCode", ns) if with_tax else None,
                vat_rate=_dec(el, "ram:CategoryTradeTax/ram:RateApplicablePercent", ns) if with_tax else None,
            )
        )
    return items


def _cii_referenced_id(parent: etree._Element | None, path: str) -> str | None:
    return _t(parent, f"{path}/ram:IssuerAssignedID", CII) if parent is not None else None


def _extract_cii(root: etree._Element) -> InvoiceData:
    ns = CII
    data = InvoiceData(syntax=SYNTAX_CII)
    context = root.find("rsm:ExchangedDocumentContext", ns)
    data.specification_id = _t(context, "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", ns)
    data.business_process = _t(context, "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID", ns)
    document = root.find("rsm:ExchangedDocument", ns)
    data.number = _t(document, "ram:ID", ns)
    data.type_code = _t(document, "ram:TypeCode", ns)
    data.invoice_type = _invoice_type(data.type_code)
    data.issue_date = _cii_date(document, "ram:IssueDateTime/udt:DateTimeString")
    if document is not None:
        for note in document.findall("ram:IncludedNote", ns):
            content = _t(note, "ram:Content", ns)
            if content:
                data.notes.append(Note(content, _t(note, "ram:SubjectCode", ns)))

    transaction = root.find("rsm:SupplyChainTradeTransaction", ns)
    if transaction is None:
        return data
    agreement = transaction.find("ram:ApplicableHeaderTradeAgreement", ns)
    settlement = transaction.find("ram:ApplicableHeaderTradeSettlement", ns)
    if agreement is not None:
        data.code_service = _t(agreement, "ram:BuyerReference", ns)
        data.supplier = _cii_party(agreement.find("ram:SellerTradeParty", ns))
        data.buyer = _cii_party(agreement.find("ram:BuyerTradeParty", ns))
        data.engagement = _t(agreement, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID", ns)
        data.marche = _t(agreement, "ram:ContractReferencedDocument/ram:IssuerAssignedID", ns)
        data.project = _t(agreement, "ram:SpecifiedProcuringProject/ram:ID", ns)
        typed = {}
        for doc in agreement.findall("ram:AdditionalReferencedDocument", ns):
            typed.setdefault(_t(doc, "ram:TypeCode", ns), _t(doc, "ram:IssuerAssignedID", ns))
        data.references = _kept(
            project_reference=data.project,
            sales_order_reference=_cii_referenced_id(agreement, "ram:SellerOrderReferencedDocument"),
            tender_reference=typed.get("50"),
            object_identifier=typed.get("130"),
        )
        representative = agreement.find("ram:SellerTaxRepresentativeTradeParty", ns)
        if representative is not None:
            data.tax_representative = _kept(
                name=_t(representative, "ram:Name", ns),
                vat_id=_t(representative, "ram:SpecifiedTaxRegistration/ram:ID", ns),
                country=_t(representative, "ram:PostalTradeAddress/ram:CountryID", ns),
            )
        for doc in agreement.findall("ram:AdditionalReferencedDocument", ns):
            blob = doc.find("ram:AttachmentBinaryObject", ns)
            data.attachments.append(
                Attachment(
                    id=_t(doc, "ram:IssuerAssignedID", ns),
                    description=_t(doc, "ram:Name", ns),
                    filename=blob.get("filename") if blob is not None else None,
                    mime_code=blob.get("mimeCode") if blob is not None else None,
                    size=_b64_size(blob),
                )
            )
    delivery = transaction.find("ram:ApplicableHeaderTradeDelivery", ns)
    if delivery is not None:
        data.delivery_date = _cii_date(
            delivery, "ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString"
        )
        ship_to = delivery.find("ram:ShipToTradeParty", ns)
        if ship_to is not None:
            address = ship_to.find("ram:PostalTradeAddress", ns)
            data.delivery = _kept(
                name=_t(ship_to, "ram:Name", ns),
                location_id=_t(ship_to, "ram:ID", ns) or _t(ship_to, "ram:GlobalID", ns),
                address=", ".join(
                    v
                    for v in (
                        _t(address, "ram:LineOne", ns),
                        _t(address, "ram:PostcodeCode", ns),
                        _t(address, "ram:CityName", ns),
                    )
                    if v
                )
                if address is not None
                else None,
                country=_t(address, "ram:CountryID", ns) if address is not None else None,
            )
        data.references.update(
            _kept(
                receiving_advice_reference=_cii_referenced_id(delivery, "ram:ReceivingAdviceReferencedDocument"),
                despatch_advice_reference=_cii_referenced_id(delivery, "ram:DespatchAdviceReferencedDocument"),
            )
        )
    if settlement is not None:
        data.currency = _t(settlement, "ram:InvoiceCurrencyCode", ns)
        for reference in settlement.findall("ram:InvoiceReferencedDocument", ns):
            number = _t(reference, "ram:IssuerAssignedID", ns)
            if number:
                data.preceding_invoices.append(number)
                text = _t(reference, "ram:FormattedIssueDateTime/qdt:DateTimeString", CII)
                data.preceding_invoice_dates.append(_date(text[:8], "%Y%m%d") if text else None)
        data.period_start = _cii_date(settlement, "ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString")
        data.period_end = _cii_date(settlement, "ram:BillingSpecifiedPeriod/ram:EndDateTime/udt:DateTimeString")
        payee = settlement.find("ram:PayeeTradeParty", ns)
        if payee is not None:
            data.payee = _kept(
                name=_t(payee, "ram:Name", ns),
                identifier=_t(payee, "ram:ID", ns) or _t(payee, "ram:GlobalID", ns),
                legal_id=_t(payee, "ram:SpecifiedLegalOrganization/ram:ID", ns),
            )
        accounting = _t(settlement, "ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID", ns)
        if accounting:
            data.references["buyer_accounting_reference"] = accounting
        data.allowance_charges = _cii_allowance_charges(settlement, with_tax=True)
        means = settlement.find("ram:SpecifiedTradeSettlementPaymentMeans", ns)
        if means is not None:
            data.payment_means_code = _t(means, "ram:TypeCode", ns)
            account = means.find("ram:PayeePartyCreditorFinancialAccount", ns)
            data.iban = _t(account, "ram:IBANID", ns) or _t(account, "ram:ProprietaryID", ns)
            data.bic = _t(means, "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID", ns)
        terms = settlement.findall("ram:SpecifiedTradePaymentTerms", ns)
        data.payment_terms = "\n".join(v for v in (_t(t, "ram:Description", ns) for t in terms) if v) or None
        for term in terms:
            data.due_date = data.due_date or _cii_date(term, "ram:DueDateDateTime/udt:DateTimeString")
        for tax in settlement.findall("ram:ApplicableTradeTax", ns):
            data.vat_breakdown.append(
                VatBreakdown(
                    category=_t(tax, "ram:CategoryCode", ns),
                    rate=_dec(tax, "ram:RateApplicablePercent", ns),
                    taxable_amount=_dec(tax, "ram:BasisAmount", ns),
                    tax_amount=_dec(tax, "ram:CalculatedAmount", ns),
                    exemption_reason=_t(tax, "ram:ExemptionReason", ns),
                    exemption_reason_code=_t(tax, "ram:ExemptionReasonCode", ns),
                )
            )
        summation = settlement.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation", ns)
        if summation is not None:
            totals = data.totals
            totals.line_net = _dec(summation, "ram:LineTotalAmount", ns)
            totals.charges = _dec(summation, "ram:ChargeTotalAmount", ns)
            totals.allowances = _dec(summation, "ram:AllowanceTotalAmount", ns)
            totals.without_vat = _dec(summation, "ram:TaxBasisTotalAmount", ns)
            for amount in summation.findall("ram:TaxTotalAmount", ns):
                # BT-110 carries the invoice currency; a second TaxTotalAmount (BT-111) the accounting one.
                if amount.get("currencyID") in (None, data.currency):
                    totals.vat = _dec(amount)
                    break
            totals.rounding = _dec(summation, "ram:RoundingAmount", ns)
            totals.with_vat = _dec(summation, "ram:GrandTotalAmount", ns)
            totals.prepaid = _dec(summation, "ram:TotalPrepaidAmount", ns)
            totals.due = _dec(summation, "ram:DuePayableAmount", ns)

    for item in transaction.findall("ram:IncludedSupplyChainTradeLineItem", ns):
        quantity = item.find("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", ns)
        price = item.find("ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice", ns)
        gross = item.find("ram:SpecifiedLineTradeAgreement/ram:GrossPriceProductTradePrice", ns)
        line_settlement = item.find("ram:SpecifiedLineTradeSettlement", ns)
        data.lines.append(
            Line(
                id=_t(item, "ram:AssociatedDocumentLineDocument/ram:LineID", ns),
                name=_t(item, "ram:SpecifiedTradeProduct/ram:Name", ns),
                quantity=_dec(quantity),
                unit_code=quantity.get("unitCode") if quantity is not None else None,
                unit_net_price=_dec(price, "ram:ChargeAmount", ns),
                price_base_quantity=_dec(price, "ram:BasisQuantity", ns),
                net_amount=_dec(
                    line_settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount", ns
                ),
                vat_category=_t(line_settlement, "ram:ApplicableTradeTax/ram:CategoryCode", ns),
                vat_rate=_dec(line_settlement, "ram:ApplicableTradeTax/ram:RateApplicablePercent", ns),
                gross_price=_dec(gross, "ram:ChargeAmount", ns),
                price_discount=_dec(gross, "ram:AppliedTradeAllowanceCharge/ram:ActualAmount", ns),
                note=_t(item, "ram:AssociatedDocumentLineDocument/ram:IncludedNote/ram:Content", ns),
                period_start=_cii_date(
                    line_settlement, "ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString"
                ),
                period_end=_cii_date(line_settlement, "ram:BillingSpecifiedPeriod/ram:EndDateTime/udt:DateTimeString"),
                allowance_charges=_cii_allowance_charges(line_settlement, with_tax=False),
            )
        )
    return data
