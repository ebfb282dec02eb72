"""Demo flows (flows/demo.py): an integrated, a rejected and an incident flow, through the flows services."""

import pytest

from choeur.directory.demo import demo_seed
from choeur.flows.demo import INTEGRATED_NUMBER, MODEL_NUMBER, demo_flows_seed
from choeur.flows.enums import FlowState
from choeur.flows.models import Flow
from choeur.invoices.demo import DEMO_INVOICES, _create, _vat_numbers_ensure
from choeur.invoices.models import Invoice

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_flows_end_in_each_final_state_and_seed_once():
    demo_seed()
    _vat_numbers_ensure()  # seed_demo makes the demo invoices first; the integrated flow copies one of them
    specs = {spec.number: spec for spec in DEMO_INVOICES}
    _create(specs[MODEL_NUMBER])
    report = demo_flows_seed()
    assert "Intégré" in report.summary() and "Rejeté" in report.summary()
    states = set(Flow.objects.values_list("state", flat=True))
    details = [(f.filename, f.state, [i.errors[:2] for i in f.items.all()]) for f in Flow.objects.all()]
    assert {FlowState.IN_INTEGRE, FlowState.IN_REJETE, FlowState.IN_INCIDENTE} <= states, details
    integrated = Invoice.objects.get(number=INTEGRATED_NUMBER)
    assert integrated.status != "BROUILLON"  # the flow's invoice, not the draft the CII was built from
    count = Flow.objects.count()
    again = demo_flows_seed()
    assert Flow.objects.count() == count and "rien n'a changé" in again.summary()
