"""Chœur's native EN 16931 engine for UBL Invoice and CreditNote (semantics of the CEN artefacts 1.3.16).

`validate(root)` judges an already-parsed document: one walk files every element by tag (`UblDoc`), then
each rule family judges its contexts — the business rules (`ubl_model`), the VAT categories (`ubl_vat`),
the code lists (`ubl_codes`), the syntax binding (`ubl_syntax`) and the « shall not be used » table
(`ubl_unused`). Findings carry the official rule id, flag and the SVRL location of the context node.

Where the official XSLT stops with a dynamic error (a number that is not one, two nodes where XPath takes
one), Saxon gives no findings but an error for the whole document; the native engine reports it the same
way the pipeline reports the official engine's error: one fatal `CHOEUR-SCHEMATRON` finding, at the node
that could not be read. validate() never raises.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from choeur.flows.validation.native import ubl_codes, ubl_model, ubl_syntax, ubl_unused, ubl_vat
from choeur.flows.validation.native import xpath2 as x
from choeur.flows.validation.native.types import NativeFinding, NativeRuleSet
from choeur.flows.validation.native.ubl_base import UblDoc

_FAMILIES = (ubl_model, ubl_vat, ubl_codes, ubl_syntax, ubl_unused)
DYNAMIC_ERROR = "CHOEUR-SCHEMATRON"

FLAGS: dict[str, str] = {}
for _family in _FAMILIES:
    FLAGS.update(_family.RULES)
RULES: frozenset[str] = frozenset(FLAGS)


def _source_digest() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in (
        "ubl.py",
        "ubl_base.py",
        "xpath2.py",
        "codelists.py",
        *(f"{f.__name__.rsplit('.', 1)[1]}.py" for f in _FAMILIES),
    ):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


RULE_SET = NativeRuleSet(
    key="native-cen-ubl",
    name="Chœur EN 16931 UBL (règles CEN 1.3.16)",
    version="1.3.16",
    sha256=_source_digest(),
)


def validate(root) -> list[NativeFinding]:
    """The findings of the EN 16931 rules on a UBL Invoice or CreditNote (any other root: the relative contexts)."""
    try:
        doc = UblDoc(root, FLAGS)
        for family in _FAMILIES:
            family.check(doc)
        return doc.findings
    except x.DynamicError as error:
        where = x.location(error.element) if error.element is not None else x.location(root)
        message = f"Document illisible par les règles EN 16931 : {error}. Corrigez la valeur à cet endroit."
        return [NativeFinding(DYNAMIC_ERROR, "fatal", where, message)]
    except Exception as error:  # noqa: BLE001 — the contract: never raise on a well-formed document
        message = f"Erreur interne du moteur natif ({error.__class__.__name__}) : document non jugé."
        return [NativeFinding(DYNAMIC_ERROR, "fatal", "/", message)]
