"""What happens to a payment request after it reached its recipient (chorus-pro.md §6.2).

The recipient processes it (« Factures reçues »: service fait → mandatée → mise à disposition du comptable →
comptabilisée → mise en paiement, optional steps skipped but order kept), or returns it to the supplier
with a coded reason (à recycler, suspendue, rejetée). The supplier answers: completes a suspended
invoice, recycles one to recycle (new routing, same number), acknowledges rejections.

Every status change goes through `workflow.invoice_transition` (lock, table, log, audit, side effects);
this module adds who may act (espaces and habilitations), the coded reasons, the mandate number, the
attachments of a completion and the routing checks of a recycling. The portal and both APIs call these
services, so the same rules hold whatever the door.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from choeur.directory.enums import EspaceCode
from choeur.directory.models import Service, Structure
from choeur.invoices.cadres import cadre_rule
from choeur.invoices.checks import check_engagement, check_recipient, check_recipient_service
from choeur.invoices.computations import format_amount
from choeur.invoices.enums import ActorRole, Channel, InvoiceEventAction, InvoiceStatus, InvoiceType
from choeur.invoices.models import Invoice, InvoiceEvent, InvoiceStatusChange
from choeur.invoices.payment_clock import (
    FIXED_INDEMNITY,
    MINIMUM_DAYS_AFTER_SUSPENSION,
    PENALTY_POINTS,
    Suspension,
    compute_payment_clock,
)
from choeur.invoices.selectors import structures_of, user_can
from choeur.invoices.workflow import (
    TRANSITIONS_BY_NAME,
    Transition,
    invoice_transition,
    roles_of,
    transitions_from,
)

S = InvoiceStatus

# --- Coded reasons ----------------------------------------------------------------------------------------

# Chorus Pro serves its reasons from `transverses/v1/recuperer/motifs/...`, whose lists were not seen
# (chorus-pro.md §6.3): these are Chœur's own, one list per return, matching what each return means —
# à recycler: wrong routing data; suspendue: missing documents; rejetée: wrong invoicing data.
MOTIFS: dict[str, list[tuple[str, str]]] = {
    "a_recycler": [
        ("ERREUR_DESTINATAIRE", "Erreur de destinataire (la facture n'est pas pour notre structure)"),
        ("ERREUR_CODE_SERVICE", "Code service exécutant erroné ou absent"),
        ("ERREUR_ENGAGEMENT", "Numéro d'engagement (bon de commande) erroné ou absent"),
        ("ERREUR_ACHEMINEMENT_AUTRE", "Autre erreur d'acheminement (précisez en commentaire)"),
    ],
    "suspendre": [
        ("PIECE_JUSTIFICATIVE_MANQUANTE", "Pièce justificative manquante"),
        ("BON_DE_LIVRAISON_MANQUANT", "Bon de livraison ou procès-verbal de réception manquant"),
        ("ATTESTATION_MANQUANTE", "Attestation obligatoire manquante (sous-traitance, assurance…)"),
        ("PIECE_ILLISIBLE", "Pièce jointe illisible ou incomplète"),
        ("AUTRE_PIECE", "Autre document attendu (précisez en commentaire)"),
    ],
    "rejeter": [
        ("DOUBLE_FACTURE", "Facture déjà reçue (doublon)"),
        ("ERREUR_MONTANT", "Montant erroné"),
        ("ERREUR_TVA", "TVA erronée (taux, montant ou mention d'exonération)"),
        ("ERREUR_QUANTITE_PRIX", "Quantités ou prix non conformes à la commande"),
        ("PRESTATION_NON_CONFORME", "Prestation non conforme ou non réalisée"),
        ("MARCHE_OU_COMMANDE_INCONNU", "Marché ou commande inconnu(e)"),
        ("MENTIONS_OBLIGATOIRES", "Mentions obligatoires absentes ou erronées"),
        ("COORDONNEES_BANCAIRES", "Coordonnées bancaires erronées"),
        ("AUTRE_REJET", "Autre motif de rejet (précisez en commentaire)"),
    ],
}

# The recipient's actions (« traiter une facture reçue »); the table says from where and to what.
RECIPIENT_TRANSITIONS = (
    "service_fait",
    "mandater",
    "mettre_a_disposition_comptable",
    "comptabiliser",
    "mettre_en_paiement",
    "a_recycler",
    "suspendre",
    "rejeter",
)

# Which espace (and habilitation « modification ») a person needs to act in each role.
ROLE_ESPACES = {
    ActorRole.FOURNISSEUR: EspaceCode.FACTURES_EMISES,
    ActorRole.DESTINATAIRE: EspaceCode.FACTURES_RECUES,
    ActorRole.VALIDEUR: EspaceCode.FACTURES_A_VALIDER,
    ActorRole.MOE: EspaceCode.FACTURES_TRAVAUX,
    ActorRole.MOA: EspaceCode.FACTURES_TRAVAUX,
}

NUMERO_DP_MANDAT_MAX_LENGTH = 50
ACKNOWLEDGEMENT_GRACE_DAYS = 7
MACHINE_CHANNELS = (Channel.API, Channel.EDI, Channel.SYSTEME)


def motif_label(transition: str, code: str) -> str:
    """The French label of a coded reason (the code itself when unknown, e.g. a valideur's free text)."""
    return dict(MOTIFS.get(transition, [])).get(code, code)


def _clean_motif(transition: str, motif: str) -> str:
    """The code of `motif` (a code, any case, or its exact label); French error listing the codes otherwise."""
    choices = MOTIFS[transition]
    wanted = (motif or "").strip()
    if not wanted:
        raise ApplicationError(
            f"{TRANSITIONS_BY_NAME[transition].label} : choisissez un motif dans la liste.",
            field="motif",
            code="motif_obligatoire",
        )
    for code, label in choices:
        if wanted.upper() == code or wanted == label:
            return code
    raise ApplicationError(
        f"Motif « {wanted} » inconnu pour l'action « {TRANSITIONS_BY_NAME[transition].label} ». "
        f"Motifs possibles : {', '.join(code for code, _ in choices)}.",
        field="motif",
        code="motif_inconnu",
    )


def _check_actor(*, by, structure: Structure | None, espace: str, channel: str, what: str) -> None:
    """A person must hold the espace with « modification » on `structure`; without a person, only a machine
    channel (API, EDI: the calling layer authenticated the technical account for the structure) may act."""
    if channel not in Channel.values:
        raise ApplicationError(f"Canal inconnu : « {channel} ».", code="canal_inconnu")
    if structure is None:
        raise ApplicationError(f"{what} : indiquez la structure pour laquelle vous agissez.", field="structure")
    if by is None:
        if channel not in MACHINE_CHANNELS:
            raise PermissionDeniedError(f"{what} : connectez-vous pour agir sur le portail.")
        return
    if not user_can(by, structure, espace, write=True):
        raise PermissionDeniedError(
            f"{what} : il faut, pour {structure.designation}, un abonnement à l'espace "
            f"« {EspaceCode(espace).label} » avec l'habilitation « modification »."
        )


def _person(by):
    return by if getattr(by, "pk", None) else None


# --- Recipient: process a received invoice ----------------------------------------------------------------


def invoice_process(
    *,
    invoice: Invoice,
    by,
    structure: Structure,
    transition: str,
    motif: str = "",
    comment: str = "",
    numero_dp_mandat: str = "",
    channel: str = Channel.PORTAIL,
    expected_status: str | None = None,
) -> Invoice:
    """The recipient acts on an invoice it received (API `traiter/recue`).

    `transition` is one of RECIPIENT_TRANSITIONS. À recycler, suspendre and rejeter need a coded reason
    (MOTIFS) and a comment saying what is wrong; mandater needs the mandate number (`numeroDPMandat`).
    `expected_status` is the status the person saw: ConflictError if someone acted first. `by` is None
    when a technical account acts through the API for `structure`.
    """
    definition = TRANSITIONS_BY_NAME.get(transition)
    if definition is None or transition not in RECIPIENT_TRANSITIONS:
        raise ApplicationError(
            f"Action « {transition} » inconnue pour une facture reçue. Actions possibles : "
            f"{', '.join(RECIPIENT_TRANSITIONS)}.",
            field="transition",
            code="transition_inconnue",
        )
    _check_actor(by=by, structure=structure, espace=EspaceCode.FACTURES_RECUES, channel=channel, what=definition.label)
    comment = (comment or "").strip()
    data: dict = {}
    code = ""
    if transition in MOTIFS:
        code = _clean_motif(transition, motif)
        if not comment:
            raise ApplicationError(
                f"{definition.label} : expliquez au fournisseur en commentaire ce qu'il doit corriger.",
                field="comment",
                code="commentaire_obligatoire",
            )
        data["motif_libelle"] = motif_label(transition, code)
    numero = (numero_dp_mandat or "").strip()
    if transition == "mandater":
        if not numero:
            raise ApplicationError(
                "Mandater : indiquez le numéro de mandat (numéro de la demande de paiement mandatée).",
                field="numero_dp_mandat",
                code="numero_mandat_obligatoire",
            )
        if len(numero) > NUMERO_DP_MANDAT_MAX_LENGTH:
            raise ApplicationError(
                f"Numéro de mandat : {NUMERO_DP_MANDAT_MAX_LENGTH} caractères au plus ({len(numero)} saisis).",
                field="numero_dp_mandat",
                code="numero_mandat_invalide",
            )
        data["numero_dp_mandat"] = numero
    with transaction.atomic():
        result = invoice_transition(
            invoice=invoice,
            transition=transition,
            actor=_person(by),
            actor_structure=structure,
            channel=channel,
            motif=code,
            comment=comment,
            data=data,
            expected_status=expected_status,
        )
        if transition == "mandater":
            # A lifecycle field: the model's immutability guard lets it move after sending.
            result.numero_dp_mandat = numero
            result.save(update_fields=["numero_dp_mandat", "updated_at"])
    invoice.numero_dp_mandat = result.numero_dp_mandat
    return result


# --- Supplier: complete a suspended invoice ---------------------------------------------------------------


def _lock(invoice: Invoice, expected_status: str | None) -> Invoice:
    locked = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
    if expected_status is not None and locked.status != expected_status:
        raise ConflictError(
            f"La facture {locked.number} est passée au statut « {S(locked.status).label} » entre-temps : "
            "rechargez la page."
        )
    return locked


def _require_supplier(invoice: Invoice, structure: Structure, what: str) -> None:
    if invoice.supplier_id != structure.pk:
        raise PermissionDeniedError(f"{what} : action réservée au fournisseur de la facture {invoice.number}.")


def invoice_complete(
    *,
    invoice: Invoice,
    by,
    structure: Structure,
    comment: str = "",
    attachments: Sequence[tuple[str, bytes]] = (),
    channel: str,
    expected_status: str | None = None,
) -> Invoice:
    """SUSPENDUE → COMPLETEE: the supplier adds the missing documents and/or a comment (API `completer`).

    Attachments go through the same checks as a draft's (name, extension, content, 10 Mo each, 120 Mo in
    all) and record the status they were added in. All or nothing: one bad file, nothing is added.
    """
    from choeur.invoices.services import invoice_attachment_add

    what = "Compléter la facture"
    _check_actor(by=by, structure=structure, espace=EspaceCode.FACTURES_EMISES, channel=channel, what=what)
    comment = (comment or "").strip()
    attachments = list(attachments or ())
    if not comment and not attachments:
        raise ApplicationError(
            f"{what} : joignez au moins une pièce ou écrivez un commentaire pour le destinataire.",
            field="attachments",
            code="completement_vide",
        )
    with transaction.atomic():
        locked = _lock(invoice, expected_status)
        _require_supplier(locked, structure, what)
        if locked.status != S.SUSPENDUE:
            raise ApplicationError(
                f"{what} : seule une facture suspendue se complète (statut actuel : « {S(locked.status).label} »).",
                code="transition_impossible",
            )
        names = []
        for name, content in attachments:
            added = invoice_attachment_add(invoice=locked, by=_person(by), name=name, content=content, channel=channel)
            names.append(added.name)
        result = invoice_transition(
            invoice=locked,
            transition="completer",
            actor=_person(by),
            actor_structure=structure,
            channel=channel,
            comment=comment,
            data={"pieces_jointes": names} if names else {},
            expected_status=S.SUSPENDUE,
        )
    invoice.status = result.status
    return result


# --- Supplier: recycle an invoice to recycle --------------------------------------------------------------


def invoice_recycle(
    *,
    invoice: Invoice,
    by,
    structure: Structure,
    recipient: Structure,
    recipient_service: Service | None = None,
    numero_engagement: str = "",
    channel: str,
    expected_status: str | None = None,
) -> Invoice:
    """A_RECYCLER → DEPOSEE → re-routed, same number: the supplier corrects the routing data (API `recycler`).

    The new recipient, service and engagement pass the same routing checks as a sending; on any finding,
    French error and nothing changes. The invoice is then made available to its new recipient.
    """
    what = "Recycler la facture"
    _check_actor(by=by, structure=structure, espace=EspaceCode.FACTURES_EMISES, channel=channel, what=what)
    if recipient is None:
        raise ApplicationError(f"{what} : indiquez le destinataire.", field="recipient", code="DESTINATAIRE_ABSENT")
    engagement = (numero_engagement or "").strip()
    with transaction.atomic():
        locked = _lock(invoice, expected_status)
        _require_supplier(locked, structure, what)
        if locked.status != S.A_RECYCLER:
            raise ApplicationError(
                f"{what} : seule une facture à recycler se recycle (statut actuel : « {S(locked.status).label} »).",
                code="transition_impossible",
            )
        before = {
            "destinataire": locked.recipient.identifier if locked.recipient_id else "",
            "service": locked.recipient_service.code if locked.recipient_service_id else "",
            "engagement": locked.numero_engagement,
        }
        locked.recipient = recipient
        locked.recipient_service = recipient_service
        locked.numero_engagement = engagement
        after = {
            "destinataire": recipient.identifier,
            "service": recipient_service.code if recipient_service else "",
            "engagement": engagement,
        }
        if before == after:
            raise ApplicationError(
                f"{what} : modifiez le destinataire, le service exécutant ou le numéro d'engagement — "
                "la facture a été retournée parce que l'un d'eux est erroné.",
                field="recipient",
                code="recyclage_sans_changement",
            )
        findings = check_recipient(locked) + check_recipient_service(locked) + check_engagement(locked)
        if findings:
            summary = findings[0].message if len(findings) == 1 else f"{len(findings)} points sont à corriger."
            raise ApplicationError(
                f"La facture ne peut pas être recyclée : {summary}",
                field=findings[0].field,
                code="CONTROLES",
                extra={"findings": [f.as_dict() for f in findings]},
            )
        locked.save(update_fields=["recipient", "recipient_service", "numero_engagement", "updated_at"])
        result = invoice_transition(
            invoice=locked,
            transition="recycler",
            actor=_person(by),
            actor_structure=structure,
            channel=channel,
            data={"avant": before, "apres": after},
            expected_status=S.A_RECYCLER,
        )
        audit_log(
            action="invoices.invoice.recycle",
            actor=_person(by),
            structure_id=structure.pk,
            target=result,
            data={"numero": result.number, "avant": before, "apres": after},
        )
        # Straight to the new recipient: valideurs (A9/A12) already validated before the recipient returned
        # it. Works cadres stay DEPOSEE, where their MOE/MOA circuit (the works app) takes them.
        if not cadre_rule(result.cadre).is_works:
            result = invoice_transition(invoice=result, transition="mettre_a_disposition", channel=Channel.SYSTEME)
    invoice.status = result.status
    return result


# --- Supplier: acknowledge rejections and suspensions -----------------------------------------------------


def _suspension_acknowledged():
    return Exists(
        InvoiceEvent.objects.filter(
            invoice=OuterRef("pk"),
            action=InvoiceEventAction.ACQUITTEMENT_SUSPENSION,
            created_at__gte=OuterRef("status_changed_at"),
        )
    )


def _unacknowledged(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    return queryset.alias(suspension_seen=_suspension_acknowledged()).filter(
        Q(status=S.REJETEE, rejet_traite=False) | Q(status=S.SUSPENDUE, suspension_seen=False)
    )


def _acknowledging_structures(user) -> list[Structure]:
    """The user's structures where they may act on issued invoices (only they can acknowledge)."""
    return [s for s in structures_of(user) if user_can(user, s, EspaceCode.FACTURES_EMISES, write=True)]


def rejections_pending(*, user) -> QuerySet[Invoice]:
    """Rejected or suspended invoices of the user's supplier structures not acknowledged yet, oldest first."""
    if not getattr(user, "is_authenticated", False):
        return Invoice.objects.none()
    candidates = _unacknowledged(Invoice.objects.filter(supplier__in=structures_of(user)))
    # Cheap first: most people have nothing pending, and the espace check costs a few queries per structure.
    supplier_ids = set(candidates.values_list("supplier_id", flat=True).distinct())
    if not supplier_ids:
        return Invoice.objects.none()
    allowed = [s.pk for s in _acknowledging_structures(user) if s.pk in supplier_ids]
    return (
        candidates.filter(supplier_id__in=allowed)
        .select_related("supplier", "recipient")
        .order_by("status_changed_at", "id")
    )


def user_blocked_by_rejections(*, user, now=None) -> bool:
    """True when a rejection or suspension has waited more than 7 days for the user's acknowledgement:
    Chorus Pro then makes the acknowledgement mandatory at login (chorus-pro.md §6.2)."""
    if not getattr(user, "is_authenticated", False):
        return False
    limit = (now or timezone.now()) - timedelta(days=ACKNOWLEDGEMENT_GRACE_DAYS)
    overdue = _unacknowledged(Invoice.objects.filter(supplier__in=structures_of(user), status_changed_at__lt=limit))
    if not overdue.exists():
        return False
    return rejections_pending(user=user).filter(status_changed_at__lt=limit).exists()


def invoice_rejection_acknowledge(
    *, invoices: Iterable[Invoice | int], by, structure: Structure, channel: str
) -> list[Invoice]:
    """The supplier takes note of rejected (and suspended) invoices (API `traiterRejet`).

    A REJETEE invoice gets `rejet_traite` and a TRAITEMENT_REJET event; a SUSPENDUE one an
    ACQUITTEMENT_SUSPENSION event (the supplier then completes it). Already acknowledged ones are left as
    they are. All or nothing: one invoice that cannot be acknowledged, none is.
    """
    what = "Traiter le rejet"
    _check_actor(by=by, structure=structure, espace=EspaceCode.FACTURES_EMISES, channel=channel, what=what)
    ids = [item.pk if isinstance(item, Invoice) else int(item) for item in invoices]
    if not ids:
        raise ApplicationError(f"{what} : choisissez au moins une facture.", field="invoices")
    done = []
    with transaction.atomic():
        locked = {i.pk: i for i in Invoice.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")}
        for pk in ids:
            invoice = locked.get(pk)
            if invoice is None or invoice.supplier_id != structure.pk:
                # Never say whether another structure's invoice exists.
                raise NotFoundError(f"Facture n°{pk} introuvable parmi les factures de {structure.designation}.")
            if invoice.status not in (S.REJETEE, S.SUSPENDUE):
                raise ApplicationError(
                    f"{what} : la facture {invoice.number} n'est ni rejetée ni suspendue "
                    f"(statut « {S(invoice.status).label} »).",
                    code="transition_impossible",
                )
        for pk in dict.fromkeys(ids):
            invoice = locked[pk]
            if invoice.status == S.REJETEE:
                if invoice.rejet_traite:
                    continue
                action = InvoiceEventAction.TRAITEMENT_REJET
                invoice.rejet_traite = True
                invoice.save(update_fields=["rejet_traite", "updated_at"])
            else:
                if InvoiceEvent.objects.filter(
                    invoice=invoice,
                    action=InvoiceEventAction.ACQUITTEMENT_SUSPENSION,
                    created_at__gte=invoice.status_changed_at,
                ).exists():
                    continue
                action = InvoiceEventAction.ACQUITTEMENT_SUSPENSION
            InvoiceEvent.objects.create(
                invoice=invoice,
                action=action,
                actor_user=_person(by),
                actor_label=getattr(by, "email", "") or f"{structure.designation} ({Channel(channel).label})",
                actor_structure=structure,
                channel=channel,
                data={"statut": invoice.status},
            )
            audit_log(
                action=f"invoices.invoice.{action.lower()}",
                actor=_person(by),
                structure_id=structure.pk,
                target=invoice,
                data={"numero": invoice.number, "statut": invoice.status},
            )
            done.append(invoice)
    return done


# --- What a person may do now -----------------------------------------------------------------------------


def invoice_actions_for(*, invoice: Invoice, user) -> list[Transition]:
    """The transitions `user` may fire on `invoice` now, in table order: those leaving the current status,
    open to a role one of the user's structures plays towards the invoice, in whose espace the user holds
    « modification ». Platform-only steps (SYSTEME) are never offered."""
    if not getattr(user, "is_authenticated", False):
        return []
    party_ids = {
        invoice.supplier_id,
        invoice.recipient_id,
        invoice.valideur_id,
        invoice.valideur2_id,
        invoice.moe_id,
        invoice.moa_id,
    } - {None}
    roles: set[str] = set()
    for structure in structures_of(user).filter(pk__in=party_ids):
        for role in roles_of(invoice, structure):
            espace = ROLE_ESPACES.get(role)
            if espace and user_can(user, structure, espace, write=True):
                roles.add(role)
    return [t for t in transitions_from(invoice.status) if t.roles & roles]


def invoice_action_structure(*, invoice: Invoice, user, transition: str) -> Structure | None:
    """The user's structure that would fire `transition` on `invoice` (for a view to pass to the service)."""
    definition = TRANSITIONS_BY_NAME.get(transition)
    if definition is None:
        return None
    for structure in structures_of(user):
        for role in roles_of(invoice, structure) & definition.roles:
            espace = ROLE_ESPACES.get(role)
            if espace and user_can(user, structure, espace, write=True):
                return structure
    return None


# --- What the supplier is shown ---------------------------------------------------------------------------


def payment_status_hidden(invoice: Invoice) -> bool:
    """True when the recipient (or its service) does not report « mise en paiement » to suppliers."""
    recipient = invoice.recipient
    if recipient is not None and recipient.mise_en_paiement_non_remontee:
        return True
    service = invoice.recipient_service
    return service is not None and not service.mise_en_paiement


def status_for_supplier(invoice: Invoice) -> str:
    """The status the supplier sees: MISE_EN_PAIEMENT is hidden when the recipient does not report it (the
    supplier sees the step before)."""
    if invoice.status != S.MISE_EN_PAIEMENT or not payment_status_hidden(invoice):
        return invoice.status
    change = InvoiceStatusChange.objects.filter(invoice=invoice, to_status=S.MISE_EN_PAIEMENT).order_by("-id").first()
    return change.from_status if change else invoice.status


def status_changes_for(*, invoice: Invoice, structure: Structure | None) -> list[InvoiceStatusChange]:
    """The status history as `structure` may see it: the supplier does not see a hidden mise en paiement."""
    changes = list(InvoiceStatusChange.objects.for_invoice(invoice).select_related("actor_user", "actor_structure"))
    is_recipient = structure is not None and structure.pk == invoice.recipient_id
    if not is_recipient and payment_status_hidden(invoice):
        changes = [c for c in changes if c.to_status != S.MISE_EN_PAIEMENT]
    return changes


# --- Payment clock ----------------------------------------------------------------------------------------

# Works invoices: the clock starts when the MOE receives the payment request (platform-notes.md §6.1).
MOE_RECEPTION_STATUSES = (S.A_VALIDER_MOE, S.MISE_A_DISPOSITION_MOE, S.A_ASSOCIER_MOE, S.PRISE_EN_COMPTE_MOE)
# No payment is due: a draft, a rejected (cancelled) invoice, one back with the supplier for re-routing.
NO_CLOCK_STATUSES = (S.BROUILLON, S.REJETEE, S.A_RECYCLER, S.ABANDONNEE, S.SUPPRIMEE, S.REFUSEE_1, S.REFUSEE_2)


def _date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _suspensions(changes: list[InvoiceStatusChange], since) -> list[Suspension]:
    suspensions: list[Suspension] = []
    start = None
    for change in changes:
        if change.created_at < since:
            continue
        if change.to_status == S.SUSPENDUE and start is None:
            start = change.created_at
        elif change.from_status == S.SUSPENDUE and start is not None:
            suspensions.append(Suspension(timezone.localtime(start), timezone.localtime(change.created_at)))
            start = None
    if start is not None:
        suspensions.append(Suspension(timezone.localtime(start), None))
    return suspensions


def _works_clock_start(changes) -> datetime.datetime | None:
    """The `debut_delai_paiement` recorded by the works app on the routing of a works document, if any."""
    for change in changes:
        value = (change.data or {}).get("debut_delai_paiement") if change.to_status == S.MISE_A_DISPOSITION else None
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is not None:
            return parsed
    return None


def invoice_payment_clock_view(*, invoice: Invoice, today=None, for_supplier: bool = False) -> dict:
    """The legal payment clock of `invoice`, as the portal and the API show it to both sides.

    Keys: applicable, start, start_reason, delay_days, deadline, suspended, suspended_days, suspensions,
    paid_on, days_left, days_late, is_late, interest_rate, interest, indemnity, total_due, amount,
    explanation (French), and *_display strings. `for_supplier`: a payment the recipient does not report
    is not shown (the clock keeps running, as the supplier sees it).
    """
    today = today or timezone.localdate()
    status = invoice.status
    base = {
        "applicable": False,
        "start": None,
        "start_reason": "",
        "delay_days": None,
        "deadline": None,
        "suspended": False,
        "suspended_days": 0,
        "suspensions": [],
        "paid_on": None,
        "days_left": None,
        "days_late": 0,
        "is_late": False,
        "interest_rate": None,
        "interest": Decimal("0.00"),
        "indemnity": Decimal("0.00"),
        "total_due": Decimal("0.00"),
        "amount": None,
    }
    if invoice.invoice_type == InvoiceType.AVOIR:
        return {**base, "explanation": "Un avoir ne donne pas lieu à paiement : pas de délai de paiement."}
    if status in NO_CLOCK_STATUSES or invoice.deposited_at is None:
        reasons = {
            S.BROUILLON: "La facture n'est pas encore envoyée : le délai de paiement partira de son dépôt.",
            S.REJETEE: "La facture a été rejetée : elle est annulée et aucun délai de paiement ne court.",
            S.A_RECYCLER: "La facture est à recycler : le délai de paiement repartira de sa réception par le bon "
            "destinataire.",
        }
        return {
            **base,
            "explanation": reasons.get(status, "Aucun délai de paiement ne court pour une facture à ce statut."),
        }

    changes = list(InvoiceStatusChange.objects.for_invoice(invoice))
    start, start_reason = invoice.deposited_at, "dépôt de la facture sur Chœur"
    moe = next((c for c in changes if c.to_status in MOE_RECEPTION_STATUSES), None)
    if invoice.moe_id and moe is not None:
        start, start_reason = moe.created_at, "réception de la demande de paiement par la maîtrise d'œuvre"
    elif invoice.moe_id:
        # A works document that reaches the payer (A19…) never went through the MOE itself: the works app
        # records, on its routing to the payer, when the MOE received the company's draft of the dossier.
        recorded = _works_clock_start(changes)
        if recorded is not None:
            start, start_reason = recorded, "réception de la demande de paiement par la maîtrise d'œuvre"
    recycled = [c for c in changes if c.transition == "recycler"]
    if recycled:
        start, start_reason = recycled[-1].created_at, "recyclage de la facture vers le bon destinataire"
    start = timezone.localtime(start)
    payer = invoice.recipient or invoice.moa
    delay = payer.effective_payment_delay_days if payer is not None else 30
    paid = next((c for c in reversed(changes) if c.to_status == S.MISE_EN_PAIEMENT), None)
    hidden = for_supplier and payment_status_hidden(invoice)
    paid_on = timezone.localdate(paid.created_at) if paid is not None and not hidden else None
    amount = invoice.montant_a_payer if invoice.montant_a_payer is not None else (invoice.total_ttc or Decimal(0))
    suspensions = _suspensions(changes, start)
    clock = compute_payment_clock(
        started_at=start,
        delay_days=delay,
        amount=amount,
        today=today,
        suspensions=suspensions,
        paid_on=paid_on,
    )
    reference = paid_on or today
    suspended_days = sum(((s.end.date() if s.end else reference) - s.start.date()).days for s in suspensions)
    payer_name = payer.designation if payer is not None else "le destinataire"
    parts = [
        f"Le délai global de paiement de {payer_name} est de {delay} jours ; il court depuis le "
        f"{_date(start)} ({start_reason})."
    ]
    if clock.suspended:
        parts.append(
            "Il est suspendu depuis que la facture a été suspendue : il reprendra quand vous la compléterez, "
            f"avec au moins {MINIMUM_DAYS_AFTER_SUSPENSION} jours restants."
        )
    elif suspensions:
        parts.append(
            f"Il a été suspendu {suspended_days} jour(s) pendant la suspension de la facture ; l'échéance en tient "
            "compte."
        )
    if clock.deadline is not None:
        if paid_on is not None:
            when = "dans le délai" if not clock.is_late else f"avec {clock.days_late} jour(s) de retard"
            parts.append(f"La facture a été mise en paiement le {_date(paid_on)}, {when}.")
        elif clock.is_late:
            parts.append(f"L'échéance du {_date(clock.deadline)} est dépassée de {clock.days_late} jour(s).")
        else:
            parts.append(f"Échéance : {_date(clock.deadline)}, dans {clock.days_left} jour(s).")
    if clock.is_late:
        parts.append(
            f"Le retard ouvre droit à des intérêts moratoires au taux de {clock.interest_rate} % par an (taux de la "
            f"BCE + {PENALTY_POINTS} points), soit {format_amount(clock.interest, invoice.currency)}, et à "
            f"l'indemnité forfaitaire de {format_amount(FIXED_INDEMNITY, invoice.currency)} pour frais de "
            "recouvrement (Code de la commande publique, art. R. 2192-31 et suivants)."
        )
    if for_supplier and hidden:
        parts.append("Ce destinataire ne transmet pas le statut « mise en paiement » : le paiement n'apparaît pas.")
    return {
        **base,
        "applicable": True,
        "start": start,
        "start_reason": start_reason,
        "delay_days": delay,
        "deadline": clock.deadline,
        "suspended": clock.suspended,
        "suspended_days": suspended_days,
        "suspensions": [{"debut": s.start, "fin": s.end} for s in suspensions],
        "paid_on": paid_on,
        "days_left": clock.days_left,
        "days_late": clock.days_late,
        "is_late": clock.is_late,
        "interest_rate": clock.interest_rate,
        "interest": clock.interest,
        "indemnity": clock.indemnity,
        "total_due": clock.total_due_for_lateness,
        "amount": amount,
        "start_display": _date(start),
        "deadline_display": _date(clock.deadline),
        "interest_display": format_amount(clock.interest, invoice.currency),
        "indemnity_display": format_amount(clock.indemnity, invoice.currency),
        "explanation": " ".join(parts),
    }


# --- Piste d'audit (re-exported: the implementation lives in audit_trail.py) ------------------------------


def invoice_audit_trail_json(*, invoice: Invoice, for_supplier: bool = False) -> dict:
    from choeur.invoices.audit_trail import audit_trail_data

    return audit_trail_data(invoice=invoice, for_supplier=for_supplier)


def invoice_audit_trail_pdf(*, invoice: Invoice, for_supplier: bool = False) -> bytes:
    from choeur.invoices.audit_trail import audit_trail_pdf

    return audit_trail_pdf(invoice=invoice, for_supplier=for_supplier)


__all__ = [
    "MOTIFS",
    "RECIPIENT_TRANSITIONS",
    "invoice_action_structure",
    "invoice_actions_for",
    "invoice_audit_trail_json",
    "invoice_audit_trail_pdf",
    "invoice_complete",
    "invoice_payment_clock_view",
    "invoice_process",
    "invoice_recycle",
    "invoice_rejection_acknowledge",
    "motif_label",
    "payment_status_hidden",
    "rejections_pending",
    "status_changes_for",
    "status_for_supplier",
    "user_blocked_by_rejections",
]
