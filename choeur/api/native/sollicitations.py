"""Sollicitations your structure sent or received: list, create, read (with the conversation), reply with
attachments, close. The rules are the portal's (the sollicitation services); your structure acts through its
API client, and any sollicitation of another structure is « introuvable »."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Literal

from ninja import Query, Router, Schema
from pydantic import Field

from choeur.api.native.auth import NativeAuth
from choeur.api.native.pagination import DEFAULT_LIMIT, MAX_LIMIT, cursor_page
from choeur.api.native.problems import Problem
from choeur.directory.models import Structure
from choeur.invoices.models import Invoice
from choeur.sollicitations.enums import SollicitationStatus
from choeur.sollicitations.models import Sollicitation, SollicitationSubCategory
from choeur.sollicitations.selectors import sollicitations_of_structure
from choeur.sollicitations.services import sollicitation_act, sollicitation_create
from choeur.sollicitations.workflow import available_transitions, roles_of

router = Router(tags=["Sollicitations"])
read_auth = NativeAuth(scope="sollicitations:read")
write_auth = NativeAuth(scope="sollicitations:write")

REPLY_ACTIONS = ("repondre", "demander_complement", "completer", "relancer", "prendre_en_charge")


class AttachmentIn(Schema):
    name: str = Field(description="Nom du fichier (50 caractères au plus), avec son extension.", max_length=200)
    content_base64: str = Field(description="Contenu du fichier en base64 (10 Mo au plus une fois décodé).")


class AttachmentOut(Schema):
    id: int
    name: str
    mime_type: str
    size: int


class MessageOut(Schema):
    id: int
    author: str
    author_role: str
    action: str
    body: str
    created_at: datetime
    attachments: list[AttachmentOut]


class PartyOut(Schema):
    id: int
    identifier: str
    name: str


class SollicitationOut(Schema):
    id: int
    numero: str
    category_code: str
    subcategory_code: str
    subject: str
    reference: str
    status: str
    status_label: str
    sender_structure: PartyOut | None
    recipient_kind: str
    recipient_structure: PartyOut | None
    invoice_id: int | None
    created_at: datetime
    first_answer_at: datetime | None
    closed_at: datetime | None
    your_roles: list[str] = Field(description="EMETTEUR, DESTINATAIRE.")
    actions: list[str] = Field(description="Les actions ouvertes à votre structure à l'état actuel.")


class SollicitationDetailOut(SollicitationOut):
    messages: list[MessageOut]


class SollicitationPage(Schema):
    results: list[SollicitationOut]
    next_cursor: str | None
    next: str | None


class SollicitationFilters(Schema):
    side: Literal["emises", "recues"] | None = Field(None, description="Émises ou reçues par votre structure.")
    status: Literal[tuple(SollicitationStatus.values)] | None = Field(None, description="État.")
    cursor: str | None = Field(None, description="Recopié depuis `next_cursor` de la page précédente.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Nombre de résultats par page.")


class SollicitationIn(Schema):
    category_code: str = Field(description="Code de la catégorie (transverses `rechercher/categorieSollicitation`).")
    subcategory_code: str = Field(description="Code de la sous-catégorie dans cette catégorie.")
    subject: str = Field(max_length=200)
    body: str
    recipient_structure_id: int | None = Field(
        None, description="La structure publique destinataire (sauf pour le support ou avec `invoice_id`)."
    )
    invoice_id: int | None = Field(None, description="Une facture de votre structure : son autre partie reçoit.")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=5)


class MessageIn(Schema):
    action: Literal[REPLY_ACTIONS] = Field(
        "repondre", description="repondre, demander_complement (destinataire) ; completer, relancer (émetteur)."
    )
    body: str = ""
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=5)
    expected_status: Literal[tuple(SollicitationStatus.values)] | None = Field(
        None, description="L'état que vous avez lu : refusé (409) si la sollicitation a changé entre-temps."
    )


class CloseIn(Schema):
    body: str = ""
    expected_status: Literal[tuple(SollicitationStatus.values)] | None = None


def _caller(request) -> Structure:
    return request.auth.api_client.structure


def _get_or_404(request, sollicitation_id: int) -> Sollicitation:
    found = sollicitations_of_structure(structure=_caller(request)).filter(pk=sollicitation_id).first()
    if found is None:
        raise Problem(
            "introuvable", f"Sollicitation {sollicitation_id} introuvable parmi les sollicitations de votre structure."
        )
    return found


def _party(structure: Structure | None) -> dict | None:
    if structure is None:
        return None
    return {"id": structure.pk, "identifier": structure.identifier, "name": structure.designation}


def _out(request, s: Sollicitation) -> dict:
    caller = _caller(request)
    return {
        "id": s.pk,
        "numero": s.numero,
        "category_code": s.category.code,
        "subcategory_code": s.subcategory.code,
        "subject": s.subject,
        "reference": s.reference,
        "status": s.status,
        "status_label": s.get_status_display(),
        "sender_structure": _party(s.sender_structure),
        "recipient_kind": s.recipient_kind,
        "recipient_structure": _party(s.recipient_structure),
        "invoice_id": s.invoice_id,
        "created_at": s.created_at,
        "first_answer_at": s.first_answer_at,
        "closed_at": s.closed_at,
        "your_roles": sorted(roles_of(s, None, structure=caller)),
        "actions": [t.name for t in available_transitions(s, None, structure=caller)],
    }


def _detail(request, s: Sollicitation) -> dict:
    messages = []
    for message in s.messages.prefetch_related("attachments__file"):
        messages.append(
            {
                "id": message.pk,
                "author": message.author_label,
                "author_role": message.author_role,
                "action": message.action,
                "body": message.body,
                "created_at": message.created_at,
                "attachments": [
                    {"id": a.pk, "name": a.name, "mime_type": a.file.mime_type, "size": a.file.size}
                    for a in message.attachments.all()
                ],
            }
        )
    return {**_out(request, s), "messages": messages}


def _files(attachments: list[AttachmentIn]) -> list[tuple[str, bytes]]:
    files = []
    for index, attachment in enumerate(attachments):
        try:
            content = base64.b64decode(attachment.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise Problem(
                "requete_invalide",
                f"attachments[{index}].content_base64 : ce n'est pas du base64 valide.",
                errors=[{"field": f"attachments.{index}.content_base64", "code": "base64_invalide",
                         "message": "Encodez le fichier en base64 (RFC 4648)."}],
            ) from None  # fmt: skip
        files.append((attachment.name, content))
    return files


@router.get(
    "sollicitations",
    response=SollicitationPage,
    auth=read_auth,
    summary="Lister les sollicitations de votre structure",
    operation_id="sollicitations_list",
)
def sollicitations_list(request, filters: Query[SollicitationFilters]):
    caller = _caller(request)
    queryset = sollicitations_of_structure(structure=caller)
    if filters.side == "emises":
        queryset = queryset.filter(sender_structure=caller)
    elif filters.side == "recues":
        queryset = queryset.filter(recipient_structure=caller)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    rows, next_cursor, next_url = cursor_page(request, queryset, cursor=filters.cursor, limit=filters.limit)
    return {"results": [_out(request, s) for s in rows], "next_cursor": next_cursor, "next": next_url}


@router.post(
    "sollicitations",
    response={201: SollicitationDetailOut},
    auth=write_auth,
    summary="Envoyer une sollicitation",
    description="À une structure publique (ou à l'autre partie d'une facture), ou au support selon la catégorie.",
    operation_id="sollicitations_create",
)
def sollicitations_create(request, payload: SollicitationIn):
    caller = _caller(request)
    sub = (
        SollicitationSubCategory.objects.select_related("category")
        .filter(category__code=payload.category_code, code=payload.subcategory_code)
        .first()
    )
    if sub is None:
        raise Problem(
            "requete_invalide",
            f"Sous-catégorie « {payload.category_code[:40]}.{payload.subcategory_code[:40]} » inconnue : lisez le "
            "référentiel par transverses/v1/rechercher/sousCategorieSollicitation.",
            errors=[{"field": "subcategory_code", "code": "inconnue", "message": "Sous-catégorie inconnue."}],
        )
    recipient = invoice = None
    if payload.recipient_structure_id is not None:
        recipient = Structure.objects.filter(pk=payload.recipient_structure_id).first()
        if recipient is None:
            raise Problem("introuvable", f"Structure destinataire {payload.recipient_structure_id} introuvable.")
    if payload.invoice_id is not None:
        invoice = (
            Invoice.objects.visible_to_structures(Structure.objects.filter(pk=caller.pk))
            .filter(pk=payload.invoice_id)
            .first()
        )
        if invoice is None:
            raise Problem("introuvable", f"Facture {payload.invoice_id} introuvable parmi celles de votre structure.")
    created = sollicitation_create(
        by=None, api_structure=caller, subcategory=sub, subject=payload.subject, body=payload.body,
        recipient_structure=recipient, invoice=invoice, attachments=_files(payload.attachments),
    )  # fmt: skip
    return 201, _detail(request, _get_or_404(request, created.pk))


@router.get(
    "sollicitations/{sollicitation_id}",
    response=SollicitationDetailOut,
    auth=read_auth,
    summary="Lire une sollicitation et sa conversation",
    operation_id="sollicitations_get",
)
def sollicitations_get(request, sollicitation_id: int):
    return _detail(request, _get_or_404(request, sollicitation_id))


@router.post(
    "sollicitations/{sollicitation_id}/messages",
    response={201: SollicitationDetailOut},
    auth=write_auth,
    summary="Répondre (avec pièces jointes)",
    description="Répondre ou demander un complément (destinataire), compléter ou relancer (émetteur).",
    operation_id="sollicitations_reply",
)
def sollicitations_reply(request, sollicitation_id: int, payload: MessageIn):
    sollicitation = _get_or_404(request, sollicitation_id)
    sollicitation_act(
        sollicitation=sollicitation, action=payload.action, by=None, api_structure=_caller(request),
        body=payload.body, attachments=_files(payload.attachments), expected_status=payload.expected_status,
    )  # fmt: skip
    return 201, _detail(request, _get_or_404(request, sollicitation_id))


@router.post(
    "sollicitations/{sollicitation_id}/close",
    response=SollicitationDetailOut,
    auth=write_auth,
    summary="Clôturer une sollicitation",
    operation_id="sollicitations_close",
)
def sollicitations_close(request, sollicitation_id: int, payload: CloseIn):
    sollicitation = _get_or_404(request, sollicitation_id)
    sollicitation_act(
        sollicitation=sollicitation, action="cloturer", by=None, api_structure=_caller(request), body=payload.body,
        expected_status=payload.expected_status,
    )  # fmt: skip
    return _detail(request, _get_or_404(request, sollicitation_id))
