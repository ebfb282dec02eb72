"""EN 16931 VAT category rules on UBL: BR-S, BR-Z, BR-E, BR-AE, BR-IC (K), BR-G, BR-O, BR-AF (L), BR-AG (M), BR-B.

The nine categories share a shape — 01: a category used somewhere has its VAT breakdown; 02–04: a line,
allowance or charge of the category needs such VAT identifiers of the parties; 05–07: its rate; 08: the
breakdown's taxable amount is the sum of its lines and allowances/charges; 09: its tax amount; 10: exemption
reasons — with per-category variants the official artefacts carry (which selections filter on the VAT scheme,
which party identifiers count). `CATEGORIES` states them as data; one pass per selection serves every rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from choeur.flows.validation.native import xpath2 as x
from choeur.flows.validation.native.ubl_base import (
    ALLOWANCE_CHARGE,
    CAC,
    CBC,
    CLASSIFIED_TAX_CATEGORY,
    ID,
    LINE_TAGS,
    TAX_CATEGORY,
    UblDoc,
)

# Party conditions of rules 02–04.
SELLER_ANY = "seller-any"  # the seller's PartyTaxScheme/CompanyID (any scheme) or the representative's VAT id
SELLER_VAT = "seller-vat"  # the seller's or the representative's VAT id
NO_VAT_IDS = "no-vat-ids"  # BR-O: neither the seller, the representative nor the buyer has a VAT id
BUYER_VAT_OR_LEGAL = "buyer-vat-or-legal"
BUYER_VAT = "buyer-vat"


@dataclass(frozen=True)
class Category:
    prefix: str  # "BR-AE"
    code: str  # "AE"
    count_rule: str  # 01: "unique" (exactly one breakdown), "present" (S: some), "present-vat" (L, M)
    seller: str
    buyer: str | None = None
    raw_vat: frozenset = frozenset()  # rules 02–04 whose first selection skips the VAT-scheme filter
    raw_guard: frozenset = frozenset()  # rules 02–04 whose guard selection skips the VAT-scheme filter
    raw_guard_code: frozenset = frozenset()  # … or compares the raw (not normalised) code
    document_level_only: bool = False  # BR-O-03/04 look at document-level allowances and charges only
    rate: str = "zero"  # 05–07: "zero" (= 0), "none" (absent), "positive" (> 0), "non-negative" (≥ 0)
    rated: bool = False  # 08/09 by rate with a ±1 tolerance (S, L, M) instead of exact sums
    guarded_08: bool = False  # S: rule 08 only counts a rate used by some line or allowance/charge
    exemption: str = "required"  # 10: "required" or "forbidden"
    first_count_raw: bool = False  # L: rule 01 counts breakdowns whose raw cbc:ID is the code
    first_count_raw_vat: bool = False  # M: rule 01 counts breakdowns whose raw cbc:ID is the code (VAT ones)


CATEGORIES = (
    Category("BR-S", "S", "present", SELLER_ANY, raw_guard=frozenset({"02"}), rate="positive", rated=True,
             guarded_08=True, exemption="forbidden"),
    Category("BR-Z", "Z", "unique", SELLER_ANY, exemption="forbidden"),
    Category("BR-E", "E", "unique", SELLER_ANY),
    Category("BR-AE", "AE", "unique", SELLER_ANY, buyer=BUYER_VAT_OR_LEGAL),
    Category("BR-IC", "K", "unique", SELLER_VAT, buyer=BUYER_VAT),
    Category("BR-G", "G", "unique", SELLER_VAT, raw_vat=frozenset({"03", "04"})),
    Category("BR-O", "O", "unique", NO_VAT_IDS, document_level_only=True, rate="none"),
    Category("BR-AF", "L", "present-vat", SELLER_ANY, raw_guard_code=frozenset({"04"}), rate="non-negative",
             rated=True, exemption="forbidden", first_count_raw=True),
    Category("BR-AG", "M", "present-vat", SELLER_ANY, rate="non-negative", rated=True, exemption="forbidden",
             first_count_raw_vat=True),
)  # fmt: skip

RULES: dict[str, str] = {f"{cat.prefix}-{n:02d}": "fatal" for cat in CATEGORIES for n in range(1, 11)}
RULES.update({"BR-IC-11": "fatal", "BR-IC-12": "fatal", "BR-B-01": "fatal", "BR-B-02": "fatal"})
RULES.update({f"BR-O-{n}": "fatal" for n in (11, 12, 13, 14)})


class _Index:
    """The tax categories of the document, with their normalised code and VAT-scheme flag, read once."""

    def __init__(self, doc: UblDoc):
        self.doc = doc
        self._memo: dict[tuple, list] = {}
        kinds = doc.allowance_kinds
        # (category element, code, vat, raw codes) for each cac:TaxCategory / cac:ClassifiedTaxCategory.
        self.tax: list[tuple] = [self._read(e) for e in doc.all(TAX_CATEGORY)]
        self.classified: list[tuple] = [self._read(e) for e in doc.all(CLASSIFIED_TAX_CATEGORY)]
        self.ac_tax: list[tuple] = []  # (allowance?, charge?, document-level?, info)
        for info in self.tax:
            parent = info[0].getparent()
            if parent.tag == ALLOWANCE_CHARGE:
                allowance, charge = kinds[parent]
                top = doc.is_document and parent.getparent() is doc.root
                self.ac_tax.append((allowance, charge, top, info))
        self.breakdown: list[tuple] = []  # root TaxTotal/TaxSubtotal/TaxCategory (document root only)
        self.breakdown_any_root: list[tuple] = []  # /*/TaxTotal/TaxSubtotal/TaxCategory
        for info in self.tax:
            subtotal = info[0].getparent()
            if subtotal.tag != CAC + "TaxSubtotal":
                continue
            total = subtotal.getparent()
            if total.tag == CAC + "TaxTotal" and total.getparent() is doc.root:
                self.breakdown_any_root.append(info)
                if doc.is_document:
                    self.breakdown.append(info)

    def codes(self, holder, path: str) -> list[str]:
        """normalize-space(cbc:ID) of each tax category at `path` under `holder` (read once)."""
        key = (holder, path, "codes")
        found = self._memo.get(key)
        if found is None:
            doc = self.doc
            found = self._memo[key] = [doc.ns_one(t, ID) for t in doc.sel(holder, path)]
        return found

    def rates(self, holder, path: str) -> list[Decimal]:
        """xs:decimal(cbc:Percent) of each tax category at `path` under `holder` (read once)."""
        key = (holder, path, "rates")
        found = self._memo.get(key)
        if found is None:
            doc = self.doc
            found = self._memo[key] = [
                v for t in doc.sel(holder, path) if (v := doc.dec_one(t, CBC + "Percent")) is not None
            ]
        return found

    def amounts(self, holder, tag: str) -> list[Decimal]:
        """xs:decimal of each `tag` child of `holder` (read once)."""
        key = (holder, tag, "amounts")
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = x.dec_all(self.doc.sel(holder, tag))
        return found

    def _read(self, element) -> tuple:
        doc = self.doc
        ids = [x.normalize(x.text(e)) for e in doc.sel(element, ID)]
        raws = [x.text(e) for e in doc.sel(element, ID)]
        code = doc.category_code(element)
        return (element, code, doc.vat_scheme(element), ids, raws)


def check(doc: UblDoc) -> None:
    index = _Index(doc)
    # A category whose code appears in no tax category (normalised or not) passes all its rules.
    present = {code for _, _, _, ids, raws in index.tax + index.classified for code in (*ids, *raws)}
    categories = [cat for cat in CATEGORIES if cat.code in present]
    if doc.is_document:
        for cat in categories:
            _document_rules(doc, index, cat)
        _other_document_rules(doc, index)
    for cat in categories:
        _category_rules(doc, index, cat)


def _party_condition(doc: UblDoc, cat: Category) -> bool:
    if cat.seller == NO_VAT_IDS:
        return not doc.seller_vat and not doc.representative_vat and not doc.buyer_vat
    seller = (doc.seller_vat_any if cat.seller == SELLER_ANY else doc.seller_vat) or doc.representative_vat
    if cat.buyer == BUYER_VAT_OR_LEGAL:
        return seller and (doc.buyer_vat or doc.buyer_legal_id)
    if cat.buyer == BUYER_VAT:
        return seller and doc.buyer_vat
    return seller


def _document_rules(doc: UblDoc, index: _Index, cat: Category) -> None:
    root, code, ok = doc.root, cat.code, doc.check
    rule = cat.prefix + "-"
    # 01
    if cat.count_rule == "unique":
        used = any(vat and code in ids for _, _, vat, ids, _ in index.tax + index.classified)
        count = sum(ids.count(code) for _, _, vat, ids, _ in index.breakdown if vat)
        ok((used and count == 1) or not used, rule + "01", root)
    else:
        vat_needed = cat.count_rule == "present-vat"
        used = sum(1 for _, _, _, info in index.ac_tax if info[1] == code and (info[2] or not vat_needed))
        used += sum(1 for _, c, vat, _, _ in index.classified if c == code and (vat or not vat_needed))
        if cat.first_count_raw:
            present = sum(1 for _, _, _, _, raws in index.breakdown if code in raws)
        elif cat.first_count_raw_vat:
            present = sum(1 for _, _, vat, _, raws in index.breakdown if vat and code in raws)
        else:
            present = sum(1 for _, c, vat, _, _ in index.breakdown if c == code and (vat or not vat_needed))
        absent = sum(1 for _, c, vat, _, _ in index.breakdown if c == code and (vat or not vat_needed)) == 0
        ok((used > 0 and present > 0) or (used == 0 and absent), rule + "01", root)
    # 02–04
    parties = None
    selections = (
        ("02", [info for info in index.classified]),
        ("03", [info for a, _, top, info in index.ac_tax if a and (top or not cat.document_level_only)]),
        ("04", [info for _, ch, top, info in index.ac_tax if ch and (top or not cat.document_level_only)]),
    )
    for number, infos in selections:
        selected = any(i[1] == code and (i[2] or number in cat.raw_vat) for i in infos)
        if number in cat.raw_guard_code:
            guard = any(code in i[4] and i[2] for i in infos)
        else:
            guard = any(i[1] == code and (i[2] or number in cat.raw_guard) for i in infos)
        if not guard:
            continue
        if parties is None:
            parties = _party_condition(doc, cat)
        ok(selected and parties, rule + number, root)


def _other_document_rules(doc: UblDoc, index: _Index) -> None:
    root, ok = doc.root, doc.check
    vat_breakdown = [i for i in index.breakdown if i[2]]
    has_k = any("K" in ids for _, _, _, ids, _ in vat_breakdown)
    if has_k:
        delivery_dates = doc.sel(root, f"{CAC}Delivery/{CBC}ActualDeliveryDate")
        first_date = x.text(delivery_dates[0]) if delivery_dates else ""
        if len(doc.sel(root, f"{CAC}Delivery")) > 1 and len(delivery_dates) > 1:
            raise x.DynamicError("plusieurs dates de livraison là où une seule est permise", root)
        period_children = [
            e for period in doc.sel(root, f"{CAC}InvoicePeriod") for e in period if isinstance(e.tag, str)
        ]
        ok(len(first_date) > 1 or bool(period_children), "BR-IC-11", root)
        countries = doc.sel(
            root, f"{CAC}Delivery/{CAC}DeliveryLocation/{CAC}Address/{CAC}Country/{CBC}IdentificationCode"
        )
        if len(countries) > 1:
            raise x.DynamicError("plusieurs pays de livraison là où un seul est permis", root)
        ok(bool(countries) and len(x.text(countries[0])) > 1, "BR-IC-12", root)
    has_o = any("O" in ids for _, _, _, ids, _ in vat_breakdown)
    if has_o:
        ok(not any(c != "O" for _, c, _, _, _ in vat_breakdown), "BR-O-11", root)
        ok(not any(c != "O" for _, c, vat, _, _ in index.classified if vat), "BR-O-12", root)
        ok(not any(i[1] != "O" and i[2] for a, _, _, i in index.ac_tax if a), "BR-O-13", root)
        ok(not any(i[1] != "O" and i[2] for _, ch, _, i in index.ac_tax if ch), "BR-O-14", root)
    # BR-B (split payment): raw codes, no VAT-scheme filter.
    all_b = any("B" in raws for *_, raws in index.tax + index.classified)
    if all_b:
        codes = [x.text(e) for e in doc.all(CBC + "IdentificationCode")]
        ok(not any(v != "IT" for v in codes), "BR-B-01", root)
        top_ac = [i for _, _, top, i in index.ac_tax if top]

        def used(code: str) -> bool:
            return (
                any(code in i[4] for i in index.breakdown)
                or any(code in i[4] for i in top_ac)
                or any(code in i[4] for i in index.classified)
            )

        ok(not (used("B") and used("S")) or not used("B"), "BR-B-02", root)


def _category_rules(doc: UblDoc, index: _Index, cat: Category) -> None:
    ok, code = doc.check, cat.code
    rule = cat.prefix + "-"
    # 05: line classified categories; 06/07: allowance / charge categories (any allowance or charge).
    for element, c, vat, _, _ in index.classified:
        if c == code and vat and element.getparent().tag == CAC + "Item":
            if element.getparent().getparent().tag in LINE_TAGS:
                ok(_rate_ok(doc, element, cat), rule + "05", element)
    for allowance, charge, _, (element, c, vat, _, _) in index.ac_tax:
        if c == code and vat:
            if allowance:
                ok(_rate_ok(doc, element, cat), rule + "06", element)
            elif charge:
                ok(_rate_ok(doc, element, cat), rule + "07", element)
    # 08–10 on the VAT breakdown.
    for element, c, vat, _, _ in index.breakdown_any_root:
        if c != code or not vat:
            continue
        subtotal = element.getparent()
        if cat.rated:
            ok(_rated_sum_ok(doc, index, cat, element, subtotal), rule + "08", element)
            ok(_rated_amount_ok(doc, element, subtotal), rule + "09", element)
        else:
            ok(_exact_sum_ok(doc, index, cat, subtotal), rule + "08", element)
            amount = doc.dec_one(subtotal, CBC + "TaxAmount")
            ok(amount is not None and amount == 0, rule + "09", element)
        reasons = doc.has(element, CBC + "TaxExemptionReason")
        reasons = reasons or doc.has(element, CBC + "TaxExemptionReasonCode")
        ok(reasons if cat.exemption == "required" else not reasons, rule + "10", element)


def _rate_ok(doc: UblDoc, element, cat: Category) -> bool:
    if cat.rate == "none":
        return not doc.has(element, CBC + "Percent")
    if cat.rate == "zero":
        rate = doc.dec_one(element, CBC + "Percent")
        return rate is not None and rate == 0
    values = [x.double(x.text(e), e) for e in doc.sel(element, CBC + "Percent")]
    if cat.rate == "positive":
        return any(v > 0 for v in values)
    return any(v >= 0 for v in values)


_LINE_CATEGORIES = f"{CAC}Item/{CLASSIFIED_TAX_CATEGORY}"
_AMOUNT = CBC + "Amount"
_LINE_AMOUNT = CBC + "LineExtensionAmount"


def _exact_sum_ok(doc: UblDoc, index: _Index, cat: Category, subtotal) -> bool:
    root, code = doc.root, cat.code
    kinds = doc.allowance_kinds
    for line_tag in LINE_TAGS:
        if not doc.all(line_tag):
            continue
        taxable = doc.dec_one(subtotal, CBC + "TaxableAmount")
        if taxable is None:
            continue  # empty left operand: the sums are not evaluated
        lines = [line for line in doc.sel(root, line_tag) if code in index.codes(line, _LINE_CATEGORIES)]
        total = x.dsum(v for line in lines for v in index.amounts(line, _LINE_AMOUNT))
        acs = [ac for ac in doc.sel(root, ALLOWANCE_CHARGE) if code in index.codes(ac, TAX_CATEGORY)]
        charges = x.dsum(v for ac in acs if kinds[ac][1] for v in index.amounts(ac, _AMOUNT))
        allowances = x.dsum(v for ac in acs if kinds[ac][0] for v in index.amounts(ac, _AMOUNT))
        if taxable == x.dsum((total, charges, -allowances)):
            return True
    return False


def _rated_sum_ok(doc: UblDoc, index: _Index, cat: Category, category, subtotal) -> bool:
    percent = doc.dec_one(category, CBC + "Percent")
    if percent is None:
        return True  # every $rate in () satisfies …
    rate, root, code = percent, doc.root, cat.code
    kinds = doc.allowance_kinds

    def line_matches(line) -> bool:
        return code in index.codes(line, _LINE_CATEGORIES) and rate in index.rates(line, _LINE_CATEGORIES)

    def ac_matches(ac) -> bool:
        return code in index.codes(ac, TAX_CATEGORY) and rate in index.rates(ac, TAX_CATEGORY)

    any_ac = None
    for line_tag in LINE_TAGS:
        if cat.guarded_08:
            guard = any(line_matches(line) for line in doc.all(line_tag))
            if not guard:
                if any_ac is None:
                    any_ac = any(ac_matches(ac) for ac in doc.all(ALLOWANCE_CHARGE))
                guard = any_ac
        else:
            guard = bool(doc.all(line_tag))
        if not guard:
            continue
        # `../xs:decimal(cbc:TaxableAmount - 1)` is a node path: Saxon reads the sums even when it is empty.
        lines = [line for line in doc.sel(root, line_tag) if line_matches(line)]
        acs = [ac for ac in doc.sel(root, ALLOWANCE_CHARGE) if ac_matches(ac)]
        charges = x.dsum(v for ac in acs if kinds[ac][1] for v in index.amounts(ac, _AMOUNT))
        allowances = x.dsum(v for ac in acs if kinds[ac][0] for v in index.amounts(ac, _AMOUNT))
        expected = x.dsum((*(v for line in lines for v in index.amounts(line, _LINE_AMOUNT)), charges, -allowances))
        taxable_element = doc.one(subtotal, CBC + "TaxableAmount")
        if taxable_element is None:
            continue
        taxable = x.double(x.text(taxable_element), taxable_element)
        low = x.decimal_of_double(taxable - 1, taxable_element)
        if low < expected and x.decimal_of_double(taxable + 1, taxable_element) > expected:
            return True
    return False


def _rated_amount_ok(doc: UblDoc, category, subtotal) -> bool:
    amount = doc.dec_one(subtotal, CBC + "TaxAmount")
    if amount is None:
        return False  # empty left operand: the right one is not evaluated
    taxable = doc.dec_one(subtotal, CBC + "TaxableAmount")
    if taxable is None:
        return False
    percent = doc.dec_one(category, CBC + "Percent")
    if percent is None:
        return False
    expected = x.round2(x.mul(abs(taxable), x.percent(percent)))
    return abs(amount) - 1 < expected and abs(amount) + 1 > expected
