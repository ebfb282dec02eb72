"""Writes on payment requests: drafts, templates, attachments, sending and structured deposits.

Every service is keyword-only, runs in one transaction and writes an audit entry. `by` is the person acting,
or None when the platform acts for a technical account or an API client that the calling layer already
authenticated against the structure (flows, API); a person must be allowed to issue invoices for the
supplier (espace « Factures émises » with the « modification » habilitation).

Locks: structure → invoice → flow (docs/ARCHITECTURE.md). Services lock the invoice row before changing it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from choeur.core.audit import audit_deferred, audit_log
from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.core.files import file_store, sniff_mime
from choeur.core.models import StoredFile
from choeur.core.tasks import task_enqueue_on_commit
from choeur.directory.enums import IdentifierType
from choeur.directory.models import BankAccount, Service, Structure
from choeur.invoices import amounts, facturx, terms
from choeur.invoices.amounts import ALLOWANCE_CHARGE_FIELDS, LINE_FIELDS
from choeur.invoices.cadres import cadre_rule
from choeur.invoices.certificate import certificate_data, make_certificate_number, render_certificate
from choeur.invoices.checks import SAISIE_MODES, Finding, invoice_checks
from choeur.invoices.computations import ZERO, to_decimal
from choeur.invoices.enums import (
    AttachmentType,
    Cadre,
    Channel,
    InvoiceEventAction,
    InvoiceStatus,
    ModeDepot,
    TypeTva,
)
from choeur.invoices.models import (
    ATTACHMENT_NAME_MAX_LENGTH,
    NUMBER_MAX_LENGTH,
    Invoice,
    InvoiceAllowanceCharge,
    InvoiceAttachment,
    InvoiceEvent,
    InvoiceLine,
    InvoiceTemplate,
)
from choeur.invoices.selectors import can_issue_for
from choeur.invoices.workflow import VALIDATED_1, VALIDATED_2, invoice_status_changes_write, invoice_transition

logger = logging.getLogger(__name__)

# --- Limits (chorus-pro.md §5.3) ------------------------------------------------------------------------

MAX_FILE_SIZE = 10 * 1024 * 1024  # 10 Mo per file (Chorus Pro error 20003 above)
MAX_TOTAL_SIZE = 120 * 1024 * 1024  # 120 Mo for the invoice and all its attachments
# Chorus Pro's allowed attachment extensions (OCA; « pièces jointes … règles à respecter »), plus XSD and XSL.
ALLOWED_EXTENSIONS = frozenset(
    "bmp gif fax odt ppt tiff xls bz2 gz jpeg p7s rtf txt xml csv gzip jpg pdf svg xhtml xlsx doc htm odp png tgz "
    "xlc zip docx html ods pps tif xlm pptx xsd xsl".split()
)
_OLE = {"application/x-ole-storage"}
_ZIP = {"application/zip"}
_TEXT = {"text/plain"}
_XML = {"application/xml"}
# What the bytes of each extension may sniff as (core.files.sniff_mime): a mismatch means a renamed file.
EXTENSION_MIMES: dict[str, set[str]] = {
    "pdf": {"application/pdf"},
    "png": {"image/png"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "gif": {"image/gif"},
    "tif": {"image/tiff"},
    "tiff": {"image/tiff"},
    "fax": {"image/tiff", "application/octet-stream"},
    "bmp": {"image/bmp"},
    "svg": {"image/svg+xml", *_XML},
    "xml": _XML,
    "xsd": _XML,
    "xsl": _XML,
    "htm": {"text/html", *_XML},
    "html": {"text/html", *_XML},
    "xhtml": {"text/html", *_XML},
    "txt": _TEXT,
    "csv": _TEXT,
    "rtf": _TEXT,
    "p7s": {"application/octet-stream", *_TEXT},
    "zip": _ZIP,
    "docx": _ZIP,
    "xlsx": _ZIP,
    "pptx": _ZIP,
    "odt": _ZIP,
    "ods": _ZIP,
    "odp": _ZIP,
    "doc": _OLE,
    "xls": _OLE,
    "ppt": _OLE,
    "pps": _OLE,
    "xlc": _OLE | {"application/octet-stream", *_TEXT},
    "xlm": _OLE | {"application/octet-stream", *_TEXT},
    "gz": {"application/gzip"},
    "gzip": {"application/gzip"},
    "tgz": {"application/gzip"},
    "bz2": {"application/x-bzip2"},
}
MIME_LABELS = {
    "application/pdf": "un PDF",
    "application/zip": "une archive ZIP (ou un document Office)",
    "application/x-ole-storage": "un ancien document Office",
    "application/xml": "un fichier XML",
    "text/html": "une page HTML",
    "text/plain": "un fichier texte",
    "image/png": "une image PNG",
    "image/jpeg": "une image JPEG",
    "image/gif": "une image GIF",
    "image/tiff": "une image TIFF",
    "image/bmp": "une image BMP",
    "image/svg+xml": "une image SVG",
    "application/gzip": "une archive GZIP",
    "application/x-bzip2": "une archive BZIP2",
    "application/octet-stream": "un fichier binaire",
}

# --- Draft data ----------------------------------------------------------------------------------------

FK_MODELS = {
    "supplier_service": Service,
    "supplier_bank_account": BankAccount,
    "recipient": Structure,
    "recipient_service": Service,
    "valideur": Structure,
    "valideur_service": Service,
    "valideur2": Structure,
    "valideur2_service": Service,
    "moe": Structure,
    "moe_service": Service,
    "moa": Structure,
    "moa_service": Service,
    "origin_invoice": Invoice,
}
DECIMAL_FIELDS = (
    "total_ht", "total_tva", "total_ttc", "remise_globale_ttc", "montant_a_payer", "line_total_ht",
    "allowance_total_ht", "charge_total_ht", "prepaid_amount", "rounding_amount",
)  # fmt: skip
# Amounts that are zero rather than unknown when a depositor leaves them out.
ZERO_DEFAULT_FIELDS = frozenset(
    {"remise_globale_ttc", "allowance_total_ht", "charge_total_ht", "prepaid_amount", "rounding_amount"}
)
DATE_FIELDS = ("invoice_date", "origin_date", "period_start", "period_end", "delivery_date")
TEXT_FIELDS = (
    "number",
    "invoice_type",
    "cadre",
    "currency",
    "type_tva",
    "motif_exoneration",
    "numero_marche",
    "numero_engagement",
    "origin_number",
    "payment_mode",
    "motif_remise_globale",
    "comment",
    "mode_depot",
    "numero_flux_depot",
)
DRAFT_FIELDS = frozenset(
    {*FK_MODELS, *DECIMAL_FIELDS, *DATE_FIELDS, *TEXT_FIELDS, "draft_step", "business_terms", "amounts_from_document"}
)
# Fields copied by a duplication or kept in a template: the routing and the content, never the identity
# (number, date) nor anything about a sending.
REUSABLE_FIELDS = (
    "supplier_service", "supplier_bank_account", "recipient", "recipient_service", "valideur", "valideur_service",
    "valideur2", "valideur2_service", "invoice_type", "cadre", "currency", "type_tva", "motif_exoneration",
    "numero_marche", "numero_engagement", "payment_mode", "comment",
)  # fmt: skip


def _field_label(name: str) -> str:
    try:
        return str(Invoice._meta.get_field(name).verbose_name)
    except Exception:
        return name


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{_field_label(field).capitalize()} : {message}", field=field, code="donnee_invalide")


def _resolve_fk(name: str, value):
    model = FK_MODELS[name]
    if value is None or value == "":
        return None
    if isinstance(value, model):
        return value
    try:
        return model.objects.get(pk=int(value))
    except (TypeError, ValueError, model.DoesNotExist):
        raise _invalid(name, "élément introuvable.") from None


def _coerce_date(name: str, value) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise _invalid(name, f"« {value} » n'est pas une date (format AAAA-MM-JJ).") from None


def _apply_data(invoice: Invoice, data: Mapping) -> None:
    unknown = sorted(set(data) - DRAFT_FIELDS)
    if unknown:
        raise ApplicationError(
            f"Donnée inconnue pour une facture : {', '.join(unknown)}.", field=unknown[0], code="donnee_inconnue"
        )
    for name, value in data.items():
        if name in FK_MODELS:
            setattr(invoice, name, _resolve_fk(name, value))
        elif name in DECIMAL_FIELDS:
            if value in (None, ""):
                setattr(invoice, name, ZERO if name in ZERO_DEFAULT_FIELDS else None)
            else:
                try:
                    setattr(invoice, name, to_decimal(value, label=_field_label(name)))
                except ValueError as exc:
                    raise ApplicationError(str(exc), field=name, code="donnee_invalide") from None
        elif name in DATE_FIELDS:
            setattr(invoice, name, _coerce_date(name, value))
        elif name == "draft_step":
            setattr(invoice, name, int(value or 1))
        elif name == "business_terms":
            invoice.business_terms = terms.clean_business_terms(value)
        elif name == "amounts_from_document":
            invoice.amounts_from_document = bool(value)
        elif name == "cadre":
            try:
                invoice.cadre = Cadre.from_code(str(value or "A1")).value
            except ValueError as exc:
                raise ApplicationError(str(exc), field="cadre", code="donnee_invalide") from None
        else:
            setattr(invoice, name, "" if value is None else str(value).strip())
    if invoice.cadre:
        invoice.type_demande_paiement = cadre_rule(invoice.cadre).type_demande_paiement
    if invoice.origin_invoice is not None:
        invoice.origin_number = invoice.origin_number or invoice.origin_invoice.number
        invoice.origin_date = invoice.origin_date or invoice.origin_invoice.invoice_date
    _validate_fields(invoice)


def _cached(invoice: Invoice, name: str) -> bool:
    related = invoice._meta.get_field(name).get_cached_value(invoice, default=None)
    return related is not None and related.pk is not None


def _validate_fields(invoice: Invoice) -> None:
    """Field formats (lengths, choices, number charset), French messages; rules that need the whole invoice
    wait for the pré-contrôle so that an incomplete draft can still be saved."""
    # A relation given as an object was just read from the database: Django's validation would only read
    # it again to see that it exists.
    resolved = [name for name in FK_MODELS if getattr(invoice, f"{name}_id", None) and _cached(invoice, name)]
    try:
        invoice.clean_fields(exclude=["supplier", "created_by", "snapshot", "status", *resolved])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        code = "donnee_invalide"
        if field == "number":
            # The pré-contrôle's codes for Chorus Pro's numeroFacture rule (20 characters, A-Z 0-9 - _ / +).
            code = "NUMERO_TROP_LONG" if len(invoice.number or "") > NUMBER_MAX_LENGTH else "NUMERO_FORMAT"
        raise ApplicationError(
            f"{_field_label(field).capitalize()} : {' '.join(messages)}",
            field=field,
            code=code,
            extra={"errors": exc.message_dict},
        ) from None


def _build_lines(invoice: Invoice, lines: Sequence) -> list[InvoiceLine]:
    return amounts.build_lines(invoice, lines)[0]


def _replace_lines(invoice: Invoice, lines: Sequence) -> None:
    amounts.save_lines(invoice, lines, replace=True)


def _replace_vat_lines(invoice: Invoice, vat_lines: Sequence) -> None:
    amounts.replace_vat_lines(invoice, vat_lines)


def _refresh_totals(invoice: Invoice, *, lines: list[InvoiceLine] | None = None) -> None:
    amounts.refresh_totals(invoice, lines=lines)


def _refresh_totals_with(invoice: Invoice, lines: list[InvoiceLine], document_rows: list) -> None:
    """`_refresh_totals` for an invoice not saved yet, whose remises and charges are in hand."""
    if not lines or invoice.amounts_from_document:
        return
    declared = [invoice.total_ht, invoice.total_tva, invoice.total_ttc, invoice.montant_a_payer]
    if invoice.mode_depot in SAISIE_MODES or all(value is None for value in declared):
        amounts.apply_totals(invoice, amounts.computed_totals(invoice, lines, allowance_charges=document_rows))


# --- Permissions and locking -----------------------------------------------------------------------------


def _require_can_issue(by, supplier: Structure) -> None:
    if by is None:
        return
    if not can_issue_for(user=by, structure=supplier):
        raise PermissionDeniedError(
            f"Vous n'avez pas le droit d'émettre des factures pour {supplier.designation} : il faut un "
            "abonnement à l'espace « Factures émises » avec l'habilitation « modification »."
        )


def _lock(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update(of=("self",)).select_related("supplier").get(pk=invoice.pk)


def _require_draft(invoice: Invoice, action: str) -> None:
    if invoice.status != InvoiceStatus.BROUILLON:
        raise ApplicationError(
            f"{action} : la facture {invoice.number} a déjà été envoyée (statut « {invoice.get_status_display()} »). "
            "Une facture envoyée ne se modifie plus : émettez un avoir ou une nouvelle facture.",
            code="facture_non_modifiable",
        )


def _by_label(by, by_label: str) -> str:
    return getattr(by, "email", "") or by_label or "Chœur"


# --- Drafts --------------------------------------------------------------------------------------------


def invoice_draft_create(
    *,
    supplier: Structure,
    by,
    lines: Sequence | None = None,
    vat_lines: Sequence | None = None,
    allowance_charges: Sequence | None = None,
    **data,
) -> Invoice:
    """A new BROUILLON for `supplier` (« Enregistrer »: nothing is sent). `data` holds model fields
    (DRAFT_FIELDS; structures, services, bank accounts as objects or ids); `lines` are dicts or objects with
    LINE_FIELDS; `vat_lines` (rate, base_ht, vat_amount) for an invoice deposited without lines, or the
    breakdown of a document whose amounts are authoritative; `allowance_charges`: the document-level
    remises and charges (ALLOWANCE_CHARGE_FIELDS)."""
    _require_can_issue(by, supplier)
    with transaction.atomic():
        invoice = Invoice(supplier=supplier, created_by=by if getattr(by, "pk", None) else None)
        _apply_data(invoice, data)
        invoice.save()
        if allowance_charges is not None:
            amounts.save_document_allowance_charges(invoice, allowance_charges, replace=False)
        if lines is not None:
            _replace_lines(invoice, lines)
        if vat_lines is not None:
            _replace_vat_lines(invoice, vat_lines)
        _refresh_totals(invoice)
        invoice.save()
        audit_log(
            action="invoices.invoice.draft_create",
            actor=by,
            structure_id=supplier.pk,
            target=invoice,
            data={"numero": invoice.number, "cadre": invoice.cadre},
        )
    return invoice


def invoice_draft_update(
    *,
    invoice: Invoice,
    by,
    data: Mapping | None = None,
    lines: Sequence | None = None,
    vat_lines: Sequence | None = None,
    allowance_charges: Sequence | None = None,
) -> Invoice:
    """Change a draft: the given fields, and the lines (replaced as a whole) when `lines` is given, the
    document-level remises and charges (replaced as a whole) when `allowance_charges` is given. Lines
    typed again in the wizard are the supplier's: the amounts are then computed, no longer the file's."""
    with transaction.atomic():
        locked = _lock(invoice)
        _require_can_issue(by, locked.supplier)
        _require_draft(locked, "Modification")
        _apply_data(locked, data or {})
        if lines is not None or allowance_charges is not None:
            locked.amounts_from_document = False
        if allowance_charges is not None:
            amounts.save_document_allowance_charges(locked, allowance_charges, replace=True)
        if lines is not None:
            _replace_lines(locked, lines)
        if vat_lines is not None:
            _replace_vat_lines(locked, vat_lines)
        if lines is not None or data or allowance_charges is not None:
            _refresh_totals(locked)
        locked.save()
        audit_log(
            action="invoices.invoice.draft_update",
            actor=by,
            structure_id=locked.supplier_id,
            target=locked,
            data={"champs": sorted((data or {}).keys()), "lignes": None if lines is None else len(lines)},
        )
    return locked


def invoice_draft_delete(*, invoice: Invoice, by) -> None:
    """Delete a draft (never a sent invoice: the model refuses it too)."""
    with transaction.atomic():
        locked = _lock(invoice)
        _require_can_issue(by, locked.supplier)
        _require_draft(locked, "Suppression")
        audit_log(
            action="invoices.invoice.draft_delete",
            actor=by,
            structure_id=locked.supplier_id,
            target=locked,
            data={"numero": locked.number},
        )
        locked.delete()


def invoice_precheck(*, invoice: Invoice) -> list[Finding]:
    """The « pré-contrôle »: every finding that would stop the sending, without sending."""
    return invoice_checks(invoice)


def _copy_lines(source_lines) -> list[dict]:
    return [{name: getattr(line, name) for name in LINE_FIELDS} for line in source_lines]


def _copy_allowance_charges(invoice: Invoice) -> list[dict]:
    return [
        {name: getattr(row, name) for name in ALLOWANCE_CHARGE_FIELDS}
        for row in invoice.allowance_charges.filter(line__isnull=True).order_by("position")
    ]


def invoice_duplicate(*, invoice: Invoice, by) -> Invoice:
    """A new draft with the routing, content and lines of `invoice` (any status), without its number, date,
    documents or history."""
    data = {name: getattr(invoice, name) for name in REUSABLE_FIELDS}
    draft = invoice_draft_create(
        supplier=invoice.supplier,
        by=by,
        lines=_copy_lines(invoice.lines.order_by("position")),
        allowance_charges=_copy_allowance_charges(invoice),
        mode_depot=ModeDepot.SAISIE_WEB,
        **data,
    )
    audit_log(
        action="invoices.invoice.duplicate",
        actor=by,
        structure_id=invoice.supplier_id,
        target=draft,
        data={"source": invoice.pk, "numero_source": invoice.number},
    )
    return draft


# --- Templates -----------------------------------------------------------------------------------------


def _json_value(value):
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def invoice_template_save(*, invoice: Invoice, by, name: str) -> InvoiceTemplate:
    """Keep this invoice's routing, content and lines as a reusable template (« modèle »), replacing the
    supplier's template of the same name."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Nom du modèle : obligatoire.", field="name", code="donnee_invalide")
    if len(name) > 100:
        raise ApplicationError("Nom du modèle : 100 caractères au plus.", field="name", code="donnee_invalide")
    _require_can_issue(by, invoice.supplier)
    with transaction.atomic():
        template, created = InvoiceTemplate.objects.update_or_create(
            supplier=invoice.supplier,
            name=name,
            defaults={
                "data": {field: _json_value(getattr(invoice, field)) for field in REUSABLE_FIELDS},
                "lines": [
                    {k: _json_value(v) for k, v in line.items()}
                    for line in _copy_lines(invoice.lines.order_by("position"))
                ],
                "created_by": by if getattr(by, "pk", None) else None,
            },
        )
        audit_log(
            action="invoices.template.save",
            actor=by,
            structure_id=invoice.supplier_id,
            target=template,
            data={"nom": name, "cree": created, "facture": invoice.pk},
        )
    return template


def invoice_template_apply(*, template: InvoiceTemplate, by) -> Invoice:
    """A new draft from a template. Structures or accounts deleted since are left empty (the pré-contrôle
    then says what is missing) rather than failing."""
    data = {}
    for name, value in template.data.items():
        if name not in REUSABLE_FIELDS:
            continue
        if name in FK_MODELS and value is not None and not FK_MODELS[name].objects.filter(pk=value).exists():
            value = None
        data[name] = value
    draft = invoice_draft_create(
        supplier=template.supplier, by=by, lines=template.lines, mode_depot=ModeDepot.SAISIE_WEB, **data
    )
    audit_log(
        action="invoices.template.apply",
        actor=by,
        structure_id=template.supplier_id,
        target=draft,
        data={"modele": template.name},
    )
    return draft


def invoice_template_delete(*, template: InvoiceTemplate, by) -> None:
    _require_can_issue(by, template.supplier)
    with transaction.atomic():
        audit_log(
            action="invoices.template.delete",
            actor=by,
            structure_id=template.supplier_id,
            target=template,
            data={"nom": template.name},
        )
        template.delete()


# --- Documents -------------------------------------------------------------------------------------------


def _size_in_use(invoice: Invoice) -> int:
    sizes = [a.file.size for a in invoice.attachments.select_related("file")]
    if invoice.main_document_id:
        sizes.append(invoice.main_document.size)
    return sum(sizes)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",") + " Mo"


def check_file(*, name: str, content: bytes, field: str = "name") -> tuple[str, str]:
    """(clean name, sniffed MIME) of an attachment, or a French ApplicationError saying what is wrong."""
    name = (name or "").strip().replace("\\", "/").rsplit("/", 1)[-1]
    if not name:
        raise ApplicationError("Nom du fichier : obligatoire.", field=field, code="piece_jointe_invalide")
    if len(name) > ATTACHMENT_NAME_MAX_LENGTH:
        raise ApplicationError(
            f"Nom du fichier : « {name} » compte {len(name)} caractères ; {ATTACHMENT_NAME_MAX_LENGTH} au plus, "
            "extension comprise. Renommez le fichier.",
            field=field,
            code="piece_jointe_invalide",
        )
    stem, dot, extension = name.rpartition(".")
    extension = extension.lower()
    if not dot or not stem or not extension:
        raise ApplicationError(
            f"Nom du fichier : « {name} » n'a pas d'extension (par exemple .pdf).",
            field=field,
            code="piece_jointe_invalide",
        )
    if extension not in ALLOWED_EXTENSIONS:
        raise ApplicationError(
            f"Type de fichier : l'extension .{extension} n'est pas acceptée. Extensions admises : "
            f"{', '.join(sorted(ALLOWED_EXTENSIONS))}.",
            field=field,
            code="piece_jointe_invalide",
        )
    if not content:
        raise ApplicationError(f"Fichier : « {name} » est vide.", field="content", code="piece_jointe_invalide")
    if len(content) > MAX_FILE_SIZE:
        raise ApplicationError(
            f"Taille du fichier : « {name} » pèse {_mb(len(content))} ; 10 Mo au plus par fichier.",
            field="content",
            code="piece_jointe_trop_grande",
        )
    mime = sniff_mime(content)
    if mime not in EXTENSION_MIMES.get(extension, set()):
        raise ApplicationError(
            f"Contenu du fichier : « {name} » porte l'extension .{extension} mais son contenu est "
            f"{MIME_LABELS.get(mime, mime)}. Joignez le bon fichier ou corrigez son extension.",
            field="content",
            code="piece_jointe_type_incoherent",
        )
    return name, mime


def _check_total(invoice: Invoice, adding: int, replacing: int = 0) -> None:
    total = _size_in_use(invoice) - replacing + adding
    if total > MAX_TOTAL_SIZE:
        raise ApplicationError(
            f"Taille totale : la facture et ses pièces jointes pèseraient {_mb(total)} ; 120 Mo au plus. "
            "Réduisez ou retirez des pièces jointes.",
            field="content",
            code="pieces_jointes_trop_lourdes",
        )


ATTACHMENT_STATUSES = (InvoiceStatus.BROUILLON, InvoiceStatus.SUSPENDUE)


def invoice_attachment_add(
    *,
    invoice: Invoice,
    by,
    name: str,
    content: bytes,
    type_code: str = AttachmentType.PIECE_JUSTIFICATIVE,
    line_number: int | None = None,
    channel: str = Channel.PORTAIL,
) -> InvoiceAttachment:
    """Attach a supporting document to a draft, or to a SUSPENDUE invoice the supplier completes.

    Rules (chorus-pro.md §5.3): 10 Mo per file, 120 Mo for the invoice and all its files, a name of 50
    characters at most with an allowed extension, and content that is what the extension says (sniffed).
    """
    name, mime = check_file(name=name, content=content)
    if type_code not in AttachmentType.values:
        raise ApplicationError(f"Type de pièce jointe : « {type_code} » inconnu.", field="type_code")
    with transaction.atomic():
        locked = _lock(invoice)
        if locked.status not in ATTACHMENT_STATUSES:
            raise ApplicationError(
                "Pièces jointes : on n'en ajoute qu'à un brouillon ou à une facture suspendue que l'on complète "
                f"(statut actuel : « {locked.get_status_display()} »).",
                code="facture_non_modifiable",
            )
        _require_can_issue(by, locked.supplier)
        if locked.attachments.filter(name__iexact=name).exists():
            raise ApplicationError(
                f"Nom du fichier : une pièce jointe s'appelle déjà « {name} » ; renommez le fichier.",
                field="name",
                code="piece_jointe_doublon",
            )
        if line_number is not None and not locked.lines.filter(position=line_number).exists():
            raise ApplicationError(
                f"Ligne concernée : la facture n'a pas de ligne {line_number}.", field="line_number"
            )
        _check_total(locked, len(content))
        stored = file_store(content=content, mime_type=mime)
        attachment = InvoiceAttachment.objects.create(
            invoice=locked,
            file=stored,
            name=name,
            type_code=type_code,
            line_number=line_number,
            added_by=by if getattr(by, "pk", None) else None,
            added_in_status=locked.status,
        )
        if locked.status != InvoiceStatus.BROUILLON:
            InvoiceEvent.objects.create(
                invoice=locked,
                action=InvoiceEventAction.AJOUT_PIECE_JOINTE,
                actor_user=by if getattr(by, "pk", None) else None,
                actor_label=_by_label(by, ""),
                actor_structure=locked.supplier,
                channel=channel,
                data={"nom": name, "sha256": stored.sha256},
            )
        audit_log(
            action="invoices.attachment.add",
            actor=by,
            structure_id=locked.supplier_id,
            target=locked,
            data={"nom": name, "taille": len(content), "type_mime": mime, "sha256": stored.sha256},
        )
    return attachment


def invoice_attachment_remove(*, attachment: InvoiceAttachment, by) -> None:
    """Remove an attachment from a draft (the model refuses it once the invoice is sent)."""
    with transaction.atomic():
        locked = _lock(attachment.invoice)
        _require_can_issue(by, locked.supplier)
        _require_draft(locked, "Retrait d'une pièce jointe")
        audit_log(
            action="invoices.attachment.remove",
            actor=by,
            structure_id=locked.supplier_id,
            target=locked,
            data={"nom": attachment.name},
        )
        attachment.delete()


def invoice_main_document_set(*, invoice: Invoice, by, name: str, content: bytes) -> Invoice:
    """The invoice document of a « dépôt » (a PDF the supplier made): it is sent as is, Chœur generates
    nothing. A draft in saisie mode becomes a PDF deposit on the portal."""
    name, mime = check_file(name=name, content=content)
    if mime != "application/pdf":
        raise ApplicationError(
            f"Document de facture : « {name} » n'est pas un PDF. Déposez la facture au format PDF.",
            field="content",
            code="piece_jointe_type_incoherent",
        )
    with transaction.atomic():
        locked = _lock(invoice)
        _require_can_issue(by, locked.supplier)
        _require_draft(locked, "Dépôt du document de facture")
        _check_total(locked, len(content), replacing=locked.main_document.size if locked.main_document_id else 0)
        stored = file_store(content=content, mime_type=mime)
        locked.main_document = stored
        locked.main_document_name = name
        if locked.mode_depot in SAISIE_MODES:
            locked.mode_depot = ModeDepot.DEPOT_PDF_PORTAIL
        locked.save()
        audit_log(
            action="invoices.invoice.main_document_set",
            actor=by,
            structure_id=locked.supplier_id,
            target=locked,
            data={"nom": name, "taille": len(content), "sha256": stored.sha256},
        )
    return locked


# --- Sending -------------------------------------------------------------------------------------------


def _findings_error(findings: list[Finding]) -> ApplicationError:
    count = len(findings)
    summary = findings[0].message if count == 1 else f"{count} points sont à corriger avant l'envoi."
    return ApplicationError(
        f"La facture ne peut pas être envoyée : {summary}",
        field=findings[0].field,
        code="CONTROLES",
        extra={"findings": [f.as_dict() for f in findings]},
    )


def _store_amounts(invoice: Invoice, *, lines: list[InvoiceLine] | None = None, vat_lines=None) -> None:
    amounts.store_amounts(invoice, lines=lines, vat_lines=vat_lines)


def _safe_filename(number: str) -> str:
    return "".join(c if c.isalnum() or c in "-_+" else "-" for c in number) or "facture"


def _generate_documents(invoice: Invoice) -> None:
    """The Factur-X PDF/A-3 (and its XML) when nobody uploaded the invoice document."""
    if invoice.main_document_id is not None:
        return
    try:
        pdf, xml = facturx.generate_facturx(invoice, snapshot=invoice.snapshot)
    except Exception:
        logger.exception("Génération du document de la facture %s (id %s) impossible", invoice.number, invoice.pk)
        raise ApplicationError(
            "La génération du document de facture (PDF Factur-X) a échoué : la facture n'a pas été envoyée et "
            "reste en brouillon, inchangée. Réessayez dans quelques minutes ; si le problème persiste, "
            "contactez l'assistance.",
            code="GENERATION_ECHEC",
        ) from None
    invoice.main_document = file_store(content=pdf, mime_type="application/pdf")
    invoice.main_document_name = f"{_safe_filename(invoice.number)}.pdf"
    if invoice.structured_xml_id is None:
        invoice.structured_xml = file_store(content=xml, mime_type="application/xml")


def _generate_certificate(invoice: Invoice, *, by_label: str, render: bool = True) -> None:
    invoice.certificate_number = make_certificate_number(invoice)
    data = certificate_data(invoice, deposited_by_label=by_label)
    if not render:
        # What the certificate states is fixed now; its PDF is rendered after the commit (rendering.py).
        invoice.snapshot = {**invoice.snapshot, "certificate": data}
        return
    try:
        pdf = render_certificate(data)
    except Exception:
        logger.exception("Certificat de dépôt de la facture %s (id %s) impossible", invoice.number, invoice.pk)
        raise ApplicationError(
            "La génération du certificat de dépôt a échoué : la facture n'a pas été envoyée et reste en "
            "brouillon, inchangée. Réessayez dans quelques minutes.",
            code="GENERATION_ECHEC",
        ) from None
    invoice.certificate = file_store(content=pdf, mime_type="application/pdf")
    invoice.snapshot = {**invoice.snapshot, "certificate": data}


def invoice_route(
    *, invoice: Invoice, row_locked: bool = False, persist: bool = True, pending_changes: list | None = None
) -> Invoice:
    """The platform's next step after a deposit or a validation: to the valideur (A9/A12), to the level-2
    valideur, or to the recipient (MISE_A_DISPOSITION). `row_locked`: as for `invoice_transition`.

    Works cadres stay DEPOSEE here: their MOE/MOA circuit belongs to the works app, which takes them from
    there (invoices knows nothing of works).
    """
    rule = cadre_rule(invoice.cadre)
    if rule.is_works:
        return invoice
    status = invoice.status
    transition = None
    if status == InvoiceStatus.DEPOSEE:
        transition = "soumettre_valideur" if rule.valideur_required and invoice.valideur_id else "mettre_a_disposition"
    elif status in VALIDATED_1:
        transition = "soumettre_valideur_2" if invoice.valideur2_id else "mettre_a_disposition"
    elif status in VALIDATED_2:
        transition = "mettre_a_disposition"
    if transition is None:
        return invoice
    return invoice_transition(
        invoice=invoice,
        transition=transition,
        channel=Channel.SYSTEME,
        row_locked=row_locked,
        persist=persist,
        pending_changes=pending_changes,
    )


def _send_locked(
    invoice: Invoice,
    *,
    by,
    channel: str,
    by_label: str,
    defer_rendering: bool = False,
    checked: bool = False,
    lines: list[InvoiceLine] | None = None,
    vat_lines: Sequence | None = None,
) -> Invoice:
    """Checks, amounts, documents, deposit, certificate, routing — on a locked BROUILLON, inside the
    caller's transaction: any failure rolls everything back and the draft stays as it was.

    `defer_rendering` (structured deposits: flows, API): the certificate PDF, and the readable PDF of an
    XML-only deposit, are rendered after the commit by a low-priority task (rendering.py). A deposit with no
    document at all still gets its Factur-X now: that document is what the fingerprint certifies.
    `checked`: the caller ran `invoice_checks` on this very row, in this transaction (no second pass);
    `lines`: the row's lines, when the caller has just written them (no second read)."""
    findings = [] if checked else invoice_checks(invoice)
    if findings:
        raise _findings_error(findings)
    _store_amounts(invoice, lines=lines, vat_lines=vat_lines)
    invoice.deposited_at = timezone.now()
    invoice.snapshot = facturx.invoice_snapshot(invoice)
    original = invoice.main_document or invoice.structured_xml
    if not (defer_rendering and original is not None):
        _generate_documents(invoice)
    # The fingerprint is that of the original as deposited: the uploaded document, else the deposited
    # structured XML, else the Factur-X Chœur generated.
    invoice.document_sha256 = (original or invoice.main_document).sha256
    label = _by_label(by, by_label)
    _generate_certificate(invoice, by_label=label, render=not defer_rendering)
    if defer_rendering:
        from choeur.invoices.rendering import invoice_render_documents

        task_enqueue_on_commit(invoice_render_documents, invoice.pk)
    # Deposit and routing change the locked row in memory; it is then written once, with everything the
    # sending computed (one UPDATE instead of three), and their two log rows in one INSERT.
    changes: list = []
    invoice = invoice_transition(
        invoice=invoice,
        transition="deposer",
        actor=by if getattr(by, "pk", None) else None,
        actor_structure=invoice.supplier,
        channel=channel,
        data={"mode_depot": invoice.mode_depot, "numero_flux_depot": invoice.numero_flux_depot},
        row_locked=True,
        persist=False,
        pending_changes=changes,
    )
    invoice = invoice_route(invoice=invoice, row_locked=True, persist=False, pending_changes=changes)
    try:
        # No savepoint: an IntegrityError is always re-raised, and fails the caller's transaction whole.
        with transaction.atomic(savepoint=False), invoice.saving_locked_draft():
            invoice.save()
    except IntegrityError:
        # Two sendings of the same number raced past the pré-contrôle; the partial unique index decided.
        raise _duplicate_error(invoice.number) from None
    invoice_status_changes_write(changes)
    audit_log(
        action="invoices.invoice.send",
        actor=by,
        actor_label=label if by is None else "",
        structure_id=invoice.supplier_id,
        target=invoice,
        data={
            "numero": invoice.number,
            "statut": invoice.status,
            "montant_ttc": str(invoice.total_ttc),
            "empreinte": invoice.document_sha256,
            "certificat": invoice.certificate_number,
            "mode_depot": invoice.mode_depot,
            **({"numero_flux_depot": invoice.numero_flux_depot} if invoice.numero_flux_depot else {}),
        },
    )
    return invoice


def invoice_send(*, invoice: Invoice, by, channel: str = Channel.PORTAIL, by_label: str = "") -> Invoice:
    """« Valider et envoyer »: send a draft to its recipient (or its valideur).

    Locks the invoice; runs every check (ApplicationError `code="CONTROLES"` with all of them in
    `extra["findings"]`); stores the final amounts and VAT breakdown; generates the Factur-X PDF/A-3 when no
    document was uploaded; fingerprints the document (SHA-256); sets `deposited_at`, the start of the legal
    payment clock; writes the certificat de dépôt; then BROUILLON → DEPOSEE → MISE_A_DISPOSITION (or
    A_VALIDER_1 for A9/A12). If anything fails, nothing is sent and the draft stays intact.
    """
    with transaction.atomic():
        locked = _lock(invoice)
        _require_can_issue(by, locked.supplier)
        _require_draft(locked, "Envoi")
        return _send_locked(locked, by=by, channel=channel, by_label=by_label)


# --- Structured deposits (flows, API) ---------------------------------------------------------------------

# Names the flows extractor and the Chorus-compatible API use for the same data.
DATA_ALIASES = {
    "issue_date": "invoice_date",
    "code_service": "recipient_service_code",
    "engagement": "numero_engagement",
    "marche": "numero_marche",
    "buyer_siret": "recipient_identifier",
    "recipient_siret": "recipient_identifier",
    "valideur_siret": "valideur_identifier",
}
LINE_ALIASES = {"name": "designation", "unit_code": "unit", "unit_net_price": "unit_price_ht", "id": "reference"}
VAT_LINE_ALIASES = {"taxable_amount": "base_ht", "tax_amount": "vat_amount"}
MODE_DEPOT_ALIASES = {"API": ModeDepot.UPLOAD_API, "PORTAIL": ModeDepot.UPLOAD_PORTAIL}
# Keys of structured data that carry no invoice field (kept by the caller, ignored here).
IGNORED_KEYS = frozenset({"supplier_identifier", "supplier_identifier_type", "supplier_siret", "syntax"})


def _alias(mapping: Mapping, aliases: Mapping) -> dict:
    result = {}
    for key, value in mapping.items():
        result[aliases.get(key, key)] = value
    return result


def _channel_for(mode_depot: str) -> str:
    if mode_depot.endswith("_API"):
        return Channel.API
    if mode_depot.startswith("EDI"):
        return Channel.EDI
    return Channel.PORTAIL


# Lookups of structured deposits memoised by `invoice_lookups_memoised()` (None: no memo).
_lookups: ContextVar[dict | None] = ContextVar("choeur_invoice_lookups", default=None)


@contextlib.contextmanager
def invoice_lookups_memoised() -> Iterator[None]:
    """Inside the block, the structures, services and bank accounts that structured deposits name are read
    once: the invoices of one flow name the same recipient again and again. Meant for one flow's processing
    (seconds): a structure changed meanwhile is seen by the next flow."""
    if _lookups.get() is not None:
        yield
        return
    token = _lookups.set({})
    try:
        yield
    finally:
        _lookups.reset(token)


def _memoised(key: tuple, read: Callable[[], Any]) -> Any:
    memo = _lookups.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def _find_structure(identifier: str, identifier_type: str = IdentifierType.SIRET) -> Structure | None:
    identifier = "".join(str(identifier or "").split())
    identifier_type = identifier_type or IdentifierType.SIRET
    return _memoised(
        ("structure", identifier_type, identifier),
        lambda: Structure.objects.filter(identifier_type=identifier_type, identifier=identifier).first(),
    )


def _resolve_party(data: dict, prefix: str, label: str, findings: list[Finding]) -> None:
    """`<prefix>_identifier` (+ `_identifier_type`) → `<prefix>`, and `<prefix>_service_code` → service."""
    identifier = data.pop(f"{prefix}_identifier", None)
    identifier_type = data.pop(f"{prefix}_identifier_type", None) or IdentifierType.SIRET
    service_code = data.pop(f"{prefix}_service_code", None)
    structure = data.get(prefix)
    if structure is None and identifier:
        structure = _find_structure(identifier, identifier_type)
        if structure is None:
            findings.append(
                Finding(
                    prefix,
                    f"{prefix.upper()}_INCONNU",
                    f"{label} : aucune structure n'a l'identifiant {identifier_type} {identifier} sur Chœur. "
                    "Vérifiez l'identifiant auprès de votre client.",
                )
            )
        data[prefix] = structure
    service_code = (service_code or "").strip()
    if service_code and isinstance(structure, Structure):
        service = _memoised(
            ("service", structure.pk, service_code), lambda: structure.services.filter(code=service_code).first()
        )
        if service is None:
            findings.append(
                Finding(
                    f"{prefix}_service",
                    "SERVICE_INCONNU",
                    f"{label} : la structure {structure.designation} n'a pas de service « {service_code} ».",
                )
            )
        data[f"{prefix}_service"] = service


def _as_stored(content, *, what: str, pdf_only: bool) -> StoredFile | None:
    if content is None:
        return None
    if isinstance(content, StoredFile):
        return content
    content = bytes(content)
    if len(content) > MAX_FILE_SIZE:
        raise ApplicationError(f"{what} : {_mb(len(content))} ; 10 Mo au plus.", code="piece_jointe_trop_grande")
    mime = sniff_mime(content)
    if pdf_only and mime != "application/pdf":
        raise ApplicationError(
            f"{what} : le document de facture doit être un PDF.", code="piece_jointe_type_incoherent"
        )
    if not pdf_only and mime != "application/xml":
        raise ApplicationError(f"{what} : les données structurées doivent être un XML.", code="donnee_invalide")
    return file_store(content=content, mime_type=mime)


def _duplicate_error(number: str, existing: Invoice | int | None = None) -> ApplicationError:
    return ApplicationError(
        f"Numéro de facture : le numéro {number} a déjà été envoyé par cette structure ; la facture n'a pas été "
        "créée une seconde fois.",
        field="number",
        code="DOUBLON",
        extra={"invoice_id": getattr(existing, "pk", existing)},
    )


@dataclasses.dataclass
class InvoiceInput:
    """The structured data of a deposit, as `invoice_create_from_data` accepts it (a dict works too).

    Parties are objects, or identifiers resolved here: `recipient_identifier` (+ `_identifier_type`,
    SIRET by default) and `recipient_service_code`; same for `valideur`. Bank details by `iban` (one of the
    supplier's active accounts). `lines`: dicts with LINE_FIELDS; `vat_lines`: dicts with rate, base_ht,
    vat_amount (for a deposit without lines). Every other key is an Invoice field (DRAFT_FIELDS).
    """

    number: str
    invoice_date: datetime.date | str
    recipient_identifier: str = ""
    recipient_service_code: str = ""
    invoice_type: str = "FACTURE"
    cadre: str = Cadre.A1
    currency: str = "EUR"
    type_tva: str = TypeTva.TVA_SUR_DEBIT
    payment_mode: str = ""
    lines: list = dataclasses.field(default_factory=list)
    vat_lines: list = dataclasses.field(default_factory=list)
    extra: dict = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**data, **self.extra}


def invoice_create_from_data(
    *,
    supplier: Structure,
    by,
    data: Mapping | object,
    main_document: bytes | StoredFile | None = None,
    structured_xml: bytes | StoredFile | None = None,
    mode_depot: str,
    numero_flux_depot: str = "",
    by_label: str = "",
    channel: str | None = None,
) -> Invoice:
    """Create **and send** an invoice from structured data in one go (flows engine, API `soumettre`),
    with the same checks as the portal.

    Idempotency: a number this supplier already sent raises `ApplicationError(code="DOUBLON")` (with
    `extra["invoice_id"]`), so a replayed flow can tell « already done » from « refused ». Any other refusal
    is `code="CONTROLES"` with every finding in `extra["findings"]`; nothing is left behind.
    `mode_depot` is a ModeDepot value (the aliases API and PORTAIL mean UPLOAD_API and UPLOAD_PORTAIL).
    """
    if isinstance(data, InvoiceInput):
        raw = data.as_dict()
    elif dataclasses.is_dataclass(data) and not isinstance(data, type):
        raw = dataclasses.asdict(data)
    else:
        raw = dict(data)
    raw = _alias(raw, DATA_ALIASES)
    mode_depot = MODE_DEPOT_ALIASES.get(mode_depot, mode_depot)
    if mode_depot not in ModeDepot.values:
        raise ApplicationError(
            f"Mode de dépôt inconnu : « {mode_depot} ».", field="mode_depot", code="donnee_invalide"
        )
    channel = channel or _channel_for(mode_depot)
    _require_can_issue(by, supplier)

    number = str(raw.get("number") or "").strip()
    # Only the id, unordered: the partial unique index answers it alone (a full row read and its ORDER BY cost
    # more than the rest of the check, once per invoice of every flow).
    existing = (
        Invoice.objects.sent().filter(supplier=supplier, number=number).order_by().values_list("pk", flat=True)[:1]
        if number
        else ()
    )
    for existing_pk in existing:
        raise _duplicate_error(number, existing_pk)

    lines = [
        _alias(line if isinstance(line, Mapping) else vars(line), LINE_ALIASES)
        for line in raw.pop("lines", None) or []
    ]
    vat_lines = [
        _alias(line if isinstance(line, Mapping) else vars(line), VAT_LINE_ALIASES)
        for line in raw.pop("vat_lines", None) or []
    ]
    allowance_charges = [
        item if isinstance(item, Mapping) else vars(item) for item in raw.pop("allowance_charges", None) or []
    ]
    iban = "".join(str(raw.pop("iban", "") or "").split()).upper()
    for key in IGNORED_KEYS:
        raw.pop(key, None)
    findings: list[Finding] = []
    _resolve_party(raw, "recipient", "Destinataire", findings)
    _resolve_party(raw, "valideur", "Valideur", findings)
    if iban and "supplier_bank_account" not in raw:
        account = _memoised(
            ("iban", supplier.pk, iban),
            lambda: supplier.bank_accounts.filter(iban__iexact=iban, is_active=True).first(),
        )
        if account is None:
            findings.append(
                Finding(
                    "supplier_bank_account",
                    "RIB_INCONNU",
                    f"Coordonnées bancaires : l'IBAN {iban[:4]}…{iban[-4:]} ne figure pas parmi les coordonnées "
                    "bancaires actives de votre structure. Ajoutez-le dans la fiche de la structure.",
                )
            )
        raw["supplier_bank_account"] = account

    # The row is new and unseen by anyone until the commit: it is built in memory and written once, with no
    # lock to take nor second read; the audit entries are appended at the end (see core.audit), so that
    # concurrent flow workers do not queue behind one another's chain lock.
    with transaction.atomic(), audit_deferred():
        invoice = Invoice(
            supplier=supplier,
            created_by=by if getattr(by, "pk", None) else None,
            mode_depot=mode_depot,
            numero_flux_depot=numero_flux_depot or "",
        )
        raw.pop("mode_depot", None)
        raw.pop("numero_flux_depot", None)
        _apply_data(invoice, raw)
        invoice.main_document = _as_stored(main_document, what="Document de facture", pdf_only=True)
        invoice.structured_xml = _as_stored(structured_xml, what="Données structurées", pdf_only=False)
        if invoice.main_document is not None:
            invoice.main_document_name = f"{_safe_filename(invoice.number)}.pdf"
        from_document = invoice.amounts_from_document
        built_lines, line_details = amounts.build_lines(invoice, lines) if lines else ([], [])
        document_rows = amounts.build_allowance_charges(invoice, allowance_charges)
        _refresh_totals_with(invoice, built_lines, document_rows)
        invoice.save()
        if built_lines:
            InvoiceLine.objects.bulk_create(built_lines)
            amounts.save_line_details(invoice, line_details)
        if document_rows:
            InvoiceAllowanceCharge.objects.bulk_create(document_rows)
        if vat_lines and not lines:
            _replace_vat_lines(invoice, vat_lines)
        # No audit entry of its own: the creation either rolls back with a refusal or ends in the sending's
        # entries (deposit, routing, « send » with the mode and flow number).
        checked = invoice_checks(
            invoice,
            lines=built_lines,
            vat_lines=vat_lines if from_document else (None if not built_lines else []),
            allowance_charges=document_rows,
            number_checked=True,
        )
        resolved_fields = {f.field for f in findings}
        # A party we could not resolve already has its precise finding; drop the generic « absent » one.
        all_findings = findings + [f for f in checked if f.field not in resolved_fields]
        if all_findings:
            raise _findings_error(all_findings)
        return _send_locked(
            invoice,
            by=by,
            channel=channel,
            by_label=by_label,
            defer_rendering=True,
            checked=True,
            lines=built_lines or None,
            vat_lines=vat_lines if from_document and built_lines else None,
        )


# --- Events --------------------------------------------------------------------------------------------


def invoice_event_record(
    *,
    invoice: Invoice,
    action: str,
    actor=None,
    actor_structure: Structure | None = None,
    channel: str = Channel.PORTAIL,
    data: dict | None = None,
) -> InvoiceEvent:
    """Record a history action that does not change the status. A download by the recipient also sets
    `downloaded_by_recipient` (the « téléchargée / non téléchargée » filter of Chorus Pro)."""
    if action not in InvoiceEventAction.values:
        raise ApplicationError(f"Action inconnue : « {action} ».", code="action_inconnue")
    with transaction.atomic():
        locked = _lock(invoice)
        event = InvoiceEvent.objects.create(
            invoice=locked,
            action=action,
            actor_user=actor if getattr(actor, "pk", None) else None,
            actor_label=_by_label(actor, actor_structure.designation if actor_structure else ""),
            actor_structure=actor_structure,
            channel=channel,
            data=data or {},
        )
        if (
            action == InvoiceEventAction.TELECHARGEMENT_FACTURE
            and actor_structure is not None
            and actor_structure.pk == locked.recipient_id
            and not locked.downloaded_by_recipient
        ):
            locked.downloaded_by_recipient = True
            locked.save(update_fields=["downloaded_by_recipient", "updated_at"])
        audit_log(
            action=f"invoices.invoice.{action.lower()}",
            actor=actor,
            structure_id=actor_structure.pk if actor_structure else locked.supplier_id,
            target=locked,
            data=data or {},
        )
    return event
