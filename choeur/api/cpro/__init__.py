"""The Chorus-Pro-compatible API, mounted under /cpro/: PISTE's paths, JSON field names, envelope and errors,
so that a Chorus Pro client works against Chœur with only its base URLs changed.

Layout:
- `auth.py`: the two credentials (bearer token + `cpro-account`), resolved into `request.cpro`;
- `envelope.py`: `codeRetour`/`libelle`, the code catalogue and its HTTP statuses;
- `errors.py`: every exception (validation included) rendered as the envelope, in French;
- `pagination.py`: Chorus Pro's page objects and `parametresRetour`;
- `routing.py`: `cpro_post`, the way an operation is declared;
- one module per PISTE API: `structures.py`, `transverses.py`, `utilisateurs.py` (and `factures`, later).
"""

from __future__ import annotations

import functools

from ninja import NinjaAPI, Router

from choeur.api.call_log import api_trace, call_logger
from choeur.api.cpro import (  # noqa: F401 - transverses_annexes registers its operations on import
    engagements,
    errors,
    factures,
    sollicitations,
    structures,
    transverses,
    transverses_annexes,
    travaux,
    utilisateurs,
    valideur,
)
from choeur.api.cpro.auth import CproAuth
from choeur.api.cpro.envelope import METHOD_NOT_ALLOWED, UNKNOWN_OPERATION, CproError, error_response
from choeur.api.models import ApiCallLog
from choeur.api.ninja_tools import Utf8JSONRenderer, answer_method_not_allowed
from choeur.api.validation import keep_validation_details

DESCRIPTION = """
Les opérations de l'API Chorus Pro (PISTE), mêmes chemins et mêmes champs JSON : un client Chorus Pro
fonctionne avec Chœur en changeant seulement ses URL de base.

**Authentification** (comme PISTE) : chaque appel porte
- `Authorization: Bearer <jeton>`, jeton obtenu sur `POST /api/oauth/token`
  (`grant_type=client_credentials`, `scope=openid`) avec le client API de votre structure ;
- `cpro-account: base64(« identifiant:mot de passe »)` d'un compte technique de la même structure.

**Réponses** : toujours `codeRetour` (0 = succès, 20000 = aucun résultat, en HTTP 200) et `libelle`.
Une requête refusée répond HTTP 400 (401, 403) avec `codeRetour` et un `libelle` en français qui nomme le
champ à corriger. Le catalogue des codes est dans docs/api-cpro.md.
"""


class CproNinjaAPI(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts):
        return keep_validation_details(error_contexts)

    def _get_urls(self):
        # The catch-all of unknown paths must stay last, whatever router is mounted after it.
        urls = super()._get_urls()
        urls.sort(key=lambda pattern: str(pattern.pattern) == FALLBACK_ROUTE)
        return answer_method_not_allowed(urls, _method_not_allowed)


def _method_not_allowed(request, allowed: list[str]):
    return error_response(
        request,
        CproError(
            METHOD_NOT_ALLOWED,
            f"Méthode HTTP {request.method} refusée sur cette opération : utilisez {' ou '.join(sorted(allowed))} "
            "(les opérations Chorus Pro sont des POST avec un corps JSON, sauf le health-check en GET).",
        ),
    )


cpro_api = CproNinjaAPI(
    title="Chœur — API compatible Chorus Pro",
    version="1",
    urls_namespace="cpro",
    docs_url="/docs",
    description=DESCRIPTION,
    auth=CproAuth(),
    renderer=Utf8JSONRenderer(),
)
errors.install_exception_handlers(cpro_api)


def _record_outcome(view_func):
    """Note the `codeRetour` of a successful answer for the call log (errors note theirs when rendered)."""

    @functools.wraps(view_func)
    def wrapper(request, *args, **kwargs):
        result = view_func(request, *args, **kwargs)
        if isinstance(result, dict):
            api_trace(request).outcome = str(result.get("codeRetour", ""))
        return result

    return wrapper


cpro_api.add_decorator(call_logger(api=ApiCallLog.Api.CPRO, prefix="cpro"), mode="view")
cpro_api.add_decorator(_record_outcome, mode="operation")

cpro_api.add_router("structures/v1/", structures.router)
cpro_api.add_router("transverses/v1/", transverses.router)
cpro_api.add_router("utilisateurs/v1/", utilisateurs.router)
cpro_api.add_router("factures/v1/", factures.router)
cpro_api.add_router("facturesTravaux/v1/", travaux.router)
cpro_api.add_router("engagementsJuridiques/v1/", engagements.router)
# The valideur operations span factures/v1 and transverses/v1: their router holds the full paths.
cpro_api.add_router("", valideur.router)


# Only catches the paths no operation claims (kept last by CproNinjaAPI._get_urls).
_fallback = Router()
FALLBACK_ROUTE = "<path:unknown>"


@_fallback.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "{path:unknown}", auth=None, include_in_schema=False
)
def unknown_operation(request, unknown: str):
    """Any other path: the envelope (not Django's HTML 404), naming the path so a typo is easy to spot."""
    raise CproError(
        UNKNOWN_OPERATION,
        f"Opération inconnue : « /cpro/{unknown[:120]} ». Vérifiez le chemin (par exemple "
        "« structures/v1/rechercher ») ; la liste des opérations est sur /cpro/docs.",
    )


cpro_api.add_router("", _fallback)

__all__ = ["cpro_api"]
