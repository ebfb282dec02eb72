"""The native CEN EN 16931 engine for CII (native/cii.py): same verdicts as the official 1.3.16 artefacts.

The differential tests need the CEN release (../shared/artefacts, read in place) and skip, saying so, without it;
the unit tests below them judge hand-made documents and need nothing.
"""

import copy
import random
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from choeur.flows.validation import schematron
from choeur.flows.validation.native import cii, cii_values
from choeur.flows.validation.native.cii_syntax_table import SYNTAX_TABLE
from choeur.flows.validation.xmlparse import serialise_root
from tests.conftest import CEN_RELEASE_DIR, CORPUS_DIR
from tests.flows.conftest import FIXTURES, corpus_invoices

CII_SCH = CEN_RELEASE_DIR / "cii" / "EN16931-CII-validation-preprocessed.sch"
NS = {
    "rsm": cii_values.RSM,
    "ram": cii_values.RAM,
    "udt": cii_values.UDT,
}
TOTALS = (
    "/CrossIndustryInvoice[1]/SupplyChainTradeTransaction[1]/ApplicableHeaderTradeSettlement[1]"
    "/SpecifiedTradeSettlementHeaderMonetarySummation[1]"
)


def _corpus_files() -> list[Path]:
    if not CORPUS_DIR.exists():
        return []
    folders = [CORPUS_DIR / "en16931" / "cii", CORPUS_DIR / "en16931" / "test" / "cii", CORPUS_DIR / "zugferd"]
    found = []
    for folder in folders:
        found += sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".xml", ".pdf"))
    return found


FILES = _corpus_files()


def _official_view(node) -> Counter:
    try:
        items = schematron.run("cen-cii", node)
    except schematron.SchematronError:
        return Counter({(cii.ENGINE_FAILURE, "fatal", "/"): 1})
    return Counter(
        (i.rule, schematron.severity_of(i), i.location)
        for i in items
        if i.kind == "failed-assert" and (i.rule in cii.RULES)
    )


def _native_view(root) -> Counter:
    return Counter(
        (f.rule, f.flag, f.location) for f in cii.validate(root) if f.rule in cii.RULES or f.rule == cii.ENGINE_FAILURE
    )


@pytest.mark.corpus
@pytest.mark.skipif(not FILES, reason="Corpus absent : ../shared/corpus introuvable.")
def test_native_cii_equals_the_official_artefacts_on_every_corpus_invoice(cen_release):
    compared, differences = 0, []
    for path in FILES:
        for _entry, root, detection in corpus_invoices(path):
            if detection.syntax != "CII":
                continue
            expected = _official_view(schematron.parse(serialise_root(root)))
            actual = _native_view(root)
            compared += 1
            if actual != expected:
                for rule in sorted({r for r, _, _ in (actual - expected) + (expected - actual)}):
                    differences.append(
                        f"{path.relative_to(CORPUS_DIR)} : {rule} — natif {sorted(k for k in actual if k[0] == rule)}"
                        f", officiel {sorted(k for k in expected if k[0] == rule)}"
                    )
    assert compared >= 60, compared
    assert not differences, "\n".join(differences)


_AMOUNTS = ["0", "-1", "10.005", "0.005", "12.345", "1e3", "abc", " 5 ", "2.5", "1.00499999", "33.33"]
_CODES = ["S", "Z", "E", "AE", "K", "G", "O", "L", "M", "B", "XX", "s", "", "VAT", "380", "EUR", "USD", "IT", "58"]


def _mutate(root, rng) -> None:
    """One targeted mutation: amounts and rounding, codes, missing and repeated elements, dates, identifiers."""
    elements = list(root.iter(etree.Element))

    def pick(*names):
        found = [e for e in elements if etree.QName(e).localname.endswith(names)]
        return rng.choice(found) if found else None

    kind = rng.choice(["amount", "amount", "delete", "repeat", "code", "indicator", "date", "attribute", "rate"])
    if kind == "amount" and (target := pick("Amount", "Quantity")) is not None:
        target.text = rng.choice(_AMOUNTS)
    elif kind == "rate" and (target := pick("RateApplicablePercent", "CalculatedAmount", "BasisAmount")) is not None:
        target.text = rng.choice(["0", "20", "5.5", "19", "-3", "20.0"])
    elif (
        kind == "code"
        and (target := pick("CategoryCode", "TypeCode", "CountryID", "CurrencyCode", "ReasonCode")) is not None
    ):
        target.text = rng.choice(_CODES)
    elif kind == "indicator" and (target := pick("Indicator")) is not None:
        target.text = rng.choice(["true", "false", "1", "0", "True"])
    elif kind == "date" and (target := pick("DateTimeString")) is not None:
        target.text = rng.choice(["20240230", "2024-01-01", "20241301", " 20240101 "])
    elif kind in ("delete", "repeat"):
        target = rng.choice(elements[1:])
        if kind == "delete":
            target.getparent().remove(target)
        else:
            target.addnext(copy.deepcopy(target))
    elif kind == "attribute":
        target = rng.choice(elements)
        target.set(
            rng.choice(["schemeID", "listID", "unitCode", "currencyID", "format"]),
            rng.choice(["VA", "0088", "XX", "102"]),
        )


MUTATION_SEEDS = sorted((CORPUS_DIR / "en16931" / "cii" / "examples").glob("*.xml")) if CORPUS_DIR.exists() else []


@pytest.mark.corpus
@pytest.mark.skipif(not MUTATION_SEEDS, reason="Corpus absent : ../shared/corpus introuvable.")
def test_native_cii_equals_the_official_artefacts_on_mutated_invoices(cen_release):
    """A bounded, reproducible sample (the full run is the differential harness's): 60 invoices, 1 to 3 mutations."""
    rng = random.Random(14)
    differences = []
    for case in range(60):
        seed = rng.choice(MUTATION_SEEDS)
        root = etree.parse(str(seed)).getroot()
        for _ in range(rng.randint(1, 3)):
            _mutate(root, rng)
        expected = _official_view(schematron.parse(serialise_root(root)))
        actual = _native_view(root)
        if actual != expected:
            differences.append(
                f"cas {case} ({seed.name}) : natif en plus {sorted((actual - expected).elements())[:3]}, "
                f"officiel en plus {sorted((expected - actual).elements())[:3]}\n{etree.tostring(root)[:3000]!r}"
            )
    assert not differences, "\n".join(differences[:3])


@pytest.mark.skipif(not CII_SCH.exists(), reason="Artefacts CEN absents : ../shared/artefacts/en16931-1.3.16.")
def test_rules_are_exactly_the_official_cii_rule_ids():
    tree = etree.parse(str(CII_SCH))
    official = {a.get("id") for a in tree.iter("{http://purl.oclc.org/dsdl/schematron}assert")}
    assert cii.RULES == official, (sorted(official - cii.RULES), sorted(cii.RULES - official))
    flags = {a.get("id"): a.get("flag") for a in tree.iter("{http://purl.oclc.org/dsdl/schematron}assert")}
    for _context, rows in SYNTAX_TABLE:
        for number, flag, _kind, _path in rows:
            assert flags["CII-" + number] == flag, number
    # The conditional syntax rules carry their flag in the code; every model and code list rule is fatal.
    syntax = (Path(cii.__file__).parent / "cii_syntax.py").read_text()
    for rule_id, flag in re.findall(r'yield "((?:CII|BR)-[A-Z0-9-]+)", (F|W)', syntax):
        assert flags[rule_id] == {"F": "fatal", "W": "warning"}[flag], rule_id
    assert all(flag == "fatal" for rule_id, flag in flags.items() if not rule_id.startswith("CII-"))


# Unit tests: no artefact needed.
def test_every_implemented_id_is_one_a_check_can_report():
    """RULES is measured, not claimed: each id is in the syntax table or named by a check."""
    source = "".join(p.read_text() for p in Path(cii.__file__).parent.glob("cii_*.py") if "rule_ids" not in p.name)
    named = set(re.findall(r'"((?:BR|CII)-[A-Z0-9-]+\d)"', source))
    named |= {"CII-" + row[0] for _c, rows in SYNTAX_TABLE for row in rows}
    families = re.findall(r'_trio\("(BR-[A-Z]+)"', source) + re.findall(r'\("(BR-[A-Z]+)", "[A-Z]{1,2}", "', source)
    named |= {f"{prefix}-{n:02d}" for prefix in families for n in range(2, 8)}
    named |= {f"{prefix}-{n:02d}" for prefix in ("BR-E", "BR-G") for n in (8, 9, 10)}
    # The official assertions whose test is true(): implemented by never failing.
    always_true = {"BR-CO-05", "BR-CO-06", "BR-CO-07", "BR-CO-08", "BR-AF-09", "BR-AG-09"}
    assert cii.RULES - always_true <= named, sorted(cii.RULES - always_true - named)
    assert len(cii.RULES) == 806


def _invoice(edit=None):
    root = etree.parse(str(FIXTURES / "cii_facture_b2g.xml")).getroot()
    if edit is not None:
        edit(root)
    return root


def _one(root, path):
    [found] = root.xpath(path, namespaces=NS)
    return found


def _findings(root) -> set[tuple[str, str, str]]:
    return {(f.rule, f.flag, f.location) for f in cii.validate(root)}


def _rules(root) -> set[str]:
    return {f.rule for f in cii.validate(root)}


def _add(parent, name: str, text: str | None = None, **attributes):
    prefix, local = name.split(":")
    element = etree.SubElement(parent, f"{{{NS[prefix]}}}{local}", **attributes)
    element.text = text
    return element


LINES = "//ram:IncludedSupplyChainTradeLineItem"
LINE_TOTAL = "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"


def test_a_valid_invoice_fires_nothing():
    assert cii.validate(_invoice()) == []


def test_totals_that_do_not_add_up_fire_br_co_10_on_the_totals():
    def edit(root):
        _one(root, f"({LINES})[1]/{LINE_TOTAL}").text = "500.01"

    assert ("BR-CO-10", "fatal", TOTALS) in _findings(_invoice(edit))


@pytest.mark.parametrize(("header", "fires"), [("1.00", False), ("1.01", True)])
def test_br_co_10_sums_lines_as_doubles_then_rounds_their_exact_value(header, fires):
    """1.00 + 0.005 is the double 1.00499999…: rounded to cents, 1.00 (never 1.01, the decimal reading)."""

    def edit(root):
        first, second = root.xpath(LINES, namespaces=NS)
        _one(first, LINE_TOTAL).text = "1.00"
        _one(second, LINE_TOTAL).text = "0.005"
        _one(root, "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:LineTotalAmount").text = header

    assert ("BR-CO-10" in _rules(_invoice(edit))) is fires


def test_xpath_rounding_and_decimal_semantics():
    assert cii_values.round_double(-2.5) == -2.0
    assert cii_values.round_double(2.5) == 3.0
    assert cii_values.round_double(0.49999999999999994) == 0.0
    assert cii_values.round_decimal(Decimal("-2.5")) == Decimal(-2)
    assert cii_values.round_decimal(Decimal("2.5")) == Decimal(3)
    assert cii_values.decimal_of_double(1.005) == Decimal("1.00499999999999989341858963598497211933135986328125")
    assert cii_values.cents_double(10.005) == 10.01 or cii_values.cents_double(10.005) == 10.0
    # normalize-space only knows the four XML whitespace characters
    assert cii_values.normalize_space("\u00a0A \t\n B ") == "\u00a0A B"
    assert cii_values.to_double(" 1e3 ") == 1000.0
    with pytest.raises(cii_values.DynamicError):
        cii_values.to_decimal("1e3")


def test_an_element_the_norm_says_should_not_be_used_is_a_warning_at_its_context():
    def edit(root):
        _add(_one(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext"), "ram:TestIndicator")

    assert _findings(_invoice(edit)) == {
        ("CII-SR-002", "warning", "/CrossIndustryInvoice[1]/ExchangedDocumentContext[1]")
    }


def test_a_date_not_in_format_102_fires_cii_dt_097_on_the_date():
    def edit(root):
        _one(root, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString").text = "2026-09-15"

    location = "/CrossIndustryInvoice[1]/ExchangedDocument[1]/IssueDateTime[1]/DateTimeString[1]"
    assert ("CII-DT-097", "fatal", location) in _findings(_invoice(edit))


@pytest.mark.parametrize(("code", "fires"), [("vatex-eu-o", False), ("VATEX-EU-O", False), ("VATEX-XX", True)])
def test_exemption_reason_codes_are_compared_in_upper_case(code, fires):
    def edit(root):
        _add(
            _one(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"), "ram:ExemptionReasonCode", code
        )

    assert ("BR-CL-22" in _rules(_invoice(edit))) is fires


def test_each_element_is_judged_by_the_first_matching_official_context_only():
    """A header breakdown in category L is matched by the L rule, which precedes the general one: BR-45 (basis
    amount missing) is not reported for it, as in the official artefacts; in category S it is."""

    def without_basis(category):
        def edit(root):
            tax = _one(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax")
            tax.remove(_one(tax, "ram:BasisAmount"))
            _one(tax, "ram:CategoryCode").text = category

        return edit

    assert "BR-45" in _rules(_invoice(without_basis("S")))
    assert "BR-45" not in _rules(_invoice(without_basis("L")))

    # //ram:TypeCode precedes /…/ExchangedDocument/ram:TypeCode in the syntax pattern: CII-DT-010 never fires.
    def list_id(root):
        _one(root, "//rsm:ExchangedDocument/ram:TypeCode").set("listID", "UNCL1001")

    assert "CII-DT-010" not in _rules(_invoice(list_id))


def test_a_repeated_note_is_located_by_its_position_among_its_siblings():
    def edit(root):
        notes = root.xpath("//rsm:ExchangedDocument/ram:IncludedNote", namespaces=NS)
        _add(notes[1], "ram:Content", "Deuxième texte")

    location = "/CrossIndustryInvoice[1]/ExchangedDocument[1]/IncludedNote[2]"
    assert _findings(_invoice(edit)) == {("CII-SR-030", "warning", location)}


def test_a_value_the_official_engine_cannot_evaluate_is_the_engine_failure_never_an_exception():
    def edit(root):
        _one(root, f"({LINES})[1]/{LINE_TOTAL}").text = "abc"

    [finding] = cii.validate(_invoice(edit))
    assert (finding.rule, finding.flag) == (cii.ENGINE_FAILURE, "fatal")
    assert finding.message
    assert cii.validate(etree.fromstring(b"<a><b>1</b></a>")) == []


def test_vat_breakdown_rules_read_the_seller_vat_identifier():
    def edit(root):
        for registration in root.xpath("//ram:SellerTradeParty/ram:SpecifiedTaxRegistration", namespaces=NS):
            registration.getparent().remove(registration)

    rules = _rules(_invoice(edit))
    assert {"BR-S-02", "BR-CO-26"} <= rules or {"BR-S-02"} <= rules


def test_rule_set_says_what_judges():
    assert cii.RULE_SET.key == "native-cen-cii"
    assert cii.RULE_SET.version == "1.3.16"
    assert len(cii.RULE_SET.sha256) == 64
