"""The differential harness can fail: a stand-in module right on two rules agrees with the official CEN XSLT,
and each way of getting a rule wrong (flag, location, a missed rule) is reported as a difference."""

from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import CORPUS_DIR
from tests.flows.native import standin
from tests.flows.native.differential import NATIVE, OFFICIAL, Difference, compare, official_available, skip_reason

pytestmark = pytest.mark.skipif(not official_available(), reason=skip_reason())
SEED = CORPUS_DIR / "en16931" / "ubl" / "examples" / "ubl-tc434-example1.xml"
CBC = standin.UBL_NS


def _without(*names: str) -> bytes:
    root = etree.fromstring(Path(SEED).read_bytes())
    for name in names:
        element = root.find(f"{{{CBC}}}{name}")
        element.getparent().remove(element)
    return etree.tostring(root)


@pytest.mark.skipif(not SEED.is_file(), reason="Corpus absent : ../shared/corpus introuvable.")
def test_a_right_module_agrees_with_the_official_artefacts():
    module = standin.make()
    assert compare(SEED.read_bytes(), "UBL", module=module) == []
    assert compare(_without("CustomizationID"), "UBL", module=module) == []
    assert compare(_without("CustomizationID", "ID"), "UBL", module=module) == []


@pytest.mark.skipif(not SEED.is_file(), reason="Corpus absent : ../shared/corpus introuvable.")
@pytest.mark.parametrize(
    ("wrong", "expected"),
    [
        (
            {"flag": "warning"},
            [
                Difference(NATIVE, "BR-01", "warning", "/Invoice[1]"),
                Difference(OFFICIAL, "BR-01", "fatal", "/Invoice[1]"),
            ],
        ),
        (
            {"location_suffix": ""},
            [Difference(NATIVE, "BR-01", "fatal", "/Invoice"), Difference(OFFICIAL, "BR-01", "fatal", "/Invoice[1]")],
        ),
    ],
)
def test_a_wrong_flag_or_location_is_a_difference(wrong, expected):
    assert compare(_without("CustomizationID"), "UBL", module=standin.make(**wrong)) == expected


@pytest.mark.skipif(not SEED.is_file(), reason="Corpus absent : ../shared/corpus introuvable.")
def test_a_rule_the_module_misses_is_a_difference():
    found = compare(_without("ID"), "UBL", module=standin.make(skip_br02=True))
    assert found == [Difference(OFFICIAL, "BR-02", "fatal", "/Invoice[1]")]


def test_a_document_the_parser_refuses_is_judged_by_neither_engine():
    xxe = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/hostname">]><a>&e;</a>'
    assert compare(xxe, "UBL", module=standin.make()) == []
