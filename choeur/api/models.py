"""One row per API call: who called which operation, with what outcome.

The hash-chained audit log (core.AuditEntry) serialises every writer on its chain head; at the call rates a
Chorus-class platform sees (hundreds of read calls per second, mostly status polling) that lock would
become the bottleneck. Calls are therefore traced here, in an append-only table without a chain, and only
the security-relevant events (credentials of two structures mixed, business writes) go to the audit log.

Never stored: secrets (passwords, tokens, client secrets), request or response bodies, documents.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiCallLog(models.Model):
    class Api(models.TextChoices):
        CPRO = "CPRO", "API compatible Chorus Pro"
        NATIVE = "NATIVE", "API native"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    api = models.CharField(max_length=10, choices=Api.choices)
    method = models.CharField(max_length=10)
    operation = models.CharField("opération", max_length=200)
    http_status = models.PositiveSmallIntegerField()
    # `codeRetour` for the Chorus-compatible API, the stable problem `code` for the native API.
    outcome = models.CharField("résultat", max_length=60, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    structure_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    api_client = models.ForeignKey(
        "directory.ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    technical_account = models.ForeignKey(
        "directory.TechnicalAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the caller presented, kept even when it matched nothing (to investigate refused calls).
    client_id = models.CharField(max_length=100, blank=True)
    account_login = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = "appel d'API"
        verbose_name_plural = "appels d'API"
        indexes = [models.Index(fields=["api_client", "-created_at"], name="api_calllog_client_date")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.method} {self.operation} → {self.http_status}"


class ApiUploadedFile(models.Model):
    """A file a /cpro/ caller uploaded before naming it in another call (Chorus Pro's `pieceJointeId`):
    `factures/v1/ajouter/fichier` (an attachment) and `factures/v1/deposer/pdf` (an invoice PDF), later used
    by `soumettre` or `completer`. It belongs to the caller's structure: an id of another structure is
    unknown, and a file is used once."""

    class Purpose(models.TextChoices):
        PIECE_JOINTE = "PIECE_JOINTE", "Pièce jointe"
        FACTURE = "FACTURE", "Document de facture (PDF)"

    structure = models.ForeignKey("directory.Structure", on_delete=models.CASCADE, related_name="+")
    technical_account = models.ForeignKey(
        "directory.TechnicalAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("nom du fichier", max_length=200)
    mime_type = models.CharField(max_length=255)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.PIECE_JOINTE)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "fichier déposé par API"
        verbose_name_plural = "fichiers déposés par API"

    def __str__(self):
        return self.name


class ApiEvent(models.Model):
    """One thing that happened, as one structure sees it: a row of the `/api/v1/events` feed and the source
    of webhook deliveries.

    An event concerning several structures (an invoice seen by its supplier and its recipient) gets one row
    per structure, so that the feed and its cursor are a plain `WHERE structure = … AND id > …`. The
    `source` (the status change or the audit entry it came from) makes recording idempotent: a replayed
    task does not record the same event twice.
    """

    class Type(models.TextChoices):
        INVOICE_STATUS_CHANGED = "invoice.status_changed", "Changement de statut d'une facture"
        FLOW_STATE_CHANGED = "flow.state_changed", "Changement d'état d'un flux"
        SOLLICITATION_CHANGED = "sollicitation.changed", "Nouvelle sollicitation, message ou changement d'état"

    structure = models.ForeignKey("directory.Structure", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=40, choices=Type.choices)
    source = models.CharField("origine", max_length=60)
    occurred_at = models.DateTimeField("date de l'événement")
    created_at = models.DateTimeField(default=timezone.now)
    # The `data` object of the event (ids, numbers, statuses): never a document, never a secret.
    data = models.JSONField(default=dict)

    class Meta:
        verbose_name = "événement d'API"
        verbose_name_plural = "événements d'API"
        constraints = [
            models.UniqueConstraint(fields=["structure", "source"], name="api_event_unique_source"),
        ]
        indexes = [models.Index(fields=["structure", "id"], name="api_event_structure_id")]

    def __str__(self):
        return f"{self.type} #{self.pk}"

    @property
    def public_id(self) -> str:
        return f"evt_{self.pk}"


class WebhookEndpoint(models.Model):
    """A URL of a structure that receives its events, signed with a secret (shown once at creation; kept in
    clear since signing needs it, as every HMAC webhook provider does)."""

    structure = models.ForeignKey("directory.Structure", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField("URL de réception", max_length=500)
    description = models.CharField("description", max_length=200, blank=True)
    secret = models.CharField("secret de signature", max_length=100)
    # The ApiEvent types this endpoint receives (a list of ApiEvent.Type values).
    event_types = models.JSONField("types d'événements", default=list)
    is_active = models.BooleanField("actif", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "webhook"
        verbose_name_plural = "webhooks"
        ordering = ["structure_id", "-created_at", "-id"]

    def __str__(self):
        return self.url

    def receives(self, event_type: str) -> bool:
        return self.is_active and event_type in self.event_types


class WebhookDelivery(models.Model):
    """The delivery of one event to one endpoint, with its attempts (retried with exponential backoff).

    A replay is a new delivery (`replay_of`): the log keeps what happened to the first one."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "En attente"
        SUCCEEDED = "SUCCEEDED", "Livré"
        FAILED = "FAILED", "Abandonné"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(ApiEvent, on_delete=models.CASCADE, related_name="deliveries")
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays")
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    # When the next attempt is due; while an attempt runs, a short lease so that no other worker sends too.
    next_attempt_at = models.DateTimeField("prochaine tentative", null=True, blank=True, db_index=True)
    last_attempt_at = models.DateTimeField("dernière tentative", null=True, blank=True)
    # When a delivery task was last queued: the retry sweep queues a due delivery once, not every minute.
    queued_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField("livré le", null=True, blank=True)
    response_status = models.PositiveSmallIntegerField("code HTTP reçu", null=True, blank=True)
    # The first characters of the receiver's answer, or the network error: what the gestionnaire needs to fix.
    last_error = models.CharField("dernière erreur", max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "livraison de webhook"
        verbose_name_plural = "livraisons de webhook"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="api_delivery_due")]

    def __str__(self):
        return f"{self.event} → {self.endpoint} ({self.status})"
