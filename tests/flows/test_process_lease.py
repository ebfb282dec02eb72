"""Claims, leases and the reconciler: the Flow row is the ledger."""

from datetime import timedelta

import pytest
from django.utils import timezone

from choeur.flows.enums import FlowState, ItemStatus
from choeur.flows.leases import LeaseLost, flow_claim
from choeur.flows.models import Flow
from choeur.flows.services import flow_process, flows_reconcile
from choeur.flows.worker import flow_run
from choeur.invoices.models import Invoice
from tests.flows.factories import FlowFactory
from tests.flows.fixtures import zip_of
from tests.flows.flow_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _waiting_flow(supplier, content: bytes, django_capture_on_commit_callbacks):
    from choeur.flows.services import flow_deposit

    with django_capture_on_commit_callbacks(execute=False):
        flow, _ = flow_deposit(structure=supplier, content=content, filename="lot.zip", channel="API")
    return flow


def test_only_one_claim_wins(supplier, make_xml, django_capture_on_commit_callbacks):
    flow = _waiting_flow(supplier, make_xml(), django_capture_on_commit_callbacks)
    first = flow_claim(flow_id=flow.pk, owner="hote:1:a")
    second = flow_claim(flow_id=flow.pk, owner="hote:2:b")
    assert first is not None and second is None
    first.refresh_from_db()
    assert first.state == FlowState.IN_EN_COURS_TRAITEMENT_CPP
    assert first.lease_owner == "hote:1:a" and first.lease_expires_at > timezone.now()
    assert first.attempts == 1 and first.processing_started_at is not None


def test_expired_lease_can_be_claimed_by_another_worker(supplier, make_xml, django_capture_on_commit_callbacks):
    flow = _waiting_flow(supplier, make_xml(), django_capture_on_commit_callbacks)
    flow_claim(flow_id=flow.pk, owner="mort:1:a")
    Flow.objects.filter(pk=flow.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    taken = flow_claim(flow_id=flow.pk, owner="vivant:2:b")
    assert taken is not None and taken.lease_owner == "vivant:2:b" and taken.attempts == 2


def test_a_worker_that_lost_its_lease_writes_nothing(supplier, make_xml, django_capture_on_commit_callbacks):
    flow = _waiting_flow(supplier, zip_of({"a.xml": make_xml(number="L-1")}), django_capture_on_commit_callbacks)
    claimed = flow_claim(flow_id=flow.pk, owner="lent:1:a")
    # Presumed dead, its flow was handed to another worker meanwhile.
    Flow.objects.filter(pk=flow.pk).update(lease_owner="autre:2:b")
    with pytest.raises(LeaseLost):
        flow_run(flow=claimed, owner="lent:1:a")
    assert not Invoice.objects.exists()
    assert not claimed.items.exclude(status=ItemStatus.EN_COURS).exists()


@pytest.mark.parametrize(
    ("batch_seconds", "committed_before_death"),
    [(0, 1), (60, 0)],
    ids=["un-lot-par-facture", "un-seul-lot"],
)
def test_resuming_a_half_processed_flow_creates_each_invoice_once(
    supplier, make_xml, django_capture_on_commit_callbacks, monkeypatch, batch_seconds, committed_before_death
):
    """Worker 1 integrates the first invoice then dies; worker 2 takes over once the lease expired. What
    worker 1 committed depends on its batches: the batch it died in is lost, and redone once."""
    from choeur.flows import worker

    monkeypatch.setattr(worker, "BATCH_SECONDS", batch_seconds)
    content = zip_of({f"{i}.xml": make_xml(number=f"H-{i}") for i in (1, 2, 3)})
    flow = _waiting_flow(supplier, content, django_capture_on_commit_callbacks)
    from choeur.invoices import services as invoice_services

    calls = {"n": 0}

    def dies_on_second(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # stands for SIGKILL: nothing after this line runs
        return invoice_services.invoice_create_from_data(**kwargs)

    claimed = flow_claim(flow_id=flow.pk, owner="tue:1:a")
    with pytest.raises(KeyboardInterrupt):
        flow_run(flow=claimed, owner="tue:1:a", invoice_creator=dies_on_second)
    assert Invoice.objects.count() == committed_before_death
    assert flow_process(flow_id=flow.pk, owner="second:2:b") == ""  # lease still running: not claimable
    Flow.objects.filter(pk=flow.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert flow_process(flow_id=flow.pk, owner="second:2:b") == FlowState.IN_INTEGRE
    assert sorted(Invoice.objects.values_list("number", flat=True)) == ["H-1", "H-2", "H-3"]
    assert flow.items.filter(invoice__isnull=False).count() == 3


def test_reconciler_requeues_expired_leases_and_stale_waiting_flows(settings):
    settings.CHOEUR_FLOW_STALE_SECONDS = 60
    now = timezone.now()
    expired = FlowFactory(
        state=FlowState.IN_EN_COURS_TRAITEMENT_CPP,
        lease_owner="mort",
        lease_expires_at=now - timedelta(seconds=5),
        attempts=1,
    )
    running = FlowFactory(
        state=FlowState.IN_EN_COURS_TRAITEMENT_CPP,
        lease_owner="vivant",
        lease_expires_at=now + timedelta(minutes=4),
        attempts=1,
    )
    stale = FlowFactory(state=FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP, state_changed_at=now - timedelta(minutes=5))
    fresh = FlowFactory(state=FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP, state_changed_at=now)
    FlowFactory(integre=True, state_changed_at=now - timedelta(days=3))
    queued = []
    result = flows_reconcile(now=now, enqueue=queued.append)
    assert sorted(queued) == sorted([expired.pk, stale.pk])
    assert result == {"requeued": 2, "incident": 0}
    assert running.pk not in queued and fresh.pk not in queued
    # A second pass right after does not queue the stale flow again (its clock was re-armed).
    again = []
    flows_reconcile(now=now, enqueue=again.append)
    assert stale.pk not in again


def test_reconciler_gives_up_after_the_allowed_attempts(settings):
    settings.CHOEUR_FLOW_MAX_ATTEMPTS = 3
    flow = FlowFactory(
        state=FlowState.IN_EN_COURS_TRAITEMENT_CPP,
        lease_owner="mort",
        lease_expires_at=timezone.now() - timedelta(seconds=5),
        attempts=3,
    )
    queued = []
    assert flows_reconcile(enqueue=queued.append) == {"requeued": 0, "incident": 1}
    flow.refresh_from_db()
    assert queued == []
    assert flow.state == FlowState.IN_INCIDENTE and flow.lease_owner == ""
    (error,) = flow.technical_errors
    assert error["codeErreur"] == "INCIDENT_TECHNIQUE"
    assert "interrompu 3 fois" in error["libelleErreur"] and flow.numero_flux_depot in error["libelleErreur"]


def test_reconcile_command_and_task(capsys):
    from django.core.management import call_command

    from choeur.flows.tasks import reconcile_flows

    FlowFactory(
        state=FlowState.IN_EN_COURS_TRAITEMENT_CPP, lease_owner="x", lease_expires_at=timezone.now(), attempts=9
    )
    call_command("reconcile_flows")
    assert "passés en incident : 1" in capsys.readouterr().out
    assert reconcile_flows.enqueue().return_value == {"requeued": 0, "incident": 0}


def test_reconciler_is_registered_as_a_periodic_job():
    from choeur.core.management.commands.run_periodic import load_periodic_modules
    from choeur.core.scheduler import registered_jobs

    load_periodic_modules()
    assert "flows.reconcile" in registered_jobs()
