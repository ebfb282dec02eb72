"""The one way to write to the audit log."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from choeur.core.models import AuditChainHead, AuditEntry

GENESIS_HASH = "0" * 64
_SECRET_MARKERS = ("password", "secret", "token", "mot_de_passe", "fichier", "file_content")


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
    """
    if data is not None and not isinstance(data, dict):
        raise TypeError("Les données d'audit doivent être un dictionnaire.")
    if actor_kind is None:
        actor_kind = AuditEntry.ActorKind.USER if actor is not None else AuditEntry.ActorKind.SYSTEM
    if actor is not None and not actor_label:
        actor_label = getattr(actor, "email", "") or str(actor)
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
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
            prev_hash=head.last_hash,
        )
        entry.hash = entry.compute_hash()
        entry.save()
        AuditChainHead.objects.filter(pk=1).update(last_hash=entry.hash)
    return entry


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
