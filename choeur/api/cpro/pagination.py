"""Chorus Pro's page-number pagination.

The request object has the same fields everywhere but a different name per operation (`parametres`,
`parametresRechercherServicesStructure`, `parametresRecherche`…): each operation declares its own field of
type `PaginationIn` and passes that name to `paginate_*` so that error messages name what the client sent.
The answer is always `parametresRetour{pageCourante, pages, nbResultatsParPage, total}`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from django.db.models import QuerySet
from ninja.schema import DjangoGetter
from pydantic import BeforeValidator, Field, field_validator, model_validator

from choeur.api.cpro.envelope import INVALID_VALUE, CproError
from choeur.api.cpro.schemas import CproObject, OptionalInt, OptionalStr

DEFAULT_PAGE_SIZE = 10
# Odoo asks 10 000 services in one page; beyond that a client should page.
MAX_PAGE_SIZE = 10_000
ASCENDANT = "Ascendant"
DESCENDANT = "Descendant"


def _sort_direction(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        # The Go client sends "Ascendant " with a trailing space; any case is accepted.
        folded = value.strip().lower()
        for canonical in (ASCENDANT, DESCENDANT):
            if folded == canonical.lower():
                return canonical
    raise ValueError("doit valoir « Ascendant » ou « Descendant »")


SortDirection = Annotated[str | None, BeforeValidator(_sort_direction)]


# The page objects of the sub-lists of a consultation carry their list's name after each field in the Go
# client (antoine2116/go-choruspro, pagination.go): `nbResultatsParPageLignesPoste`,
# `triSensListeRecapitulatifTVA`… They mean the plain fields; only these suffixes are folded, so that a
# misspelt field is still refused, naming it.
PAGE_FIELDS = ("nbResultatsParPage", "pageResultatDemandee", "triColonne", "triSens")
LIST_SUFFIXES = frozenset(
    {
        "LignesPoste",
        "ListeLignesPoste",
        "ListePieceJointe",
        "ListePiecesJointe",
        "ListePiecesJointes",
        "ListeRecapitulatifTVA",
        "ListeListeRecapitulatifTVA",
        "LignesRecapitulativesTVA",
        "ListeHistoAction",
        "ListeHistoEvenement",
        "ListeHistoStatut",
        "HistoAction",
        "HistoEvenement",
        "HistoStatut",
    }
)


def fold_list_page_fields(data: Any) -> Any:
    """`{"nbResultatsParPageLignesPoste": 5}` → `{"nbResultatsParPage": 5}` (a plain field sent too wins)."""
    if isinstance(data, DjangoGetter):
        # Ninja validates a second time through this wrapper: fold the dict it wraps.
        data = data._obj
    if not isinstance(data, dict):
        return data
    folded = dict(data)
    for key, value in data.items():
        for base in PAGE_FIELDS:
            if key.startswith(base) and key[len(base) :] in LIST_SUFFIXES:
                folded.pop(key)
                if folded.get(base) in (None, ""):
                    folded[base] = value
                break
    return folded


class PaginationIn(CproObject):
    """Page request. `triSense` is the Go client's spelling of `triSens`; `champsDeTri`,
    `ordreTriGenerique`, `taillePageGenerique` and `indexPageGenerique` are sent by the PHP client and, as
    on Chorus Pro, have no effect."""

    pageResultatDemandee: OptionalInt = Field(None, ge=0)
    nbResultatsParPage: OptionalInt = Field(None, ge=0, le=MAX_PAGE_SIZE)
    triColonne: OptionalStr = None
    triSens: SortDirection = None
    triSense: SortDirection = None
    nbResultatsMaximum: OptionalInt = Field(None, ge=0)
    champsDeTri: list[Any] | None = None
    ordreTriGenerique: OptionalStr = None
    taillePageGenerique: OptionalInt = None
    indexPageGenerique: OptionalInt = None

    @model_validator(mode="before")
    @classmethod
    def _list_page_fields(cls, data):
        return fold_list_page_fields(data)

    @field_validator("champsDeTri", mode="before")
    @classmethod
    def _champs_de_tri(cls, value):
        return None if value in ("", None) else value


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return (self.total + self.page_size - 1) // self.page_size if self.total else 0

    def parametres_retour(self) -> dict[str, int]:
        return {
            "pageCourante": self.page,
            "pages": self.pages,
            "nbResultatsParPage": self.page_size,
            "total": self.total,
        }


@dataclass(frozen=True)
class _Request:
    page: int
    page_size: int
    column: str
    descending: bool
    maximum: int | None


def _read(params: PaginationIn | None, *, wire_name: str, columns: Sequence[str], default_column: str) -> _Request:
    params = params or PaginationIn()
    column = default_column
    if params.triColonne:
        by_folded = {name.lower(): name for name in columns}
        column = by_folded.get(params.triColonne.lower())
        if column is None:
            raise CproError(
                INVALID_VALUE,
                f"Le champ « {wire_name}.triColonne » vaut « {params.triColonne[:50]} », colonne de tri inconnue "
                f"pour cette opération : utilisez l'une de ces valeurs : {', '.join(columns)}.",
            )
    direction = params.triSens or params.triSense or ASCENDANT
    return _Request(
        page=params.pageResultatDemandee or 1,
        page_size=params.nbResultatsParPage or DEFAULT_PAGE_SIZE,
        column=column,
        descending=direction == DESCENDANT,
        maximum=params.nbResultatsMaximum or None,
    )


def paginate_queryset(
    queryset: QuerySet,
    params: PaginationIn | None,
    *,
    wire_name: str,
    columns: dict[str, tuple[str, ...]],
    default_column: str,
) -> Page:
    """One page of `queryset`, sorted by the requested column (model fields per column name), the primary
    key always last so that pages never overlap."""
    request = _read(params, wire_name=wire_name, columns=list(columns), default_column=default_column)
    prefix = "-" if request.descending else ""
    ordering = [f"{prefix}{field}" for field in columns[request.column]] + [f"{prefix}pk"]
    total = queryset.count()
    if request.maximum is not None:
        total = min(total, request.maximum)
    start = (request.page - 1) * request.page_size
    end = min(start + request.page_size, total)
    items = list(queryset.order_by(*ordering)[start:end]) if start < end else []
    return Page(items=items, page=request.page, page_size=request.page_size, total=total)


def paginate_list(
    items: Sequence,
    params: PaginationIn | None,
    *,
    wire_name: str,
    columns: dict[str, Callable[[Any], Any]],
    default_column: str,
) -> Page:
    """The same over a list already in memory (a handful of espaces or rattachements)."""
    request = _read(params, wire_name=wire_name, columns=list(columns), default_column=default_column)
    key = columns[request.column]
    ordered = sorted(
        items, key=lambda item: (_none_last(key(item)), getattr(item, "pk", 0)), reverse=request.descending
    )
    total = len(ordered) if request.maximum is None else min(len(ordered), request.maximum)
    start = (request.page - 1) * request.page_size
    end = min(start + request.page_size, total)
    return Page(
        items=ordered[start:end] if start < end else [], page=request.page, page_size=request.page_size, total=total
    )


def _none_last(value: Any) -> tuple[int, Any]:
    return (1, "") if value is None else (0, value)
