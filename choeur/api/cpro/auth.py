"""Authentication of the /cpro/ API: PISTE's two credentials.

1. `Authorization: Bearer <token>`: an OAuth2 token (client_credentials, `/api/oauth/token`) of an API
   client, which belongs to one structure;
2. `cpro-account: base64("<login>:<password>")`: a technical account of the same structure, which says for
   whom the call acts (Chorus Pro's « utilisateur technique »).

Both must hold and belong to the same structure. The structure they share is the caller's: every read is
bounded by it (public data excepted) and every write acts for it. The resolved `CproCaller` is put on
`request.cpro` (and on `request.auth`, Ninja's place) for the operations.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from ninja.security import HttpBearer
from oauth2_provider.models import AccessToken

from choeur.api.auth import TokenHolder, TokenProblem, TokenRefused, bearer_authenticate
from choeur.api.call_log import api_trace
from choeur.api.cpro.envelope import (
    ACCOUNT_MALFORMED,
    ACCOUNT_MISSING,
    ACCOUNT_REFUSED,
    CLIENT_UNUSABLE,
    RATE_LIMITED,
    SCOPE_MISSING,
    STRUCTURE_MISMATCH,
    TOKEN_EXPIRED,
    TOKEN_MISSING,
    TOKEN_REFUSED,
    CproError,
)
from choeur.core.audit import audit_log
from choeur.core.models import AuditEntry
from choeur.directory.models import ApiClient, Structure, TechnicalAccount
from choeur.directory.raccordement import TECHNICAL_ACCOUNT_BACKOFF, technical_account_authenticate

ACCOUNT_HEADER = "cpro-account"
# PISTE issues Chorus Pro tokens with the `openid` scope; settings.OAUTH2_PROVIDER["SCOPES"] describes it as
# the access to this API, and a token asked for the native scopes only does not open it.
REQUIRED_SCOPE = "openid"
_WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="choeur-cpro"'}

_TOKEN_ERRORS = {
    TokenProblem.MISSING: (
        TOKEN_MISSING,
        "Jeton d'accès absent : envoyez l'en-tête « Authorization: Bearer <jeton> » avec un jeton obtenu sur "
        "/api/oauth/token (grant_type=client_credentials, scope=openid).",
    ),
    TokenProblem.MALFORMED: (
        TOKEN_REFUSED,
        "En-tête Authorization mal formé : il doit valoir « Bearer <jeton> » (un seul espace, sans guillemets).",
    ),
    TokenProblem.UNKNOWN: (
        TOKEN_REFUSED,
        "Jeton d'accès inconnu ou révoqué : demandez un nouveau jeton sur /api/oauth/token.",
    ),
    TokenProblem.EXPIRED: (
        TOKEN_EXPIRED,
        "Jeton d'accès expiré (il vaut une heure) : demandez un nouveau jeton sur /api/oauth/token.",
    ),
    TokenProblem.CLIENT_UNUSABLE: (
        CLIENT_UNUSABLE,
        "Le client API de ce jeton est révoqué, expiré ou appartient à une structure inactive : un "
        "gestionnaire de la structure doit créer un nouveau client dans « Raccordement API ».",
    ),
}


@dataclass(frozen=True)
class CproCaller:
    """Who calls: the structure acted for, its technical account and API client, the token used.
    `technical_account` is None only on the operations that need the token alone (health-check)."""

    structure: Structure
    api_client: ApiClient
    access_token: AccessToken
    technical_account: TechnicalAccount | None


def decode_account_header(value: str) -> tuple[str, str]:
    """(login, password) from `base64("login:password")`; CproError when the header is malformed."""
    raw = "".join(value.split())
    try:
        # Some clients drop the base64 padding; put it back rather than refuse.
        decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise CproError(
            ACCOUNT_MALFORMED,
            "En-tête « cpro-account » illisible : il doit contenir « identifiant:mot de passe » du compte "
            "technique encodé en base64 (et non l'identifiant en clair).",
        ) from None
    login, separator, password = decoded.partition(":")
    if not separator or not login.strip() or not password:
        raise CproError(
            ACCOUNT_MALFORMED,
            "En-tête « cpro-account » mal formé : une fois décodé, il doit avoir la forme "
            "« identifiant:mot de passe » du compte technique.",
        )
    return login.strip(), password


class CproAuth(HttpBearer):
    """The Ninja auth of /cpro/. Raises `CproError` (rendered as the envelope) instead of returning None, so
    the caller learns which of the two credentials is wrong."""

    def __init__(self, *, require_account: bool = True):
        super().__init__()
        self.require_account = require_account

    def __call__(self, request):
        trace = api_trace(request)
        try:
            holder = bearer_authenticate(request.headers.get("Authorization"))
        except TokenRefused as refused:
            trace.client_id = refused.client_id
            code, message = _TOKEN_ERRORS[refused.problem]
            raise CproError(code, message, headers=_WWW_AUTHENTICATE) from None
        trace.client_id = holder.client_id
        trace.api_client_id = holder.api_client.pk
        trace.structure_id = holder.api_client.structure_id
        if REQUIRED_SCOPE not in holder.scopes:
            raise CproError(
                SCOPE_MISSING,
                "Ce jeton n'a pas la portée « openid » de l'API compatible Chorus Pro : demandez-le avec "
                "scope=openid.",
            )
        account = self._technical_account(request, holder) if self.require_account else None
        caller = CproCaller(
            structure=holder.api_client.structure,
            api_client=holder.api_client,
            access_token=holder.access_token,
            technical_account=account,
        )
        request.cpro = caller
        return caller

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the whole work
        raise NotImplementedError

    def _technical_account(self, request, holder: TokenHolder) -> TechnicalAccount:
        trace = api_trace(request)
        value = request.headers.get(ACCOUNT_HEADER, "")
        if not value.strip():
            raise CproError(
                ACCOUNT_MISSING,
                "En-tête « cpro-account » absent : envoyez base64(« identifiant:mot de passe ») d'un compte "
                "technique de votre structure (espace « Raccordement API »).",
            )
        login, password = decode_account_header(value)
        trace.account_login = login
        wait = TECHNICAL_ACCOUNT_BACKOFF.retry_after(login)
        if wait is not None:
            raise _locked(login, wait)
        account = technical_account_authenticate(login=login, password=password)
        if account is None:
            wait = TECHNICAL_ACCOUNT_BACKOFF.fail(login)
            if wait is not None:
                raise _locked(login, wait)
            raise CproError(
                ACCOUNT_REFUSED,
                "Compte technique refusé : identifiant ou mot de passe incorrect, compte expiré ou révoqué, ou "
                "structure inactive. Vérifiez-le dans l'espace « Raccordement API ».",
            )
        TECHNICAL_ACCOUNT_BACKOFF.reset(login)
        trace.technical_account_id = account.pk
        if account.structure_id != holder.api_client.structure_id:
            # Both secrets are valid but belong to two structures: worth a trace in the audit chain.
            audit_log(
                action="api.cpro.credentials_mismatch",
                actor_kind=AuditEntry.ActorKind.API,
                actor_label=holder.client_id,
                structure_id=holder.api_client.structure_id,
                target=account,
                data={"client_id": holder.client_id, "login": account.login, "path": request.path[:200]},
            )
            raise CproError(
                STRUCTURE_MISMATCH,
                "Le client API (jeton) et le compte technique (cpro-account) appartiennent à deux structures "
                "différentes : utilisez un compte technique de la structure du client API.",
            )
        return account


def _locked(login: str, wait: int) -> CproError:
    """The answer while a technical account is closed after repeated bad passwords (no hashing meanwhile)."""
    return CproError(
        RATE_LIMITED,
        f"Trop de mots de passe erronés pour le compte technique « {login} » : nouvel essai possible dans "
        f"{wait} s (le délai double à chaque nouvel échec). Vérifiez le mot de passe dans l'espace "
        "« Raccordement API » ; un gestionnaire peut le réinitialiser.",
        headers={"Retry-After": str(wait)},
    )
