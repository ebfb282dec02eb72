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


def _exists(doc: UblDoc, element, path: str) -> bool:
    return doc.has(element, path)


def _places(doc: UblDoc, element, tag: str) -> int:
    """string-length(substring-after(tag, '.'))."""
    return x.decimal_places(x.text(doc.one(element, tag)))


def _has_vat_category_id(doc: UblDoc, element, tag: str = c("cac:TaxCategory")) -> bool:
    return any(doc.vat_scheme(cat) and doc.has(cat, c("cbc:ID")) for cat in doc.sel(element, tag))


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
    ok(doc.ns_one(root, c("cbc:CustomizationID")) != "", "BR-01", root)
    ok(doc.ns_one(root, c("cbc:ID")) != "", "BR-02", root)
    ok(doc.ns_one(root, c("cbc:IssueDate")) != "", "BR-03", root)
    ok(
        doc.ns_one(root, c("cbc:InvoiceTypeCode")) != "" or doc.ns_one(root, c("cbc:CreditNoteTypeCode")) != "",
        "BR-04",
        root,
    )
    ok(doc.ns_one(root, c("cbc:DocumentCurrencyCode")) != "", "BR-05", root)
    ok(
        doc.ns_one(root, p("cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName")) != "",
        "BR-06",
        root,
    )
    ok(
        doc.ns_one(root, p("cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName")) != "",
        "BR-07",
        root,
    )
    ok(_exists(doc, root, p("cac:AccountingSupplierParty/cac:Party/cac:PostalAddress")), "BR-08", root)
    ok(_exists(doc, root, p("cac:AccountingCustomerParty/cac:Party/cac:PostalAddress")), "BR-10", root)
    ok(bool(doc.lines), "BR-16", root)
    tax_amounts = [e for tt in doc.all(c("cac:TaxTotal")) for e in doc.sel(tt, c("cbc:TaxAmount"))]
    currencies = {e.get("currencyID") for e in tax_amounts}
    ok(all(x.text(tc) in currencies for tc in doc.sel(root, c("cbc:TaxCurrencyCode"))), "BR-53", root)
    ok(
        not (
            _exists(doc, root, c("cbc:TaxPointDate"))
            and _exists(doc, root, p("cac:InvoicePeriod/cbc:DescriptionCode"))
        ),
        "BR-CO-03",
        root,
    )
    ok(_br_co_15(doc, root), "BR-CO-15", root)
    ok(_exists(doc, root, p("cac:TaxTotal/cac:TaxSubtotal")), "BR-CO-18", root)
    # BR-DEC-13/15: the tax amount « in the document (tax) currency » is selected in the official binding by a
    # predicate read from the TaxAmount itself, which never holds in a UBL document: a literal reading.
    for rule, code_tag in (("BR-DEC-13", "cbc:DocumentCurrencyCode"), ("BR-DEC-15", "cbc:TaxCurrencyCode")):
        selected = [e for e in tax_amounts if any(x.text(k) == e.get("currencyID") for k in doc.sel(e, c(code_tag)))]
        if len(selected) > 1:
            raise x.DynamicError("plusieurs montants de TVA là où un seul est permis", root)
        ok(not selected or x.decimal_places(x.text(selected[0])) <= 2, rule, root)


def _br_co_15(doc: UblDoc, root) -> bool:
    totals = doc.sel(root, c("cac:TaxTotal"))
    monetary = doc.sel(root, c("cac:LegalMonetaryTotal"))
    for currency in doc.sel(root, c("cbc:DocumentCurrencyCode")):
        code = x.text(currency)
        amounts = []
        for tt in totals:
            matching = [e for e in doc.sel(tt, c("cbc:TaxAmount")) if e.get("currencyID") == code]
            if len(matching) > 1:
                raise x.DynamicError("plusieurs montants de TVA dans la même devise", tt)
            amounts.extend(x.dec_all(matching))
        if len(amounts) != 1:
            return False
        inclusive = [v for m in monetary if (v := doc.dec_one(m, c("cbc:TaxInclusiveAmount"))) is not None]
        exclusive = [v for m in monetary if (v := doc.dec_one(m, c("cbc:TaxExclusiveAmount"))) is not None]
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
            ok(doc.ns_one(address, country) != "", "BR-11", address)
        elif chain == supplier_party:
            ok(doc.ns_one(address, country) != "", "BR-09", address)
        elif chain[-1] == c("cac:TaxRepresentativeParty"):
            ok(doc.ns_one(address, country) != "", "BR-20", address)
    for address in doc.all(c("cac:Address")):
        if _chain(address, 2) == (c("cac:Delivery"), c("cac:DeliveryLocation")):
            ok(_exists(doc, address, country), "BR-57", address)
    for supplier in doc.all(c("cac:AccountingSupplierParty")):
        ok(
            any(
                doc.vat_scheme(pts) and doc.has(pts, c("cbc:CompanyID"))
                for pts in doc.sel(supplier, ("cac:Party/cac:PartyTaxScheme"))
            )
            or any(
                e.get("schemeID") != "SEPA" for e in doc.sel(supplier, ("cac:Party/cac:PartyIdentification/cbc:ID"))
            )
            or _exists(doc, supplier, p("cac:Party/cac:PartyLegalEntity/cbc:CompanyID")),
            "BR-CO-26",
            supplier,
        )
    for representative in doc.all(c("cac:TaxRepresentativeParty")):
        ok(doc.ns_one(representative, p("cac:PartyName/cbc:Name")) != "", "BR-18", representative)
        ok(_exists(doc, representative, c("cac:PostalAddress")), "BR-19", representative)
        ok(
            any(
                doc.vat_scheme_single(pts) and doc.has(pts, c("cbc:CompanyID"))
                for pts in doc.sel(representative, c("cac:PartyTaxScheme"))
            ),
            "BR-56",
            representative,
        )
    for payee in doc.all(c("cac:PayeeParty")):
        names = {x.text(e) for e in doc.sel(payee, ("cac:PartyName/cbc:Name"))}
        ids = {x.text(e) for e in doc.sel(payee, ("cac:PartyIdentification/cbc:ID"))}
        parent = payee.getparent()
        seller_names = {
            x.text(e) for e in doc.sel(parent, ("cac:AccountingSupplierParty/cac:Party/cac:PartyName/cbc:Name"))
        }
        seller_ids = {
            x.text(e)
            for e in doc.sel(parent, ("cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID"))
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


def _reasons(doc: UblDoc, ac) -> bool:
    return doc.has(ac, _REASON) or doc.has(ac, _REASON_CODE)


def _document_allowances(doc: UblDoc) -> None:
    ok = doc.check
    kinds = doc.allowance_kinds
    for ac in doc.top(ALLOWANCE_CHARGE):
        allowance, charge = kinds[ac]
        if allowance:
            ok(doc.has(ac, _AMOUNT), "BR-31", ac)
            ok(_has_vat_category_id(doc, ac), "BR-32", ac)
            ok(_reasons(doc, ac), "BR-33", ac)
            ok(_reasons(doc, ac), "BR-CO-21", ac)
            ok(_places(doc, ac, _AMOUNT) <= 2, "BR-DEC-01", ac)
            ok(_places(doc, ac, _BASE_AMOUNT) <= 2, "BR-DEC-02", ac)
        elif charge:
            ok(doc.has(ac, _AMOUNT), "BR-36", ac)
            ok(_has_vat_category_id(doc, ac), "BR-37", ac)
            ok(_reasons(doc, ac), "BR-38", ac)
            ok(_reasons(doc, ac), "BR-CO-22", ac)
            ok(_places(doc, ac, _AMOUNT) <= 2, "BR-DEC-05", ac)
            ok(_places(doc, ac, _BASE_AMOUNT) <= 2, "BR-DEC-06", ac)
    for line_tag in LINE_TAGS:
        for line in doc.all(line_tag):
            for ac in doc.sel(line, ALLOWANCE_CHARGE):
                allowance, charge = kinds[ac]
                if allowance:
                    ok(doc.has(ac, _AMOUNT), "BR-41", ac)
                    ok(_reasons(doc, ac), "BR-42", ac)
                    ok(_reasons(doc, ac), "BR-CO-23", ac)
                    ok(_places(doc, ac, _AMOUNT) <= 2, "BR-DEC-24", ac)
                    ok(_places(doc, ac, _BASE_AMOUNT) <= 2, "BR-DEC-25", ac)
                elif charge:
                    ok(doc.has(ac, _AMOUNT), "BR-43", ac)
                    ok(_reasons(doc, ac), "BR-44", ac)
                    ok(_reasons(doc, ac), "BR-CO-24", ac)
                    ok(_places(doc, ac, _AMOUNT) <= 2, "BR-DEC-27", ac)
                    ok(_places(doc, ac, _BASE_AMOUNT) <= 2, "BR-DEC-28", ac)


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
        line_sum = x.dsum(v for line in lines if (v := doc.dec_one(line, _LEA)) is not None)
    kinds = doc.allowance_kinds
    for total in doc.all(c("cac:LegalMonetaryTotal")):
        for rule, tag in (("BR-12", "cbc:LineExtensionAmount"), ("BR-13", "cbc:TaxExclusiveAmount")):
            ok(doc.has(total, c(tag)), rule, total)
        ok(doc.has(total, c("cbc:TaxInclusiveAmount")), "BR-14", total)
        ok(doc.has(total, c("cbc:PayableAmount")), "BR-15", total)
        lea = doc.dec_one(total, _LEA)
        ok(_eq(lea, x.round2(line_sum)), "BR-CO-10", total)
        siblings = doc.sel(total.getparent(), ALLOWANCE_CHARGE)
        for rule, tag, index in (
            ("BR-CO-11", "cbc:AllowanceTotalAmount", 0),
            ("BR-CO-12", "cbc:ChargeTotalAmount", 1),
        ):
            selected = [ac for ac in siblings if kinds[ac][index]]
            stated = doc.dec_one(total, c(tag))
            expected = x.round2(x.dsum(x.dec_all(e for ac in selected for e in doc.sel(ac, _AMOUNT))))
            ok(_eq(stated, expected) or (not doc.has(total, c(tag)) and not selected), rule, total)
        ok(_br_co_13(doc, total), "BR-CO-13", total)
        ok(_br_co_16(doc, total), "BR-CO-16", total)
        for rule, tag in _MONETARY_PLACES:
            ok(_places(doc, total, c(tag)) <= 2, rule, total)


def _br_co_13(doc: UblDoc, total) -> bool:
    has_charges = doc.has(total, c("cbc:ChargeTotalAmount"))
    has_allowances = doc.has(total, c("cbc:AllowanceTotalAmount"))
    exclusive = doc.dec_one(total, c("cbc:TaxExclusiveAmount"))
    lines = doc.dec_one(total, _LEA)
    if has_charges and has_allowances:
        charges = doc.dec_one(total, c("cbc:ChargeTotalAmount"))
        allowances = doc.dec_one(total, c("cbc:AllowanceTotalAmount"))
        expected = _add(lines, charges, None if allowances is None else -allowances)
        return _eq(exclusive, None if expected is None else x.round2(expected))
    if has_allowances:
        allowances = doc.dec_one(total, c("cbc:AllowanceTotalAmount"))
        expected = _add(lines, None if allowances is None else -allowances)
        return _eq(exclusive, None if expected is None else x.round2(expected))
    if has_charges:
        expected = _add(lines, doc.dec_one(total, c("cbc:ChargeTotalAmount")))
        return _eq(exclusive, None if expected is None else x.round2(expected))
    return _eq(exclusive, lines)


def _br_co_16(doc: UblDoc, total) -> bool:
    has_prepaid = doc.has(total, c("cbc:PrepaidAmount"))
    has_rounding = doc.has(total, c("cbc:PayableRoundingAmount"))
    payable = doc.dec_one(total, c("cbc:PayableAmount"))
    inclusive = doc.dec_one(total, c("cbc:TaxInclusiveAmount"))

    def r2(value):
        return None if value is None else x.round2(value)

    def minus(a, b):
        return None if a is None or b is None else x.dsum((a, -b))

    if has_prepaid and not has_rounding:
        return _eq(payable, r2(minus(inclusive, doc.dec_one(total, c("cbc:PrepaidAmount")))))
    if not has_prepaid and not has_rounding:
        return _eq(payable, inclusive)
    rounding = doc.dec_one(total, c("cbc:PayableRoundingAmount"))
    if has_prepaid:
        prepaid = doc.dec_one(total, c("cbc:PrepaidAmount"))
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
            ok(doc.ns_one(line, c("cbc:ID")) != "", "BR-21", line)
            quantities = doc.sel(line, c("cbc:InvoicedQuantity")) + doc.sel(line, c("cbc:CreditedQuantity"))
            ok(bool(quantities), "BR-22", line)
            ok(any(q.get("unitCode") is not None for q in quantities), "BR-23", line)
            ok(doc.has(line, _LEA), "BR-24", line)
            ok(doc.ns_one(line, p("cac:Item/cbc:Name")) != "", "BR-25", line)
            prices = doc.sel(line, ("cac:Price/cbc:PriceAmount"))
            ok(bool(prices), "BR-26", line)
            ok(_ge_zero(prices), "BR-27", line)
            bases = doc.sel(line, ("cac:Price/cac:AllowanceCharge/cbc:BaseAmount"))
            ok(_ge_zero(bases) or not bases, "BR-28", line)
            ok(
                any(
                    doc.vat_scheme_single(cat) and doc.has(cat, vat_id)
                    for cat in doc.sel(line, ("cac:Item/cac:ClassifiedTaxCategory"))
                ),
                "BR-CO-04",
                line,
            )
            ok(_places(doc, line, _LEA) <= 2, "BR-DEC-23", line)
            for code in doc.sel(line, ("cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode")):
                ok(code.get("listID") is not None, "BR-65", code)
            for ident in doc.sel(line, ("cac:Item/cac:StandardItemIdentification/cbc:ID")):
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


def _period_order(doc: UblDoc, period) -> bool:
    starts = doc.sel(period, c("cbc:StartDate"))
    ends = doc.sel(period, c("cbc:EndDate"))
    if not starts or not ends:
        return True
    start = _date(doc.one(period, c("cbc:StartDate")))
    end = _date(doc.one(period, c("cbc:EndDate")))
    return end >= start


def _periods(doc: UblDoc) -> None:
    ok = doc.check
    for period in doc.all(c("cac:InvoicePeriod")):
        has_start = doc.has(period, c("cbc:StartDate"))
        has_end = doc.has(period, c("cbc:EndDate"))
        if period.getparent().tag in LINE_TAGS:
            ok(_period_order(doc, period), "BR-30", period)
            ok(has_start or has_end, "BR-CO-20", period)
        else:
            ok(_period_order(doc, period), "BR-29", period)
            ok(has_start or has_end or doc.has(period, c("cbc:DescriptionCode")), "BR-CO-19", period)


def _tax_totals(doc: UblDoc) -> None:
    ok = doc.check
    for total in doc.top(c("cac:TaxTotal")):
        subtotals = doc.sel(total, c("cac:TaxSubtotal"))
        if subtotals:  # Saxon tests `not(cac:TaxSubtotal)` first: without subtotals, no amount is read
            stated = doc.dec_one(total, c("cbc:TaxAmount"))
            expected = x.round2(x.dsum(v for s in subtotals if (v := doc.dec_one(s, c("cbc:TaxAmount"))) is not None))
            ok(_eq(stated, expected), "BR-CO-14", total)
    for subtotal in doc.under(c("cac:TaxSubtotal"), c("cac:TaxTotal")):
        ok(doc.has(subtotal, c("cbc:TaxableAmount")), "BR-45", subtotal)
        ok(doc.has(subtotal, c("cbc:TaxAmount")), "BR-46", subtotal)
        vat_categories = [cat for cat in doc.sel(subtotal, c("cac:TaxCategory")) if doc.vat_scheme(cat)]
        ok(any(doc.has(cat, c("cbc:ID")) for cat in vat_categories), "BR-47", subtotal)
        ok(
            any(doc.has(cat, c("cbc:Percent")) for cat in vat_categories)
            or any(doc.category_code(cat) == "O" for cat in vat_categories),
            "BR-48",
            subtotal,
        )
        ok(_br_co_17(doc, subtotal, vat_categories), "BR-CO-17", subtotal)
        ok(_places(doc, subtotal, c("cbc:TaxableAmount")) <= 2, "BR-DEC-19", subtotal)
        ok(_places(doc, subtotal, c("cbc:TaxAmount")) <= 2, "BR-DEC-20", subtotal)


def _br_co_17(doc: UblDoc, subtotal, vat_categories) -> bool:
    rates = [v for cat in vat_categories if (v := doc.dec_one(cat, c("cbc:Percent"))) is not None]
    if len(rates) > 1:
        raise x.DynamicError("plusieurs taux de TVA dans une ventilation", subtotal)
    if not rates:
        amount = doc.dec_one(subtotal, c("cbc:TaxAmount"))
        return amount is not None and x.round_half_up(amount) == 0
    rate = rates[0]
    amount = doc.dec_one(subtotal, c("cbc:TaxAmount"))
    if x.round_half_up(rate) == 0:
        return amount is not None and x.round_half_up(amount) == 0
    taxable = doc.dec_one(subtotal, c("cbc:TaxableAmount"))
    if amount is None or taxable is None:
        return False
    expected = x.round2(x.mul(abs(taxable), x.percent(rate)))
    return abs(amount) - 1 < expected and abs(amount) + 1 > expected


def _misc(doc: UblDoc) -> None:
    ok = doc.check
    for reference in doc.all(c("cac:AdditionalDocumentReference")):
        ok(doc.ns_one(reference, c("cbc:ID")) != "", "BR-52", reference)
    for number in doc.all(c("cbc:PrimaryAccountNumberID")):
        if _chain(number, 2) == (c("cac:PaymentMeans"), c("cac:CardAccount")):
            doc.check(len(x.normalize(x.text(number))) <= 10, "BR-51", number)
    for prop in doc.all(c("cac:AdditionalItemProperty")):
        ok(doc.has(prop, c("cbc:Name")) and doc.has(prop, c("cbc:Value")), "BR-54", prop)
    for means in doc.all(c("cac:PaymentMeans")):
        codes = doc.sel(means, c("cbc:PaymentMeansCode"))
        if any(x.text(e) in ("30", "58") for e in codes):
            for account in doc.sel(means, c("cac:PayeeFinancialAccount")):
                ok(doc.ns_one(account, c("cbc:ID")) != "", "BR-50", account)
        ok(bool(codes), "BR-49", means)
        code = doc.ns_one(means, c("cbc:PaymentMeansCode"))
        ok(
            (_exists(doc, means, p("cac:PayeeFinancialAccount/cbc:ID")) and code in ("30", "58"))
            or code not in ("30", "58"),
            "BR-61",
            means,
        )
    for reference in doc.all(c("cac:BillingReference")):
        ok(_exists(doc, reference, p("cac:InvoiceDocumentReference/cbc:ID")), "BR-55", reference)
