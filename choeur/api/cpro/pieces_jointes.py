"""`transverses/v1/telecharger/pieceJointe`: one handler per `objetPieceJointe`.

Each object (DEMANDE_PAIEMENT, ENGAGEMENT_JURIDIQUE, SOLLICITATION…) registers its handler from its own
module with `@piece_jointe_handler("OBJET")`; the operation (transverses_annexes.py) validates the object and
calls the handler with the request and the payload. A handler answers `ok(pieceJointe=<base64>,
nomFichierResultat=…, typeMimeFichierResultat=…)` or raises a CproError. An object without a handler answers
that it is not downloadable through the API.
"""

from __future__ import annotations

from collections.abc import Callable

PieceJointeHandler = Callable[..., dict]

_HANDLERS: dict[str, PieceJointeHandler] = {}


def piece_jointe_handler(objet: str) -> Callable[[PieceJointeHandler], PieceJointeHandler]:
    def register(handler: PieceJointeHandler) -> PieceJointeHandler:
        if objet in _HANDLERS and _HANDLERS[objet] is not handler:
            raise ValueError(f"telecharger/pieceJointe : l'objet {objet} a déjà un gestionnaire.")
        _HANDLERS[objet] = handler
        return handler

    return register


def handler_for(objet: str) -> PieceJointeHandler | None:
    return _HANDLERS.get(objet)


def served_objects() -> list[str]:
    return sorted(_HANDLERS)
