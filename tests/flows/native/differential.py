"""The differential harness: the native engine's verdict against the official CEN artefacts, document by document.

    from tests.flows.native.differential import compare
    assert compare(xml_bytes, "UBL") == []

`compare` runs, on the same document, the native rule module of its syntax (`choeur.flows.validation.native.ubl`
or `.cii`, or any stand-in with the same contract: RULES, validate(root)) and the official XSLT of the CEN
1.3.16 release laid out in ../shared/artefacts (run unmodified by saxonche, read in place, never copied). Both
are restricted to the rule ids the module implements (its RULES); what is compared is the multiset of
(rule, flag, readable location). Each `Difference` says which side has an occurrence the other lacks.

A document the hardened parser refuses is judged by neither engine: `compare` returns [] for it (the pipeline
refuses it the same way whatever the engine; `compare_pipeline` checks that end to end).
"""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

from choeur.flows.validation import schematron
from choeur.flows.validation.detect import SYNTAX_CII, SYNTAX_UBL
from choeur.flows.validation.xmlparse import XmlRejected, parse_xml, serialise_root

# ../shared, as tests/conftest.py finds it (not imported from there: the proof script runs without Django).
SHARED_DIR = Path(__file__).resolve().parents[4] / "shared"
CEN_RELEASE_DIR = SHARED_DIR / "artefacts" / "en16931-1.3.16"
OFFICIAL_XSLT = {
    SYNTAX_UBL: CEN_RELEASE_DIR / "ubl" / "EN16931-UBL-validation.xslt",
    SYNTAX_CII: CEN_RELEASE_DIR / "cii" / "EN16931-CII-validation.xslt",
}
NATIVE_MODULES = {SYNTAX_UBL: "choeur.flows.validation.native.ubl", SYNTAX_CII: "choeur.flows.validation.native.cii"}
NATIVE = "natif"
DYNAMIC_ERROR = "CHOEUR-SCHEMATRON"  # how both engines report a document the official XSLT cannot judge
OFFICIAL = "officiel"


@dataclass(frozen=True, order=True)
class Difference:
    """One occurrence of a fired rule that only one engine reports."""

    only_in: str  # "natif" or "officiel"
    rule: str
    flag: str
    location: str

    def __str__(self) -> str:
        return f"{self.rule} ({self.flag}) à {self.location or '(sans emplacement)'} : seulement en {self.only_in}"


def official_available() -> bool:
    return all(path.is_file() for path in OFFICIAL_XSLT.values())


def skip_reason() -> str:
    return f"Artefacts CEN absents : {CEN_RELEASE_DIR} introuvable sur cette machine (comparaison impossible)."


def native_module(syntax: str) -> ModuleType | None:
    """The native rule module of a syntax, or None while it is not written (merged) yet."""
    try:
        return importlib.import_module(NATIVE_MODULES[syntax])
    except ModuleNotFoundError as exc:
        if exc.name and NATIVE_MODULES[syntax].startswith(exc.name):
            return None
        raise


@cache
def _official_executable(syntax: str):
    # The unmodified release (not the engine's rewritten copy): the reference the native engine answers to.
    processor = schematron._processor()
    exe = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(OFFICIAL_XSLT[syntax]))
    if exe is None:
        raise RuntimeError(f"Compilation impossible de {OFFICIAL_XSLT[syntax]}")
    return exe


def official_view(root, syntax: str) -> Counter:
    """(rule, flag, location) of every failed assert (and flagged report) of the official XSLT."""
    node = schematron.parse(serialise_root(root))
    with schematron._lock:
        try:
            svrl = _official_executable(syntax).transform_to_string(xdm_node=node)
        except Exception as exc:  # saxonche's PySaxonApiError
            raise OfficialFailure(str(exc).strip().splitlines()[0][:300] if str(exc).strip() else "erreur") from None
    if not svrl:
        raise OfficialFailure("aucun rapport SVRL produit")
    items = schematron.parse_svrl(svrl.encode("utf-8"))
    return Counter(
        (i.rule, schematron.severity_of(i), i.location) for i in items if i.kind == "failed-assert" or i.flag
    )


def native_view(root, module: ModuleType) -> Counter:
    return Counter((f.rule, f.flag, schematron.readable_location(f.location)) for f in module.validate(root))


def restrict(view: Counter, rules: frozenset[str] | set[str]) -> Counter:
    return Counter({key: n for key, n in view.items() if key[0] in rules})


def differences(native: Counter, official: Counter) -> list[Difference]:
    found = [Difference(NATIVE, *key) for key in (native - official).elements()]
    found += [Difference(OFFICIAL, *key) for key in (official - native).elements()]
    return sorted(found)


class OfficialFailure(Exception):
    """The official XSLT stopped on a dynamic error (e.g. normalize-space() of two repeated elements)."""


@dataclass
class Outcome:
    """Everything one comparison saw (the proof script's figures come from here)."""

    differences: list[Difference]
    refused: bool = False  # the hardened parser refused the document: neither engine judged it
    official_failed: str = ""  # the official engine's dynamic error, when it stopped
    fired: Counter | None = None  # rule id → occurrences fired by the official engine (within RULES)


def compare_detailed(
    xml_bytes: bytes, syntax: str, *, module: ModuleType | None = None, dynamic_errors: bool = True
) -> Outcome:
    """dynamic_errors: whether the module must report CHOEUR-SCHEMATRON exactly where the official XSLT stops
    (the real modules do; a stand-in that implements two rules cannot, and passes False)."""
    module = module or native_module(syntax)
    if module is None:
        raise LookupError(f"Module natif {NATIVE_MODULES[syntax]} absent : rien à comparer.")
    try:
        root = parse_xml(xml_bytes).root
    except XmlRejected:
        return Outcome([], refused=True)  # refused before any rule engine runs, whichever engine is chosen
    rules = frozenset(module.RULES)
    judged = native_view(root, module)
    native_stopped = [key for key in judged if key[0] == DYNAMIC_ERROR]
    native = restrict(judged, rules)
    try:
        official = restrict(official_view(root, syntax), rules)
    except OfficialFailure as exc:
        # The official engine judges nothing (the pipeline reports CHOEUR-SCHEMATRON): the native module must
        # say the same (one CHOEUR-SCHEMATRON finding); rules are not compared one by one. Counted apart.
        found = (
            [] if native_stopped or not dynamic_errors else [Difference(OFFICIAL, DYNAMIC_ERROR, "fatal", str(exc))]
        )
        return Outcome(found, official_failed=str(exc))
    if native_stopped:
        return Outcome([Difference(NATIVE, DYNAMIC_ERROR, "fatal", native_stopped[0][2])])
    fired = Counter()
    for (rule, _flag, _location), count in official.items():
        fired[rule] += count
    return Outcome(differences(native, official), fired=fired)


def compare(
    xml_bytes: bytes, syntax: str, *, module: ModuleType | None = None, dynamic_errors: bool = True
) -> list[Difference]:
    """Native vs official on one document, restricted to the native RULES (empty list: identical)."""
    return compare_detailed(xml_bytes, syntax, module=module, dynamic_errors=dynamic_errors).differences


def compare_pipeline(
    data: bytes,
    *,
    filename: str = "facture.xml",
    rules: str = "en16931",
    engine_a: str = "native",
    engine_b: str = "official",
    **options,
) -> list[str]:
    """validate_bytes with two engines (native and official by default): the same reports (verdict, rule,
    severity, location, layer), for any input — hostile ones included. Returns readable differences."""
    from choeur.flows.validation import validate_bytes

    def view(engine: str):
        reports = validate_bytes(data, filename=filename, rules=rules, engine=engine, **options)
        # A dynamic error is located by the native module only (Saxon stops without saying where).
        return [
            (
                r.valid,
                Counter(
                    (f.rule, f.severity, "" if f.rule == DYNAMIC_ERROR else f.location, f.layer) for f in r.findings
                ),
            )
            for r in reports
        ]

    native, official = view(engine_a), view(engine_b)
    if native == official:
        return []
    if len(native) != len(official):
        return [f"{len(native)} rapport(s) en natif, {len(official)} en officiel"]
    out = []
    for index, ((n_valid, n), (o_valid, o)) in enumerate(zip(native, official, strict=True)):
        if n_valid != o_valid:
            out.append(f"document {index} : verdict natif {n_valid}, officiel {o_valid}")
        out += [f"document {index} : seulement en natif {k}" for k in sorted((n - o).elements())]
        out += [f"document {index} : seulement en officiel {k}" for k in sorted((o - n).elements())]
    return out


def describe(found: list[Difference], *, limit: int = 20) -> str:
    lines = [str(d) for d in found[:limit]]
    if len(found) > limit:
        lines.append(f"… et {len(found) - limit} autre(s)")
    return "\n".join(lines)
