"""EN 16931 on UBL: the syntax binding rules UBL-SR-* (cardinalities) and UBL-DT-* (data types, attributes).

Most UBL-SR rules say « at most one » of a path under a context: they are the `_AT_MOST_ONE` table
(rule, path from the document element). The others, and the UBL-DT rules, are written out below.
"""

from __future__ import annotations

from choeur.flows.validation.native import xpath2 as x
from choeur.flows.validation.native.ubl_base import (
    ALLOWANCE_CHARGE,
    CAC,
    CBC,
    CREDIT_NOTE,
    LINE_TAGS,
    UblDoc,
    p,
)

_AT_MOST_ONE = (
    ("UBL-SR-01", "cac:ContractDocumentReference/cbc:ID"),
    ("UBL-SR-02", "cac:ReceiptDocumentReference/cbc:ID"),
    ("UBL-SR-03", "cac:DespatchDocumentReference/cbc:ID"),
    ("UBL-SR-05", "cac:PaymentTerms/cbc:Note"),
    ("UBL-SR-08", "cac:InvoicePeriod"),
    ("UBL-SR-09", "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName"),
    ("UBL-SR-10", "cac:AccountingSupplierParty/cac:Party/cac:PartyName/cbc:Name"),
    ("UBL-SR-11", "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID"),
    ("UBL-SR-14", "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyLegalForm"),
    ("UBL-SR-15", "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName"),
    ("UBL-SR-16", "cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID"),
    ("UBL-SR-17", "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID"),
    ("UBL-SR-24", "cac:Delivery"),
    ("UBL-SR-39", "cac:ProjectReference/cbc:ID"),
    ("UBL-SR-40", "cac:AccountingCustomerParty/cac:Party/cac:PartyName/cbc:Name"),
    ("UBL-SR-45", "cac:PaymentMeans/cbc:PaymentDueDate"),
    ("UBL-SR-49", "cac:InvoicePeriod/cbc:DescriptionCode"),
    ("UBL-SR-54", "cac:PaymentMeans/cac:CardAccount"),
    ("UBL-SR-55", "cac:PaymentMeans/cac:PaymentMandate"),
    ("UBL-SR-56", "cac:OriginatorDocumentReference/cbc:ID"),
)
_AT_MOST_ONE_PATHS = tuple((rule, p(path)) for rule, path in _AT_MOST_ONE)

# UBL-DT-08…28 (except 18): attributes that should not appear anywhere.
_UNUSED_ATTRIBUTES = (
    ("UBL-DT-08", "schemeName"),
    ("UBL-DT-09", "schemeAgencyName"),
    ("UBL-DT-10", "schemeDataURI"),
    ("UBL-DT-11", "schemeURI"),
    ("UBL-DT-12", "format"),
    ("UBL-DT-13", "unitCodeListIdentifier"),
    ("UBL-DT-14", "unitCodeListAgencyIdentifier"),
    ("UBL-DT-15", "unitCodeListAgencyName"),
    ("UBL-DT-16", "listAgencyName"),
    ("UBL-DT-17", "listName"),
    ("UBL-DT-19", "languageID"),
    ("UBL-DT-20", "listURI"),
    ("UBL-DT-21", "listSchemeURI"),
    ("UBL-DT-22", "languageLocaleID"),
    ("UBL-DT-23", "uri"),
    ("UBL-DT-24", "currencyCodeListVersionID"),
    ("UBL-DT-25", "characterSetCode"),
    ("UBL-DT-26", "encodingCode"),
    ("UBL-DT-27", "schemeAgencyID"),
    ("UBL-DT-28", "listAgencyID"),
)

RULES: dict[str, str] = {rule: "fatal" for rule, _ in _AT_MOST_ONE}
RULES.update({rule: "warning" for rule, _ in _UNUSED_ATTRIBUTES})
RULES["UBL-DT-18"] = "warning"
RULES.update(
    {
        rule: "fatal"
        for rule in (
            "UBL-SR-04 UBL-SR-12 UBL-SR-13 UBL-SR-18 UBL-SR-29 UBL-SR-44 UBL-SR-46 UBL-SR-47 UBL-SR-51 UBL-SR-42 "
            "UBL-SR-33 UBL-SR-43 UBL-SR-25 UBL-SR-30 UBL-SR-31 UBL-SR-53 UBL-SR-34 UBL-SR-35 UBL-SR-36 UBL-SR-37 "
            "UBL-SR-48 UBL-SR-50 UBL-SR-52 UBL-SR-19 UBL-SR-20 UBL-SR-21 UBL-SR-26 UBL-SR-27 UBL-SR-28 UBL-SR-06 "
            "UBL-SR-07 UBL-SR-22 UBL-SR-23 UBL-SR-32 UBL-DT-01 UBL-DT-06 UBL-DT-07"
        ).split()
    }
)


def _count(doc: UblDoc, element, path: str) -> int:
    return len(doc.sel(element, path))


def check(doc: UblDoc) -> None:
    if doc.is_document:
        _document(doc)
    _contexts(doc)
    _data_types(doc)


def _vat_upper(doc: UblDoc, scheme_holder, equal: bool) -> bool:
    """`[cac:TaxScheme/upper-case(cbc:ID) = 'VAT']` (or `!=`), without normalisation."""
    for scheme in doc.sel(scheme_holder, CAC + "TaxScheme"):
        value = x.text(doc.one(scheme, CBC + "ID")).upper()
        if (value == "VAT") == equal:
            return True
    return False


def _document(doc: UblDoc) -> None:
    root, ok = doc.root, doc.check
    for rule, path in _AT_MOST_ONE_PATHS:
        ok(_count(doc, root, path) <= 1, rule, root)
    references = doc.sel(root, CAC + "AdditionalDocumentReference")
    ok(
        sum(
            len(doc.sel(r, CBC + "ID"))
            for r in references
            if any(x.text(t) == "130" for t in doc.sel(r, CBC + "DocumentTypeCode"))
        )
        <= 1,
        "UBL-SR-04",
        root,
    )
    for rule, party, equal in (
        ("UBL-SR-12", "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme", True),
        ("UBL-SR-13", "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme", False),
        ("UBL-SR-18", "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme", True),
    ):
        schemes = [s for s in doc.sel(root, (party)) if _vat_upper(doc, s, equal)]
        ok(sum(len(doc.sel(s, CBC + "CompanyID")) for s in schemes) <= 1, rule, root)
    sepa = [
        e
        for e in doc.under(CBC + "ID", CAC + "PartyIdentification")
        if e.get("schemeID") is not None and e.get("schemeID").upper() == "SEPA"
    ]
    ok(len(sepa) <= 1, "UBL-SR-29", root)
    ok(len({x.text(e) for e in doc.all(CBC + "PaymentID")}) <= 1, "UBL-SR-44", root)
    named_codes = [e for e in doc.sel(root, ("cac:PaymentMeans/cbc:PaymentMeansCode")) if e.get("name") is not None]
    ok(len(named_codes) <= 1, "UBL-SR-46", root)
    ok(len({x.text(e) for e in doc.all(CBC + "PaymentMeansCode")}) <= 1, "UBL-SR-47", root)
    for rule, attribute in _UNUSED_ATTRIBUTES:
        ok(attribute not in doc.attribute_names, rule, root)
    named = doc.named_elements
    ok(all(e.tag == CBC + "PaymentMeansCode" for e in named), "UBL-DT-18", root)


def _contexts(doc: UblDoc) -> None:
    ok = doc.check
    for tag in (CAC + "PostalAddress", CAC + "Address"):
        for address in doc.all(tag):
            ok(_count(doc, address, CAC + "AddressLine") <= 1, "UBL-SR-51", address)
    for party in doc.under(CAC + "Party", CAC + "AccountingSupplierParty"):
        ok(_count(doc, party, CAC + "PartyTaxScheme") <= 2, "UBL-SR-42", party)
    is_credit_note = doc.root.tag == CREDIT_NOTE
    for reference in doc.all(CAC + "AdditionalDocumentReference"):
        ok(_count(doc, reference, CBC + "DocumentDescription") <= 1, "UBL-SR-33", reference)
        types = [x.text(t) for t in doc.sel(reference, CBC + "DocumentTypeCode")]
        has_scheme = any(i.get("schemeID") is not None for i in doc.sel(reference, CBC + "ID"))
        ok(
            "130" in types or (is_credit_note and "50" in types) or (not has_scheme and not types),
            "UBL-SR-43",
            reference,
        )
    for delivery in doc.all(CAC + "Delivery"):
        ok(_count(doc, delivery, "cac:DeliveryParty/cac:PartyName/cbc:Name") <= 1, "UBL-SR-25", delivery)
    kinds = doc.allowance_kinds
    for ac in doc.all(ALLOWANCE_CHARGE):
        allowance, charge = kinds[ac]
        if allowance:
            ok(_count(doc, ac, CBC + "AllowanceChargeReason") <= 1, "UBL-SR-30", ac)
        elif charge:
            ok(_count(doc, ac, CBC + "AllowanceChargeReason") <= 1, "UBL-SR-31", ac)
    for scheme in doc.all(CAC + "PartyTaxScheme"):
        ok(
            doc.has(scheme, "cac:TaxScheme/cbc:ID") and doc.has(scheme, CBC + "CompanyID"),
            "UBL-SR-53",
            scheme,
        )
    for line_tag in LINE_TAGS:
        for line in doc.all(line_tag):
            ok(_count(doc, line, CBC + "Note") <= 1, "UBL-SR-34", line)
            ok(_count(doc, line, "cac:OrderLineReference/cbc:LineID") <= 1, "UBL-SR-35", line)
            ok(_count(doc, line, CAC + "InvoicePeriod") <= 1, "UBL-SR-36", line)
            ok(_count(doc, line, "cac:Price/cac:AllowanceCharge/cbc:Amount") <= 1, "UBL-SR-37", line)
            ok(_count(doc, line, "cac:Item/cac:ClassifiedTaxCategory") == 1, "UBL-SR-48", line)
            ok(_count(doc, line, "cac:Item/cbc:Description") <= 1, "UBL-SR-50", line)
            ok(_count(doc, line, CAC + "DocumentReference") <= 1, "UBL-SR-52", line)
    for payee in doc.all(CAC + "PayeeParty"):
        names = [x.text(e) for e in doc.sel(payee, ("cac:PartyName/cbc:Name"))]
        seller = [
            x.text(e)
            for e in doc.sel(
                payee.getparent(), "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName"
            )
        ]
        differs = any(a != b for a in names for b in seller)
        ok(len(names) <= 1 and differs, "UBL-SR-19", payee)
        ids = [
            e
            for e in doc.sel(payee, ("cac:PartyIdentification/cbc:ID"))
            if (e.get("schemeID") or "").upper() != "SEPA"
        ]
        ok(len(ids) <= 1 and differs, "UBL-SR-20", payee)
        ok(_count(doc, payee, "cac:PartyLegalEntity/cbc:CompanyID") <= 1 and differs, "UBL-SR-21", payee)
    for means in doc.all(CAC + "PaymentMeans"):
        ok(_count(doc, means, CBC + "PaymentID") <= 1, "UBL-SR-26", means)
        ok(_count(doc, means, CBC + "PaymentMeansCode") <= 1, "UBL-SR-27", means)
        ok(_count(doc, means, "cac:PaymentMandate/cbc:ID") <= 1, "UBL-SR-28", means)
    for reference in doc.all(CAC + "BillingReference"):
        ok(_count(doc, reference, CAC + "InvoiceDocumentReference") <= 1, "UBL-SR-06", reference)
        ok(doc.has(reference, "cac:InvoiceDocumentReference/cbc:ID"), "UBL-SR-07", reference)
    for representative in doc.all(CAC + "TaxRepresentativeParty"):
        ok(_count(doc, representative, "cac:PartyName/cbc:Name") <= 1, "UBL-SR-22", representative)
        ok(_count(doc, representative, "cac:PartyTaxScheme/cbc:CompanyID") <= 1, "UBL-SR-23", representative)
    for subtotal in doc.all(CAC + "TaxSubtotal"):
        ok(_count(doc, subtotal, "cac:TaxCategory/cbc:TaxExemptionReason") <= 1, "UBL-SR-32", subtotal)


_PRICE = CAC + "Price"
_KINDS: dict[str, str | None] = {}


def _kind(tag: str) -> str | None:
    """ "amount" for an element whose name ends in Amount but not PriceAmount, "binary" for a BinaryObject."""
    local = tag.rpartition("}")[2]
    if local.endswith("Amount") and not local.endswith("PriceAmount"):
        kind = "amount"
    elif local.endswith("BinaryObject"):
        kind = "binary"
    else:
        kind = None
    _KINDS[tag] = kind
    return kind


def _data_types(doc: UblDoc) -> None:
    ok = doc.check
    # Amounts under a cac:Price that has an allowance (the item price discount) are exempt from UBL-DT-01.
    priced = [price for price in doc.all(_PRICE) if doc.has(price, ALLOWANCE_CHARGE)]
    for tag, elements in doc.by_tag.items():
        kind = _KINDS[tag] if tag in _KINDS else _kind(tag)
        if kind == "amount":
            for element in elements:
                if priced and any(a in priced for a in element.iterancestors(_PRICE)):
                    continue
                ok(x.decimal_places(x.text(element)) <= 2, "UBL-DT-01", element)
        elif kind == "binary":
            for element in elements:
                ok(element.get("mimeCode") is not None, "UBL-DT-06", element)
                ok(element.get("filename") is not None, "UBL-DT-07", element)
