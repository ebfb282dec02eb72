"""Notification centre, notification preferences, and the rejections a supplier must acknowledge."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from choeur.core.errors import ApplicationError
from choeur.directory.selectors import structures_of_user
from choeur.invoices.enums import Channel, InvoiceStatus, NotificationFrequency
from choeur.invoices.lifecycle import (
    ACKNOWLEDGEMENT_GRACE_DAYS,
    invoice_rejection_acknowledge,
    motif_label,
    rejections_pending,
    user_blocked_by_rejections,
)
from choeur.invoices.models import InvoiceStatusChange
from choeur.invoices.notifications import (
    PreferenceRow,
    notification_get_for_user,
    notification_preference_set,
    notification_preferences_for,
    notifications_for,
    notifications_mark_read,
    notifications_unread_count,
)
from choeur.portal.lifecycle_views.middleware import forget_block
from choeur.sollicitations.notifications import ESPACE as SOLLICITATIONS_ESPACE
from choeur.sollicitations.notifications import sollicitation_preference_get, sollicitation_preference_set

PER_PAGE = 25


def invoice_url(invoice_id: int) -> str | None:
    """The invoice page (another part of the portal); None while it does not exist."""
    for name in ("portal:invoice_detail", "portal:invoice"):
        try:
            return reverse(name, args=[invoice_id])
        except NoReverseMatch:
            continue
    return None


# --- Notification centre ---------------------------------------------------------------------------------------


def _centre_context(request: HttpRequest) -> dict:
    unread_only = request.GET.get("filtre") == "non-lues"
    page_obj = Paginator(notifications_for(user=request.user, unread_only=unread_only), PER_PAGE).get_page(
        request.GET.get("page")
    )
    for notification in page_obj:
        notification.link = invoice_url(notification.invoice_id)
    return {
        "title": "Notifications",
        "nav_section": "notifications",
        "page_obj": page_obj,
        "unread_only": unread_only,
        "unread_count": notifications_unread_count(user=request.user),
    }


@login_required
def notifications_view(request: HttpRequest) -> HttpResponse:
    context = _centre_context(request)
    template = "portal/lifecycle/_notifications.html" if request.htmx else "portal/lifecycle/notifications.html"
    return render(request, template, context)


@login_required
@require_POST
def notifications_mark_read_view(request: HttpRequest) -> HttpResponse:
    """Mark one (`notification`), the ticked ones (`ids`) or all (`tout`) as read."""
    if request.POST.get("tout"):
        ids = None
    else:
        ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    changed = notifications_mark_read(user=request.user, ids=ids)
    if request.htmx:
        return render(request, "portal/lifecycle/_notifications.html", _centre_context(request))
    if changed:
        messages.success(request, f"{changed} notification(s) marquée(s) comme lue(s).")
    return redirect("portal:notifications")


@login_required
def notification_open_view(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Open a notification: mark it read, go to its invoice."""
    try:
        notification = notification_get_for_user(user=request.user, notification_id=notification_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal:notifications")
    notifications_mark_read(user=request.user, ids=[notification.pk])
    target = invoice_url(notification.invoice_id)
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("portal:notifications")


# --- Preferences -------------------------------------------------------------------------------------------------


def _sollicitation_rows(user) -> list[PreferenceRow]:
    """One row per structure of the user for its sollicitations (sent and received), beside the invoice espaces."""
    return [
        PreferenceRow(
            structure=structure,
            espace=SOLLICITATIONS_ESPACE,
            espace_label="Sollicitations (émises et reçues)",
            frequency=sollicitation_preference_get(user=user, structure=structure),
        )
        for structure in structures_of_user(user=user).order_by("raison_sociale", "pk")
    ]


@login_required
def notification_preferences_view(request: HttpRequest) -> HttpResponse:
    rows = notification_preferences_for(user=request.user) + _sollicitation_rows(request.user)
    if request.method == "POST":
        changed = 0
        errors = []
        for row in rows:
            wanted = request.POST.get(f"frequence-{row.key}")
            if wanted is None or wanted == row.frequency:
                continue
            try:
                if row.espace == SOLLICITATIONS_ESPACE:
                    sollicitation_preference_set(user=request.user, structure=row.structure, frequency=wanted)
                else:
                    notification_preference_set(
                        user=request.user, structure=row.structure, espace=row.espace, frequency=wanted
                    )
                changed += 1
            except ApplicationError as exc:
                errors.append(f"{row.structure.designation} — {row.espace_label} : {exc.message}")
        for error in errors:
            messages.error(request, error)
        if not errors:
            messages.success(
                request,
                f"Préférences enregistrées ({changed} modification(s))." if changed else "Aucune modification.",
            )
        return redirect("portal:notification_preferences")
    grouped = defaultdict(list)
    for row in rows:
        grouped[row.structure].append(row)
    return render(
        request,
        "portal/lifecycle/preferences.html",
        {
            "title": "Préférences de notification",
            "nav_section": "notifications",
            "groups": dict(grouped),
            "frequencies": NotificationFrequency.choices,
        },
    )


# --- Rejections to acknowledge -----------------------------------------------------------------------------------


def _pending_rows(user) -> list[dict]:
    invoices = list(rejections_pending(user=user))
    last_changes = {}
    for change in InvoiceStatusChange.objects.filter(
        invoice__in=invoices, to_status__in=(InvoiceStatus.REJETEE, InvoiceStatus.SUSPENDUE)
    ).order_by("id"):
        last_changes[change.invoice_id] = change
    rows = []
    for invoice in invoices:
        change = last_changes.get(invoice.pk)
        rows.append(
            {
                "invoice": invoice,
                "change": change,
                "motif": motif_label(change.transition, change.motif) if change and change.motif else "",
                "link": invoice_url(invoice.pk),
            }
        )
    return rows


@login_required
def rejections_pending_view(request: HttpRequest) -> HttpResponse:
    """« Rejets à traiter »: rejected and suspended invoices the supplier has not acknowledged yet."""
    if request.method == "POST":
        return _acknowledge(request)
    rows = _pending_rows(request.user)
    return render(
        request,
        "portal/lifecycle/rejections.html",
        {
            "title": "Rejets et suspensions à traiter",
            "nav_section": "rejections",
            "rows": rows,
            "blocked": user_blocked_by_rejections(user=request.user),
            "grace_days": ACKNOWLEDGEMENT_GRACE_DAYS,
            "next": _safe_next(request, request.GET.get("next")),
        },
    )


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return ""


def _acknowledge(request: HttpRequest) -> HttpResponse:
    wanted = {int(value) for value in request.POST.getlist("factures") if value.isdigit()}
    if request.POST.get("tout"):
        wanted = {row["invoice"].pk for row in _pending_rows(request.user)}
    pending = {row["invoice"].pk: row["invoice"] for row in _pending_rows(request.user)}
    chosen = [pending[pk] for pk in sorted(wanted) if pk in pending]
    if not chosen:
        messages.error(request, "Cochez au moins une facture dont vous avez pris connaissance.")
        return redirect("portal:rejections_pending")
    by_supplier = defaultdict(list)
    for invoice in chosen:
        by_supplier[invoice.supplier].append(invoice)
    done = 0
    try:
        for structure, invoices in by_supplier.items():
            done += len(
                invoice_rejection_acknowledge(
                    invoices=invoices, by=request.user, structure=structure, channel=Channel.PORTAIL
                )
            )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal:rejections_pending")
    forget_block(request)
    messages.success(request, f"Prise de connaissance enregistrée pour {done} facture(s).")
    target = _safe_next(request, request.POST.get("next"))
    if target and not user_blocked_by_rejections(user=request.user):
        return redirect(target)
    return redirect("portal:rejections_pending")
