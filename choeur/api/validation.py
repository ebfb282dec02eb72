"""French messages for request validation errors, shared by both APIs.

Ninja drops the received value and the model from its validation errors; `keep_validation_details` keeps
them (each API's NinjaAPI subclass plugs it in), so that the message can quote what was received and list
the accepted fields when an unknown one was sent.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from ninja.errors import ValidationError
from pydantic import BaseModel

MAX_REPORTED_ERRORS = 5
BODY_PARAM = "payload"


# ---------------------------------------------------------------------------------------------------
# Validation errors → French
# ---------------------------------------------------------------------------------------------------


def field_path(loc: tuple) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
    if parts and parts[0] == BODY_PARAM:
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside `X | None`, `list[X]`, `Annotated[X, …]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap_model(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, set):
        for arg in typing.get_args(annotation):
            model = _unwrap_model(arg)
            if model is not None:
                return model
    return None


def _accepted_fields(param_model: type[BaseModel] | None, loc: tuple) -> list[str]:
    """The field names accepted where an unknown field `loc[-1]` was found."""
    model = param_model
    parts = [part for part in loc[1:-1] if not isinstance(part, int)]
    for part in parts:
        if model is None or part not in model.model_fields:
            return []
        model = _unwrap_model(model.model_fields[part].annotation)
    return list(model.model_fields) if model is not None else []


def _shown(value: Any) -> str:
    """A short, safe rendering of a received value for the message."""
    if isinstance(value, (dict, list)):
        return "un objet JSON" if isinstance(value, dict) else "une liste JSON"
    # default=str: a value pydantic has already converted (a Decimal, a date) must still be shown, never crash.
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "…"


def validation_message(error: dict, *, docs_url: str = "/cpro/docs") -> tuple[str, str]:
    """(category, French sentence) for one pydantic error. Categories: unknown, missing, invalid."""
    kind = error["type"]
    path = field_path(error["loc"])
    ctx = error.get("ctx") or {}
    received = error.get("input")
    field = f"Le champ « {path} »"
    if kind == "extra_forbidden":
        accepted = _accepted_fields(error.get("model"), error["loc"])
        hint = f" (champs acceptés ici : {', '.join(accepted)})" if accepted else ""
        return "unknown", f"{field} n'existe pas pour cette opération : retirez-le ou corrigez son nom{hint}."
    if kind == "missing":
        if not path:
            return "missing", (
                "Le corps de la requête est vide : envoyez un objet JSON avec les champs de l'opération "
                f"(voir {docs_url})."
            )
        return "missing", f"{field} est obligatoire : renseignez-le."
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        if not path:
            return "invalid", "Le corps de la requête doit être un objet JSON (entre accolades { })."
        return "invalid", f"{field} doit être un objet JSON (entre accolades {{ }}), pas {_shown(received)}."
    if kind in ("list_type", "tuple_type", "set_type"):
        return "invalid", f"{field} doit être une liste JSON (entre crochets [ ]), pas {_shown(received)}."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "invalid", f"{field} doit être un nombre entier, pas {_shown(received)}."
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type"):
        return "invalid", f"{field} doit être un nombre, pas {_shown(received)}."
    if kind in ("bool_parsing", "bool_type"):
        return "invalid", f"{field} doit valoir true ou false, pas {_shown(received)}."
    if kind == "string_type":
        return "invalid", f"{field} doit être une chaîne de caractères, pas {_shown(received)}."
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        return "invalid", f"{field} vaut {_shown(received)} : utilisez l'une de ces valeurs : {expected}."
    if kind == "string_too_long":
        return "invalid", f"{field} dépasse {ctx.get('max_length')} caractères : raccourcissez-le."
    if kind == "string_too_short":
        return "invalid", f"{field} doit contenir au moins {ctx.get('min_length')} caractère(s)."
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bounds = {
            "greater_than_equal": f"supérieur ou égal à {ctx.get('ge')}",
            "greater_than": f"strictement supérieur à {ctx.get('gt')}",
            "less_than_equal": f"inférieur ou égal à {ctx.get('le')}",
            "less_than": f"strictement inférieur à {ctx.get('lt')}",
        }
        return "invalid", f"{field} doit être {bounds[kind]} (reçu : {_shown(received)})."
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return "invalid", f"{field} doit être une date au format AAAA-MM-JJ, pas {_shown(received)}."
    if kind in ("datetime_parsing", "datetime_from_date_parsing", "datetime_type"):
        return "invalid", f"{field} doit être une date et heure ISO 8601, pas {_shown(received)}."
    if kind == "value_error":
        return "invalid", f"{field} {ctx.get('error', 'est invalide')}."
    return "invalid", f"{field} a une valeur invalide ({_shown(received)})."


def keep_validation_details(error_contexts) -> ValidationError:
    """Ninja drops the received value and the model from its errors; the French messages need both."""
    errors: list[dict] = []
    for context in error_contexts:
        model = context.model
        for error in context.pydantic_validation_error.errors(include_url=False):
            loc = (model.__ninja_param_source__,) + model.__ninja_flatten_map_reverse__.get(error["loc"], error["loc"])
            errors.append(
                {
                    "type": error["type"],
                    "loc": loc,
                    "msg": error["msg"],
                    "input": error.get("input"),
                    "ctx": {key: str(value) for key, value in (error.get("ctx") or {}).items()},
                    "model": model,
                }
            )
    return ValidationError(errors)
