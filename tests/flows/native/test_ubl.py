"""The native EN 16931 engine for UBL (choeur/flows/validation/native/ubl.py).

Differential part: on every UBL file of the EN 16931 corpus and every document of the CEN unit tests, the
multiset of (rule, flag, location) the native engine reports equals the official CEN XSLT's (run by saxonche
from the release installed for the session; skipped, saying so, without it). A document the official engine
cannot judge (Saxon dynamic error) must be refused by the native engine with its single CHOEUR-SCHEMATRON
finding. Unit part: one rule per family on the fixture invoice, without the artefacts.
"""

from __future__ import annotations

import copy
from collections import Counter
from decimal import Decimal

import pytest
from lxml import etree

from choeur.flows.validation import schematron
from choeur.flows.validation.native import ubl
from choeur.flows.validation.native import xpath2 as x
from tests.conftest import CEN_RELEASE_DIR, CORPUS_DIR, corpus_path
from tests.flows.conftest import fixture_bytes

VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"
SCH = "{http://purl.oclc.org/dsdl/schematron}"
UBL_DIRS = (("en16931", "ubl"), ("en16931", "test", "Invoice-unit-UBL"), ("en16931", "test", "CreditNote-unit-UBL"))
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


def _corpus_files() -> list[str]:
    names = []
    for parts in UBL_DIRS:
        base = CORPUS_DIR.joinpath(*parts)
        if base.exists():
            names += sorted(str(p.relative_to(CORPUS_DIR)) for p in base.rglob("*") if p.suffix.lower() == ".xml")
    return names or ["(corpus absent)"]


def _documents(path) -> list[tuple[str, etree._Element]]:
    """The UBL documents of a file: itself, or each <test>'s document in a CEN testSet."""
    root = etree.parse(str(path)).getroot()
    if root.tag != f"{VEFA}testSet":
        return [(path.name, root)]
    docs = []
    for index, test in enumerate(root.iter(f"{VEFA}test"), start=1):
        document = next(c for c in test if isinstance(c.tag, str) and not c.tag.startswith(VEFA))
        docs.append((f"{path.name} test n° {index}", etree.fromstring(etree.tostring(document))))
    return docs


def _official(root) -> Counter:
    try:
        items = schematron.run("cen-ubl", schematron.parse(etree.tostring(root, encoding="unicode")))
    except schematron.SchematronError:
        return Counter({(ubl.DYNAMIC_ERROR, "fatal", "*"): 1})
    return Counter((i.rule, i.flag, i.location) for i in items if i.kind == "failed-assert" and i.rule in ubl.RULES)


def _native(root) -> Counter:
    return Counter((f.rule, f.flag, "*" if f.rule == ubl.DYNAMIC_ERROR else f.location) for f in ubl.validate(root))


@pytest.mark.corpus
@pytest.mark.parametrize("name", _corpus_files())
def test_native_ubl_equals_the_official_cen_artefacts(name, cen_release):
    path = corpus_path(name)
    differences = []
    for label, root in _documents(path):
        official, native = _official(root), _native(root)
        if official != native:
            differences.append(
                f"{label} : officiel seul {sorted(official - native)} ; natif seul {sorted(native - official)}"
            )
    assert not differences, "\n".join(differences)


def test_rules_are_the_official_rule_ids_with_their_flags():
    sch = CEN_RELEASE_DIR / "ubl" / "EN16931-UBL-validation-preprocessed.sch"
    if not sch.exists():
        pytest.skip(f"Artefacts CEN absents : {sch} introuvable sur cette machine.")
    flags = {}
    for rule in etree.parse(str(sch)).getroot().iter(f"{SCH}rule"):
        for assertion in rule.iter(f"{SCH}assert"):
            flags[assertion.get("id")] = assertion.get("flag") or rule.get("flag")
    assert ubl.RULES == set(flags)
    assert {r: ubl.FLAGS[r] for r in ubl.RULES} == flags


# --- without the artefacts --------------------------------------------------------------------------------


@pytest.fixture
def invoice():
    return etree.fromstring(fixture_bytes("ubl_facture_b2g.xml"))


def _fired(root) -> set[tuple[str, str, str]]:
    return {(f.rule, f.flag, f.location) for f in ubl.validate(root)}


def _one(root, path):
    return root.xpath(path, namespaces=NS)[0]


def test_the_fixture_invoice_passes(invoice):
    assert ubl.validate(invoice) == []


def test_a_missing_issue_date_is_br_03(invoice):
    element = _one(invoice, "cbc:IssueDate")
    element.getparent().remove(element)
    assert _fired(invoice) == {("BR-03", "fatal", "/Invoice[1]")}


def test_an_unknown_currency_is_br_cl_04_at_the_element(invoice):
    _one(invoice, "cbc:DocumentCurrencyCode").text = "EURO"
    assert ("BR-CL-04", "fatal", "/Invoice[1]/DocumentCurrencyCode[1]") in _fired(invoice)


def test_a_sum_of_lines_that_does_not_match_is_br_co_10(invoice):
    _one(invoice, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount").text = "1000.01"
    fired = _fired(invoice)
    assert ("BR-CO-10", "fatal", "/Invoice[1]/LegalMonetaryTotal[1]") in fired
    assert ("BR-CO-13", "fatal", "/Invoice[1]/LegalMonetaryTotal[1]") in fired


def test_a_vat_amount_beyond_the_tolerance_is_br_s_09_and_br_co_17(invoice):
    for amount in invoice.xpath("cac:TaxTotal//cbc:TaxAmount", namespaces=NS):
        amount.text = "201.01"
    fired = _fired(invoice)
    assert ("BR-S-09", "fatal", "/Invoice[1]/TaxTotal[1]/TaxSubtotal[1]/TaxCategory[1]") in fired
    assert ("BR-CO-17", "fatal", "/Invoice[1]/TaxTotal[1]/TaxSubtotal[1]") in fired


def test_an_exempt_breakdown_without_reason_is_br_e_10(invoice):
    for category in invoice.xpath("//cac:ClassifiedTaxCategory | //cac:TaxCategory", namespaces=NS):
        _one(category, "cbc:ID").text = "E"
        _one(category, "cbc:Percent").text = "0"
    for amount in invoice.xpath("cac:TaxTotal//cbc:TaxAmount", namespaces=NS):
        amount.text = "0.00"
    fired = {rule for rule, _, _ in _fired(invoice)}
    assert "BR-E-10" in fired
    assert not {"BR-E-01", "BR-E-02", "BR-E-05", "BR-E-08", "BR-E-09"} & fired


def test_an_element_the_binding_excludes_is_a_ubl_cr_warning(invoice):
    extra = etree.SubElement(invoice, f"{{{NS['cbc']}}}ProfileExecutionID")
    extra.text = "1"
    invoice.insert(2, extra)
    assert ("UBL-CR-003", "warning", "/Invoice[1]") in _fired(invoice)


def test_two_invoice_periods_is_ubl_sr_08(invoice):
    period = etree.SubElement(invoice, f"{{{NS['cac']}}}InvoicePeriod")
    etree.SubElement(period, f"{{{NS['cbc']}}}StartDate").text = "2026-09-01"
    invoice.insert(10, copy.deepcopy(period))
    fired = {rule for rule, _, _ in _fired(invoice)}
    assert "UBL-SR-08" in fired


def test_three_decimals_in_an_amount_is_ubl_dt_01_and_br_dec(invoice):
    _one(invoice, "cac:LegalMonetaryTotal/cbc:PayableAmount").text = "1200.000"
    fired = _fired(invoice)
    assert ("UBL-DT-01", "fatal", "/Invoice[1]/LegalMonetaryTotal[1]/PayableAmount[1]") in fired
    assert ("BR-DEC-18", "fatal", "/Invoice[1]/LegalMonetaryTotal[1]") in fired


def test_an_amount_that_is_not_a_number_refuses_the_document_as_saxon_does(invoice):
    _one(invoice, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount").text = "mille"
    findings = ubl.validate(invoice)
    assert [(f.rule, f.flag) for f in findings] == [(ubl.DYNAMIC_ERROR, "fatal")]
    assert findings[0].location == "/Invoice[1]/LegalMonetaryTotal[1]/TaxExclusiveAmount[1]"
    assert "mille" in findings[0].message


def test_a_document_of_another_kind_never_raises():
    assert ubl.validate(etree.fromstring(b"<x><y>1</y></x>")) == []


def test_decimal_semantics_are_those_of_xpath():
    assert x.round2(Decimal("2.345")) == Decimal("2.35")
    assert x.round2(Decimal("-2.345")) == Decimal("-2.34")  # half towards positive infinity
    assert x.decimal(" 12.50\n") == Decimal("12.5")
    for bad in ("1e3", "NaN", "1_000", "12,5", ""):
        with pytest.raises(x.DynamicError):
            x.decimal(bad)
    assert x.double("1e3") == 1000.0
    assert x.normalize("\u00a0a \t b ") == "\u00a0a b"  # NBSP is not XML whitespace


def test_an_unreadable_amount_that_saxon_never_reads_does_not_refuse_the_document(invoice):
    # No document currency: BR-CO-15 reads nothing; no payable amount: BR-CO-16's comparison has an empty left
    # operand, so the tax inclusive amount on its right is never converted (as in Saxon).
    for path in ("cbc:DocumentCurrencyCode", "cac:LegalMonetaryTotal/cbc:PayableAmount"):
        element = _one(invoice, path)
        element.getparent().remove(element)
    _one(invoice, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount").text = "EUR"
    fired = {rule for rule, _, _ in _fired(invoice)}
    assert ubl.DYNAMIC_ERROR not in fired
    assert {"BR-05", "BR-15", "BR-CO-16"} <= fired


# --- mutations of the CEN examples, judged by both engines --------------------------------------------------

_VALUES = ("0", "-1", "10.005", "abc", " 5 ", "1e3", "", "S", "Z", "E", "AE", "K", "O", "B", "true", "yes", "USD")
_VALUES += ("XXX", "2024-02-30", "VAT", "EL", "30", "58", "130", "381", "#AAI#x", "0088", "SEPA", "C62")


def _mutants(count: int):
    import random

    rng = random.Random(16931)
    examples = corpus_path("en16931", "ubl", "examples")
    seeds = [etree.parse(str(p)).getroot() for p in sorted(examples.iterdir()) if p.suffix.lower() == ".xml"]
    for _ in range(count):
        root = copy.deepcopy(rng.choice(seeds))
        elements = [e for e in root.iter(etree.Element) if e is not root]
        for _ in range(rng.randint(1, 3)):
            element = rng.choice(elements)
            parent = element.getparent()
            choice = rng.random()
            if choice < 0.5 and len(element) == 0:
                element.text = rng.choice(_VALUES)
            elif choice < 0.7 and parent is not None:
                parent.remove(element)
                elements = [e for e in root.iter(etree.Element) if e is not root]
            elif choice < 0.85 and parent is not None:
                parent.insert(parent.index(element), copy.deepcopy(element))
            else:
                element.set(
                    rng.choice(("schemeID", "listID", "unitCode", "currencyID", "mimeCode")), rng.choice(_VALUES)
                )
        yield root


@pytest.mark.corpus
def test_native_ubl_equals_the_official_artefacts_on_mutated_examples(cen_release):
    differences = []
    for index, root in enumerate(_mutants(120), start=1):
        official, native = _official(root), _native(root)
        if official != native:
            differences.append(
                f"mutant n° {index} : officiel seul {sorted(official - native)} ; "
                f"natif seul {sorted(native - official)}"
            )
    assert not differences, "\n".join(differences)
