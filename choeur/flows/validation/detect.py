"""Which syntax and which profile a document claims, and the matching Chorus Pro `syntaxeFlux`.

Detection reads the root element and the specification identifier (BT-24: UBL `cbc:CustomizationID`, CII
`GuidelineSpecifiedDocumentContextParameter/ram:ID`). Anything that is not a UBL 2.1 Invoice/CreditNote or a
CII CrossIndustryInvoice is refused with a French reason (ZUGFeRD 1, FatturaPA, CDAR, Order-X…), never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from choeur.flows.validation.messages import pipeline_message
from choeur.flows.validation.report import LAYER_DETECTION, LAYER_FLUX, Finding

NS_UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
NS_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NS_ZUGFERD1 = "urn:ferd:CrossIndustryDocument:invoice:1p0"
NS_CDAR = "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100"
NS_ORDERX = "urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100"
UBL_PREFIX = "urn:oasis:names:specification:ubl:schema:xsd:"

SYNTAX_UBL = "UBL"
SYNTAX_CII = "CII"

# Profile keys select the XSD and the official rule set (see pipeline.SCENARIOS).
PROFILE_MINIMUM = "minimum"
PROFILE_BASICWL = "basicwl"
PROFILE_BASIC = "basic"
PROFILE_EN16931 = "en16931"
PROFILE_EXTENDED = "extended"
PROFILE_EXTENDED_CTC_FR = "extended-ctc-fr"

PROFILE_LABELS = {
    PROFILE_MINIMUM: "MINIMUM",
    PROFILE_BASICWL: "BASIC WL",
    PROFILE_BASIC: "BASIC",
    PROFILE_EN16931: "EN 16931",
    PROFILE_EXTENDED: "EXTENDED",
    PROFILE_EXTENDED_CTC_FR: "EXTENDED-CTC-FR",
}

# BT-24 values (Factur-X 1.0x and their ZUGFeRD 2.x twins), as published by FNFE-MPE/FeRD.
_KNOWN_PROFILE_IDS = {
    "urn:factur-x.eu:1p0:minimum": PROFILE_MINIMUM,
    "urn:zugferd.de:2p0:minimum": PROFILE_MINIMUM,
    "urn:factur-x.eu:1p0:basicwl": PROFILE_BASICWL,
    "urn:zugferd.de:2p0:basicwl": PROFILE_BASICWL,
    "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic": PROFILE_BASIC,
    "urn:cen.eu:en16931:2017#compliant#urn:zugferd.de:2p0:basic": PROFILE_BASIC,
    "urn:cen.eu:en16931:2017": PROFILE_EN16931,
    "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended": PROFILE_EXTENDED,
    "urn:cen.eu:en16931:2017#conformant#urn:zugferd.de:2p0:extended": PROFILE_EXTENDED,
    "urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr": PROFILE_EXTENDED_CTC_FR,
}
# Factur-X 1.0 (2017) spelled the compliance with colons; Factur-X 1.09 no longer accepts these values, so
# they are recognised (to pick the right rules) and reported as obsolete.
_LEGACY_PROFILE_IDS = {
    "urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:basic": PROFILE_BASIC,
    "urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:en16931": PROFILE_EN16931,
    "urn:cen.eu:en16931:2017:conformant:factur-x.eu:1p0:extended": PROFILE_EXTENDED,
}
CURRENT_PROFILE_IDS = {
    PROFILE_MINIMUM: "urn:factur-x.eu:1p0:minimum",
    PROFILE_BASICWL: "urn:factur-x.eu:1p0:basicwl",
    PROFILE_BASIC: "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
    PROFILE_EN16931: "urn:cen.eu:en16931:2017",
    PROFILE_EXTENDED: "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
    PROFILE_EXTENDED_CTC_FR: "urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr",
}
# Profiles that only exist for CII (Factur-X); a UBL document claiming one is checked as EN 16931.
_CII_ONLY = {PROFILE_MINIMUM, PROFILE_BASICWL, PROFILE_BASIC, PROFILE_EXTENDED}
# A CIUS restricts EN 16931 without adding anything: the EN 16931 rules apply (its own rules are not run).
_CIUS_PREFIX = "urn:cen.eu:en16931:2017#compliant#"
_CIUS_NAMES = (("xrechnung", "XRECHNUNG"), ("peppol", "PEPPOL BIS 3"))


@dataclass(frozen=True)
class Detection:
    syntax: str  # SYNTAX_UBL or SYNTAX_CII
    document_type: str  # "Invoice", "CreditNote", "CrossIndustryInvoice"
    profile_key: str
    profile_label: str
    profile_id: str | None  # BT-24 as written
    profile_status: str  # "known", "legacy" (Factur-X 1.0 spelling), "cius" (another CIUS) or "unknown"
    business_process: str | None  # BT-23


class UnsupportedFormat(Exception):
    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


def detect(root: etree._Element) -> Detection:
    """Syntax and profile of a parsed document; raise UnsupportedFormat with a French reason otherwise."""
    qname = etree.QName(root)
    ns, local = qname.namespace or "", qname.localname
    if ns == NS_UBL_INVOICE and local == "Invoice" or ns == NS_UBL_CREDIT_NOTE and local == "CreditNote":
        profile_id = _text(root.find(f"{{{NS_CBC}}}CustomizationID"))
        business_process = _text(root.find(f"{{{NS_CBC}}}ProfileID"))
        key, label, status = _profile(profile_id, SYNTAX_UBL)
        return Detection(SYNTAX_UBL, local, key, label, profile_id, status, business_process)
    if ns == NS_RSM and local == "CrossIndustryInvoice":
        context = root.find(f"{{{NS_RSM}}}ExchangedDocumentContext")
        profile_id = business_process = None
        if context is not None:
            profile_id = _text(context.find(f"{{{NS_RAM}}}GuidelineSpecifiedDocumentContextParameter/{{{NS_RAM}}}ID"))
            business_process = _text(
                context.find(f"{{{NS_RAM}}}BusinessProcessSpecifiedDocumentContextParameter/{{{NS_RAM}}}ID")
            )
        key, label, status = _profile(profile_id, SYNTAX_CII)
        return Detection(SYNTAX_CII, local, key, label, profile_id, status, business_process)
    raise UnsupportedFormat(
        Finding(
            rule="CHOEUR-FORMAT",
            severity="fatal",
            message=pipeline_message("CHOEUR-FORMAT", reason=_unsupported_reason(ns, local)),
            location=f"/{local}",
            layer=LAYER_DETECTION,
        )
    )


def _profile(profile_id: str | None, syntax: str) -> tuple[str, str, str]:
    if profile_id:
        key = _KNOWN_PROFILE_IDS.get(profile_id)
        if key and not (syntax == SYNTAX_UBL and key in _CII_ONLY):
            return key, PROFILE_LABELS[key], "known"
        key = _LEGACY_PROFILE_IDS.get(profile_id)
        if key and syntax == SYNTAX_CII:
            return key, PROFILE_LABELS[key], "legacy"
        if profile_id.startswith(_CIUS_PREFIX):
            lowered = profile_id.lower()
            name = next((label for marker, label in _CIUS_NAMES if marker in lowered), None)
            cius = name or profile_id[len(_CIUS_PREFIX) :]
            return PROFILE_EN16931, f"EN 16931 (CIUS {cius})", "cius"
    return PROFILE_EN16931, "inconnu", "unknown"


def _unsupported_reason(ns: str, local: str) -> str:
    if ns == NS_ZUGFERD1:
        return (
            "facture ZUGFeRD 1.0 (CrossIndustryDocument), format allemand de 2014 antérieur à la norme EN 16931. "
            "Produisez une facture Factur-X / ZUGFeRD 2 (CII) ou UBL 2.1."
        )
    if local == "FatturaElettronica" or "agenziaentrate" in ns:
        return (
            "facture italienne FatturaPA (SdI), qui n'est pas une syntaxe de la norme EN 16931. "
            "Déposez la facture au format UBL 2.1, CII ou Factur-X."
        )
    if ns == NS_CDAR:
        return (
            "message de cycle de vie CDAR (statut de facture), pas une facture. Déposez-le comme flux de "
            "statut, pas comme facture."
        )
    if ns == NS_ORDERX:
        return "document Order-X (commande), pas une facture. Déposez une facture UBL, CII ou Factur-X."
    if ns.startswith(UBL_PREFIX):
        return (
            f"document UBL « {local} », qui n'est pas une facture : seuls les documents UBL 2.1 Invoice et "
            f"CreditNote sont acceptés."
        )
    if local in {"CrossIndustryInvoice", "Invoice", "CreditNote"}:
        return (
            f"l'élément racine « {local} » est dans l'espace de noms « {ns or 'aucun'} », qui n'est pas celui "
            f"d'UBL 2.1 ou de CII D16B/D22B. Corrigez la déclaration xmlns de la facture."
        )
    return (
        f"élément racine « {local} »{f' ({ns})' if ns else ''} inconnu : ce document n'est pas une facture UBL 2.1 "
        f"(Invoice, CreditNote) ni CII (CrossIndustryInvoice)."
    )


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


# --- Chorus Pro syntaxeFlux ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FluxSyntax:
    code: str
    container: str  # "xml" (bare XML) or "pdf" (XML embedded in a PDF)
    syntax: str
    mixed: bool  # E2 "flux mixte": the PDF is the invoice, the XML carries the minimal data
    label: str


SYNTAXES_FLUX: dict[str, FluxSyntax] = {
    s.code: s
    for s in (
        FluxSyntax("IN_DP_E1_UBL_INVOICE", "xml", SYNTAX_UBL, False, "flux structuré E1 UBL 2.1"),
        FluxSyntax("IN_DP_E1_CII_16B", "xml", SYNTAX_CII, False, "flux structuré E1 CII D16B"),
        FluxSyntax("IN_DP_E2_CII_FACTURX", "pdf", SYNTAX_CII, False, "flux mixte E2 Factur-X (PDF/A-3 + CII)"),
        FluxSyntax("IN_DP_E2_UBL_INVOICE_MIN", "xml", SYNTAX_UBL, True, "flux mixte E2 UBL minimal + PDF"),
        FluxSyntax("IN_DP_E2_CII_MIN_16B", "xml", SYNTAX_CII, True, "flux mixte E2 CII minimal + PDF"),
        FluxSyntax("IN_DP_E3_UBL_INVOICE", "xml", SYNTAX_UBL, False, "flux E3 mémoire de justice UBL 2.1"),
    )
}

# Values Chorus Pro knows but Chœur does not ingest, with what to do instead.
UNSUPPORTED_SYNTAXES_FLUX: dict[str, str] = {
    "IN_DP_E2_CPP_FACTURE_MIN": "format propriétaire Chorus Pro « CPPFactureMin », non repris par Chœur. Déposez "
    "un PDF Factur-X (IN_DP_E2_CII_FACTURX) ou une facture UBL/CII.",
    "IN_DP_E1_CII": "ancienne syntaxe CII, remplacée par IN_DP_E1_CII_16B.",
    "IN_DP_E2_CII_MIN": "ancienne syntaxe CII minimale, remplacée par IN_DP_E2_CII_MIN_16B.",
    "IN_DP_E1_PES_FACTURE": "le format PES Facture a été retiré de l'annexe EDI de Chorus Pro (V4.21).",
    "IN_DP_E2_PES_FACTURE_MIN": "le format PES Facture a été retiré de l'annexe EDI de Chorus Pro (V4.21).",
    "IN_DP_E1_XCBL": "le format xCBL n'est pas repris par Chœur : utilisez UBL 2.1 ou CII.",
    "IN_DP_E1_ISO20002": "le format ISO 20022 n'est pas repris par Chœur : utilisez UBL 2.1 ou CII.",
    "IN_DP_E2_FSO20": "format historique non repris par Chœur : utilisez Factur-X.",
    "IN_DP_CSV_EDIFACT": "les formats CSV et EDIFACT ne sont pas repris par Chœur : utilisez UBL 2.1 ou CII.",
    "IN_DP_PDFARCHIVE_UBL_INVOICE_MUG": "format d'archivage non repris par Chœur : déposez la facture UBL 2.1.",
    "IN_DP_PDFARCHIVE_CII_MUG": "format d'archivage non repris par Chœur : déposez la facture CII ou Factur-X.",
    "IN_DP_PDF_UBL_INVOICE": "format historique non repris par Chœur : déposez la facture UBL 2.1.",
    "IN_DP_PDF_CII": "format historique non repris par Chœur : déposez un PDF Factur-X (IN_DP_E2_CII_FACTURX).",
    "IN_DP_PDF_PES_FACTURE": "le format PES Facture a été retiré de l'annexe EDI de Chorus Pro (V4.21).",
}

# Profiles without invoice lines: a structured (E1) flow needs lines, so these are mixed (E2) flows.
_MINIMAL_PROFILES = {PROFILE_MINIMUM, PROFILE_BASICWL}


def detect_syntaxe_flux(*, container: str, syntax: str | None, profile_key: str | None = None) -> str | None:
    """The syntaxeFlux matching a document, as Chorus Pro would expect it declared; None if there is none.

    E3 (mémoires de justice) and the E2 UBL mixed flow look like any UBL invoice: they are never guessed,
    only accepted when declared.
    """
    if syntax == SYNTAX_CII:
        if container == "pdf":
            return "IN_DP_E2_CII_FACTURX"
        return "IN_DP_E2_CII_MIN_16B" if profile_key in _MINIMAL_PROFILES else "IN_DP_E1_CII_16B"
    if syntax == SYNTAX_UBL and container == "xml":
        return "IN_DP_E1_UBL_INVOICE"
    return None


def check_syntaxe_flux(
    declared: str,
    *,
    container: str,
    syntax: str | None,
    profile_key: str | None = None,
    has_pdf_attachment: bool = False,
) -> list[Finding]:
    """Findings when the declared syntaxeFlux does not match the content (empty list when it does)."""
    declared = (declared or "").strip()
    if declared in UNSUPPORTED_SYNTAXES_FLUX:
        return [
            _flux_finding(
                "CHOEUR-FLUX-NON-PRISE-EN-CHARGE", declared=declared, reason=UNSUPPORTED_SYNTAXES_FLUX[declared]
            )
        ]
    expected = SYNTAXES_FLUX.get(declared)
    if expected is None:
        return [_flux_finding("CHOEUR-FLUX-INCONNUE", declared=declared, allowed=", ".join(SYNTAXES_FLUX))]
    if syntax is None:
        return []  # not an invoice: the detection layer already said why
    if expected.syntax != syntax or expected.container != container:
        detected = detect_syntaxe_flux(container=container, syntax=syntax, profile_key=profile_key)
        actual = _describe(container, syntax)
        wanted = _describe(expected.container, expected.syntax)
        return [
            _flux_finding(
                "CHOEUR-FLUX-INCOHERENTE",
                declared=declared,
                actual=actual,
                expected=detected or "une autre syntaxe",
                wanted=wanted,
            )
        ]
    if expected.mixed and not has_pdf_attachment:
        return [_flux_finding("CHOEUR-FLUX-E2-SANS-PDF", declared=declared, severity="warning")]
    return []


def _describe(container: str, syntax: str) -> str:
    if container == "pdf":
        return f"un PDF embarquant une facture {syntax}"
    return f"une facture XML {syntax}"


def _flux_finding(rule: str, *, severity: str = "fatal", **params: object) -> Finding:
    return Finding(
        rule=rule,
        severity=severity,
        message=pipeline_message(rule, **params),
        location="syntaxeFlux",
        layer=LAYER_FLUX,
    )
