"""Webhooks: a structure's endpoints receive its events (`ApiEvent`) as signed JSON POSTs.

- Signature: `Choeur-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` — the receiver
  recomputes it with its secret and refuses a timestamp older than a few minutes (replay protection).
  `Choeur-Event-Id` identifies the event: a retry or a replay carries the same id, receivers deduplicate on it.
- Delivery: a task per delivery (`choeur.api.tasks.deliver_webhook`), queued after the commit; a failure
  (network error, timeout, non-2xx answer, redirection) is retried with exponential backoff by the periodic
  sweep (`choeur.api.periodic`), up to CHOEUR_WEBHOOKS_MAX_ATTEMPTS attempts.
- Safety: only http(s) URLs; in production, no private, loopback or link-local address (SSRF), unless
  CHOEUR_WEBHOOKS_ALLOW_PRIVATE (default: DEBUG). Redirections are not followed (they would bypass the check).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from choeur.api.models import ApiEvent, WebhookDelivery, WebhookEndpoint
from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.core.models import AuditEntry
from choeur.directory.models import Structure
from choeur.directory.raccordement import raccordement_can_manage

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Choeur-Signature"
SIGNATURE_TOLERANCE_SECONDS = 5 * 60
MAX_ENDPOINTS_PER_STRUCTURE = 10
URL_MAX_LENGTH = 500
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=6)
# A task queued but never run (worker down, queue lost) is queued again by the sweep after this delay.
REQUEUE_AFTER = timedelta(minutes=10)
SWEEP_BATCH = 500
USER_AGENT = "Choeur-Webhooks/1"
EVENT_TYPES = tuple(ApiEvent.Type.values)


def max_attempts() -> int:
    return int(getattr(settings, "CHOEUR_WEBHOOKS_MAX_ATTEMPTS", 8))


def timeout_seconds() -> float:
    return float(getattr(settings, "CHOEUR_WEBHOOKS_TIMEOUT_SECONDS", 5))


def allow_private() -> bool:
    return bool(getattr(settings, "CHOEUR_WEBHOOKS_ALLOW_PRIVATE", settings.DEBUG))


# ---------------------------------------------------------------------------------------------------
# Signature
# ---------------------------------------------------------------------------------------------------


def secret_new() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature_compute(*, secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature_compute(secret=secret, timestamp=timestamp, body=body)}"


def signature_verify(
    *, secret: str, header: str, body: bytes, now: float | None = None, tolerance: int = SIGNATURE_TOLERANCE_SECONDS
) -> bool:
    """What a receiver does: recompute the HMAC of `<t>.<body>` and check that `t` is recent."""
    parts = dict(item.split("=", 1) for item in (header or "").split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = signature_compute(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, parts.get("v1", ""))


# ---------------------------------------------------------------------------------------------------
# URL checks
# ---------------------------------------------------------------------------------------------------


def _forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or (ip.version == 6 and ip.ipv4_mapped is not None and _forbidden_address(str(ip.ipv4_mapped)))
    )


def _numeric_host(host: str) -> str | None:
    """The address a numeric host stands for, in every spelling a resolver accepts, or None for a name.

    `2130706433`, `0x7f.1`, `017700000001` and `127.1` are all 127.0.0.1 to getaddrinfo (the inet_aton forms):
    they must be judged as the address they reach, not as names."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host) and host[0].isdigit():
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def webhook_url_clean(url: str) -> str:
    """The URL, or a French ApplicationError (field `url`): http(s), a host, no credentials, and in production
    no literal private address (names are checked again when delivering, once resolved)."""
    url = (url or "").strip()
    if not url:
        raise ApplicationError("Indiquez l'URL qui recevra les événements.", field="url")
    if len(url) > URL_MAX_LENGTH:
        raise ApplicationError(f"L'URL dépasse {URL_MAX_LENGTH} caractères : raccourcissez-la.", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ApplicationError(
            "L'URL est mal formée : vérifiez-la (exemple : https://exemple.fr/webhooks).", field="url"
        ) from None
    if parts.scheme not in ("http", "https"):
        raise ApplicationError(
            "L'URL doit commencer par https:// (ou http://) : les webhooks partent en HTTP uniquement.", field="url"
        )
    if not parts.hostname:
        raise ApplicationError(
            "L'URL doit contenir un nom de serveur (exemple : https://exemple.fr/webhooks).", field="url"
        )
    if parts.username or parts.password:
        raise ApplicationError(
            "L'URL ne doit pas contenir d'identifiant ni de mot de passe : la signature authentifie les envois.",
            field="url",
        )
    if port == 0:
        raise ApplicationError("Le port de l'URL est invalide.", field="url")
    if not allow_private():
        host = parts.hostname.rstrip(".").lower()
        address = _numeric_host(host)
        if address is not None:
            literal = _forbidden_address(address)
        else:
            literal = host == "localhost" or host.endswith(".localhost")
        if literal:
            raise ApplicationError(
                "Cette adresse est privée ou locale : les webhooks ne partent que vers des adresses publiques.",
                field="url",
            )
    return url


class DeliveryRefused(Exception):
    """The URL resolves to an address Chœur does not deliver to."""


def _check_resolved(url: str) -> None:
    if allow_private():
        return
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise DeliveryRefused(f"Nom de serveur introuvable ({parts.hostname}) : {exc.strerror}.") from None
    for info in infos:
        if _forbidden_address(info[4][0]):
            raise DeliveryRefused(
                f"{parts.hostname} désigne une adresse privée ou locale ({info[4][0]}) : envoi refusé."
            )


def event_types_clean(event_types) -> list[str]:
    chosen = [str(value) for value in (event_types or [])]
    unknown = [value for value in chosen if value not in EVENT_TYPES]
    if unknown:
        raise ApplicationError(
            f"Type d'événement inconnu : {', '.join(unknown)}. Types possibles : {', '.join(EVENT_TYPES)}.",
            field="event_types",
        )
    if not chosen:
        raise ApplicationError(
            f"Choisissez au moins un type d'événement ({', '.join(EVENT_TYPES)}).", field="event_types"
        )
    return [value for value in EVENT_TYPES if value in chosen]


# ---------------------------------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------------------------------


def _require_manager(*, by, structure: Structure) -> None:
    """A person must manage the structure; `by=None` is an API client of the structure (checked by the API)."""
    if by is not None and not raccordement_can_manage(user=by, structure=structure):
        raise PermissionDeniedError(
            f"Seuls les gestionnaires de la structure « {structure.designation} » peuvent gérer ses webhooks."
        )


def _audit(*, action: str, endpoint: WebhookEndpoint, by, by_label: str, data: dict) -> None:
    audit_log(
        action=f"api.webhook.{action}",
        actor=by,
        actor_kind=AuditEntry.ActorKind.API if by is None and by_label else None,
        actor_label=by_label,
        structure_id=endpoint.structure_id,
        target=endpoint,
        data=data,
    )


def webhooks_of(structure: Structure) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(structure=structure).order_by("-created_at", "-pk")


def webhook_create(
    *, structure: Structure, url: str, event_types, description: str = "", by=None, by_label: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (returned once: show it, it is never displayed again)."""
    _require_manager(by=by, structure=structure)
    url = webhook_url_clean(url)
    types = event_types_clean(event_types)
    if WebhookEndpoint.objects.filter(structure=structure).count() >= MAX_ENDPOINTS_PER_STRUCTURE:
        raise ApplicationError(
            f"Une structure a au plus {MAX_ENDPOINTS_PER_STRUCTURE} webhooks : supprimez-en un avant d'en créer un."
        )
    secret = secret_new()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            structure=structure,
            url=url,
            description=(description or "").strip()[:200],
            secret=secret,
            event_types=types,
            created_by=by if getattr(by, "pk", None) else None,
            created_by_label=(by_label or getattr(by, "email", ""))[:150],
        )
        _audit(action="create", endpoint=endpoint, by=by, by_label=by_label, data={"url": url, "types": types})
    return endpoint, secret


def webhook_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types=None,
    description: str | None = None,
    is_active: bool | None = None,
    by=None,
    by_label: str = "",
) -> WebhookEndpoint:
    _require_manager(by=by, structure=endpoint.structure)
    changes = {}
    if url is not None:
        endpoint.url = changes["url"] = webhook_url_clean(url)
    if event_types is not None:
        endpoint.event_types = changes["types"] = event_types_clean(event_types)
    if description is not None:
        endpoint.description = changes["description"] = description.strip()[:200]
    if is_active is not None:
        endpoint.is_active = changes["actif"] = bool(is_active)
    if changes:
        with transaction.atomic():
            endpoint.save()
            _audit(action="update", endpoint=endpoint, by=by, by_label=by_label, data=changes)
    return endpoint


def webhook_delete(*, endpoint: WebhookEndpoint, by=None, by_label: str = "") -> None:
    """Delete the endpoint and its delivery log (the events stay in the feed)."""
    _require_manager(by=by, structure=endpoint.structure)
    with transaction.atomic():
        _audit(action="delete", endpoint=endpoint, by=by, by_label=by_label, data={"url": endpoint.url})
        endpoint.delete()


def deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event").order_by("-created_at", "-pk")


# ---------------------------------------------------------------------------------------------------
# Deliveries
# ---------------------------------------------------------------------------------------------------


def delivery_enqueue(delivery_id: int) -> None:
    from choeur.api.tasks import deliver_webhook

    deliver_webhook.enqueue(delivery_id)


def _enqueue_on_commit(delivery_ids: list[int]) -> None:
    def enqueue():
        for delivery_id in delivery_ids:
            try:
                delivery_enqueue(delivery_id)
            except Exception:
                # The sweep queues it again after REQUEUE_AFTER.
                logger.exception("Livraison de webhook %s non mise en file", delivery_id)

    transaction.on_commit(enqueue)


def deliveries_create_for(events: list[ApiEvent]) -> list[WebhookDelivery]:
    """One delivery per (event, active endpoint of its structure subscribed to its type), queued on commit."""
    created: list[WebhookDelivery] = []
    now = timezone.now()
    for event in events:
        if WebhookDelivery.objects.filter(event=event, replay_of__isnull=True).exists():
            continue  # Already dispatched (the same event recorded again by a replayed task).
        for endpoint in WebhookEndpoint.objects.filter(structure_id=event.structure_id, is_active=True):
            if endpoint.receives(event.type):
                created.append(
                    WebhookDelivery.objects.create(
                        endpoint=endpoint, event=event, next_attempt_at=now, queued_at=now, created_at=now
                    )
                )
    if created:
        _enqueue_on_commit([delivery.pk for delivery in created])
    return created


def delivery_replay(*, delivery: WebhookDelivery, by=None, by_label: str = "") -> WebhookDelivery:
    """Send the event again to the same endpoint, as a new delivery (same event id, a fresh signature)."""
    endpoint = delivery.endpoint
    _require_manager(by=by, structure=endpoint.structure)
    if not endpoint.is_active:
        raise ApplicationError("Ce webhook est désactivé : réactivez-le avant de rejouer une livraison.")
    now = timezone.now()
    with transaction.atomic():
        replay = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=delivery.event,
            replay_of=delivery,
            next_attempt_at=now,
            queued_at=now,
            created_at=now,
        )
        _audit(
            action="replay",
            endpoint=endpoint,
            by=by,
            by_label=by_label,
            data={"livraison": delivery.pk, "evenement": delivery.event.public_id},
        )
        _enqueue_on_commit([replay.pk])
    return replay


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 30 s, 1 min, 2 min, 4 min… capped at 6 h."""
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_CAP)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # The 3xx answer is returned as an error: a redirection could lead to a private address.


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """POST and return (HTTP status, the first characters of the answer). Network errors raise OSError."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read(300).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        try:
            text = exc.read(300).decode("utf-8", "replace")
        except Exception:
            text = ""
        return exc.code, text


def delivery_body(event: ApiEvent) -> bytes:
    from choeur.api.events import event_payload

    return json.dumps(event_payload(event), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> str:
    """Make one attempt if the delivery is due and nobody else is making it. Returns its status afterwards
    ("" when it was not ours to attempt)."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=timeout_seconds() * 2 + 30)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=lease, attempts=F("attempts") + 1, last_attempt_at=now)
    )
    if claimed != 1:
        return ""
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, next_attempt_at=None, last_error="Webhook désactivé : envoi annulé."
        )
        return WebhookDelivery.Status.FAILED

    body = delivery_body(delivery.event)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(secret=endpoint.secret, timestamp=timestamp, body=body),
        "Choeur-Event-Id": delivery.event.public_id,
        "Choeur-Event-Type": delivery.event.type,
        "Choeur-Delivery-Id": str(delivery.pk),
    }
    started = time.monotonic()
    status_code: int | None = None
    error = ""
    try:
        _check_resolved(endpoint.url)
        status_code, text = http_post(endpoint.url, body, headers, timeout_seconds())
        if not 200 <= status_code < 300:
            error = f"Réponse HTTP {status_code}" + (f" : {text.strip()[:200]}" if text.strip() else "")
    except DeliveryRefused as exc:
        error = str(exc)
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections, TLS errors
        reason = getattr(exc, "reason", None) or exc
        error = f"Échec de connexion : {reason}"
    duration = int((time.monotonic() - started) * 1000)

    fields = {"response_status": status_code, "duration_ms": duration, "last_error": error[:300]}
    if not error:
        fields.update(status=WebhookDelivery.Status.SUCCEEDED, delivered_at=timezone.now(), next_attempt_at=None)
    elif delivery.attempts >= max_attempts():
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    else:
        fields.update(next_attempt_at=now + backoff(delivery.attempts))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return fields.get("status", WebhookDelivery.Status.PENDING)


def deliveries_retry_due(*, now: datetime | None = None) -> int:
    """Queue the deliveries whose next attempt is due (and not already queued since). Returns how many."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(
            Q(queued_at__isnull=True) | Q(queued_at__lt=F("next_attempt_at")) | Q(queued_at__lt=now - REQUEUE_AFTER)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if due:
        WebhookDelivery.objects.filter(pk__in=due).update(queued_at=now)
        for delivery_id in due:
            delivery_enqueue(delivery_id)
    return len(due)
