"""The invoice lifecycle: one declarative transition table and the one service that applies it.

`TRANSITIONS` lists, for each named transition, the statuses it leaves from, the status it leads to and
the roles allowed to fire it. Chorus Pro serves the same facts from `transverses/v1/recuperer/etats/
traitement` (next statuses for a current status); `next_statuses()` answers that question from the table.

Adding a circuit (the works app's MOE/MOA steps, `register_transitions`) is adding rows: `invoice_transition`
needs no change. The rows below cover the deposit, the routing to the recipient or to the valideurs
(A9/A12), the valideurs' answers, the recipient's processing and the supplier's answers. People act through
the services that check their espaces and the data each action needs (lifecycle.py for the recipient and
the supplier); `invoice_transition` is what those services, and the platform, call.

Roles are derived from the acting structure's relation to the invoice (supplier → FOURNISSEUR, recipient →
DESTINATAIRE, the valideur of the current level → VALIDEUR, MOE/MOA); no structure means the platform
itself (SYSTEME), as for the automatic routing steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from choeur.core.tasks import task_enqueue_on_commit
from choeur.invoices.enums import ActorRole, Channel
from choeur.invoices.enums import InvoiceStatus as S
from choeur.invoices.models import Invoice, InvoiceStatusChange
from choeur.invoices.selectors import user_belongs_to

ROLE = ActorRole


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    label: str
    motif_required: bool = False


def _t(name, sources, target, roles, label, *, motif_required=False) -> Transition:
    return Transition(name, frozenset(sources), target, frozenset(roles), label, motif_required)


VALIDATED_1 = (S.VALIDEE_1, S.ABSENCE_VALIDATION_1_HORS_DELAI)
VALIDATED_2 = (S.VALIDEE_2, S.ABSENCE_VALIDATION_2_HORS_DELAI)
# What the recipient has in « Factures reçues » and may process (COMPLETEE: back from the supplier).
RECEIVED = (S.MISE_A_DISPOSITION, S.COMPLETEE)
PROCESSING = (S.SERVICE_FAIT, S.MANDATEE, S.MISE_A_DISPOSITION_COMPTABLE, S.COMPTABILISEE)

TRANSITIONS: tuple[Transition, ...] = (
    # Deposit (invoice_send): the supplier sends, the platform routes.
    _t("deposer", [S.BROUILLON], S.DEPOSEE, [ROLE.FOURNISSEUR], "Déposer la facture"),
    _t("mettre_a_disposition", [S.DEPOSEE, *VALIDATED_1, *VALIDATED_2], S.MISE_A_DISPOSITION, [ROLE.SYSTEME],
       "Mettre à disposition du destinataire"),
    _t("soumettre_valideur", [S.DEPOSEE], S.A_VALIDER_1, [ROLE.SYSTEME], "Transmettre au valideur"),
    _t("soumettre_valideur_2", VALIDATED_1, S.A_VALIDER_2, [ROLE.SYSTEME], "Transmettre au valideur de niveau 2"),
    # Valideur of level 1 (titulaire of the contract, or mandataire of the groupement), 15 days to answer.
    _t("valider_1", [S.A_VALIDER_1], S.VALIDEE_1, [ROLE.VALIDEUR], "Valider la facture"),
    _t("refuser_1", [S.A_VALIDER_1], S.REFUSEE_1, [ROLE.VALIDEUR], "Refuser la facture", motif_required=True),
    _t("signaler_erreur_valideur_1", [S.A_VALIDER_1], S.ERREUR_FOURNISSEUR_SUR_VALIDEUR, [ROLE.VALIDEUR],
       "Signaler ne pas être le valideur"),
    _t("valider_tacitement_1", [S.A_VALIDER_1], S.ABSENCE_VALIDATION_1_HORS_DELAI, [ROLE.SYSTEME],
       "Validation tacite (15 jours sans réponse)"),
    # Valideur of level 2 (the mandataire, for a sous-traitant of a cotraitant).
    _t("valider_2", [S.A_VALIDER_2], S.VALIDEE_2, [ROLE.VALIDEUR], "Valider la facture"),
    _t("refuser_2", [S.A_VALIDER_2], S.REFUSEE_2, [ROLE.VALIDEUR], "Refuser la facture", motif_required=True),
    _t("signaler_erreur_valideur_2", [S.A_VALIDER_2], S.ERREUR_COTRAITANT_SUR_VALIDEUR, [ROLE.VALIDEUR],
       "Signaler ne pas être le valideur"),
    _t("valider_tacitement_2", [S.A_VALIDER_2], S.ABSENCE_VALIDATION_2_HORS_DELAI, [ROLE.SYSTEME],
       "Validation tacite (15 jours sans réponse)"),
    # The supplier names the right valideur (corriger/valideur/facture); the circuit resumes at the level whose
    # valideur declined: level 1 again, or level 2 (the level-1 validation stands).
    _t("corriger_valideur", [S.ERREUR_FOURNISSEUR_SUR_VALIDEUR], S.A_VALIDER_1, [ROLE.FOURNISSEUR],
       "Corriger le valideur"),
    _t("corriger_valideur_2", [S.ERREUR_COTRAITANT_SUR_VALIDEUR], S.A_VALIDER_2, [ROLE.FOURNISSEUR],
       "Corriger le valideur de niveau 2"),
    # The recipient processes what it received (chorus-pro.md §6.2, API traiter/recue). The processing steps
    # are optional but keep their order: each row leaves from every earlier step.
    _t("service_fait", RECEIVED, S.SERVICE_FAIT, [ROLE.DESTINATAIRE], "Constater le service fait"),
    _t("mandater", [*RECEIVED, S.SERVICE_FAIT], S.MANDATEE, [ROLE.DESTINATAIRE], "Mandater"),
    _t("mettre_a_disposition_comptable", [*RECEIVED, S.SERVICE_FAIT, S.MANDATEE], S.MISE_A_DISPOSITION_COMPTABLE,
       [ROLE.DESTINATAIRE, ROLE.SYSTEME], "Mettre à disposition du comptable"),
    _t("comptabiliser", [*RECEIVED, S.SERVICE_FAIT, S.MANDATEE, S.MISE_A_DISPOSITION_COMPTABLE], S.COMPTABILISEE,
       [ROLE.DESTINATAIRE, ROLE.SYSTEME], "Comptabiliser"),
    _t("mettre_en_paiement", [*RECEIVED, *PROCESSING], S.MISE_EN_PAIEMENT, [ROLE.DESTINATAIRE, ROLE.SYSTEME],
       "Mettre en paiement"),
    # The three returns to the supplier: wrong routing data, missing documents, wrong invoicing data.
    _t("a_recycler", RECEIVED, S.A_RECYCLER, [ROLE.DESTINATAIRE], "Mettre à recycler", motif_required=True),
    _t("suspendre", [*RECEIVED, S.SERVICE_FAIT], S.SUSPENDUE, [ROLE.DESTINATAIRE], "Suspendre",
       motif_required=True),
    _t("rejeter", [*RECEIVED, S.SERVICE_FAIT, S.SUSPENDUE], S.REJETEE, [ROLE.DESTINATAIRE], "Rejeter",
       motif_required=True),
    # The supplier's answers: complete a suspended invoice, recycle it (new routing, same number).
    _t("completer", [S.SUSPENDUE], S.COMPLETEE, [ROLE.FOURNISSEUR], "Compléter la facture"),
    _t("recycler", [S.A_RECYCLER], S.DEPOSEE, [ROLE.FOURNISSEUR], "Recycler la facture"),
)  # fmt: skip

TRANSITIONS_BY_NAME: dict[str, Transition] = {t.name: t for t in TRANSITIONS}


def register_transitions(*transitions: Transition) -> None:
    """Add rows to the table (for apps that build on invoices: works circuits). A name is defined once."""
    global TRANSITIONS
    for transition in transitions:
        if transition.name in TRANSITIONS_BY_NAME and TRANSITIONS_BY_NAME[transition.name] != transition:
            raise ValueError(f"Transition déjà définie autrement : {transition.name}")
        if transition.name not in TRANSITIONS_BY_NAME:
            TRANSITIONS = (*TRANSITIONS, transition)
            TRANSITIONS_BY_NAME[transition.name] = transition


def transitions_from(status: str, role: str | None = None) -> list[Transition]:
    """Transitions available from `status`, for `role` (any role when None), in table order."""
    return [t for t in TRANSITIONS if status in t.sources and (role is None or role in t.roles)]


def next_statuses(invoice_or_status: Invoice | str, role: str | None = None) -> list[str]:
    """Statuses reachable in one step (Chorus Pro's `listeStatutsPossiblesPourTraitement`), without repeats."""
    status = invoice_or_status.status if isinstance(invoice_or_status, Invoice) else invoice_or_status
    seen: list[str] = []
    for transition in transitions_from(status, role):
        if transition.target not in seen:
            seen.append(transition.target)
    return seen


def roles_of(invoice: Invoice, structure) -> set[str]:
    """The roles `structure` plays towards `invoice` now (a valideur acts only at its level's turn)."""
    if structure is None:
        return {ROLE.SYSTEME}
    pk = structure.pk
    roles = set()
    if invoice.supplier_id == pk:
        roles.add(ROLE.FOURNISSEUR)
    if invoice.recipient_id == pk:
        roles.add(ROLE.DESTINATAIRE)
    if invoice.valideur_id == pk and invoice.status in (S.A_VALIDER_1,):
        roles.add(ROLE.VALIDEUR)
    if invoice.valideur2_id == pk and invoice.status in (S.A_VALIDER_2,):
        roles.add(ROLE.VALIDEUR)
    if invoice.moe_id == pk:
        roles.add(ROLE.MOE)
    if invoice.moa_id == pk:
        roles.add(ROLE.MOA)
    return roles


def _actor_label(actor, actor_structure, channel) -> str:
    if actor is not None:
        return getattr(actor, "email", "") or str(actor)
    if actor_structure is not None:
        return f"{actor_structure.designation} ({Channel(channel).label})"
    return "Chœur"


def invoice_status_changes_write(changes: list[InvoiceStatusChange]) -> None:
    """Write the log rows a chain of `invoice_transition(..., pending_changes=…)` left, in one statement, and
    enqueue their side effects in order (the sending: deposer then routing)."""
    from choeur.invoices.tasks import invoice_status_changed

    InvoiceStatusChange.objects.bulk_create(changes)
    for change in changes:
        task_enqueue_on_commit(invoice_status_changed, change.pk)


def invoice_transition(
    *,
    invoice: Invoice,
    transition: str,
    actor=None,
    actor_structure=None,
    channel: str,
    motif: str = "",
    comment: str = "",
    data: dict | None = None,
    expected_status: str | None = None,
    row_locked: bool = False,
    persist: bool = True,
    pending_changes: list | None = None,
) -> Invoice:
    """Apply one named transition to `invoice` and return it, refreshed.

    - locks the invoice row (`select_for_update`) inside one transaction;
    - refuses (French ApplicationError) a transition unknown, not available from the current status, or not
      open to the role `actor_structure` plays towards the invoice (no structure: the platform, SYSTEME);
    - a person (`actor`) must belong to `actor_structure` (validated rattachement);
    - `expected_status` guards against a stale screen: ConflictError if someone moved the invoice first;
    - saves with `update_fields`, writes the InvoiceStatusChange row and an audit entry, and enqueues the
      side effects (tasks.invoice_status_changed) for the commit (core.tasks.task_enqueue_on_commit);
    - `row_locked`: the caller already holds this row's lock in the current transaction and `invoice` is
      that row (a deposit being sent); it is used as is, without a second read.
    - `persist=False` (only with `row_locked`): the status is set on the row in memory and the caller saves
      it once after a chain of transitions (the sending: deposer then routing, one UPDATE instead of three);
      the log row, audit entry and side effects are written as usual, in the same transaction — or, given
      `pending_changes`, the log row is appended there unsaved and the caller writes the chain's rows
      together with `invoice_status_changes_write` (which also enqueues their side effects).
    """
    if pending_changes is not None and persist:
        raise ValueError("pending_changes suppose persist=False.")
    if not persist and not row_locked:
        raise ValueError("persist=False suppose row_locked=True : l'appelant écrit la ligne qu'il verrouille.")
    definition = TRANSITIONS_BY_NAME.get(transition)
    if definition is None:
        raise ApplicationError(f"Action inconnue sur une facture : « {transition} ».", code="transition_inconnue")
    if channel not in Channel.values:
        raise ApplicationError(f"Canal inconnu : « {channel} ».", code="canal_inconnu")
    if definition.motif_required and not (motif or "").strip():
        raise ApplicationError(f"{definition.label} : indiquez un motif.", field="motif", code="motif_obligatoire")
    if actor is not None and actor_structure is not None:
        if not user_belongs_to(user=actor, structure=actor_structure):
            raise PermissionDeniedError(
                f"Vous n'êtes pas rattaché(e) à la structure {actor_structure.designation} : action impossible."
            )
    # A locked row belongs to a caller whose transaction fails as a whole: no savepoint of our own.
    with transaction.atomic(savepoint=not row_locked):
        if row_locked:
            locked = invoice
        else:
            locked = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        current = locked.status
        if expected_status is not None and current != expected_status:
            raise ConflictError(
                f"La facture {locked.number} est passée au statut « {S(current).label} » entre-temps : "
                "rechargez la page."
            )
        if current not in definition.sources:
            raise ApplicationError(
                f"{definition.label} : impossible depuis le statut « {S(current).label} » "
                f"de la facture {locked.number or '(brouillon)'}.",
                code="transition_impossible",
            )
        roles = roles_of(locked, actor_structure)
        if not roles & definition.roles:
            raise PermissionDeniedError(
                f"{definition.label} : action réservée à "
                f"{', '.join(sorted(ActorRole(r).label.lower() for r in definition.roles))}."
            )
        role = sorted(roles & definition.roles)[0]
        now = timezone.now()
        locked.status = definition.target
        locked.status_changed_at = now
        if persist:
            locked.save(update_fields=["status", "status_changed_at", "updated_at"])
        change = InvoiceStatusChange(
            invoice=locked,
            from_status=current,
            to_status=definition.target,
            transition=definition.name,
            actor_user=actor if getattr(actor, "pk", None) else None,
            actor_label=_actor_label(actor, actor_structure, channel)[:255],
            actor_structure=actor_structure,
            actor_role=role,
            channel=channel,
            motif=(motif or "")[:100],
            comment=comment or "",
            data=data or {},
            created_at=now,
        )
        if pending_changes is None:
            change.save(force_insert=True)
        audit_log(
            action=f"invoices.invoice.{definition.name}",
            actor=actor,
            structure_id=actor_structure.pk if actor_structure is not None else locked.supplier_id,
            target=locked,
            data={
                "numero": locked.number,
                "de": current,
                "vers": definition.target,
                "canal": channel,
                "role": role,
                **({"motif": motif} if motif else {}),
            },
        )
        if pending_changes is None:
            from choeur.invoices.tasks import invoice_status_changed

            task_enqueue_on_commit(invoice_status_changed, change.pk)
        else:
            pending_changes.append(change)
    invoice.status = locked.status
    invoice.status_changed_at = locked.status_changed_at
    return locked
