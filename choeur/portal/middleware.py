"""Portal-wide guards."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect
from django_otp import user_has_device

from choeur.directory.models import Rattachement

# Pages a gestionnaire must still reach while their second factor is missing or unverified.
EXEMPT_URL_NAMES = ("portal:two_factor_enrol", "portal:login_verify", "portal:logout")


def user_must_use_2fa(user) -> bool:
    """True when the platform requires 2FA for gestionnaires and `user` is one (validated GP or GS)."""
    if not settings.CHOEUR_REQUIRE_2FA_FOR_GESTIONNAIRES or not user.is_authenticated:
        return False
    return Rattachement.objects.gestionnaires().filter(user=user).exists()


class SecondFactorMiddleware:
    """Sends gestionnaires without a verified second factor to enrolment (or to the code step).

    Gestionnaires validate rattachements and change bank details: a stolen password alone must not
    be enough for that, when the platform turns `CHOEUR_REQUIRE_2FA_FOR_GESTIONNAIRES` on. Placed after
    django-otp's middleware, which gives `request.user.is_verified()`.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt_paths: tuple[str, ...] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        redirect_to = self._redirect_for(request)
        if redirect_to is not None:
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(redirect_to)
            return HttpResponseRedirect(redirect_to)
        return self.get_response(request)

    def _redirect_for(self, request: HttpRequest) -> str | None:
        if not settings.CHOEUR_REQUIRE_2FA_FOR_GESTIONNAIRES:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if getattr(user, "is_verified", None) is not None and user.is_verified():
            return None
        if self._is_exempt(request.path):
            return None
        if not user_must_use_2fa(user):
            return None
        next_qs = urlencode({"next": request.get_full_path()})
        if user_has_device(user, confirmed=True):
            return f"{reverse('portal:login_verify')}?{next_qs}"
        return reverse("portal:two_factor_enrol")

    def _is_exempt(self, path: str) -> bool:
        if self._exempt_paths is None:
            self._exempt_paths = tuple(reverse(name) for name in EXEMPT_URL_NAMES)
        if path in self._exempt_paths:
            return True
        static_url = settings.STATIC_URL or "/static/"
        return path.startswith(static_url if static_url.startswith("/") else f"/{static_url}")
