"""The invoice document Chœur generates for a saisie: a Factur-X PDF/A-3b (EN 16931 profile).

- `build_cii_xml` writes the UN/CEFACT CII XML with lxml, in the order of the Factur-X 1.09 EN 16931 XSD,
  with the routing data where Chorus Pro reads it (chorus-pro.md §12): seller and buyer SIRET with ISO 6523
  scheme 0009 (BT-29, BT-46) and their SIREN with scheme 0002 (BT-30, BT-47, as BR-FR-09/10 expect), code
  service in BuyerReference (BT-10), engagement in BuyerOrderReferencedDocument (BT-13), marché in
  ContractReferencedDocument (BT-12), the cadre in the business process (BT-23: « A1 »…; the French
  rule BR-FR-08 expects the reform's B1/S1/M1… codes there, a warning only, as BR-FR is advisory here), the
  invoice corrected by an AVOIR in InvoiceReferencedDocument (BT-25).
- `render_pdf` lays out a readable French invoice (templates/invoices/invoice_document.html) with
  WeasyPrint as PDF/A-3b, embeds the XML as `factur-x.xml` with AFRelationship /Data and adds the `fx:`
  XMP extension schema (einvoicing-standards.md §1.2, §5), so that `facturx.get_xml_from_pdf` and
  `facturx.get_level` read it back as `en16931`.

Mapping choices worth knowing:
- VAT categories: S (standard), Z (rate 0 under a VAT regime), E (EXONERATION, with the exemption reason),
  O (SANS_TVA: outside the scope of VAT; seller and buyer VAT numbers are then left out, BR-O-02).
- BT-8 (tax point date code): 5 (invoice date) under TVA_SUR_DEBIT, 72 (paid to date) under
  TVA_SUR_ENCAISSEMENT, plus the legal mention of the option for VAT on debits.
- Chorus Pro's **remise globale TTC** lowers the amount to pay without touching the VAT bases; EN 16931 has
  no TTC discount, so it is carried as BT-113 (paid amount) with a note naming it and its reason, which
  keeps BR-CO-16 (due = TTC − paid) true and the VAT breakdown exact.
- The French mandatory notes (BR-FR-05, advisory for B2G): PMT (fixed recovery indemnity), PMD (late
  payment interest), AAB (no discount for early payment).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone
from lxml import etree

from choeur.invoices.cadres import cadre_rule
from choeur.invoices.computations import format_amount, format_rate
from choeur.invoices.enums import Cadre, InvoiceType, PaymentMode, TypeTva, Unit
from choeur.invoices.models import Invoice

FACTURX_PROFILE = "urn:cen.eu:en16931:2017"
FACTURX_FILENAME = "factur-x.xml"
FX_NAMESPACE = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
FX_CONFORMANCE_LEVEL = "EN 16931"
FX_VERSION = "1.0"

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
SCHEME_SIRET = "0009"
SCHEME_SIREN = "0002"
TYPE_CODE = {InvoiceType.FACTURE: "380", InvoiceType.AVOIR: "381"}
# UNTDID 4461 payment means.
PAYMENT_MEANS = {
    PaymentMode.VIREMENT: "30",  # 58 when the IBAN is in the SEPA area (see _payment_means_code)
    PaymentMode.CHEQUE: "20",
    PaymentMode.PRELEVEMENT: "59",
    PaymentMode.ESPECE: "10",
    PaymentMode.AUTRE: "1",
    PaymentMode.REPORT: "97",
}
SEPA_COUNTRIES = frozenset(
    "AT BE BG CH CY CZ DE DK EE ES FI FR GB GI GR HR HU IE IS IT LI LT LU LV MC MT NL NO PL PT RO SE SI SK SM VA AD "
    "GF GP MQ YT RE PM BL MF".split()
)
TAX_POINT_CODE = {TypeTva.TVA_SUR_DEBIT: "5", TypeTva.TVA_SUR_ENCAISSEMENT: "72"}

NOTE_PMT = (
    "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 € "
    "(art. L. 2192-13 et D. 2192-35 du code de la commande publique)."
)
NOTE_PMD = (
    "Intérêts moratoires en cas de retard de paiement : taux de la Banque centrale européenne en vigueur au "
    "premier jour du semestre, majoré de 8 points (art. R. 2192-31 du code de la commande publique)."
)
NOTE_AAB = "Pas d'escompte pour paiement anticipé."
NOTE_TVA_DEBITS = "Option pour le paiement de la taxe d'après les débits."
DEFAULT_O_REASON = "Non soumis à la TVA."


class GenerationError(Exception):
    """The document could not be produced; the message is for the logs, the service tells the user."""


# --- Snapshot -----------------------------------------------------------------------------------------


def _party(structure, service=None) -> dict | None:
    if structure is None:
        return None
    return {
        "id": structure.pk,
        "raison_sociale": structure.raison_sociale,
        "designation": structure.designation,
        "identifier_type": structure.identifier_type,
        "identifier": structure.identifier,
        "numero_tva": structure.numero_tva,
        "adresse": structure.adresse,
        "complement_adresse": structure.complement_adresse,
        "code_postal": structure.code_postal,
        "ville": structure.ville,
        "pays": structure.pays or "FR",
        "email": structure.email,
        "service": {"code": service.code, "libelle": service.libelle} if service is not None else None,
    }


def invoice_snapshot(invoice: Invoice) -> dict:
    """The parties, bank details and payment terms as they stand at sending (JSON), frozen on the invoice:
    the directory may change later, the document must not."""
    recipient = invoice.recipient
    account = invoice.supplier_bank_account
    delay = recipient.effective_payment_delay_days if recipient is not None else 30
    deposited_at = invoice.deposited_at or timezone.now()
    due_date = timezone.localtime(deposited_at).date() + datetime.timedelta(days=delay)
    return {
        "supplier": _party(invoice.supplier, invoice.supplier_service),
        "recipient": _party(recipient, invoice.recipient_service),
        "valideur": _party(invoice.valideur, invoice.valideur_service),
        "valideur2": _party(invoice.valideur2, invoice.valideur2_service),
        "bank_account": (
            {"label": account.label, "iban": account.iban, "bic": account.bic, "holder": account.holder}
            if account is not None
            else None
        ),
        "payment_delay_days": delay,
        "due_date": due_date.isoformat(),
    }


# --- CII XML ------------------------------------------------------------------------------------------


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def _sub(parent, path: str, text=None, **attrs):
    """Append `ram:Name` (or `udt:…`) under parent; text None → an empty element."""
    prefix, name = path.split(":")
    element = etree.SubElement(parent, _q(prefix, name), {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = str(text)
    return element


def _amount(value) -> str:
    return f"{Decimal(value):.2f}"


def _decimal(value) -> str:
    """A quantity, price or rate without useless zeros or exponent: 2, 12.5, 5.5."""
    text = f"{Decimal(value).normalize():f}"
    return "0" if text in ("-0", "") else text


def _price(value) -> str:
    """A unit price for people: at least the cents, and the extra decimals it really has (12.50, 0.125)."""
    text = _decimal(value)
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def _date102(value: datetime.date) -> str:
    return value.strftime("%Y%m%d")


def _date_element(parent, path: str, value: datetime.date, *, qualified: bool = False):
    holder = _sub(parent, path)
    _sub(holder, "qdt:DateTimeString" if qualified else "udt:DateTimeString", _date102(value), format="102")
    return holder


def _is_siret(party: dict) -> bool:
    return party["identifier_type"] == "SIRET" and len(party["identifier"]) == 14


def _trade_party(parent, path: str, party: dict, *, with_vat: bool):
    element = _sub(parent, path)
    if _is_siret(party):
        _sub(element, "ram:GlobalID", party["identifier"], schemeID=SCHEME_SIRET)
    else:
        _sub(element, "ram:ID", party["identifier"])
    _sub(element, "ram:Name", party["raison_sociale"])
    legal = _sub(element, "ram:SpecifiedLegalOrganization")
    # BT-30/BT-47: the SIREN (scheme 0002), as the French rules BR-FR-09/10 expect; the SIRET, which Chorus
    # Pro routes on, is BT-29/BT-46 above.
    if _is_siret(party):
        _sub(legal, "ram:ID", party["identifier"][:9], schemeID=SCHEME_SIREN)
    else:
        _sub(legal, "ram:ID", party["identifier"])
    if party["designation"] != party["raison_sociale"]:
        _sub(legal, "ram:TradingBusinessName", party["designation"])
    address = _sub(element, "ram:PostalTradeAddress")
    if party["code_postal"]:
        _sub(address, "ram:PostcodeCode", party["code_postal"])
    if party["adresse"]:
        _sub(address, "ram:LineOne", party["adresse"])
    if party["complement_adresse"]:
        _sub(address, "ram:LineTwo", party["complement_adresse"])
    if party["ville"]:
        _sub(address, "ram:CityName", party["ville"])
    _sub(address, "ram:CountryID", party["pays"] or "FR")
    if _is_siret(party):
        communication = _sub(element, "ram:URIUniversalCommunication")
        _sub(communication, "ram:URIID", party["identifier"], schemeID=SCHEME_SIRET)
    if with_vat and party["numero_tva"]:
        registration = _sub(element, "ram:SpecifiedTaxRegistration")
        _sub(registration, "ram:ID", party["numero_tva"].replace(" ", ""), schemeID="VA")
    return element


def _notes(invoice: Invoice, snapshot: dict) -> list[tuple[str, str | None]]:
    notes: list[tuple[str, str | None]] = []
    if invoice.comment.strip():
        notes.append((invoice.comment.strip(), None))
    rule = cadre_rule(invoice.cadre)
    if invoice.cadre == Cadre.A2:
        notes.append(
            ("Facture déjà payée, transmise pour information (cadre A2) : aucun paiement n'est attendu.", None)
        )
    if rule.valideur_required and snapshot.get("valideur"):
        notes.append(
            (f"Facture soumise à la validation de {snapshot['valideur']['raison_sociale']} (cadre {rule.code}).", None)
        )
    if invoice.remise_globale_ttc:
        notes.append(
            (
                f"Remise globale de {format_amount(invoice.remise_globale_ttc, invoice.currency)} TTC déduite du net "
                f"à payer ({invoice.motif_remise_globale.strip()}).",
                None,
            )
        )
    if invoice.type_tva == TypeTva.TVA_SUR_DEBIT:
        notes.append((NOTE_TVA_DEBITS, "TXD"))
    notes += [(NOTE_PMT, "PMT"), (NOTE_PMD, "PMD"), (NOTE_AAB, "AAB")]
    return notes


def _exemption_reason(invoice: Invoice, category: str) -> str | None:
    if category == "E":
        return invoice.motif_exoneration.strip()
    if category == "O":
        return invoice.motif_exoneration.strip() or DEFAULT_O_REASON
    return None


def _payment_means_code(invoice: Invoice, snapshot: dict) -> str:
    code = PAYMENT_MEANS[PaymentMode(invoice.payment_mode)]
    account = snapshot.get("bank_account")
    if invoice.payment_mode == PaymentMode.VIREMENT and account and account["iban"][:2].upper() in SEPA_COUNTRIES:
        return "58"
    return code


def _payment_terms(invoice: Invoice, snapshot: dict) -> str:
    if invoice.invoice_type == InvoiceType.AVOIR:
        origin = invoice.origin_number or (invoice.origin_invoice.number if invoice.origin_invoice_id else "")
        return f"Avoir à imputer sur la facture {origin}." if origin else "Avoir."
    if invoice.cadre == Cadre.A2:
        return "Facture déjà payée : aucun paiement attendu."
    return (
        f"Paiement à {snapshot['payment_delay_days']} jours à compter de la réception de la demande de paiement "
        "(délai global de paiement, art. R. 2192-10 du code de la commande publique)."
    )


def _allowance_charge(parent, *, is_charge: bool, amount, reason: str, reason_code: str = "", base=None,
                      percentage=None, category: str | None = None, rate=None):  # fmt: skip
    """ram:SpecifiedTradeAllowanceCharge (BG-20/21 with `category`, BG-27/28 without), in the XSD's order."""
    element = _sub(parent, "ram:SpecifiedTradeAllowanceCharge")
    _sub(_sub(element, "ram:ChargeIndicator"), "udt:Indicator", "true" if is_charge else "false")
    if percentage is not None:
        _sub(element, "ram:CalculationPercent", _decimal(percentage))
    if base is not None:
        _sub(element, "ram:BasisAmount", _amount(base))
    _sub(element, "ram:ActualAmount", _amount(amount))
    if reason_code:
        _sub(element, "ram:ReasonCode", reason_code)
    # BR-33/BR-38/BR-42/BR-44: a reason or a reason code; Chœur writes the words when none were typed.
    _sub(element, "ram:Reason", reason or ("Frais" if is_charge else "Remise"))
    if category is not None:
        tax = _sub(element, "ram:CategoryTradeTax")
        _sub(tax, "ram:TypeCode", "VAT")
        _sub(tax, "ram:CategoryCode", category)
        if category != "O":
            _sub(tax, "ram:RateApplicablePercent", _decimal(rate or 0))
    return element


def _period(parent, start, end) -> None:
    if start or end:
        period = _sub(parent, "ram:BillingSpecifiedPeriod")
        if start:
            _date_element(period, "ram:StartDateTime", start)
        if end:
            _date_element(period, "ram:EndDateTime", end)


def _line_category(invoice: Invoice, line) -> str:
    if line.vat_category:
        return line.vat_category
    if invoice.type_tva == TypeTva.SANS_TVA:
        return "O"
    if invoice.type_tva == TypeTva.EXONERATION:
        return "E"
    return "Z" if line.vat_rate == 0 else "S"


def build_cii_xml(invoice: Invoice, *, snapshot: dict | None = None) -> bytes:
    """The Factur-X EN 16931 CII XML of a saved invoice whose lines, VAT lines and totals are stored."""
    snapshot = snapshot or invoice.snapshot or invoice_snapshot(invoice)
    lines = list(invoice.lines.order_by("position"))
    vat_lines = list(invoice.vat_lines.all())
    allowance_charges = list(invoice.allowance_charges.order_by("line_id", "position"))
    line_rows: dict[int, list] = {}
    for row in allowance_charges:
        line_rows.setdefault(row.line_id, []).append(row)
    if not lines:
        raise GenerationError("Une facture générée par Chœur comporte au moins une ligne.")
    if invoice.invoice_date is None or invoice.total_ttc is None:
        raise GenerationError("Date ou montants absents : contrôles non passés.")
    with_vat = invoice.type_tva != TypeTva.SANS_TVA
    currency = invoice.currency

    root = etree.Element(_q("rsm", "CrossIndustryInvoice"), nsmap=NS)
    context = _sub(root, "rsm:ExchangedDocumentContext")
    _sub(_sub(context, "ram:BusinessProcessSpecifiedDocumentContextParameter"), "ram:ID", invoice.cadre_code)
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", FACTURX_PROFILE)

    document = _sub(root, "rsm:ExchangedDocument")
    _sub(document, "ram:ID", invoice.number)
    _sub(document, "ram:TypeCode", TYPE_CODE[InvoiceType(invoice.invoice_type)])
    _date_element(document, "ram:IssueDateTime", invoice.invoice_date)
    for content, subject in _notes(invoice, snapshot):
        note = _sub(document, "ram:IncludedNote")
        _sub(note, "ram:Content", content)
        if subject:
            _sub(note, "ram:SubjectCode", subject)

    transaction = _sub(root, "rsm:SupplyChainTradeTransaction")
    for line in lines:
        category = _line_category(invoice, line)
        item = _sub(transaction, "ram:IncludedSupplyChainTradeLineItem")
        line_document = _sub(item, "ram:AssociatedDocumentLineDocument")
        _sub(line_document, "ram:LineID", line.position)
        if line.note:
            _sub(_sub(line_document, "ram:IncludedNote"), "ram:Content", line.note)
        product = _sub(item, "ram:SpecifiedTradeProduct")
        if line.reference:
            _sub(product, "ram:SellerAssignedID", line.reference)
        _sub(product, "ram:Name", line.designation)
        agreement = _sub(item, "ram:SpecifiedLineTradeAgreement")
        base_quantity = line.price_base_quantity if line.price_base_quantity not in (None, 1) else None
        if line.gross_price_ht is not None:
            gross = _sub(agreement, "ram:GrossPriceProductTradePrice")
            _sub(gross, "ram:ChargeAmount", _decimal(line.gross_price_ht))
            if base_quantity is not None:
                _sub(gross, "ram:BasisQuantity", _decimal(base_quantity), unitCode=line.unit or Unit.C62)
            if line.price_discount_ht:
                discount = _sub(gross, "ram:AppliedTradeAllowanceCharge")
                _sub(_sub(discount, "ram:ChargeIndicator"), "udt:Indicator", "false")
                _sub(discount, "ram:ActualAmount", _decimal(line.price_discount_ht))
        net_price = _sub(agreement, "ram:NetPriceProductTradePrice")
        _sub(net_price, "ram:ChargeAmount", _decimal(line.unit_price_ht))
        if base_quantity is not None:
            _sub(net_price, "ram:BasisQuantity", _decimal(base_quantity), unitCode=line.unit or Unit.C62)
        _sub(_sub(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", _decimal(line.quantity),
             unitCode=line.unit or Unit.C62)  # fmt: skip
        settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
        tax = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(tax, "ram:TypeCode", "VAT")
        _sub(tax, "ram:CategoryCode", category)
        if category != "O":
            _sub(tax, "ram:RateApplicablePercent", _decimal(line.vat_rate))
        _period(settlement, line.period_start, line.period_end)
        rows = line_rows.get(line.pk)
        if rows:
            for row in rows:
                _allowance_charge(
                    settlement, is_charge=row.is_charge, amount=row.amount, reason=row.reason,
                    reason_code=row.reason_code, base=row.base_amount, percentage=row.percentage,
                )  # fmt: skip
        else:
            if line.discount_ht:
                _allowance_charge(settlement, is_charge=False, amount=line.discount_ht, reason="Remise")
            if line.charge_ht:
                _allowance_charge(settlement, is_charge=True, amount=line.charge_ht, reason="Frais")
        summation = _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _sub(summation, "ram:LineTotalAmount", _amount(line.line_net_ht))

    agreement = _sub(transaction, "ram:ApplicableHeaderTradeAgreement")
    recipient = snapshot["recipient"]
    if recipient["service"]:
        _sub(agreement, "ram:BuyerReference", recipient["service"]["code"])
    _trade_party(agreement, "ram:SellerTradeParty", snapshot["supplier"], with_vat=with_vat)
    _trade_party(agreement, "ram:BuyerTradeParty", recipient, with_vat=with_vat)
    if invoice.numero_engagement:
        _sub(_sub(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", invoice.numero_engagement)
    if invoice.numero_marche:
        _sub(_sub(agreement, "ram:ContractReferencedDocument"), "ram:IssuerAssignedID", invoice.numero_marche)

    delivery = _sub(transaction, "ram:ApplicableHeaderTradeDelivery")
    if invoice.delivery_date:
        _date_element(_sub(delivery, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime",
                      invoice.delivery_date)  # fmt: skip

    settlement = _sub(transaction, "ram:ApplicableHeaderTradeSettlement")
    _sub(settlement, "ram:PaymentReference", invoice.number)
    _sub(settlement, "ram:InvoiceCurrencyCode", currency)
    if invoice.payment_mode:
        means = _sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _sub(means, "ram:TypeCode", _payment_means_code(invoice, snapshot))
        _sub(means, "ram:Information", PaymentMode(invoice.payment_mode).label)
        account = snapshot.get("bank_account")
        if account and invoice.payment_mode in (PaymentMode.VIREMENT, PaymentMode.PRELEVEMENT):
            creditor = _sub(means, "ram:PayeePartyCreditorFinancialAccount")
            _sub(creditor, "ram:IBANID", account["iban"].replace(" ", ""))
            if account["holder"]:
                _sub(creditor, "ram:AccountName", account["holder"])
            if account["bic"]:
                _sub(_sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", account["bic"])
    for vat in vat_lines:
        tax = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(tax, "ram:CalculatedAmount", _amount(vat.vat_amount))
        _sub(tax, "ram:TypeCode", "VAT")
        reason = _exemption_reason(invoice, vat.category)
        if reason:
            _sub(tax, "ram:ExemptionReason", reason)
        _sub(tax, "ram:BasisAmount", _amount(vat.base_ht))
        _sub(tax, "ram:CategoryCode", vat.category)
        if vat.category in ("S", "Z") and invoice.type_tva in TAX_POINT_CODE:
            _sub(tax, "ram:DueDateTypeCode", TAX_POINT_CODE[TypeTva(invoice.type_tva)])
        if vat.category != "O":
            _sub(tax, "ram:RateApplicablePercent", _decimal(vat.rate))
    _period(settlement, invoice.period_start, invoice.period_end)
    for row in line_rows.get(None, []):
        _allowance_charge(
            settlement, is_charge=row.is_charge, amount=row.amount, reason=row.reason, reason_code=row.reason_code,
            base=row.base_amount, percentage=row.percentage, category=row.vat_category or "S", rate=row.vat_rate,
        )  # fmt: skip
    terms = _sub(settlement, "ram:SpecifiedTradePaymentTerms")
    _sub(terms, "ram:Description", _payment_terms(invoice, snapshot))
    if invoice.invoice_type == InvoiceType.FACTURE and invoice.cadre != Cadre.A2:
        _date_element(terms, "ram:DueDateDateTime", datetime.date.fromisoformat(snapshot["due_date"]))
    summation = _sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    line_total = invoice.line_total_ht if invoice.line_total_ht is not None else invoice.total_ht
    _sub(summation, "ram:LineTotalAmount", _amount(line_total))
    if invoice.charge_total_ht:
        _sub(summation, "ram:ChargeTotalAmount", _amount(invoice.charge_total_ht))
    if invoice.allowance_total_ht:
        _sub(summation, "ram:AllowanceTotalAmount", _amount(invoice.allowance_total_ht))
    _sub(summation, "ram:TaxBasisTotalAmount", _amount(invoice.total_ht))
    _sub(summation, "ram:TaxTotalAmount", _amount(invoice.total_tva), currencyID=currency)
    if invoice.rounding_amount:
        _sub(summation, "ram:RoundingAmount", _amount(invoice.rounding_amount))
    _sub(summation, "ram:GrandTotalAmount", _amount(invoice.total_ttc))
    # BT-113 carries what is already paid and Chorus Pro's remise globale TTC (see the module docstring).
    prepaid = (invoice.prepaid_amount or 0) + (invoice.remise_globale_ttc or 0)
    if prepaid:
        _sub(summation, "ram:TotalPrepaidAmount", _amount(prepaid))
    _sub(summation, "ram:DuePayableAmount", _amount(invoice.montant_a_payer))
    origin_number = invoice.origin_number or (invoice.origin_invoice.number if invoice.origin_invoice_id else "")
    if origin_number:
        reference = _sub(settlement, "ram:InvoiceReferencedDocument")
        _sub(reference, "ram:IssuerAssignedID", origin_number)
        origin_date = invoice.origin_date or (
            invoice.origin_invoice.invoice_date if invoice.origin_invoice_id else None
        )
        if origin_date:
            _date_element(reference, "ram:FormattedIssueDateTime", origin_date, qualified=True)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- PDF/A-3 ------------------------------------------------------------------------------------------


def _fx_xmp_descriptions() -> list[etree._Element]:
    """The `fx:` properties and their PDF/A extension schema description (required for PDF/A-3 validity
    of custom XMP properties), as in the Factur-X specification's sample XMP."""
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    extension = "http://www.aiim.org/pdfa/ns/extension/"
    schema = "http://www.aiim.org/pdfa/ns/schema#"
    prop = "http://www.aiim.org/pdfa/ns/property#"
    fx = etree.Element(f"{{{rdf}}}Description", {f"{{{rdf}}}about": ""}, nsmap={"rdf": rdf, "fx": FX_NAMESPACE})
    for name, value in (
        ("DocumentType", "INVOICE"),
        ("DocumentFileName", FACTURX_FILENAME),
        ("Version", FX_VERSION),
        ("ConformanceLevel", FX_CONFORMANCE_LEVEL),
    ):
        etree.SubElement(fx, f"{{{FX_NAMESPACE}}}{name}").text = value
    description = etree.Element(
        f"{{{rdf}}}Description",
        {f"{{{rdf}}}about": ""},
        nsmap={"rdf": rdf, "pdfaExtension": extension, "pdfaSchema": schema, "pdfaProperty": prop},
    )
    bag = etree.SubElement(etree.SubElement(description, f"{{{extension}}}schemas"), f"{{{rdf}}}Bag")
    item = etree.SubElement(bag, f"{{{rdf}}}li", {f"{{{rdf}}}parseType": "Resource"})
    etree.SubElement(item, f"{{{schema}}}schema").text = "Factur-X PDFA Extension Schema"
    etree.SubElement(item, f"{{{schema}}}namespaceURI").text = FX_NAMESPACE
    etree.SubElement(item, f"{{{schema}}}prefix").text = "fx"
    seq = etree.SubElement(etree.SubElement(item, f"{{{schema}}}property"), f"{{{rdf}}}Seq")
    for name, text in (
        ("DocumentFileName", "name of the embedded XML invoice file"),
        ("DocumentType", "INVOICE"),
        ("Version", "The actual version of the Factur-X XML schema"),
        ("ConformanceLevel", "The conformance level of the embedded Factur-X data"),
    ):
        entry = etree.SubElement(seq, f"{{{rdf}}}li", {f"{{{rdf}}}parseType": "Resource"})
        etree.SubElement(entry, f"{{{prop}}}name").text = name
        etree.SubElement(entry, f"{{{prop}}}valueType").text = "Text"
        etree.SubElement(entry, f"{{{prop}}}category").text = "external"
        etree.SubElement(entry, f"{{{prop}}}description").text = text
    return [fx, description]


def _facturx_metadata(metadata):
    """WeasyPrint's metadata, with the fx: descriptions inside its own rdf:RDF (XMP allows one per packet)."""
    from weasyprint.pdf.metadata import DocumentMetadata

    class FacturXMetadata(DocumentMetadata):
        def generate_rdf_metadata(self, variant, version, conformance):
            rdf = etree.fromstring(super().generate_rdf_metadata(variant, version, conformance))
            for element in _fx_xmp_descriptions():
                rdf.append(element)
            return etree.tostring(rdf)

    return FacturXMetadata(**vars(metadata))


def _no_fetch():
    """Documents are self-contained: WeasyPrint fetches nothing (no file, no network)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",))


def render_html_pdf(html: str, *, pdf_variant: str, attachments=(), facturx: bool = False) -> bytes:
    from weasyprint import HTML

    document = HTML(string=html, url_fetcher=_no_fetch()).render()
    if facturx:
        document.metadata = _facturx_metadata(document.metadata)
    return document.write_pdf(pdf_variant=pdf_variant, attachments=list(attachments))


def _line_details(line, currency: str) -> str:
    """What a line carries beyond quantity × price: gross price and discount, periods, reasons, note."""
    parts = []
    if line.gross_price_ht is not None:
        text = f"prix brut {_price(line.gross_price_ht).replace('.', ',')}"
        if line.price_discount_ht:
            text += f", rabais {_price(line.price_discount_ht).replace('.', ',')}"
        parts.append(text)
    if line.price_base_quantity not in (None, 1):
        parts.append(f"prix pour {_decimal(line.price_base_quantity).replace('.', ',')} unités")
    for row in getattr(line, "detail_rows", []):
        parts.append(
            f"{row.label.lower()} {format_amount(row.amount, currency)}" + (f" ({row.reason})" if row.reason else "")
        )
    if line.period_start or line.period_end:
        start = line.period_start.strftime("%d/%m/%Y") if line.period_start else "…"
        end = line.period_end.strftime("%d/%m/%Y") if line.period_end else "…"
        parts.append(f"période du {start} au {end}")
    if line.note:
        parts.append(line.note)
    return " ; ".join(parts)


def document_context(invoice: Invoice, snapshot: dict) -> dict:
    from choeur.invoices.computations import VAT_CATEGORY_LABELS
    from choeur.invoices.terms import business_terms_display

    lines = list(invoice.lines.order_by("position"))
    rows = list(invoice.allowance_charges.order_by("position"))
    by_line: dict[int, list] = {}
    for row in rows:
        if row.line_id:
            by_line.setdefault(row.line_id, []).append(row)
    for line in lines:
        line.detail_rows = by_line.get(line.pk, [])
    rule = cadre_rule(invoice.cadre)
    currency = invoice.currency
    return {
        "invoice": invoice,
        "snapshot": snapshot,
        "title": ("Avoir" if invoice.is_avoir else "Facture") + f" n° {invoice.number}",
        "cadre": rule,
        "lines": [
            {
                "line": line,
                "quantity": _decimal(line.quantity).replace(".", ","),
                "unit": Unit(line.unit).label if line.unit in Unit.values else line.unit,
                "unit_price": _price(line.unit_price_ht).replace(".", ","),
                "discount": format_amount(line.discount_ht, currency) if line.discount_ht else "",
                "charge": format_amount(line.charge_ht, currency) if line.charge_ht else "",
                "rate": format_rate(line.vat_rate) if invoice.type_tva not in (TypeTva.SANS_TVA,) else "—",
                "net": format_amount(line.line_net_ht, currency),
                "details": _line_details(line, currency),
            }
            for line in lines
        ],
        "allowance_charges": [
            {
                "label": row.label,
                "sign": "+" if row.is_charge else "−",
                "reason": " — ".join(v for v in (row.reason, row.reason_code) if v),
                "base": format_amount(row.base_amount, currency) if row.base_amount is not None else "",
                "percentage": format_rate(row.percentage) if row.percentage is not None else "",
                "rate": format_rate(row.vat_rate) if row.vat_rate is not None and row.vat_category != "O" else "—",
                "amount": format_amount(row.amount, currency),
            }
            for row in rows
            if row.line_id is None
        ],
        "vat_lines": [
            {
                "rate": format_rate(vat.rate) if vat.category != "O" else "—",
                "category": VAT_CATEGORY_LABELS.get(vat.category, vat.category),
                "base": format_amount(vat.base_ht, currency),
                "amount": format_amount(vat.vat_amount, currency),
                "reason": " — ".join(v for v in (vat.exemption_reason, vat.exemption_reason_code) if v)
                or _exemption_reason(invoice, vat.category),
            }
            for vat in invoice.vat_lines.all()
        ],
        "totals": {
            "lines": format_amount(invoice.line_total_ht, currency) if invoice.line_total_ht is not None else "",
            "allowances": format_amount(invoice.allowance_total_ht, currency) if invoice.allowance_total_ht else "",
            "charges": format_amount(invoice.charge_total_ht, currency) if invoice.charge_total_ht else "",
            "ht": format_amount(invoice.total_ht, currency),
            "tva": format_amount(invoice.total_tva, currency),
            "ttc": format_amount(invoice.total_ttc, currency),
            "prepaid": format_amount(invoice.prepaid_amount, currency) if invoice.prepaid_amount else "",
            "remise": format_amount(invoice.remise_globale_ttc, currency) if invoice.remise_globale_ttc else "",
            "rounding": format_amount(invoice.rounding_amount, currency) if invoice.rounding_amount else "",
            "a_payer": format_amount(invoice.montant_a_payer, currency),
        },
        "business_terms": business_terms_display(invoice.business_terms),
        "payment_terms": _payment_terms(invoice, snapshot),
        "due_date": (
            datetime.date.fromisoformat(snapshot["due_date"])
            if invoice.invoice_type == InvoiceType.FACTURE and invoice.cadre != Cadre.A2
            else None
        ),
        "notes": [content for content, _ in _notes(invoice, snapshot)],
    }


def render_pdf(invoice: Invoice, *, xml: bytes, snapshot: dict) -> bytes:
    """The readable invoice as Factur-X PDF/A-3b with `xml` embedded."""
    from weasyprint import Attachment

    html = render_to_string("invoices/invoice_document.html", document_context(invoice, snapshot))
    attachment = Attachment(
        string=xml, name=FACTURX_FILENAME, description="Facture au format Factur-X (CII)", relationship="Data"
    )
    return render_html_pdf(html, pdf_variant="pdf/a-3b", attachments=[attachment], facturx=True)


def generate_facturx(invoice: Invoice, *, snapshot: dict) -> tuple[bytes, bytes]:
    """(PDF, XML) of the invoice. Raises GenerationError on any failure, with the cause chained."""
    try:
        xml = build_cii_xml(invoice, snapshot=snapshot)
        pdf = render_pdf(invoice, xml=xml, snapshot=snapshot)
    except GenerationError:
        raise
    except Exception as exc:
        raise GenerationError(f"Génération Factur-X impossible : {exc!r}") from exc
    return pdf, xml
