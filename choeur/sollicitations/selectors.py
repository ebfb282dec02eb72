"""Reads of sollicitations, always bounded to what the user may see."""

import csv
import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from choeur.core.errors import ApplicationError, NotFoundError
from choeur.sollicitations.enums import TO_PROCESS_STATUSES, RecipientKind, SollicitationStatus
from choeur.sollicitations.models import (
    Sollicitation,
    SollicitationCategory,
    SollicitationSubCategory,
)

_RELATED = (
    "category", "subcategory", "sender_structure", "sender_user", "recipient_structure", "recipient_service",
    "invoice", "works_dossier", "about_structure",
)  # fmt: skip


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


def sollicitations_of_structure(*, structure) -> QuerySet[Sollicitation]:
    """What an API caller (a structure, through its technical account) may read: sent or received by it."""
    return Sollicitation.objects.filter(
        Q(sender_structure=structure) | Q(recipient_kind=RecipientKind.STRUCTURE, recipient_structure=structure)
    ).select_related(*_RELATED)


def categories_active() -> QuerySet[SollicitationCategory]:
    return SollicitationCategory.objects.filter(is_active=True)


def subcategories_active(*, category=None) -> QuerySet[SollicitationSubCategory]:
    qs = SollicitationSubCategory.objects.filter(is_active=True, category__is_active=True).select_related("category")
    return qs.filter(category=category) if category is not None else qs


@dataclass(frozen=True)
class SollicitationFilters:
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    category_code: str = ""
    status: str = ""
    sender: str = ""
    numero: str = ""


def sollicitations_filter(queryset: QuerySet[Sollicitation], *, filters: SollicitationFilters) -> QuerySet:
    """Search by date de dépôt, catégorie, état, émetteur (structure, SIRET or e-mail) and number."""
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ApplicationError("Période : la date de début est après la date de fin.", field="date_from")
    if filters.date_from:
        queryset = queryset.filter(created_at__date__gte=filters.date_from)
    if filters.date_to:
        queryset = queryset.filter(created_at__date__lte=filters.date_to)
    if filters.category_code:
        queryset = queryset.filter(category__code=filters.category_code)
    if filters.status:
        if filters.status not in SollicitationStatus.values:
            raise ApplicationError("État : choisissez-le dans la liste.", field="status")
        queryset = queryset.filter(status=filters.status)
    sender = filters.sender.strip()
    if sender:
        queryset = queryset.filter(
            Q(sender_structure__raison_sociale__icontains=sender)
            | Q(sender_structure__identifier__icontains=sender)
            | Q(sender_email__icontains=sender)
        )
    if filters.numero.strip():
        queryset = queryset.filter(numero__icontains=filters.numero.strip())
    return queryset


EXPORT_HEADERS = [
    "Numéro", "Date de dépôt", "Émetteur", "Destinataire", "Catégorie", "Sous-catégorie", "Objet", "Référence",
    "État", "Première réponse", "Âge (jours)", "Délai de première réponse (heures)",
]  # fmt: skip
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell a spreadsheet will not run: a text starting like a formula is prefixed with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def export_csv(queryset: QuerySet[Sollicitation]) -> Iterator[str]:
    """CSV as French spreadsheets read it: UTF-8 with BOM, `;` separator, dd/mm/yyyy dates."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_HEADERS)
    yield "\ufeff" + flush()
    for s in queryset.iterator(chunk_size=500):
        first = s.time_to_first_answer
        writer.writerow(
            [
                csv_cell(v)
                for v in (
                    s.numero,
                    timezone.localtime(s.created_at).strftime("%d/%m/%Y %H:%M"),
                    s.sender_label,
                    s.recipient_label,
                    s.category.libelle,
                    s.subcategory.libelle,
                    s.subject,
                    s.reference,
                    s.get_status_display(),
                    timezone.localtime(s.first_answer_at).strftime("%d/%m/%Y %H:%M") if s.first_answer_at else "",
                    s.age.days,
                    "" if first is None else round(first.total_seconds() / 3600, 1),
                )
            ]
        )
        yield flush()
