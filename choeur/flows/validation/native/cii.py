"""Chœur's own CEN EN 16931 engine for CII (CrossIndustryInvoice D16B): the 1.3.16 rules, natively.

Same rule ids, flags and locations as the official CII artefacts (EN16931-CII-validation.xslt), with no artefact
read at run time: one lxml tree, one walk over its elements, each element given to the first matching rule of each
of the three official patterns (model, syntax, code lists), shared values computed once per document (cii_doc).
Where the official XSLT would stop on a dynamic error (an amount that is not a number, two nodes where one is
expected), the native engine reports the same failure as the pipeline does for Saxon: CHOEUR-SCHEMATRON.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from lxml import etree

from choeur.flows.validation.native.cii_doc import Doc
from choeur.flows.validation.native.cii_engine import judge, location
from choeur.flows.validation.native.cii_model import model_rules
from choeur.flows.validation.native.cii_syntax import CODES, SYNTAX
from choeur.flows.validation.native.cii_values import DynamicError
from choeur.flows.validation.native.cii_vat import VAT_RULES
from choeur.flows.validation.native.types import NativeFinding, NativeRuleSet

logger = logging.getLogger(__name__)

MODEL = model_rules(VAT_RULES)
PATTERNS = (MODEL, SYNTAX, CODES)
ENGINE_FAILURE = "CHOEUR-SCHEMATRON"


def _source_digest() -> str:
    digest = hashlib.sha256()
    for name in sorted(Path(__file__).parent.glob("cii*.py")):
        digest.update(name.read_bytes())
    return digest.hexdigest()


RULE_SET = NativeRuleSet(
    key="native-cen-cii",
    name="Chœur EN 16931 CII (règles CEN 1.3.16)",
    version="1.3.16",
    sha256=_source_digest(),
)


def _implemented() -> frozenset[str]:
    """Every rule id some native check can report (read from the checks themselves, see tests)."""
    from choeur.flows.validation.native import cii_rule_ids

    return cii_rule_ids.RULE_IDS


RULES: frozenset[str] = _implemented()


def validate(root) -> list[NativeFinding]:
    """The failed assertions of the CEN CII rules on a parsed document; never raises."""
    try:
        elements = list(root.iter(etree.Element))
        doc = Doc(root, elements)
        failed = judge(elements, PATTERNS, doc)
    except DynamicError as exc:
        return [NativeFinding(ENGINE_FAILURE, "fatal", "/", f"Règles EN 16931 CII non évaluables : {exc}.")]
    except Exception:  # a bug of ours must not take the verdict down: report it as the engine failure
        logger.exception("Moteur natif CII : erreur interne")
        return [NativeFinding(ENGINE_FAILURE, "fatal", "/", "Règles EN 16931 CII non évaluables (erreur interne).")]
    return [NativeFinding(rule_id, flag, location(element)) for rule_id, flag, element in failed]
