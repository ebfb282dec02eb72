"""Hardened XML parsing: the only way untrusted XML enters the engine.

* lxml with entity resolution, network access and DTD loading disabled, and libxml2's default limits kept
  (`huge_tree=False`: depth 256, 10 MB text nodes, entity amplification cap);
* any DOCTYPE is refused: no invoice syntax uses one, and Saxon resolves external entities (XXE) if it ever
  sees one — the XSLT layer only receives bytes re-serialised from the root element;
* bytes in, so that lxml honours the declared encoding (UTF-8 with or without BOM, UTF-16, ISO-8859-1…).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from lxml import etree

from choeur.flows.validation.messages import pipeline_message
from choeur.flows.validation.report import LAYER_XML, Finding

_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers keep per-parse state: one per thread.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_blank_text=False,
            dtd_validation=False,
            attribute_defaults=False,
        )
        _local.parser = parser
    return parser


class XmlRejected(Exception):
    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


@dataclass(frozen=True)
class ParsedXml:
    root: etree._Element
    encoding: str


def parse_xml(data: bytes) -> ParsedXml:
    """Parse untrusted bytes; raise XmlRejected with a French finding when they are not acceptable."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlRejected(_syntax_finding(exc)) from None
    except ValueError as exc:  # e.g. a str with an encoding declaration; should not happen with bytes
        raise XmlRejected(_finding("CHOEUR-XML-SYNTAXE", detail=str(exc))) from None
    tree = root.getroottree()
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlRejected(_finding("CHOEUR-XML-DOCTYPE", location="/"))
    return ParsedXml(root=root, encoding=docinfo.encoding or "UTF-8")


def serialise_root(root: etree._Element) -> str:
    """The document as text, from the root element only (no DOCTYPE can survive), for Saxon."""
    return etree.tostring(root, encoding="unicode")


def _syntax_finding(exc: etree.XMLSyntaxError) -> Finding:
    message = str(exc.msg or exc)
    lowered = message.lower()
    location = f"ligne {exc.lineno}" if exc.lineno else ""
    if "amplification" in lowered or "entity" in lowered and "loop" in lowered:
        return _finding("CHOEUR-XML-ENTITES", location=location)
    if "excessive depth" in lowered:
        return _finding("CHOEUR-XML-PROFONDEUR", location=location)
    if "document is empty" in lowered:
        return Finding(
            rule="CHOEUR-VIDE",
            severity="fatal",
            message=pipeline_message("CHOEUR-VIDE"),
            layer=LAYER_XML,
        )
    if "encoding" in lowered or "utf-8" in lowered or "bytes" in lowered and "invalid" in lowered:
        return _finding("CHOEUR-XML-ENCODAGE", location=location, detail=_detail(exc))
    return _finding("CHOEUR-XML-SYNTAXE", location=location, detail=_detail(exc))


def _detail(exc: etree.XMLSyntaxError) -> str:
    where = f"ligne {exc.lineno}, colonne {exc.position[1]}" if exc.lineno else "position inconnue"
    # libxml2 repeats the position at the end of its message; keep it once, in French.
    return f"{where} : {re.sub(r',? line \d+, column \d+\s*$', '', str(exc.msg))}"


def _finding(rule: str, *, location: str = "", **params: object) -> Finding:
    return Finding(
        rule=rule, severity="fatal", message=pipeline_message(rule, **params), location=location, layer=LAYER_XML
    )
