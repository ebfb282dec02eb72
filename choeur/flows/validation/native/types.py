"""The interface every native rule module implements (ubl.py, cii.py, and later layers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Flag = Literal["fatal", "warning", "information"]


@dataclass(frozen=True, slots=True)
class NativeFinding:
    """One fired rule, as the official engine's SVRL `failed-assert` would report it."""

    rule: str  # the official id: "BR-CO-10", "BR-CL-25", "UBL-SR-12", "CII-DT-013"…
    flag: Flag  # the official @flag
    location: str  # an XPath to the context node, in the official engines' style where practical
    message: str = ""  # French, says what to fix (may be left empty: messages.explain() fills it)


@dataclass(frozen=True, slots=True)
class NativeRuleSet:
    """What judges a document natively: shown in reports as the official rule sets are."""

    key: str  # "native-cen-ubl", "native-cen-cii"
    name: str  # "Chœur EN 16931 UBL (règles CEN 1.3.16)"
    version: str  # the CEN release whose semantics are implemented: "1.3.16"
    sha256: str = ""  # SHA-256 of the rule module's source, so that a report says exactly which code judged


# Every native rule module (native/ubl.py, native/cii.py, later native/facturx.py, native/brfr.py) exposes:
#   RULE_SET: NativeRuleSet
#   RULES: frozenset[str]      — the official rule ids this module implements (the rest of the official
#                                rule set is judged by the official engine when it is installed: see
#                                `--explain-engine`), so coverage is a measured figure, never a claim;
#   validate(root: lxml.etree._Element) -> list[NativeFinding]
#                              — one call per document, on the already-parsed (hardened) tree; never raises
#                                on a well-formed document, whatever its content.
# The differential suite compares, per document, the multiset of (rule, flag, location) restricted to
# RULES with the official SVRL's, locations compared after schematron.readable_location().
