"""The values of one CII document that several rules read: computed once per document, on first use."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from functools import cached_property

from choeur.flows.validation.native.cii_values import (
    RSM,
    DynamicError,
    any_equal_string,
    any_indicator,
    clark,
    decimal_of,
    first_decimal,
    nodes,
    one,
    string,
    to_boolean,
)

_CII = f"{{{RSM}}}CrossIndustryInvoice"


def _tag(name: str) -> str:
    return clark(name)


T_ATT = _tag("ApplicableTradeTax")
T_CTT = _tag("CategoryTradeTax")
T_AHTS = _tag("ApplicableHeaderTradeSettlement")
T_SLTS = _tag("SpecifiedLineTradeSettlement")
T_STAC = _tag("SpecifiedTradeAllowanceCharge")
T_CC = _tag("CategoryCode")
T_TYPE = _tag("TypeCode")


class Doc:
    """One document: its elements by tag (on first use) and the shared sub-expressions of the rules."""

    def __init__(self, root, elements: list):
        self.root = root
        self._by_tag: dict[str, list] = {}
        self._categories: dict = {}
        self._vat: dict = {}
        self._indicators: dict = {}

    # Facts of one element that several rule contexts test (read once per element)
    def tax_categories(self, tax) -> frozenset[str]:
        """The string values of a tax element's CategoryCode children."""
        found = self._categories.get(tax)
        if found is None:
            found = self._categories[tax] = frozenset(string(c) for c in tax.iterchildren(T_CC))
        return found

    def tax_is_vat(self, tax) -> bool:
        """upper-case(ram:TypeCode) = 'VAT' (two TypeCodes: a dynamic error, raised each time)."""
        found = self._vat.get(tax)
        if found is None:
            codes = list(tax.iterchildren(T_TYPE))
            found = self._vat[tax] = "error" if len(codes) > 1 else (bool(codes) and string(codes[0]).upper() == "VAT")
        if found == "error":
            raise DynamicError("plusieurs codes de type de taxe")
        return found

    def indicates(self, allowance, charge: bool) -> bool:
        """ram:ChargeIndicator/udt:Indicator = true()/false() on an allowance or charge."""
        key = (allowance, charge)
        found = self._indicators.get(key)
        if found is None:
            try:
                found = any_indicator(nodes(allowance, "ChargeIndicator/udt:Indicator"), charge)
            except DynamicError:
                found = "error"
            self._indicators[key] = found
        if found == "error":
            raise DynamicError("indicateur de remise ou charge invalide")
        return found

    def all(self, name: str) -> list:
        """//ram:Name (document order)."""
        return self.tagged(clark(name))

    def tagged(self, tag: str) -> list:
        """Every element of a Clark tag, in document order (one C-level walk per tag, on first use)."""
        found = self._by_tag.get(tag)
        if found is None:
            found = self._by_tag[tag] = list(self.root.iter(tag))
        return found

    # /rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/…
    @cached_property
    def transactions(self) -> list:
        return nodes(self.root, "rsm:SupplyChainTradeTransaction") if self.root.tag == _CII else []

    def under_transaction(self, path: str) -> list:
        return [found for transaction in self.transactions for found in nodes(transaction, path)]

    @cached_property
    def header_settlements(self) -> list:
        return self.under_transaction("ApplicableHeaderTradeSettlement")

    @cached_property
    def invoice_currencies(self) -> list[str]:
        return [string(n) for s in self.header_settlements for n in nodes(s, "InvoiceCurrencyCode")]

    @cached_property
    def tax_currency_nodes(self) -> list:
        return [n for s in self.header_settlements for n in nodes(s, "TaxCurrencyCode")]

    @cached_property
    def tax_currencies(self) -> list[str]:
        return [string(n) for n in self.tax_currency_nodes]

    @cached_property
    def header_summations(self) -> list:
        return [
            n for s in self.header_settlements for n in nodes(s, "SpecifiedTradeSettlementHeaderMonetarySummation")
        ]

    def header_allowances(self, charge: bool) -> list:
        """/…/ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge[…/udt:Indicator = charge]."""
        key = "_charges" if charge else "_allowances"
        found = self.__dict__.get(key)
        if found is None:
            found = [
                a
                for s in self.header_settlements
                for a in nodes(s, "SpecifiedTradeAllowanceCharge")
                if any_indicator(nodes(a, "ChargeIndicator/udt:Indicator"), charge)
            ]
            self.__dict__[key] = found
        return found

    def header_allowances_cast(self, charge: bool) -> list:
        """The same, written `(ram:ChargeIndicator/udt:Indicator cast as xs:boolean) = …` (BR-O-08, BR-Z-08)."""
        key = "_charges_cast" if charge else "_allowances_cast"
        found = self.__dict__.get(key)
        if found is None:
            try:
                found = []
                for s in self.header_settlements:
                    for a in nodes(s, "SpecifiedTradeAllowanceCharge"):
                        indicator = one(nodes(a, "ChargeIndicator/udt:Indicator"))
                        if indicator is None:
                            raise DynamicError("indicateur de remise ou charge absent")
                        if to_boolean(string(indicator)) is charge:
                            found.append(a)
            except DynamicError as exc:
                found = exc
            self.__dict__[key] = found
        if isinstance(found, DynamicError):
            raise found
        return found

    @cached_property
    def line_settlements(self) -> list:
        """/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeSettlement."""
        return self.under_transaction("IncludedSupplyChainTradeLineItem/SpecifiedLineTradeSettlement")

    # Parties
    def _agreement(self, path: str) -> list:
        return self.under_transaction("ApplicableHeaderTradeAgreement/" + path)

    @cached_property
    def seller_vat_or_fc(self) -> bool:
        """Seller VAT (or tax registration FC) id or seller tax representative VAT id, from the root."""
        ids = self._agreement("SellerTradeParty/SpecifiedTaxRegistration/ID")
        if any(i.get("schemeID") in ("VA", "FC") for i in ids):
            return True
        reps = self._agreement("SellerTaxRepresentativeTradeParty/SpecifiedTaxRegistration/ID")
        return any(i.get("schemeID") == "VA" for i in reps)

    @cached_property
    def seller_vat_root(self) -> bool:
        return any(i.get("schemeID") == "VA" for i in self._agreement("SellerTradeParty/SpecifiedTaxRegistration/ID"))

    @cached_property
    def seller_rep_vat_root(self) -> bool:
        ids = self._agreement("SellerTaxRepresentativeTradeParty/SpecifiedTaxRegistration/ID")
        return any(i.get("schemeID") == "VA" for i in ids)

    def _party_ids(self, party: str, path: str) -> list:
        return [n for p in self.all(party) for n in nodes(p, path)]

    @cached_property
    def any_seller_vat_or_fc(self) -> bool:
        """//ram:SellerTradeParty/…/ID[@schemeID = ('VA', 'FC')] or //ram:SellerTaxRepresentativeTradeParty/…[VA]."""
        if any(
            i.get("schemeID") in ("VA", "FC")
            for i in self._party_ids("SellerTradeParty", "SpecifiedTaxRegistration/ID")
        ):
            return True
        return self.any_seller_rep_vat

    @cached_property
    def any_seller_vat(self) -> bool:
        ids = self._party_ids("SellerTradeParty", "SpecifiedTaxRegistration/ID")
        return any(i.get("schemeID") == "VA" for i in ids) or self.any_seller_rep_vat

    @cached_property
    def any_seller_rep_vat(self) -> bool:
        ids = self._party_ids("SellerTaxRepresentativeTradeParty", "SpecifiedTaxRegistration/ID")
        return any(i.get("schemeID") == "VA" for i in ids)

    @cached_property
    def any_buyer_vat(self) -> bool:
        ids = self._party_ids("BuyerTradeParty", "SpecifiedTaxRegistration/ID")
        return any(i.get("schemeID") == "VA" for i in ids)

    @cached_property
    def any_buyer_legal(self) -> bool:
        return bool(self._party_ids("BuyerTradeParty", "SpecifiedLegalOrganization/ID"))

    # VAT categories anywhere (BR-x-01): how many tax elements carry each category, counted in one pass
    def _category_counts(self, taxes: list) -> Counter:
        counts: Counter = Counter()
        for tax in taxes:
            counts.update(self.tax_categories(tax))
        return counts

    @cached_property
    def _header_counts(self) -> Counter:
        return self._category_counts([t for t in self.tagged(T_ATT) if t.getparent().tag == T_AHTS])

    @cached_property
    def _line_counts(self) -> Counter:
        return self._category_counts([t for t in self.tagged(T_ATT) if t.getparent().tag == T_SLTS])

    @cached_property
    def _allowance_counts(self) -> Counter:
        return self._category_counts(self.tagged(T_CTT))

    def count_header(self, category: str) -> int:
        return self._header_counts[category]

    def count_line(self, category: str) -> int:
        return self._line_counts[category]

    def count_allowance_taxes(self, category: str) -> int:
        return self._allowance_counts[category]

    @cached_property
    def has_header_tax(self) -> bool:
        """//rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax."""
        for tax in self.tagged(T_ATT):
            settlement = tax.getparent()
            if settlement.tag == T_AHTS:
                transaction = settlement.getparent()
                if transaction is not None and transaction.tag == f"{{{RSM}}}SupplyChainTradeTransaction":
                    return True
        return False

    # Per-category base amounts (BR-x-08)
    def line_amounts(self, category: str, rate: Decimal | None = None) -> list[Decimal]:
        """xs:decimal(LineTotalAmount) of the lines whose VAT category (and rate) is the given one."""
        values = []
        for settlement in self.line_settlements:
            taxes = nodes(settlement, "ApplicableTradeTax")
            if not any(any_equal_string(nodes(t, "CategoryCode"), category) for t in taxes):
                continue
            if rate is not None and not any(decimal_of(t, "RateApplicablePercent") == rate for t in taxes):
                continue
            for summation in nodes(settlement, "SpecifiedTradeSettlementLineMonetarySummation"):
                value = decimal_of(summation, "LineTotalAmount")
                if value is not None:
                    values.append(value)
        return values

    def allowance_amounts(self, charge: bool, category: str, rate: Decimal | None = None, *, cast: bool = False):
        allowances = self.header_allowances_cast(charge) if cast else self.header_allowances(charge)
        values = []
        for allowance in allowances:
            taxes = nodes(allowance, "CategoryTradeTax")
            if not any(any_equal_string(nodes(t, "CategoryCode"), category) for t in taxes):
                continue
            if rate is not None and not any(decimal_of(t, "RateApplicablePercent") == rate for t in taxes):
                continue
            value = first_decimal(allowance, "ActualAmount")
            if value is not None:
                values.append(value)
        return values

    @cached_property
    def billed_unit_code(self) -> bool:
        """/…/IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/@unitCode exists."""
        quantities = self.under_transaction(
            "IncludedSupplyChainTradeLineItem/SpecifiedLineTradeDelivery/BilledQuantity"
        )
        return any(q.get("unitCode") is not None for q in quantities)
