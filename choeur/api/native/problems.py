"""RFC 9457 problem details (`application/problem+json`) for every error of the native API.

A problem has `type` (a URL that describes it: GET it for the explanation), `title`, `status`, `detail`
(what to fix, in French), `code` (stable, for programs), `instance` (the request path) and, for invalid
input, `errors[]` (one entry per field: `field`, `code`, `message`).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field

from django.http import HttpResponse

from choeur.api.call_log import api_trace

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TYPE_PATH = "/api/v1/problemes/"


@dataclass(frozen=True)
class ProblemType:
    code: str
    status: int
    title: str
    description: str


PROBLEM_TYPES: dict[str, ProblemType] = {
    p.code: p
    for p in (
        ProblemType(
            "jeton_absent",
            401,
            "Jeton d'accès absent",
            "Envoyez l'en-tête « Authorization: Bearer <jeton> » avec un jeton obtenu sur /api/oauth/token "
            "(grant_type=client_credentials).",
        ),
        ProblemType(
            "jeton_invalide",
            401,
            "Jeton d'accès invalide",
            "Le jeton est inconnu, révoqué ou mal formé : demandez-en un nouveau sur /api/oauth/token.",
        ),
        ProblemType(
            "jeton_expire",
            401,
            "Jeton d'accès expiré",
            "Les jetons valent une heure : demandez-en un nouveau sur /api/oauth/token.",
        ),
        ProblemType(
            "client_inutilisable",
            401,
            "Client API révoqué ou expiré",
            "Le client API de ce jeton est révoqué, expiré ou appartient à une structure inactive : un "
            "gestionnaire doit en créer un nouveau dans « Raccordement API ».",
        ),
        ProblemType(
            "portee_insuffisante",
            403,
            "Portée du jeton insuffisante",
            "Le jeton n'a pas la portée (scope) exigée par cette ressource : demandez un jeton avec cette "
            "portée (paramètre scope de /api/oauth/token).",
        ),
        ProblemType("acces_refuse", 403, "Accès refusé", "Votre structure n'a pas le droit de faire cette action."),
        ProblemType(
            "introuvable",
            404,
            "Ressource introuvable",
            "La ressource n'existe pas ou n'est pas accessible à votre structure.",
        ),
        ProblemType(
            "methode_non_autorisee", 405, "Méthode HTTP non autorisée", "Utilisez une méthode de l'en-tête Allow."
        ),
        ProblemType(
            "json_invalide", 400, "Corps JSON illisible", "Le corps de la requête doit être un JSON valide en UTF-8."
        ),
        ProblemType(
            "requete_invalide",
            400,
            "Requête invalide",
            "Des paramètres ou des champs sont invalides : la liste `errors` dit lesquels et pourquoi.",
        ),
        ProblemType(
            "curseur_invalide",
            400,
            "Curseur de pagination invalide",
            "Le paramètre cursor doit être recopié tel quel depuis le champ `next_cursor` d'une réponse.",
        ),
        ProblemType("erreur_metier", 422, "Règle métier non respectée", "L'action contredit une règle métier."),
        ProblemType(
            "corps_trop_volumineux",
            413,
            "Corps de requête trop volumineux",
            "Le corps de la requête dépasse la taille admise pour cette opération : allégez-le (un flux se "
            "dépose par POST /api/v1/flows, jusqu'à la taille maximale d'un flux).",
        ),
        ProblemType(
            "trop_de_requetes",
            429,
            "Trop de requêtes",
            "Votre client API a dépassé son débit autorisé : attendez le nombre de secondes de l'en-tête "
            "Retry-After avant de rappeler, et préférez les webhooks ou /api/v1/events à l'interrogation répétée.",
        ),
        ProblemType("conflit", 409, "Conflit", "Quelqu'un a agi avant vous : relisez la ressource et recommencez."),
        ProblemType(
            "erreur_interne",
            500,
            "Erreur interne",
            "Chœur n'a pas pu répondre. Réessayez plus tard ; si l'erreur persiste, donnez la référence au support.",
        ),
    )
}


@dataclass
class Problem(Exception):
    """An error answer. `code` selects the type; `detail` says what happened and what to do."""

    code: str
    detail: str
    errors: list[dict] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        super().__init__(self.detail)

    @property
    def type(self) -> ProblemType:
        return PROBLEM_TYPES[self.code]


def problem_response(request, problem: Problem) -> HttpResponse:
    problem_type = problem.type
    api_trace(request).outcome = problem.code
    body = {
        "type": request.build_absolute_uri(f"{TYPE_PATH}{problem.code}"),
        "title": problem_type.title,
        "status": problem_type.status,
        "detail": problem.detail,
        "code": problem.code,
        "instance": request.path,
    }
    if problem.errors:
        body["errors"] = problem.errors
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=problem_type.status, content_type=CONTENT_TYPE
    )
    for name, value in problem.headers.items():
        response[name] = value
    return response


def internal_problem(request, exc: BaseException) -> HttpResponse:
    reference = uuid.uuid4().hex[:12]
    logger.error("Erreur interne de l'API native (référence %s)", reference, exc_info=exc)
    return problem_response(
        request,
        Problem("erreur_interne", f"Erreur interne de Chœur (référence {reference}) : réessayez plus tard."),
    )
