"""« Dépôt de flux »: deposit a file of invoices, follow its processing, read its compte rendu."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from choeur.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from choeur.flows.cr import flow_cr, flow_cr_pdf
from choeur.flows.enums import Channel, FlowState
from choeur.flows.models import Flow
from choeur.flows.selectors import flow_deposit_structures, flow_get, flow_list, flow_progress
from choeur.flows.services import flow_deposit
from choeur.portal.flows_views.forms import FlowDepositForm

PER_PAGE = 20
# Form field that an ApplicationError's `field` points at.
_ERROR_FIELDS = {"fichier": "fichier", "syntaxe_flux": "syntaxe_flux"}
STATE_BADGES = {
    FlowState.IN_INTEGRE: "success",
    FlowState.IN_INTEGRE_PARTIEL: "warning",
    FlowState.IN_REJETE: "error",
    FlowState.IN_INCIDENTE: "error",
}


def _page(request: HttpRequest, queryset):
    paginator = Paginator(queryset, PER_PAGE)
    return paginator.get_page(request.GET.get("page"))


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(
        request,
        "portal/flows/forbidden.html",
        {"title": "Accès refusé", "nav_section": "flows", "message": message},
        status=403,
    )


def _flow_or_404(request: HttpRequest, flow_id: int) -> Flow:
    try:
        return flow_get(user=request.user, flow_id=flow_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from None


def _invoice_url(invoice_id: int) -> str | None:
    # The invoice pages belong to another part of the portal; link to them once they exist.
    for name in ("portal:invoice_detail", "portal:invoice"):
        try:
            return reverse(name, args=[invoice_id])
        except NoReverseMatch:
            continue
    return None


def _status_context(flow: Flow) -> dict:
    context = {
        "flow": flow,
        "progress": flow_progress(flow),
        "badge": STATE_BADGES.get(flow.state, "info"),
        "poll": not flow.is_final,
    }
    if flow.is_final:
        cr = flow_cr(flow)
        for entry in cr["listeFacturesIntegrees"]:
            entry["url"] = _invoice_url(entry["identifiantFactureCPP"]) if entry["identifiantFactureCPP"] else None
        context["cr"] = cr
    return context


@login_required
def flow_list_view(request: HttpRequest) -> HttpResponse:
    structures = flow_deposit_structures(user=request.user)
    page_obj = _page(request, flow_list(user=request.user))
    return render(
        request,
        "portal/flows/list.html",
        {
            "title": "Dépôt de flux",
            "nav_section": "flows",
            "page_obj": page_obj,
            "can_deposit": bool(structures),
            "badges": STATE_BADGES,
        },
    )


@login_required
def flow_deposit_view(request: HttpRequest) -> HttpResponse:
    structures = flow_deposit_structures(user=request.user)
    if not structures:
        return _forbidden(
            request,
            "Pour déposer un flux, il faut être rattaché à une structure émettrice et abonné à son espace "
            "« Factures émises » avec l'habilitation « Modification ». Demandez-le au gestionnaire de la structure.",
        )
    by_pk = {s.pk: s for s in structures}
    form = FlowDepositForm(request.POST or None, request.FILES or None, structures=structures)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["fichier"]
        try:
            flow, created = flow_deposit(
                structure=by_pk[form.cleaned_data["structure"]],
                content=uploaded.read(),
                filename=uploaded.name,
                syntaxe_flux=form.cleaned_data["syntaxe_flux"] or None,
                channel=Channel.PORTAIL,
                by_user=request.user,
            )
        except ApplicationError as exc:
            form.add_error(_ERROR_FIELDS.get(exc.field or "", None), exc.message)
        else:
            if created:
                messages.success(request, f"Flux {flow.numero_flux_depot} reçu : son traitement a commencé.")
            else:
                deposited = timezone.localtime(flow.deposited_at).strftime("%d/%m/%Y à %H:%M")
                messages.info(
                    request,
                    f"Ce fichier a déjà été déposé le {deposited} (flux {flow.numero_flux_depot}) : "
                    "il n'est pas traité une seconde fois. Voici son suivi.",
                )
            return redirect("portal:flow_detail", flow_id=flow.pk)
    return render(
        request,
        "portal/flows/deposit.html",
        {"title": "Déposer un flux", "nav_section": "flows", "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def flow_detail_view(request: HttpRequest, flow_id: int) -> HttpResponse:
    try:
        flow = _flow_or_404(request, flow_id)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc.message)
    return render(
        request,
        "portal/flows/detail.html",
        {"title": f"Flux {flow.numero_flux_depot}", "nav_section": "flows", **_status_context(flow)},
    )


@login_required
@require_GET
def flow_status_view(request: HttpRequest, flow_id: int) -> HttpResponse:
    """The status block alone, polled by HTMX every 2 seconds until the flow is final."""
    try:
        flow = _flow_or_404(request, flow_id)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc.message)
    response = render(request, "portal/flows/_status.html", _status_context(flow))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def flow_cr_pdf_view(request: HttpRequest, flow_id: int) -> HttpResponse:
    try:
        flow = _flow_or_404(request, flow_id)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc.message)
    response = HttpResponse(flow_cr_pdf(flow), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="compte-rendu-{flow.numero_flux_depot}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def flow_cr_json_view(request: HttpRequest, flow_id: int) -> HttpResponse:
    try:
        flow = _flow_or_404(request, flow_id)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc.message)
    response = JsonResponse(flow_cr(flow), json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="compte-rendu-{flow.numero_flux_depot}.json"'
    return response
