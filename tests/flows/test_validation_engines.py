"""Engine selection: `engine="native"|"official"|"auto"` on the pipeline, which engine judged each finding,
and the rules no engine judged said so in the report (never silently passed). Native modules are stood in
for by tests/flows/native/standin.py, whose rules the tests control (the real modules judge every rule)."""

from pathlib import Path

import pytest
from lxml import etree

from choeur.flows.validation import engines, validate_bytes
from choeur.flows.validation.report import LAYER_EN16931
from tests.conftest import CORPUS_DIR
from tests.flows.native import standin
from tests.flows.native.differential import compare_pipeline

UBL_SEED = CORPUS_DIR / "en16931" / "ubl" / "examples" / "ubl-tc434-example1.xml"
CII_SEED = CORPUS_DIR / "en16931" / "cii" / "examples" / "CII_example1.xml"
pytestmark = pytest.mark.skipif(not UBL_SEED.is_file(), reason="Corpus absent : ../shared/corpus introuvable.")


@pytest.fixture
def native_ubl():
    engines.use_native_module("UBL", standin.make())
    yield
    engines.reset_native_cache()


@pytest.fixture
def native_cii():
    engines.use_native_module("CII", standin.make_cii())
    yield
    engines.reset_native_cache()


def _ubl_without(*names: str) -> bytes:
    root = etree.fromstring(Path(UBL_SEED).read_bytes())
    for name in names:
        element = root.find(f"{{{standin.UBL_NS}}}{name}")
        element.getparent().remove(element)
    return etree.tostring(root)


def _en16931(report):
    return [f for f in report.findings if f.layer == LAYER_EN16931]


def test_native_judges_its_rules_and_the_official_engine_the_rest(native_ubl):
    data = _ubl_without("CustomizationID")
    [report] = validate_bytes(data, engine="native")
    assert not report.valid
    judged = {(f.rule, f.engine) for f in _en16931(report)}
    assert ("BR-01", "natif") in judged
    assert all(f.engine == ("natif" if f.rule in {"BR-01", "BR-02"} else "officiel") for f in _en16931(report))
    native_info, official_info = [i for i in report.rule_sets if i.layer == LAYER_EN16931]
    assert (native_info.engine, native_info.rules, native_info.version) == ("natif", 2, "1.3.16")
    assert len(native_info.sha256) == 64 and native_info.unverified == ()
    assert official_info.engine == "officiel" and official_info.rules == len(engines.official_ids("UBL")) - 2
    # Same verdict, same findings as the official engine alone.
    assert compare_pipeline(data, engine_a="native", engine_b="official") == []


def test_official_engine_judges_everything(native_ubl):
    [report] = validate_bytes(_ubl_without("CustomizationID"), engine="official")
    assert {f.engine for f in _en16931(report)} == {"officiel"}
    [info] = [i for i in report.rule_sets if i.layer == LAYER_EN16931]
    assert info.engine == "officiel" and info.rules == len(engines.official_ids("UBL"))


def test_auto_is_native_when_available_official_otherwise(native_ubl):
    [report] = validate_bytes(_ubl_without("CustomizationID"), engine="auto")
    assert ("BR-01", "natif") in {(f.rule, f.engine) for f in _en16931(report)}
    engines.use_native_module("UBL", None)
    [report] = validate_bytes(_ubl_without("CustomizationID"), engine="auto")
    assert ("BR-01", "officiel") in {(f.rule, f.engine) for f in _en16931(report)}


def test_rules_no_engine_judges_are_listed_not_passed(native_cii, no_cen_release):
    """CII without an installed CEN release: the native module judges its rules, the rest are « non vérifiées »."""
    [report] = validate_bytes(CII_SEED.read_bytes(), engine="native")
    [info] = [i for i in report.rule_sets if i.layer == LAYER_EN16931]
    assert info.engine == "natif" and info.rules == 1
    assert len(info.unverified) == len(engines.official_ids("CII")) - 1 and "BR-CO-10" in info.unverified
    assert "non vérifiée(s) par le moteur natif" in info.unverified_label
    assert {f.engine for f in _en16931(report)} <= {"natif"}


def test_native_asked_without_a_native_module_is_a_french_error(no_native):
    [report] = validate_bytes(UBL_SEED.read_bytes(), engine="native")
    [finding] = [f for f in report.findings if f.rule == "CHOEUR-MOTEUR"]
    assert not report.valid and "moteur natif EN 16931 UBL n'est pas disponible" in finding.message


def test_official_asked_for_cii_without_the_cen_release_is_a_french_error(no_cen_release):
    [report] = validate_bytes(CII_SEED.read_bytes(), engine="official")
    [finding] = [f for f in report.findings if f.rule == "CHOEUR-MOTEUR"]
    assert not report.valid and "choeur artefacts install" in finding.message


def test_a_native_module_that_raises_never_passes_an_invoice():
    broken = standin.make()
    broken.validate = lambda root: 1 / 0
    engines.use_native_module("UBL", broken)
    try:
        [report] = validate_bytes(UBL_SEED.read_bytes(), engine="native")
    finally:
        engines.reset_native_cache()
    assert not report.valid and "CHOEUR-INTERNE" in {f.rule for f in report.findings}


def test_unknown_engine_is_refused_in_french():
    with pytest.raises(ValueError, match="Moteur inconnu"):
        validate_bytes(UBL_SEED.read_bytes(), engine="rapide")


def test_hostile_inputs_are_refused_the_same_way_by_both_engines(native_ubl):
    xxe = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/hostname">]><a>&e;</a>'
    for data in (xxe, b"", b"\xff\xfe<a/>", b"<Invoice>", b"%PDF-1.4 nope"):
        assert compare_pipeline(data, engine_a="native", engine_b="official") == []


def test_verdict_without_data_extraction_is_the_same():
    """Re-validation only needs the verdict: extract=False skips report.invoice, not a single finding."""
    data = _ubl_without("CustomizationID")
    [full] = validate_bytes(data, engine="official")
    [bare] = validate_bytes(data, engine="official", extract=False)
    assert full.invoice is not None and bare.invoice is None
    assert [(f.rule, f.severity, f.location) for f in bare.findings] == [
        (f.rule, f.severity, f.location) for f in full.findings
    ]
    [fr] = validate_bytes(data, engine="official", extract=False, rules="fr")
    assert fr.invoice is not None  # the BR-FR identifier checks read it
