"""Tracking invoices: « Factures émises » and « Factures reçues » dashboards, one invoice's page (data,
timeline, next step, payment clock, actions), authorised downloads, and statistics.

Reads go through selectors bounded to the user's structures (search.py, selectors.py); every change goes
through the lifecycle services with the status the person saw (`expected_status`), so a stale page is
refused with a French message and nothing changes.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from choeur.core.errors import ApplicationError, ConflictError, NotFoundError
from choeur.directory.enums import EspaceCode
from choeur.directory.models import Structure
from choeur.invoices import search
from choeur.invoices.enums import PRE_RECIPIENT_STATUSES, Channel, InvoiceEventAction, InvoiceStatus
from choeur.invoices.lifecycle import (
    MOTIFS,
    RECIPIENT_TRANSITIONS,
    invoice_actions_for,
    invoice_audit_trail_json,
    invoice_audit_trail_pdf,
    invoice_complete,
    invoice_payment_clock_view,
    invoice_process,
    invoice_recycle,
    invoice_rejection_acknowledge,
    motif_label,
    payment_status_hidden,
    rejections_pending,
    status_changes_for,
    status_for_supplier,
)
from choeur.invoices.models import Invoice, InvoiceEvent
from choeur.invoices.rendering import invoice_certificate_file, invoice_readable_file
from choeur.invoices.selectors import invoice_get_for_user, structures_of, user_can
from choeur.invoices.services import invoice_event_record
from choeur.invoices.stats import side_stats
from choeur.invoices.tracking import invoice_next_step
from choeur.invoices.workflow import TRANSITIONS_BY_NAME
from choeur.portal.amounts import invoice_amounts
from choeur.portal.tracking_views.forms import (
    AcknowledgeForm,
    BulkAcknowledgeForm,
    CompleteForm,
    DashboardFilterForm,
    ProcessForm,
    RecycleForm,
)

S = InvoiceStatus
PER_PAGE = 20
SIDE_TITLES = {search.ISSUED: "Factures émises", search.RECEIVED: "Factures reçues"}
SIDE_NAV = {search.ISSUED: "tracking", search.RECEIVED: "tracking"}  # the « Factures » menu of _nav_invoices.html
SIDE_MISSING_ESPACE = {
    search.ISSUED: "Pour suivre des factures émises, il faut être rattaché à une structure et abonné à son espace "
    "« Factures émises ». Demandez-le au gestionnaire de la structure (« Mes structures »).",
    search.RECEIVED: "Pour traiter des factures reçues, il faut être rattaché à une structure publique et abonné à "
    "son espace « Factures reçues ». Demandez-le au gestionnaire de la structure (« Mes structures »).",
}
STATUS_BADGES = {
    S.BROUILLON: "new",
    S.MISE_EN_PAIEMENT: "success",
    S.REJETEE: "error",
    S.REFUSEE_1: "error",
    S.REFUSEE_2: "error",
    S.SUSPENDUE: "warning",
    S.A_RECYCLER: "warning",
    S.COMPLETEE: "info",
}
DOWNLOAD_KINDS = ("document", "certificat", "xml", "piste-pdf", "piste-json")


def _forbidden(request: HttpRequest, message: str, nav_section: str) -> HttpResponse:
    return render(
        request,
        "portal/tracking/forbidden.html",
        {"title": "Accès refusé", "nav_section": nav_section, "message": message},
        status=403,
    )


def _draft_url(invoice: Invoice) -> str | None:
    """Where a draft is resumed: the saisie wizard, when that part of the portal is there."""
    try:
        return reverse("portal:invoice_draft_step", args=[invoice.pk, invoice.draft_step or 1])
    except NoReverseMatch:
        return None


def _new_invoice_url() -> str | None:
    try:
        return reverse("portal:invoice_new")
    except NoReverseMatch:
        return None


# --- Dashboards -----------------------------------------------------------------------------------------


@dataclass
class Row:
    invoice: Invoice
    status: str
    status_label: str
    badge: str
    url: str


def _rows(page, side: str) -> list[Row]:
    rows = []
    for invoice in page:
        status = getattr(invoice, "shown_status", None) or invoice.status
        url = reverse("portal:invoice_detail", args=[invoice.pk])
        if invoice.status == S.BROUILLON and side == search.ISSUED:
            url = _draft_url(invoice) or url
        rows.append(Row(invoice, status, S(status).label, STATUS_BADGES.get(status, "info"), url))
    return rows


def _export_name(side: str, extension: str) -> str:
    return f"factures-{side}-{timezone.localdate():%Y%m%d}.{extension}"


def _dashboard(request: HttpRequest, side: str) -> HttpResponse:
    nav = SIDE_NAV[side]
    structures = search.dashboard_structures(user=request.user, side=side)
    if not structures:
        return _forbidden(request, SIDE_MISSING_ESPACE[side], nav)
    form = DashboardFilterForm(request.GET or None, side=side, structures=structures)
    base = search.dashboard_queryset(user=request.user, side=side)
    filters = search.InvoiceFilters()
    valid = not form.is_bound or form.is_valid()
    if form.is_bound and valid:
        filters = form.filters()
    try:
        filtered = search.invoices_filter(base, side=side, filters=filters)
    except ApplicationError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        valid, filtered = False, base.none()
    if not valid:
        filtered = base.none()
    listed = search.invoices_sort(filtered, side=side, sort=filters.sort)

    export = request.GET.get("format")
    # Exports take the whole filtered list (`export_rows` adds the parties and `shown_status`).
    if export == "csv" and valid:
        response = StreamingHttpResponse(search.export_csv(listed, side=side), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_export_name(side, "csv")}"'
        return response
    if export == "xlsx" and valid:
        response = HttpResponse(
            search.export_xlsx(listed, side=side),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{_export_name(side, "xlsx")}"'
        return response

    # Counts ignore the status filter: they are the facets one clicks to filter on a status.
    counts_scope = search.invoices_filter(base, side=side, filters=_without_status(filters)) if valid else base.none()
    counts = search.status_counts(counts_scope, side=side)
    # Without a status filter the listed set is the counted one: its total is the sum of the counts.
    total = sum(c.count for c in counts) if not filters.statuses else None
    paginator = Paginator(search.InvoicePage(listed, side=side, total=total), PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    context = {
        "side": side,
        "page_obj": page_obj,
        "rows": _rows(page_obj, side),
        "counts": counts,
        "form": form,
        "badges": STATUS_BADGES,
        "filtered": bool(form.is_bound and any(v for k, v in request.GET.items() if k not in ("page", "tri"))),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "portal/tracking/_results.html", context)
    if side == search.ISSUED:
        synthesis = search.issued_synthesis(base)
        pending = list(rejections_pending(user=request.user)[:50])
        context.update(
            synthesis=synthesis,
            draft_links=[(d, _draft_url(d)) for d in synthesis.drafts],
            pending=pending,
            bulk_form=BulkAcknowledgeForm(pending=pending) if pending else None,
            new_invoice_url=_new_invoice_url(),
        )
    else:
        context["synthesis"] = search.received_synthesis(base)
    context.update(title=SIDE_TITLES[side], nav_section=nav, structures=structures)
    return render(request, "portal/tracking/dashboard.html", context)


def _without_status(filters: search.InvoiceFilters) -> search.InvoiceFilters:
    return replace(filters, statuses=())


@login_required
@require_GET
def invoices_issued_view(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, search.ISSUED)


@login_required
@require_GET
def invoices_received_view(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, search.RECEIVED)


@login_required
@require_POST
def rejections_acknowledge_view(request: HttpRequest) -> HttpResponse:
    """The synthèse's bulk « Traiter » of rejected or suspended invoices."""
    pending = list(rejections_pending(user=request.user)[:50])
    form = BulkAcknowledgeForm(request.POST, pending=pending)
    if not form.is_valid():
        messages.error(request, "Cochez au moins une facture à traiter (la liste a peut-être changé entre-temps).")
        return redirect("portal:invoices_issued")
    chosen = [i for i in pending if i.pk in set(form.cleaned_data["invoices"])]
    by_supplier: dict[int, list[Invoice]] = {}
    for invoice in chosen:
        by_supplier.setdefault(invoice.supplier_id, []).append(invoice)
    done = 0
    try:
        for invoices in by_supplier.values():
            done += len(
                invoice_rejection_acknowledge(
                    invoices=invoices, by=request.user, structure=invoices[0].supplier, channel=Channel.PORTAIL
                )
            )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{done} facture{'s' if done > 1 else ''} traitée{'s' if done > 1 else ''}.")
    return redirect("portal:invoices_issued")


# --- One invoice ----------------------------------------------------------------------------------------


@dataclass
class Viewer:
    """The user's structures that are party to one invoice, each with its espace open to the user."""

    supplier: Structure | None = None
    recipient: Structure | None = None
    valideur: Structure | None = None
    works: Structure | None = None

    @property
    def any(self) -> bool:
        return any((self.supplier, self.recipient, self.valideur, self.works))

    @property
    def may_download(self) -> bool:
        return any((self.supplier, self.recipient, self.valideur))

    @property
    def sees_as_supplier(self) -> bool:
        """Reads the invoice as its supplier does (the recipient's view wins for a structure that is both)."""
        return self.recipient is None

    @property
    def structure(self) -> Structure | None:
        return self.recipient or self.supplier or self.valideur or self.works


def _viewer(user, invoice: Invoice) -> Viewer:
    party_ids = {
        invoice.supplier_id,
        invoice.recipient_id,
        invoice.valideur_id,
        invoice.valideur2_id,
        invoice.moe_id,
        invoice.moa_id,
    } - {None}
    mine = {s.pk: s for s in structures_of(user).filter(pk__in=party_ids)}
    viewer = Viewer()

    def allowed(structure_id, espace) -> Structure | None:
        structure = mine.get(structure_id)
        return structure if structure is not None and user_can(user, structure, espace) else None

    viewer.supplier = allowed(invoice.supplier_id, EspaceCode.FACTURES_EMISES)
    if invoice.status not in PRE_RECIPIENT_STATUSES:
        viewer.recipient = allowed(invoice.recipient_id, EspaceCode.FACTURES_RECUES)
    viewer.valideur = allowed(invoice.valideur_id, EspaceCode.FACTURES_A_VALIDER) or allowed(
        invoice.valideur2_id, EspaceCode.FACTURES_A_VALIDER
    )
    viewer.works = allowed(invoice.moe_id, EspaceCode.FACTURES_TRAVAUX) or allowed(
        invoice.moa_id, EspaceCode.FACTURES_TRAVAUX
    )
    return viewer


def _load(request: HttpRequest, pk: int) -> tuple[Invoice, Viewer]:
    """The invoice and the user's part in it; 404 (never 403, which would confirm it exists) otherwise."""
    try:
        invoice = invoice_get_for_user(user=request.user, invoice_id=pk)
    except NotFoundError as exc:
        raise Http404(exc.message) from None
    viewer = _viewer(request.user, invoice)
    if not viewer.any:
        raise Http404("Facture introuvable, ou vous n'y avez pas accès.")
    return invoice, viewer


@dataclass
class ActionBlock:
    name: str
    title: str
    help: str
    form: object
    danger: bool = False
    multipart: bool = False
    # What the recipient asked, shown beside the supplier's answer (« Compléter »).
    request: str = ""


ACTION_HELP = {
    "service_fait": "Vous attestez que la prestation a été réalisée ou la livraison reçue.",
    "mandater": "Le mandat de paiement est émis ; indiquez son numéro.",
    "mettre_a_disposition_comptable": "Le mandat est transmis au comptable public.",
    "comptabiliser": "Le comptable a pris la dépense en charge.",
    "mettre_en_paiement": "Le paiement est ordonné : le fournisseur en est informé.",
    "a_recycler": "Les données d'acheminement sont erronées (structure, service, engagement) : le fournisseur "
    "corrige et renvoie la même facture.",
    "suspendre": "Il manque une pièce : le délai de paiement est suspendu jusqu'à ce que le fournisseur complète.",
    "rejeter": "Les données de facturation sont erronées : la facture est annulée, le fournisseur en émettra une "
    "nouvelle. Préférez la suspension ou le recyclage quand ils suffisent.",
    "completer": "Ajoutez les pièces ou informations demandées : la facture retourne au destinataire.",
    "recycler": "Corrigez le destinataire, le service exécutant ou le numéro d'engagement : la facture est "
    "acheminée à nouveau, avec le même numéro.",
    "traiter_rejet": "Prenez connaissance du rejet. Émettez ensuite une nouvelle facture si la somme reste due.",
}


def _rejection_open(invoice: Invoice) -> bool:
    return invoice.status == S.REJETEE and not invoice.rejet_traite


def _action_blocks(request: HttpRequest, invoice: Invoice, viewer: Viewer, bound=None) -> list[ActionBlock]:
    """One form per action open to this user now (the transition table decides), `bound` replacing its
    blank twin when a submission is shown again with its errors."""
    blocks = []
    for transition in invoice_actions_for(invoice=invoice, user=request.user):
        if transition.name in RECIPIENT_TRANSITIONS and viewer.recipient is not None:
            form = ProcessForm(invoice=invoice, transition=transition)
            blocks.append(
                ActionBlock(
                    transition.name,
                    transition.label,
                    ACTION_HELP.get(transition.name, ""),
                    form,
                    danger=transition.name in MOTIFS,
                )
            )
        elif transition.name == "completer" and viewer.supplier is not None:
            blocks.append(
                ActionBlock("completer", transition.label, ACTION_HELP["completer"], CompleteForm(invoice=invoice),
                            multipart=True, request=_suspension_request(invoice, viewer))
            )  # fmt: skip
        elif transition.name == "recycler" and viewer.supplier is not None:
            blocks.append(
                ActionBlock("recycler", transition.label, ACTION_HELP["recycler"], RecycleForm(invoice=invoice))
            )
    if (
        _rejection_open(invoice)
        and viewer.supplier is not None
        and user_can(request.user, viewer.supplier, EspaceCode.FACTURES_EMISES, write=True)
    ):
        blocks.append(
            ActionBlock(
                "traiter_rejet", "Traiter le rejet", ACTION_HELP["traiter_rejet"], AcknowledgeForm(invoice=invoice)
            )
        )
    if bound is not None:
        for block in blocks:
            if block.name == bound.action_name:
                block.form = bound
    return blocks


def _suspension_request(invoice: Invoice, viewer: Viewer) -> str:
    """The recipient's last suspension: its motif and comment, which « Compléter » answers."""
    changes = status_changes_for(invoice=invoice, structure=viewer.structure)
    change = next((c for c in reversed(list(changes)) if c.to_status == S.SUSPENDUE), None)
    if change is None:
        return ""
    motif = dict(MOTIFS.get(change.transition, ())).get(change.motif, change.motif)
    text = f"Demande du destinataire le {timezone.localtime(change.created_at):%d/%m/%Y}"
    text += f" — {motif}" if motif else ""
    return f"{text} : « {change.comment} »" if change.comment else text


@dataclass
class TimelineEntry:
    when: datetime.datetime
    title: str
    status: str | None
    actor: str
    structure: str
    channel: str
    motif: str
    comment: str
    details: list[str]


def _timeline(invoice: Invoice, viewer: Viewer) -> list[TimelineEntry]:
    entries = []
    for change in status_changes_for(invoice=invoice, structure=viewer.recipient or viewer.structure):
        details = []
        if change.data.get("numero_dp_mandat"):
            details.append(f"Numéro de mandat : {change.data['numero_dp_mandat']}")
        if change.data.get("pieces_jointes"):
            details.append("Pièces jointes : " + ", ".join(change.data["pieces_jointes"]))
        if change.transition == "recycler" and change.data.get("apres"):
            after = change.data["apres"]
            details.append(
                f"Nouveau destinataire : {after.get('destinataire', '')} ; service : {after.get('service') or '—'} ; "
                f"engagement : {after.get('engagement') or '—'}"
            )
        entries.append(
            TimelineEntry(
                when=change.created_at,
                title=S(change.to_status).label,
                status=change.to_status,
                actor=change.actor_label,
                structure=change.actor_structure.designation if change.actor_structure_id else "",
                channel=change.get_channel_display(),
                motif=motif_label(change.transition, change.motif) if change.motif else "",
                comment=change.comment,
                details=details,
            )
        )
    for event in InvoiceEvent.objects.filter(invoice=invoice).select_related("actor_structure"):
        entries.append(
            TimelineEntry(
                when=event.created_at,
                title=event.get_action_display(),
                status=None,
                actor=event.actor_label,
                structure=event.actor_structure.designation if event.actor_structure_id else "",
                channel=event.get_channel_display(),
                motif="",
                comment="",
                details=[],
            )
        )
    return sorted(entries, key=lambda e: e.when)


def _trim(value) -> str:
    """A quantity, a unit price or a rate without trailing zeros, French style (3 ; 85,5 ; 0,123456)."""
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


@dataclass
class LineRow:
    line: object
    quantity: str
    unit_price: str
    rate: str
    details: str = ""


def _render_detail(
    request: HttpRequest,
    invoice: Invoice,
    viewer: Viewer,
    *,
    bound=None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    shown_status = status_for_supplier(invoice) if viewer.sees_as_supplier else invoice.status
    clock = invoice_payment_clock_view(invoice=invoice, for_supplier=viewer.sees_as_supplier)
    amounts = invoice_amounts(invoice)
    context = {
        "title": f"Facture {invoice.number or '(brouillon)'}",
        "nav_section": "tracking",
        "invoice": invoice,
        "viewer": viewer,
        "shown_status": shown_status,
        "shown_status_label": S(shown_status).label,
        "badge": STATUS_BADGES.get(shown_status, "info"),
        "lines": [
            LineRow(
                line,
                _trim(line.quantity),
                _trim(line.unit_price_ht),
                _trim(line.vat_rate),
                amounts["line_details"].get(line.pk, ""),
            )
            for line in invoice.lines.all()
        ],
        "amounts": amounts,
        "attachments": list(invoice.attachments.all()),
        "timeline": _timeline(invoice, viewer),
        "next_step": invoice_next_step(invoice=invoice, payment_deadline=clock.get("deadline"), status=shown_status),
        "clock": clock,
        "payment_hidden": viewer.sees_as_supplier and payment_status_hidden(invoice),
        "actions": _action_blocks(request, invoice, viewer, bound=bound),
        "error": error,
        "draft_url": _draft_url(invoice) if invoice.is_draft and viewer.supplier else None,
        "snapshot": invoice.snapshot or {},
    }
    return render(request, "portal/tracking/detail.html", context, status=status)


@login_required
@require_GET
def invoice_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    invoice, viewer = _load(request, pk)
    return _render_detail(request, invoice, viewer)


def _bind(name: str, request: HttpRequest, invoice: Invoice):
    if name in RECIPIENT_TRANSITIONS:
        return ProcessForm(request.POST, invoice=invoice, transition=TRANSITIONS_BY_NAME[name])
    if name == "completer":
        return CompleteForm(request.POST, request.FILES, invoice=invoice)
    if name == "recycler":
        return RecycleForm(request.POST, invoice=invoice)
    return AcknowledgeForm(request.POST, invoice=invoice)


def _perform(name: str, form, request: HttpRequest, invoice: Invoice, viewer: Viewer, expected: str) -> Invoice:
    data = form.cleaned_data
    if name in RECIPIENT_TRANSITIONS:
        return invoice_process(
            invoice=invoice,
            by=request.user,
            structure=viewer.recipient,
            transition=name,
            motif=data.get("motif", ""),
            comment=data.get("comment", ""),
            numero_dp_mandat=data.get("numero_dp_mandat", ""),
            channel=Channel.PORTAIL,
            expected_status=expected,
        )
    if name == "completer":
        return invoice_complete(
            invoice=invoice,
            by=request.user,
            structure=viewer.supplier,
            comment=data.get("comment", ""),
            attachments=form.attachment_pairs(),
            channel=Channel.PORTAIL,
            expected_status=expected,
        )
    if name == "recycler":
        return invoice_recycle(
            invoice=invoice,
            by=request.user,
            structure=viewer.supplier,
            recipient=data["recipient"],
            recipient_service=data.get("recipient_service"),
            numero_engagement=data.get("numero_engagement", ""),
            channel=Channel.PORTAIL,
            expected_status=expected,
        )
    invoice_rejection_acknowledge(
        invoices=[invoice], by=request.user, structure=viewer.supplier, channel=Channel.PORTAIL
    )
    return invoice


@login_required
@require_POST
def invoice_action_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply one action of the invoice page. A page shown before someone else acted gets HTTP 409 and a
    French message; a refused action shows the form again with what to fix."""
    invoice, viewer = _load(request, pk)
    name = request.POST.get("action", "")
    expected = request.POST.get("expected_status", "")
    if expected and expected != invoice.status:
        return _render_detail(
            request,
            invoice,
            viewer,
            error=f"La facture est passée au statut « {S(invoice.status).label} » depuis l'affichage de la page : "
            "votre action n'a pas été enregistrée. Vérifiez son nouvel état ci-dessous, puis recommencez si besoin.",
            status=409,
        )
    available = {block.name for block in _action_blocks(request, invoice, viewer)}
    if name not in available:
        return _render_detail(
            request,
            invoice,
            viewer,
            error="Cette action n'est pas possible sur cette facture, à son statut actuel, avec vos droits.",
            status=403,
        )
    form = _bind(name, request, invoice)
    if not form.is_valid():
        return _render_detail(request, invoice, viewer, bound=form, status=400)
    try:
        result = _perform(name, form, request, invoice, viewer, expected or invoice.status)
    except ConflictError as exc:
        invoice, viewer = _load(request, pk)
        return _render_detail(request, invoice, viewer, error=exc.message, status=409)
    except ApplicationError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        invoice, viewer = _load(request, pk)
        return _render_detail(request, invoice, viewer, bound=form, status=400)
    if name == "traiter_rejet":
        messages.success(request, f"Rejet de la facture {invoice.number} traité.")
    else:
        messages.success(
            request,
            f"{TRANSITIONS_BY_NAME[name].label} : c'est fait. La facture {result.number} est maintenant au statut "
            f"« {S(result.status).label} ».",
        )
    return redirect("portal:invoice_detail", pk=pk)


# --- Downloads ------------------------------------------------------------------------------------------


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_.+" else "-" for c in name)
    return cleaned.strip(".") or "document"


def _file_response(content: bytes, *, filename: str, mime: str) -> HttpResponse:
    # Never let the browser render an uploaded HTML or SVG in our origin: anything not a PDF, an image or
    # XML goes out as a plain download.
    safe_types = {"application/pdf", "application/xml", "image/png", "image/jpeg", "image/gif", "application/json"}
    response = HttpResponse(content, content_type=mime if mime in safe_types else "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{_safe(filename)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _record_download(request: HttpRequest, invoice: Invoice, viewer: Viewer, kind: str) -> None:
    """A recipient's download of the invoice marks it « téléchargée »; a supplier's download of its deposit
    certificate is logged too."""
    if kind in ("document", "xml") and viewer.recipient is not None:
        invoice_event_record(
            invoice=invoice,
            action=InvoiceEventAction.TELECHARGEMENT_FACTURE,
            actor=request.user,
            actor_structure=viewer.recipient,
            channel=Channel.PORTAIL,
            data={"document": kind},
        )
    elif kind == "certificat" and viewer.supplier is not None:
        invoice_event_record(
            invoice=invoice,
            action=InvoiceEventAction.TELECHARGEMENT_CERTIFICAT,
            actor=request.user,
            actor_structure=viewer.supplier,
            channel=Channel.PORTAIL,
        )


@login_required
@require_GET
def invoice_download_view(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    invoice, viewer = _load(request, pk)
    if kind not in DOWNLOAD_KINDS or not viewer.may_download:
        raise Http404("Document introuvable.")
    number = invoice.number or f"brouillon-{invoice.pk}"
    if kind == "piste-json":
        if invoice.is_draft:
            raise Http404("Un brouillon n'a pas de piste d'audit.")
        body = json.dumps(
            invoice_audit_trail_json(invoice=invoice, for_supplier=viewer.sees_as_supplier),
            ensure_ascii=False,
            indent=2,
            default=str,
        )
        return _file_response(body.encode(), filename=f"piste-audit-{number}.json", mime="application/json")
    if kind == "piste-pdf":
        if invoice.is_draft:
            raise Http404("Un brouillon n'a pas de piste d'audit.")
        return _file_response(
            invoice_audit_trail_pdf(invoice=invoice, for_supplier=viewer.sees_as_supplier),
            filename=f"piste-audit-{number}.pdf",
            mime="application/pdf",
        )
    # A structured deposit's PDFs may not be rendered yet (invoices/rendering.py): render them on demand.
    if kind == "document":
        stored = invoice_readable_file(invoice=invoice)
        filename = invoice.main_document_name or f"{number}.pdf"
    elif kind == "certificat":
        stored, filename = invoice_certificate_file(invoice=invoice), f"certificat-depot-{number}.pdf"
    else:
        stored, filename = invoice.structured_xml, f"{number}.xml"
    if stored is None:
        raise Http404("Ce document n'existe pas pour cette facture.")
    content = stored.read()
    _record_download(request, invoice, viewer, kind)
    return _file_response(content, filename=filename, mime=stored.mime_type)


@login_required
@require_GET
def invoice_attachment_download_view(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    invoice, viewer = _load(request, pk)
    if not viewer.may_download:
        raise Http404("Document introuvable.")
    attachment = invoice.attachments.select_related("file").filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("Pièce jointe introuvable.")
    return _file_response(attachment.file.read(), filename=attachment.name, mime=attachment.file.mime_type)


# --- Statistics -----------------------------------------------------------------------------------------

PERIODS = {6: "6 derniers mois", 12: "12 derniers mois", 24: "24 derniers mois"}


@login_required
@require_GET
def invoice_stats_view(request: HttpRequest) -> HttpResponse:
    try:
        months = int(request.GET.get("mois", 12))
    except ValueError:
        months = 12
    months = months if months in PERIODS else 12
    sides = []
    for side in (search.ISSUED, search.RECEIVED):
        structures = search.dashboard_structures(user=request.user, side=side)
        if not structures:
            continue
        queryset = search.dashboard_queryset(user=request.user, side=side).exclude(status=S.BROUILLON)
        sides.append(
            {"side": side, "title": SIDE_TITLES[side], "stats": side_stats(queryset, side=side, months=months)}
        )
    if not sides:
        return _forbidden(
            request,
            "Les statistiques portent sur les factures émises ou reçues de vos structures : abonnez-vous à l'espace "
            "« Factures émises » ou « Factures reçues » d'une structure (« Mes structures »).",
            "tracking",
        )
    return render(
        request,
        "portal/tracking/stats.html",
        {
            "title": "Statistiques des factures",
            "nav_section": "tracking",
            "sides": sides,
            "months": months,
            "periods": PERIODS,
        },
    )
