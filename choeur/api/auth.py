"""Bearer tokens of the API: which live API client (directory.ApiClient) an `Authorization` header stands for.

Shared by the Chorus-compatible API (`choeur.api.cpro.auth`, which adds the `cpro-account` technical
account) and the native API. Tokens come from `POST /api/oauth/token` (django-oauth-toolkit, client
credentials); they are looked up by the SHA-256 checksum the toolkit stores.

The failure is returned as a `TokenProblem` so that each API words it its own way (envelope
`codeRetour`/`libelle` for /cpro/, problem+json for the native API).
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

from django.utils import timezone
from oauth2_provider.models import AccessToken

from choeur.directory.models import ApiClient


class TokenProblem(enum.Enum):
    MISSING = "missing"  # no Authorization header (or an empty one)
    MALFORMED = "malformed"  # not « Bearer <token> »
    UNKNOWN = "unknown"  # no such token (never issued, or deleted by a revocation)
    EXPIRED = "expired"  # issued, but its hour is over
    CLIENT_UNUSABLE = "client_unusable"  # the API client is revoked, expired, foreign or its structure inactive


class TokenRefused(Exception):
    """The token does not open the API. `client_id` is known when the token exists (for the call log)."""

    def __init__(self, problem: TokenProblem, *, client_id: str = ""):
        super().__init__(problem.value)
        self.problem = problem
        self.client_id = client_id


@dataclass(frozen=True)
class TokenHolder:
    """A valid token and the live API client it was issued to."""

    access_token: AccessToken
    api_client: ApiClient
    client_id: str
    scopes: frozenset[str]


def _token_from_header(header: str | None) -> str:
    if header is None or not header.strip():
        raise TokenRefused(TokenProblem.MISSING)
    scheme, separator, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not separator or not token or " " in token or '"' in token:
        raise TokenRefused(TokenProblem.MALFORMED)
    return token


def bearer_authenticate(header: str | None) -> TokenHolder:
    """The holder of the token in an `Authorization: Bearer <token>` header value, or `TokenRefused`."""
    token = _token_from_header(header)
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    # One query for the token, its application, the Chœur client wrapping it and that client's structure:
    # every call of both APIs goes through here.
    access = (
        AccessToken.objects.select_related("application__choeur_client__structure")
        .filter(token_checksum=checksum)
        .first()
    )
    if access is None or access.application is None:
        raise TokenRefused(TokenProblem.UNKNOWN)
    client_id = access.application.client_id
    if access.expires <= timezone.now():
        raise TokenRefused(TokenProblem.EXPIRED, client_id=client_id)
    try:
        api_client = access.application.choeur_client
    except ApiClient.DoesNotExist:  # an application made outside Chœur (admin, shell)
        api_client = None
    if api_client is None or not api_client.is_usable or not api_client.structure.is_active:
        raise TokenRefused(TokenProblem.CLIENT_UNUSABLE, client_id=client_id)
    return TokenHolder(
        access_token=access,
        api_client=api_client,
        client_id=client_id,
        scopes=frozenset(access.scope.split()),
    )
