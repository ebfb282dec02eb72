"""A tiny stand-in for a native rule module (same contract as choeur/flows/validation/native/types.py), used to
prove that the differential harness detects a wrong rule — it is not part of the engine."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType

from choeur.flows.validation.native.types import NativeFinding, NativeRuleSet

SOURCE_SHA256 = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _module(name: str, rule_set: NativeRuleSet, rules: set[str], validate) -> ModuleType:
    module = ModuleType(name)
    module.RULE_SET, module.RULES, module.validate = rule_set, frozenset(rules), validate
    return module


UBL_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _has(root, name: str) -> bool:
    element = root.find(f"{{{UBL_NS}}}{name}")
    return element is not None and bool((element.text or "").strip())


def make(*, flag: str = "fatal", location_suffix: str = "[1]", skip_br02: bool = False) -> ModuleType:
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

    rule_set = NativeRuleSet("standin-ubl", "Module de démonstration (tests)", "1.3.16", SOURCE_SHA256)
    return _module("standin_ubl", rule_set, {"BR-01", "BR-02"}, validate)


RSM_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM_NS = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


def make_cii() -> ModuleType:
    """BR-01 on CII (specification identifier, BT-24), right."""

    def validate(root) -> list[NativeFinding]:
        context = root.find(f"{{{RSM_NS}}}ExchangedDocumentContext")
        ids = (
            []
            if context is None
            else context.findall(f"{{{RAM_NS}}}GuidelineSpecifiedDocumentContextParameter/{{{RAM_NS}}}ID")
        )
        if not any((e.text or "").strip() for e in ids):
            return [NativeFinding("BR-01", "fatal", "/CrossIndustryInvoice[1]")]
        return []

    rule_set = NativeRuleSet("standin-cii", "Module de démonstration CII (tests)", "1.3.16", SOURCE_SHA256)
    return _module("standin_cii", rule_set, {"BR-01"}, validate)
