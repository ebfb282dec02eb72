"""« Raccordement API › Webhooks »: gestionnaires declare the URLs that receive their structure's events,
read the delivery log and replay a delivery. The signing secret appears once, in the answer to the
creation (never cached by the browser)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from choeur.api.models import WebhookEndpoint
from choeur.api.webhooks import (
    SIGNATURE_HEADER,
    deliveries_of,
    delivery_replay,
    webhook_create,
    webhook_delete,
    webhook_update,
)
from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.directory.raccordement import raccordement_structures
from choeur.portal.webhooks_views.forms import WebhookForm

PER_PAGE = 20


def _page(request: HttpRequest, queryset):
    paginator = Paginator(queryset, PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    page_obj.pages_list = list(paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1))
    return page_obj


def _endpoint(request: HttpRequest, webhook_id: int) -> WebhookEndpoint:
    """A webhook of a structure the user manages; any other id is « introuvable » (no existence leak)."""
    endpoint = (
        WebhookEndpoint.objects.select_related("structure")
        .filter(pk=webhook_id, structure__in=raccordement_structures(user=request.user))
        .first()
    )
    if endpoint is None:
        raise Http404("Webhook introuvable.")
    return endpoint


def _forbidden(request: HttpRequest, exc: PermissionDeniedError) -> HttpResponse:
    return render(
        request,
        "portal/raccordement/forbidden.html",
        {"title": "Accès refusé", "nav_section": "raccordement", "message": exc.message},
        status=403,
    )


def _list(request: HttpRequest, form: WebhookForm, structures, *, status: int = 200) -> HttpResponse:
    endpoints = WebhookEndpoint.objects.filter(structure__in=structures).select_related("structure")
    return render(
        request,
        "portal/webhooks/index.html",
        {
            "title": "Webhooks",
            "nav_section": "raccordement",
            "form": form,
            "page_obj": _page(request, endpoints.order_by("structure__raison_sociale", "-created_at", "-pk")),
            "has_structures": structures.exists(),
            "several_structures": structures.count() > 1,
        },
        status=status,
    )


@login_required
def webhooks(request: HttpRequest) -> HttpResponse:
    structures = raccordement_structures(user=request.user)
    if request.method != "POST":
        return _list(request, WebhookForm(structures=structures), structures)
    form = WebhookForm(request.POST, structures=structures)
    if form.is_valid():
        try:
            endpoint, secret = webhook_create(
                structure=form.cleaned_data["structure"],
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
                by=request.user,
            )
        except PermissionDeniedError as exc:
            return _forbidden(request, exc)
        except ApplicationError as exc:
            form.apply_application_error(exc)
        else:
            response = render(
                request,
                "portal/webhooks/secret.html",
                {
                    "title": "Webhook créé",
                    "nav_section": "raccordement",
                    "endpoint": endpoint,
                    "secret": secret,
                    "signature_header": SIGNATURE_HEADER,
                },
            )
            response["Cache-Control"] = "no-store"
            return response
    return _list(request, form, structures, status=400)


@login_required
def webhook_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    return render(
        request,
        "portal/webhooks/detail.html",
        {
            "title": f"Webhook — {endpoint.url}",
            "nav_section": "raccordement",
            "endpoint": endpoint,
            "page_obj": _page(request, deliveries_of(endpoint)),
            "signature_header": SIGNATURE_HEADER,
        },
    )


@login_required
@require_POST
def webhook_toggle(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    try:
        webhook_update(endpoint=endpoint, is_active=not endpoint.is_active, by=request.user)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    messages.success(
        request,
        "Webhook réactivé : les prochains événements lui seront envoyés."
        if endpoint.is_active
        else "Webhook désactivé : plus aucun événement ne lui est envoyé.",
    )
    return redirect("portal:webhook_detail", webhook_id=endpoint.pk)


@login_required
def webhook_delete_view(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    if request.method != "POST":
        return render(
            request,
            "portal/webhooks/confirm_delete.html",
            {"title": "Supprimer un webhook", "nav_section": "raccordement", "endpoint": endpoint},
        )
    try:
        webhook_delete(endpoint=endpoint, by=request.user)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    messages.success(request, f"Le webhook {endpoint.url} est supprimé, avec son journal de livraisons.")
    return redirect("portal:webhooks")


@login_required
@require_POST
def webhook_replay(request: HttpRequest, webhook_id: int, delivery_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    delivery = deliveries_of(endpoint).filter(pk=delivery_id).first()
    if delivery is None:
        raise Http404("Livraison introuvable.")
    try:
        delivery_replay(delivery=delivery, by=request.user)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"L'événement {delivery.event.public_id} est renvoyé : suivez la nouvelle livraison ci-dessous."
        )
    return redirect("portal:webhook_detail", webhook_id=endpoint.pk)
