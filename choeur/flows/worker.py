"""The flow processing engine: claim a flow with a lease, read it, integrate each invoice, conclude.

The Flow row is the ledger (platform-notes §2.2). Nothing here trusts the task queue:

- a worker **claims** a flow with one conditional UPDATE (waiting, or being processed under an expired
  lease); if the UPDATE touched no row, someone else has it and the worker walks away;
- every write made while processing happens in a transaction that also **renews the lease on the
  condition that this worker still owns it** — a worker that lost its lease (it was too slow, or
  presumed dead) has its writes rolled back instead of racing the new owner;
- each invoice is one FlowItem, unique on (flow, index), and its invoice is created in the same
  transaction that links it to the item: a crash leaves either both or neither, so a replay by
  another worker finishes the flow without creating any invoice twice.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import os
import tarfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from choeur.core.audit import audit_deferred, audit_log
from choeur.core.errors import ApplicationError
from choeur.core.tasks import tasks_batched, tasks_batched_discard, tasks_batched_mark
from choeur.flows.enums import ErrorNature, FlowState, ItemStatus
from choeur.flows.leases import lease_renew, technical_error
from choeur.flows.models import Flow, FlowItem
from choeur.invoices.services import invoice_lookups_memoised

logger = logging.getLogger(__name__)

# Test-only: seconds to sleep between two invoices of a flow, so that a test can kill a worker mid-flow
# (tests/flows/test_worker_kill.py). Never set it in production.
STEP_DELAY_ENV = "CHOEUR_TEST_FLOW_STEP_DELAY"
# A batch of invoices of one flow is committed after this long (see flow_run).
BATCH_SECONDS = 1.0


class FlowRejected(Exception):
    """The flow as a whole is refused (unreadable container, wrong syntaxeFlux, no invoice in it)."""

    def __init__(self, errors: list[dict[str, str]], *, detected: str = ""):
        super().__init__("; ".join(error["libelleErreur"] for error in errors))
        self.errors = errors
        self.detected = detected


# --- What the validation engine tells us about one invoice ------------------------------------------------


@dataclass
class DocumentView:
    """The parts of a validation report (choeur.flows.validation.DocumentReport) that integration needs."""

    index: int
    member_name: str = ""
    syntax: str = ""
    profile: str = ""
    valid: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)
    number: str = ""
    supplier_id: str = ""
    recipient_id: str = ""
    data: Any = None  # the engine's InvoiceData, handed to invoice_create_from_data
    xml: bytes = b""
    pdf: bytes | None = None
    syntaxe_flux: str = ""

    @property
    def main_bytes(self) -> bytes:
        """The legal document: the PDF of a Factur-X, the XML itself otherwise."""
        return self.pdf if self.pdf else self.xml

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.main_bytes).hexdigest() if self.main_bytes else ""


def _party_id(party) -> str:
    """The identifier Chorus Pro routes on: the SIRET, else the VAT number or legal id (foreign parties)."""
    if party is None:
        return ""
    for value in (party.siret, party.vat_number, party.legal_id):
        if value:
            return str(value)
    return str(party.identifiers[0][1]) if party.identifiers else ""


def _pdf_of(report, *, content: bytes) -> bytes | None:
    """The Factur-X PDF a report's XML came from: the deposited file itself, or its archive member."""
    if report.container != "pdf":
        return None
    if not report.archive:
        return content
    # `member` is "<archive member>/<embedded XML name>"; the engine has already checked the archive's
    # directory, member count and sizes, so reading the one member again is bounded.
    member = report.member.rsplit("/", 1)[0] if "/" in report.member else report.member
    try:
        if report.archive == "zip":
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                return archive.read(member)
        if report.archive == "tar":
            raw = content
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as archive:
                handle = archive.extractfile(member)
                return handle.read() if handle is not None else None
        if report.archive == "gzip":
            return gzip.decompress(content)
    except (KeyError, OSError, zipfile.BadZipFile, tarfile.TarError, EOFError):
        return None
    return None


def document_view(report, index: int, *, content: bytes) -> DocumentView:
    """Adapt one DocumentReport of the validation engine."""
    invoice = report.invoice
    return DocumentView(
        index=index,
        member_name=report.member or "",
        syntax=report.syntax or "",
        profile=report.profile or "",
        valid=report.valid,
        errors=[finding.to_dict() for finding in report.findings],
        number=(invoice.number or "") if invoice else "",
        supplier_id=_party_id(invoice.supplier) if invoice else "",
        recipient_id=_party_id(invoice.buyer) if invoice else "",
        data=invoice,
        xml=report.xml or b"",
        pdf=_pdf_of(report, content=content) if report.valid else None,
        syntaxe_flux=report.syntaxe_flux or "",
    )


def default_validator() -> Callable[..., list]:
    from choeur.flows.validation import validate_bytes

    return validate_bytes


def default_invoice_creator() -> Callable[..., Any]:
    from choeur.invoices.services import invoice_create_from_data

    return invoice_create_from_data


# --- Claim, lease, release ----------------------------------------------------------------------------------


# --- Processing ----------------------------------------------------------------------------------------------


def _step_delay() -> float:
    value = os.environ.get(STEP_DELAY_ENV, "")
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def _reject_flow(*, flow: Flow, owner: str, errors: list[dict[str, str]], detected: str = "") -> str:
    now = timezone.now()
    with transaction.atomic():
        lease_renew(flow.pk, owner)
        Flow.objects.filter(pk=flow.pk).update(
            state=FlowState.IN_REJETE,
            state_changed_at=now,
            processed_at=now,
            lease_owner="",
            lease_expires_at=None,
            technical_errors=errors,
            syntaxe_flux_detected=detected,
            document_count=0,
        )
        audit_log(
            action="flows.flow.reject",
            structure_id=flow.structure_id,
            target=flow,
            data={"numero_flux_depot": flow.numero_flux_depot, "erreurs": [e["codeErreur"] for e in errors]},
        )
    return FlowState.IN_REJETE


# Layers whose failure, on a file that yields no invoice at all, refuses the flow as a whole.
_FLOW_LEVEL_LAYERS = {"transport", "container", "xml", "detection"}


def _flow_level_errors(reports) -> list[dict[str, str]]:
    """Findings that concern the flow itself, not one of its invoices: a declared syntaxeFlux that does not
    match the content, or a file that is not a readable invoice container at all (bad archive, hostile XML,
    PDF without XML…)."""
    flux = [f for report in reports for f in report.findings if f.layer == "flux" and f.blocking]
    if flux:
        seen, errors = set(), []
        for finding in flux:
            if finding.message not in seen:
                seen.add(finding.message)
                errors.append(technical_error("SYNTAXE_FLUX_INCOHERENTE", finding.message, ErrorNature.FORMAT))
        return errors
    if len(reports) == 1:
        report = reports[0]
        blocking = report.blocking_findings
        if (
            report.invoice is None
            and not report.member
            and blocking
            and all(f.layer in _FLOW_LEVEL_LAYERS for f in blocking)
        ):
            return [technical_error(f.rule, f.message, ErrorNature.FORMAT) for f in blocking]
    return []


def _read_documents(*, flow: Flow, validator: Callable[..., list]) -> list[DocumentView]:
    """Run the validation engine on the stored file; raise FlowRejected if the flow as a whole is refused."""
    content = flow.file.read()
    reports = validator(
        content,
        filename=flow.filename,
        rules=settings.CHOEUR_FLOW_RULES,
        syntaxe_flux=flow.syntaxe_flux_declared or None,
        policy="plateforme",  # the acceptance table of validation/policy.py
    )
    if not reports:
        raise FlowRejected(
            [
                technical_error(
                    "FLUX_VIDE",
                    "Le fichier ne contient aucune facture : déposez une facture XML (UBL ou CII), un PDF "
                    "Factur-X, ou une archive zip / tar.gz qui en contient.",
                    ErrorNature.FORMAT,
                )
            ]
        )
    errors = _flow_level_errors(reports)
    if errors:
        raise FlowRejected(errors, detected=_detected_syntaxe(reports))
    return [document_view(report, index, content=content) for index, report in enumerate(reports)]


def _detected_syntaxe(reports) -> str:
    """The flow's syntaxeFlux as read from its content: the most frequent among its invoices."""
    found = Counter(report.syntaxe_flux for report in reports if report.syntaxe_flux)
    return found.most_common(1)[0][0] if found else ""


def _routing_errors(exc: ApplicationError) -> list[dict[str, str]]:
    """The invoice domain's refusal as CR findings: one per failed check when it lists them (code
    CONTROLES), else the refusal itself (DOUBLON, permission…)."""
    findings = exc.extra.get("findings") if isinstance(exc.extra, dict) else None
    if findings:
        return [
            {
                "rule": finding.get("code", "") or exc.code,
                "severity": "fatal",
                "message": finding.get("message", ""),
                "location": finding.get("field", ""),
                "layer": "acheminement",
            }
            for finding in findings
        ]
    return [
        {
            "rule": exc.code,
            "severity": "fatal",
            "message": exc.message,
            "location": exc.field or "",
            "layer": "acheminement",
        }
    ]


def _supplier_for(*, flow: Flow, document: DocumentView):
    """The supplier structure of the invoice: the depositing structure, or one the depositing person may
    invoice for (Factures émises in MODIFICATION). Raises ApplicationError otherwise."""
    from choeur.directory.models import Structure

    identifier = document.supplier_id
    if not identifier or identifier == flow.structure.identifier:
        return flow.structure
    supplier = Structure.objects.filter(identifier=identifier, is_active=True).first()
    if supplier is not None and flow.deposited_by_id and _user_may_invoice_for(flow.deposited_by, supplier):
        return supplier
    raise ApplicationError(
        f"L'identifiant fournisseur de la demande de paiement ({identifier}, balise "
        "AccountingSupplierParty / SellerTradeParty) ne correspond pas à la structure déposante "
        f"({flow.structure.identifier}). Déposez le flux depuis le compte de la structure qui émet la facture.",
        field="supplier",
        code="FOURNISSEUR_NON_AUTORISE",
    )


def _user_may_invoice_for(user, structure) -> bool:
    from choeur.directory.enums import EspaceCode, Habilitation
    from choeur.directory.selectors import user_can

    return user_can(user, structure, espace=EspaceCode.FACTURES_EMISES, habilitation=Habilitation.MODIFICATION)


def _our_earlier_invoice(*, flow: Flow, supplier, document: DocumentView):
    """The invoice this very flow already created for this document (a replay after a crash between the
    invoice's commit and ours, if any path ever commits it separately): same supplier, same number, same
    document bytes, same numéro de flux. Anything else is a true duplicate."""
    from choeur.invoices.models import Invoice

    if not document.sha256:
        return None
    return (
        Invoice.objects.filter(supplier=supplier, number=document.number, numero_flux_depot=flow.numero_flux_depot)
        .filter(Q(main_document__sha256=document.sha256) | Q(structured_xml__sha256=document.sha256))
        .order_by("pk")
        .first()
    )


def _mode_depot(channel: str, document: DocumentView) -> str:
    """Chorus Pro's `modeDepot` of an invoice that came in a flow, by door and by kind of file."""
    from choeur.flows.enums import Channel
    from choeur.invoices.enums import ModeDepot

    if channel == Channel.API:
        return ModeDepot.UPLOAD_API
    if channel == Channel.PORTAIL:
        return ModeDepot.UPLOAD_PORTAIL
    return ModeDepot.EDI_MIXTE if document.pdf else ModeDepot.EDI_XML_STRUCT


# UNTDID 4461 payment means → Chorus Pro's modePaiement.
_PAYMENT_MODES = {
    "10": "ESPECE",
    "20": "CHEQUE",
    "30": "VIREMENT",
    "31": "VIREMENT",
    "42": "VIREMENT",
    "58": "VIREMENT",
    "49": "PRELEVEMENT",
    "59": "PRELEVEMENT",
    "97": "REPORT",
}


def _allowance_charge_input(item) -> dict:
    return {
        "is_charge": item.is_charge,
        "amount": item.amount,
        "base_amount": item.base_amount,
        "percentage": item.percentage,
        "reason": item.reason or "",
        "reason_code": item.reason_code or "",
        "vat_category": item.vat_category or "",
        "vat_rate": item.vat_rate,
    }


def _business_terms(data) -> dict:
    terms = dict(data.references)
    for key in ("payee", "tax_representative", "delivery"):
        if getattr(data, key):
            terms[key] = dict(getattr(data, key))
    preceding = [
        {"number": number, "date": date.isoformat() if date else ""}
        for number, date in zip(data.preceding_invoices, data.preceding_invoice_dates or [], strict=False)
    ]
    if preceding:
        terms["preceding_invoices"] = preceding
    notes = [{"subject": note.subject_code or "", "content": note.content} for note in data.notes]
    if notes:
        terms["notes"] = notes
    return terms


def invoice_input(data) -> Any:
    """The engine's InvoiceData as the invoice domain's InvoiceInput: number and date, recipient and service
    (routing), engagement and marché, lines with their remises and charges, the document's remises and
    charges, VAT breakdown and totals — the XML's amounts are authoritative (`amounts_from_document`: the
    CEN rules have checked them) —, bank details and the other business terms. The XML itself is kept
    beside the invoice."""
    import re

    from choeur.invoices.enums import Cadre, InvoiceType, TypeTva, Unit
    from choeur.invoices.services import InvoiceInput

    categories = {vat.category for vat in data.vat_breakdown if vat.category}
    if categories and categories <= {"E"}:
        type_tva = TypeTva.EXONERATION
    elif categories and categories <= {"O"}:
        type_tva = TypeTva.SANS_TVA
    else:
        type_tva = TypeTva.TVA_SUR_DEBIT
    exemption = next(
        (v.exemption_reason or v.exemption_reason_code for v in data.vat_breakdown if v.category == "E"), ""
    )
    invoice_type = InvoiceType.AVOIR if data.invoice_type == "AVOIR" else InvoiceType.FACTURE
    # BT-23 names the Chorus Pro cadre when it is one (A1…A25); the reform's codes (S1, B1…) mean A1.
    cadre = data.business_process if re.fullmatch(r"A\d{1,2}", data.business_process or "") else Cadre.A1
    lines = [
        {
            "reference": (line.id or "")[:50],
            "designation": (line.name or "")[:255],
            "quantity": line.quantity,
            "unit": line.unit_code if line.unit_code in Unit.values else Unit.C62,
            "unit_price_ht": line.unit_net_price,
            "price_base_quantity": line.price_base_quantity,
            "gross_price_ht": line.gross_price,
            "price_discount_ht": line.price_discount,
            "vat_rate": line.vat_rate if line.vat_rate is not None else 0,
            "vat_category": line.vat_category or "",
            "net_amount": line.net_amount,
            "note": line.note or "",
            "period_start": line.period_start,
            "period_end": line.period_end,
            "allowance_charges": [_allowance_charge_input(item) for item in line.allowance_charges],
        }
        for line in data.lines
    ]
    vat_lines = [
        {
            "rate": vat.rate if vat.rate is not None else 0,
            "category": vat.category or "",
            "base_ht": vat.taxable_amount,
            "vat_amount": vat.tax_amount if vat.tax_amount is not None else 0,
            "exemption_reason": vat.exemption_reason or "",
            "exemption_reason_code": vat.exemption_reason_code or "",
        }
        for vat in data.vat_breakdown
    ]
    totals = data.totals
    extra = {
        "numero_engagement": data.engagement or "",
        "numero_marche": data.marche or "",
        "line_total_ht": totals.line_net,
        "allowance_total_ht": totals.allowances,
        "charge_total_ht": totals.charges,
        "total_ht": totals.without_vat,
        "total_tva": totals.vat if totals.vat is not None else (0 if totals.without_vat is not None else None),
        "total_ttc": totals.with_vat,
        "prepaid_amount": totals.prepaid,
        "rounding_amount": totals.rounding,
        "montant_a_payer": totals.due,
        "period_start": data.period_start,
        "period_end": data.period_end,
        "delivery_date": data.delivery_date,
        "business_terms": _business_terms(data),
        "allowance_charges": [_allowance_charge_input(item) for item in data.allowance_charges],
        "amounts_from_document": True,
    }
    if exemption:
        extra["motif_exoneration"] = exemption[:255]
    if invoice_type == InvoiceType.AVOIR and data.preceding_invoices:
        extra["origin_number"] = data.preceding_invoices[0]
    if data.iban and invoice_type == InvoiceType.FACTURE:
        extra["iban"] = data.iban
    return InvoiceInput(
        number=data.number or "",
        invoice_date=data.issue_date,
        recipient_identifier=_party_id(data.buyer),
        recipient_service_code=data.code_service or "",
        invoice_type=invoice_type,
        cadre=cadre,
        currency=data.currency or "EUR",
        type_tva=type_tva,
        payment_mode=_PAYMENT_MODES.get(data.payment_means_code or "", "")
        if invoice_type == InvoiceType.FACTURE
        else "",
        lines=lines,
        vat_lines=vat_lines,
        extra=extra,
    )


def _store_document(document: DocumentView):
    """(main document, structured XML): the PDF and its XML for a Factur-X; for a pure XML invoice, the XML
    is the structured data and there is no PDF."""
    from choeur.core.files import file_store

    main = file_store(content=document.pdf, mime_type="application/pdf") if document.pdf else None
    xml = file_store(content=document.xml, mime_type="application/xml") if document.xml else None
    return main, xml


def _integrate_document(
    *,
    flow: Flow,
    owner: str,
    item_id: int,
    document: DocumentView,
    invoice_creator: Callable[..., Any],
    lease_held: bool = False,
    outcomes: list[FlowItem] | None = None,
) -> None:
    """One invoice: rejected with its findings, or created and linked — in one transaction with the lease
    (`lease_held`: the caller's batch transaction renewed it, and holds the flow row until its commit).
    `outcomes`: the batch collects the item's outcome and writes every item of the batch in one statement,
    in the same transaction (nothing reads the items before it commits)."""

    def outcome(**values) -> None:
        values["updated_at"] = timezone.now()
        if outcomes is not None:
            outcomes.append(FlowItem(pk=item_id, **values))
        else:
            FlowItem.objects.filter(pk=item_id).update(**values)

    if not document.valid or document.data is None:
        errors = document.errors
        if document.valid:
            errors = [
                *errors,
                {
                    "rule": "DONNEES_ILLISIBLES",
                    "severity": "fatal",
                    "message": "Les données de la facture (numéro, parties, montants) n'ont pas pu être lues.",
                    "location": "",
                    "layer": "acheminement",
                },
            ]
        if outcomes is not None:
            outcome(status=ItemStatus.REJETEE, invoice=None, errors=errors)
            return
        with transaction.atomic():
            if not lease_held:
                lease_renew(flow.pk, owner)
            FlowItem.objects.filter(pk=item_id, status=ItemStatus.EN_COURS).update(
                status=ItemStatus.REJETEE, errors=errors
            )
        return
    # Files are content-addressed and idempotent: storing them before the transaction keeps it short.
    main_document, structured_xml = _store_document(document)
    # In a batch, the batch's transaction is this one's (no savepoint: a failure here fails the batch), and
    # the item is known to be pending: read under the lease this transaction holds.
    with transaction.atomic(savepoint=not lease_held):
        if not lease_held:
            lease_renew(flow.pk, owner)
            item = FlowItem.objects.select_for_update().get(pk=item_id)
            if item.status != ItemStatus.EN_COURS or item.invoice_id:
                return  # Done by an earlier attempt.
        mark = tasks_batched_mark()
        try:
            supplier = _supplier_for(flow=flow, document=document)
            try:
                # The creator is atomic (invoice_create_from_data runs in its own savepoint): a refusal
                # leaves nothing behind, and this transaction goes on to record it.
                invoice = invoice_creator(
                    supplier=supplier,
                    by=flow.deposited_by,
                    data=invoice_input(document.data),
                    by_label=flow.deposited_by_label or f"Flux {flow.numero_flux_depot}",
                    main_document=main_document,
                    structured_xml=structured_xml,
                    mode_depot=_mode_depot(flow.channel, document),
                    numero_flux_depot=flow.numero_flux_depot,
                )
            except ApplicationError as exc:
                tasks_batched_discard(mark)  # the creation's savepoint rolled back: so do its side effects
                invoice = (
                    _our_earlier_invoice(flow=flow, supplier=supplier, document=document)
                    if exc.code == "DOUBLON"
                    else None
                )
                if invoice is None:
                    raise
        except ApplicationError as exc:
            tasks_batched_discard(mark)
            outcome(
                status=ItemStatus.REJETEE,
                invoice=None,
                errors=[
                    *[e for e in document.errors if e["severity"] not in ("fatal", "error")],
                    *_routing_errors(exc),
                ],
            )
            return
        # Warnings of the validation engine stay visible in the CR of an integrated invoice.
        outcome(status=ItemStatus.INTEGREE, invoice=invoice, errors=document.errors)


def _conclude(*, flow: Flow, owner: str) -> str:
    counts = flow.items.aggregate(
        total=Count("pk"),
        integrated=Count("pk", filter=Q(status=ItemStatus.INTEGREE)),
        pending=Count("pk", filter=Q(status=ItemStatus.EN_COURS)),
    )
    if counts["pending"]:
        raise RuntimeError(f"{counts['pending']} facture(s) du flux {flow.pk} restent sans issue.")
    if counts["integrated"] == 0:
        state = FlowState.IN_REJETE
    elif counts["integrated"] == counts["total"]:
        state = FlowState.IN_INTEGRE
    else:
        state = FlowState.IN_INTEGRE_PARTIEL
    now = timezone.now()
    with transaction.atomic():
        lease_renew(flow.pk, owner)
        Flow.objects.filter(pk=flow.pk).update(
            state=state, state_changed_at=now, processed_at=now, lease_owner="", lease_expires_at=None
        )
        audit_log(
            action="flows.flow.process",
            structure_id=flow.structure_id,
            target=flow,
            data={
                "numero_flux_depot": flow.numero_flux_depot,
                "etat": str(state),
                "factures": counts["total"],
                "integrees": counts["integrated"],
            },
        )
    return state


def flow_run(
    *,
    flow: Flow,
    owner: str,
    validator: Callable[..., list] | None = None,
    invoice_creator: Callable[..., Any] | None = None,
) -> str:
    """Process a flow this worker has claimed, to its final state. Returns that state.

    Raises LeaseLost if another worker took over; any other exception is unexpected (the caller
    releases the flow for another attempt)."""
    validator = validator or default_validator()
    invoice_creator = invoice_creator or default_invoice_creator()
    try:
        documents = _read_documents(flow=flow, validator=validator)
    except FlowRejected as rejection:
        return _reject_flow(flow=flow, owner=owner, errors=rejection.errors, detected=rejection.detected)
    detected = Counter(d.syntaxe_flux for d in documents if d.syntaxe_flux).most_common(1)
    with transaction.atomic():
        lease_renew(flow.pk, owner)
        Flow.objects.filter(pk=flow.pk).update(
            syntaxe_flux_detected=detected[0][0] if detected else "", document_count=len(documents)
        )

    # get-or-create of every item at once: on a replay, the existing rows (and their outcome) stay.
    FlowItem.objects.bulk_create(
        [
            FlowItem(
                flow=flow,
                index=document.index,
                member_name=document.member_name[:255],
                syntax=document.syntax[:40],
                profile=document.profile[:100],
                invoice_number=document.number[:100],
                supplier_identifier=document.supplier_id[:40],
                recipient_identifier=document.recipient_id[:40],
                document_sha256=document.sha256,
            )
            for document in documents
        ],
        ignore_conflicts=True,
    )
    items = dict(flow.items.values_list("index", "pk"))
    done = set(flow.items.exclude(status=ItemStatus.EN_COURS).values_list("index", flat=True))
    delay = _step_delay()
    pending = [document for document in documents if document.index not in done]
    with invoice_lookups_memoised():
        _integrate_batches(
            flow=flow, owner=owner, items=items, pending=pending, invoice_creator=invoice_creator, delay=delay
        )
    return _conclude(flow=flow, owner=owner)


def _integrate_batches(
    *,
    flow: Flow,
    owner: str,
    items: dict[int, int],
    pending: list[DocumentView],
    invoice_creator: Callable[..., Any],
    delay: float,
) -> None:
    while pending:
        # A batch of invoices per transaction, each in its own savepoint (a refused invoice rolls back
        # alone): one commit, one lease renewal and one append to the audit chain per batch instead of per
        # invoice. A worker killed mid-batch loses that batch only; the next attempt redoes it (its items
        # are still EN_COURS), so nothing is lost or made twice.
        started = time.monotonic()
        # Side effects (status changes, renderings) enqueued once per batch and kind, not per invoice.
        with transaction.atomic(), audit_deferred(), tasks_batched():
            lease_renew(flow.pk, owner)
            outcomes: list[FlowItem] = []
            while pending:
                document = pending.pop(0)
                if delay:
                    time.sleep(delay)
                _integrate_document(
                    flow=flow,
                    owner=owner,
                    item_id=items[document.index],
                    document=document,
                    invoice_creator=invoice_creator,
                    lease_held=True,
                    outcomes=outcomes,
                )
                if time.monotonic() - started >= BATCH_SECONDS:
                    break
            FlowItem.objects.bulk_update(outcomes, ["status", "invoice", "errors", "updated_at"])
