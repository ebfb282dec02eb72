"""The sollicitation lifecycle: one transition table and the one service that applies it (as invoices do).

Every action except `cloturer` carries a message. The recipient takes charge, asks for a complement,
answers, transfers, closes; the sender completes, re-sends (`relancer`, also from a closed one within
REOPEN_DELAY) and may close their own request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from choeur.directory.models import Structure
from choeur.sollicitations.enums import RecipientKind
from choeur.sollicitations.enums import SollicitationRole as R
from choeur.sollicitations.enums import SollicitationStatus as S
from choeur.sollicitations.models import Sollicitation, SollicitationStatusChange

REOPEN_DELAY = timedelta(days=30)
OPEN = (S.OUVERTE, S.EN_COURS, S.EN_ATTENTE_COMPLEMENT, S.COMPLEMENT_RECU, S.REPONDUE, S.RELANCEE)
PENDING_RECIPIENT = (S.OUVERTE, S.EN_COURS, S.COMPLEMENT_RECU, S.RELANCEE)


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str | None  # None: the status stays (transfer, which resets to OUVERTE below)
    roles: frozenset[str]
    label: str
    message_required: bool = True


def _t(name, sources, target, roles, label, message_required=True) -> Transition:
    return Transition(name, frozenset(sources), target, frozenset(roles), label, message_required)


TRANSITIONS: tuple[Transition, ...] = (
    _t("prendre_en_charge", [S.OUVERTE, S.COMPLEMENT_RECU, S.RELANCEE], S.EN_COURS, [R.DESTINATAIRE],
       "Prendre en charge", message_required=False),
    _t("demander_complement", PENDING_RECIPIENT, S.EN_ATTENTE_COMPLEMENT, [R.DESTINATAIRE],
       "Demander un complément"),
    _t("completer", [S.EN_ATTENTE_COMPLEMENT], S.COMPLEMENT_RECU, [R.EMETTEUR], "Envoyer le complément"),
    _t("repondre", PENDING_RECIPIENT, S.REPONDUE, [R.DESTINATAIRE], "Répondre"),
    _t("transferer", PENDING_RECIPIENT, S.OUVERTE, [R.DESTINATAIRE], "Transférer"),
    _t("relancer", [S.REPONDUE, S.CLOTUREE], S.RELANCEE, [R.EMETTEUR], "Relancer"),
    _t("cloturer", OPEN, S.CLOTUREE, [R.DESTINATAIRE, R.EMETTEUR], "Clôturer", message_required=False),
)  # fmt: skip

TRANSITIONS_BY_NAME = {t.name: t for t in TRANSITIONS}


def roles_of(sollicitation: Sollicitation, user, *, structure: Structure | None = None) -> set[str]:
    """The roles `user` plays towards `sollicitation`; through the API, the roles of the caller `structure`."""
    roles = set()
    if structure is not None:
        if sollicitation.sender_structure_id == structure.pk:
            roles.add(R.EMETTEUR)
        if (
            sollicitation.recipient_kind == RecipientKind.STRUCTURE
            and sollicitation.recipient_structure_id == structure.pk
        ):
            roles.add(R.DESTINATAIRE)
        return roles
    if user is None or not getattr(user, "is_authenticated", False):
        return roles
    mine = Structure.objects.of_user(user)
    if sollicitation.sender_user_id == user.pk or (
        sollicitation.sender_structure_id and mine.filter(pk=sollicitation.sender_structure_id).exists()
    ):
        roles.add(R.EMETTEUR)
    if sollicitation.recipient_kind == RecipientKind.SUPPORT:
        if user.is_staff:
            roles.add(R.DESTINATAIRE)
    elif mine.filter(pk=sollicitation.recipient_structure_id).exists():
        roles.add(R.DESTINATAIRE)
    return roles


def available_transitions(
    sollicitation: Sollicitation, user, *, structure: Structure | None = None
) -> list[Transition]:
    roles = roles_of(sollicitation, user, structure=structure)
    return [
        t
        for t in TRANSITIONS
        if sollicitation.status in t.sources and roles & t.roles and _within_delay(sollicitation, t)
    ]


def _within_delay(sollicitation: Sollicitation, transition: Transition) -> bool:
    if transition.name == "relancer" and sollicitation.status == S.CLOTUREE:
        return sollicitation.closed_at is not None and timezone.now() - sollicitation.closed_at <= REOPEN_DELAY
    return True


def sollicitation_transition(
    *,
    sollicitation: Sollicitation,
    transition: str,
    by,
    expected_status: str | None = None,
    data: dict | None = None,
    changes: dict | None = None,
    structure: Structure | None = None,
) -> Sollicitation:
    """Apply one named transition: lock, check state/role/delay, save, log, audit; return the row.

    `changes` are extra field values saved with the status (the new recipient of a transfer).
    Must run inside the caller's transaction when a message is written with it (services.py does)."""
    definition = TRANSITIONS_BY_NAME.get(transition)
    if definition is None:
        raise ApplicationError(
            f"Action inconnue sur une sollicitation : « {transition} ».", code="transition_inconnue"
        )
    with transaction.atomic():
        locked = Sollicitation.objects.select_for_update().get(pk=sollicitation.pk)
        if expected_status and locked.status != expected_status:
            raise ConflictError(
                f"La sollicitation {locked.numero} est passée à l'état « {locked.get_status_display()} » "
                "entre-temps : rechargez la page."
            )
        roles = roles_of(locked, by, structure=structure)
        if not roles:
            raise PermissionDeniedError("Vous n'avez pas accès à cette sollicitation.")
        if not roles & definition.roles:
            raise PermissionDeniedError(
                f"« {definition.label} » n'est pas ouvert à votre rôle sur cette sollicitation."
            )
        if locked.status not in definition.sources:
            raise ApplicationError(
                f"« {definition.label} » est impossible à l'état « {locked.get_status_display()} ».",
                code="transition_indisponible",
            )
        if not _within_delay(locked, definition):
            raise ApplicationError(
                f"Cette sollicitation est clôturée depuis plus de {REOPEN_DELAY.days} jours : créez-en une nouvelle.",
                code="delai_depasse",
            )
        now = timezone.now()
        previous = locked.status
        locked.status = definition.target
        locked.status_changed_at = now
        fields = ["status", "status_changed_at"]
        if definition.target == S.CLOTUREE:
            locked.closed_at = now
            fields.append("closed_at")
        elif previous == S.CLOTUREE:
            locked.closed_at = None
            fields.append("closed_at")
        if (
            R.DESTINATAIRE in roles
            and transition in ("repondre", "demander_complement")
            and not locked.first_answer_at
        ):
            locked.first_answer_at = now
            fields.append("first_answer_at")
        for name, value in (changes or {}).items():
            setattr(locked, name, value)
            fields.append(name)
        locked.save(update_fields=fields)
        role = R.DESTINATAIRE if R.DESTINATAIRE in (roles & definition.roles) else R.EMETTEUR
        SollicitationStatusChange.objects.create(
            sollicitation=locked,
            from_status=previous,
            to_status=locked.status,
            transition=transition,
            actor_user=by if getattr(by, "pk", None) else None,
            actor_role=role,
            data=data or {},
        )
        audit_log(
            action=f"sollicitations.sollicitation.{transition}",
            actor=by if getattr(by, "pk", None) else None,
            structure_id=locked.recipient_structure_id or locked.sender_structure_id,
            target=locked,
            data={"de": previous, "vers": locked.status, **(data or {})},
        )
    return locked
