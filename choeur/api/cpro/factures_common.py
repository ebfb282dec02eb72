"""Shared pieces of `factures/v1/*`: reading the caller's invoices, decoding files, the invoice as Chorus Pro
shows it (`facture{…}` of the `consulter/*` operations, the rows of the searches) and service errors turned
into Chorus codes.

Tenancy: every invoice read goes through `invoice_for_caller` or the querysets below, bounded by the
caller's structure and its role (supplier, recipient once the invoice reached it). Another structure's id
gets exactly the answer of a nonexistent id.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from pydantic import BeforeValidator

from choeur.api.cpro.envelope import (
    ACCESS_DENIED,
    BUSINESS_RULE,
    CONFLICT,
    FILE_TOO_LARGE,
    INVALID_VALUE,
    MISSING_FIELD,
    NOT_FOUND,
    CproError,
    not_found,
)
from choeur.api.cpro.schemas import chorus_datetime, empty_to_none
from choeur.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from choeur.directory.models import Structure
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import Invoice
from choeur.invoices.services import MAX_FILE_SIZE

SUPPLIER = "FOURNISSEUR"
RECIPIENT = "DESTINATAIRE"
ANY_PARTY = "PARTIE"

# Service codes that mean « file too large » (Chorus Pro's 20003).
TOO_LARGE_CODES = frozenset({"piece_jointe_trop_grande", "pieces_jointes_trop_lourdes", "FLUX_TROP_VOLUMINEUX"})

_RELATED = (
    "supplier",
    "supplier_service",
    "supplier_bank_account",
    "recipient",
    "recipient_service",
    "valideur",
    "valideur2",
    "moe",
    "moa",
)


# ---------------------------------------------------------------------------------------------------
# Request value types
# ---------------------------------------------------------------------------------------------------


def zero_to_none(value: Any) -> Any:
    """The Go client sends every field, `0` for an id left empty: 0, "" and null mean « not given »."""
    value = empty_to_none(value)
    return None if value == 0 and not isinstance(value, bool) else value


# Chorus Pro's amounts are decimal(19, 6): 13 digits before the point.
AMOUNT_LIMIT = 10**13


def parse_amount(value: Any) -> Any:
    value = empty_to_none(value)
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("doit être un montant (nombre, ou texte comme « 125.40 »)")
    try:
        # str() first: a JSON float 0.1 must become Decimal("0.1"), not its binary expansion.
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError("doit être un montant (nombre, ou texte comme « 125.40 »)") from None
    # "NaN", "-Infinity", "sNaN" are valid JSON strings and Decimal literals, and "1e999999" a finite Decimal that
    # every float turns into infinity: none is an amount.
    if not amount.is_finite() or abs(amount) >= AMOUNT_LIMIT:
        raise ValueError("doit être un montant fini, inférieur à 10 000 000 000 000 en valeur absolue")
    return amount


def _date(value: Any) -> Any:
    value = empty_to_none(value)
    if value is None or isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        raise ValueError("doit être une date AAAA-MM-JJ")
    text = value.strip()
    try:
        if len(text) > 10:
            # A date-time (« 2026-03-02T00:00:00.000+01:00 ») as some clients send dates: its day.
            return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError("doit être une date AAAA-MM-JJ") from None


def _datetime(value: Any) -> Any:
    value = empty_to_none(value)
    if value is None or isinstance(value, datetime.datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("doit être une date-heure ISO 8601 (2026-03-02T09:00:00+01:00)")
    try:
        parsed = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("doit être une date-heure ISO 8601 (2026-03-02T09:00:00+01:00)") from None
    return parsed if parsed.tzinfo else timezone.make_aware(parsed)


IdIn = Annotated[int | None, BeforeValidator(zero_to_none)]
AmountIn = Annotated[Decimal | None, BeforeValidator(parse_amount)]
DateIn = Annotated[datetime.date | None, BeforeValidator(_date)]
DateTimeIn = Annotated[datetime.datetime | None, BeforeValidator(_datetime)]
FlagIn = Annotated[bool | None, BeforeValidator(empty_to_none)]


def str_list(value: Any) -> Any:
    """`statutCourant` is a list on Chorus Pro, a single string for some clients: both are read."""
    value = empty_to_none(value)
    if isinstance(value, str):
        return [value]
    return value


StrListIn = Annotated[list[str] | None, BeforeValidator(str_list)]


# ---------------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------------


def invoices_for(structure: Structure, role: str) -> QuerySet[Invoice]:
    """The caller's invoices in one role: issued (drafts included), received (once they reached it), or
    any invoice it is party to."""
    if role == SUPPLIER:
        queryset = Invoice.objects.issued_by([structure])
    elif role == RECIPIENT:
        queryset = Invoice.objects.received_by([structure])
    else:
        queryset = Invoice.objects.visible_to_structures([structure])
    return queryset.select_related(*_RELATED)


def invoice_for_caller(structure: Structure, invoice_id: int | None, role: str, *, field: str) -> Invoice:
    if invoice_id is None:
        raise CproError(MISSING_FIELD, f"Le champ « {field} » est obligatoire : donnez l'identifiant de la facture.")
    invoice = invoices_for(structure, role).filter(pk=invoice_id).first()
    if invoice is None:
        raise not_found("Facture")
    return invoice


# ---------------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------------


def decode_file(value: str | None, *, field: str, max_size: int | None = MAX_FILE_SIZE) -> bytes:
    """The bytes of a base64 field; the envelope names the field when it is absent, not base64 or too big."""
    if value is None or not str(value).strip():
        raise CproError(MISSING_FIELD, f"Le champ « {field} » est obligatoire : joignez le fichier encodé en base64.")
    raw = "".join(str(value).split())
    try:
        content = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise CproError(
            INVALID_VALUE,
            f"Le champ « {field} » doit contenir le fichier encodé en base64 (RFC 4648, sans préfixe « data: ») : "
            "le contenu reçu n'en est pas.",
        ) from None
    if not content:
        raise CproError(MISSING_FIELD, f"Le champ « {field} » est vide : joignez le fichier encodé en base64.")
    if max_size is not None and len(content) > max_size:
        raise CproError(
            FILE_TOO_LARGE,
            f"Le fichier du champ « {field} » pèse {len(content) / 1_048_576:.1f} Mo ; 10 Mo au plus par fichier : "
            "réduisez-le ou scindez-le.",
        )
    return content


def encode_file(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


# ---------------------------------------------------------------------------------------------------
# Service errors → Chorus codes
# ---------------------------------------------------------------------------------------------------


def _message(exc: ApplicationError) -> str:
    findings = (exc.extra or {}).get("findings") or []
    if len(findings) > 1:
        # The pré-contrôle found several points: list them all, a client fixes everything in one go.
        details = " ; ".join(f"{index}) {finding['message']}" for index, finding in enumerate(findings, start=1))
        return f"La facture ne peut pas être envoyée : {details}"
    return exc.message


@contextmanager
def business_errors() -> Iterator[None]:
    """Service refusals as the envelope: 20003 for a file too large, 409 for a conflict, 21001 « introuvable »,
    10103 for an action the caller's role does not allow on its own invoice, 21002 for any other rule.
    (Another structure's invoice never reaches a service: the reads above answer « introuvable » first.)"""
    try:
        yield
    except CproError:
        raise
    except ConflictError as exc:
        raise CproError(CONFLICT, exc.message) from None
    except NotFoundError as exc:
        raise CproError(NOT_FOUND, exc.message) from None
    except PermissionDeniedError as exc:
        raise CproError(ACCESS_DENIED, exc.message) from None
    except ApplicationError as exc:
        code = FILE_TOO_LARGE if exc.code in TOO_LARGE_CODES else BUSINESS_RULE
        raise CproError(code, _message(exc)) from None


# ---------------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------------


def money(value) -> float | None:
    """Amounts leave as JSON numbers, as Chorus Pro writes them (clients decode floats)."""
    return None if value is None else float(value)


def day(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return value.isoformat()


def status_comment(invoice: Invoice) -> str:
    """`commentaireEtatCourant`: the motif and comment of the change that led to the current status."""
    change = invoice.status_changes.order_by("-created_at", "-id").first()
    if change is None:
        return ""
    return " — ".join(part for part in (change.motif, change.comment) if part)


def structure_identity(structure: Structure | None) -> dict[str, Any]:
    if structure is None:
        return {"id": None, "code": "", "type": "", "designation": ""}
    return {
        "id": structure.pk,
        "code": structure.identifier,
        "type": structure.identifier_type,
        "designation": structure.designation,
    }


def search_row(invoice: Invoice) -> dict[str, Any]:
    """The fields both supplier and recipient searches share."""
    return {
        "numeroFacture": invoice.number,
        "typeFacture": invoice.invoice_type,
        "typeDemandePaiement": invoice.type_demande_paiement,
        "statut": invoice.status,
        "dateFacture": day(invoice.invoice_date),
        "dateDepot": day(invoice.deposited_at),
        "dateHeureEtatCourant": chorus_datetime(invoice.status_changed_at),
        "commentaireEtatCourant": status_comment(invoice),
        "montantHT": money(invoice.total_ht),
        "montantTTC": money(invoice.total_ttc),
        "montantAPayer": money(invoice.montant_a_payer),
        "devise": invoice.currency,
        "codeFournisseur": invoice.supplier.identifier,
        "typeIdentifiantFournisseur": invoice.supplier.identifier_type,
        "designationFournisseur": invoice.supplier.designation,
        "codeServiceFournisseur": invoice.supplier_service.code if invoice.supplier_service else "",
        "nomServiceFournisseur": invoice.supplier_service.libelle if invoice.supplier_service else "",
        "idDestinataire": invoice.recipient_id,
        "codeDestinataire": invoice.recipient.identifier if invoice.recipient else "",
        "designationDestinataire": invoice.recipient.designation if invoice.recipient else "",
        "idServiceExecutant": invoice.recipient_service_id,
        "codeServiceExecutant": invoice.recipient_service.code if invoice.recipient_service else "",
        "nomServiceExecutant": invoice.recipient_service.libelle if invoice.recipient_service else "",
        "numeroMarche": invoice.numero_marche,
        "numeroBonCommande": invoice.numero_engagement,
    }


def size_of(invoice: Invoice) -> int:
    """`taille`: the invoice document and its attachments, in bytes."""
    sizes = [a.file.size for a in invoice.attachments.select_related("file")]
    if invoice.main_document_id:
        sizes.append(invoice.main_document.size)
    return sum(sizes)


def amount_filters(prefix_map: dict[str, str], payload) -> Q:
    """`montantHTMin`… → Q on the model field; 0 or absent means no bound (the Go client sends 0)."""
    query = Q()
    for wire, lookup in prefix_map.items():
        value = getattr(payload, wire, None)
        if value is not None and value != 0:
            query &= Q(**{lookup: value})
    return query


def statuses_checked(values: list[str] | None, *, field: str) -> list[str]:
    if not values:
        return []
    wanted = [value.strip().upper() for value in values if value and value.strip()]
    unknown = [value for value in wanted if value not in InvoiceStatus.values]
    if unknown:
        raise CproError(
            INVALID_VALUE,
            f"Le champ « {field} » contient un statut inconnu : « {unknown[0][:50]} ». Utilisez les statuts de "
            "Chorus Pro (DEPOSEE, MISE_A_DISPOSITION, SUSPENDUE, REJETEE, MISE_EN_PAIEMENT…).",
        )
    return wanted
