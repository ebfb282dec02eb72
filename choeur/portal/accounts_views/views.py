"""Account pages: registration and activation, login (with the TOTP step), password, profile, 2FA, re-auth.

Thin views: rules live in `choeur.accounts.services`; views map `ApplicationError` onto form errors.
"""

from __future__ import annotations

import base64
import time
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from choeur.accounts import services
from choeur.accounts.models import User
from choeur.core.errors import ApplicationError
from choeur.portal.accounts_views import forms
from choeur.portal.accounts_views.reauth import reauth_mark
from choeur.portal.middleware import user_must_use_2fa

# Between the password and the TOTP code, the session remembers who is logging in, briefly.
PENDING_2FA_SESSION_KEY = "choeur_2fa_pending"
PENDING_2FA_SECONDS = 5 * 60
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
RATTACHEMENTS_PER_PAGE = 20


def _safe_next(request: HttpRequest, default: str) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return default


def _no_store(response: HttpResponse) -> HttpResponse:
    # Pages showing secrets (TOTP key, backup codes) must not stay in the browser's cache.
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------------
# Registration and activation
# ---------------------------------------------------------------------------------------------------


def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:profile")
    form = forms.RegisterForm(request.POST or None)
    email_taken = False
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_register(**form.cleaned_data)
        except ApplicationError as exc:
            email_taken = exc.code == "email_deja_inscrit"
            forms.apply_application_error(form, exc)
        else:
            request.session["choeur_registered_email"] = user.email
            return redirect("portal:register_done")
    return render(
        request,
        "portal/accounts/register.html",
        {"title": "Créer un compte", "form": form, "email_taken": email_taken},
    )


def register_done(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/accounts/register_done.html",
        {
            "title": "Vérifiez votre messagerie",
            "email": request.session.get("choeur_registered_email", ""),
            "minutes": settings.CHOEUR_ACTIVATION_TIMEOUT_SECONDS // 60,
        },
    )


@never_cache
def activate(request: HttpRequest, token: str) -> HttpResponse:
    try:
        activation = services.activation_check(token=token)
    except ApplicationError as exc:
        return _activation_refused(request, exc)
    form = forms.ChoosePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_activate(token=token, password=form.cleaned_data["password1"])
        except ApplicationError as exc:
            if exc.code.startswith("activation_"):
                return _activation_refused(request, exc)
            forms.apply_application_error(form, exc)
        else:
            auth_login(request, user, backend=MODEL_BACKEND)
            messages.success(request, "Votre compte est activé et vous êtes connecté.")
            return redirect("portal:welcome")
    return render(
        request,
        "portal/accounts/activate.html",
        {"title": "Choisir votre mot de passe", "form": form, "account_email": activation.user.email},
    )


def _activation_refused(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    titles = {
        "activation_expiree": "Lien d'activation expiré",
        "activation_utilisee": "Lien d'activation déjà utilisé",
        "activation_inconnue": "Lien d'activation inconnu",
    }
    status = 404 if error.code == "activation_inconnue" else 410
    return render(
        request,
        "portal/accounts/activation_refused.html",
        {
            "title": titles.get(error.code, "Lien d'activation refusé"),
            "error": error,
            "resend_form": forms.EmailForm() if error.code != "activation_utilisee" else None,
        },
        status=status,
    )


def activation_resend(request: HttpRequest) -> HttpResponse:
    form = forms.EmailForm(request.POST or None)
    sent_to = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.activation_resend(email=form.cleaned_data["email"])
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            sent_to = form.cleaned_data["email"]
    return render(
        request,
        "portal/accounts/activation_resend.html",
        {
            "title": "Recevoir un nouveau lien d'activation",
            "form": form,
            "sent_to": sent_to,
            "minutes": settings.CHOEUR_ACTIVATION_TIMEOUT_SECONDS // 60,
        },
    )


@login_required
def welcome(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/accounts/welcome.html", {"title": "Bienvenue"})


# ---------------------------------------------------------------------------------------------------
# Login, second factor, logout
# ---------------------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "portal/accounts/login.html"
    authentication_form = forms.LoginForm
    redirect_authenticated_user = True
    extra_context = {"title": "Connexion"}

    def form_valid(self, form):
        user = form.get_user()
        if services.otp_has_device(user=user):
            # Password right, but not logged in yet: the TOTP step finishes the job.
            self.request.session[PENDING_2FA_SESSION_KEY] = {
                "user_id": user.pk,
                "backend": user.backend,
                "at": time.time(),
                "next": self.get_success_url(),
            }
            return redirect("portal:login_verify")
        return super().form_valid(form)


login = LoginView.as_view()


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "Vous êtes déconnecté.")
        return response


logout = LogoutView.as_view()


@never_cache
def login_verify(request: HttpRequest) -> HttpResponse:
    """The code step: finishes a pending login, or verifies an already logged-in session."""
    pending = request.session.get(PENDING_2FA_SESSION_KEY)
    if request.user.is_authenticated:
        user = request.user
        next_url = _safe_next(request, reverse(settings.LOGIN_REDIRECT_URL))
        if user.is_verified():
            return redirect(next_url)
        if not services.otp_has_device(user=user):
            return redirect("portal:two_factor_enrol")
    else:
        fresh = isinstance(pending, dict) and 0 <= time.time() - pending.get("at", 0) <= PENDING_2FA_SECONDS
        user = User.objects.filter(pk=pending.get("user_id"), is_active=True).first() if fresh else None
        if user is None:
            request.session.pop(PENDING_2FA_SESSION_KEY, None)
            messages.warning(
                request,
                "Votre identification a expiré : le code doit être saisi dans les 5 minutes. "
                "Identifiez-vous à nouveau.",
            )
            return redirect("portal:login")
        next_url = pending.get("next") or reverse(settings.LOGIN_REDIRECT_URL)

    form = forms.OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = services.otp_code_check(user=user, code=form.cleaned_data["code"])
        if check.device is not None:
            if not request.user.is_authenticated:
                request.session.pop(PENDING_2FA_SESSION_KEY, None)
                auth_login(request, user, backend=pending["backend"])
            otp_login(request, check.device)
            if isinstance(check.device, StaticDevice):
                left = StaticToken.objects.filter(device__user=user).count()
                messages.warning(
                    request,
                    f"Vous vous êtes connecté avec un code de secours ; il vous en reste {left}. "
                    "Générez-en de nouveaux dans « Mon compte » si besoin.",
                )
            return redirect(next_url)
        form.add_error("code", check.message)
    return render(
        request,
        "portal/accounts/login_verify.html",
        {"title": "Vérification en deux étapes", "form": form, "next": next_url},
    )


# ---------------------------------------------------------------------------------------------------
# Password reset (Django's views, French templates and e-mail)
# ---------------------------------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/accounts/password_reset.html"
    form_class = forms.ResetRequestForm
    email_template_name = "accounts/emails/password_reset.txt"
    subject_template_name = "accounts/emails/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")
    extra_context = {"title": "Mot de passe oublié"}

    @property
    def extra_email_context(self):
        # Links are built on SITE_URL, never on the Host header an attacker could forge.
        return {
            "site_url": settings.SITE_URL.rstrip("/"),
            "site_name": "Chœur",
            "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        }


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/accounts/password_reset_done.html"
    extra_context = {"title": "Courriel envoyé"}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "minutes": settings.PASSWORD_RESET_TIMEOUT // 60}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/accounts/password_reset_confirm.html"
    form_class = forms.ResetPasswordForm
    success_url = reverse_lazy("portal:password_reset_complete")
    extra_context = {"title": "Choisir un nouveau mot de passe"}


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/accounts/password_reset_complete.html"
    extra_context = {"title": "Mot de passe modifié"}


password_reset = PasswordResetView.as_view()
password_reset_done = PasswordResetDoneView.as_view()
password_reset_confirm = PasswordResetConfirmView.as_view()
password_reset_complete = PasswordResetCompleteView.as_view()


# ---------------------------------------------------------------------------------------------------
# Profile and password change
# ---------------------------------------------------------------------------------------------------


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "contact_email": user.contact_email,
    }
    form = forms.ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(user=user, **form.cleaned_data)
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            messages.success(request, "Vos informations ont été enregistrées.")
            return redirect("portal:profile")
    # Read-only here: requests and decisions are made from the structures pages.
    rattachements = user.rattachements.select_related("structure").order_by("structure__raison_sociale", "pk")
    page_obj = Paginator(rattachements, RATTACHEMENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/accounts/profile.html",
        {
            "title": "Mon compte",
            "form": form,
            "page_obj": page_obj,
            "has_2fa": services.otp_has_device(user=user),
        },
    )


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = forms.PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_change_password(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            # Keeps this session open; the other sessions of the user are closed by the new hash.
            update_session_auth_hash(request, user)
            messages.success(request, "Votre mot de passe a été modifié.")
            return redirect("portal:profile")
    return render(request, "portal/accounts/password_change.html", {"title": "Changer mon mot de passe", "form": form})


# ---------------------------------------------------------------------------------------------------
# Two-factor authentication
# ---------------------------------------------------------------------------------------------------


def _qr_data_uri(text: str) -> str:
    # SVG with a white background so it stays scannable in the DSFR dark theme; CSP allows data: images.
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=4)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _secret_for_humans(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "portal/accounts/two_factor.html",
        {
            "title": "Double authentification",
            "has_2fa": services.otp_has_device(user=user),
            "backup_codes_left": StaticToken.objects.filter(device__user=user).count(),
            "required": user_must_use_2fa(user),
            "code_form": forms.OtpCodeForm(),
        },
    )


@login_required
@never_cache
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    if services.otp_has_device(user=user):
        if not user.is_verified():
            return redirect(f"{reverse('portal:login_verify')}?next={request.path}")
        messages.info(request, "La double authentification est déjà activée sur votre compte.")
        return redirect("portal:two_factor")
    device = services.totp_device_start(user=user)
    form = forms.OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_device_confirm(user=user, device=device, code=form.cleaned_data["code"])
        except ApplicationError as exc:
            forms.apply_application_error(form, exc)
        else:
            # The code just typed proves the second factor for this session too.
            otp_login(request, device)
            messages.success(request, "La double authentification est activée.")
            return _backup_codes_page(request, codes)
    return _no_store(
        render(
            request,
            "portal/accounts/two_factor_enrol.html",
            {
                "title": "Activer la double authentification",
                "form": form,
                "qr_data_uri": _qr_data_uri(device.config_url),
                "secret": _secret_for_humans(device),
                "required": user_must_use_2fa(user),
            },
        )
    )


def _backup_codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    # Rendered in the POST response itself, never stored: the codes are shown this once only.
    return _no_store(
        render(
            request, "portal/accounts/two_factor_backup_codes.html", {"title": "Vos codes de secours", "codes": codes}
        )
    )


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = forms.OtpCodeForm(request.POST)
    if form.is_valid():
        try:
            services.otp_disable(user=request.user, code=form.cleaned_data["code"])
        except ApplicationError as exc:
            messages.error(request, f"Double authentification non désactivée : {exc.message}")
        else:
            messages.success(request, "La double authentification est désactivée.")
    else:
        messages.error(request, "Saisissez un code de vérification pour désactiver la double authentification.")
    return redirect("portal:two_factor")


@login_required
@require_POST
def two_factor_backup_codes(request: HttpRequest) -> HttpResponse:
    form = forms.OtpCodeForm(request.POST)
    if form.is_valid():
        try:
            codes = services.backup_codes_regenerate(user=request.user, code=form.cleaned_data["code"])
        except ApplicationError as exc:
            messages.error(request, f"Codes de secours non renouvelés : {exc.message}")
        else:
            return _backup_codes_page(request, codes)
    else:
        messages.error(request, "Saisissez un code de vérification pour renouveler vos codes de secours.")
    return redirect("portal:two_factor")


# ---------------------------------------------------------------------------------------------------
# Re-authentication for sensitive actions
# ---------------------------------------------------------------------------------------------------


@login_required
@never_cache
def reauth(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = _safe_next(request, reverse("portal:profile"))
    needs_code = services.otp_has_device(user=user)
    form = forms.ReauthForm(request.POST or None, needs_code=needs_code)
    if request.method == "POST" and form.is_valid():
        # Through authenticate() so that django-axes counts wrong passwords here as at login.
        checked = authenticate(request, username=user.email, password=form.cleaned_data["password"])
        if checked is None or checked.pk != user.pk:
            form.add_error("password", "Mot de passe incorrect : saisissez à nouveau votre mot de passe actuel.")
        elif needs_code:
            check = services.otp_code_check(user=user, code=form.cleaned_data["code"])
            if check.device is None:
                form.add_error("code", check.message)
        if not form.errors:
            reauth_mark(request)
            return redirect(next_url)
    return render(
        request,
        "portal/accounts/reauth.html",
        {
            "title": "Confirmer votre identité",
            "form": form,
            "next": next_url,
            "minutes": max(1, settings.CHOEUR_REAUTH_SECONDS // 60),
        },
    )
