"""Exception handlers of the /cpro/ API: every failure leaves as the `{codeRetour, libelle}` envelope, never as
Ninja's `{"detail": …}` nor as an HTML page, and a validation error names the field to fix, in French."""

from __future__ import annotations

import json

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from choeur.api.cpro.envelope import (
    ACCESS_DENIED,
    BUSINESS_RULE,
    CONFLICT,
    INVALID_VALUE,
    MALFORMED_JSON,
    MISSING_FIELD,
    NOT_FOUND,
    TOKEN_MISSING,
    UNKNOWN_FIELD,
    CproError,
    error_response,
    internal_error,
)
from choeur.api.validation import MAX_REPORTED_ERRORS, validation_message
from choeur.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError

_CATEGORY_CODES = {"unknown": UNKNOWN_FIELD, "missing": MISSING_FIELD, "invalid": INVALID_VALUE}


def validation_error_to_cpro(exc: ValidationError) -> CproError:
    messages = [validation_message(error) for error in exc.errors[:MAX_REPORTED_ERRORS]]
    more = len(exc.errors) - MAX_REPORTED_ERRORS
    text = " ".join(sentence for _, sentence in messages)
    if more > 0:
        text += f" ({more} autre(s) erreur(s) non détaillée(s).)"
    return CproError(_CATEGORY_CODES[messages[0][0]], text)


# ---------------------------------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------------------------------


def _malformed_body(exc: HttpError) -> CproError:
    cause = exc.__cause__
    if isinstance(cause, json.JSONDecodeError):
        return CproError(
            MALFORMED_JSON,
            f"Le corps de la requête n'est pas un JSON valide (ligne {cause.lineno}, colonne {cause.colno}) : "
            "vérifiez les guillemets, les virgules et les accolades.",
        )
    if isinstance(cause, UnicodeDecodeError):
        return CproError(MALFORMED_JSON, "Le corps de la requête doit être du JSON encodé en UTF-8.")
    return CproError(MALFORMED_JSON, "Le corps de la requête n'a pas pu être lu comme du JSON.")


def install_exception_handlers(api: NinjaAPI) -> None:
    """Replace Ninja's default handlers on `api` by the envelope ones."""

    @api.exception_handler(CproError)
    def on_cpro_error(request, exc: CproError):
        return error_response(request, exc)

    @api.exception_handler(ValidationError)
    def on_validation_error(request, exc: ValidationError):
        return error_response(request, validation_error_to_cpro(exc))

    @api.exception_handler(AuthenticationError)
    def on_authentication_error(request, exc: AuthenticationError):
        return error_response(
            request,
            CproError(TOKEN_MISSING, "Authentification requise : envoyez le jeton et le compte technique."),
        )

    @api.exception_handler(AuthorizationError)
    def on_authorization_error(request, exc: AuthorizationError):
        return error_response(request, CproError(ACCESS_DENIED, "Accès refusé à cette opération."))

    @api.exception_handler(HttpError)
    def on_http_error(request, exc: HttpError):
        if exc.status_code == 400:
            return error_response(request, _malformed_body(exc))
        return error_response(request, CproError(INVALID_VALUE, "Requête refusée."))

    @api.exception_handler(Http404)
    def on_not_found(request, exc: Http404):
        return error_response(request, CproError(NOT_FOUND, "Objet introuvable."))

    @api.exception_handler(ApplicationError)
    def on_application_error(request, exc: ApplicationError):
        # Services speak French already; the envelope only adds the code.
        if isinstance(exc, NotFoundError):
            code = NOT_FOUND
        elif isinstance(exc, PermissionDeniedError):
            code = ACCESS_DENIED
        elif isinstance(exc, ConflictError):
            code = CONFLICT
        else:
            code = BUSINESS_RULE
        return error_response(request, CproError(code, exc.message))

    @api.exception_handler(Exception)
    def on_unexpected(request, exc: Exception):
        return internal_error(request, exc)
