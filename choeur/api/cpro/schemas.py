"""Building blocks of the /cpro/ request and response schemas.

Field names are Chorus Pro's, on the wire and in these schemas alike (they *are* the wire format); the
operation modules map them onto English model fields.

Requests are strict about names (an unknown field is refused, naming it) and lenient about the forms real
clients send: the Go client sends `""` for every criterion left empty and the PHP client sends
pagination fields Chorus Pro ignores. Those tolerances are listed in docs/api-cpro.md.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Schema
from pydantic import BeforeValidator, ConfigDict

from choeur.directory.enums import IdentifierType


def empty_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def upper_or_none(value: Any) -> Any:
    value = empty_to_none(value)
    return value.strip().upper() if isinstance(value, str) else value


# C0 control characters other than tab, line feed and carriage return: PostgreSQL refuses NUL in text, XML
# refuses them all, and a filter made of them would otherwise be matched against nothing without a word.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_or_none(value: Any) -> Any:
    if isinstance(value, str) and (control := _CONTROL_CHARACTERS.search(value)):
        raise ValueError(f"contient un caractère de contrôle (U+{ord(control.group()):04X}) : retirez-le")
    value = empty_to_none(value)
    return value.strip() if isinstance(value, str) else value


# A criterion: absent, null or "" all mean "no filter".
OptionalStr = Annotated[str | None, BeforeValidator(strip_or_none)]
OptionalBool = Annotated[bool | None, BeforeValidator(empty_to_none)]
OptionalInt = Annotated[int | None, BeforeValidator(empty_to_none)]
CodeLangue = Annotated[Literal["FR", "EN"] | None, BeforeValidator(upper_or_none)]
TypeIdentifiant = Annotated[Literal[tuple(IdentifierType.values)] | None, BeforeValidator(upper_or_none)]


class CproObject(Schema):
    """Base of every object of a request: an unknown field is refused, naming it."""

    model_config = ConfigDict(extra="forbid")


class CproIn(CproObject):
    """Base of every request body. `idUtilisateurCourant` is accepted everywhere because most clients send
    it (0 or an id); the technical account identifies the caller anyway."""

    idUtilisateurCourant: OptionalInt = None


class LangueIn(CproIn):
    codeLangue: CodeLangue = None


class EmptyIn(CproIn):
    """The body of the `recuperer/*` operations that take no criterion (`{}`, or no body at all)."""


class CproOut(Schema):
    codeRetour: int
    libelle: str


class ErrorOut(Schema):
    """Every refusal: `codeRetour` (see docs/api-cpro.md) and a French `libelle` saying what to fix."""

    codeRetour: int
    libelle: str


class ParametresRetour(Schema):
    pageCourante: int
    pages: int
    nbResultatsParPage: int
    total: int


class AdressePostale(Schema):
    adresse: str
    complementAdresse1: str
    complementAdresse2: str
    codePostal: str
    ville: str
    pays: str
    telephone: str
    indicatifTelephone: str
    fax: str
    indicatifFax: str


def chorus_datetime(value: datetime | None) -> str | None:
    """ISO 8601 with milliseconds and offset, Paris time, as Chorus Pro writes date-times
    (`2018-02-16T15:10:25.536+01:00`)."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="milliseconds")


def chorus_minute(value: date | datetime | None) -> str | None:
    """`AAAA-MM-JJ HH:MM`, the form of the service dates (`dateDbtService`…) that clients parse."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.strftime("%Y-%m-%d 00:00")
