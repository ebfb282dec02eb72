"""EN 16931 code list rules on UBL: BR-CL-01…26 (pattern « Codesmodel »), BR-CL-08 and BR-CO-09.

A coded value passes when, after whitespace normalisation, it holds no inner space and is one of the list's
codes (the official `contains(' A B … ', concat(' ', ., ' '))` test); the lists are in `codelists.py`.
"""

from __future__ import annotations

from choeur.flows.validation.native import codelists as cl
from choeur.flows.validation.native import xpath2 as x
from choeur.flows.validation.native.ubl_base import CAC, CBC, UblDoc

RULES: dict[str, str] = {
    f"BR-CL-{n:02d}": "fatal"
    for n in (1, 3, 4, 5, 6, 7, 8, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26)
}
RULES["BR-CO-09"] = "fatal"

_AMOUNT_TAGS = tuple(
    CBC + name
    for name in (
        "Amount",
        "BaseAmount",
        "PriceAmount",
        "TaxAmount",
        "TaxableAmount",
        "LineExtensionAmount",
        "TaxExclusiveAmount",
        "TaxInclusiveAmount",
        "AllowanceTotalAmount",
        "ChargeTotalAmount",
        "PrepaidAmount",
        "PayableRoundingAmount",
        "PayableAmount",
    )
)
_TEXT_SUBJECTS = cl.joined(cl.TEXT_SUBJECT_CODES)
_VAT_PREFIXES = cl.joined(cl.VAT_PREFIXES)


def _coded(value: str | None, codes: frozenset[str]) -> bool:
    v = x.normalize(value or "")
    return " " not in v and v in codes


def _parent_is(element, tag: str) -> bool:
    return element.getparent().tag == tag


def check(doc: UblDoc) -> None:
    ok = doc.check
    for e in doc.all(CBC + "InvoiceTypeCode"):
        ok(_coded(x.text(e), cl.INVOICE_TYPE_CODES), "BR-CL-01", e)
    for e in doc.all(CBC + "CreditNoteTypeCode"):
        ok(_coded(x.text(e), cl.CREDIT_NOTE_TYPE_CODES), "BR-CL-01", e)
    for tag in _AMOUNT_TAGS:
        for e in doc.all(tag):
            ok(_coded(e.get("currencyID"), cl.CURRENCY_CODES), "BR-CL-03", e)
    for e in doc.all(CBC + "DocumentCurrencyCode"):
        ok(_coded(x.text(e), cl.CURRENCY_CODES), "BR-CL-04", e)
    for e in doc.all(CBC + "TaxCurrencyCode"):
        ok(_coded(x.text(e), cl.CURRENCY_CODES), "BR-CL-05", e)
    for e in doc.under(CBC + "DescriptionCode", CAC + "InvoicePeriod"):
        ok(_coded(x.text(e), cl.VAT_DATE_CODES), "BR-CL-06", e)
    for e in doc.all(CBC + "ID"):
        parent = e.getparent()
        tag = parent.tag
        scheme = e.get("schemeID")
        if scheme is None:
            if tag == CAC + "TaxCategory":
                ok(_coded(x.text(e), cl.VAT_CATEGORY_CODES), "BR-CL-17", e)
            elif tag == CAC + "ClassifiedTaxCategory":
                ok(_coded(x.text(e), cl.VAT_CATEGORY_CODES), "BR-CL-18", e)
            continue
        if tag in (CAC + "AdditionalDocumentReference", CAC + "DocumentReference"):
            if any(x.text(t) == "130" for t in doc.sel(parent, CBC + "DocumentTypeCode")):
                ok(_coded(scheme, cl.OBJECT_SCHEMES), "BR-CL-07", e)
        elif tag == CAC + "PartyIdentification":
            ok(_coded(scheme, cl.ICD_SCHEMES) or _sepa(e, scheme), "BR-CL-10", e)
        elif tag == CAC + "TaxCategory":
            ok(_coded(x.text(e), cl.VAT_CATEGORY_CODES), "BR-CL-17", e)
        elif tag == CAC + "ClassifiedTaxCategory":
            ok(_coded(x.text(e), cl.VAT_CATEGORY_CODES), "BR-CL-18", e)
        elif tag == CAC + "StandardItemIdentification":
            ok(_coded(scheme, cl.ICD_SCHEMES), "BR-CL-21", e)
        elif tag == CAC + "DeliveryLocation":
            ok(_coded(scheme, cl.ICD_SCHEMES), "BR-CL-26", e)
    for e in doc.under(CBC + "CompanyID", CAC + "PartyLegalEntity"):
        if e.get("schemeID") is not None:
            ok(_coded(e.get("schemeID"), cl.ICD_SCHEMES), "BR-CL-11", e)
    for e in doc.under(CBC + "ItemClassificationCode", CAC + "CommodityClassification"):
        if e.get("listID") is not None:
            ok(_coded(e.get("listID"), cl.ITEM_CLASSIFICATION_LISTS), "BR-CL-13", e)
    for e in doc.all(CBC + "IdentificationCode"):
        tag = e.getparent().tag
        if tag == CAC + "Country":
            ok(_coded(x.text(e), cl.COUNTRY_CODES), "BR-CL-14", e)
        elif tag == CAC + "OriginCountry":
            ok(_coded(x.text(e), cl.COUNTRY_CODES), "BR-CL-15", e)
    for e in doc.under(CBC + "PaymentMeansCode", CAC + "PaymentMeans"):
        ok(_coded(x.text(e), cl.PAYMENT_MEANS_CODES), "BR-CL-16", e)
    kinds = doc.allowance_kinds
    for e in doc.under(CBC + "AllowanceChargeReasonCode", CAC + "AllowanceCharge"):
        allowance, charge = kinds[e.getparent()]
        if allowance:
            ok(_coded(x.text(e), cl.ALLOWANCE_REASON_CODES), "BR-CL-19", e)
        elif charge:
            ok(_coded(x.text(e), cl.CHARGE_REASON_CODES), "BR-CL-20", e)
    for e in doc.all(CBC + "TaxExemptionReasonCode"):
        value = x.text(e)
        ok(
            " " not in x.normalize(value) and x.normalize(value.upper()) in cl.VAT_EXEMPTION_REASON_CODES,
            "BR-CL-22",
            e,
        )
    for tag in ("InvoicedQuantity", "BaseQuantity", "CreditedQuantity"):
        for e in doc.all(CBC + tag):
            if e.get("unitCode") is not None:
                ok(_coded(e.get("unitCode"), cl.UNIT_CODES), "BR-CL-23", e)
    for e in doc.all(CBC + "EmbeddedDocumentBinaryObject"):
        if e.get("mimeCode") is not None:
            ok(e.get("mimeCode") in cl.MIME_CODES, "BR-CL-24", e)
    for e in doc.all(CBC + "EndpointID"):
        if e.get("schemeID") is not None:
            ok(_coded(e.get("schemeID"), cl.EAS_SCHEMES), "BR-CL-25", e)
    if doc.is_document:
        for e in doc.sel(doc.root, CBC + "Note"):
            ok(_note_subject_ok(x.text(e)), "BR-CL-08", e)
    for pts in doc.all(CAC + "PartyTaxScheme"):
        if _matches_vat(doc, pts):
            prefix = x.text(doc.one(pts, CBC + "CompanyID"))[:2]
            ok(prefix in _VAT_PREFIXES, "BR-CO-09", pts)


def _matches_vat(doc: UblDoc, pts) -> bool:
    """The BR-CO-09 context predicate: an error while matching a pattern means no match (XSLT 2.0 §6.4)."""
    try:
        return doc.vat_scheme(pts)
    except x.DynamicError:
        return False


def _sepa(element, scheme: str) -> bool:
    if x.normalize(scheme) != cl.SEPA_SCHEME:
        return False
    return next(element.iterancestors(CAC + "AccountingSupplierParty", CAC + "PayeeParty"), None) is not None


def _note_subject_ok(value: str) -> bool:
    """BR-CL-08: a `#CODE#` subject prefix (3 characters between the first two #) is a UNTDID 4451 code."""
    if "#" not in value:
        return True
    after = value.split("#", 1)[1]
    between = after.split("#", 1)[0] if "#" in after else ""
    if len(between) != 3:
        return True
    return between in _TEXT_SUBJECTS
