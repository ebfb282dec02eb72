"""Cross-cutting models: the append-only, hash-chained audit log."""

import hashlib
import json

from django.conf import settings
from django.db import models


class AuditEntryQuerySet(models.QuerySet):
    def for_object(self, obj):
        return self.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk))


class AuditEntry(models.Model):
    """One action by a person, an API client or the system.

    Entries are chained: `hash = SHA-256(prev_hash || canonical JSON of the entry)`, so
    `choeur verify_audit` detects any edited, deleted or reordered row. Rows are never
    updated or deleted by the application (see core.audit.audit_log).
    """

    class ActorKind(models.TextChoices):
        USER = "USER", "Utilisateur"
        API = "API", "Client API"
        SYSTEM = "SYSTEM", "Système"

    created_at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=100, db_index=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=255, blank=True)
    structure_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="core_audit_target")]
        verbose_name = "entrée du journal d'audit"
        verbose_name_plural = "journal d'audit"

    def canonical_payload(self) -> bytes:
        payload = {
            "created_at": self.created_at.isoformat(),
            "action": self.action,
            "actor_kind": self.actor_kind,
            "actor_user_id": self.actor_user_id,
            "actor_label": self.actor_label,
            "structure_id": self.structure_id,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "data": self.data,
        }
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.prev_hash.encode() + self.canonical_payload()).hexdigest()

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Le journal d'audit est en ajout seul : une entrée ne se modifie pas.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Le journal d'audit est en ajout seul : une entrée ne se supprime pas.")


class AuditChainHead(models.Model):
    """A single row locked while appending, so that two writers never chain onto the same predecessor."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64, default="0" * 64)
