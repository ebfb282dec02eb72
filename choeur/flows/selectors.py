"""Reads of flows, bounded to what the user may see (the tenancy boundary of every read)."""

from __future__ import annotations

from django.db.models import QuerySet

from choeur.core.errors import NotFoundError, PermissionDeniedError
from choeur.directory.enums import EspaceCode, Habilitation
from choeur.directory.models import Structure
from choeur.directory.selectors import user_can
from choeur.flows.models import Flow


def _user_can(user, structure: Structure, habilitation: str) -> bool:
    """Whether `user` may use the Factures émises espace of `structure` with `habilitation`
    (MODIFICATION to deposit, CONSULTATION_UNIQUEMENT or better to read)."""
    return user_can(user, structure, espace=EspaceCode.FACTURES_EMISES, habilitation=habilitation)


def flow_deposit_structures(*, user) -> list[Structure]:
    """Structures on whose behalf `user` may deposit flows."""
    if not getattr(user, "is_authenticated", False):
        return []
    structures = Structure.objects.of_user(user).active().order_by("raison_sociale")
    return [s for s in structures if _user_can(user, s, Habilitation.MODIFICATION)]


def flow_readable_structures(*, user) -> list[Structure]:
    """Structures whose flows `user` may read."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [
        s
        for s in Structure.objects.of_user(user).order_by("raison_sociale")
        if _user_can(user, s, Habilitation.CONSULTATION_UNIQUEMENT)
    ]


def flow_list(*, user, structure: Structure | None = None) -> QuerySet[Flow]:
    """The flows `user` may read, newest first (optionally of one structure)."""
    structures = flow_readable_structures(user=user)
    if structure is not None:
        structures = [s for s in structures if s.pk == structure.pk]
    return Flow.objects.filter(structure__in=structures).select_related("structure", "deposited_by")


def flow_get(*, user, flow_id: int) -> Flow:
    """One flow, if `user` may read it. A flow of another structure is « introuvable » (no existence leak)."""
    flow = Flow.objects.select_related("structure", "deposited_by", "file").filter(pk=flow_id).first()
    if flow is None or not Structure.objects.of_user(user).filter(pk=flow.structure_id).exists():
        raise NotFoundError("Ce flux est introuvable.")
    if not _user_can(user, flow.structure, Habilitation.CONSULTATION_UNIQUEMENT):
        raise PermissionDeniedError(
            "Vous n'êtes pas abonné à l'espace « Factures émises » de cette structure : demandez l'abonnement à "
            "son gestionnaire pour consulter ses flux."
        )
    return flow


def flow_progress(flow: Flow) -> dict[str, int | None]:
    """Counts for the progress bar of a flow being processed."""
    from django.db.models import Count, Q

    from choeur.flows.enums import ItemStatus

    counts = flow.items.aggregate(
        done=Count("pk", filter=~Q(status=ItemStatus.EN_COURS)),
        integrated=Count("pk", filter=Q(status=ItemStatus.INTEGREE)),
        rejected=Count("pk", filter=Q(status=ItemStatus.REJETEE)),
    )
    total = flow.document_count
    percent = 100 if flow.is_final else (int(100 * counts["done"] / total) if total else 0)
    return {**counts, "total": total, "percent": percent}
