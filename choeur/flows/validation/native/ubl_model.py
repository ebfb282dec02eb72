"""EN 16931 business rules on UBL: BR-01…BR-65, BR-CO-*, BR-DEC-* (pattern « UBL-model » of the CEN artefacts).

Each function judges one rule context of the official schematron (the same nodes, matched once) and reports
the rules whose condition does not hold. Conditions follow the norm's XPath 2.0 semantics: decimal arithmetic,
BR-CO rounding half up to two decimals, existence tests on nodes rather than on values.
"""

from __future__ import annotations

import re
from datetime import date

from choeur.flows.validation.native import xpath2 as x
from choeur.flows.validation.native.ubl_base import (
    ALLOWANCE_CHARGE,
    CREDIT_NOTE_LINE,
    INVOICE_LINE,
    LINE_TAGS,
    UblDoc,
    c,
    ns_at,
    p,
)

FATAL, WARNING = "fatal", "warning"

RULES: dict[str, str] = {
    **{f"BR-{n:02d}": FATAL for n in range(1, 66) if n not in (34, 35, 39, 40, 58, 59, 60)},
    "BR-51": WARNING,
    # BR-CO-05…08 are asserted `true()` in the UBL binding: official ids that can never fire.
    **{f"BR-CO-{n:02d}": FATAL for n in (*range(3, 9), *range(10, 25), 26)},
    **{f"BR-DEC-{n:02d}": FATAL for n in (1, 2, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 23, 24, 25)},
    "BR-DEC-27": FATAL,
    "BR-DEC-28": FATAL,
}
# BR-CO-09 and BR-CL-08 (UBL-model assertions on code lists) live in ubl_codes.

_AMOUNT = c("cbc:Amount")
_BASE_AMOUNT = c("cbc:BaseAmount")
_LEA = c("cbc:LineExtensionAmount")
_REASON = c("cbc:AllowanceChargeReason")
_REASON_CODE = c("cbc:AllowanceChargeReasonCode")


def _exists(element, path: str) -> bool:
    return element.find(path) is not None


def _places(element, tag: str) -> int:
    """string-length(substring-after(tag, '.'))."""
    return x.decimal_places(x.text(x.one(element, tag)))


def _has_vat_category_id(doc: UblDoc, element, tag: str = c("cac:TaxCategory")) -> bool:
    return any(doc.vat_scheme(cat) and cat.find(c("cbc:ID")) is not None for cat in element.findall(tag))


def check(doc: UblDoc) -> None:
    _documents(doc)
    _parties(doc)
    _document_allowances(doc)
    _totals(doc)
    _lines(doc)
    _periods(doc)
    _tax_totals(doc)
    _misc(doc)


def _documents(doc: UblDoc) -> None:
    if not doc.is_document:
        return
    root = doc.root
    ok = doc.check
    ok(x.ns_one(root, c("cbc:CustomizationID")) != "", "BR-01", root)
    ok(x.ns_one(root, c("cbc:ID")) != "", "BR-02", root)
    ok(x.ns_one(root, c("cbc:IssueDate")) != "", "BR-03", root)
    ok(
        x.ns_one(root, c("cbc:InvoiceTypeCode")) != "" or x.ns_one(root, c("cbc:CreditNoteTypeCode")) != "",
        "BR-04",
        root,
    )
    ok(x.ns_one(root, c("cbc:DocumentCurrencyCode")) != "", "BR-05", root)
    ok(
        ns_at(root, p("cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName")) != "",
        "BR-06",
        root,
    )
    ok(
        ns_at(root, p("cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName")) != "",
        "BR-07",
        root,
    )
    ok(_exists(root, p("cac:AccountingSupplierParty/cac:Party/cac:PostalAddress")), "BR-08", root)
    ok(_exists(root, p("cac:AccountingCustomerParty/cac:Party/cac:PostalAddress")), "BR-10", root)
    ok(bool(doc.lines), "BR-16", root)
    tax_amounts = [e for tt in doc.all(c("cac:TaxTotal")) for e in tt.findall(c("cbc:TaxAmount"))]
    currencies = {e.get("currencyID") for e in tax_amounts}
    ok(all(x.text(tc) in currencies for tc in root.findall(c("cbc:TaxCurrencyCode"))), "BR-53", root)
    ok(
        not (_exists(root, c("cbc:TaxPointDate")) and _exists(root, p("cac:InvoicePeriod/cbc:DescriptionCode"))),
        "BR-CO-03",
        root,
    )
    ok(_br_co_15(root), "BR-CO-15", root)
    ok(_exists(root, p("cac:TaxTotal/cac:TaxSubtotal")), "BR-CO-18", root)
    # BR-DEC-13/15: the tax amount « in the document (tax) currency » is selected in the official binding by a
    # predicate read from the TaxAmount itself, which never holds in a UBL document: a literal reading.
    for rule, code_tag in (("BR-DEC-13", "cbc:DocumentCurrencyCode"), ("BR-DEC-15", "cbc:TaxCurrencyCode")):
        selected = [e for e in tax_amounts if any(x.text(k) == e.get("currencyID") for k in e.findall(c(code_tag)))]
        if len(selected) > 1:
            raise x.DynamicError("plusieurs montants de TVA là où un seul est permis", root)
        ok(not selected or x.decimal_places(x.text(selected[0])) <= 2, rule, root)


def _br_co_15(root) -> bool:
    totals = root.findall(c("cac:TaxTotal"))
    monetary = root.findall(c("cac:LegalMonetaryTotal"))
    for currency in root.findall(c("cbc:DocumentCurrencyCode")):
        code = x.text(currency)
        amounts = []
        for tt in totals:
            matching = [e for e in tt.findall(c("cbc:TaxAmount")) if e.get("currencyID") == code]
            if len(matching) > 1:
                raise x.DynamicError("plusieurs montants de TVA dans la même devise", tt)
            amounts.extend(x.dec_all(matching))
        if len(amounts) != 1:
            return False
        inclusive = [v for m in monetary if (v := x.dec_one(m, c("cbc:TaxInclusiveAmount"))) is not None]
        exclusive = [v for m in monetary if (v := x.dec_one(m, c("cbc:TaxExclusiveAmount"))) is not None]
        if len(inclusive) > 1 or len(exclusive) > 1:
            raise x.DynamicError("plusieurs totaux là où un seul est permis", root)
        if not inclusive or not exclusive:
            return False
        if inclusive[0] != x.round2(exclusive[0] + amounts[0]):
            return False
    return True


def _parties(doc: UblDoc) -> None:
    ok = doc.check
    customer_party = (c("cac:AccountingCustomerParty"), c("cac:Party"))
    supplier_party = (c("cac:AccountingSupplierParty"), c("cac:Party"))
    for endpoint in doc.all(c("cbc:EndpointID")):
        chain = _chain(endpoint, 2)
        if chain == customer_party:
            ok(endpoint.get("schemeID") is not None, "BR-63", endpoint)
        elif chain == supplier_party:
            ok(endpoint.get("schemeID") is not None, "BR-62", endpoint)
    country = p("cac:Country/cbc:IdentificationCode")
    for address in doc.all(c("cac:PostalAddress")):
        chain = _chain(address, 2)
        if chain == customer_party:
            ok(ns_at(address, country) != "", "BR-11", address)
        elif chain == supplier_party:
            ok(ns_at(address, country) != "", "BR-09", address)
        elif chain[-1] == c("cac:TaxRepresentativeParty"):
            ok(ns_at(address, country) != "", "BR-20", address)
    for address in doc.all(c("cac:Address")):
        if _chain(address, 2) == (c("cac:Delivery"), c("cac:DeliveryLocation")):
            ok(_exists(address, country), "BR-57", address)
    for supplier in doc.all(c("cac:AccountingSupplierParty")):
        ok(
            any(
                doc.vat_scheme(pts) and pts.find(c("cbc:CompanyID")) is not None
                for pts in supplier.findall(p("cac:Party/cac:PartyTaxScheme"))
            )
            or any(
                e.get("schemeID") != "SEPA" for e in supplier.findall(p("cac:Party/cac:PartyIdentification/cbc:ID"))
            )
            or _exists(supplier, p("cac:Party/cac:PartyLegalEntity/cbc:CompanyID")),
            "BR-CO-26",
            supplier,
        )
    for representative in doc.all(c("cac:TaxRepresentativeParty")):
        ok(ns_at(representative, p("cac:PartyName/cbc:Name")) != "", "BR-18", representative)
        ok(_exists(representative, c("cac:PostalAddress")), "BR-19", representative)
        ok(
            any(
                doc.vat_scheme_single(pts) and pts.find(c("cbc:CompanyID")) is not None
                for pts in representative.findall(c("cac:PartyTaxScheme"))
            ),
            "BR-56",
            representative,
        )
    for payee in doc.all(c("cac:PayeeParty")):
        names = {x.text(e) for e in payee.findall(p("cac:PartyName/cbc:Name"))}
        ids = {x.text(e) for e in payee.findall(p("cac:PartyIdentification/cbc:ID"))}
        parent = payee.getparent()
        seller_names = {
            x.text(e) for e in parent.findall(p("cac:AccountingSupplierParty/cac:Party/cac:PartyName/cbc:Name"))
        }
        seller_ids = {
            x.text(e)
            for e in parent.findall(p("cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID"))
        }
        ok(bool(names) and not (names & seller_names) and not (ids & seller_ids), "BR-17", payee)


def _chain(element, depth: int) -> tuple:
    """The tags of the `depth` nearest ancestors, outermost first."""
    tags = []
    node = element.getparent()
    while node is not None and len(tags) < depth:
        tags.append(node.tag)
        node = node.getparent()
    return tuple(reversed(tags))


def _reasons(ac) -> bool:
    return ac.find(_REASON) is not None or ac.find(_REASON_CODE) is not None


def _document_allowances(doc: UblDoc) -> None:
    ok = doc.check
    kinds = doc.allowance_kinds
    for ac in doc.top(ALLOWANCE_CHARGE):
        allowance, charge = kinds[ac]
        if allowance:
            ok(ac.find(_AMOUNT) is not None, "BR-31", ac)
            ok(_has_vat_category_id(doc, ac), "BR-32", ac)
            ok(_reasons(ac), "BR-33", ac)
            ok(_reasons(ac), "BR-CO-21", ac)
            ok(_places(ac, _AMOUNT) <= 2, "BR-DEC-01", ac)
            ok(_places(ac, _BASE_AMOUNT) <= 2, "BR-DEC-02", ac)
        elif charge:
            ok(ac.find(_AMOUNT) is not None, "BR-36", ac)
            ok(_has_vat_category_id(doc, ac), "BR-37", ac)
            ok(_reasons(ac), "BR-38", ac)
            ok(_reasons(ac), "BR-CO-22", ac)
            ok(_places(ac, _AMOUNT) <= 2, "BR-DEC-05", ac)
            ok(_places(ac, _BASE_AMOUNT) <= 2, "BR-DEC-06", ac)
    for line_tag in LINE_TAGS:
        for line in doc.all(line_tag):
            for ac in line.findall(ALLOWANCE_CHARGE):
                allowance, charge = kinds[ac]
                if allowance:
                    ok(ac.find(_AMOUNT) is not None, "BR-41", ac)
                    ok(_reasons(ac), "BR-42", ac)
                    ok(_reasons(ac), "BR-CO-23", ac)
                    ok(_places(ac, _AMOUNT) <= 2, "BR-DEC-24", ac)
                    ok(_places(ac, _BASE_AMOUNT) <= 2, "BR-DEC-25", ac)
                elif charge:
                    ok(ac.find(_AMOUNT) is not None, "BR-43", ac)
                    ok(_reasons(ac), "BR-44", ac)
                    ok(_reasons(ac), "BR-CO-24", ac)
                    ok(_places(ac, _AMOUNT) <= 2, "BR-DEC-27", ac)
                    ok(_places(ac, _BASE_AMOUNT) <= 2, "BR-DEC-28", ac)


_MONETARY_PLACES = (
    ("BR-DEC-09", "cbc:LineExtensionAmount"),
    ("BR-DEC-10", "cbc:AllowanceTotalAmount"),
    ("BR-DEC-11", "cbc:ChargeTotalAmount"),
    ("BR-DEC-12", "cbc:TaxExclusiveAmount"),
    ("BR-DEC-14", "cbc:TaxInclusiveAmount"),
    ("BR-DEC-16", "cbc:PrepaidAmount"),
    ("BR-DEC-17", "cbc:PayableRoundingAmount"),
    ("BR-DEC-18", "cbc:PayableAmount"),
)


def _eq(a, b) -> bool:
    """`a = b` on two optional decimals (the empty sequence compares false)."""
    return a is not None and b is not None and a == b


def _add(*values):
    """Decimal sum where an empty operand makes the result empty."""
    if any(v is None for v in values):
        return None
    return x.dsum(values)


def _totals(doc: UblDoc) -> None:
    ok = doc.check
    if doc.all(c("cac:LegalMonetaryTotal")):
        lines = doc.all(INVOICE_LINE) + doc.all(CREDIT_NOTE_LINE)
        line_sum = x.dsum(v for line in lines if (v := x.dec_one(line, _LEA)) is not None)
    kinds = doc.allowance_kinds
    for total in doc.all(c("cac:LegalMonetaryTotal")):
        for rule, tag in (("BR-12", "cbc:LineExtensionAmount"), ("BR-13", "cbc:TaxExclusiveAmount")):
            ok(total.find(c(tag)) is not None, rule, total)
        ok(total.find(c("cbc:TaxInclusiveAmount")) is not None, "BR-14", total)
        ok(total.find(c("cbc:PayableAmount")) is not None, "BR-15", total)
        lea = x.dec_one(total, _LEA)
        ok(_eq(lea, x.round2(line_sum)), "BR-CO-10", total)
        siblings = total.getparent().findall(ALLOWANCE_CHARGE)
        for rule, tag, index in (
            ("BR-CO-11", "cbc:AllowanceTotalAmount", 0),
            ("BR-CO-12", "cbc:ChargeTotalAmount", 1),
        ):
            selected = [ac for ac in siblings if kinds[ac][index]]
            stated = x.dec_one(total, c(tag))
            expected = x.round2(x.dsum(x.dec_all(e for ac in selected for e in ac.findall(_AMOUNT))))
            ok(_eq(stated, expected) or (total.find(c(tag)) is None and not selected), rule, total)
        ok(_br_co_13(total), "BR-CO-13", total)
        ok(_br_co_16(total), "BR-CO-16", total)
        for rule, tag in _MONETARY_PLACES:
            ok(_places(total, c(tag)) <= 2, rule, total)


def _br_co_13(total) -> bool:
    has_charges = total.find(c("cbc:ChargeTotalAmount")) is not None
    has_allowances = total.find(c("cbc:AllowanceTotalAmount")) is not None
    exclusive = x.dec_one(total, c("cbc:TaxExclusiveAmount"))
    lines = x.dec_one(total, _LEA)
    if has_charges and has_allowances:
        charges = x.dec_one(total, c("cbc:ChargeTotalAmount"))
        allowances = x.dec_one(total, c("cbc:AllowanceTotalAmount"))
        expected = _add(lines, charges, None if allowances is None else -allowances)
        return _eq(exclusive, None if expected is None else x.round2(expected))
    if has_allowances:
        allowances = x.dec_one(total, c("cbc:AllowanceTotalAmount"))
        expected = _add(lines, None if allowances is None else -allowances)
        return _eq(exclusive, None if expected is None else x.round2(expected))
    if has_charges:
        expected = _add(lines, x.dec_one(total, c("cbc:ChargeTotalAmount")))
        return _eq(exclusive, None if expected is None else x.round2(expected))
    return _eq(exclusive, lines)


def _br_co_16(total) -> bool:
    has_prepaid = total.find(c("cbc:PrepaidAmount")) is not None
    has_rounding = total.find(c("cbc:PayableRoundingAmount")) is not None
    payable = x.dec_one(total, c("cbc:PayableAmount"))
    inclusive = x.dec_one(total, c("cbc:TaxInclusiveAmount"))

    def r2(value):
        return None if value is None else x.round2(value)

    def minus(a, b):
        return None if a is None or b is None else x.dsum((a, -b))

    if has_prepaid and not has_rounding:
        return _eq(payable, r2(minus(inclusive, x.dec_one(total, c("cbc:PrepaidAmount")))))
    if not has_prepaid and not has_rounding:
        return _eq(payable, inclusive)
    rounding = x.dec_one(total, c("cbc:PayableRoundingAmount"))
    if has_prepaid:
        prepaid = x.dec_one(total, c("cbc:PrepaidAmount"))
        return _eq(r2(minus(payable, rounding)), r2(minus(inclusive, prepaid)))
    return _eq(r2(minus(payable, rounding)), inclusive)


def _ge_zero(elements) -> bool:
    """`(path) >= 0`: some value, cast to xs:double, is ≥ 0 (NaN never is)."""
    return any(x.double(x.text(e), e) >= 0 for e in elements)


def _lines(doc: UblDoc) -> None:
    ok = doc.check
    vat_id = c("cbc:ID")
    for line_tag in LINE_TAGS:
        for line in doc.all(line_tag):
            ok(x.ns_one(line, c("cbc:ID")) != "", "BR-21", line)
            quantities = line.findall(c("cbc:InvoicedQuantity")) + line.findall(c("cbc:CreditedQuantity"))
            ok(bool(quantities), "BR-22", line)
            ok(any(q.get("unitCode") is not None for q in quantities), "BR-23", line)
            ok(line.find(_LEA) is not None, "BR-24", line)
            ok(ns_at(line, p("cac:Item/cbc:Name")) != "", "BR-25", line)
            prices = line.findall(p("cac:Price/cbc:PriceAmount"))
            ok(bool(prices), "BR-26", line)
            ok(_ge_zero(prices), "BR-27", line)
            bases = line.findall(p("cac:Price/cac:AllowanceCharge/cbc:BaseAmount"))
            ok(_ge_zero(bases) or not bases, "BR-28", line)
            ok(
                any(
                    doc.vat_scheme_single(cat) and cat.find(vat_id) is not None
                    for cat in line.findall(p("cac:Item/cac:ClassifiedTaxCategory"))
                ),
                "BR-CO-04",
                line,
            )
            ok(_places(line, _LEA) <= 2, "BR-DEC-23", line)
            for code in line.findall(p("cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode")):
                ok(code.get("listID") is not None, "BR-65", code)
            for ident in line.findall(p("cac:Item/cac:StandardItemIdentification/cbc:ID")):
                ok(ident.get("schemeID") is not None, "BR-64", ident)


_DATE = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")


def _date(element):
    """xs:date(untypedAtomic) as a comparable instant (implicit timezone UTC); bad text is a dynamic error."""
    value = x.text(element).strip(" \t\r\n")
    match = _DATE.fullmatch(value)
    try:
        if not match:
            raise ValueError
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise x.DynamicError(f"« {value[:40]} » n'est pas une date AAAA-MM-JJ", element) from None
    zone = match[4]
    offset = 0
    if zone and zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        offset = (hours * 60 + minutes) * (1 if zone[0] == "+" else -1)
    return day.toordinal() * 1440 - offset


def _period_order(period) -> bool:
    starts = period.findall(c("cbc:StartDate"))
    ends = period.findall(c("cbc:EndDate"))
    if not starts or not ends:
        return True
    start = _date(x.one(period, c("cbc:StartDate")))
    end = _date(x.one(period, c("cbc:EndDate")))
    return end >= start


def _periods(doc: UblDoc) -> None:
    ok = doc.check
    for period in doc.all(c("cac:InvoicePeriod")):
        has_start = period.find(c("cbc:StartDate")) is not None
        has_end = period.find(c("cbc:EndDate")) is not None
        if period.getparent().tag in LINE_TAGS:
            ok(_period_order(period), "BR-30", period)
            ok(has_start or has_end, "BR-CO-20", period)
        else:
            ok(_period_order(period), "BR-29", period)
            ok(has_start or has_end or period.find(c("cbc:DescriptionCode")) is not None, "BR-CO-19", period)


def _tax_totals(doc: UblDoc) -> None:
    ok = doc.check
    for total in doc.top(c("cac:TaxTotal")):
        subtotals = total.findall(c("cac:TaxSubtotal"))
        if subtotals:  # Saxon tests `not(cac:TaxSubtotal)` first: without subtotals, no amount is read
            stated = x.dec_one(total, c("cbc:TaxAmount"))
            expected = x.round2(x.dsum(v for s in subtotals if (v := x.dec_one(s, c("cbc:TaxAmount"))) is not None))
            ok(_eq(stated, expected), "BR-CO-14", total)
    for subtotal in doc.under(c("cac:TaxSubtotal"), c("cac:TaxTotal")):
        ok(subtotal.find(c("cbc:TaxableAmount")) is not None, "BR-45", subtotal)
        ok(subtotal.find(c("cbc:TaxAmount")) is not None, "BR-46", subtotal)
        vat_categories = [cat for cat in subtotal.findall(c("cac:TaxCategory")) if doc.vat_scheme(cat)]
        ok(any(cat.find(c("cbc:ID")) is not None for cat in vat_categories), "BR-47", subtotal)
        ok(
            any(cat.find(c("cbc:Percent")) is not None for cat in vat_categories)
            or any(doc.category_code(cat) == "O" for cat in vat_categories),
            "BR-48",
            subtotal,
        )
        ok(_br_co_17(subtotal, vat_categories), "BR-CO-17", subtotal)
        ok(_places(subtotal, c("cbc:TaxableAmount")) <= 2, "BR-DEC-19", subtotal)
        ok(_places(subtotal, c("cbc:TaxAmount")) <= 2, "BR-DEC-20", subtotal)


def _br_co_17(subtotal, vat_categories) -> bool:
    rates = [v for cat in vat_categories if (v := x.dec_one(cat, c("cbc:Percent"))) is not None]
    if len(rates) > 1:
        raise x.DynamicError("plusieurs taux de TVA dans une ventilation", subtotal)
    if not rates:
        amount = x.dec_one(subtotal, c("cbc:TaxAmount"))
        return amount is not None and x.round_half_up(amount) == 0
    rate = rates[0]
    amount = x.dec_one(subtotal, c("cbc:TaxAmount"))
    if x.round_half_up(rate) == 0:
        return amount is not None and x.round_half_up(amount) == 0
    taxable = x.dec_one(subtotal, c("cbc:TaxableAmount"))
    if amount is None or taxable is None:
        return False
    expected = x.round2(x.mul(abs(taxable), rate / 100))
    return abs(amount) - 1 < expected and abs(amount) + 1 > expected


def _misc(doc: UblDoc) -> None:
    ok = doc.check
    for reference in doc.all(c("cac:AdditionalDocumentReference")):
        ok(x.ns_one(reference, c("cbc:ID")) != "", "BR-52", reference)
    for number in doc.all(c("cbc:PrimaryAccountNumberID")):
        if _chain(number, 2) == (c("cac:PaymentMeans"), c("cac:CardAccount")):
            doc.check(len(x.normalize(x.text(number))) <= 10, "BR-51", number)
    for prop in doc.all(c("cac:AdditionalItemProperty")):
        ok(prop.find(c("cbc:Name")) is not None and prop.find(c("cbc:Value")) is not None, "BR-54", prop)
    for means in doc.all(c("cac:PaymentMeans")):
        codes = means.findall(c("cbc:PaymentMeansCode"))
        if any(x.text(e) in ("30", "58") for e in codes):
            for account in means.findall(c("cac:PayeeFinancialAccount")):
                ok(x.ns_one(account, c("cbc:ID")) != "", "BR-50", account)
        ok(bool(codes), "BR-49", means)
        code = x.ns_one(means, c("cbc:PaymentMeansCode"))
        ok(
            (_exists(means, p("cac:PayeeFinancialAccount/cbc:ID")) and code in ("30", "58"))
            or code not in ("30", "58"),
            "BR-61",
            means,
        )
    for reference in doc.all(c("cac:BillingReference")):
        ok(_exists(reference, p("cac:InvoiceDocumentReference/cbc:ID")), "BR-55", reference)
