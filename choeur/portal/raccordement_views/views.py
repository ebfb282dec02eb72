"""« Raccordement API »: gestionnaires create, list and revoke their structure's technical accounts and
OAuth2 clients. Secrets appear once, in the answer to the creation (never stored in the session, never
cached by the browser), and never again."""

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from choeur.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from choeur.directory.models import ApiClient, Structure, TechnicalAccount
from choeur.directory.raccordement import (
    RESET_PRINCIPAL_ONLY_MESSAGE,
    TECHNICAL_ACCOUNT_VALIDITY,
    api_client_create,
    api_client_revoke,
    api_client_status,
    api_clients_of,
    raccordement_structure_get,
    raccordement_structures,
    technical_account_create,
    technical_account_failures,
    technical_account_locked_for,
    technical_account_reset_password,
    technical_account_revoke,
    technical_account_status,
    technical_account_unlock,
    technical_accounts_of,
)
from choeur.directory.selectors import is_gestionnaire_principal
from choeur.portal.raccordement_views.forms import ApiClientForm

PER_PAGE = 20


def _page(request: HttpRequest, queryset):
    paginator = Paginator(queryset, PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    page_obj.pages_list = list(paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1))
    return page_obj


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _structure(request: HttpRequest, structure_id: int) -> Structure:
    try:
        return raccordement_structure_get(user=request.user, structure_id=structure_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from None


def _forbidden(request: HttpRequest, exc: PermissionDeniedError) -> HttpResponse:
    return render(
        request,
        "portal/raccordement/forbidden.html",
        {"title": "Accès refusé", "nav_section": "raccordement", "message": exc.message},
        status=403,
    )


def _context(request: HttpRequest, structure: Structure, tab: str, **extra) -> dict:
    return {
        "title": f"Raccordement API — {structure.designation}",
        "nav_section": "raccordement",
        "structure": structure,
        "tab": tab,
        "is_principal": is_gestionnaire_principal(user=request.user, structure=structure),
        **extra,
    }


@login_required
def raccordement(request: HttpRequest) -> HttpResponse:
    structures = raccordement_structures(user=request.user)
    if request.GET.get("page") is None and structures.count() == 1:
        return redirect("portal:raccordement_structure", structure_id=structures.get().pk)
    return render(
        request,
        "portal/raccordement/index.html",
        {"title": "Raccordement API", "nav_section": "raccordement", "page_obj": _page(request, structures)},
    )


@login_required
def raccordement_structure(request: HttpRequest, structure_id: int) -> HttpResponse:
    try:
        structure = _structure(request, structure_id)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    page_obj = _page(request, technical_accounts_of(structure))
    rows = [(account, technical_account_status(account), _lock(account)) for account in page_obj]
    return render(
        request,
        "portal/raccordement/technical_accounts.html",
        _context(
            request, structure, "comptes", page_obj=page_obj, rows=rows, validity_days=TECHNICAL_ACCOUNT_VALIDITY.days
        ),
    )


@login_required
def raccordement_api_clients(request: HttpRequest, structure_id: int) -> HttpResponse:
    try:
        structure = _structure(request, structure_id)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    page_obj = _page(request, api_clients_of(structure))
    rows = [(client, api_client_status(client)) for client in page_obj]
    return render(
        request,
        "portal/raccordement/api_clients.html",
        _context(request, structure, "clients", page_obj=page_obj, rows=rows, form=ApiClientForm()),
    )


@login_required
@require_POST
def technical_account_create_view(request: HttpRequest, structure_id: int) -> HttpResponse:
    try:
        structure = _structure(request, structure_id)
        issued = technical_account_create(structure=structure, by=request.user)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal:raccordement_structure", structure_id=structure_id)
    return _no_store(
        render(
            request,
            "portal/raccordement/secret.html",
            _context(
                request,
                structure,
                "comptes",
                kind="technical_account",
                account=issued.account,
                secret=issued.password,
                cpro_account=_cpro_account_header(issued.account.login, issued.password),
                heading="Compte technique créé",
            ),
        )
    )


def _cpro_account_header(login: str, password: str) -> str:
    """The `cpro-account` header value, shown with the password so integrators can paste it."""
    return base64.b64encode(f"{login}:{password}".encode()).decode()


def _confirm_or_run(request, structure, *, template, obj, action, on_done, tab, **extra):
    """GET shows a confirmation page (real form, keyboard-usable); POST runs `action`."""
    if request.method != "POST":
        return render(request, template, _context(request, structure, tab, obj=obj, **extra))
    try:
        return action()
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(on_done, structure_id=structure.pk)


def _lock(account: TechnicalAccount) -> dict | None:
    """What the list shows of an account closed by bad passwords: the failures and the minutes left."""
    if account.revoked_at is not None:
        return None
    seconds = technical_account_locked_for(account)
    if seconds is None:
        return None
    return {"failures": technical_account_failures(account), "minutes": max(1, -(-seconds // 60))}


@login_required
@require_POST
def technical_account_unlock_view(request: HttpRequest, structure_id: int, account_id: int) -> HttpResponse:
    try:
        structure = _structure(request, structure_id)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    account = get_object_or_404(
        TechnicalAccount.objects.select_related("structure"), pk=account_id, structure=structure
    )
    try:
        technical_account_unlock(account=account, by=request.user)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Le compte technique {account.login} est déverrouillé : ses appels sont de nouveau acceptés. Vérifiez "
            "que le logiciel qui l'utilise a le bon mot de passe, sinon il sera de nouveau verrouillé.",
        )
    return redirect("portal:raccordement_structure", structure_id=structure.pk)


@login_required
def technical_account_revoke_view(request: HttpRequest, structure_id: int, account_id: int) -> HttpResponse:
    try:
        structure = _structure(request, structure_id)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    account = get_object_or_404(TechnicalAccount, pk=account_id, structure=structure)

    def revoke():
        technical_account_revoke(account=account, by=request.user)
        messages.success(request, f"Le compte technique {account.login} est révoqué : il ne peut plus appeler l'API.")
        return redirect("portal:raccordement_structure", structure_id=structure.pk)

    return _confirm_or_run(
        request,
        structure,
        template="portal/raccordement/confirm_revoke.html",
        obj=account,
        action=revoke,
        on_done="portal:raccordement_structure",
        tab="comptes",
        what=f"le compte technique {account.login}",
        cancel_url_name="portal:raccordement_structure",
    )


@login_required
def technical_account_reset_view(request: HttpRequest, structure_id: int, account_id: int) -> HttpResponse:
    try:
        structure = _structure(request, structure_id)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    account = get_object_or_404(TechnicalAccount, pk=account_id, structure=structure)
    if not is_gestionnaire_principal(user=request.user, structure=structure):
        return _forbidden(
            request,
            PermissionDeniedError(RESET_PRINCIPAL_ONLY_MESSAGE),
        )

    def reset():
        issued = technical_account_reset_password(account=account, by=request.user)
        return _no_store(
            render(
                request,
                "portal/raccordement/secret.html",
                _context(
                    request,
                    structure,
                    "comptes",
                    kind="technical_account",
                    account=issued.account,
                    secret=issued.password,
                    cpro_account=_cpro_account_header(issued.account.login, issued.password),
                    heading="Mot de passe du compte technique réinitialisé",
                ),
            )
        )

    return _confirm_or_run(
        request,
        structure,
        template="portal/raccordement/confirm_reset.html",
        obj=account,
        action=reset,
        on_done="portal:raccordement_structure",
        tab="comptes",
        validity_days=TECHNICAL_ACCOUNT_VALIDITY.days,
    )


@login_required
@require_POST
def api_client_create_view(request: HttpRequest, structure_id: int) -> HttpResponse:
    try:
        structure = _structure(request, structure_id)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    form = ApiClientForm(request.POST)
    if form.is_valid():
        try:
            issued = api_client_create(structure=structure, by=request.user, label=form.cleaned_data["label"])
        except PermissionDeniedError as exc:
            return _forbidden(request, exc)
        except ApplicationError as exc:
            form.apply_application_error(exc)
        else:
            return _no_store(
                render(
                    request,
                    "portal/raccordement/secret.html",
                    _context(
                        request,
                        structure,
                        "clients",
                        kind="api_client",
                        client=issued.client,
                        client_id=issued.client_id,
                        secret=issued.client_secret,
                        heading="Client API créé",
                    ),
                )
            )
    page_obj = _page(request, api_clients_of(structure))
    rows = [(client, api_client_status(client)) for client in page_obj]
    return render(
        request,
        "portal/raccordement/api_clients.html",
        _context(request, structure, "clients", page_obj=page_obj, rows=rows, form=form),
        status=400,
    )


@login_required
def api_client_revoke_view(request: HttpRequest, structure_id: int, client_id: int) -> HttpResponse:
    try:
        structure = _structure(request, structure_id)
    except PermissionDeniedError as exc:
        return _forbidden(request, exc)
    client = get_object_or_404(ApiClient.objects.select_related("application"), pk=client_id, structure=structure)

    def revoke():
        api_client_revoke(client=client, by=request.user)
        messages.success(
            request, f"Le client API « {client.label} » est révoqué : ses jetons en cours ne sont plus acceptés."
        )
        return redirect("portal:raccordement_api_clients", structure_id=structure.pk)

    return _confirm_or_run(
        request,
        structure,
        template="portal/raccordement/confirm_revoke.html",
        obj=client,
        action=revoke,
        on_done="portal:raccordement_api_clients",
        tab="clients",
        what=f"le client API « {client.label} » ({client.application.client_id})",
        cancel_url_name="portal:raccordement_api_clients",
    )
