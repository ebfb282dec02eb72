"""The one way to write to the audit log."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.db import models, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from choeur.core.models import AuditChainHead, AuditEntry

GENESIS_HASH = "0" * 64
_SECRET_MARKERS = ("password", "secret", "token", "mot_de_passe", "fichier", "file_content")
# Entries waiting for the end of an `audit_deferred()` block (None: write at once).
_pending: ContextVar[list[AuditEntry] | None] = ContextVar("choeur_audit_pending", default=None)


def _mask(data: dict[str, Any]) -> dict[str, Any]:
    """Secrets and documents never enter the log (pretix masks the same way)."""
    masked: dict[str, Any] = {}
    for key, value in data.items():
        if any(marker in key.lower() for marker in _SECRET_MARKERS):
            masked[key] = "***"
        elif isinstance(value, dict):
            masked[key] = _mask(value)
        else:
            masked[key] = value
    return masked


def audit_log(
    *,
    action: str,
    actor=None,
    actor_kind: str | None = None,
    actor_label: str = "",
    structure_id: int | None = None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain.

    `actor` is a user (or None for the system). The chain head row is locked for the
    duration of the append: concurrent writers serialise here instead of forking the chain.
    Inside `audit_deferred()` the entry is appended when the block ends (it has no pk until then).
    """
    if data is not None and not isinstance(data, dict):
        raise TypeError("Les données d'audit doivent être un dictionnaire.")
    if actor_kind is None:
        actor_kind = AuditEntry.ActorKind.USER if actor is not None else AuditEntry.ActorKind.SYSTEM
    if actor is not None and not actor_label:
        actor_label = getattr(actor, "email", "") or str(actor)
    entry = AuditEntry(
        created_at=timezone.now(),
        action=action,
        actor_kind=actor_kind,
        actor_user=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label[:255],
        structure_id=structure_id,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=_mask(data or {}),
    )
    pending = _pending.get()
    if pending is not None:
        pending.append(entry)
    else:
        _append([entry])
    return entry


def _append(entries: list[AuditEntry]) -> None:
    connection = transaction.get_connection()
    # Inside a transaction a failure here fails it whole: no savepoint needed (one round trip less each).
    with transaction.atomic(savepoint=not connection.in_atomic_block):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        previous = head.last_hash
        for entry in entries:
            entry.prev_hash = previous
            entry.hash = previous = entry.compute_hash()
        AuditEntry.objects.bulk_create(entries)
        AuditChainHead.objects.filter(pk=1).update(last_hash=previous)
        # bulk_create sends no signal; the API's event feed listens to post_save (choeur/api/events.py).
        for entry in entries:
            post_save.send(
                sender=AuditEntry, instance=entry, created=True, update_fields=None, raw=False, using=connection.alias
            )


@contextlib.contextmanager
def audit_deferred() -> Iterator[None]:
    """Entries logged inside the block are appended together when it ends, the chain head locked only then.

    The head's lock lasts until the surrounding transaction commits: a transaction that logs as it goes
    (an invoice deposited, routed, sent) holds it from its first entry to its commit, and every concurrent
    writer — the other flow workers — waits behind it. Logging at the end keeps that wait to the commit.
    Use it inside the caller's transaction: if the block raises, nothing is written. Nested blocks append
    with the outermost one.
    """
    if _pending.get() is not None:
        yield
        return
    token = _pending.set([])
    try:
        yield
        entries = _pending.get()
    finally:
        _pending.reset(token)
    if entries:
        _append(entries)


def audit_verify() -> list[str]:
    """Walk the chain in id order; return French descriptions of every break found."""
    problems: list[str] = []
    expected_prev = GENESIS_HASH
    last_hash = GENESIS_HASH
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != expected_prev:
            problems.append(
                f"Entrée n°{entry.pk} ({entry.action}) : le maillon précédent ne correspond pas "
                "(entrée supprimée, insérée ou réordonnée)."
            )
        if entry.compute_hash() != entry.hash:
            problems.append(f"Entrée n°{entry.pk} ({entry.action}) : contenu modifié après écriture.")
        expected_prev = entry.hash
        last_hash = entry.hash
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != last_hash:
        problems.append("La tête de chaîne ne correspond pas à la dernière entrée : des entrées finales ont disparu.")
    return problems
