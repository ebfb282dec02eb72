"""One row per API call: who called which operation, with what outcome.

The hash-chained audit log (core.AuditEntry) serialises every writer on its chain head; at the call rates a
Chorus-class platform sees (hundreds of read calls per second, mostly status polling) that lock would
become the bottleneck. Calls are therefore traced here, in an append-only table without a chain, and only
the security-relevant events (credentials of two structures mixed, business writes) go to the audit log.

Never stored: secrets (passwords, tokens, client secrets), request or response bodies, documents.
"""

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
