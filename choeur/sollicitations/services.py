"""Sollicitation services: create one, act on one (a message, its attachments and the status change
written in one transaction, so that nothing is half-saved)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.core.files import file_store
from choeur.directory.models import Service, Structure
from choeur.invoices.models import Invoice
from choeur.invoices.services import check_file
from choeur.sollicitations.enums import RecipientKind, SollicitationRole
from choeur.sollicitations.models import (
    Sollicitation,
    SollicitationAttachment,
    SollicitationDesk,
    SollicitationMessage,
    SollicitationSubCategory,
)
from choeur.sollicitations.notifications import sollicitation_event_on_commit
from choeur.sollicitations.platform_requests import platform_request_clean
from choeur.sollicitations.workflow import TRANSITIONS_BY_NAME, roles_of, sollicitation_transition

MAX_ATTACHMENTS = 5
BODY_MAX_LENGTH = 10_000


def _clean_body(body: str, *, required: bool = True) -> str:
    body = (body or "").strip()
    if required and not body:
        raise ApplicationError("Message : écrivez votre message (il est vide).", field="body", code="message_vide")
    if len(body) > BODY_MAX_LENGTH:
        raise ApplicationError(
            f"Message : {len(body)} caractères ; {BODY_MAX_LENGTH} au plus. Raccourcissez-le ou joignez un document.",
            field="body",
            code="message_trop_long",
        )
    return body


def _checked_files(attachments: Sequence[tuple[str, bytes]]) -> list[tuple[str, str, bytes]]:
    """Every file checked before anything is written (same rules as invoice attachments)."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise ApplicationError(
            f"Pièces jointes : {len(attachments)} fichiers ; {MAX_ATTACHMENTS} au plus par message.",
            field="attachments",
        )
    checked, names = [], set()
    for name, content in attachments:
        clean, mime = check_file(name=name, content=content, field="attachments")
        if clean.lower() in names:
            raise ApplicationError(f"Pièces jointes : « {clean} » est joint deux fois.", field="attachments")
        names.add(clean.lower())
        checked.append((clean, mime, content))
    return checked


def _author_label(user, structure: Structure | None) -> str:
    who = getattr(user, "email", "") or "Chœur"
    return f"{who} ({structure.designation})" if structure is not None else who


def _write_message(*, sollicitation, by, role, action, body, files, structure=None, label="") -> SollicitationMessage:
    message = SollicitationMessage.objects.create(
        sollicitation=sollicitation,
        author_user=by if getattr(by, "pk", None) else None,
        author_label=label or _author_label(by, structure),
        author_role=role,
        action=action,
        body=body,
    )
    for name, mime, content in files:
        SollicitationAttachment.objects.create(
            message=message, file=file_store(content=content, mime_type=mime), name=name
        )
    return message


def resolve_recipient(*, structure: Structure) -> tuple[Structure, Service | None]:
    """The structure and service that handle sollicitations for `structure`, or a French refusal."""
    if not structure.is_public or not structure.is_active:
        raise ApplicationError(
            f"Destinataire : {structure.designation} n'est pas une structure publique active ; "
            "elle ne reçoit pas de sollicitations.",
            field="recipient_structure",
            code="destinataire_invalide",
        )
    desk = SollicitationDesk.objects.filter(structure=structure).select_related("service").first()
    if desk is not None and not desk.accepts_sollicitations:
        raise ApplicationError(
            f"Destinataire : {structure.designation} ne reçoit pas de sollicitations ; adressez-vous au support.",
            field="recipient_structure",
            code="destinataire_refuse",
        )
    return structure, (desk.service if desk is not None else None)


def _works_recipient(*, by, sender_structure, dossier, recipient):
    """The MOE or MOA of the dossier's market the sender writes to; the sender must see the dossier."""
    if sender_structure is None:
        raise ApplicationError(
            "Dossier de travaux : choisissez la structure au nom de laquelle vous écrivez.", field="sender_structure"
        )
    # The dossier's own queryset says who may see it (this app does not import `works`).
    if not type(dossier).objects.of_structures([sender_structure]).filter(pk=dossier.pk).exists():
        raise PermissionDeniedError("Dossier de travaux : il n'est pas un dossier de votre structure.")
    parties = {
        p.structure_id: p for p in dossier.marche.parties.select_related("structure") if p.role in ("MOE", "MOA")
    }
    if recipient is None:
        moe = next((p for p in parties.values() if p.role == "MOE"), None)
        moa = next((p for p in parties.values() if p.role == "MOA"), None)
        chosen = moe if moe is not None and moe.structure_id != sender_structure.pk else moa
        if chosen is None:
            raise ApplicationError(
                "Destinataire : ce marché n'a ni maître d'œuvre ni maître d'ouvrage.", field="recipient_structure"
            )
        recipient = chosen.structure
    elif recipient.pk not in parties:
        raise ApplicationError(
            "Destinataire : choisissez le maître d'œuvre ou le maître d'ouvrage du marché.",
            field="recipient_structure",
        )
    return recipient


def sollicitation_create(
    *,
    by,
    subcategory: SollicitationSubCategory,
    subject: str,
    body: str,
    sender_structure: Structure | None = None,
    recipient_structure: Structure | None = None,
    invoice: Invoice | None = None,
    reference: str = "",
    attachments: Sequence[tuple[str, bytes]] = (),
    sender_email: str = "",
    works_dossier=None,
    about_structure: Structure | None = None,
    request_data: dict | None = None,
    api_structure: Structure | None = None,
) -> Sollicitation:
    """Open a sollicitation. The catégorie routes it: to support, or to the recipient structure's desk.

    A connected sender writes on behalf of a structure they belong to (or as a person, without one); a
    linked invoice must be one the sender's structure issued or received, and names the recipient."""
    subject = (subject or "").strip()
    if not subject:
        raise ApplicationError("Objet : indiquez l'objet de votre sollicitation.", field="subject")
    if len(subject) > 200:
        raise ApplicationError("Objet : 200 caractères au plus.", field="subject")
    body = _clean_body(body)
    if not subcategory.is_active or not subcategory.category.is_active:
        raise ApplicationError(
            "Sous-catégorie : elle n'est plus proposée ; choisissez-en une autre.", field="subcategory"
        )
    connected = getattr(by, "is_authenticated", False)
    if api_structure is not None:
        # Through the API: the caller's structure writes, its technical account is the author.
        by, connected, sender_structure = None, False, api_structure
        sender_email = sender_email or api_structure.email or "api@choeur.invalid"
    if (
        sender_structure is not None
        and api_structure is None
        and (not connected or not Structure.objects.of_user(by).filter(pk=sender_structure.pk).exists())
    ):
        raise PermissionDeniedError(
            f"Structure émettrice : vous n'êtes pas rattaché(e) à {sender_structure.designation}."
        )
    if not connected and not sender_email:
        raise ApplicationError("Adresse électronique : indiquez-la pour recevoir la réponse.", field="sender_email")
    if invoice is not None:
        if sender_structure is None or sender_structure.pk not in (invoice.supplier_id, invoice.recipient_id):
            raise PermissionDeniedError("Facture : elle n'est pas une facture de votre structure.")
        if recipient_structure is None:
            recipient_structure = invoice.recipient if sender_structure.pk == invoice.supplier_id else invoice.supplier
        reference = reference or invoice.number
    works_recipient = False
    if works_dossier is not None:
        recipient_structure = _works_recipient(
            by=by, sender_structure=sender_structure, dossier=works_dossier, recipient=recipient_structure
        )
        reference = reference or works_dossier.reference
        works_recipient = True
    if about_structure is not None and connected and not by.is_staff:
        if not Structure.objects.of_user(by).filter(pk=about_structure.pk).exists() and not about_structure.is_public:
            raise PermissionDeniedError("Structure concernée : vous n'êtes pas rattaché(e) à cette structure.")
    request_data = platform_request_clean(subcategory=subcategory, data=request_data or {}, about=about_structure)
    files = _checked_files(attachments)
    category = subcategory.category
    recipient_service = None
    if category.routes_to == RecipientKind.STRUCTURE:
        if recipient_structure is None:
            raise ApplicationError(
                "Destinataire : choisissez la structure publique à qui vous écrivez.", field="recipient_structure"
            )
        if sender_structure is not None and recipient_structure.pk == sender_structure.pk:
            raise ApplicationError(
                "Destinataire : votre structure ne peut pas s'écrire à elle-même.", field="recipient_structure"
            )
        if not works_recipient:
            recipient_structure, recipient_service = resolve_recipient(structure=recipient_structure)
    else:
        recipient_structure = None
    with transaction.atomic():
        sollicitation = Sollicitation.objects.create(
            category=category,
            subcategory=subcategory,
            subject=subject,
            reference=(reference or "")[:100],
            sender_user=by if connected else None,
            sender_structure=sender_structure,
            sender_email=sender_email or (getattr(by, "email", "") if connected else ""),
            recipient_kind=category.routes_to,
            recipient_structure=recipient_structure,
            recipient_service=recipient_service,
            invoice=invoice,
            works_dossier=works_dossier,
            about_structure=about_structure,
            request_data=request_data,
        )
        # The number follows the row id: unique without a counter to lock.
        sollicitation.numero = f"SOL{timezone.localdate().year}{sollicitation.pk:07d}"
        sollicitation.save(update_fields=["numero"])
        _write_message(
            sollicitation=sollicitation,
            by=by if connected else None,
            label=f"{api_structure.designation} (API)" if api_structure is not None else "",
            role=SollicitationRole.EMETTEUR,
            action="creer",
            body=body,
            files=files,
            structure=sender_structure,
        )
        sollicitation_event_on_commit(
            sollicitation=sollicitation, action="creer", actor=by if connected else None,
            actor_role=SollicitationRole.EMETTEUR, event_key=f"creation:{sollicitation.pk}", body=body,
        )  # fmt: skip
    return sollicitation


def sollicitation_act(
    *,
    sollicitation: Sollicitation,
    action: str,
    by,
    body: str = "",
    attachments: Sequence[tuple[str, bytes]] = (),
    expected_status: str | None = None,
    transfer_to: Structure | None = None,
    transfer_to_support: bool = False,
    api_structure: Structure | None = None,
) -> Sollicitation:
    """Reply, ask for a complement, complete, re-send, transfer or close; the message, its files and the
    status change are saved together or not at all."""
    definition = TRANSITIONS_BY_NAME.get(action)
    if definition is None:
        raise ApplicationError(f"Action inconnue sur une sollicitation : « {action} ».")
    body = _clean_body(body, required=definition.message_required)
    files = _checked_files(attachments)
    changes, data = {}, {}
    if action == "transferer":
        if transfer_to_support:
            if sollicitation.recipient_kind == RecipientKind.SUPPORT:
                raise ApplicationError("Transfert : la sollicitation est déjà au support.", field="transfer_to")
            changes = {"recipient_kind": RecipientKind.SUPPORT, "recipient_structure": None, "recipient_service": None}
            data = {"vers": "SUPPORT"}
        elif transfer_to is None:
            raise ApplicationError(
                "Transfert : choisissez la structure ou le support destinataire.", field="transfer_to"
            )
        else:
            if (
                sollicitation.recipient_kind == RecipientKind.STRUCTURE
                and transfer_to.pk == sollicitation.recipient_structure_id
            ):
                raise ApplicationError(
                    "Transfert : la sollicitation est déjà adressée à votre structure ; choisissez-en une autre.",
                    field="transfer_to",
                )
            structure, service = resolve_recipient(structure=transfer_to)
            changes = {
                "recipient_kind": RecipientKind.STRUCTURE,
                "recipient_structure": structure,
                "recipient_service": service,
            }
            data = {"vers": structure.designation}
    with transaction.atomic():
        roles = roles_of(sollicitation, by, structure=api_structure)
        locked = sollicitation_transition(
            sollicitation=sollicitation,
            transition=action,
            by=by,
            expected_status=expected_status,
            data=data,
            changes=changes,
            structure=api_structure,
        )
        role = (
            SollicitationRole.DESTINATAIRE
            if SollicitationRole.DESTINATAIRE in (roles & definition.roles)
            else SollicitationRole.EMETTEUR
        )
        if body or files:
            structure = locked.sender_structure if role == SollicitationRole.EMETTEUR else None
            label = f"{api_structure.designation} (API)" if api_structure is not None else ""
            _write_message(
                sollicitation=locked, by=by, role=role, action=action, body=body, files=files, structure=structure,
                label=label,
            )  # fmt: skip
        change = locked.status_changes.order_by("-id").first()
        sollicitation_event_on_commit(
            sollicitation=locked, action=action, actor=by, actor_role=role, event_key=f"change:{change.pk}", body=body
        )
    return locked
