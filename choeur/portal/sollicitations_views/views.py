"""Sollicitations in the portal: « Sollicitations émises » and « Sollicitations reçues » (with the Synthèse
« Mes sollicitations à traiter »), search and CSV export, a new sollicitation (pre-filled from an invoice or a
works dossier), one sollicitation's page (conversation, one action form), and the public « Nous contacter ».

Every read goes through the sollicitation selectors (bounded to the user's structures, 404 otherwise); every
change goes through the services, with the status the person saw (`expected_status`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from choeur.core.errors import ApplicationError, NotFoundError
from choeur.directory.selectors import structures_of_user
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.selectors import invoice_get_for_user
from choeur.portal.accounts_views.forms import apply_application_error
from choeur.portal.sollicitations_views.forms import (
    ActionForm,
    FilterForm,
    SollicitationForm,
    SupportContactForm,
)
from choeur.portal.tracking_views.downloads import file_response
from choeur.sollicitations import selectors
from choeur.sollicitations.enums import SollicitationRole
from choeur.sollicitations.enums import SollicitationStatus as S
from choeur.sollicitations.platform_requests import platform_request_pending, sollicitation_process_request
from choeur.sollicitations.services import sollicitation_act, sollicitation_create
from choeur.sollicitations.workflow import available_transitions, roles_of
from choeur.works.selectors import dossier_get_for_user

PER_PAGE = 20
SENT, RECEIVED = "emises", "recues"
TITLES = {SENT: "Sollicitations émises", RECEIVED: "Sollicitations reçues"}
BADGES = {
    S.OUVERTE: "new",
    S.EN_COURS: "info",
    S.EN_ATTENTE_COMPLEMENT: "warning",
    S.COMPLEMENT_RECU: "new",
    S.REPONDUE: "success",
    S.RELANCEE: "warning",
    S.CLOTUREE: "info",
}
PROCESS_ACTION = ("traiter_demande", "Traiter la demande (créer la structure ou nommer le gestionnaire)")
# The public form: at most this many tickets per address and per hour (the cache holds the count).
CONTACT_LIMIT = 5
CONTACT_WINDOW_SECONDS = 3600


def duration_label(delta) -> str:
    """« 3 j 4 h », « 5 h », « 12 min »: how old a request is, how long the first answer took."""
    if delta is None:
        return "—"
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} j {hours} h"
    if hours:
        return f"{hours} h"
    return f"{minutes} min"


def _rows(sollicitations) -> list[dict]:
    return [
        {
            "s": s,
            "badge": BADGES.get(s.status, "info"),
            "age": duration_label(s.age),
            "first_answer": duration_label(s.time_to_first_answer),
        }
        for s in sollicitations
    ]


def _base(user, side: str):
    return selectors.sollicitations_sent(user=user) if side == SENT else selectors.sollicitations_received(user=user)


def _dashboard(request: HttpRequest, side: str) -> HttpResponse:
    form = FilterForm(request.GET or None)
    base = _base(request.user, side)
    listed = base
    valid = not form.is_bound or form.is_valid()
    if form.is_bound and valid:
        try:
            listed = selectors.sollicitations_filter(base, filters=form.filters())
        except ApplicationError as exc:
            apply_application_error(form, exc)
            valid = False
    if not valid:
        listed = base.none()
    if request.GET.get("format") == "csv" and valid:
        response = StreamingHttpResponse(selectors.export_csv(listed), content_type="text/csv; charset=utf-8")
        name = f"sollicitations-{side}-{timezone.localdate():%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    page_obj = Paginator(listed, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context = {
        "title": TITLES[side],
        "side": side,
        "nav_section": "sollicitations",
        "form": form,
        "page_obj": page_obj,
        "rows": _rows(page_obj),
        "query": query.urlencode(),
        "filtered": form.is_bound and any(v for k, v in request.GET.items() if k != "page"),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "portal/sollicitations/_results.html", context)
    if side == RECEIVED:
        context["to_process"] = _rows(selectors.sollicitations_to_process(user=request.user)[:50])
    return render(request, "portal/sollicitations/dashboard.html", context)


@login_required
@require_GET
def sollicitations_sent_view(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, SENT)


@login_required
@require_GET
def sollicitations_received_view(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, RECEIVED)


# --- A new sollicitation ---------------------------------------------------------------------------------


def _subject_links(request: HttpRequest):
    """The invoice or works dossier the new sollicitation is about (GET ?facture= / ?dossier=, kept in POST)."""
    source = request.POST if request.method == "POST" else request.GET
    invoice = dossier = None
    try:
        if source.get("facture"):
            invoice = invoice_get_for_user(user=request.user, invoice_id=int(source["facture"]))
        if source.get("dossier"):
            dossier = dossier_get_for_user(user=request.user, dossier_id=int(source["dossier"]))
    except (NotFoundError, ValueError):
        raise Http404("Facture ou dossier introuvable, ou vous n'y avez pas accès.") from None
    return invoice, dossier


def _prefill(invoice, dossier, structures, request: HttpRequest) -> dict:
    initial: dict = {}
    mine = {s.pk for s in structures}
    if invoice is not None:
        side = invoice.supplier_id if invoice.supplier_id in mine else invoice.recipient_id
        code = "SUSPENSION" if invoice.status in (InvoiceStatus.SUSPENDUE, InvoiceStatus.REJETEE) else "SUIVI"
        initial.update(sender_structure=side, subcategory=f"FACTURE.{code}", subject=f"Facture {invoice.number}")
    elif dossier is not None:
        party = dossier.marche.parties.filter(structure_id__in=mine).first()
        initial.update(
            sender_structure=party.structure_id if party else None,
            subcategory="TRAVAUX.DOSSIER",
            subject=f"Dossier de facturation {dossier.reference}",
        )
    else:
        if len(structures) >= 1:
            initial["sender_structure"] = structures[0].pk
        wanted = request.GET.get("sous_categorie", "")
        if wanted:
            initial["subcategory"] = wanted
    return initial


def _recipient_of(invoice, dossier, structures) -> str:
    mine = {s.pk for s in structures}
    if invoice is not None:
        other = invoice.recipient if invoice.supplier_id in mine else invoice.supplier
        return other.designation if other is not None else ""
    if dossier is not None:
        parties = [p for p in dossier.marche.parties.select_related("structure") if p.role in ("MOE", "MOA")]
        moe = next((p for p in parties if p.role == "MOE" and p.structure_id not in mine), None)
        chosen = moe or next((p for p in parties if p.role == "MOA"), None)
        return chosen.structure.designation if chosen else ""
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def sollicitation_new_view(request: HttpRequest) -> HttpResponse:
    invoice, dossier = _subject_links(request)
    structures = list(structures_of_user(user=request.user).order_by("raison_sociale"))
    fixed = invoice is not None or dossier is not None
    initial = _prefill(invoice, dossier, structures, request)
    if request.method == "POST":
        form = SollicitationForm(request.POST, request.FILES, structures=structures, fixed_recipient=fixed)
        if form.is_valid():
            recipient = None if fixed else form.recipient()
            if not form.errors:
                try:
                    sollicitation = sollicitation_create(
                        by=request.user,
                        subcategory=form.cleaned_data["subcategory"],
                        subject=form.cleaned_data["subject"],
                        body=form.cleaned_data["body"],
                        sender_structure=form.sender(),
                        recipient_structure=recipient,
                        invoice=invoice,
                        works_dossier=dossier,
                        about_structure=form.about(),
                        request_data=form.request_data(),
                        attachments=form.attachment_pairs(),
                    )
                except ApplicationError as exc:
                    apply_application_error(form, exc)
                else:
                    messages.success(
                        request,
                        f"Sollicitation {sollicitation.numero} envoyée à {sollicitation.recipient_label}. "
                        "Vous serez averti(e) de sa réponse.",
                    )
                    return redirect("portal:sollicitation_detail", sollicitation.pk)
    else:
        form = SollicitationForm(initial=initial, structures=structures, fixed_recipient=fixed)
    context = {
        "title": "Nouvelle sollicitation",
        "nav_section": "sollicitations",
        "form": form,
        "invoice": invoice,
        "dossier": dossier,
        "recipient_label": _recipient_of(invoice, dossier, structures),
    }
    return render(request, "portal/sollicitations/new.html", context)


@login_required
@require_GET
def sollicitation_request_fields_view(request: HttpRequest) -> HttpResponse:
    """HTMX: the platform request's fields for the chosen sous-catégorie (empty for an ordinary question)."""
    structures = list(structures_of_user(user=request.user).order_by("raison_sociale"))
    form = SollicitationForm(initial={"subcategory": request.GET.get("subcategory", "")}, structures=structures)
    return render(request, "portal/sollicitations/_request_fields.html", {"form": form})


# --- One sollicitation -----------------------------------------------------------------------------------


def _load(request: HttpRequest, pk: int):
    try:
        return selectors.sollicitation_get(user=request.user, pk=pk)
    except NotFoundError as exc:
        raise Http404(exc.message) from None


def _fields_url(sollicitation) -> str:
    return reverse("portal:sollicitation_detail", args=[sollicitation.pk])


def _actions(sollicitation, user) -> list[tuple[str, str]]:
    actions = [(t.name, t.label) for t in available_transitions(sollicitation, user)]
    if (
        getattr(user, "is_staff", False)
        and platform_request_pending(sollicitation)
        and sollicitation.status != S.CLOTUREE
    ):
        actions.insert(0, PROCESS_ACTION)
    return actions


def _detail(request: HttpRequest, sollicitation, form: ActionForm | None = None, status: int = 200):
    actions = _actions(sollicitation, request.user)
    if form is None and actions:
        form = ActionForm(actions=actions, chosen=request.GET.get("action", ""), fields_url=_fields_url(sollicitation))
    roles = roles_of(sollicitation, request.user)
    conversation = sollicitation.messages.prefetch_related("attachments").select_related("author_user")
    context = {
        "title": f"Sollicitation {sollicitation.numero}",
        "nav_section": "sollicitations",
        "s": sollicitation,
        "badge": BADGES.get(sollicitation.status, "info"),
        "age": duration_label(sollicitation.age),
        "first_answer": duration_label(sollicitation.time_to_first_answer),
        "conversation": conversation,
        "changes": sollicitation.status_changes.select_related("actor_user"),
        "form": form,
        "is_recipient": SollicitationRole.DESTINATAIRE in roles,
        "request_pending": platform_request_pending(sollicitation),
        "request_items": _request_items(sollicitation),
    }
    return render(request, "portal/sollicitations/detail.html", context, status=status)


REQUEST_LABELS = {
    "siret": "SIRET",
    "raison_sociale": "Raison sociale",
    "adresse": "Adresse",
    "code_postal": "Code postal",
    "ville": "Ville",
    "email": "Adresse électronique",
    "public_category": "Catégorie d'entité publique",
    "gestionnaire_email": "Nouveau gestionnaire principal",
}


def _request_items(sollicitation) -> list[tuple[str, str]]:
    data = sollicitation.request_data or {}
    return [(label, data[key]) for key, label in REQUEST_LABELS.items() if data.get(key)]


@login_required
@require_GET
def sollicitation_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    sollicitation = _load(request, pk)
    if request.htmx and request.GET.get("action"):
        form = ActionForm(actions=_actions(sollicitation, request.user), chosen=request.GET["action"])
        return render(request, "portal/sollicitations/_action_fields.html", {"form": form})
    return _detail(request, sollicitation)


@login_required
@require_POST
def sollicitation_action_view(request: HttpRequest, pk: int) -> HttpResponse:
    sollicitation = _load(request, pk)
    actions = _actions(sollicitation, request.user)
    form = ActionForm(request.POST, request.FILES, actions=actions, fields_url=_fields_url(sollicitation))
    if not actions:
        messages.error(request, "Aucune action n'est ouverte sur cette sollicitation à son état actuel.")
        return redirect("portal:sollicitation_detail", pk)
    if not form.is_valid():
        return _detail(request, sollicitation, form, status=400)
    action = form.cleaned_data["action"]
    expected = request.POST.get("expected_status") or None
    try:
        if action == PROCESS_ACTION[0]:
            sollicitation_process_request(
                sollicitation=sollicitation, by=request.user, comment=form.cleaned_data["body"],
                expected_status=expected,
            )  # fmt: skip
        else:
            transfer_to, to_support = form.transfer_target() if action == "transferer" else (None, False)
            if form.errors:
                return _detail(request, sollicitation, form, status=400)
            sollicitation_act(
                sollicitation=sollicitation, action=action, by=request.user, body=form.cleaned_data["body"],
                attachments=form.attachment_pairs(), expected_status=expected, transfer_to=transfer_to,
                transfer_to_support=to_support,
            )  # fmt: skip
    except ApplicationError as exc:
        apply_application_error(form, exc)
        return _detail(request, sollicitation, form, status=400)
    label = dict(actions)[action]
    messages.success(request, f"« {label} » : c'est fait.")
    try:
        selectors.sollicitation_get(user=request.user, pk=pk)
    except NotFoundError:
        # Transferred elsewhere: the page is no longer the user's.
        return redirect("portal:sollicitations_received")
    return redirect("portal:sollicitation_detail", pk)


@login_required
@require_GET
def sollicitation_attachment_view(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    sollicitation = _load(request, pk)
    for message in sollicitation.messages.prefetch_related("attachments__file"):
        for attachment in message.attachments.all():
            if attachment.pk == attachment_id:
                return file_response(attachment.file.read(), filename=attachment.name, mime=attachment.file.mime_type)
    raise Http404("Pièce jointe introuvable.")


# --- Not connected: « Nous contacter » -------------------------------------------------------------------


def _client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "inconnue"


@require_http_methods(["GET", "POST"])
def support_contact_view(request: HttpRequest) -> HttpResponse:
    """A ticket to the platform's support, for people without an account (or not connected). A honeypot field
    and a per-address hourly limit keep robots out without any external service."""
    if request.method == "POST":
        form = SupportContactForm(request.POST)
        key = f"sollicitations:contact:{_client_address(request)}"
        if form.is_spam():
            # Answer as if it worked: a robot learns nothing.
            return render(request, "portal/sollicitations/contact_sent.html", {"title": "Demande envoyée"})
        if (cache.get(key) or 0) >= CONTACT_LIMIT:
            form.is_valid()
            form.add_error(
                None,
                f"Vous avez déjà envoyé {CONTACT_LIMIT} demandes dans l'heure : réessayez plus tard, ou "
                "connectez-vous pour suivre vos demandes.",
            )
        elif form.is_valid():
            try:
                sollicitation = sollicitation_create(
                    by=request.user if request.user.is_authenticated else None,
                    subcategory=form.cleaned_data["subcategory"],
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    sender_email=form.cleaned_data["email"],
                )
            except ApplicationError as exc:
                apply_application_error(form, exc)
            else:
                cache.add(key, 0, CONTACT_WINDOW_SECONDS)
                try:
                    cache.incr(key)
                except ValueError:
                    cache.set(key, 1, CONTACT_WINDOW_SECONDS)
                return render(
                    request,
                    "portal/sollicitations/contact_sent.html",
                    {"title": "Demande envoyée", "numero": sollicitation.numero, "email": form.cleaned_data["email"]},
                )
    else:
        form = SupportContactForm()
    return render(request, "portal/sollicitations/contact.html", {"title": "Nous contacter", "form": form})


def new_sollicitation_url(*, invoice=None, dossier=None) -> str:
    url = reverse("portal:sollicitation_new")
    if invoice is not None:
        return f"{url}?facture={invoice.pk}"
    if dossier is not None:
        return f"{url}?dossier={dossier.pk}"
    return url
