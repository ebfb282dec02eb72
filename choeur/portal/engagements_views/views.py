"""« Engagements juridiques »: the buyer's EJs (entry, import, list with what was invoiced, validated and paid,
CSV export), the EJs addressed to a supplier, and one EJ's page with the invoices that consume it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from choeur.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from choeur.invoices import engagement_selectors as selectors
from choeur.invoices.computations import format_amount
from choeur.invoices.engagements import (
    COLUMNS,
    TEMPLATE_HEADERS,
    can_manage_engagements,
    engagement_create,
    engagement_document_set,
    engagement_import,
    export_csv,
)
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.lifecycle import status_for_supplier
from choeur.portal.engagements_views.forms import DocumentForm, EngagementForm, FilterForm, ImportForm

PER_PAGE = 25
NAV = "engagements"
BUYER_TITLE = "Engagements juridiques de mes structures"
SUPPLIER_TITLE = "Engagements juridiques reçus"


def _view(row: selectors.EngagementRow) -> dict:
    """An EJ row with its amounts as the French read them (« 1 234,56 € »)."""
    currency = row.engagement.currency
    return {
        "engagement": row.engagement,
        "amount": format_amount(row.engagement.amount_ttc, currency),
        "invoiced": format_amount(row.invoiced, currency),
        "validated": format_amount(row.validated, currency),
        "paid": format_amount(row.paid, currency),
        "remaining": format_amount(row.remaining, currency),
        "overrun": row.remaining < 0,
        "percent": row.percent_invoiced,
        "invoices": row.consumption.invoices,
    }


def _page(request: HttpRequest, queryset):
    """One page of EJs, with the consumption of that page's EJs only (one grouped query)."""
    paginator = Paginator(queryset, PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    page_obj.object_list = [_view(row) for row in selectors.engagements_with_consumption(page_obj.object_list)]
    page_obj.pages_list = list(paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1))
    return page_obj


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(
        request,
        "portal/engagements/forbidden.html",
        {"title": "Accès refusé", "nav_section": NAV, "message": message},
        status=403,
    )


def _filtered(request: HttpRequest, queryset):
    form = FilterForm(request.GET or None)
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
        if q:
            queryset = queryset.filter(
                Q(number__icontains=q)
                | Q(supplier__raison_sociale__icontains=q)
                | Q(supplier__identifier__startswith=q.replace(" ", ""))
                | Q(structure__raison_sociale__icontains=q)
                | Q(label__icontains=q)
                | Q(numero_marche__icontains=q)
            )
        if form.cleaned_data["state"]:
            queryset = queryset.filter(state=form.cleaned_data["state"])
    return form, queryset.order_by("-notified_on", "number", "pk")


def _export(rows, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(export_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _managed(user, structures) -> list:
    return [s for s in structures if can_manage_engagements(user=user, structure=s)]


@login_required
@require_GET
def engagements_buyer(request: HttpRequest) -> HttpResponse:
    structures = selectors.buyer_structures(user=request.user)
    if not structures:
        return _forbidden(
            request,
            "Les engagements juridiques sont ceux des structures publiques : il faut être rattaché à une structure "
            "publique avec l'espace « Engagements » ou « Factures reçues ». Les engagements adressés à vos "
            "structures sont sous « Engagements reçus ».",
        )
    form, queryset = _filtered(request, selectors.engagements_of_buyer(user=request.user))
    if request.GET.get("export") == "csv":
        return _export(selectors.engagements_with_consumption(queryset), "engagements-juridiques.csv")
    return render(
        request,
        "portal/engagements/list.html",
        {
            "title": BUYER_TITLE,
            "nav_section": NAV,
            "side": "acheteur",
            "form": form,
            "page_obj": _page(request, queryset),
            "can_write": bool(_managed(request.user, structures)),
            "several_structures": len(structures) > 1,
            "export_query": _export_query(request),
        },
    )


def _export_query(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    params["export"] = "csv"
    return params.urlencode()


@login_required
@require_GET
def engagements_supplier(request: HttpRequest) -> HttpResponse:
    structures = selectors.supplier_structures(user=request.user)
    if not structures:
        return _forbidden(
            request,
            "Les engagements reçus sont ceux qu'une structure publique a adressés à l'une de vos structures : il faut "
            "l'espace « Engagements » ou « Factures émises » d'une structure.",
        )
    form, queryset = _filtered(request, selectors.engagements_addressed(user=request.user))
    return render(
        request,
        "portal/engagements/list.html",
        {
            "title": SUPPLIER_TITLE,
            "nav_section": NAV,
            "side": "fournisseur",
            "form": form,
            "page_obj": _page(request, queryset),
            "several_structures": len(structures) > 1,
        },
    )


def _writable_structures(request: HttpRequest) -> list:
    return _managed(request.user, selectors.buyer_structures(user=request.user))


NO_WRITE = (
    "Pour enregistrer des engagements, il faut être rattaché à une structure publique avec l'espace « Engagements » "
    "ou « Factures reçues » en modification."
)


@login_required
def engagement_new(request: HttpRequest) -> HttpResponse:
    structures = _writable_structures(request)
    if not structures:
        return _forbidden(request, NO_WRITE)
    status = 200
    if request.method == "POST":
        form = EngagementForm(request.POST, request.FILES, structures=structures)
        if form.is_valid():
            data = form.cleaned_data
            upload = data.pop("document")
            try:
                engagement = engagement_create(
                    by=request.user,
                    pdf=(upload.name, upload.read()) if upload else None,
                    service=data.pop("service") or None,
                    **data,
                )
            except PermissionDeniedError as exc:
                return _forbidden(request, exc.message)
            except ApplicationError as exc:
                for error in exc.extra.get("errors", []) or [{"field": exc.field, "message": exc.message}]:
                    field = error["field"] if error["field"] in form.fields else None
                    message = error["message"]
                    form.add_error(field, message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))
            else:
                messages.success(request, f"Engagement {engagement.number} enregistré.")
                return redirect("portal:engagement_detail", pk=engagement.pk)
        status = 400
    else:
        form = EngagementForm(structures=structures)
    return render(
        request,
        "portal/engagements/new.html",
        {"title": "Saisir un engagement juridique", "nav_section": NAV, "form": form},
        status=status,
    )


@login_required
def engagement_import_view(request: HttpRequest) -> HttpResponse:
    structures = _writable_structures(request)
    if not structures:
        return _forbidden(request, NO_WRITE)
    status, errors, error = 200, [], ""
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, structures=structures)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = engagement_import(
                    by=request.user, structure=form.cleaned_data["structure"], name=upload.name, content=upload.read()
                )
            except PermissionDeniedError as exc:
                return _forbidden(request, exc.message)
            except ApplicationError as exc:
                errors = [item["message"] for item in exc.extra.get("errors", [])]
                error = (
                    f"Import refusé, rien n'a été enregistré : {len(errors)} erreur(s) à corriger dans le fichier."
                    if errors
                    else exc.message
                )
            else:
                messages.success(request, f"Import de « {upload.name} » : {report.summary()}")
                return redirect("portal:engagements")
        status = 400
    else:
        form = ImportForm(structures=structures)
    return render(
        request,
        "portal/engagements/import.html",
        {
            "title": "Importer des engagements juridiques",
            "nav_section": NAV,
            "form": form,
            "error": error,
            "errors": errors,
            "columns": [(aliases[0], name) for name, aliases in COLUMNS.items()],
        },
        status=status,
    )


@login_required
@require_GET
def engagement_import_template(request: HttpRequest) -> HttpResponse:
    example = "BC-2026-0001;Bon de commande;12345678200010;FACTURES_PUBLIQUES;12 000,00;EUR;15/09/2026;Commandé;;Objet"
    response = HttpResponse(
        "\ufeff" + ";".join(TEMPLATE_HEADERS) + "\r\n" + example + "\r\n", content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="modele-engagements.csv"'
    return response


def _load(request: HttpRequest, pk: int):
    try:
        return selectors.engagement_get_for_user(user=request.user, engagement_id=pk)
    except NotFoundError as exc:
        raise Http404(exc.message) from None


@login_required
@require_GET
def engagement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    engagement, side = _load(request, pk)
    return _detail(request, engagement, side)


def _detail(request: HttpRequest, engagement, side: str, *, document_form=None, status: int = 200) -> HttpResponse:
    [row] = selectors.engagements_with_consumption([engagement])
    is_buyer = side == "acheteur"
    invoices = [
        {
            "invoice": invoice,
            "ttc": format_amount(
                -invoice.total_ttc if invoice.is_avoir and invoice.total_ttc else invoice.total_ttc, invoice.currency
            ),
            "status": InvoiceStatus(invoice.status if is_buyer else status_for_supplier(invoice)).label,
            "counted": invoice.status not in selectors.NOT_CONSUMING,
        }
        for invoice in selectors.engagement_invoices(engagement)[:100]
    ]
    return render(
        request,
        "portal/engagements/detail.html",
        {
            "title": f"Engagement {engagement.number}",
            "nav_section": NAV,
            "engagement": engagement,
            "row": _view(row),
            "is_buyer": is_buyer,
            # A recipient may not report the mise en paiement to suppliers: the supplier gets no « payé ».
            "show_payments": is_buyer,
            "invoices": invoices,
            "list_url": reverse("portal:engagements" if is_buyer else "portal:engagements_received"),
            "list_title": BUYER_TITLE if is_buyer else SUPPLIER_TITLE,
            "can_write": is_buyer and can_manage_engagements(user=request.user, structure=engagement.structure),
            "document_form": document_form or DocumentForm(),
        },
        status=status,
    )


@login_required
@require_POST
def engagement_document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach or replace the PDF of an EJ (the buyer, in modification)."""
    engagement, side = _load(request, pk)
    if side != "acheteur" or not can_manage_engagements(user=request.user, structure=engagement.structure):
        return _forbidden(request, NO_WRITE)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["document"]
        try:
            engagement_document_set(by=request.user, engagement=engagement, name=upload.name, content=upload.read())
        except PermissionDeniedError as exc:
            return _forbidden(request, exc.message)
        except ApplicationError as exc:
            form.add_error("document", exc.message)
        else:
            messages.success(request, f"PDF « {upload.name} » joint à l'engagement {engagement.number}.")
            return redirect("portal:engagement_detail", pk=engagement.pk)
    return _detail(request, engagement, side, document_form=form, status=400)


@login_required
@require_GET
def engagement_document(request: HttpRequest, pk: int) -> HttpResponse:
    engagement, _side = _load(request, pk)
    if engagement.document_id is None:
        raise Http404("Cet engagement n'a pas de PDF.")
    response = HttpResponse(engagement.document.read(), content_type="application/pdf")
    name = engagement.document_name.replace('"', "").replace("\r", "").replace("\n", "") or "engagement.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
