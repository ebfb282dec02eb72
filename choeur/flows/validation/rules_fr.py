"""French CTC layer: the FNFE-MPE BR-FR rules (XP Z12-012) and identifier checksums.

Chorus Pro does not apply the BR-FR rules to B2G invoices, so this layer is advisory by default: its findings
are warnings. It becomes blocking with `fr_blocking=True` (setting CHOEUR_BR_FR_BLOCKING, CLI `--rules fr`),
in which case each finding keeps the severity the official artefact gives it (`fatal` for BR-FR).

On top of the official rules, we check what they don't: the Luhn key of the SIRETs we route on and the key
of French VAT numbers (BR-FR-09 only checks the SIRET's length and SIREN prefix).
"""

from __future__ import annotations

from stdnum.fr import siret as stdnum_siret
from stdnum.fr import tva as stdnum_tva

from choeur.flows.validation import schematron
from choeur.flows.validation.detect import SYNTAX_UBL
from choeur.flows.validation.extract import InvoiceData
from choeur.flows.validation.messages import explain
from choeur.flows.validation.report import LAYER_BR_FR, Finding


def rule_set_for(syntax: str) -> str:
    return "br-fr-ubl" if syntax == SYNTAX_UBL else "br-fr-cii"


def severity(official: str, *, blocking: bool) -> str:
    if not blocking and official in ("fatal", "error"):
        return "warning"
    return official


def br_fr_findings(node, syntax: str, *, blocking: bool) -> list[Finding]:
    """Run the BR-FR XSLT on an already parsed document (the XdmNode shared with the EN 16931 layer)."""
    findings = []
    for item in schematron.run(rule_set_for(syntax), node):
        findings.append(
            Finding(
                rule=item.rule or "BR-FR",
                severity=severity(schematron.severity_of(item), blocking=blocking),
                message=explain(item.rule, item.text),
                location=item.location,
                layer=LAYER_BR_FR,
                text=item.text,
            )
        )
    return findings


def identifier_findings(data: InvoiceData | None, *, blocking: bool) -> list[Finding]:
    """Checksums of the supplier/buyer SIRET and of French VAT numbers found in the invoice."""
    if data is None:
        return []
    findings = []
    level = severity("fatal", blocking=blocking)
    for role, party, bt_siret, bt_vat in (
        ("du vendeur", data.supplier, "BT-29/BT-30", "BT-31"),
        ("de l'acheteur", data.buyer, "BT-46/BT-47", "BT-48"),
    ):
        if party.siret and not stdnum_siret.is_valid(party.siret):
            findings.append(
                Finding(
                    rule="CHOEUR-FR-SIRET",
                    severity=level,
                    message=(
                        f"Le SIRET {role} ({bt_siret}) « {party.siret} » est invalide : sa clé de contrôle ne "
                        f"correspond pas. Vérifiez chaque chiffre."
                    ),
                    location=bt_siret,
                    layer=LAYER_BR_FR,
                )
            )
        vat = (party.vat_number or "").replace(" ", "").upper()
        if vat.startswith("FR") and not stdnum_tva.is_valid(vat):
            findings.append(
                Finding(
                    rule="CHOEUR-FR-TVA",
                    severity=level,
                    message=(
                        f"Le numéro de TVA intracommunautaire {role} ({bt_vat}) « {party.vat_number} » est "
                        f"invalide : FR, une clé de 2 caractères puis le SIREN (9 chiffres)."
                    ),
                    location=bt_vat,
                    layer=LAYER_BR_FR,
                )
            )
    return findings
