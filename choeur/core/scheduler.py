"""Periodic jobs (tacit validations, reminders, reconcilers) without a broker.

Apps register jobs with `@periodic(...)`; `choeur run_periodic` ticks every few seconds. Each tick, for each
job whose current slot has not run yet, inserts a `ScheduledRun(job, slot)` row — the unique constraint
decides which scheduler runs it — then calls the job with `since` (the slot of the last successful run)
so that a job can catch up on everything that fell due during a downtime, in a single idempotent pass.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from choeur.core.models import ScheduledRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    func: Callable[..., object]
    description: str = ""


_REGISTRY: dict[str, PeriodicJob] = {}


def periodic(*, name: str, every: timedelta, description: str = ""):
    """Register `func(*, now, since)` to run once per `every` slot."""

    def decorator(func):
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise ValueError(f"Tâche périodique déjà enregistrée : {name}")
        _REGISTRY[name] = PeriodicJob(name=name, every=every, func=func, description=description)
        return func

    return decorator


def registered_jobs() -> dict[str, PeriodicJob]:
    return dict(_REGISTRY)


def slot_of(moment: datetime, every: timedelta) -> datetime:
    """The start of the slot containing `moment` (slots are aligned on the Unix epoch)."""
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo or timezone.get_current_timezone())
    slots = (moment - epoch) // every
    return epoch + slots * every


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def scheduler_tick(*, now: datetime | None = None, jobs: dict[str, PeriodicJob] | None = None) -> list[str]:
    """Run every job whose current slot is not taken yet. Returns the names of the jobs this call ran."""
    now = now or timezone.now()
    ran = []
    for job in (jobs if jobs is not None else _REGISTRY).values():
        slot = slot_of(now, job.every)
        last_success = (
            ScheduledRun.objects.filter(job=job.name, status=ScheduledRun.Status.SUCCEEDED).order_by("-slot").first()
        )
        if ScheduledRun.objects.filter(job=job.name, slot=slot).exists():
            continue
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job.name, slot=slot, started_at=now, owner=_owner())
        except IntegrityError:
            continue  # Another scheduler took this slot.
        since = last_success.slot if last_success else None
        try:
            job.func(now=now, since=since)
        except Exception:
            logger.exception("Échec de la tâche périodique %s", job.name)
            ScheduledRun.objects.filter(pk=run.pk).update(
                status=ScheduledRun.Status.FAILED, finished_at=timezone.now(), error=traceback.format_exc()[-4000:]
            )
        else:
            ScheduledRun.objects.filter(pk=run.pk).update(
                status=ScheduledRun.Status.SUCCEEDED, finished_at=timezone.now()
            )
            ran.append(job.name)
    return ran
