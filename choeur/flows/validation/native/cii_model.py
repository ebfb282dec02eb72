"""EN 16931 business rules on CII (BR-*, BR-CO-*, BR-DEC-*, VAT categories) of CEN 1.3.16, natively.

Every rule here is fatal, as in the official pattern EN16931-CII-Model. Numbers follow the XPath 2.0 semantics of
the official artefacts (cii_values): untyped amounts compared with numbers are doubles, `xs:decimal()` is exact.
"""

from __future__ import annotations

import operator
from decimal import Decimal

from choeur.flows.validation.native import cii_codelists as codes
from choeur.flows.validation.native.cii_doc import Doc
from choeur.flows.validation.native.cii_engine import Pattern, Rule, context
from choeur.flows.validation.native.cii_values import (
    DynamicError,
    any_compare,
    any_equal_string,
    cents_decimal,
    cents_double,
    clark,
    decimal_of,
    decimal_of_double,
    exists,
    first,
    first_decimal,
    first_string,
    nodes,
    normalize_space,
    one,
    round_double,
    string,
    string_of,
    sum_decimals,
    sum_doubles,
    to_decimal,
    to_double,
)

F = "fatal"
_EQ, _GE, _GT = operator.eq, operator.ge, operator.gt


def _fails(*pairs):
    """The ids whose condition is false."""
    return [(rule_id, F) for rule_id, ok in pairs if not ok]


def _filled(element, path: str) -> bool:
    return normalize_space(string_of(element, path)) != ""


def _decimals_ok(text: str) -> bool:
    """string-length(substring-after(x, '.')) <= 2."""
    return len(text.partition(".")[2]) <= 2


def _attribute_of(element, path: str, attribute: str) -> str:
    """string(path/@attribute) as a one-item argument."""
    values = [n.get(attribute) for n in nodes(element, path) if n.get(attribute) is not None]
    if len(values) > 1:
        raise DynamicError("plusieurs attributs là où un seul est attendu")
    return values[0] if values else ""


def _is_vat(tax) -> bool:
    """upper-case(ram:TypeCode) = 'VAT'."""
    return string(one(nodes(tax, "TypeCode"))).upper() == "VAT"


def _cents_of_sum(values: list[Decimal]) -> Decimal:
    return cents_decimal(sum_decimals(values))


def _double_cents(total) -> float:
    """round(sum(untyped) * 10 * 10) div 100: a double, or 0 when the sum is the integer 0 (nothing summed)."""
    return 0.0 if isinstance(total, int) else cents_double(total)


# Simple contexts
def _classification(e, doc):
    return _fails(
        ("BR-65", normalize_space(_attribute_of(e, "ClassCode", "listID")) != "" or not exists(e, "ClassCode"))
    )


def _additional_document(e, doc):
    return _fails(("BR-52", _filled(e, "IssuerAssignedID")))


def _card(e, doc):
    return _fails(("BR-51", len(normalize_space(string_of(e, "ID"))) <= 10))


def _credit_account(e, doc):
    return _fails(
        ("BR-50", _filled(e, "IBANID") or _filled(e, "ProprietaryID")),
        ("BR-61", exists(e, "IBANID") or exists(e, "ProprietaryID")),
    )


def _header_delivery(e, doc):
    address = exists(e, "ShipToTradeParty/PostalTradeAddress")
    return _fails(("BR-57", (address and _filled(e, "ShipToTradeParty/PostalTradeAddress/CountryID")) or not address))


def _vat_category_of(allowance) -> bool:
    return any(_is_vat(t) and exists(t, "CategoryCode") for t in nodes(allowance, "CategoryTradeTax"))


def _header_allowance(ids):
    amount, category, reason, reason_co, dec_amount, dec_basis = ids

    def check(e, doc):
        a = e.getparent()
        reasoned = exists(a, "Reason") or exists(a, "ReasonCode")
        return _fails(
            (amount, exists(a, "ActualAmount")),
            (category, _vat_category_of(a)),
            (reason, reasoned),
            (reason_co, reasoned),
            (dec_amount, _decimals_ok(first_string(a, "ActualAmount"))),
            (dec_basis, _decimals_ok(string_of(a, "BasisAmount"))),
        )

    return check


def _line_allowance(ids):
    amount, reason, reason_co, dec_amount, dec_basis = ids

    def check(e, doc):
        a = e.getparent()
        reasoned = exists(a, "Reason") or exists(a, "ReasonCode")
        return _fails(
            (amount, exists(a, "ActualAmount")),
            (reason, reasoned),
            (reason_co, reasoned),
            (dec_amount, _decimals_ok(first_string(a, "ActualAmount"))),
            (dec_basis, _decimals_ok(string_of(a, "BasisAmount"))),
        )

    return check


def _indicator_is(value: str):
    return lambda e, doc: any_equal_string(nodes(e, "udt:Indicator"), value)


def _summation(e, doc: Doc):
    failed = _fails(
        ("BR-12", exists(e, "LineTotalAmount")),
        ("BR-13", exists(e, "TaxBasisTotalAmount")),
        ("BR-14", exists(e, "GrandTotalAmount")),
        ("BR-15", exists(e, "DuePayableAmount")),
    )
    tax_currencies = doc.tax_currencies
    if doc.tax_currency_nodes:
        ok = any(t.get("currencyID") in tax_currencies for t in nodes(e, "TaxTotalAmount")) and not any(
            c in doc.invoice_currencies for c in tax_currencies
        )
        failed += _fails(("BR-53", ok))
    # BR-CO-10
    transaction = e.getparent().getparent() if e.getparent() is not None else None
    line_totals = (
        nodes(
            transaction,
            "IncludedSupplyChainTradeLineItem/SpecifiedLineTradeSettlement/"
            "SpecifiedTradeSettlementLineMonetarySummation/LineTotalAmount",
        )
        if transaction is not None
        else []
    )
    total = sum_doubles(line_totals)
    exact = Decimal(total) if isinstance(total, int) else decimal_of_double(total)
    line_total = decimal_of(e, "LineTotalAmount")
    failed += _fails(("BR-CO-10", line_total is not None and line_total == cents_decimal(exact)))
    for rule_id, charge, path in (
        ("BR-CO-11", False, "AllowanceTotalAmount"),
        ("BR-CO-12", True, "ChargeTotalAmount"),
    ):
        allowances = doc.header_allowances(charge)
        if not allowances and not exists(e, path):
            continue
        amounts = [first(a, "ActualAmount") for a in allowances]
        expected = _double_cents(sum_doubles([x for x in amounts if x is not None]))
        failed += _fails((rule_id, any_compare(nodes(e, path), _EQ, expected)))
    # BR-CO-13
    lines, basis = first_decimal(e, "LineTotalAmount"), first_decimal(e, "TaxBasisTotalAmount")
    allowance, charge = first_decimal(e, "AllowanceTotalAmount"), first_decimal(e, "ChargeTotalAmount")
    has_allowance, has_charge = exists(e, "AllowanceTotalAmount"), exists(e, "ChargeTotalAmount")

    def is_basis(*terms) -> bool:
        if basis is None or any(t is None for t in terms):
            return False
        return basis == cents_decimal(sum_decimals(list(terms)))

    ok = (
        (allowance is not None and is_basis(lines, -allowance, charge))
        or (allowance is not None and is_basis(lines, -allowance) and not has_charge)
        or (is_basis(lines, charge) and not has_allowance)
        or (is_basis(lines) and not has_charge and not has_allowance)
    )
    failed += _fails(("BR-CO-13", ok))
    # BR-CO-16
    due, grand = first_decimal(e, "DuePayableAmount"), first_decimal(e, "GrandTotalAmount")
    prepaid, rounding = first_decimal(e, "TotalPrepaidAmount"), first_decimal(e, "RoundingAmount")
    has_prepaid, has_rounding = exists(e, "TotalPrepaidAmount"), exists(e, "RoundingAmount")

    def is_due(*terms) -> bool:
        if due is None or grand is None or any(t is None for t in terms):
            return False
        return due == sum_decimals([grand, *terms])

    ok = (
        (prepaid is not None and is_due(-prepaid, rounding))
        or (is_due(rounding) and not has_prepaid)
        or (prepaid is not None and is_due(-prepaid) and not has_rounding)
        or (is_due() and not has_prepaid and not has_rounding)
    )
    failed += _fails(("BR-CO-16", ok))
    failed += _fails(
        ("BR-DEC-09", _decimals_ok(string_of(e, "LineTotalAmount"))),
        ("BR-DEC-10", _decimals_ok(string_of(e, "AllowanceTotalAmount"))),
        ("BR-DEC-11", _decimals_ok(string_of(e, "ChargeTotalAmount"))),
        ("BR-DEC-12", _decimals_ok(string_of(e, "TaxBasisTotalAmount"))),
        ("BR-DEC-14", _decimals_ok(string_of(e, "GrandTotalAmount"))),
    )
    taxes = nodes(e, "TaxTotalAmount")

    def cents_exact(tax) -> bool:
        value = to_double(string(tax))
        return value == cents_double_plain(value)

    if taxes:
        invoice = doc.invoice_currencies
        ok13 = any(
            (t.get("currencyID") in invoice and cents_exact(t)) or t.get("currencyID") not in invoice for t in taxes
        )
        ok15 = any(
            (t.get("currencyID") in tax_currencies and cents_exact(t)) or not doc.tax_currency_nodes for t in taxes
        )
        failed += _fails(("BR-DEC-13", ok13), ("BR-DEC-15", ok15))
    failed += _fails(
        ("BR-DEC-16", _decimals_ok(string_of(e, "TotalPrepaidAmount"))),
        ("BR-DEC-17", _decimals_ok(string_of(e, "RoundingAmount"))),
        ("BR-DEC-18", _decimals_ok(string_of(e, "DuePayableAmount"))),
    )
    return failed


def cents_double_plain(value: float) -> float:
    """round(. * 100) div 100 in xs:double."""
    return round_double(value * 100) / 100


_ABSOLUTE_CATEGORIES = ("S", "Z", "E", "AE", "K", "G", "O", "L", "M")


def _root(e, doc: Doc):
    failed = _fails(
        ("BR-01", _filled(e, "rsm:ExchangedDocumentContext/GuidelineSpecifiedDocumentContextParameter/ID")),
        ("BR-02", _filled(e, "rsm:ExchangedDocument/ID")),
        (
            "BR-03",
            normalize_space(
                string(
                    one(
                        [
                            d
                            for d in nodes(e, "rsm:ExchangedDocument/IssueDateTime/udt:DateTimeString")
                            if d.get("format") == "102"
                        ]
                    )
                )
            )
            != "",
        ),
        ("BR-04", _filled(e, "rsm:ExchangedDocument/TypeCode")),
        ("BR-05", _filled(e, "rsm:SupplyChainTradeTransaction/ApplicableHeaderTradeSettlement/InvoiceCurrencyCode")),
    )
    agreement = "rsm:SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/"
    failed += _fails(
        ("BR-06", _filled(e, agreement + "SellerTradeParty/Name")),
        ("BR-07", _filled(e, agreement + "BuyerTradeParty/Name")),
        ("BR-08", exists(e, agreement + "SellerTradeParty/PostalTradeAddress")),
        ("BR-09", _filled(e, agreement + "SellerTradeParty/PostalTradeAddress/CountryID")),
        ("BR-10", exists(e, agreement + "BuyerTradeParty/PostalTradeAddress")),
        ("BR-11", _filled(e, agreement + "BuyerTradeParty/PostalTradeAddress/CountryID")),
        ("BR-16", bool(doc.all("IncludedSupplyChainTradeLineItem"))),
    )
    for rule_id, party in (("BR-62", "SellerTradeParty"), ("BR-63", "BuyerTradeParty")):
        parties = nodes(e, agreement + party)
        firsts = [c for p in parties for c in nodes(p, "URIUniversalCommunication")[:1]]
        scheme = _attribute_of_many([u for c in firsts for u in nodes(c, "URIID")], "schemeID")
        present = any(exists(p, "URIUniversalCommunication") for p in parties)
        failed += _fails((rule_id, normalize_space(scheme) != "" or not present))
    # BR-CO-15
    summations = doc.header_summations
    grand = _first_over(summations, "GrandTotalAmount")
    basis = _first_over(summations, "TaxBasisTotalAmount")
    for currency in doc.invoice_currencies:
        taxes = [t for s in summations for t in nodes(s, "TaxTotalAmount") if t.get("currencyID") == currency]
        # The cheap alternative first: when it holds, the tax amount is never read (as Saxon evaluates it).
        ok = grand is not None and basis is not None and grand == basis
        if not ok and len(taxes) == 1 and grand is not None and basis is not None:
            ok = grand == cents_decimal(sum_decimals([basis, _decimal_or_none(taxes[0])]))
        if not ok:
            failed.append(("BR-CO-15", F))
            break
    # VAT categories present (BR-x-01)
    counts = {c: (doc.count_header(c), doc.count_line(c), doc.count_allowance_taxes(c)) for c in _ABSOLUTE_CATEGORIES}
    for rule_id, category in (("BR-S-01", "S"), ("BR-AF-01", "L"), ("BR-AG-01", "M")):
        header, line, allowance = counts[category]
        ok = (line + header >= 2 or not line) and (allowance + header >= 2 or not allowance)
        failed += _fails((rule_id, ok))
    for rule_id, category in (
        ("BR-Z-01", "Z"),
        ("BR-E-01", "E"),
        ("BR-AE-01", "AE"),
        ("BR-IC-01", "K"),
        ("BR-G-01", "G"),
    ):
        header, line, allowance = counts[category]
        ok = (header == 0 and line == 0 and allowance == 0) or (header == 1 and (line or allowance))
        failed += _fails((rule_id, ok))
    header, line, allowance = counts["O"]
    failed += _fails(("BR-O-01", not header or (header == 1 and (line or allowance))))
    category_codes = doc.all("CategoryCode")
    if any_equal_string(category_codes, "B"):
        failed += _fails(
            ("BR-B-01", not any(string(c) != "IT" for c in doc.all("CountryID"))),
            ("BR-B-02", not any_equal_string(category_codes, "S")),
        )
    return failed


def _attribute_of_many(found: list, attribute: str) -> str:
    values = [n.get(attribute) for n in found if n.get(attribute) is not None]
    if len(values) > 1:
        raise DynamicError("plusieurs attributs là où un seul est attendu")
    return values[0] if values else ""


def _first_over(elements: list, name: str) -> Decimal | None:
    for element in elements:
        found = first(element, name)
        if found is not None:
            return _decimal_or_none(found)
    return None


def _decimal_or_none(node) -> Decimal | None:
    return to_decimal(string(node))


def _down(found: list, tag: str) -> list:
    """One child step from several elements (Clark tag), in document order."""
    return [child for element in found for child in element.iterchildren(tag)]


_T = {
    name: clark(name)
    for name in (
        "AssociatedDocumentLineDocument",
        "LineID",
        "SpecifiedTradeProduct",
        "Name",
        "GlobalID",
        "SpecifiedLineTradeAgreement",
        "NetPriceProductTradePrice",
        "GrossPriceProductTradePrice",
        "ChargeAmount",
        "SpecifiedLineTradeDelivery",
        "BilledQuantity",
        "SpecifiedLineTradeSettlement",
        "SpecifiedTradeSettlementLineMonetarySummation",
        "LineTotalAmount",
        "ApplicableTradeTax",
        "CategoryCode",
    )
}


def _line(e, doc: Doc):
    """The line's rules, its sub-elements read once (the hottest context: one per invoice line)."""
    line, t = [e], _T
    product, agreement = _down(line, t["SpecifiedTradeProduct"]), _down(line, t["SpecifiedLineTradeAgreement"])
    settlement = _down(line, t["SpecifiedLineTradeSettlement"])
    billed = _down(_down(line, t["SpecifiedLineTradeDelivery"]), t["BilledQuantity"])
    net = _down(_down(agreement, t["NetPriceProductTradePrice"]), t["ChargeAmount"])
    gross = _down(_down(agreement, t["GrossPriceProductTradePrice"]), t["ChargeAmount"])
    totals = _down(_down(settlement, t["SpecifiedTradeSettlementLineMonetarySummation"]), t["LineTotalAmount"])
    global_ids = _down(product, t["GlobalID"])
    vat_category = any(
        _is_vat(tax) and next(tax.iterchildren(t["CategoryCode"]), None) is not None
        for tax in _down(settlement, t["ApplicableTradeTax"])
    )
    line_id = one(_down(_down(line, t["AssociatedDocumentLineDocument"]), t["LineID"]))
    return _fails(
        ("BR-21", normalize_space(string(line_id)) != ""),
        ("BR-22", bool(billed)),
        ("BR-23", any(q.get("unitCode") is not None for q in billed)),
        ("BR-24", bool(totals)),
        ("BR-25", normalize_space(string(one(_down(product, t["Name"])))) != ""),
        ("BR-26", bool(net)),
        ("BR-27", any_compare(net, _GE, 0)),
        ("BR-28", any_compare(gross, _GE, 0) or not gross),
        ("BR-64", normalize_space(_attribute_of_many(global_ids, "schemeID")) != "" or not global_ids),
        ("BR-CO-04", vat_category),
        ("BR-CO-18", doc.has_header_tax),
        ("BR-DEC-23", _decimals_ok(string(one(totals)))),
    )


def _period(order_rule: str, presence_rule: str):
    def dates(e, name):
        return [string(d) for d in nodes(e, name + "/udt:DateTimeString") if d.get("format") == "102"]

    def check(e, doc):
        ends, starts = dates(e, "EndDateTime"), dates(e, "StartDateTime")
        ordered = any(end >= start for end in ends for start in starts)
        has_start, has_end = exists(e, "StartDateTime"), exists(e, "EndDateTime")
        return _fails((order_rule, ordered or not has_end or not has_start), (presence_rule, has_start or has_end))

    return check


def _characteristic(e, doc):
    return _fails(("BR-54", exists(e, "Description") and exists(e, "Value")))


def _payee(e, doc):
    parent = e.getparent()
    transaction = parent.getparent() if parent is not None else None
    sellers = nodes(transaction, "ApplicableHeaderTradeAgreement/SellerTradeParty") if transaction is not None else []

    def same(path):
        mine = {string(n) for n in nodes(e, path)}
        return any(string(n) in mine for s in sellers for n in nodes(s, path))

    ok = exists(e, "Name") and not same("Name") and not same("ID") and not same("SpecifiedLegalOrganization/ID")
    return _fails(("BR-17", ok))


def _payment_means(e, doc):
    return _fails(("BR-49", exists(e, "TypeCode")))


def _invoice_reference(e, doc):
    return _fails(("BR-55", _filled(e, "IssuerAssignedID")))


def _seller(e, doc):
    ok = (
        exists(e, "ID")
        or exists(e, "GlobalID")
        or exists(e, "SpecifiedLegalOrganization/ID")
        or any(i.get("schemeID") == "VA" for i in nodes(e, "SpecifiedTaxRegistration/ID"))
    )
    return _fails(("BR-CO-26", ok))


def _seller_representative(e, doc):
    vat = one([i for i in nodes(e, "SpecifiedTaxRegistration/ID") if i.get("schemeID") == "VA"])
    return _fails(
        ("BR-18", _filled(e, "Name")),
        ("BR-19", exists(e, "PostalTradeAddress")),
        ("BR-20", _filled(e, "PostalTradeAddress/CountryID")),
        ("BR-56", normalize_space(string(vat)) != ""),
    )


def _tax_total_in_invoice_currency(e, doc: Doc):
    calculated = [
        c for s in doc.header_settlements for t in nodes(s, "ApplicableTradeTax") for c in nodes(t, "CalculatedAmount")
    ]
    return _fails(("BR-CO-14", to_double(string(e)) == _double_cents(sum_doubles(calculated))))


def _vat_identifier(e, doc):
    return _fails(("BR-CO-09", string(e)[:2] in codes.VAT_PREFIX))


_MODEL_HEAD = [
    context("//ram:DesignatedProductClassification", _classification),
    context("//ram:AdditionalReferencedDocument", _additional_document),
    context("//ram:ApplicableTradeSettlementFinancialCard", _card),
    context(
        "//ram:SpecifiedTradeSettlementPaymentMeans/ram:PayeePartyCreditorFinancialAccount",
        _credit_account,
        predicate=lambda e, d: any(string(c) in ("30", "58") for c in nodes(e.getparent(), "TypeCode")),
    ),
    context(
        "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery", _header_delivery
    ),
    context(
        "//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ChargeIndicator",
        _header_allowance(("BR-31", "BR-32", "BR-33", "BR-CO-21", "BR-DEC-01", "BR-DEC-02")),
        predicate=_indicator_is("false"),
    ),
    context(
        "//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ChargeIndicator",
        _header_allowance(("BR-36", "BR-37", "BR-38", "BR-CO-22", "BR-DEC-05", "BR-DEC-06")),
        predicate=_indicator_is("true"),
    ),
    context("//ram:SpecifiedTradeSettlementHeaderMonetarySummation", _summation),
    context("/rsm:CrossIndustryInvoice", _root),
    context("//ram:IncludedSupplyChainTradeLineItem", _line),
    context(
        "//ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ChargeIndicator",
        _line_allowance(("BR-41", "BR-42", "BR-CO-23", "BR-DEC-24", "BR-DEC-25")),
        predicate=_indicator_is("false"),
    ),
    context(
        "//ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ChargeIndicator",
        _line_allowance(("BR-43", "BR-44", "BR-CO-24", "BR-DEC-27", "BR-DEC-28")),
        predicate=_indicator_is("true"),
    ),
    context("//ram:SpecifiedLineTradeSettlement/ram:BillingSpecifiedPeriod", _period("BR-30", "BR-CO-20")),
    context("//ram:ApplicableHeaderTradeSettlement/ram:BillingSpecifiedPeriod", _period("BR-29", "BR-CO-19")),
    context("//ram:ApplicableProductCharacteristic", _characteristic),
    context("//ram:PayeeTradeParty", _payee),
    context("//ram:SpecifiedTradeSettlementPaymentMeans", _payment_means),
    context(
        "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:InvoiceReferencedDocument",
        _invoice_reference,
    ),
    context("//ram:SellerTradeParty", _seller),
    context("//ram:SellerTaxRepresentativeTradeParty", _seller_representative),
    context(
        "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount",
        _tax_total_in_invoice_currency,
        predicate=lambda e, d: e.get("currencyID") is not None and e.get("currencyID") in d.invoice_currencies,
    ),
    context(
        "//ram:SpecifiedTaxRegistration/ram:ID",
        _vat_identifier,
        predicate=lambda e, d: e.get("schemeID") == "VA",
    ),
]


def model_rules(vat_rules: list[Rule]) -> Pattern:
    from choeur.flows.validation.native.cii_vat import GENERAL_HEADER_TAX

    return Pattern("EN16931-CII-Model", [*_MODEL_HEAD, *vat_rules, GENERAL_HEADER_TAX])
