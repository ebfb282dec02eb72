"""Domain errors. Services raise them; presentation layers turn them into French messages or API envelopes."""


class ApplicationError(Exception):
    """A business rule refused the action. `message` is French and says what to fix."""

    code = "erreur_metier"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.extra = extra or {}


class PermissionDeniedError(ApplicationError):
    code = "acces_refuse"


class NotFoundError(ApplicationError):
    code = "introuvable"


class ConflictError(ApplicationError):
    """Someone else acted first (stale form, concurrent transition)."""

    code = "conflit"
