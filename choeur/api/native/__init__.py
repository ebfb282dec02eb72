"""The native REST API of Chœur, mounted under /api/v1/: resources in English snake_case, OAuth2 bearer
tokens with scopes, RFC 9457 problem+json errors, cursor pagination, OpenAPI 3.1 (/api/v1/openapi.json,
/api/v1/docs).

Resources: structures and their services, invoices (with their status changes and actions), engagements
juridiques, flows, the events feed and webhooks; each router requires its scope (`invoices:read`, `flows:write`…).
"""

from __future__ import annotations

import json

from django.http import Http404
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from choeur.api.call_log import call_logger
from choeur.api.models import ApiCallLog
from choeur.api.native import engagements, events, flows, invoices, sollicitations, structures, webhooks
from choeur.api.native.problems import PROBLEM_TYPES, Problem, internal_problem, problem_response
from choeur.api.ninja_tools import Utf8JSONRenderer, answer_method_not_allowed
from choeur.api.validation import MAX_REPORTED_ERRORS, field_path, keep_validation_details, validation_message
from choeur.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError

DESCRIPTION = """
API REST native de Chœur.

**Authentification** : OAuth2 `client_credentials` sur `POST /api/oauth/token` avec le client API de votre
structure, en demandant les portées utiles (`scope=structures:read …`), puis
`Authorization: Bearer <jeton>` sur chaque appel.

**Erreurs** : `application/problem+json` (RFC 9457) avec `type`, `title`, `status`, `detail`, `code` stable
et, pour une requête invalide, `errors[]` champ par champ.

**Pagination** : par curseur ; suivez `next` (ou renvoyez `next_cursor` dans `cursor`) jusqu'à ce qu'il
vaille `null`.
"""

FALLBACK_ROUTE = "<path:unknown>"


class NativeNinjaAPI(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts):
        return keep_validation_details(error_contexts)

    def _get_urls(self):
        urls = super()._get_urls()
        urls.sort(key=lambda pattern: str(pattern.pattern) == FALLBACK_ROUTE)
        return answer_method_not_allowed(urls, _method_not_allowed)


native_api = NativeNinjaAPI(
    title="Chœur — API native",
    version="1",
    urls_namespace="native",
    docs_url="/docs",
    description=DESCRIPTION,
    renderer=Utf8JSONRenderer(),
)


def _method_not_allowed(request, allowed: list[str]):
    return problem_response(
        request,
        Problem(
            "methode_non_autorisee", f"Méthode {request.method} refusée ici : utilisez {', '.join(sorted(allowed))}."
        ),
    )


# ---------------------------------------------------------------------------------------------------
# Errors: problem+json for everything
# ---------------------------------------------------------------------------------------------------


@native_api.exception_handler(Problem)
def on_problem(request, exc: Problem):
    return problem_response(request, exc)


@native_api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = []
    for error in exc.errors[: MAX_REPORTED_ERRORS * 4]:
        _, message = validation_message(error, docs_url="/api/v1/docs")
        errors.append({"field": field_path(error["loc"]) or "(corps)", "code": error["type"], "message": message})
    detail = "Requête invalide : " + " ".join(item["message"] for item in errors[:MAX_REPORTED_ERRORS])
    return problem_response(request, Problem("requete_invalide", detail, errors=errors))


@native_api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if exc.status_code == 400 and isinstance(exc.__cause__, (json.JSONDecodeError, UnicodeDecodeError)):
        return problem_response(request, Problem("json_invalide", "Le corps de la requête n'est pas un JSON valide."))
    if isinstance(exc, AuthenticationError):
        return problem_response(request, Problem("jeton_absent", "Authentification requise."))
    if isinstance(exc, AuthorizationError):
        return problem_response(request, Problem("acces_refuse", "Accès refusé."))
    return problem_response(request, Problem("requete_invalide", "Requête refusée."))


@native_api.exception_handler(Http404)
def on_not_found(request, exc: Http404):
    return problem_response(request, Problem("introuvable", "Ressource introuvable."))


@native_api.exception_handler(ApplicationError)
def on_application_error(request, exc: ApplicationError):
    if isinstance(exc, NotFoundError):
        code = "introuvable"
    elif isinstance(exc, PermissionDeniedError):
        code = "acces_refuse"
    elif isinstance(exc, ConflictError):
        code = "conflit"
    else:
        code = "erreur_metier"
    errors = [{"field": exc.field, "code": exc.code, "message": exc.message}] if exc.field else []
    return problem_response(request, Problem(code, exc.message, errors=errors))


@native_api.exception_handler(Exception)
def on_unexpected(request, exc: Exception):
    return internal_problem(request, exc)


native_api.add_decorator(call_logger(api=ApiCallLog.Api.NATIVE, prefix="api/v1"), mode="view")

# ---------------------------------------------------------------------------------------------------
# Resources
# ---------------------------------------------------------------------------------------------------

native_api.add_router("", structures.router)
native_api.add_router("", invoices.router)
native_api.add_router("", engagements.router)
native_api.add_router("", flows.router)
native_api.add_router("", events.router)
native_api.add_router("", webhooks.router)
native_api.add_router("", sollicitations.router)


class HealthOut(Schema):
    status: str


@native_api.get("health", response=HealthOut, tags=["Santé"], summary="L'API répond", operation_id="health")
def health(request):
    return {"status": "ok"}


class ProblemTypeOut(Schema):
    code: str
    status: int
    title: str
    description: str


@native_api.get(
    "problemes/{code}",
    response=ProblemTypeOut,
    tags=["Erreurs"],
    summary="Décrire un type de problème",
    description="La page vers laquelle pointe le champ `type` de chaque erreur.",
    operation_id="problem_type",
)
def problem_type(request, code: str):
    problem = PROBLEM_TYPES.get(code)
    if problem is None:
        raise Problem("introuvable", f"Type de problème inconnu : « {code[:60]} ».")
    return {"code": problem.code, "status": problem.status, "title": problem.title, "description": problem.description}


_fallback = Router()


@_fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "{path:unknown}", include_in_schema=False)
def unknown_resource(request, unknown: str):
    raise Problem("introuvable", f"Aucune ressource à « /api/v1/{unknown[:120]} » : voir /api/v1/docs.")


native_api.add_router("", _fallback)

__all__ = ["native_api"]
