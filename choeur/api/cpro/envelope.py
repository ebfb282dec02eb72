"""Chorus Pro's response envelope, `{"codeRetour": <int>, "libelle": "<code message> <texte>"}`, and every error
of the /cpro/ API in that shape.

HTTP codes (documented in docs/api-cpro.md):
- 200 for a success (`codeRetour` 0) and for an empty search (`codeRetour` 20000): Pastell reads 20000 in a
  200 answer and stops paging, Odoo and the Go client read the list of a 200;
- 400 with the envelope for every refused request (malformed JSON, unknown/missing field, wrong type,
  unknown object, business rule): the Go client decodes the envelope of a 400, Odoo shows its `libelle`;
- 401 when the token or the technical account is refused, 403 when they do not belong together or the
  token lacks the scope, 404 for an unknown operation, 405 for a wrong method, 500 for an internal error
  (the envelope then carries a reference, never a trace).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

from django.http import HttpResponse

from choeur.api.call_log import api_trace
from choeur.api.ninja_tools import JSON_CONTENT_TYPE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CproCode:
    """One entry of the catalogue: a stable `codeRetour`, its message code and its HTTP status."""

    code_retour: int
    message_code: str
    http_status: int


# Chorus Pro's own codes.
SUCCESS = CproCode(0, "TRA_MSG_00.000", 200)
NO_RESULT = CproCode(20000, "TRA_MSG_00.015", 200)
NO_RESULT_MESSAGE = "La recherche n'a retourné aucun résultat"
# 20003: a file above 10 Mo (chorus-pro.md §8.2). Chorus Pro's message code for it is not public: ours.
FILE_TOO_LARGE = CproCode(20003, "CHO_MSG_00.003", 400)

# Chœur's codes: authentication (1000x), access (1010x), request format (1020x), routing (1040x).
TOKEN_MISSING = CproCode(10001, "CHO_AUT_00.001", 401)
TOKEN_REFUSED = CproCode(10002, "CHO_AUT_00.002", 401)
TOKEN_EXPIRED = CproCode(10003, "CHO_AUT_00.003", 401)
CLIENT_UNUSABLE = CproCode(10004, "CHO_AUT_00.004", 401)
ACCOUNT_MISSING = CproCode(10005, "CHO_AUT_00.005", 401)
ACCOUNT_MALFORMED = CproCode(10006, "CHO_AUT_00.006", 401)
ACCOUNT_REFUSED = CproCode(10007, "CHO_AUT_00.007", 401)
STRUCTURE_MISMATCH = CproCode(10101, "CHO_ACC_00.001", 403)
SCOPE_MISSING = CproCode(10102, "CHO_ACC_00.002", 403)
ACCESS_DENIED = CproCode(10103, "CHO_ACC_00.003", 403)
MALFORMED_JSON = CproCode(10201, "CHO_REQ_00.001", 400)
UNKNOWN_FIELD = CproCode(10202, "CHO_REQ_00.002", 400)
MISSING_FIELD = CproCode(10203, "CHO_REQ_00.003", 400)
INVALID_VALUE = CproCode(10204, "CHO_REQ_00.004", 400)
UNKNOWN_OPERATION = CproCode(10404, "CHO_REQ_00.404", 404)
METHOD_NOT_ALLOWED = CproCode(10405, "CHO_REQ_00.405", 405)
# Answered by choeur.api.limits (rate, size) and by the back-off on bad technical passwords.
RATE_LIMITED = CproCode(10429, "CHO_REQ_00.429", 429)
TOO_LARGE = CproCode(10413, "CHO_REQ_00.413", 413)
# Business answers (2100x), kept clear of Chorus Pro's 200xx codes whose meaning is not public.
NOT_FOUND = CproCode(21001, "CHO_MSG_01.001", 400)
BUSINESS_RULE = CproCode(21002, "CHO_MSG_01.002", 400)
# 409: the object moved since the caller read it (expected status, concurrent action): read it again.
CONFLICT = CproCode(21003, "CHO_MSG_01.003", 409)
INTERNAL_ERROR = CproCode(50000, "CHO_SYS_00.001", 500)

CATALOGUE: tuple[CproCode, ...] = (
    SUCCESS,
    NO_RESULT,
    FILE_TOO_LARGE,
    TOKEN_MISSING,
    TOKEN_REFUSED,
    TOKEN_EXPIRED,
    CLIENT_UNUSABLE,
    ACCOUNT_MISSING,
    ACCOUNT_MALFORMED,
    ACCOUNT_REFUSED,
    STRUCTURE_MISMATCH,
    SCOPE_MISSING,
    ACCESS_DENIED,
    MALFORMED_JSON,
    UNKNOWN_FIELD,
    MISSING_FIELD,
    INVALID_VALUE,
    UNKNOWN_OPERATION,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    BUSINESS_RULE,
    CONFLICT,
    INTERNAL_ERROR,
)


class CproError(Exception):
    """An answer other than success, rendered as the envelope by the /cpro/ exception handler."""

    def __init__(self, code: CproCode, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}

    @property
    def libelle(self) -> str:
        return f"{self.code.message_code} {self.message}"


def not_found(what: str) -> CproError:
    """The one answer for an unknown object and for another structure's object: the same words, the same
    code, so that an id never tells whether it exists elsewhere."""
    return CproError(NOT_FOUND, f"{what} introuvable parmi les données accessibles à votre compte technique.")


def ok(**payload) -> dict:
    """A success: `codeRetour` 0, then the operation's fields in the order given."""
    return {"codeRetour": SUCCESS.code_retour, "libelle": SUCCESS.message_code, **payload}


def no_result(**payload) -> dict:
    """An empty search, answered HTTP 200 as Chorus Pro does (clients page until they read 20000)."""
    return {
        "codeRetour": NO_RESULT.code_retour,
        "libelle": f"{NO_RESULT.message_code} {NO_RESULT_MESSAGE}",
        **payload,
    }


def list_result(list_key: str, items: list, **payload) -> dict:
    """`ok` with the list, or `no_result` with an empty list when there is nothing."""
    if items:
        return ok(**{list_key: items}, **payload)
    return no_result(**{list_key: []}, **payload)


def error_response(request, error: CproError) -> HttpResponse:
    """The envelope of `error`, with its HTTP status; records the outcome for the call log."""
    api_trace(request).outcome = str(error.code.code_retour)
    body = json.dumps({"codeRetour": error.code.code_retour, "libelle": error.libelle}, ensure_ascii=False)
    response = HttpResponse(body, status=error.code.http_status, content_type=JSON_CONTENT_TYPE)
    for name, value in error.headers.items():
        response[name] = value
    return response


def internal_error(request, exc: BaseException) -> HttpResponse:
    """A 500 in the envelope: a reference to find the trace in the server logs, nothing else."""
    reference = uuid.uuid4().hex[:12]
    logger.error("Erreur interne de l'API compatible Chorus Pro (référence %s)", reference, exc_info=exc)
    return error_response(
        request,
        CproError(
            INTERNAL_ERROR,
            f"Erreur interne de Chœur (référence {reference}) : réessayez plus tard ; si l'erreur persiste, "
            "transmettez cette référence au support.",
        ),
    )
