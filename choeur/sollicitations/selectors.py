"""Reads of sollicitations, always bounded to what the user may see."""

from django.db.models import QuerySet

from choeur.core.errors import NotFoundError
from choeur.sollicitations.enums import TO_PROCESS_STATUSES
from choeur.sollicitations.models import (
    Sollicitation,
    SollicitationCategory,
    SollicitationSubCategory,
)

_RELATED = ("category", "subcategory", "sender_structure", "sender_user", "recipient_structure", "recipient_service")


def sollicitations_sent(*, user) -> QuerySet[Sollicitation]:
    return (
        Sollicitation.objects.sent_by(user).select_related(*_RELATED)
        if user.is_authenticated
        else Sollicitation.objects.none()
    )


def sollicitations_received(*, user) -> QuerySet[Sollicitation]:
    if not user.is_authenticated:
        return Sollicitation.objects.none()
    return Sollicitation.objects.received_by(user).select_related(*_RELATED)


def sollicitations_to_process(*, user) -> QuerySet[Sollicitation]:
    """« Mes sollicitations à traiter »: new, complemented and re-sent ones received by the user's structures."""
    return sollicitations_received(user=user).filter(status__in=TO_PROCESS_STATUSES)


def sollicitation_get(*, user, pk: int) -> Sollicitation:
    """One sollicitation the user may see; any other id is « introuvable » (no existence leak)."""
    found = Sollicitation.objects.visible_to(user).select_related(*_RELATED).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("Sollicitation introuvable.")
    return found


def categories_active() -> QuerySet[SollicitationCategory]:
    return SollicitationCategory.objects.filter(is_active=True)


def subcategories_active(*, category=None) -> QuerySet[SollicitationSubCategory]:
    qs = SollicitationSubCategory.objects.filter(is_active=True, category__is_active=True).select_related("category")
    return qs.filter(category=category) if category is not None else qs
