"""Leases on flows: who processes a flow, for how long, and what happens when that worker dies.

A worker **claims** a flow with one conditional UPDATE (waiting, or being processed under an expired lease) and
keeps it alive with a **heartbeat** (a thread renewing the lease every CHOEUR_FLOW_HEARTBEAT_SECONDS while the
flow is processed), so that the lease can be short: a worker killed mid-flow stops beating, its lease expires
within CHOEUR_FLOW_LEASE_SECONDS, and the reconciler hands the flow on — within a minute with the default
settings — however long a live worker's flow takes. Every write transaction of the processing also renews the
lease on the condition that the worker still owns it (`lease_renew`): a worker presumed dead has its writes
rolled back instead of racing the new owner.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from choeur.core.audit import audit_log
from choeur.flows.enums import ErrorNature, FlowState
from choeur.flows.models import Flow

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker took the flow over (our lease expired): stop without writing anything more."""


def technical_error(code: str, message: str, nature: str = ErrorNature.TECHNIQUE) -> dict[str, str]:
    """One entry of `listeErreurTechnique`."""
    return {"codeErreur": code, "libelleErreur": message, "natureErreur": str(nature)}


def worker_identity() -> str:
    """`host:pid:random`, unique per process start: a restarted worker never passes for its dead self."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_deadline():
    return timezone.now() + timedelta(seconds=settings.CHOEUR_FLOW_LEASE_SECONDS)


def flow_claim(*, flow_id: int, owner: str) -> Flow | None:
    """Take the flow for `owner` if it is waiting, or being processed under an expired lease.

    One conditional UPDATE decides between competing workers: exactly one of them sees a row count of 1.
    """
    now = timezone.now()
    claimable = Q(state=FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP) | Q(
        state=FlowState.IN_EN_COURS_TRAITEMENT_CPP, lease_expires_at__lt=now
    )
    claimed = (
        Flow.objects.filter(pk=flow_id)
        .filter(claimable)
        .update(
            state=FlowState.IN_EN_COURS_TRAITEMENT_CPP,
            state_changed_at=now,
            lease_owner=owner,
            lease_expires_at=lease_deadline(),
            attempts=F("attempts") + 1,
        )
    )
    if claimed != 1:
        return None
    flow = Flow.objects.select_related("structure", "file", "deposited_by").get(pk=flow_id)
    if flow.processing_started_at is None:
        Flow.objects.filter(pk=flow_id).update(processing_started_at=now)
        flow.processing_started_at = now
    return flow


def lease_renew(flow_id: int, owner: str) -> None:
    """Extend our lease — only if it is still ours. Called inside each write transaction, it also fences
    the writes of a worker presumed dead: they roll back with LeaseLost."""
    renewed = Flow.objects.filter(pk=flow_id, lease_owner=owner, state=FlowState.IN_EN_COURS_TRAITEMENT_CPP).update(
        lease_expires_at=lease_deadline()
    )
    if renewed != 1:
        raise LeaseLost(f"Le flux {flow_id} a été repris par un autre traitement.")


def flow_mark_incident(
    *, flow_id: int, message: str, only_if_owner: str | None = None, lease_expired_before=None
) -> bool:
    """IN_INCIDENTE: a technical failure we gave up on. The depositor must deposit the file again
    (flow_deposit re-queues an IN_INCIDENTE flow)."""
    now = timezone.now()
    query = Flow.objects.filter(pk=flow_id).exclude(
        state__in=[FlowState.IN_INTEGRE, FlowState.IN_INTEGRE_PARTIEL, FlowState.IN_REJETE]
    )
    if only_if_owner is not None:
        query = query.filter(lease_owner=only_if_owner)
    if lease_expired_before is not None:
        query = query.filter(state=FlowState.IN_EN_COURS_TRAITEMENT_CPP, lease_expires_at__lt=lease_expired_before)
    with transaction.atomic():
        changed = query.update(
            state=FlowState.IN_INCIDENTE,
            state_changed_at=now,
            processed_at=now,
            lease_owner="",
            lease_expires_at=None,
            technical_errors=[technical_error("INCIDENT_TECHNIQUE", message)],
        )
        if changed:
            flow = Flow.objects.get(pk=flow_id)
            audit_log(
                action="flows.flow.incident",
                structure_id=flow.structure_id,
                target=flow,
                data={"numero_flux_depot": flow.numero_flux_depot, "attempts": flow.attempts, "message": message},
            )
    return bool(changed)


def flow_release_after_failure(*, flow: Flow, owner: str, exc: BaseException) -> str:
    """After an unexpected exception: back to the queue for another attempt, or IN_INCIDENTE when the
    attempts are spent. Returns the new state (or "" if the flow was no longer ours)."""
    detail = "".join(traceback.format_exception(exc))[-4000:]
    if flow.attempts >= settings.CHOEUR_FLOW_MAX_ATTEMPTS:
        message = (
            f"Le traitement du flux a échoué {flow.attempts} fois sur une erreur technique de la plateforme. "
            "Déposez de nouveau le fichier ; si l'incident se répète, contactez l'assistance en citant le "
            f"numéro de flux {flow.numero_flux_depot}."
        )
        Flow.objects.filter(pk=flow.pk, lease_owner=owner).update(last_error=detail)
        return (
            FlowState.IN_INCIDENTE if flow_mark_incident(flow_id=flow.pk, message=message, only_if_owner=owner) else ""
        )
    released = Flow.objects.filter(pk=flow.pk, lease_owner=owner, state=FlowState.IN_EN_COURS_TRAITEMENT_CPP).update(
        state=FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP,
        state_changed_at=timezone.now(),
        lease_owner="",
        lease_expires_at=None,
        last_error=detail,
    )
    return FlowState.IN_EN_ATTENTE_TRAITEMENT_CPP if released else ""


@contextlib.contextmanager
def lease_heartbeat(*, flow_id: int, owner: str) -> Iterator[None]:
    """Renew the lease every CHOEUR_FLOW_HEARTBEAT_SECONDS from a thread of its own while the block runs.

    Only outside a transaction (a real worker): inside one — a test's — the thread's own connection would wait
    on the row the transaction holds. A failed renewal is logged and retried at the next beat; a lease found
    lost stops the beat (the processing's next `lease_renew` raises LeaseLost)."""
    # At least three beats per lease, whatever the two settings say.
    every = min(settings.CHOEUR_FLOW_HEARTBEAT_SECONDS, settings.CHOEUR_FLOW_LEASE_SECONDS / 3)
    if every <= 0 or transaction.get_connection().in_atomic_block:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    renewed = Flow.objects.filter(
                        pk=flow_id, lease_owner=owner, state=FlowState.IN_EN_COURS_TRAITEMENT_CPP
                    ).update(lease_expires_at=lease_deadline())
                except DatabaseError as exc:
                    logger.warning("Flux %s : renouvellement du bail impossible (%s), nouvel essai.", flow_id, exc)
                    continue
                if renewed != 1:
                    return
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=beat, name=f"bail-flux-{flow_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=max(5.0, every))
