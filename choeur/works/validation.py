"""The titulaire's validation of a sous-traitant's works drafts (A10, A11) before the MOE (chorus-pro.md §4, §6.3).

A10/A11 are deposited with, as valideur, the party the sous-traitant works for on the fiche marché (the titulaire
or the mandataire; for a sous-traitant of a cotraitant, the cotraitant, then the mandataire at level 2). The
platform routes them to A_VALIDER_1, and the valideur statuses and the 15-day tacit validation of the A9 circuit
apply. Once validated, expressly or tacitly, the draft goes to the MOE like an A4 (MISE_A_DISPOSITION_MOE): the
MOE's 7 days and the payment clock start there. A refusal stops the dossier.

The valideur answers from the dossier page or the API (`works_valideur_decide`), or from the generic « Factures à
valider » (validation_circuit.invoice_validate, which leaves works cadres where they are). `works_piece_sync`
then moves the dossier on; it is idempotent and runs after the valideur's answer, on the `invoice_status_changed`
signal and in the periodic job (catch-up, tacit validations).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.directory.models import Structure
from choeur.invoices.enums import Cadre, Channel, InvoiceStatus
from choeur.invoices.models import Invoice, InvoiceStatusChange
from choeur.invoices.validation_circuit import (
    MOTIFS_BY_CODE,
    TO_VALIDATE,
    current_valideur,
    invoice_validate_tacitly,
    refusal_motifs_for,
    validation_deadline,
    validation_level,
)
from choeur.invoices.workflow import invoice_transition
from choeur.works import circuit
from choeur.works.enums import DossierStatus, EventKind
from choeur.works.models import Dossier, DossierPiece
from choeur.works.services import _date, _event, _refresh_dossier, _require_can_act

S = InvoiceStatus
VALIDATED_1 = (S.VALIDEE_1, S.ABSENCE_VALIDATION_1_HORS_DELAI)
VALIDATED_2 = (S.VALIDEE_2, S.ABSENCE_VALIDATION_2_HORS_DELAI)
REFUSED = (S.REFUSEE_1, S.REFUSEE_2)
TACIT = (S.ABSENCE_VALIDATION_1_HORS_DELAI, S.ABSENCE_VALIDATION_2_HORS_DELAI)
# The statuses after which the dossier has to move on (the signal listens to these).
SYNC_STATUSES = frozenset({*VALIDATED_1, *VALIDATED_2, *REFUSED, *TO_VALIDATE})

VALIDATION = "VALIDATION"
REFUS = "REFUS"


def _motif(invoice: Invoice, motif: str, comment: str):
    code = (motif or "").strip().upper()
    allowed = refusal_motifs_for(invoice.cadre)
    found = MOTIFS_BY_CODE.get(code)
    if found is None and code.isdigit():
        found = next((m for m in allowed if m.id == int(code)), None)
    if not code or found is None or found not in allowed:
        codes = ", ".join(f"{m.code} ({m.label})" for m in allowed)
        raise ApplicationError(
            f"Refuser le projet de décompte du sous-traitant : choisissez un motif parmi {codes}.",
            field="motif",
            code="motif_obligatoire" if not code else "motif_inconnu",
        )
    if found.comment_required and not (comment or "").strip():
        raise ApplicationError(
            f"Motif « {found.label} » : précisez la raison du refus en commentaire.",
            field="comment",
            code="commentaire_obligatoire",
        )
    return found


def works_valideur_decide(
    *,
    dossier: Dossier,
    by,
    structure: Structure,
    decision: str,
    motif: str = "",
    comment: str = "",
    certified: bool = False,
    channel: str = Channel.PORTAIL,
) -> DossierPiece:
    """The titulaire (or the cotraitant, then the mandataire) validates or refuses, with a coded reason, the
    sous-traitant's draft the dossier waits on. The fiche names the valideur: « not the right valideur » is not
    offered here (the MOA or MOE corrects the fiche)."""
    decision = (decision or "").strip().upper()
    if decision not in (VALIDATION, REFUS):
        raise ApplicationError(
            f"Décision inconnue : « {decision} ». Choisissez VALIDATION ou REFUS.", field="decision",
            code="decision_inconnue",
        )  # fmt: skip
    _require_can_act(by, structure)
    with transaction.atomic():
        locked = Dossier.objects.select_for_update(of=("self",)).select_related("marche").get(pk=dossier.pk)
        piece = locked.last_piece
        invoice = piece.invoice if piece else None
        if locked.status != DossierStatus.EN_COURS or invoice is None or invoice.status not in TO_VALIDATE:
            state = f"dernière pièce : {piece.cadre_code}, {invoice.get_status_display().lower()}" if piece else "vide"
            raise ApplicationError(
                f"Le dossier {locked.reference} n'attend pas de validation du titulaire ({state}).",
                code="etape_inattendue",
            )
        level = validation_level(invoice)
        valideur = current_valideur(invoice)
        if valideur is None or valideur.pk != structure.pk:
            raise PermissionDeniedError(
                f"La pièce {piece.cadre_code} n° {invoice.number} se valide par "
                f"{valideur.designation if valideur else 'le titulaire'} (valideur de niveau {level} désigné par la "
                f"fiche du marché {locked.marche.numero}), pas par {structure.designation}."
            )
        data = {"niveau": level, "echeance": validation_deadline(invoice).isoformat(), "dossier": locked.reference}
        if decision == VALIDATION:
            transition, motif_code = f"valider_{level}", ""
            data["titulaire_certifie"] = bool(certified)
        else:
            found = _motif(invoice, motif, comment)
            transition, motif_code = f"refuser_{level}", found.code
            data["motif_libelle"] = found.label
        invoice_transition(
            invoice=invoice,
            transition=transition,
            actor=by if getattr(by, "pk", None) else None,
            actor_structure=structure,
            channel=channel,
            motif=motif_code,
            comment=(comment or "").strip(),
            data=data,
            expected_status=invoice.status,
        )
        works_piece_sync(invoice=invoice)
    piece.invoice.refresh_from_db()
    dossier.refresh_from_db()
    return piece


def _last_change(invoice: Invoice) -> InvoiceStatusChange | None:
    return invoice.status_changes.select_related("actor_structure").order_by("-created_at", "-id").first()


def works_piece_sync(*, invoice: Invoice, now: datetime | None = None) -> Dossier | None:
    """Move the dossier of a sous-traitant's draft on after its valideur's answer: to the level-2 valideur, to
    the MOE, or stopped. Does nothing for other documents, or when the dossier already moved on."""
    piece = DossierPiece.objects.filter(invoice_id=invoice.pk).first()
    if piece is None or Cadre(piece.cadre) not in circuit.TITULAIRE_VALIDATION:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        dossier = (
            Dossier.objects.select_for_update(of=("self",))
            .select_related("marche", "company__structure")
            .get(pk=piece.dossier_id)
        )
        current = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        if dossier.status != DossierStatus.EN_COURS or dossier.waiting_for != circuit.VALIDEUR:
            return dossier
        if dossier.last_piece.pk != piece.pk:
            return dossier
        change = _last_change(current)
        who = change.actor_structure.designation if change and change.actor_structure else "le valideur"
        label = f"{piece.cadre_code} n° {current.number}"
        if current.status in TO_VALIDATE:
            # Still waiting (e.g. the supplier named another valideur): the deadline follows the status.
            dossier.deadline = validation_deadline(current)
            dossier.save(update_fields=["deadline", "updated_at"])
        elif current.status in REFUSED:
            dossier.status, dossier.waiting_for, dossier.deadline = DossierStatus.REFUSE, "", None
            dossier.save(update_fields=["status", "waiting_for", "deadline", "updated_at"])
            reason = change.data.get("motif_libelle") or change.motif if change else ""
            _event(
                dossier,
                EventKind.REFUS,
                f"{who} a refusé la pièce {label} du sous-traitant : {reason}"
                f"{f' — {change.comment}' if change and change.comment else ''}. Le circuit du dossier est arrêté.",
                structure=change.actor_structure if change else None,
                piece=piece,
                data={"code_motif": change.motif if change else ""},
            )
        elif current.status in (*VALIDATED_1, *VALIDATED_2):
            tacit = current.status in TACIT
            level = 1 if current.status in VALIDATED_1 else 2
            validated = (
                f"La pièce {label} est validée tacitement : pas de réponse du valideur de niveau {level} dans le "
                "délai de 15 jours."
                if tacit
                else f"{who} a validé la pièce {label} du sous-traitant."
            )
            if level == 1 and current.valideur2_id:
                invoice_transition(
                    invoice=current, transition="soumettre_valideur_2", channel=Channel.SYSTEME,
                    data={"niveau": 2, "dossier": dossier.reference},
                )  # fmt: skip
                current.refresh_from_db()
                dossier.deadline = validation_deadline(current)
                dossier.save(update_fields=["deadline", "updated_at"])
                message = f"{validated} Elle passe à {current.valideur2.designation} (valideur de niveau 2)."
            else:
                invoice_transition(
                    invoice=current,
                    transition="mettre_a_disposition_moe",
                    channel=Channel.SYSTEME,
                    data={"dossier": dossier.reference, "debut_delai_paiement": now.isoformat()},
                )
                _refresh_dossier(dossier, piece=piece, route="mettre_a_disposition_moe", now=now)
                moe = dossier.marche.moe
                message = (
                    f"{validated} Elle est transmise à "
                    + (f"{moe.structure.designation} (maîtrise d'œuvre)" if moe else "la maîtrise d'œuvre")
                    + (f", qui la traite avant le {_date(dossier.moe_deadline)}." if dossier.moe_deadline else ".")
                )
            _event(
                dossier,
                EventKind.VALIDATION,
                message,
                structure=None if tacit or change is None else change.actor_structure,
                piece=piece,
                data={"niveau": level, "tacite": tacit},
            )
            audit_log(
                action="works.piece.validation_titulaire",
                structure_id=dossier.company.structure_id,
                target=current,
                data={"dossier": dossier.reference, "niveau": level, "tacite": tacit},
            )
    return dossier


def works_validations_due(*, now: datetime) -> int:
    """The periodic job: the tacit validations of sous-traitants' drafts whose 15 days ran out by `now`, and the
    dossiers still waiting on a draft that was answered elsewhere (catch-up). Each dossier in its own
    transaction; safe to run twice."""
    done = 0
    pending = DossierPiece.objects.filter(
        cadre__in=[c.value for c in circuit.TITULAIRE_VALIDATION],
        dossier__status=DossierStatus.EN_COURS,
        dossier__waiting_for=circuit.VALIDEUR,
    ).values_list("invoice_id", flat=True)
    for invoice_id in list(pending):
        invoice = Invoice.objects.get(pk=invoice_id)
        if invoice.status in TO_VALIDATE:
            if validation_deadline(invoice) > now:
                continue
            invoice_validate_tacitly(invoice=invoice, now=now)
        before = Dossier.objects.filter(pieces__invoice_id=invoice_id).values_list("waiting_for", "deadline").first()
        works_piece_sync(invoice=invoice, now=now)
        after = Dossier.objects.filter(pieces__invoice_id=invoice_id).values_list("waiting_for", "deadline").first()
        done += int(before != after)
    return done


def on_invoice_status_changed(sender, change, **kwargs) -> None:
    """Signal receiver: a valideur answered a sous-traitant's draft outside the works screens."""
    if change.to_status in SYNC_STATUSES and Cadre(change.invoice.cadre) in circuit.TITULAIRE_VALIDATION:
        works_piece_sync(invoice=change.invoice)
