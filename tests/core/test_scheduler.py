from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from choeur.core.models import ScheduledRun
from choeur.core.scheduler import PeriodicJob, scheduler_tick, slot_of

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 27, 10, 0, 30, tzinfo=UTC)


def _job(calls, every=timedelta(hours=1), fail=False):
    def func(*, now, since):
        calls.append((now, since))
        if fail:
            raise RuntimeError("panne")

    return {"test.job": PeriodicJob(name="test.job", every=every, func=func)}


def test_slots_are_aligned():
    assert slot_of(T0, timedelta(hours=1)) == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_two_schedulers_never_fire_the_same_slot_twice():
    calls = []
    jobs = _job(calls)
    assert scheduler_tick(now=T0, jobs=jobs) == ["test.job"]
    # A second scheduler ticking in the same slot (or the same one again) does nothing.
    assert scheduler_tick(now=T0 + timedelta(minutes=5), jobs=jobs) == []
    assert len(calls) == 1
    assert ScheduledRun.objects.count() == 1


def test_catches_up_after_downtime_in_one_pass():
    calls = []
    jobs = _job(calls)
    scheduler_tick(now=T0, jobs=jobs)
    later = T0 + timedelta(hours=5)
    scheduler_tick(now=later, jobs=jobs)
    assert len(calls) == 2
    assert calls[1] == (later, slot_of(T0, timedelta(hours=1)))


def test_a_failed_run_is_recorded_and_the_next_slot_catches_up_from_the_last_success():
    calls = []
    scheduler_tick(now=T0, jobs=_job(calls))
    scheduler_tick(now=T0 + timedelta(hours=1), jobs=_job(calls, fail=True))
    assert ScheduledRun.objects.filter(status=ScheduledRun.Status.FAILED).count() == 1
    scheduler_tick(now=T0 + timedelta(hours=2), jobs=_job(calls))
    assert calls[-1][1] == slot_of(T0, timedelta(hours=1))


def test_command_runs_once():
    call_command("run_periodic", "--once")
