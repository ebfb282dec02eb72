"""Drafts prefilled from an uploaded invoice (the portal's « dépôt »), and the structure search of the saisie.

A deposit on the portal does not send anything: the structured data of the file (Factur-X, UBL, CII) become
a BROUILLON that the supplier reviews and completes in the same wizard as a saisie, then sends with
`services.invoice_send`. Parties the file names but Chœur does not know are left empty and reported as
French notes, so that the draft is never lost for an unknown SIRET.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.db import transaction
from django.db.models import Q, QuerySet

from choeur.core.audit import audit_log
from choeur.core.errors import ApplicationError
from choeur.core.files import file_store, sniff_mime
from choeur.directory.enums import IdentifierType
from choeur.directory.models import Structure
from choeur.invoices.enums import Cadre, ModeDepot
from choeur.invoices.models import Invoice
from choeur.invoices.services import (
    DATA_ALIASES,
    DRAFT_FIELDS,
    LINE_ALIASES,
    LINE_FIELDS,
    MAX_FILE_SIZE,
    VAT_LINE_ALIASES,
    _require_can_issue,
    _require_draft,
    invoice_draft_create,
    invoice_main_document_set,
)

# Keys of structured data that name a party by identifier; resolved here, never stored as such.
_PARTY_KEYS = ("recipient_identifier", "recipient_identifier_type", "recipient_service_code", "iban")


def _renamed(mapping: Mapping, aliases: Mapping) -> dict:
    return {aliases.get(key, key): value for key, value in mapping.items()}


def _resolve_parties(supplier: Structure, raw: dict, notes: list[str]) -> None:
    identifier = "".join(str(raw.pop("recipient_identifier", "") or "").split())
    identifier_type = raw.pop("recipient_identifier_type", None) or IdentifierType.SIRET
    service_code = str(raw.pop("recipient_service_code", "") or "").strip()
    iban = "".join(str(raw.pop("iban", "") or "").split()).upper()
    recipient = None
    if identifier:
        recipient = Structure.objects.filter(identifier_type=identifier_type, identifier=identifier).first()
        if recipient is None:
            notes.append(
                f"Destinataire : aucune structure n'a l'identifiant {identifier} sur Chœur ; recherchez le "
                "destinataire dans l'annuaire à l'étape « Parties »."
            )
        elif not recipient.is_public:
            notes.append(
                f"Destinataire : {recipient.designation} n'est pas une structure publique ; choisissez le "
                "destinataire public dans l'annuaire."
            )
            recipient = None
        else:
            raw["recipient"] = recipient
    else:
        notes.append("Destinataire : le fichier ne donne pas de SIRET d'acheteur ; choisissez-le dans l'annuaire.")
    if service_code:
        service = recipient.services.filter(code=service_code).first() if recipient is not None else None
        if service is not None:
            raw["recipient_service"] = service
        elif recipient is not None:
            notes.append(
                f"Service exécutant : {recipient.designation} n'a pas de service « {service_code} » ; "
                "choisissez-le dans la liste."
            )
    if iban:
        account = supplier.bank_accounts.filter(iban__iexact=iban, is_active=True).first()
        if account is not None:
            raw["supplier_bank_account"] = account
        else:
            notes.append(
                f"Coordonnées bancaires : l'IBAN {iban[:4]}…{iban[-4:]} du fichier ne figure pas parmi les "
                "coordonnées bancaires actives de votre structure ; choisissez un compte ou ajoutez-le dans la "
                "fiche de la structure."
            )


def _clean_lines(lines, notes: list[str]) -> list[dict]:
    cleaned = []
    for index, line in enumerate(lines):
        line = _renamed(line if isinstance(line, Mapping) else vars(line), LINE_ALIASES)
        values = {key: line.get(key) for key in (*LINE_FIELDS, "net_amount", "allowance_charges") if key in line}
        values["discount_ht"] = line.get("discount_ht") or 0
        values["unit_price_ht"] = line.get("unit_price_ht")
        if values["unit_price_ht"] is None and line.get("gross_price_ht") is not None:
            values["unit_price_ht"] = line["gross_price_ht"] - (line.get("price_discount_ht") or 0)
        if values["unit_price_ht"] is None:
            # Kept so the line is not lost; the supplier completes the price in the wizard.
            values["unit_price_ht"] = 0
            notes.append(f"Ligne {index + 1} : le fichier ne donne pas de prix unitaire ; complétez-le.")
        if values["quantity"] is None:
            values["quantity"] = 1
            notes.append(f"Ligne {index + 1} : le fichier ne donne pas de quantité ; 1 a été retenu, vérifiez-la.")
        cleaned.append(values)
    return cleaned


def _safe_document_name(name: str, default: str) -> str:
    """The uploaded name, shortened to the 50 characters an attachment name may have."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or default
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, default.rpartition(".")[2]
    stem = re.sub(r"[^\w\-+. ]", "_", stem)[: 49 - len(extension)] or "facture"
    return f"{stem}.{extension.lower()}"


def invoice_draft_create_from_data(
    *,
    supplier: Structure,
    by,
    data: Mapping,
    mode_depot: str = ModeDepot.UPLOAD_PORTAIL,
    main_document: bytes | None = None,
    main_document_name: str = "",
    structured_xml: bytes | None = None,
) -> tuple[Invoice, list[str]]:
    """A BROUILLON prefilled from structured data (the keys `invoice_create_from_data` accepts), with the
    uploaded PDF as its document and the XML as its structured data. Returns the draft and French notes on
    what could not be carried over. Nothing is sent; the declared totals are kept for the pré-contrôle to
    compare with the lines."""
    _require_can_issue(by, supplier)
    raw = _renamed(dict(data), DATA_ALIASES)
    extra = raw.pop("extra", None) or {}
    raw.update(extra)
    notes: list[str] = []
    lines = _clean_lines(raw.pop("lines", None) or [], notes)
    vat_lines = [
        _renamed(line if isinstance(line, Mapping) else vars(line), VAT_LINE_ALIASES)
        for line in raw.pop("vat_lines", None) or []
    ]
    allowance_charges = list(raw.pop("allowance_charges", None) or [])
    _resolve_parties(supplier, raw, notes)
    for key in list(raw):
        if key not in DRAFT_FIELDS:
            raw.pop(key)
    cadre = str(raw.get("cadre") or "")
    try:
        Cadre.from_code(cadre or "A1")
    except ValueError:
        notes.append(f"Cadre de facturation : « {cadre} » inconnu ; le cadre A1 a été retenu, vérifiez-le.")
        raw["cadre"] = Cadre.A1
    raw["mode_depot"] = mode_depot
    raw.setdefault("draft_step", 1)
    if structured_xml is not None and len(structured_xml) > MAX_FILE_SIZE:
        raise ApplicationError(
            "Données structurées : 10 Mo au plus.", field="content", code="piece_jointe_trop_grande"
        )
    with transaction.atomic():
        invoice = _create_dropping_bad_fields(
            supplier=supplier,
            by=by,
            raw=raw,
            lines=lines,
            vat_lines=vat_lines,
            allowance_charges=allowance_charges,
            notes=notes,
        )
        if structured_xml is not None:
            invoice = invoice_structured_xml_set(invoice=invoice, by=by, content=structured_xml)
        if main_document is not None:
            invoice = invoice_main_document_set(
                invoice=invoice,
                by=by,
                name=_safe_document_name(main_document_name, f"{invoice.number or 'facture'}.pdf"),
                content=main_document,
            )
    return invoice, notes


def _create_dropping_bad_fields(
    *, supplier, by, raw: dict, lines: list, vat_lines: list, allowance_charges: list, notes: list[str]
) -> Invoice:
    """Create the draft; a value of the file that a field refuses (a number with spaces, a currency of four
    letters…) is left out and reported, so that the rest of the file still makes a draft."""
    for _ in range(len(raw) + 1):
        try:
            with transaction.atomic():
                return invoice_draft_create(
                    supplier=supplier,
                    by=by,
                    lines=lines or None,
                    # A document whose amounts are authoritative keeps its own VAT breakdown.
                    vat_lines=vat_lines if vat_lines and (not lines or raw.get("amounts_from_document")) else None,
                    allowance_charges=allowance_charges or None,
                    **raw,
                )
        except ApplicationError as exc:
            if exc.field not in raw or exc.field in ("mode_depot", "draft_step"):
                raise
            notes.append(f"{exc.message} La valeur du fichier n'a pas été reprise ; complétez ce champ.")
            raw.pop(exc.field)
    raise ApplicationError("Les données du fichier n'ont pas pu être reprises.", code="donnee_invalide")


def invoice_draft_create_from_pdf(*, supplier: Structure, by, name: str, content: bytes) -> Invoice:
    """A BROUILLON whose document is a plain PDF the supplier made (« dépôt PDF »): the supplier then types
    the data the PDF carries; Chœur generates nothing at sending."""
    with transaction.atomic():
        invoice = invoice_draft_create(supplier=supplier, by=by, mode_depot=ModeDepot.SAISIE_WEB)
        return invoice_main_document_set(
            invoice=invoice, by=by, name=_safe_document_name(name, "facture.pdf"), content=content
        )


def invoice_structured_xml_set(*, invoice: Invoice, by, content: bytes) -> Invoice:
    """Keep the deposited UBL/CII XML beside a draft: it is part of what the supplier deposited (for a
    bare XML it is the invoice itself, fingerprinted at sending)."""
    if sniff_mime(content) != "application/xml":
        raise ApplicationError(
            "Données structurées : le fichier n'est pas un XML.", field="content", code="donnee_invalide"
        )
    with transaction.atomic():
        locked = Invoice.objects.select_for_update(of=("self",)).select_related("supplier").get(pk=invoice.pk)
        _require_can_issue(by, locked.supplier)
        _require_draft(locked, "Dépôt des données structurées")
        stored = file_store(content=content, mime_type="application/xml")
        locked.structured_xml = stored
        locked.save()
        audit_log(
            action="invoices.invoice.structured_xml_set",
            actor=by,
            structure_id=locked.supplier_id,
            target=locked,
            data={"taille": len(content), "sha256": stored.sha256},
        )
    return locked


def structures_search(*, query: str, public_only: bool, exclude: Structure | None = None) -> QuerySet[Structure]:
    """Active structures by name or SIRET, for the saisie's recipient (public only) and valideur (any:
    a titulaire or a mandataire is a company) searches. Three characters at least."""
    query = " ".join((query or "").split())
    structures = Structure.objects.active()
    if public_only:
        structures = structures.public()
    if exclude is not None:
        structures = structures.exclude(pk=exclude.pk)
    digits = re.sub(r"\D", "", query)
    if len(query) < 3:
        return structures.none()
    if digits and len(digits) == len(query.replace(" ", "")):
        structures = structures.filter(identifier__startswith=digits)
    else:
        for word in query.split():
            structures = structures.filter(Q(raison_sociale__icontains=word) | Q(libelle__icontains=word))
    return structures.order_by("raison_sociale", "pk")
