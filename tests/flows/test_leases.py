"""The heartbeat: a live worker keeps its flow however long it takes; a dead one loses it within a minute."""

from __future__ import annotations

import time

import pytest

from choeur.core.management.commands.run_periodic import Command as RunPeriodic
from choeur.core.scheduler import registered_jobs
from choeur.flows.enums import FlowState
from choeur.flows.leases import flow_claim
from choeur.flows.models import Flow
from choeur.flows.services import flow_deposit, flow_process
from choeur.flows.validation import validate_bytes
from tests.flows.flow_fixtures import *  # noqa: F403


def test_default_settings_hand_a_dead_workers_flow_on_within_a_minute(settings):
    # Worst case: the lease runs out just after the last beat, then waits for the reconciler's next slot,
    # which the scheduler notices at its next tick.
    import choeur.flows.periodic  # noqa: F401  (registers flows.reconcile, as run_periodic does)

    reconcile = registered_jobs()["flows.reconcile"].every.total_seconds()
    tick = RunPeriodic().create_parser("choeur", "run_periodic").get_default("interval")
    assert settings.CHOEUR_FLOW_LEASE_SECONDS + reconcile + tick < 60
    assert settings.CHOEUR_FLOW_HEARTBEAT_SECONDS * 3 <= settings.CHOEUR_FLOW_LEASE_SECONDS


def _slow_validator(*, seconds: float, probe: list):
    def validator(content, **kwargs):
        time.sleep(seconds)
        # Longer than the lease: without a heartbeat, another worker could take the flow now.
        probe.append(flow_claim(flow_id=Flow.objects.get().pk, owner="autre:2:b"))
        return validate_bytes(content, **kwargs)

    return validator


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("heartbeat", "kept"), [(0.2, True), (0, False)], ids=["battement", "sans-battement"])
def test_the_heartbeat_keeps_a_slow_flow(settings, supplier, make_xml, heartbeat, kept):
    settings.CHOEUR_FLOW_LEASE_SECONDS = 1
    settings.CHOEUR_FLOW_HEARTBEAT_SECONDS = heartbeat
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    flow, _ = flow_deposit(structure=supplier, content=make_xml(number="LENT-1"), filename="f.xml", channel="API")
    probe: list = []
    state = flow_process(flow_id=flow.pk, owner="lent:1:a", validator=_slow_validator(seconds=2.0, probe=probe))
    if kept:
        assert probe == [None]  # the lease was still ours
        assert state == FlowState.IN_INTEGRE
    else:
        assert probe[0] is not None  # taken over: the slow worker's writes are then refused
        assert state == ""
