"""Compte rendu (CR) of a flow: the JSON report, its PDF (WeasyPrint), and the exact answers of Chorus Pro's
`consulterCR` and `consulterCRDetaille` (chorus-pro.md §7.3 and §12).

Everything is rebuilt from the Flow and its FlowItems (the ledger), so a CR is always current: the same
function serves the portal page, the PDF download and the API.
"""

from __future__ import annotations

import base64
from typing import Any

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone

from choeur.flows.enums import ItemStatus
from choeur.flows.models import Flow

SUCCESS_CODE = 0
SUCCESS_LABEL = "TRA_MSG_00.000"


def _date(value) -> str:
    return timezone.localtime(value).date().isoformat() if value else ""


def _datetime(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def _partner_code(flow: Flow) -> str:
    return flow.deposited_by_label or flow.channel


def _detail_error(error: dict[str, Any]) -> dict[str, str]:
    return {
        "regle": error.get("rule", ""),
        "gravite": error.get("severity", ""),
        "message": error.get("message", ""),
        "emplacement": error.get("location", ""),
        "couche": error.get("layer", ""),
    }


def _blocking(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    blocking = [e for e in errors if e.get("severity", "fatal") in ("fatal", "error")]
    return blocking or errors


def flow_error_dp_list(flow: Flow) -> list[dict[str, Any]]:
    """`listeErreurDP`: one entry per rejected invoice, with Chorus Pro's four keys, then our details
    (rank and member name in the file, each finding with its rule, severity, location and layer)."""
    entries = []
    for item in flow.items.filter(status=ItemStatus.REJETEE).order_by("index"):
        libelle = " ; ".join(
            f"[{e['rule']}] {e['message']}" if e.get("rule") else e.get("message", "") for e in _blocking(item.errors)
        )
        entries.append(
            {
                "identifiantFournisseur": item.supplier_identifier,
                "identifiantDestinataire": item.recipient_identifier,
                "numeroDP": item.invoice_number,
                "libelleErreurDP": libelle or "Facture rejetée.",
                "rangDansFlux": item.index + 1,
                "nomFichier": item.member_name,
                "erreurs": [_detail_error(e) for e in item.errors],
            }
        )
    return entries


def flow_cr(flow: Flow) -> dict[str, Any]:
    """The full compte rendu as JSON (portal, native API, PDF)."""
    items = list(flow.items.select_related("invoice").order_by("index"))
    integrated = [item for item in items if item.status == ItemStatus.INTEGREE]
    return {
        "numeroFluxDepot": flow.numero_flux_depot,
        "nomFichier": flow.filename,
        "dateDepotFlux": _date(flow.deposited_at),
        "dateHeureDepotFlux": _datetime(flow.deposited_at),
        "canal": flow.channel,
        "syntaxeFlux": flow.syntaxe_flux,
        "codeInterfaceFlux": flow.interface_code,
        "etatCourantFlux": flow.state,
        "libelleEtatCourantFlux": flow.get_state_display(),
        "dateHeureEtatCourantFlux": _datetime(flow.state_changed_at),
        "identifiantStructureDeposante": flow.structure.identifier,
        "designationStructureDeposante": flow.structure.designation,
        "nombreFactures": len(items) if flow.document_count is None else flow.document_count,
        "nombreFacturesIntegrees": len(integrated),
        "nombreFacturesRejetees": sum(1 for item in items if item.status == ItemStatus.REJETEE),
        "listeErreurTechnique": list(flow.technical_errors),
        "listeErreurDP": flow_error_dp_list(flow),
        "listeFacturesIntegrees": [
            {
                "rangDansFlux": item.index + 1,
                "numeroDP": item.invoice_number,
                "identifiantFournisseur": item.supplier_identifier,
                "identifiantDestinataire": item.recipient_identifier,
                "identifiantFactureCPP": item.invoice_id,
                "avertissements": [_detail_error(e) for e in item.errors],
            }
            for item in integrated
        ],
    }


def flow_cr_pdf(flow: Flow) -> bytes:
    """The compte rendu as a PDF, in French."""
    from weasyprint import HTML

    html = render_to_string(
        "flows/cr.html",
        {"flow": flow, "cr": flow_cr(flow), "generated_at": timezone.localtime()},
    )
    return HTML(string=html).write_pdf()


# Clients poll consulterCR until a final state, and rendering the PDF costs ~80 ms: it is kept per state
# of the flow (its items and errors are written together with the state change that ends processing).
CR_PDF_CACHE_SECONDS = 600


def flow_cr_pdf_cached(flow: Flow) -> bytes:
    key = f"choeur:flows:cr-pdf:{flow.pk}:{flow.state}:{flow.state_changed_at.timestamp()}"
    content = cache.get(key)
    if content is None:
        content = flow_cr_pdf(flow)
        cache.set(key, content, CR_PDF_CACHE_SECONDS)
    return content


def consulter_cr(flow: Flow) -> dict[str, Any]:
    """The answer of `transverses/v1/consulterCR`, with the PDF report in base64."""
    return {
        "codeRetour": SUCCESS_CODE,
        "libelle": SUCCESS_LABEL,
        "numeroFluxDepot": flow.numero_flux_depot,
        "nomFichierFlux": flow.filename,
        "dateDepotFlux": _date(flow.deposited_at),
        "codeInterfaceFlux": flow.interface_code,
        "codeAppliPartenaire": _partner_code(flow),
        "designationPartenaire": flow.structure.designation,
        "etatCourantFlux": flow.state,
        "dateHeureEtatCourantFlux": _datetime(flow.state_changed_at),
        "fichierCR": base64.b64encode(flow_cr_pdf_cached(flow)).decode("ascii"),
    }


def consulter_cr_detaille(flow: Flow) -> dict[str, Any]:
    """The answer of `transverses/v1/consulterCRDetaille` (note Chorus Pro's different key names)."""
    return {
        "codeRetour": SUCCESS_CODE,
        "libelle": SUCCESS_LABEL,
        "nomFichier": flow.filename,
        "dateDepotFlux": _date(flow.deposited_at),
        "codeInterfaceDepotFlux": flow.interface_code,
        "etatCourantDepotFlux": flow.state,
        "dateHeureEtatCourantFlux": _datetime(flow.state_changed_at),
        "listeErreurTechnique": list(flow.technical_errors),
        "listeErreurDP": flow_error_dp_list(flow),
    }
