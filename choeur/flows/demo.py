"""Demo flows (« Dépôt de flux »), so that the flows list shows each final state after `choeur seed_demo`:

- an integrated flow: a CII the supplier's software would send (that of one of its demo invoices, under a new
  number), integrated into « Factures émises »;
- a rejected flow: a file that is not an invoice, with its compte rendu;
- a flow ended by a technical incident (given up after its attempts), to be deposited again.

Made through the flows services (deposit, processing, incident), processed at once rather than by the worker.
Idempotent: a flow whose bytes the supplier already deposited is left alone (flow_deposit's own rule).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from choeur.directory.demo import demo_structure
from choeur.directory.enums import IdentifierType
from choeur.directory.models import Structure
from choeur.flows.enums import Channel, FlowState
from choeur.flows.leases import flow_mark_incident
from choeur.flows.models import Flow
from choeur.flows.services import flow_deposit, flow_process
from choeur.invoices.facturx import build_cii_xml
from choeur.invoices.models import Invoice

SUPPLIER = "marchand"
BUYER = "etat"
INTEGRATED_NUMBER = "FM-2026-FLUX-01"
MODEL_NUMBER = "FM-2026-0106"  # a demo invoice of the same supplier to the same buyer (invoices/demo.py)
NOT_AN_INVOICE = "Relevé de consommation de photocopies, mars 2026 : ceci n'est pas une facture.\n".encode()
INCIDENT_MESSAGE = "Traitement interrompu à plusieurs reprises (démonstration) : déposez le flux à nouveau."
INCIDENT_FILE = b"<?xml version='1.0'?><!-- flux interrompu (demonstration) --><Invoice/>\n"


@dataclass
class DemoFlowsReport:
    states: list[str] = field(default_factory=list)
    kept: int = 0

    def summary(self) -> str:
        if not self.states:
            return f"Flux de démonstration déjà présents ({self.kept}) : rien n'a changé."
        return f"Flux de démonstration : {', '.join(self.states)} ; {self.kept} déjà présent(s)."


def _structure(key: str) -> Structure:
    return Structure.objects.get(identifier_type=IdentifierType.SIRET, identifier=demo_structure(key).siret)


def _person(key: str):
    return get_user_model().objects.get(email=demo_structure(key).people[0].email)


def _integrated_cii() -> bytes | None:
    """The CII the supplier's software would send for a new invoice: that of a demo invoice it already sent
    (invoices/demo.py, same parties and lines), under a number of its own."""
    model = Invoice.objects.filter(supplier=_structure(SUPPLIER), number=MODEL_NUMBER).first()
    if model is None:
        return None
    content = build_cii_xml(model)
    old, new = f">{MODEL_NUMBER}<".encode(), f">{INTEGRATED_NUMBER}<".encode()
    return content.replace(old, new)


def _deposit(content: bytes, filename: str, report: DemoFlowsReport) -> Flow | None:
    supplier = _structure(SUPPLIER)
    # Already deposited: left alone (depositing the same bytes again would log it, or re-queue an incident).
    if Flow.objects.filter(structure=supplier, sha256=hashlib.sha256(content).hexdigest()).exists():
        report.kept += 1
        return None
    flow, created = flow_deposit(
        structure=supplier, content=content, filename=filename, channel=Channel.PORTAIL, by_user=_person(SUPPLIER)
    )
    if not created:
        report.kept += 1
        return None
    return flow


def demo_flows_seed() -> DemoFlowsReport:
    """Deposit and process the demo flows that are missing (`demo_seed` and the demo invoices first)."""
    report = DemoFlowsReport()
    supplier = _structure(SUPPLIER)
    if supplier.invoices_issued.filter(number=INTEGRATED_NUMBER).exists():
        report.kept += 1
    else:
        content = _integrated_cii()
        flow = _deposit(content, "facture-FM-2026-FLUX-01.xml", report) if content else None
        if flow is not None:
            flow_process(flow_id=flow.pk)
            report.states.append(FlowState(Flow.objects.get(pk=flow.pk).state).label)
    flow = _deposit(NOT_AN_INVOICE, "releve-photocopies.txt", report)
    if flow is not None:
        flow_process(flow_id=flow.pk)
        report.states.append(FlowState(Flow.objects.get(pk=flow.pk).state).label)
    # The incident is recorded in the deposit's transaction, before its processing is queued (on commit).
    with transaction.atomic():
        flow = _deposit(INCIDENT_FILE, "flux-interrompu.xml", report)
        if flow is not None and flow_mark_incident(flow_id=flow.pk, message=INCIDENT_MESSAGE):
            report.states.append(FlowState.IN_INCIDENTE.label)
    return report
