"""OAuth2 rules of the PISTE-style token endpoint (`POST /api/oauth/token`).

django-oauth-toolkit does the protocol work. This validator adds Chœur's rule: an application is usable
only through a live `directory.ApiClient` (not revoked, not expired, structure active). Applications made
outside Chœur (admin, shell) are refused too: every client must belong to a structure.
"""

from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from choeur.directory.raccordement import api_client_for_application, api_client_mark_used, api_client_status

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
