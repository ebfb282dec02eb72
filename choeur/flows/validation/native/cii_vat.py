"""VAT category rules of CEN EN 16931 1.3.16 on CII (BR-S, BR-Z, BR-E, BR-AE, BR-IC, BR-G, BR-O, BR-AF, BR-AG,
plus the header VAT breakdown rules BR-45…BR-48, BR-CO-03, BR-CO-17), natively. All fatal.

The official contexts, in their order: a header breakdown's CategoryCode (AE, E, G, K, S, Z) or the breakdown itself
(L, M, O — which then escapes BR-45…BR-48 and BR-CO-17, judged by the last, general rule); an allowance's or charge's
CategoryTradeTax; a line's ApplicableTradeTax.
"""

from __future__ import annotations

import operator
from decimal import Decimal, localcontext

from choeur.flows.validation.native.cii_doc import Doc
from choeur.flows.validation.native.cii_engine import Rule, context
from choeur.flows.validation.native.cii_values import (
    DECIMAL_CONTEXT,
    any_compare,
    any_equal_string,
    cents_decimal,
    decimal_of,
    exists,
    nodes,
    normalize_space,
    one,
    round_decimal,
    round_double,
    string,
    string_of,
    sum_decimals,
    to_decimal,
    to_double,
)

F = "fatal"
_EQ, _GE, _GT = operator.eq, operator.ge, operator.gt
_SCTT = "//rsm:SupplyChainTradeTransaction"


def _fails(*pairs):
    return [(rule_id, F) for rule_id, ok in pairs if not ok]


def _vat(tax) -> bool:
    """upper-case(ram:TypeCode) = 'VAT' (one TypeCode at most)."""
    return string(one(nodes(tax, "TypeCode"))).upper() == "VAT"


def _category(code: str, *, vat: bool = True):
    """[ram:CategoryCode = code][upper-case(ram:TypeCode) = 'VAT'] on a tax element (facts read once per element)."""
    if vat:
        return lambda e, d: code in d.tax_categories(e) and d.tax_is_vat(e)
    return lambda e, d: code in d.tax_categories(e)


def _code(code: str, *, vat: bool = True):
    """ram:CategoryCode[. = code][upper-case(../ram:TypeCode) = 'VAT']."""
    if vat:
        return lambda e, d: string(e) == code and d.tax_is_vat(e.getparent())
    return lambda e, d: string(e) == code


def _allowance(charge: bool, code: str):
    """ram:SpecifiedTradeAllowanceCharge[ChargeIndicator/udt:Indicator = charge]/ram:CategoryTradeTax[…code…]."""
    category = _category(code)

    def test(e, d):
        return category(e, d) and d.indicates(e.getparent(), charge)

    return test


def _rate(rule_id: str, op, value, *, absent: bool = False):
    """A rate rule on the context tax: `RateApplicablePercent op value`, or `not(RateApplicablePercent)`."""

    def check(tax) -> bool:
        if absent:
            return not exists(tax, "RateApplicablePercent")
        return any_compare(nodes(tax, "RateApplicablePercent"), op, value)

    return rule_id, check


def _seller(kind: str):
    """The seller (and buyer) identification each category requires."""

    def check(doc: Doc) -> bool:
        if kind == "standard":  # S, Z, E, L, M
            return doc.seller_vat_or_fc
        if kind == "AE":
            return doc.any_seller_vat_or_fc and (doc.any_buyer_vat or doc.any_buyer_legal)
        if kind == "G":
            return doc.any_seller_vat
        if kind == "K":
            return doc.any_seller_vat and doc.any_buyer_vat
        return not doc.seller_vat_root and not doc.seller_rep_vat_root and not doc.any_buyer_vat  # O

    return check


def _party_and_rate(seller_id: str, kind: str, rate_rule):
    seller = _seller(kind)
    rate_id, rate_check = rate_rule

    def check(e, doc):
        return _fails((seller_id, seller(doc)), (rate_id, rate_check(e)))

    return check


def _base(doc: Doc, category: str, rate: Decimal | None = None, *, cast: bool = False) -> Decimal:
    """Lines + charges − allowances of a category (and rate), each sum rounded to cents (xs:decimal)."""
    lines = cents_decimal(sum_decimals(doc.line_amounts(category, rate)))
    charges = cents_decimal(sum_decimals(doc.allowance_amounts(True, category, rate, cast=cast)))
    allowances = cents_decimal(sum_decimals(doc.allowance_amounts(False, category, rate, cast=cast)))
    return sum_decimals([lines, charges, -allowances])


def _within_one(tax, expected: Decimal) -> bool:
    """BasisAmount - 1 < expected and BasisAmount + 1 > expected (the basis is a double)."""
    basis = one(nodes(tax, "BasisAmount"))
    if basis is None:
        return False
    value, target = to_double(string(basis)), float(expected)
    return value - 1 < target and value + 1 > target


def _every_rate_matches(tax, doc: Doc, category: str) -> bool:
    """every $rate in RateApplicablePercent satisfies BasisAmount = the base of that rate."""
    for rate_node in nodes(tax, "RateApplicablePercent"):
        rate = to_decimal(string(rate_node))
        if not any_compare(nodes(tax, "BasisAmount"), _EQ, float(_base(doc, category, rate))):
            return False
    return True


def _exempt(tax) -> bool:
    return exists(tax, "ExemptionReason") or exists(tax, "ExemptionReasonCode")


def _header_code(ids: tuple[str, str, str], category: str, *, exempt: bool):
    """BR-x-08/09/10 on the header breakdown's CategoryCode (AE, E, G, K, Z)."""
    base_id, zero_id, reason_id = ids

    def check(e, doc):
        tax = e.getparent()
        cast = category == "Z"
        return _fails(
            (base_id, _within_one(tax, _base(doc, category, cast=cast))),
            (zero_id, any_compare(nodes(tax, "CalculatedAmount"), _EQ, 0)),
            (reason_id, _exempt(tax) if exempt else not _exempt(tax)),
        )

    return check


def _header_k(e, doc):
    tax = e.getparent()
    settlement = tax.getparent()
    delivered = bool(
        doc.under_transaction(
            "ApplicableHeaderTradeDelivery/ActualDeliverySupplyChainEvent/OccurrenceDateTime/udt:DateTimeString"
        )
    )
    period = settlement is not None and (
        exists(settlement, "BillingSpecifiedPeriod/StartDateTime")
        or exists(settlement, "BillingSpecifiedPeriod/EndDateTime")
    )
    shipped = bool(
        doc.under_transaction("ApplicableHeaderTradeDelivery/ShipToTradeParty/PostalTradeAddress/CountryID")
    )
    return _header_code(("BR-IC-08", "BR-IC-09", "BR-IC-10"), "K", exempt=True)(e, doc) + _fails(
        ("BR-IC-11", delivered or period), ("BR-IC-12", shipped)
    )


def _header_s(e, doc):
    tax = e.getparent()
    ok09 = False
    calculated, basis = decimal_of(tax, "CalculatedAmount"), decimal_of(tax, "BasisAmount")
    rate = one(nodes(tax, "RateApplicablePercent"))
    if calculated is not None and basis is not None and rate is not None:
        expected = round_double(float(abs(basis)) * to_double(string(rate))) / 100
        ok09 = float(abs(calculated) - 1) < expected and float(abs(calculated) + 1) > expected
    return _fails(
        ("BR-S-08", _every_rate_matches(tax, doc, "S")),
        ("BR-S-09", ok09),
        ("BR-S-10", not _exempt(tax)),
    )


def _header_lm(ids: tuple[str, str, str], category: str):
    base_id, true_id, reason_id = ids

    def check(e, doc):
        # `../ram:RateApplicablePercent` from the breakdown: the settlement's, never present in CII.
        parent = e.getparent()
        return _fails((base_id, _every_rate_matches(parent, doc, category)), (reason_id, not _exempt(e)))

    return check


def _header_o(e, doc: Doc):
    other_taxes = any(doc.tax_categories(t) - {"O"} for t in doc.tagged(e.tag))
    other_allowances = any(doc.tax_categories(t) - {"O"} for t in doc.all("CategoryTradeTax"))
    expected = _base(doc, "O", cast=True)
    return _fails(
        ("BR-O-08", any_compare(nodes(e, "BasisAmount"), _EQ, float(expected))),
        ("BR-O-09", any_compare(nodes(e, "CalculatedAmount"), _EQ, 0)),
        ("BR-O-10", _exempt(e)),
        ("BR-O-11", not other_taxes),
        ("BR-O-12", not other_taxes),
        ("BR-O-13", not other_allowances),
        ("BR-O-14", not other_allowances),
    )


_HEADER_TAX = f"{_SCTT}/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
_LINE_TAX = f"{_SCTT}/ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax"
_ALLOWANCE_TAX = "//ram:SpecifiedTradeAllowanceCharge/ram:CategoryTradeTax"


def _trio(prefix: str, kind: str, rate):
    """(line, allowance, charge) checks of a category: BR-x-02/05, 03/06, 04/07."""
    op, value, absent = rate
    return (
        _party_and_rate(f"{prefix}-02", kind, _rate(f"{prefix}-05", op, value, absent=absent)),
        _party_and_rate(f"{prefix}-03", kind, _rate(f"{prefix}-06", op, value, absent=absent)),
        _party_and_rate(f"{prefix}-04", kind, _rate(f"{prefix}-07", op, value, absent=absent)),
    )


_ZERO = (_EQ, 0, False)


def _vat_rules() -> list[Rule]:
    rules: list[Rule] = []

    def line(code, check):
        rules.append(context(_LINE_TAX, check, predicate=_category(code)))

    def allowance(code, charge, check):
        rules.append(context(_ALLOWANCE_TAX, check, predicate=_allowance(charge, code)))

    def header_code(code, check, *, vat=True, path=f"{_HEADER_TAX}/ram:CategoryCode"):
        rules.append(context(path, check, predicate=_code(code, vat=vat)))

    def header_tax(code, check):
        rules.append(context(_HEADER_TAX, check, predicate=_category(code)))

    # AE: header code, allowance, charge, line
    ae_line, ae_allow, ae_charge = _trio("BR-AE", "AE", _ZERO)
    header_code("AE", _header_code(("BR-AE-08", "BR-AE-09", "BR-AE-10"), "AE", exempt=True))
    allowance("AE", False, ae_allow)
    allowance("AE", True, ae_charge)
    line("AE", ae_line)
    # L (IGIC): header breakdown, line, allowance, charge
    l_line, l_allow, l_charge = _trio("BR-AF", "standard", (_GT, 0, False))
    header_tax("L", _header_lm(("BR-AF-08", "BR-AF-09", "BR-AF-10"), "L"))
    line("L", l_line)
    allowance("L", False, l_allow)
    allowance("L", True, l_charge)
    # M (IPSI)
    m_line, m_allow, m_charge = _trio("BR-AG", "standard", (_GE, 0, False))
    header_tax("M", _header_lm(("BR-AG-08", "BR-AG-09", "BR-AG-10"), "M"))
    line("M", m_line)
    allowance("M", False, m_allow)
    allowance("M", True, m_charge)
    # E, G, K: header code, allowance, charge, line
    for prefix, code, kind in (("BR-E", "E", "standard"), ("BR-G", "G", "G"), ("BR-IC", "K", "K")):
        c_line, c_allow, c_charge = _trio(prefix, kind, _ZERO)
        if code == "K":
            header_code(code, _header_k)
        else:
            header_code(code, _header_code((f"{prefix}-08", f"{prefix}-09", f"{prefix}-10"), code, exempt=True))
        allowance(code, False, c_allow)
        allowance(code, True, c_charge)
        line(code, c_line)
    # O: header breakdown, allowance, charge, line
    o_line, o_allow, o_charge = _trio("BR-O", "O", (None, None, True))
    header_tax("O", _header_o)
    allowance("O", False, o_allow)
    allowance("O", True, o_charge)
    line("O", o_line)
    # S: header code (no VAT type test), line, allowance, charge
    s_line, s_allow, s_charge = _trio("BR-S", "standard", (_GT, 0, False))
    header_code(
        "S", _header_s, vat=False, path="//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode"
    )
    line("S", s_line)
    allowance("S", False, s_allow)
    allowance("S", True, s_charge)
    # Z: header code (no VAT type test), allowance, charge, line
    z_line, z_allow, z_charge = _trio("BR-Z", "standard", _ZERO)
    header_code(
        "Z",
        _header_code(("BR-Z-08", "BR-Z-09", "BR-Z-10"), "Z", exempt=False),
        vat=False,
        path="//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode",
    )
    allowance("Z", False, z_allow)
    allowance("Z", True, z_charge)
    line("Z", z_line)
    return rules


VAT_RULES = _vat_rules()


def _general_header_tax(e, doc: Doc):
    vat = _vat(e)
    categories = nodes(e, "CategoryCode")
    due_and_point = bool(doc.all("TaxPointDate")) and bool(doc.all("DueDateTypeCode"))
    strict_vat = normalize_space(string(one(nodes(e, "TypeCode"))).upper()) == "VAT"
    rate = decimal_of(e, "RateApplicablePercent") if strict_vat else None
    # Amounts read only where the official expression reads them (an unreadable basis with a zero rate is no error).
    calculated = decimal_of(e, "CalculatedAmount")
    if rate is not None:
        if round_decimal(rate) == 0:
            ok17 = calculated is not None and round_decimal(calculated) == 0
        elif calculated is None:
            ok17 = False
        else:
            basis = decimal_of(e, "BasisAmount")
            if basis is None:
                ok17 = False
            else:
                with localcontext(DECIMAL_CONTEXT):
                    expected = cents_decimal(abs(basis) * (rate / 100))
                ok17 = abs(calculated) - 1 <= expected and abs(calculated) + 1 >= expected
    else:
        ok17 = calculated is not None and round_decimal(calculated) == 0
    return _fails(
        ("BR-45", exists(e, "BasisAmount")),
        ("BR-46", exists(e, "CalculatedAmount")),
        ("BR-47", vat and bool(categories)),
        ("BR-48", vat and (exists(e, "RateApplicablePercent") or any_equal_string(categories, "O"))),
        ("BR-CO-03", not due_and_point),
        ("BR-CO-17", ok17),
        ("BR-DEC-19", len(string_of(e, "BasisAmount").partition(".")[2]) <= 2),
        ("BR-DEC-20", len(string_of(e, "CalculatedAmount").partition(".")[2]) <= 2),
    )


GENERAL_HEADER_TAX = context("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", _general_header_tax)
