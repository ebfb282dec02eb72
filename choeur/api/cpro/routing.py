"""How an operation is declared: `@cpro_post(router, "chemin", Out, …)` puts the standard error answers and
the `cpro-account` header in the OpenAPI description, and keeps the output to what the view returned.

Adding an operation is then: request and response schemas, one function calling a selector or a service,
and a golden request/response pair under tests/api/golden/<service>/.
"""

from __future__ import annotations

from ninja import Router

from choeur.api.cpro.schemas import ErrorOut

ACCOUNT_HEADER_DOC = {
    "in": "header",
    "name": "cpro-account",
    "required": True,
    "description": (
        "Compte technique de la structure : base64(« identifiant:mot de passe »). Exemple : « bG9naW46cGFzc3dvcmQ= »."
    ),
    "schema": {"type": "string"},
}

ERROR_RESPONSES = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 500: ErrorOut}


def cpro_post(router: Router, path: str, response, *, operation_id: str, summary: str, description: str = ""):
    """Register a Chorus-style RPC operation (POST with a JSON body) on `router`."""
    return router.post(
        path,
        response={200: response, **ERROR_RESPONSES},
        operation_id=operation_id,
        summary=summary,
        description=description or summary,
        exclude_unset=True,
        openapi_extra={"parameters": [ACCOUNT_HEADER_DOC]},
    )
