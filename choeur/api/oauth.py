"""OAuth2 rules of the PISTE-style token endpoint (`POST /api/oauth/token`).

django-oauth-toolkit does the protocol work. This validator adds Chœur's rule: an application is usable
only through a live `directory.ApiClient` (not revoked, not expired, structure active). Applications made
outside Chœur (admin, shell) are refused too: every client must belong to a structure.
"""

import base64
import binascii
import json

from django.http import HttpResponse
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views import TokenView
from oauthlib.oauth2.rfc6749 import errors

from choeur.core.throttle import Backoff
from choeur.directory.raccordement import api_client_for_application, api_client_mark_used, api_client_status

# A client secret at the token endpoint, per client_id: five free mistakes, then 1 s, 2 s… up to 15 minutes.
TOKEN_CLIENT_BACKOFF = Backoff(scope="token-client", free_failures=5, max_wait_seconds=900)
# Per IP address: more lenient, since several clients may share an address (NAT, an integrator's server).
TOKEN_IP_BACKOFF = Backoff(scope="token-ip", free_failures=20, max_wait_seconds=900)

INVALID_CLIENT_DESCRIPTION = (
    "Authentification du client refusée : vérifiez client_id et client_secret "
    "(corps du formulaire ou en-tête Authorization: Basic)."
)


class ChoeurOAuth2Validator(OAuth2Validator):
    def authenticate_client(self, request, *args, **kwargs):
        if not super().authenticate_client(request, *args, **kwargs):
            # Raised rather than returned so the description is French; the status is 401 as in RFC 6749.
            raise errors.InvalidClientError(description=INVALID_CLIENT_DESCRIPTION, request=request)
        client = api_client_for_application(request.client)
        if client is None:
            raise errors.InvalidClientError(
                description="Ce client OAuth2 n'est rattaché à aucune structure : il ne peut pas obtenir de jeton.",
                request=request,
            )
        status = api_client_status(client)
        if status != "Actif" or not client.structure.is_active:
            reason = "révoqué" if client.revoked_at else "expiré" if status == "Expiré" else "d'une structure inactive"
            raise errors.InvalidClientError(
                description=(
                    f"Le client API « {client.label} » est {reason} : un gestionnaire de la structure doit "
                    "en créer un nouveau dans « Raccordement API »."
                ),
                request=request,
            )
        request.choeur_api_client = client
        return True

    def save_bearer_token(self, token, request, *args, **kwargs):
        super().save_bearer_token(token, request, *args, **kwargs)
        client = getattr(request, "choeur_api_client", None)
        if client is not None:
            api_client_mark_used(client)


def _client_id_of(request) -> str:
    """The client_id a token request names: form field, or the user part of `Authorization: Basic`."""
    client_id = request.POST.get("client_id", "")
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    if not client_id and scheme.lower() == "basic":
        try:
            client_id = base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            client_id = ""
    return client_id.strip()


def _too_many(wait: int, description: str) -> HttpResponse:
    body = {"error": "temporarily_unavailable", "error_description": description}
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=429, content_type="application/json")
    response["Retry-After"] = str(wait)
    response["Cache-Control"] = "no-store"
    return response


class ThrottledTokenView(TokenView):
    """The token endpoint with back-off on bad client secrets, per client_id and per IP address: once
    closed, a key is answered 429 with `Retry-After` without hashing the secret sent."""

    def post(self, request, *args, **kwargs):
        client_id = _client_id_of(request)
        address = request.META.get("REMOTE_ADDR", "")
        waits = [
            wait
            for wait in (
                TOKEN_CLIENT_BACKOFF.retry_after(client_id) if client_id else None,
                TOKEN_IP_BACKOFF.retry_after(address),
            )
            if wait
        ]
        if waits:
            return _too_many(max(waits), _locked_description(max(waits)))
        response = super().post(request, *args, **kwargs)
        if response.status_code == 401 or (response.status_code == 400 and b"invalid_client" in response.content):
            waits = [
                wait
                for wait in (
                    TOKEN_CLIENT_BACKOFF.fail(client_id) if client_id else None,
                    TOKEN_IP_BACKOFF.fail(address),
                )
                if wait
            ]
            if waits:
                return _too_many(max(waits), _locked_description(max(waits)))
        elif response.status_code == 200 and client_id:
            TOKEN_CLIENT_BACKOFF.reset(client_id)
        return response


def _locked_description(wait: int) -> str:
    return (
        f"Trop d'échecs d'authentification du client : nouvel essai possible dans {wait} s (le délai double à "
        "chaque nouvel échec). Vérifiez client_id et client_secret dans l'espace « Raccordement API »."
    )
