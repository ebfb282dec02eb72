"""The schematron layer: official XSLTs compiled once by saxonche, with speed-only rewrites that must not
change a single finding (checked against the unmodified official artefacts on the corpus)."""

from pathlib import Path

import pytest
from lxml import etree

from choeur.flows.validation import schematron
from choeur.flows.validation.pipeline import select_scenario
from choeur.flows.validation.policy import POLICY_PLATFORM, layer_modes
from choeur.flows.validation.xmlparse import serialise_root
from tests.conftest import corpus_path
from tests.flows.conftest import corpus_invoices

XSL = "http://www.w3.org/1999/XSL/Transform"
# The rewrites are mechanical and identical for every artefact: a few documents on the rule sets that the
# corpus exercises most are enough (each official XSLT costs a compilation of 0.3 to 4 s on a busy box).
DOCUMENTS_PER_RULE_SET = 4
COMPARED_RULE_SETS = ("cen-ubl", "br-fr-ubl", "fx-en16931", "br-fr-cii", "fx-basicwl", "fx-minimum")
# The CEN CII release when the operator's copy is installed for the session (tests/conftest.py).
CEN_CII = ("cen-cii",) if schematron.available("cen-cii") else ()


def test_locations_are_made_readable():
    location = (
        "/*:Invoice[namespace-uri()='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'][1]"
        "/*:InvoiceLine[namespace-uri()='urn:x'][2]/@*:unitCode[namespace-uri()='']"
    )
    assert schematron.readable_location(location) == "/Invoice[1]/InvoiceLine[2]/@unitCode"
    assert schematron.readable_location("/Q{urn:x}Invoice[1]") == "/Invoice[1]"


@pytest.mark.parametrize(
    ("kind", "flag", "severity"),
    [
        ("failed-assert", "fatal", "fatal"),
        ("failed-assert", "warning", "warning"),
        ("failed-assert", "information", "information"),
        ("failed-assert", None, "fatal"),
        ("successful-report", None, "information"),
        ("successful-report", "warning", "warning"),
    ],
)
def test_severity_from_svrl_flag(kind, flag, severity):
    item = schematron.SvrlItem(kind=kind, rule="R", flag=flag, location="", text="", test="")
    assert schematron.severity_of(item) == severity


def test_parse_svrl_reads_asserts_and_reports():
    svrl = b"""<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
      <svrl:fired-rule context="/"/>
      <svrl:failed-assert id="BR-01" flag="fatal" location="/*:Invoice[namespace-uri()='u'][1]" test="x">
        <svrl:text>[BR-01]-An Invoice
          shall have a Specification identifier (BT-24).</svrl:text>
      </svrl:failed-assert>
      <svrl:successful-report test="true()" location="/a"><svrl:text>Element 'x' is marked as not used.</svrl:text>
      </svrl:successful-report>
    </svrl:schematron-output>"""
    first, second = schematron.parse_svrl(svrl)
    assert (first.kind, first.rule, first.flag, first.location) == ("failed-assert", "BR-01", "fatal", "/Invoice[1]")
    assert first.text == "[BR-01]-An Invoice shall have a Specification identifier (BT-24)."
    assert (second.kind, second.rule, second.flag) == ("successful-report", "", None)


def test_codedb_is_passed_once_as_a_parameter_and_looked_up_by_key():
    spec = schematron.RULE_SETS["fx-en16931"]
    root = etree.fromstring(schematron._patched_stylesheet(spec, schematron.resolve("fx-en16931").path).encode())
    expressions = [v for e in root.iter(f"{{{XSL}}}*") for v in e.attrib.values()]
    assert not [v for v in expressions if "document(" in v]
    assert sum(f"key('{schematron.CODEDB_KEY}'" in v for v in expressions) == 59  # every code list check
    assert root.find(f"{{{XSL}}}param").get("name") == schematron.CODEDB_PARAM
    assert not list(root.iter(f"{{{schematron.SVRL_NS}}}fired-rule"))


def _official_executable(key: str):
    """The artefact exactly as shipped, compiled from its file (so that document() finds the codedb)."""
    processor = schematron._processor()
    return processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(schematron.resolve(key).path))


def _corpus_documents() -> list[Path]:
    root = corpus_path()
    files = sorted((root / "en16931" / "cii" / "examples").glob("*.xml"))
    files += sorted(p for p in (root / "en16931" / "ubl" / "examples").iterdir() if p.stat().st_size < 1_000_000)
    files += sorted(p for p in (root / "zugferd" / "ZUGFeRDv2").rglob("*") if p.suffix.lower() in (".pdf", ".xml"))
    return files


@pytest.mark.corpus
def test_rewritten_rule_sets_give_the_official_findings():
    """Every corpus invoice, through the rule sets the platform's policy picks for it (CEN, Factur-X, BR-FR)."""
    wanted = COMPARED_RULE_SETS + CEN_CII
    compared = {}
    official = {}
    for path in _corpus_documents():
        if all(compared.get(key, 0) >= DOCUMENTS_PER_RULE_SET for key in wanted):
            break
        for entry, root, detection in corpus_invoices(path):
            scenario = select_scenario(detection)
            _, _, facturx = layer_modes(detection, entry.container, policy=POLICY_PLATFORM)
            node = schematron.parse(serialise_root(root))
            for key in (scenario.rule_set, scenario.fr_rule_set, facturx):
                if key not in wanted or compared.get(key, 0) >= DOCUMENTS_PER_RULE_SET:
                    continue
                if key not in official:
                    official[key] = _official_executable(key)
                expected = schematron.parse_svrl(official[key].transform_to_string(xdm_node=node).encode())
                actual = schematron.run(key, node)

                def strip(items):
                    return [(i.kind, i.rule, i.flag, i.location, i.text) for i in items]

                assert strip(actual) == strip(expected), f"{path.name} : {key}"
                compared[key] = compared.get(key, 0) + 1
    assert set(compared) == set(wanted)
