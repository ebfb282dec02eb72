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


class AuditCheckpoint(models.Model):
    """A signed statement of the chain's head (core.audit_signing): entry id, its hash, the entries up to it.

    `payload` is the exact canonical JSON that was signed (Ed25519, key outside the database), `signature` its
    base64 signature; the other columns repeat it for queries. A copy of each checkpoint is appended to a file
    outside the database, which is the reference when present."""

    sequence = models.PositiveIntegerField(unique=True)
    entry_id = models.BigIntegerField()
    entry_hash = models.CharField(max_length=64)
    entries = models.PositiveBigIntegerField()
    signed_at = models.DateTimeField(db_index=True)
    key_id = models.CharField(max_length=16)
    payload = models.TextField()
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["sequence"]
        verbose_name = "point de contrôle signé du journal d'audit"
        verbose_name_plural = "points de contrôle signés du journal d'audit"

    def __str__(self):
        return f"Point de contrôle n°{self.sequence} (entrée n°{self.entry_id})"

    def as_record(self) -> dict:
        return {"payload": json.loads(self.payload), "signature": self.signature}


class StoredFile(models.Model):
    """A document stored once, under its SHA-256 (content addressing through Django STORAGES).

    The same bytes deposited twice are stored once; the row records what was sniffed, not what
    the uploader claimed.
    """

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    mime_type = models.CharField(max_length=255)
    storage_name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "fichier stocké"

    def __str__(self):
        return f"{self.sha256[:12]}… ({self.size} octets)"

    def read(self) -> bytes:
        from django.core.files.storage import storages

        with storages["default"].open(self.storage_name, "rb") as handle:
            return handle.read()


class ScheduledRun(models.Model):
    """One run of a periodic job for one time slot.

    The unique (job, slot) pair is what keeps two schedulers running at once from firing a job twice:
    the second insert fails and that scheduler moves on.
    """

    class Status(models.TextChoices):
        RUNNING = "RUNNING", "En cours"
        SUCCEEDED = "SUCCEEDED", "Réussi"
        FAILED = "FAILED", "Échoué"

    job = models.CharField(max_length=100)
    slot = models.DateTimeField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    owner = models.CharField(max_length=120, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = "exécution planifiée"
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="core_scheduledrun_unique_slot")]
        indexes = [models.Index(fields=["job", "-slot"], name="core_scheduledrun_job_slot")]
