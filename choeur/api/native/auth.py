"""OAuth2 bearer authentication of the native API, with one required scope per resource.

Scopes are those of settings.OAUTH2_PROVIDER["SCOPES"] (`structures:read`, `invoices:read`…); a client asks
for them at /api/oauth/token. The resolved `TokenHolder` is on `request.auth`.
"""

from __future__ import annotations

from django.conf import settings
from ninja.security import HttpBearer

from choeur.api.auth import TokenProblem, TokenRefused, bearer_authenticate
from choeur.api.call_log import api_trace
from choeur.api.native.problems import Problem

_CODES = {
    TokenProblem.MISSING: ("jeton_absent", "invalid_request"),
    TokenProblem.MALFORMED: ("jeton_invalide", "invalid_request"),
    TokenProblem.UNKNOWN: ("jeton_invalide", "invalid_token"),
    TokenProblem.EXPIRED: ("jeton_expire", "invalid_token"),
    TokenProblem.CLIENT_UNUSABLE: ("client_inutilisable", "invalid_token"),
}
_DETAILS = {
    TokenProblem.MISSING: "Aucun jeton : envoyez l'en-tête « Authorization: Bearer <jeton> ».",
    TokenProblem.MALFORMED: "En-tête Authorization mal formé : il doit valoir « Bearer <jeton> ».",
    TokenProblem.UNKNOWN: "Jeton inconnu ou révoqué : demandez un nouveau jeton sur /api/oauth/token.",
    TokenProblem.EXPIRED: "Jeton expiré : demandez un nouveau jeton sur /api/oauth/token.",
    TokenProblem.CLIENT_UNUSABLE: (
        "Le client API de ce jeton est révoqué, expiré ou appartient à une structure inactive."
    ),
}


class NativeAuth(HttpBearer):
    """Bearer token with the `scope` this resource requires (RFC 6750: 401 invalid_token, 403
    insufficient_scope, with a WWW-Authenticate header)."""

    def __init__(self, scope: str, *, alternatives: tuple[str, ...] = ()):
        for name in (scope, *alternatives):
            if name not in settings.OAUTH2_PROVIDER["SCOPES"]:
                raise ValueError(f"Portée inconnue des réglages OAUTH2_PROVIDER : {name}")
        super().__init__()
        self.scope = scope
        # Other scopes that open the resource too (reading flows: `flows:write` or `invoices:read`).
        self.alternatives = frozenset(alternatives)

    def __call__(self, request):
        trace = api_trace(request)
        try:
            holder = bearer_authenticate(request.headers.get("Authorization"))
        except TokenRefused as refused:
            trace.client_id = refused.client_id
            code, oauth_error = _CODES[refused.problem]
            raise Problem(
                code,
                _DETAILS[refused.problem],
                headers={"WWW-Authenticate": f'Bearer realm="choeur", error="{oauth_error}"'},
            ) from None
        trace.client_id = holder.client_id
        trace.api_client_id = holder.api_client.pk
        trace.structure_id = holder.api_client.structure_id
        if self.scope not in holder.scopes and not self.alternatives & holder.scopes:
            raise Problem(
                "portee_insuffisante",
                f"Cette ressource exige la portée « {self.scope} » ; votre jeton a : "
                f"{', '.join(sorted(holder.scopes)) or 'aucune'}. Demandez un jeton avec scope={self.scope}.",
                headers={
                    "WWW-Authenticate": f'Bearer realm="choeur", error="insufficient_scope", scope="{self.scope}"'
                },
            )
        return holder

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the whole work
        raise NotImplementedError
