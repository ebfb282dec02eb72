"""« Mes structures » and « Activités du gestionnaire »: search, creation, structure pages, services,
bank details, users and roles, espaces and abonnements, requests and the manager history.

Thin views: reads go through `choeur.directory.selectors` (bounded to the user's structures: a
structure outside them is a 404, never a 403), writes through `choeur.directory.services`. A member
who lacks the gestionnaire role gets a French 403 page.
"""

from __future__ import annotations

import csv
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from choeur.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from choeur.core.spreadsheets import csv_text
from choeur.directory import selectors, services
from choeur.directory.enums import EspaceCode, RattachementStatus, Role
from choeur.directory.identifiers import clean_siret
from choeur.directory.models import Structure
from choeur.portal.accounts_views.reauth import reauth_is_fresh, reauth_required
from choeur.portal.structures_views import forms

PER_PAGE = 20
SEARCH_SESSION_KEY = "choeur_structure_search"


# ---------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------


def _page(request: HttpRequest, items, per_page: int = PER_PAGE):
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(
        request,
        "portal/structures/forbidden.html",
        {"title": "Accès réservé", "message": message},
        status=403,
    )


def structure_view(view_func):
    """Log-in required; `NotFoundError` becomes a 404 and `PermissionDeniedError` a French 403 page."""

    @login_required
    @wraps(view_func)
    def _wrapped(request, *args, **kwargs):
        try:
            return view_func(request, *args, **kwargs)
        except NotFoundError as exc:
            raise Http404(exc.message) from None
        except PermissionDeniedError as exc:
            return _forbidden(request, exc.message)

    return _wrapped


def _tabs_context(request: HttpRequest, structure: Structure, active: str) -> dict:
    """What every page of a structure shows: its name, the user's role and the tabs."""
    rattachement = selectors.rattachement_of(user=request.user, structure=structure)
    is_member = rattachement is not None and rattachement.status == RattachementStatus.VALIDEE
    return {
        "structure": structure,
        "rattachement": rattachement,
        "is_member": is_member,
        "is_manager": is_member and rattachement.is_gestionnaire,
        "is_principal": is_member and rattachement.role == Role.GESTIONNAIRE_PRINCIPAL,
        "tab": active,
        "nav_section": "structures",
    }


def _error_message(request: HttpRequest, exc: ApplicationError) -> None:
    messages.error(request, exc.message)


def _managed_filter(request: HttpRequest) -> Structure | None:
    """The `?structure=` filter of the gestionnaire pages, only among the structures the user manages."""
    raw = request.GET.get("structure") or ""
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("Structure introuvable.")
    structure = selectors.structures_managed_by(user=request.user).filter(pk=int(raw)).first()
    if structure is None:
        raise Http404("Structure introuvable.")
    return structure


# ---------------------------------------------------------------------------------------------------
# « Mes structures », search, creation, rattachement requests
# ---------------------------------------------------------------------------------------------------


@structure_view
def structures(request: HttpRequest) -> HttpResponse:
    rattachements = selectors.rattachements_of_user(user=request.user)
    pending = rattachements.filter(status=RattachementStatus.EN_COURS_DE_VALIDATION).count()
    return render(
        request,
        "portal/structures/list.html",
        {
            "title": "Mes structures",
            "nav_section": "structures",
            "page_obj": _page(request, rattachements),
            "pending_count": pending,
            "lookup_form": forms.IdentifierLookupForm(),
        },
    )


@structure_view
def structure_search(request: HttpRequest) -> HttpResponse:
    form = forms.SearchForm(request.GET or None)
    page_obj = None
    siret_warning = ""
    rows: list = []
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["q"]
        try:
            results = selectors.structure_search(query=query)
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            # The creation form is offered only after a search (Chorus Pro's rule: look before creating).
            request.session[SEARCH_SESSION_KEY] = query
            page_obj = _page(request, results)
            compact = "".join(query.split())
            if compact.isdigit() and len(compact) == 14:
                try:
                    clean_siret(compact)
                except ApplicationError as exc:
                    siret_warning = exc.message
            memberships = {
                r.structure_id: r
                for r in request.user.rattachements.filter(structure__in=[s.pk for s in page_obj.object_list])
            }
            rows = [(s, memberships.get(s.pk)) for s in page_obj.object_list]
    return render(
        request,
        "portal/structures/search.html",
        {
            "title": "Rechercher une structure",
            "nav_section": "structures",
            "form": form,
            "page_obj": page_obj,
            "rows": rows,
            "siret_warning": siret_warning,
        },
    )


@structure_view
def structure_create(request: HttpRequest) -> HttpResponse:
    query = request.session.get(SEARCH_SESSION_KEY)
    if not query:
        messages.info(request, "Recherchez d'abord la structure : elle est peut-être déjà inscrite sur Chœur.")
        return redirect("portal:structure_search")
    compact = "".join(query.split())
    initial = {"identifier": compact} if compact.isdigit() else {"raison_sociale": query}
    form = forms.StructureCreateForm(request.POST or None, initial=initial)
    existing = None
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items()}
        try:
            structure = services.structure_create(created_by=request.user, **data)
        except ConflictError as exc:
            forms.apply_application_error(form, exc)
            existing = Structure.objects.filter(pk=exc.extra.get("structure_id")).first()
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            request.session.pop(SEARCH_SESSION_KEY, None)
            messages.success(
                request,
                f"La structure « {structure.designation} » est créée : vous en êtes le gestionnaire principal.",
            )
            return redirect("portal:structure_detail", structure.pk)
    return render(
        request,
        "portal/structures/create.html",
        {"title": "Créer une structure", "nav_section": "structures", "form": form, "existing": existing},
    )


@structure_view
def rattachement_lookup(request: HttpRequest) -> HttpResponse:
    """Find a structure by its exact identifier, then go to its rattachement request form."""
    form = forms.IdentifierLookupForm(request.GET or None)
    if form.is_bound and form.is_valid():
        try:
            structure = selectors.structure_get_by_identifier(**form.cleaned_data)
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            return redirect("portal:rattachement_request", structure.pk)
    return render(
        request,
        "portal/structures/lookup.html",
        {"title": "Demander un rattachement", "nav_section": "structures", "form": form},
    )


@structure_view
def rattachement_request(request: HttpRequest, pk: int) -> HttpResponse:
    structure = selectors.structure_get_for_request(structure_id=pk)
    current = selectors.rattachement_of(user=request.user, structure=structure)
    if current is not None and current.status == RattachementStatus.VALIDEE:
        messages.info(request, f"Vous êtes déjà rattaché à la structure « {structure.designation} ».")
        return redirect("portal:structure_detail", structure.pk)
    if current is not None and current.status == RattachementStatus.EN_COURS_DE_VALIDATION:
        messages.info(
            request,
            f"Votre demande de rattachement à « {structure.designation} » est déjà en cours de validation.",
        )
        return redirect("portal:structures")
    form = forms.RattachementRequestForm(request.POST or None, structure=structure)
    if request.method == "POST" and form.is_valid():
        try:
            services.rattachement_request(
                user=request.user,
                structure=structure,
                services=form.cleaned_data.get("services") or [],
                message=form.cleaned_data["message"],
            )
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            messages.success(
                request,
                f"Votre demande de rattachement à « {structure.designation} » est envoyée à ses gestionnaires. "
                "Vous serez prévenu par courriel de leur décision.",
            )
            return redirect("portal:structures")
    has_gestionnaire = selectors.structure_gestionnaires(structure=structure).exists()
    return render(
        request,
        "portal/structures/rattachement_request.html",
        {
            "title": f"Demander un rattachement à {structure.designation}",
            "nav_section": "structures",
            "structure": structure,
            "form": form,
            "has_gestionnaire": has_gestionnaire,
            "previous": current,
        },
    )


# ---------------------------------------------------------------------------------------------------
# A structure's pages
# ---------------------------------------------------------------------------------------------------


@structure_view
def structure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    structure, is_member = selectors.structure_get_public_or_member(user=request.user, structure_id=pk)
    context = _tabs_context(request, structure, "detail")
    context["title"] = structure.designation
    if is_member:
        context["espaces"] = selectors.espaces_for_user(request.user, structure)
        context["services_count"] = structure.services.count()
        context["members_count"] = structure.rattachements.filter(status=RattachementStatus.VALIDEE).count()
        context["gestionnaires"] = selectors.structure_gestionnaires(structure=structure)
    else:
        context["public_services"] = structure.services.active().order_by("code")[:PER_PAGE]
    return render(request, "portal/structures/detail.html", context)


@structure_view
def structure_edit(request: HttpRequest, pk: int) -> HttpResponse:
    structure = selectors.structure_get_for_manager(user=request.user, structure_id=pk)
    names = list(forms.StructureEditForm(structure=structure).fields)
    initial = {name: getattr(structure, name) for name in names}
    form = forms.StructureEditForm(request.POST or None, initial=initial, structure=structure)
    if request.method == "POST" and form.is_valid():
        try:
            services.structure_update(by=request.user, structure=structure, **form.cleaned_data)
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            messages.success(request, "Les informations de la structure sont enregistrées.")
            return redirect("portal:structure_detail", structure.pk)
    context = _tabs_context(request, structure, "detail")
    context.update(title=f"Modifier {structure.designation}", form=form)
    return render(request, "portal/structures/edit.html", context)


# --- Services ---------------------------------------------------------------------------------------


@structure_view
def structure_services(request: HttpRequest, pk: int) -> HttpResponse:
    structure = selectors.structure_get_for_member(user=request.user, structure_id=pk)
    context = _tabs_context(request, structure, "services")
    context.update(
        title=f"Services de {structure.designation}",
        page_obj=_page(request, selectors.structure_services(user=request.user, structure=structure)),
        today=timezone.localdate(),
    )
    return render(request, "portal/structures/services.html", context)


@structure_view
def service_create(request: HttpRequest, pk: int) -> HttpResponse:
    structure = selectors.structure_get_for_manager(user=request.user, structure_id=pk)
    form = forms.ServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service = services.service_create(by=request.user, structure=structure, **form.cleaned_data)
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            messages.success(request, f"Le service {service.code} est créé.")
            return redirect("portal:structure_services", structure.pk)
    context = _tabs_context(request, structure, "services")
    context.update(title="Ajouter un service", form=form)
    return render(request, "portal/structures/service_form.html", context)


@structure_view
def service_edit(request: HttpRequest, pk: int, service_pk: int) -> HttpResponse:
    structure = selectors.structure_get_for_manager(user=request.user, structure_id=pk)
    service = selectors.service_get_for_manager(user=request.user, service_id=service_pk)
    if service.structure_id != structure.pk:
        raise Http404("Service introuvable.")
    names = list(forms.ServiceForm(editing=True).fields)
    form = forms.ServiceForm(request.POST or None, initial={n: getattr(service, n) for n in names}, editing=True)
    if request.method == "POST" and "delete" in request.POST:
        try:
            services.service_delete(by=request.user, service=service)
        except ApplicationError as exc:
            _error_message(request, exc)
            return redirect("portal:service_edit", structure.pk, service.pk)
        messages.success(request, f"Le service {service.code} est supprimé.")
        return redirect("portal:structure_services", structure.pk)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_update(by=request.user, service=service, **form.cleaned_data)
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            messages.success(request, f"Le service {service.code} est enregistré.")
            return redirect("portal:structure_services", structure.pk)
    context = _tabs_context(request, structure, "services")
    context.update(title=f"Modifier le service {service.code}", form=form, service=service)
    return render(request, "portal/structures/service_form.html", context)


# --- Bank details -----------------------------------------------------------------------------------


@structure_view
def structure_bank_accounts(request: HttpRequest, pk: int) -> HttpResponse:
    structure = selectors.structure_get_for_member(user=request.user, structure_id=pk)
    context = _tabs_context(request, structure, "bank")
    context.update(
        title=f"Coordonnées bancaires de {structure.designation}",
        page_obj=_page(request, selectors.structure_bank_accounts(user=request.user, structure=structure)),
        reauth_fresh=reauth_is_fresh(request),
    )
    return render(request, "portal/structures/bank_accounts.html", context)


def _bank_structure(request: HttpRequest, pk: int) -> Structure:
    return selectors.structure_get_for_manager(user=request.user, structure_id=pk)


@structure_view
def bank_account_create(request: HttpRequest, pk: int) -> HttpResponse:
    # Scope first (404/403), then the re-authentication: an outsider never reaches the password prompt.
    structure = _bank_structure(request, pk)
    return _bank_account_create(request, structure)


@reauth_required
def _bank_account_create(request: HttpRequest, structure: Structure) -> HttpResponse:
    form = forms.BankAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.bank_account_create(
                by=request.user, structure=structure, reauthenticated=reauth_is_fresh(request), **form.cleaned_data
            )
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            messages.success(
                request,
                f"Les coordonnées bancaires « {account.label} » sont ajoutées ; tous les gestionnaires en sont "
                "informés par courriel.",
            )
            return redirect("portal:structure_bank_accounts", structure.pk)
    context = _tabs_context(request, structure, "bank")
    context.update(title="Ajouter des coordonnées bancaires", form=form)
    return render(request, "portal/structures/bank_account_form.html", context)


def _bank_account_of(request: HttpRequest, structure: Structure, bank_pk: int):
    account = selectors.bank_account_get_for_manager(user=request.user, bank_account_id=bank_pk)
    if account.structure_id != structure.pk:
        raise NotFoundError("Coordonnées bancaires introuvables.")
    return account


@structure_view
def bank_account_edit(request: HttpRequest, pk: int, bank_pk: int) -> HttpResponse:
    structure = _bank_structure(request, pk)
    account = _bank_account_of(request, structure, bank_pk)
    return _bank_account_edit(request, structure, account)


@reauth_required
def _bank_account_edit(request: HttpRequest, structure: Structure, account) -> HttpResponse:
    initial = {"label": account.label, "holder": account.holder, "iban": account.iban, "bic": account.bic}
    form = forms.BankAccountForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.bank_account_update(
                by=request.user, bank_account=account, reauthenticated=reauth_is_fresh(request), **form.cleaned_data
            )
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            messages.success(
                request,
                "Les coordonnées bancaires sont modifiées ; tous les gestionnaires en sont informés par courriel.",
            )
            return redirect("portal:structure_bank_accounts", structure.pk)
    context = _tabs_context(request, structure, "bank")
    context.update(title=f"Modifier « {account.label} »", form=form, account=account)
    return render(request, "portal/structures/bank_account_form.html", context)


@structure_view
def bank_account_toggle(request: HttpRequest, pk: int, bank_pk: int) -> HttpResponse:
    """Deactivate (or reactivate) bank details: a confirmation page, then the POST."""
    structure = _bank_structure(request, pk)
    account = _bank_account_of(request, structure, bank_pk)
    return _bank_account_toggle(request, structure, account)


@reauth_required
def _bank_account_toggle(request: HttpRequest, structure: Structure, account) -> HttpResponse:
    if request.method == "POST":
        service = services.bank_account_reactivate if not account.is_active else services.bank_account_deactivate
        try:
            account = service(by=request.user, bank_account=account, reauthenticated=reauth_is_fresh(request))
        except ApplicationError as exc:
            _error_message(request, exc)
        else:
            state = "réactivées" if account.is_active else "désactivées"
            messages.success(
                request,
                f"Les coordonnées bancaires « {account.label} » sont {state} ; les gestionnaires en sont informés.",
            )
        return redirect("portal:structure_bank_accounts", structure.pk)
    context = _tabs_context(request, structure, "bank")
    verb = "Réactiver" if not account.is_active else "Désactiver"
    context.update(title=f"{verb} « {account.label} »", account=account, verb=verb)
    return render(request, "portal/structures/bank_account_toggle.html", context)


# --- Users and roles --------------------------------------------------------------------------------


@structure_view
def structure_users(request: HttpRequest, pk: int) -> HttpResponse:
    structure = selectors.structure_get_for_member(user=request.user, structure_id=pk)
    context = _tabs_context(request, structure, "users")
    context.update(
        title=f"Utilisateurs de {structure.designation}",
        page_obj=_page(request, selectors.structure_members(user=request.user, structure=structure)),
    )
    return render(request, "portal/structures/users.html", context)


def _rattachement_in(request: HttpRequest, structure: Structure, rattachement_pk: int):
    rattachement = selectors.rattachement_get_for_manager(user=request.user, rattachement_id=rattachement_pk)
    if rattachement.structure_id != structure.pk:
        raise NotFoundError("Rattachement introuvable.")
    return rattachement


@structure_view
@require_POST
def rattachement_role(request: HttpRequest, pk: int, rattachement_pk: int) -> HttpResponse:
    structure = selectors.structure_get_for_manager(user=request.user, structure_id=pk)
    rattachement = _rattachement_in(request, structure, rattachement_pk)
    form = forms.RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choisissez gestionnaire secondaire ou utilisateur simple.")
    else:
        try:
            services.rattachement_set_role(by=request.user, rattachement=rattachement, role=form.cleaned_data["role"])
        except ApplicationError as exc:
            _error_message(request, exc)
        else:
            messages.success(
                request,
                f"{rattachement.user.full_name} est désormais {Role(form.cleaned_data['role']).label.lower()}.",
            )
    return redirect("portal:structure_users", structure.pk)


@structure_view
def rattachement_deactivate(request: HttpRequest, pk: int, rattachement_pk: int) -> HttpResponse:
    structure = selectors.structure_get_for_manager(user=request.user, structure_id=pk)
    rattachement = _rattachement_in(request, structure, rattachement_pk)
    if request.method == "POST":
        try:
            services.rattachement_deactivate(by=request.user, rattachement=rattachement)
        except ApplicationError as exc:
            _error_message(request, exc)
        else:
            messages.success(request, f"Le rattachement de {rattachement.user.full_name} est désactivé.")
        return redirect("portal:structure_users", structure.pk)
    context = _tabs_context(request, structure, "users")
    context.update(title="Désactiver un rattachement", target=rattachement)
    return render(request, "portal/structures/rattachement_deactivate.html", context)


@structure_view
def structure_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    structure = selectors.structure_get_for_manager(user=request.user, structure_id=pk)
    if not selectors.is_gestionnaire_principal(user=request.user, structure=structure):
        raise PermissionDeniedError(
            "Seul le gestionnaire principal peut transférer son rôle. Demandez-le au gestionnaire principal."
        )
    form = forms.TransferForm(request.POST or None, structure=structure)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["to"]
        try:
            services.gestionnaire_principal_transfer(by=request.user, structure=structure, to_user=target.user)
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            messages.success(
                request,
                f"{target.user.full_name} est le nouveau gestionnaire principal ; vous êtes gestionnaire secondaire.",
            )
            return redirect("portal:structure_users", structure.pk)
    context = _tabs_context(request, structure, "users")
    context.update(title="Transférer le rôle de gestionnaire principal", form=form)
    return render(request, "portal/structures/transfer.html", context)


# --- Espaces ----------------------------------------------------------------------------------------


@structure_view
def structure_espaces(request: HttpRequest, pk: int) -> HttpResponse:
    structure = selectors.structure_get_for_member(user=request.user, structure_id=pk)
    context = _tabs_context(request, structure, "espaces")
    espaces = {e.code: e for e in selectors.structure_espaces(structure=structure)}
    accesses = {a.code: a for a in selectors.espaces_for_user(request.user, structure)}
    own = selectors.subscriptions_of(rattachement=context["rattachement"])
    rows = []
    requestable = []
    for code, label in EspaceCode.choices:
        espace = espaces.get(code)
        is_open = espace is not None and espace.is_open
        subscription = own.get(code)
        rows.append(
            {
                "code": code,
                "label": label,
                "is_open": is_open,
                "access": accesses.get(code),
                "pending": subscription if subscription and subscription.status == "EN_COURS_DE_VALIDATION" else None,
                "refused": subscription if subscription and subscription.status == "REFUSEE" else None,
            }
        )
        if is_open and code not in accesses and not rows[-1]["pending"]:
            requestable.append(code)
    form = None
    if not context["is_manager"] and requestable:
        form = forms.SubscriptionRequestForm(request.POST or None, codes=requestable)
        if request.method == "POST" and form.is_valid():
            try:
                services.subscription_request(user=request.user, structure=structure, **form.cleaned_data)
            except ApplicationError as exc:
                forms.apply_application_error(form, exc)
            else:
                label = EspaceCode(form.cleaned_data["code"]).label
                messages.success(
                    request, f"Votre demande d'abonnement à l'espace « {label} » est envoyée aux gestionnaires."
                )
                return redirect("portal:structure_espaces", structure.pk)
    elif request.method == "POST":
        messages.error(request, "Aucun espace n'est disponible pour une demande d'abonnement.")
        return redirect("portal:structure_espaces", structure.pk)
    context.update(title=f"Espaces de {structure.designation}", rows=rows, form=form)
    return render(request, "portal/structures/espaces.html", context)


@structure_view
@require_POST
def espace_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    structure = selectors.structure_get_for_manager(user=request.user, structure_id=pk)
    form = forms.EspaceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Espace inconnu : choisissez un espace de la liste.")
        return redirect("portal:structure_espaces", structure.pk)
    code = form.cleaned_data["code"]
    opening = request.POST.get("action") == "ouvrir"
    try:
        if opening:
            services.espace_open(by=request.user, structure=structure, code=code)
        else:
            services.espace_close(by=request.user, structure=structure, code=code)
    except ApplicationError as exc:
        _error_message(request, exc)
    else:
        state = "ouvert" if opening else "fermé"
        messages.success(request, f"L'espace « {EspaceCode(code).label} » est {state}.")
    return redirect("portal:structure_espaces", structure.pk)


# ---------------------------------------------------------------------------------------------------
# « Activités du gestionnaire »
# ---------------------------------------------------------------------------------------------------


def _gestionnaire_context(request: HttpRequest, tab: str, structure: Structure | None) -> dict:
    managed = selectors.structures_managed_by(user=request.user).order_by("raison_sociale", "pk")
    return {
        "nav_section": "gestionnaire",
        "tab": tab,
        "managed": managed,
        "has_managed": managed.exists(),
        "filter_structure": structure,
        "pending_rattachements_count": selectors.pending_rattachements_for_manager(user=request.user).count(),
        "pending_subscriptions_count": selectors.pending_subscriptions_for_manager(user=request.user).count(),
    }


def _bulk_result_messages(request: HttpRequest, result: services.BulkResult, *, approve: bool, what: str) -> None:
    if result.count:
        verb = "validée" if approve else "refusée"
        plural = "s" if result.count > 1 else ""
        messages.success(request, f"{result.count} demande{plural} {what} {verb}{plural}.")
    for error in result.errors:
        messages.error(request, error)


def _bulk_decide(request: HttpRequest, pending: QuerySet, decide, *, what: str) -> tuple[forms.BulkDecisionForm, bool]:
    """Handle the bulk form of a list of pending requests; True when the page must be reloaded."""
    ids = list(pending.values_list("pk", flat=True))
    form = forms.BulkDecisionForm(request.POST or None, ids=ids)
    if request.method != "POST":
        return form, False
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "valider"
        try:
            result = decide(form.cleaned_data["ids"], approve, form.cleaned_data["comment"])
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            _bulk_result_messages(request, result, approve=approve, what=what)
            return form, True
    return form, False


@structure_view
def gestionnaire(request: HttpRequest) -> HttpResponse:
    """Pending rattachement requests of the structures the user manages, decided one by one or in bulk."""
    structure = _managed_filter(request)
    pending = selectors.pending_rattachements_for_manager(user=request.user, structure=structure)
    form, done = _bulk_decide(
        request,
        pending,
        lambda ids, approve, comment: services.rattachements_decide(
            by=request.user, rattachement_ids=ids, approve=approve, comment=comment
        ),
        what="de rattachement",
    )
    if done:
        return redirect(request.get_full_path())
    context = _gestionnaire_context(request, "rattachements", structure)
    context.update(title="Activités du gestionnaire", page_obj=_page(request, pending), form=form)
    return render(request, "portal/structures/gestionnaire/rattachements.html", context)


@structure_view
def gestionnaire_rattachement(request: HttpRequest, rattachement_pk: int) -> HttpResponse:
    """One request, with its message and services: validate, or refuse with a reason."""
    rattachement = selectors.rattachement_get_for_manager(user=request.user, rattachement_id=rattachement_pk)
    form = forms.DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        approve = request.POST.get("decision") == "valider"
        try:
            if approve:
                services.rattachement_validate(by=request.user, rattachement=rattachement)
            else:
                services.rattachement_refuse(
                    by=request.user, rattachement=rattachement, comment=form.cleaned_data["comment"]
                )
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            verb = "validée" if approve else "refusée"
            messages.success(
                request, f"La demande de {rattachement.user.full_name} est {verb} ; elle en est informée par courriel."
            )
            return redirect("portal:gestionnaire")
    context = _gestionnaire_context(request, "rattachements", None)
    context.update(title=f"Demande de {rattachement.user.full_name}", rattachement=rattachement, form=form)
    return render(request, "portal/structures/gestionnaire/rattachement.html", context)


@structure_view
def gestionnaire_subscriptions(request: HttpRequest) -> HttpResponse:
    structure = _managed_filter(request)
    pending = selectors.pending_subscriptions_for_manager(user=request.user, structure=structure)
    form, done = _bulk_decide(
        request,
        pending,
        lambda ids, approve, comment: services.subscriptions_decide(
            by=request.user, subscription_ids=ids, approve=approve, comment=comment
        ),
        what="d'abonnement",
    )
    if done:
        return redirect(request.get_full_path())
    context = _gestionnaire_context(request, "abonnements", structure)
    context.update(title="Demandes d'abonnement aux espaces", page_obj=_page(request, pending), form=form)
    return render(request, "portal/structures/gestionnaire/subscriptions.html", context)


@structure_view
def gestionnaire_users(request: HttpRequest) -> HttpResponse:
    structure = _managed_filter(request)
    page_obj = _page(request, selectors.rights_for_manager(user=request.user, structure=structure))
    rows = [{"rattachement": r, "rights": selectors.rights_of(r)} for r in page_obj.object_list]
    context = _gestionnaire_context(request, "utilisateurs", structure)
    context.update(
        title="Utilisateurs et droits",
        page_obj=page_obj,
        rows=rows,
        espace_labels=EspaceCode.choices,
    )
    return render(request, "portal/structures/gestionnaire/users.html", context)


@structure_view
def gestionnaire_rights(request: HttpRequest, rattachement_pk: int) -> HttpResponse:
    rattachement = selectors.rattachement_get_for_manager(user=request.user, rattachement_id=rattachement_pk)
    if rattachement.status != RattachementStatus.VALIDEE:
        raise Http404("Rattachement introuvable.")
    structure = rattachement.structure
    open_codes = [e.code for e in selectors.structure_espaces(structure=structure) if e.is_open]
    own = selectors.subscriptions_of(rattachement=rattachement)
    initial = {
        code: own[code].habilitation if code in own and own[code].status == "VALIDEE" else forms.NO_ACCESS
        for code in open_codes
    }
    form = forms.RightsForm(request.POST or None, initial=initial, codes=open_codes)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.rattachement_rights_set(
                by=request.user, rattachement=rattachement, rights=form.rights()
            )
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            if changes:
                messages.success(
                    request, f"Droits de {rattachement.user.full_name} enregistrés : " + " ; ".join(changes)
                )
            else:
                messages.info(request, "Aucun changement.")
            return redirect(f"{reverse('portal:gestionnaire_users')}?structure={structure.pk}")
    context = _gestionnaire_context(request, "utilisateurs", structure)
    context.update(title=f"Droits de {rattachement.user.full_name}", rattachement=rattachement, form=form)
    return render(request, "portal/structures/gestionnaire/rights.html", context)


@structure_view
def gestionnaire_history(request: HttpRequest) -> HttpResponse:
    structure = _managed_filter(request)
    context = _gestionnaire_context(request, "historique", structure)
    context.update(
        title="Historique des actions des gestionnaires",
        page_obj=_page(request, selectors.manager_actions_for_manager(user=request.user, structure=structure), 50),
    )
    return render(request, "portal/structures/gestionnaire/history.html", context)


class _Echo:
    def write(self, value):
        return value


@structure_view
def gestionnaire_export(request: HttpRequest) -> HttpResponse:
    """Users and rights of the managed structures, as CSV for French Excel: UTF-8 with BOM, `;`."""
    structure = _managed_filter(request)
    if not selectors.structures_managed_by(user=request.user).exists():
        raise PermissionDeniedError("Vous n'êtes gestionnaire d'aucune structure : il n'y a rien à exporter.")
    writer = csv.writer(_Echo(), delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")

    def rows():
        yield "\ufeff"
        for row in selectors.rights_export_rows(user=request.user, structure=structure):
            yield writer.writerow([csv_text(str(cell)) for cell in row])

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="utilisateurs-et-droits-{stamp}.csv"'
    return response
