"""The valideurs' circuit of sous-traitants (A9) and cotraitants (A12) (chorus-pro.md §6.3).

An A9 or A12 invoice reaches its valideur (the titulaire of the contract, or the mandataire of the
groupement) before its public recipient: `invoice_send` routes it to A_VALIDER_1. From there:

- the valideur of the current level validates (`invoice_validate`, decision VALIDATION): the platform then
  routes it to the level-2 valideur when there is one (a sous-traitant of a cotraitant: cotraitant first,
  then mandataire), else to the recipient (MISE_A_DISPOSITION);
- or refuses it with a coded reason (REFUS, `REFUSAL_MOTIFS`): the circuit stops, the supplier is told why;
- or says it is not the right valideur (ERREUR_VALIDEUR): the supplier names another one
  (`invoice_valideur_correct`) and the circuit starts again at level 1;
- or does nothing for 15 days: the validation is tacit (ABSENCE_VALIDATION_n_HORS_DELAI), applied by the
  periodic job of circuit_periodic.py through `invoice_validate_tacitly`.

The deadline runs from the moment the invoice reached A_VALIDER_n (`status_changed_at`): a correction of the
valideur opens a new 15-day window for the new one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from choeur.directory.enums import EspaceCode
from choeur.directory.models import Service, Structure
from choeur.invoices.cadres import VALIDEUR_CADRES, WORKS_VALIDEUR_CADRES
from choeur.invoices.checks import check_valideurs
from choeur.invoices.enums import Cadre, Channel, InvoiceStatus
from choeur.invoices.models import Invoice
from choeur.invoices.selectors import can_issue_for, structures_of, user_can
from choeur.invoices.services import invoice_route
from choeur.invoices.workflow import invoice_transition

S = InvoiceStatus

VALIDATION_DELAY = datetime.timedelta(days=15)

VALIDATION = "VALIDATION"
REFUS = "REFUS"
ERREUR_VALIDEUR = "ERREUR_VALIDEUR"
DECISIONS = (VALIDATION, REFUS, ERREUR_VALIDEUR)

TO_VALIDATE = (S.A_VALIDER_1, S.A_VALIDER_2)
LEVEL_OF_STATUS = {S.A_VALIDER_1: 1, S.A_VALIDER_2: 2}
VALIDEUR_ERRORS = (S.ERREUR_FOURNISSEUR_SUR_VALIDEUR, S.ERREUR_COTRAITANT_SUR_VALIDEUR)
# Statuses that only concern level 1: the level-2 valideur does not see the invoice before its turn.
LEVEL_1_ONLY = frozenset(
    {S.A_VALIDER_1, S.REFUSEE_1, S.ERREUR_FOURNISSEUR_SUR_VALIDEUR, S.VALIDEE_1, S.ABSENCE_VALIDATION_1_HORS_DELAI}
)
# What a valideur may retrieve (`recuperer/statutsFactureVisibles/valideur`): the circuit's statuses, then those
# of the recipient's processing, so that the titulaire can follow the payment of the invoice it validated.
VALIDEUR_VISIBLE_STATUSES: tuple[str, ...] = (
    S.A_VALIDER_1,
    S.VALIDEE_1,
    S.REFUSEE_1,
    S.ERREUR_FOURNISSEUR_SUR_VALIDEUR,
    S.ABSENCE_VALIDATION_1_HORS_DELAI,
    S.A_VALIDER_2,
    S.VALIDEE_2,
    S.REFUSEE_2,
    S.ERREUR_COTRAITANT_SUR_VALIDEUR,
    S.ABSENCE_VALIDATION_2_HORS_DELAI,
    S.MISE_A_DISPOSITION,
    S.COMPLETEE,
    S.SUSPENDUE,
    S.A_RECYCLER,
    S.REJETEE,
    S.SERVICE_FAIT,
    S.MANDATEE,
    S.MISE_A_DISPOSITION_COMPTABLE,
    S.COMPTABILISEE,
    S.MISE_EN_PAIEMENT,
)


@dataclass(frozen=True)
class RefusalMotif:
    """One refusal reason (`recuperer/motifs/refus/Facture/AValider`). `id` is stable: clients store it."""

    id: int
    code: str
    label: str
    cadres: frozenset[str] = frozenset(VALIDEUR_CADRES)
    comment_required: bool = False


_A9 = frozenset({Cadre.A9})
_A12 = frozenset({Cadre.A12})

# Chorus Pro serves its list without publishing it (chorus-pro.md §8.5): these codes are Chœur's, chosen for what a
# titulaire or a mandataire may legitimately object to. An amount the valideur disputes is one of them: unlike the
# MOE of a works dossier, the valideur does not correct the supplier's document, it can only refuse it.
REFUSAL_MOTIFS: tuple[RefusalMotif, ...] = (
    RefusalMotif(1, "PRESTATIONS_NON_REALISEES", "Prestations non réalisées ou non achevées"),
    RefusalMotif(2, "PRESTATIONS_NON_CONFORMES", "Prestations non conformes au marché"),
    RefusalMotif(
        3,
        "HORS_ACTE_SOUS_TRAITANCE",
        "Prestations hors du périmètre de l'acte spécial de sous-traitance",
        cadres=_A9,
    ),
    RefusalMotif(
        4,
        "MONTANT_SUPERIEUR_ACTE_SOUS_TRAITANCE",
        "Montant supérieur à celui prévu par l'acte spécial de sous-traitance",
        cadres=_A9,
    ),
    RefusalMotif(
        5, "HORS_PART_COTRAITANT", "Prestations hors de la part du cotraitant dans le groupement", cadres=_A12
    ),
    RefusalMotif(
        6,
        "MONTANT_SUPERIEUR_PART_COTRAITANT",
        "Montant supérieur à la part du cotraitant prévue au marché",
        cadres=_A12,
    ),
    RefusalMotif(7, "DOUBLON", "Facture déjà présentée (doublon)"),
    RefusalMotif(8, "REFERENCES_ERRONEES", "Numéro de marché ou d'engagement erroné"),
    RefusalMotif(9, "PIECES_JUSTIFICATIVES_MANQUANTES", "Pièces justificatives manquantes"),
    RefusalMotif(10, "AUTRE", "Autre motif (précisé en commentaire)", comment_required=True),
)
MOTIFS_BY_CODE = {motif.code: motif for motif in REFUSAL_MOTIFS}


def refusal_motifs_for(cadre: str | Cadre | None = None) -> list[RefusalMotif]:
    """The refusal reasons open for this cadre (A9 or A12; both when None), in list order."""
    if cadre is None:
        return list(REFUSAL_MOTIFS)
    wanted = Cadre.from_code(cadre)
    if wanted in WORKS_VALIDEUR_CADRES:
        # A sous-traitant's works draft (A10, A11), validated by its titulaire: the sous-traitant's reasons.
        wanted = Cadre.A9
    if wanted not in VALIDEUR_CADRES:
        raise ApplicationError(
            f"Le cadre {wanted.code} n'a pas de valideur : les motifs de refus concernent les cadres A9 "
            "(sous-traitant) et A12 (cotraitant).",
            field="cadre",
            code="cadre_sans_valideur",
        )
    return [motif for motif in REFUSAL_MOTIFS if wanted in motif.cadres]


# --- Reads ---------------------------------------------------------------------------------------------


def validation_level(invoice: Invoice) -> int | None:
    """1 or 2 while the invoice waits for a valideur, else None."""
    return LEVEL_OF_STATUS.get(invoice.status)


def current_valideur(invoice: Invoice) -> Structure | None:
    level = validation_level(invoice)
    if level == 1:
        return invoice.valideur
    if level == 2:
        return invoice.valideur2
    return None


def validation_deadline(invoice: Invoice) -> datetime.datetime | None:
    """When the current valideur's 15 days run out (tacit validation from then), or None if nobody is due."""
    if invoice.status not in TO_VALIDATE:
        return None
    return invoice.status_changed_at + VALIDATION_DELAY


def validation_days_left(invoice: Invoice, *, now: datetime.datetime | None = None) -> int | None:
    """Whole days left before the deadline (0 on its last day, negative once passed), Paris calendar."""
    deadline = validation_deadline(invoice)
    if deadline is None:
        return None
    today = timezone.localdate(now or timezone.now())
    return (timezone.localdate(deadline) - today).days


def _valideur_structures(user, *, write: bool) -> list[Structure]:
    return [s for s in structures_of(user) if user_can(user, s, EspaceCode.FACTURES_A_VALIDER, write=write)]


def validation_structures_of(user, *, write: bool = False) -> list[Structure]:
    """The user's structures where it may read (or, with `write`, process) « Factures à valider »."""
    return _valideur_structures(user, write=write)


def validation_queue(*, user, structure: Structure | None = None) -> QuerySet[Invoice]:
    """Invoices waiting for one of the user's structures as valideur, oldest arrival first — which is also the
    order of their deadlines, all 15 days long. Only structures whose « Factures à valider » the user reads."""
    structures = validation_structures_of(user)
    if structure is not None:
        structures = [s for s in structures if s.pk == structure.pk]
    return (
        Invoice.objects.to_validate_by(structures)
        .select_related("supplier", "recipient", "recipient_service", "valideur", "valideur2", "main_document")
        .order_by("status_changed_at", "id")
    )


def invoice_get_for_valideur(*, user, invoice_id: int) -> Invoice:
    """An invoice waiting for one of the user's structures; NotFoundError otherwise (never « forbidden »)."""
    invoice = validation_queue(user=user).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFoundError("Facture introuvable parmi vos factures à valider : elle a peut-être déjà été traitée.")
    return invoice


def invoices_valideur_to_correct(*, user) -> QuerySet[Invoice]:
    """Invoices of the user's structures whose valideur said it is not the right one (the supplier corrects)."""
    structures = [s for s in structures_of(user) if can_issue_for(user=user, structure=s)]
    return (
        Invoice.objects.filter(supplier__in=structures, status__in=VALIDEUR_ERRORS)
        .select_related("supplier", "recipient", "valideur", "valideur2")
        .order_by("status_changed_at", "id")
    )


def invoice_get_for_valideur_correction(*, user, invoice_id: int) -> Invoice:
    invoice = invoices_valideur_to_correct(user=user).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFoundError(
            "Facture introuvable parmi vos factures dont le valideur est à corriger : elle a peut-être déjà été "
            "corrigée."
        )
    return invoice


def invoices_seen_by_valideur(*, structure: Structure) -> QuerySet[Invoice]:
    """Every invoice `structure` validates or validated (the API's `rechercher/valideur`): as level 1, and as
    level 2 once the invoice reached that level."""
    return Invoice.objects.filter(
        Q(valideur=structure) | (Q(valideur2=structure) & ~Q(status__in=LEVEL_1_ONLY)),
        status__in=VALIDEUR_VISIBLE_STATUSES,
    ).distinct()


def invoices_validation_due(*, now: datetime.datetime) -> QuerySet[Invoice]:
    """Invoices whose valideur let the 15 days pass by `now`: the tacit validation is due."""
    return Invoice.objects.filter(status__in=TO_VALIDATE, status_changed_at__lte=now - VALIDATION_DELAY).order_by(
        "status_changed_at", "id"
    )


# --- Writes --------------------------------------------------------------------------------------------


def _require_valideur_rights(by, structure: Structure) -> None:
    if by is None:
        return
    if not user_can(by, structure, EspaceCode.FACTURES_A_VALIDER, write=True):
        raise PermissionDeniedError(
            f"Vous n'avez pas le droit de traiter les factures à valider de {structure.designation} : il faut un "
            "abonnement à l'espace « Factures à valider » avec l'habilitation « modification ». Demandez-le au "
            "gestionnaire de la structure."
        )


def _refusal_motif(invoice: Invoice, motif: str, comment: str) -> RefusalMotif:
    code = (motif or "").strip().upper()
    if not code:
        raise ApplicationError(
            "Refuser la facture : choisissez un motif de refus dans la liste.", field="motif", code="motif_obligatoire"
        )
    found = MOTIFS_BY_CODE.get(code)
    if found is None and code.isdigit():
        found = next((m for m in REFUSAL_MOTIFS if m.id == int(code)), None)
    allowed = refusal_motifs_for(invoice.cadre)
    if found is None or found not in allowed:
        codes = ", ".join(m.code for m in allowed)
        raise ApplicationError(
            f"Motif de refus inconnu pour le cadre {invoice.cadre_code} : « {motif} ». Motifs possibles : {codes}.",
            field="motif",
            code="motif_inconnu",
        )
    if found.comment_required and not (comment or "").strip():
        raise ApplicationError(
            f"Motif « {found.label} » : précisez la raison du refus en commentaire.",
            field="comment",
            code="commentaire_obligatoire",
        )
    return found


def invoice_validate(
    *,
    invoice: Invoice,
    by,
    structure: Structure,
    decision: str,
    motif: str = "",
    comment: str = "",
    channel: str,
    expected_status: str | None = None,
    certified: bool = False,
) -> Invoice:
    """The valideur's answer (`traiter/factureAValider`): VALIDATION, REFUS (coded `motif`) or ERREUR_VALIDEUR.

    `structure` must be the valideur of the invoice's current level; `by` a person with the « modification »
    right on its « Factures à valider » (None for a technical account the API already authenticated).
    `certified`: the person ticked « je suis le titulaire (ou le mandataire) », kept in the history.
    A validation is followed, in the same transaction, by the platform's routing (level 2 or recipient).
    """
    decision = (decision or "").strip().upper()
    if decision not in DECISIONS:
        raise ApplicationError(
            f"Décision inconnue : « {decision} ». Choisissez VALIDATION, REFUS ou ERREUR_VALIDEUR.",
            field="decision",
            code="decision_inconnue",
        )
    _require_valideur_rights(by, structure)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        if expected_status is not None and locked.status != expected_status:
            raise ConflictError(
                f"La facture {locked.number} est passée au statut « {S(locked.status).label} » entre-temps : "
                "rechargez la page."
            )
        level = validation_level(locked)
        if level is None:
            raise ApplicationError(
                f"La facture {locked.number} n'est pas à valider (statut « {S(locked.status).label} ») : "
                "elle a déjà été traitée.",
                code="facture_non_a_valider",
            )
        valideur_id = locked.valideur_id if level == 1 else locked.valideur2_id
        if valideur_id != structure.pk:
            raise PermissionDeniedError(
                f"La structure {structure.designation} n'est pas le valideur de niveau {level} de la facture "
                f"{locked.number} : seul ce valideur peut la traiter."
            )
        data = {"niveau": level, "echeance": validation_deadline(locked).isoformat()}
        if decision == VALIDATION:
            transition, motif_code = f"valider_{level}", ""
            data["titulaire_certifie"] = bool(certified)
        elif decision == REFUS:
            found = _refusal_motif(locked, motif, comment)
            transition, motif_code = f"refuser_{level}", found.code
            data["motif_libelle"] = found.label
        else:
            transition, motif_code = f"signaler_erreur_valideur_{level}", ""
        result = invoice_transition(
            invoice=locked,
            transition=transition,
            actor=by if getattr(by, "pk", None) else None,
            actor_structure=structure,
            channel=channel,
            motif=motif_code,
            comment=(comment or "").strip(),
            data=data,
            expected_status=locked.status,
        )
        if decision == VALIDATION:
            result = invoice_route(invoice=result)
    invoice.status = result.status
    invoice.status_changed_at = result.status_changed_at
    return result


def invoice_valideur_correct(
    *,
    invoice: Invoice,
    by,
    structure: Structure,
    valideur: Structure,
    valideur_service: Service | None = None,
    channel: str,
    expected_status: str | None = None,
) -> Invoice:
    """The supplier names the right valideur after a valideur said it was not (`corriger/valideur/facture`).

    ERREUR_FOURNISSEUR_SUR_VALIDEUR replaces the level-1 valideur and goes back to A_VALIDER_1
    (`corriger_valideur`); ERREUR_COTRAITANT_SUR_VALIDEUR replaces the level-2 one and goes back to A_VALIDER_2
    (`corriger_valideur_2`: the level-1 validation stands). Either way the new valideur has a new 15-day
    window. The new valideur passes the same checks as at sending, and cannot be the structure that just
    declined.
    """
    if by is not None and not can_issue_for(user=by, structure=structure):
        raise PermissionDeniedError(
            f"Vous n'avez pas le droit de corriger les factures de {structure.designation} : il faut un abonnement "
            "à l'espace « Factures émises » avec l'habilitation « modification »."
        )
    with transaction.atomic():
        locked = Invoice.objects.select_for_update(of=("self",)).select_related("supplier").get(pk=invoice.pk)
        if expected_status is not None and locked.status != expected_status:
            raise ConflictError(
                f"La facture {locked.number} est passée au statut « {S(locked.status).label} » entre-temps : "
                "rechargez la page."
            )
        if locked.supplier_id != structure.pk:
            raise PermissionDeniedError(
                f"Seul le fournisseur de la facture {locked.number} peut en corriger le valideur."
            )
        if locked.status not in VALIDEUR_ERRORS:
            raise ApplicationError(
                f"Le valideur de la facture {locked.number} n'est pas à corriger (statut "
                f"« {S(locked.status).label} ») : seul un valideur ayant indiqué ne pas être le bon le permet.",
                code="valideur_non_a_corriger",
            )
        level = 1 if locked.status == S.ERREUR_FOURNISSEUR_SUR_VALIDEUR else 2
        field = "valideur" if level == 1 else "valideur2"
        declined = getattr(locked, field)
        if declined is not None and valideur.pk == declined.pk:
            raise ApplicationError(
                f"La structure {valideur.designation} a indiqué ne pas être le valideur de cette facture : "
                "désignez le titulaire du marché (ou le mandataire du groupement).",
                field="valideur",
                code="valideur_identique",
            )
        setattr(locked, field, valideur)
        setattr(locked, f"{field}_service", valideur_service)
        findings = check_valideurs(locked)
        if findings:
            raise ApplicationError(
                " ".join(f.message for f in findings),
                field=findings[0].field,
                code="valideur_invalide",
                extra={"findings": [f.as_dict() for f in findings]},
            )
        locked.save(update_fields=[field, f"{field}_service", "updated_at"])
        result = invoice_transition(
            invoice=locked,
            transition="corriger_valideur" if level == 1 else "corriger_valideur_2",
            actor=by if getattr(by, "pk", None) else None,
            actor_structure=structure,
            channel=channel,
            data={
                "niveau": level,
                "ancien_valideur": declined.pk if declined is not None else None,
                "nouveau_valideur": valideur.pk,
                "nouveau_service": valideur_service.pk if valideur_service is not None else None,
            },
            expected_status=locked.status,
        )
        audit_log(
            action="invoices.invoice.valideur_correct",
            actor=by,
            structure_id=structure.pk,
            target=result,
            data={"numero": result.number, "niveau": level, "valideur": valideur.identifier},
        )
    invoice.status = result.status
    invoice.status_changed_at = result.status_changed_at
    return result


def invoice_validate_tacitly(*, invoice: Invoice, now: datetime.datetime) -> Invoice | None:
    """Apply the tacit validation of the current level if its 15 days ran out by `now`, then route the invoice.

    Idempotent and safe against a valideur answering at the same moment: under the row lock, an invoice no
    longer waiting (or whose window was reopened by a correction) is left alone and None is returned.
    """
    with transaction.atomic():
        locked = Invoice.objects.select_for_update(of=("self",)).filter(pk=invoice.pk).first()
        if locked is None or locked.status not in TO_VALIDATE:
            return None
        deadline = validation_deadline(locked)
        if deadline > now:
            return None
        level = validation_level(locked)
        result = invoice_transition(
            invoice=locked,
            transition=f"valider_tacitement_{level}",
            channel=Channel.SYSTEME,
            comment=f"Aucune réponse du valideur de niveau {level} dans le délai de 15 jours.",
            data={"niveau": level, "echeance": deadline.isoformat()},
            expected_status=locked.status,
        )
        return invoice_route(invoice=result)


def invoices_validate_tacitly_due(*, now: datetime.datetime) -> list[Invoice]:
    """The scheduled job: every tacit validation due by `now` (catching up after a downtime), each in its own
    transaction so that one failure does not hold back the others."""
    done = []
    for invoice_id in list(invoices_validation_due(now=now).values_list("pk", flat=True)):
        result = invoice_validate_tacitly(invoice=Invoice(pk=invoice_id), now=now)
        if result is not None:
            done.append(result)
    return done
