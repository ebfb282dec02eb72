"""A tiny stand-in for a native rule module (same contract as choeur/flows/validation/native/types.py), used to
prove that the differential harness detects a wrong rule — it is not part of the engine."""

from __future__ import annotations

from types import SimpleNamespace

from choeur.flows.validation.native.types import NativeFinding, NativeRuleSet

UBL_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _has(root, name: str) -> bool:
    element = root.find(f"{{{UBL_NS}}}{name}")
    return element is not None and bool((element.text or "").strip())


def make(*, flag: str = "fatal", location_suffix: str = "[1]", skip_br02: bool = False) -> SimpleNamespace:
    """BR-01 (specification identifier, BT-24) and BR-02 (invoice number, BT-1) on UBL, right by default;
    each keyword makes it wrong in one way the harness must notice."""

    def validate(root) -> list[NativeFinding]:
        location = "/" + root.tag.rsplit("}", 1)[-1] + location_suffix
        findings = []
        if not _has(root, "CustomizationID"):
            findings.append(NativeFinding("BR-01", flag, location))
        if not skip_br02 and not _has(root, "ID"):
            findings.append(NativeFinding("BR-02", "fatal", location))
        return findings

    return SimpleNamespace(
        RULE_SET=NativeRuleSet("standin-ubl", "Module de démonstration (tests)", "1.3.16"),
        RULES=frozenset({"BR-01", "BR-02"}),
        validate=validate,
    )
