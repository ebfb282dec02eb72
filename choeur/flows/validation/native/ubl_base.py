"""The per-document index the UBL rule families share: one walk of the tree, contexts looked up by tag.

`UblDoc` walks the parsed document once and files every element by tag (document order), so that each rule
context of the official schematron is found with one dict lookup and a parent test rather than an XPath
search; the values several rules read (VAT categories, line and allowance lists, sums) are computed once and
cached on it. Findings are collected with `add(rule, element)`; the flag comes from the family's table.
"""

from __future__ import annotations

import re
from functools import cache, cached_property

from lxml import etree

from choeur.flows.validation.native import xpath2 as x
from choeur.flows.validation.native.types import NativeFinding

CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
EXT = "{urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2}"
INVOICE = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
CREDIT_NOTE = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"

INVOICE_LINE = CAC + "InvoiceLine"
CREDIT_NOTE_LINE = CAC + "CreditNoteLine"
LINE_TAGS = (INVOICE_LINE, CREDIT_NOTE_LINE)
ALLOWANCE_CHARGE = CAC + "AllowanceCharge"
TAX_CATEGORY = CAC + "TaxCategory"
CLASSIFIED_TAX_CATEGORY = CAC + "ClassifiedTaxCategory"
TAX_SCHEME = CAC + "TaxScheme"
ID = CBC + "ID"


_PREFIXES = {"cac": CAC, "cbc": CBC, "ext": EXT}


@cache
def c(name: str) -> str:
    """`cac:Name` / `cbc:Name` / `ext:Name` → Clark notation."""
    prefix, _, local = name.partition(":")
    return _PREFIXES[prefix] + local


_EMPTY: list = []
_CLARK_STEP = re.compile(r"/(?=\{)")


_STEPS: dict[str, tuple[str, ...]] = {}


def _steps(path: str) -> tuple[str, ...]:
    if path.startswith("{"):
        steps = tuple(_CLARK_STEP.split(path))
    else:
        steps = tuple(c(step) for step in path.split("/"))
    _STEPS[path] = steps
    return steps


@cache
def p(path: str) -> str:
    """`cac:A/cbc:B` → the Clark-notation path lxml's findall() takes."""
    return "/".join(c(step) for step in path.split("/"))


_ALL_ATTRIBUTES = etree.XPath("//@*")
_NAMED = etree.XPath("//*[@name]")


class UblDoc:
    def __init__(self, root, flags: dict[str, str]):
        self.root = root
        self.flags = flags
        self.findings: list[NativeFinding] = []
        self.is_invoice = root.tag == INVOICE
        self.is_credit_note = root.tag == CREDIT_NOTE
        self.is_document = self.is_invoice or self.is_credit_note
        by_tag: dict[str, list] = {}
        for element in root.iter(etree.Element):
            by_tag.setdefault(element.tag, []).append(element)
        self.by_tag = by_tag
        self._kids: dict = {}  # element → {tag: its children of that tag}, built on first use of the element

    def _children_of(self, element) -> dict[str, list]:
        table: dict[str, list] = {}
        for child in element.iterchildren(etree.Element):
            table.setdefault(child.tag, []).append(child)
        self._kids[element] = table
        return table

    @cached_property
    def attribute_names(self) -> set[str]:
        """The names of the attributes present anywhere (`//@name`); namespaced ones in Clark notation."""
        return {value.attrname for value in _ALL_ATTRIBUTES(self.root)}

    @cached_property
    def named_elements(self) -> list:
        """The elements that carry a `name` attribute."""
        return _NAMED(self.root)

    # --- reporting -------------------------------------------------------------------------------------

    def add(self, rule: str, element) -> None:
        self.findings.append(NativeFinding(rule, self.flags[rule], x.location(element)))  # type: ignore[arg-type]

    def check(self, ok: bool, rule: str, element) -> None:
        if not ok:
            self.add(rule, element)

    # --- lookups ---------------------------------------------------------------------------------------

    def sel(self, element, path: str) -> list:
        """The nodes at a child path (`cac:A/cbc:B`, or Clark tags), in document order."""
        if element is None:
            return _EMPTY
        steps = _STEPS.get(path) or _steps(path)
        kids = self._kids
        table = kids.get(element)
        if table is None:
            table = self._children_of(element)
        if len(steps) == 1:
            return table.get(steps[0], _EMPTY)
        nodes = table.get(steps[0], _EMPTY)
        for step in steps[1:]:
            found = []
            for node in nodes:
                sub = kids.get(node)
                if sub is None:
                    sub = self._children_of(node)
                found.extend(sub.get(step, _EMPTY))
            nodes = found
            if not nodes:
                break
        return nodes

    def has(self, element, path: str) -> bool:
        return bool(self.sel(element, path))

    def one(self, element, path: str):
        """The single node at a path (None if none); two where XPath takes one is Saxon's type error."""
        if element is None:
            return None
        found = self.sel(element, path)
        if len(found) > 1:
            raise x.DynamicError(f"{len(found)} éléments {path.rpartition(':')[2]} là où un seul est permis", element)
        return found[0] if found else None

    def ns_one(self, element, path: str) -> str:
        """normalize-space(path)."""
        return x.normalize(x.text(self.one(element, path)))

    def dec_one(self, element, path: str):
        """xs:decimal(path): None when absent."""
        node = self.one(element, path)
        return None if node is None else x.decimal(x.text(node), node)

    def all(self, tag: str) -> list:
        return self.by_tag.get(tag, [])

    def under(self, tag: str, parent_tag: str) -> list:
        """Elements `tag` whose parent is `parent_tag` (the pattern `parent/tag`)."""
        return [e for e in self.by_tag.get(tag, ()) if e.getparent().tag == parent_tag]

    def top(self, tag: str) -> list:
        """Children `tag` of the document element (`/ubl:Invoice/tag | /cn:CreditNote/tag`)."""
        if not self.is_document:
            return []
        return self.sel(self.root, tag)

    def exists(self, tag: str) -> bool:
        return tag in self.by_tag

    # --- shared values ---------------------------------------------------------------------------------

    def charge_indicators(self, allowance_charge) -> set[bool]:
        """The xs:boolean values of cbc:ChargeIndicator (a bad text is Saxon's dynamic error)."""
        return {x.boolean(x.text(e), e) for e in self.sel(allowance_charge, CBC + "ChargeIndicator")}

    def is_allowance(self, allowance_charge) -> bool:
        return False in self.charge_indicators(allowance_charge)

    def is_charge(self, allowance_charge) -> bool:
        return True in self.charge_indicators(allowance_charge)

    @cached_property
    def allowance_kinds(self) -> dict:
        """Every cac:AllowanceCharge → (is an allowance, is a charge), computed once."""
        out = {}
        for ac in self.all(ALLOWANCE_CHARGE):
            values = self.charge_indicators(ac)
            out[ac] = (False in values, True in values)
        return out

    def vat_scheme(self, category) -> bool:
        """`[cac:TaxScheme/normalize-space(upper-case(cbc:ID))='VAT']`."""
        return any(x.normalize(x.text(self.one(ts, ID)).upper()) == "VAT" for ts in self.sel(category, TAX_SCHEME))

    def vat_scheme_single(self, holder) -> bool:
        """`[cac:TaxScheme/(normalize-space(upper-case(cbc:ID)) = 'VAT')]`: one boolean per TaxScheme, so two
        TaxSchemes make the predicate's effective boolean value undefined (Saxon's FORG0006)."""
        schemes = self.sel(holder, TAX_SCHEME)
        if len(schemes) > 1:
            raise x.DynamicError("plusieurs régimes fiscaux (TaxScheme) là où un seul est permis", holder)
        return bool(schemes) and x.normalize(x.text(self.one(schemes[0], ID)).upper()) == "VAT"

    def category_code(self, category) -> str:
        """`normalize-space(cbc:ID)` of a tax category."""
        return self.ns_one(category, ID)

    def has_code(self, category, code: str) -> bool:
        """`cbc:ID[normalize-space(.) = code]` exists."""
        return any(x.normalize(x.text(e)) == code for e in self.sel(category, ID))

    def has_raw_code(self, category, code: str) -> bool:
        """`cbc:ID = code` (no normalisation)."""
        return any(x.text(e) == code for e in self.sel(category, ID))

    @cached_property
    def lines(self) -> list:
        """The invoice or credit note lines, children of the document element."""
        if not self.is_document:
            return []
        return [e for e in self.root if e.tag in LINE_TAGS]

    def party_vat_ids(self, party_path: tuple[str, ...], vat_only: bool) -> bool:
        """`exists(//party_path/cac:PartyTaxScheme[VAT]/cbc:CompanyID)` (or without the VAT filter)."""
        for pts in self.all(CAC + "PartyTaxScheme"):
            node = pts.getparent()
            matched = True
            for tag in reversed(party_path):
                if node is None or node.tag != tag:
                    matched = False
                    break
                node = node.getparent()
            if not matched:
                continue
            if vat_only and not self.vat_scheme_single(pts):
                continue
            if self.has(pts, CBC + "CompanyID"):
                return True
        return False

    @cached_property
    def seller_vat_any(self) -> bool:
        return self.party_vat_ids((CAC + "AccountingSupplierParty", CAC + "Party"), vat_only=False)

    @cached_property
    def seller_vat(self) -> bool:
        return self.party_vat_ids((CAC + "AccountingSupplierParty", CAC + "Party"), vat_only=True)

    @cached_property
    def representative_vat(self) -> bool:
        return self.party_vat_ids((CAC + "TaxRepresentativeParty",), vat_only=True)

    @cached_property
    def buyer_vat(self) -> bool:
        return self.party_vat_ids((CAC + "AccountingCustomerParty", CAC + "Party"), vat_only=True)

    @cached_property
    def buyer_legal_id(self) -> bool:
        for company in self.all(CBC + "CompanyID"):
            entity = company.getparent()
            party = entity.getparent() if entity.tag == CAC + "PartyLegalEntity" else None
            customer = party.getparent() if party is not None and party.tag == CAC + "Party" else None
            if customer is not None and customer.tag == CAC + "AccountingCustomerParty":
                return True
        return False
