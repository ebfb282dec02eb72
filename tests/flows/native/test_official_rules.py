"""The catalogue of official rule ids (native/official_rules.py) is the CEN 1.3.16 release's, exactly: it is
what coverage is measured against when no release is installed."""

import pytest

from choeur.flows.validation import schematron
from choeur.flows.validation.native import official_rules
from tests.flows.native.differential import OFFICIAL_XSLT, official_available, skip_reason


@pytest.mark.skipif(not official_available(), reason=skip_reason())
@pytest.mark.parametrize(("syntax", "catalogue"), [("UBL", official_rules.CEN_UBL), ("CII", official_rules.CEN_CII)])
def test_catalogue_equals_the_release(syntax, catalogue):
    path = OFFICIAL_XSLT[syntax]
    assert schematron._rule_ids_of(str(path), "release") == catalogue
    assert f"Schematron version {official_rules.VERSION}" in path.read_text(encoding="utf-8")[:32_768]
