"""Protection of both APIs (/cpro/ and /api/v1/): a rate limit per client and a request size limit.

`ApiLimitsMiddleware` runs before anything reads the body:
- **size**: a declared `Content-Length` above the limit is refused with 413 without reading the body
  (CHOEUR_API_MAX_BODY_BYTES; deposits of flows and files — whose content travels in base64 on /cpro/ — may
  reach the flow size limit CHOEUR_FLOW_MAX_BYTES plus the base64 overhead);
- **rate**: CHOEUR_API_RATE_LIMIT calls (e.g. "600/min") per API client (the OAuth2 application of the
  bearer token; per IP address for calls without a known token), in fixed windows counted in Django's
  cache; beyond, 429 with `Retry-After`. With several server processes the cache must be shared (Redis,
  database cache): a per-process memory cache counts per process.

Answers keep each API's error shape: the `codeRetour`/`libelle` envelope on /cpro/, problem+json on /api/v1/.
Refusals are traced in ApiCallLog (the first one of each window only, for 429: a flood must not become a
flood of writes).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from oauth2_provider.models import AccessToken

from choeur.api.call_log import api_trace
from choeur.api.cpro.envelope import RATE_LIMITED, TOO_LARGE, CproError, error_response
from choeur.api.models import ApiCallLog
from choeur.api.native.problems import Problem, problem_response

logger = logging.getLogger(__name__)

CPRO_PREFIX = "/cpro/"
NATIVE_PREFIX = "/api/v1/"
DEFAULT_RATE = "600/min"
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
# Paths that carry a whole file: a flow, an invoice PDF or an attachment (in base64 on /cpro/).
UPLOAD_MARKERS = ("/deposer/", "/ajouter/fichier", "/api/v1/flows")
# Cache of token checksum → client, so that a burst of calls does not cost one token query each.
TOKEN_CACHE_SECONDS = 60

# The two codes of the Chorus-compatible API that answer these refusals (see docs/api-cpro.md).
CPRO_RATE_LIMITED = RATE_LIMITED
CPRO_TOO_LARGE = TOO_LARGE

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "heure": 3600,
    "d": 86400,
    "day": 86400,
    "jour": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


@dataclass(frozen=True)
class Rate:
    calls: int
    seconds: int


def parse_rate(value: str) -> Rate | None:
    """ "600/min" → Rate(600, 60); "100/10s" → Rate(100, 10); "" or "0/…" → None (no limit)."""
    if not value or not value.strip():
        return None
    match = _RATE.match(value.lower())
    if match is None or match.group(3) not in _UNITS:
        raise ValueError(f"CHOEUR_API_RATE_LIMIT illisible : « {value} » (exemple : 600/min, 100/10s, 20000/jour).")
    calls = int(match.group(1))
    if calls == 0:
        return None
    return Rate(calls=calls, seconds=int(match.group(2) or 1) * _UNITS[match.group(3)])


def rate_limit() -> Rate | None:
    return parse_rate(getattr(settings, "CHOEUR_API_RATE_LIMIT", DEFAULT_RATE))


def max_body_bytes(path: str) -> int:
    limit = int(getattr(settings, "CHOEUR_API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
    if any(marker in path for marker in UPLOAD_MARKERS):
        flow_max = int(getattr(settings, "CHOEUR_FLOW_MAX_BYTES", 120 * 1024 * 1024))
        # base64 grows a file by 4/3; the JSON around it and multipart boundaries need a little more.
        limit = max(limit, math.ceil(flow_max * 4 / 3) + 64 * 1024)
    return limit


def _client_key(request) -> tuple[str, str]:
    """(rate limit key, client_id for the call log): the OAuth2 application of the token, else the IP."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        cache_key = f"choeur:api:token:{checksum}"
        known = cache.get(cache_key)
        if known is None:
            row = (
                AccessToken.objects.filter(token_checksum=checksum)
                .values_list("application_id", "application__client_id")
                .first()
            )
            known = [row[0], row[1]] if row and row[0] is not None else ["", ""]
            cache.set(cache_key, known, TOKEN_CACHE_SECONDS)
        if known[0]:
            return f"app:{known[0]}", known[1] or ""
    return f"ip:{request.META.get('REMOTE_ADDR', '')}", ""


def rate_check(key: str, rate: Rate, *, now: float | None = None) -> tuple[bool, int, int]:
    """Count one call of `key` in the current window: (allowed, calls counted, seconds until the window ends)."""
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    retry_after = max(1, math.ceil((window + 1) * rate.seconds - now))
    cache_key = f"choeur:api:rate:{key}:{rate.seconds}:{window}"
    cache.add(cache_key, 0, timeout=rate.seconds + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=rate.seconds + 5)
        count = 1
    return count <= rate.calls, count, retry_after


def _log_refusal(request, *, api: str, prefix: str, status: int, outcome: str, client_id: str) -> None:
    path = request.path_info or request.path
    try:
        ApiCallLog.objects.create(
            api=api,
            method=request.method[:10],
            operation=path[len(prefix) :].strip("/")[:200],
            http_status=status,
            outcome=outcome[:60],
            client_id=client_id[:100],
        )
    except DatabaseError:
        logger.exception("Impossible d'écrire la trace d'un appel refusé")


class ApiLimitsMiddleware:
    """Size and rate limits of /cpro/ and /api/v1/ (see the module docstring). Place it high in MIDDLEWARE,
    before any middleware that reads the request body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info or request.path
        if path.startswith(CPRO_PREFIX):
            api, prefix = ApiCallLog.Api.CPRO, CPRO_PREFIX
        elif path.startswith(NATIVE_PREFIX):
            api, prefix = ApiCallLog.Api.NATIVE, NATIVE_PREFIX
        else:
            return self.get_response(request)
        refused = self._too_large(request, api=api, prefix=prefix)
        refused = refused or self._rate_limited(request, api=api, prefix=prefix)
        return refused or self.get_response(request)

    def _too_large(self, request, *, api: str, prefix: str):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = max_body_bytes(request.path_info or request.path)
        if length <= limit:
            return None
        size = f"{length / 1_048_576:.1f} Mo" if length >= 1_048_576 else f"{length} octets"
        maximum = f"{limit / 1_048_576:.1f} Mo" if limit >= 1_048_576 else f"{limit} octets"
        message = f"Le corps de la requête pèse {size}, au-delà de la limite de {maximum} pour cette opération."
        response = self._answer(
            request,
            api=api,
            cpro=CproError(CPRO_TOO_LARGE, message + " Allégez-le, ou déposez les gros fichiers en flux."),
            native=Problem("corps_trop_volumineux", message + " Allégez-le, ou déposez les gros fichiers en flux."),
        )
        _log_refusal(request, api=api, prefix=prefix, status=413, outcome=api_trace(request).outcome, client_id="")
        return response

    def _rate_limited(self, request, *, api: str, prefix: str):
        rate = rate_limit()
        if rate is None:
            return None
        key, client_id = _client_key(request)
        allowed, count, retry_after = rate_check(key, rate)
        if allowed:
            return None
        message = (
            f"Débit dépassé : {rate.calls} appels par {rate.seconds} s pour votre client API. "
            f"Réessayez dans {retry_after} s."
        )
        response = self._answer(
            request,
            api=api,
            cpro=CproError(CPRO_RATE_LIMITED, message, headers={"Retry-After": str(retry_after)}),
            native=Problem("trop_de_requetes", message, headers={"Retry-After": str(retry_after)}),
        )
        if count == rate.calls + 1:
            _log_refusal(
                request, api=api, prefix=prefix, status=429, outcome=api_trace(request).outcome, client_id=client_id
            )
        return response

    @staticmethod
    def _answer(request, *, api: str, cpro: CproError, native: Problem):
        if api == ApiCallLog.Api.CPRO:
            return error_response(request, cpro)
        return problem_response(request, native)
