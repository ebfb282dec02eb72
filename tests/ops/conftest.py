"""Fixtures of the operations tests."""

import pytest

from choeur.core.audit import audit_log
from choeur.core.files import file_store
from choeur.core.models import AuditEntry
from choeur.invoices.services import invoice_attachment_add
from tests.flows.factories import FlowFactory
from tests.invoices.factories import InvoiceFactory, issuer_for

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
FLOW = b"<?xml version='1.0'?><Invoice>exercice de restauration</Invoice>"


@pytest.fixture
def instance():
    """An instance with an invoice and its attachment, a flow file and audit entries."""
    invoice = InvoiceFactory(with_lines=True, number="RESTAURATION-1")
    user = issuer_for(invoice.supplier)
    attachment = invoice_attachment_add(invoice=invoice, by=user, name="bon-de-livraison.pdf", content=PDF)
    stored = file_store(content=FLOW)
    flow = FlowFactory(file=stored, sha256=stored.sha256, size=stored.size)
    audit_log(action="exercice.restauration", actor_kind=AuditEntry.ActorKind.SYSTEM, data={"n": 1})
    return {"invoice": invoice, "attachment": attachment, "flow": flow}
