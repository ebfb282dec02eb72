"""CII syntax rules (CII-SR-*, CII-DT-*) and code list rules (BR-CL-*) of CEN EN 16931 1.3.16, natively."""

from __future__ import annotations

import re

from choeur.flows.validation.native import cii_codelists as codes
from choeur.flows.validation.native import codelists as shared
from choeur.flows.validation.native.cii_engine import Pattern, Rule, context
from choeur.flows.validation.native.cii_syntax_table import ID_UNION, LINE, SYNTAX_TABLE, TX
from choeur.flows.validation.native.cii_values import (
    RAM,
    any_equal_string,
    any_indicator,
    clark,
    clark_path,
    exists,
    nodes,
    normalize_space,
    one,
    string,
    walk,
)

F, W = "fatal", "warning"
_RAM_PREFIX = f"{{{RAM}}}"


def _compile_row(row):
    number, flag, kind, path = row
    elements, _, attribute = path.partition("@")
    elements = elements.rstrip("/")
    return ("CII-" + number, flag, kind, clark_path(elements) if elements else None, attribute or None)


def _table_check(rows):
    """The table rows of one context, as a trie of child steps walked along the document's own children: the
    cost follows what the document holds, not the hundreds of paths it must not hold."""
    trie: dict = {}  # tag -> [rows ending at this step, sub-trie]
    here = []  # rows on the context element itself (its attributes)
    exactly_one = []  # "one" rows fail when the path is absent: checked directly
    for row in rows:
        rule_id, flag, kind, path, attribute = _compile_row(row)
        if kind == "one":
            exactly_one.append((rule_id, flag, path))
            continue
        if path is None:
            here.append((rule_id, flag, kind, attribute))
            continue
        node = trie
        steps = path.split("/")
        for step in steps[:-1]:
            node = node.setdefault(step, [[], {}])[1]
        node.setdefault(steps[-1], [[], {}])[0].append((rule_id, flag, kind, attribute))

    def judge_rows(found, entries, failed):
        for rule_id, flag, kind, attribute in entries:
            count = len(found) if attribute is None else sum(1 for n in found if n.get(attribute) is not None)
            if (kind == "no" and count) or (kind == "max1" and count > 1):
                failed.append((rule_id, flag))

    def descend(found, node, failed):
        children: dict = {}
        for element in found:
            for child in element:
                if child.tag in node:
                    children.setdefault(child.tag, []).append(child)
        for tag, present in children.items():
            entries, sub = node[tag]
            judge_rows(present, entries, failed)
            if sub:
                descend(present, sub, failed)

    own = tuple((rule_id, flag, attribute) for rule_id, flag, kind, attribute in here if kind == "no")
    assert len(own) == len(here), "seules des interdictions portent sur les attributs du contexte"
    exactly_one = tuple((rule_id, flag, tuple(path.split("/"))) for rule_id, flag, path in exactly_one)

    def check(element, doc):
        failed = []
        if own:
            keys = element.keys()
            if keys:
                failed += [(rule_id, flag) for rule_id, flag, attribute in own if attribute in keys]
        if trie and len(element):
            descend((element,), trie, failed)
        for rule_id, flag, tags in exactly_one:
            if len(walk(element, tags)) != 1:
                failed.append((rule_id, flag))
        return failed

    check.bare_ok = not exactly_one
    return check


def _with(check, extra):
    def both(element, doc):
        yield from check(element, doc)
        yield from extra(element, doc)

    both.bare_ok = check.bare_ok and getattr(extra, "bare_ok", False)
    return both


def _both(element, first: str, second: str) -> bool:
    return exists(element, first) and exists(element, second)


def _count_typed(element, path: str, value: str, *, normalized: bool, then: str | None = None) -> int:
    count = 0
    for document in nodes(element, path):
        codes_ = nodes(document, "TypeCode")
        if normalized:
            ok = normalize_space(string(one(codes_))) == value
        else:
            ok = any_equal_string(codes_, value)
        if ok:
            count += len(nodes(document, then)) if then else 1
    return count


# Conditional syntax rules, by context (the table holds the unconditional ones).
def _product(element, doc):
    if exists(element, "GlobalID") and not any(g.get("schemeID") is not None for g in nodes(element, "GlobalID")):
        yield "CII-SR-046", F
    if exists(element, "OriginTradeCountry") and len(nodes(element, "OriginTradeCountry/ID")) != 1:
        yield "CII-SR-090", F


def _line_agreement(element, doc):
    base = "GrossPriceProductTradePrice/AppliedTradeAllowanceCharge/"
    indicators = nodes(element, base + "ChargeIndicator")
    allowance = any(any_indicator(nodes(i, "udt:Indicator"), False) for i in indicators)
    amount = exists(element, base + "ActualAmount")
    if not ((allowance and amount) or (not indicators and not amount)):
        yield "CII-SR-119", W


def _allowance_charge(element, doc):
    if not exists(element, "ChargeIndicator"):
        yield "CII-SR-463", F


def _line_settlement(element, doc):
    if _count_typed(element, "AdditionalReferencedDocument", "130", normalized=True) > 1:
        yield "CII-SR-474", W


def _header_agreement(element, doc):
    if _both(element, "BuyerTradeParty/ID", "BuyerTradeParty/GlobalID"):
        yield "CII-SR-450", W
    if _count_typed(element, "AdditionalReferencedDocument", "50", normalized=False) > 1:
        yield "CII-SR-457", W
    if _count_typed(element, "AdditionalReferencedDocument", "130", normalized=False) > 1:
        yield "CII-SR-458", W
    if _both(
        element,
        "SellerTradeParty/DefinedTradeContact/PersonName",
        "SellerTradeParty/DefinedTradeContact/DepartmentName",
    ):
        yield "CII-SR-465", W
    if _both(
        element, "BuyerTradeParty/DefinedTradeContact/PersonName", "BuyerTradeParty/DefinedTradeContact/DepartmentName"
    ):
        yield "CII-SR-466", W
    if _count_typed(element, "AdditionalReferencedDocument", "916", normalized=True, then="Name") > 1:
        yield "CII-SR-475", W
    if (
        _count_typed(element, "AdditionalReferencedDocument", "916", normalized=True, then="AttachmentBinaryObject")
        > 1
    ):
        yield "CII-SR-476", W


def _header_delivery(element, doc):
    if _both(element, "ShipToTradeParty/ID", "ShipToTradeParty/GlobalID"):
        yield "CII-SR-449", W


def _header_settlement(element, doc):
    if _both(element, "PayeeTradeParty/ID", "PayeeTradeParty/GlobalID"):
        yield "CII-SR-451", W
    due = {string(d) for t in doc.tagged(clark("ApplicableTradeTax")) for d in nodes(t, "DueDateTypeCode")}
    if len(due) > 1:
        yield "CII-SR-462", F
    for means in nodes(element, "SpecifiedTradeSettlementPaymentMeans"):
        account = "PayeePartyCreditorFinancialAccount/"
        if exists(means, account + "IBANID") or exists(means, account + "ProprietaryID"):
            continue  # decided without the type code: Saxon does not read it then (no error on two codes)
        if normalize_space(string(one(nodes(means, "TypeCode")))) in ("30", "58"):
            yield "CII-SR-470", F
            break


def _all_same(values: list) -> bool:
    if not values:
        return True
    first = normalize_space(string(values[0]))
    return all(normalize_space(string(v)) == first for v in values)


def _root(element, doc):
    means = doc.all("SpecifiedTradeSettlementPaymentMeans")
    if not _all_same([c for m in means for c in nodes(m, "TypeCode")]):
        yield "CII-SR-467", F
    if not _all_same([c for m in means for c in nodes(m, "Information")]):
        yield "CII-SR-468", F
    references = [r for s in doc.all("ApplicableHeaderTradeSettlement") for r in nodes(s, "PaymentReference")]
    if len(references) > 1:
        yield "CII-SR-469", F


_ADDITIONAL = clark("AdditionalReferencedDocument")
_INVOICE_REFERENCE = clark("InvoiceReferencedDocument")


def _referenced_document(element, doc):
    additional = element.tag == _ADDITIONAL
    type_codes = nodes(element, "TypeCode")

    def typed(*values):
        return additional and any(any_equal_string(type_codes, v) for v in values)

    if exists(element, "URIID") and not typed("916"):
        yield "CII-DT-015", F
    if type_codes and not typed("50", "130", "916"):
        yield "CII-DT-018", F
    if exists(element, "Name") and not typed("916"):
        yield "CII-DT-021", F
    if exists(element, "AttachmentBinaryObject") and not typed("916"):
        yield "CII-DT-022", F
    if exists(element, "ReferenceTypeCode") and not typed("130"):
        yield "CII-DT-024", F
    if exists(element, "FormattedIssueDateTime") and element.tag != _INVOICE_REFERENCE:
        yield "CII-DT-027", F


def _quantity(element, doc):
    if element.get("unitCode") is not None and not doc.billed_unit_code:
        yield "CII-DT-033", F


_HEADER_SETTLEMENT = clark("ApplicableHeaderTradeSettlement")
_APPLICABLE_TAX = clark("ApplicableTradeTax")


def _trade_tax(element, doc):
    type_codes = nodes(element, "TypeCode")
    if type_codes and not any_equal_string(type_codes, "VAT"):
        yield "CII-DT-037", F
    in_header = next(element.iterancestors(_HEADER_SETTLEMENT), None) is not None
    if exists(element, "BasisAmount") and not in_header:
        yield "CII-DT-041", W
    if exists(element, "ExemptionReasonCode") and element.tag != _APPLICABLE_TAX:
        yield "CII-DT-052", W
    if exists(element, "ExemptionReason") and element.tag != _APPLICABLE_TAX:
        yield "CII-DT-098", W
    if exists(element, "TaxPointDate") and not in_header:
        yield "CII-DT-054", W
    if exists(element, "DueDateTypeCode") and not in_header:
        yield "CII-DT-058", W


_DATE_102 = re.compile(r"[ \t\n\r]*(\d{4})(1[0-2]|0[1-9])(3[01]|[12][0-9]|0[1-9])[ \t\n\r]*")


def _date_102(element, doc):
    if not _DATE_102.fullmatch(string(element)):
        yield "CII-DT-097", F


# These read the context's attributes or children only: a bare element passes them.
_quantity.bare_ok = _trade_tax.bare_ok = _referenced_document.bare_ok = True

_EXTRA = {
    LINE + "/ram:SpecifiedTradeProduct": _product,
    LINE + "/ram:SpecifiedLineTradeAgreement": _line_agreement,
    "//ram:SpecifiedTradeAllowanceCharge": _allowance_charge,
    LINE + "/ram:SpecifiedLineTradeSettlement": _line_settlement,
    TX + "/ram:ApplicableHeaderTradeAgreement": _header_agreement,
    TX + "/ram:ApplicableHeaderTradeDelivery": _header_delivery,
    TX + "/ram:ApplicableHeaderTradeSettlement": _header_settlement,
    "/rsm:CrossIndustryInvoice": _root,
    "//ram:*[ends-with(name(), 'ReferencedDocument')]": _referenced_document,
    "//ram:*[ends-with(name(), 'Quantity')]": _quantity,
    "//ram:*[ends-with(name(), 'TradeTax')]": _trade_tax,
    "//udt:DateTimeString[@format = '102']": _date_102,
}

_TAX_TOTAL = clark("TaxTotalAmount")


def _ram_suffix(suffix: str, *, but: str | None = None):
    def test(tag: str) -> bool:
        return tag.startswith(_RAM_PREFIX) and tag.endswith(suffix) and tag != but

    return test


_ID_UNION = (
    "/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
    "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID",
    LINE + "/ram:AssociatedDocumentLineDocument/ram:LineID",
    LINE + "/ram:SpecifiedTradeProduct/ram:SellerAssignedID",
)


def _syntax_rules() -> list[Rule]:
    rules: list[Rule] = []
    for key, rows in SYNTAX_TABLE:
        check = _table_check(rows)
        if key in _EXTRA:
            check = _with(check, _EXTRA[key])
        if key == "//*[ends-with(name(), 'DocumentContextParameter')]":
            rules.append(Rule(None, check, name_test=lambda tag: tag.endswith("DocumentContextParameter")))
        elif key == ID_UNION:
            # A union of four paths: one rule, four contexts.
            rules.extend(context(path, check) for path in _ID_UNION)
        elif key == "//ram:*[ends-with(name(), 'ID')]":
            rules.append(Rule(None, check, name_test=_ram_suffix("ID")))
        elif key == "//ram:*[ends-with(name(), 'ReferencedDocument')]":
            rules.append(Rule(None, check, name_test=_ram_suffix("ReferencedDocument")))
        elif key == "//ram:*[ends-with(name(), 'Amount') and not (self::ram:TaxTotalAmount)]":
            rules.append(Rule(None, check, name_test=_ram_suffix("Amount", but=_TAX_TOTAL)))
        elif key == "//ram:*[ends-with(name(), 'Quantity')]":
            rules.append(Rule(None, check, name_test=_ram_suffix("Quantity")))
        elif key == "//ram:*[ends-with(name(), 'TradeTax')]":
            rules.append(Rule(None, check, name_test=_ram_suffix("TradeTax")))
        elif key == "//udt:DateTimeString[@format = '102']":
            rules.append(context("//udt:DateTimeString", check, predicate=lambda e, d: e.get("format") == "102"))
        else:
            if "[" in key or "*" in key or "|" in key:
                raise RuntimeError(f"contexte non pris en charge : {key}")
            rules.append(context(key, check))
    return rules


SYNTAX = Pattern("EN16931-CII-Syntax", _syntax_rules())


# Code lists (pattern EN16931-Codes: every rule fatal).
def _in_list(rule_id: str, values: frozenset, attribute: str | None = None, *, upper: bool = False):
    def check(element, doc):
        value = normalize_space((element.get(attribute) if attribute else string(element)) or "")
        if (value.upper() if upper else value) not in values or " " in value:
            yield rule_id, F

    return check


def _has(attribute: str):
    return lambda element, doc: element.get(attribute) is not None


def _no_ancestor(*names: str):
    tags = tuple(clark(n) for n in names)

    def test(element, doc):
        return all(next(element.iterancestors(tag), None) is None for tag in tags)

    return test


def _allowance_indicator(charge: bool):
    def test(element, doc):
        return any_indicator(nodes(element.getparent(), "ChargeIndicator/udt:Indicator"), charge)

    return test


def _mime(element, doc):
    if element.get("mimeCode") not in shared.MIME_CODES:
        yield "BR-CL-24", F


def _and(*tests):
    return lambda element, doc: all(t(element, doc) for t in tests)


CODES = Pattern(
    "EN16931-Codes",
    [
        context("rsm:ExchangedDocument/ram:TypeCode", _in_list("BR-CL-01", codes.INVOICE_TYPE)),
        context(
            "ram:TaxTotalAmount",
            _in_list("BR-CL-03", shared.CURRENCY_CODES, "currencyID"),
            predicate=_has("currencyID"),
        ),
        context("ram:InvoiceCurrencyCode", _in_list("BR-CL-04", shared.CURRENCY_CODES)),
        context("ram:TaxCurrencyCode", _in_list("BR-CL-05", shared.CURRENCY_CODES)),
        context("ram:DueDateTypeCode", _in_list("BR-CL-06", codes.DUE_DATE_TYPE)),
        context("ram:ReferenceTypeCode", _in_list("BR-CL-07", shared.OBJECT_SCHEMES)),
        context("ram:SubjectCode", _in_list("BR-CL-08", codes.SUBJECT)),
        context(
            "//ram:GlobalID",
            _in_list("BR-CL-10", shared.ICD_SCHEMES, "schemeID"),
            predicate=_and(_has("schemeID"), _no_ancestor("SpecifiedTradeProduct", "ShipToTradeParty")),
        ),
        context(
            "ram:ID",
            _in_list("BR-CL-11", shared.ICD_SCHEMES, "schemeID"),
            predicate=_and(_has("schemeID"), _no_ancestor("SpecifiedTaxRegistration")),
        ),
        context(
            "ram:ClassCode", _in_list("BR-CL-13", shared.ITEM_CLASSIFICATION_LISTS, "listID"), predicate=_has("listID")
        ),
        context("ram:CountryID", _in_list("BR-CL-14", codes.COUNTRY)),
        context("ram:OriginTradeCountry/ram:ID", _in_list("BR-CL-15", codes.COUNTRY)),
        context(
            "ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode", _in_list("BR-CL-16", shared.PAYMENT_MEANS_CODES)
        ),
        context("ram:CategoryTradeTax/ram:CategoryCode", _in_list("BR-CL-17", shared.VAT_CATEGORY_CODES)),
        context("ram:ApplicableTradeTax/ram:CategoryCode", _in_list("BR-CL-18", shared.VAT_CATEGORY_CODES)),
        context(
            "ram:SpecifiedTradeAllowanceCharge/ram:ReasonCode",
            _in_list("BR-CL-19", shared.ALLOWANCE_REASON_CODES),
            predicate=_allowance_indicator(False),
        ),
        context(
            "ram:SpecifiedTradeAllowanceCharge/ram:ReasonCode",
            _in_list("BR-CL-20", shared.CHARGE_REASON_CODES),
            predicate=_allowance_indicator(True),
        ),
        context(
            "ram:SpecifiedTradeProduct/ram:GlobalID",
            _in_list("BR-CL-21", shared.ICD_SCHEMES, "schemeID"),
            predicate=_has("schemeID"),
        ),
        context("ram:ExemptionReasonCode", _in_list("BR-CL-22", shared.VAT_EXEMPTION_REASON_CODES, upper=True)),
        context("ram:BasisQuantity", _in_list("BR-CL-23", shared.UNIT_CODES, "unitCode"), predicate=_has("unitCode")),
        context("ram:BilledQuantity", _in_list("BR-CL-23", shared.UNIT_CODES, "unitCode"), predicate=_has("unitCode")),
        context("ram:AttachmentBinaryObject", _mime, predicate=_has("mimeCode")),
        context(
            "ram:URIUniversalCommunication/ram:URIID",
            _in_list("BR-CL-25", shared.EAS_SCHEMES, "schemeID"),
            predicate=_has("schemeID"),
        ),
        context(
            "ram:ApplicableHeaderTradeDelivery/ram:ShipToTradeParty/ram:GlobalID",
            _in_list("BR-CL-26", shared.ICD_SCHEMES, "schemeID"),
            predicate=_has("schemeID"),
        ),
    ],
)
