"""Suppliers acknowledge rejections: after 7 days it is mandatory (chorus-pro.md §6.2).

Chorus Pro shows a pop-up at login for rejected and suspended invoices; a week later the supplier cannot
go on without acknowledging them. This middleware sends such a person to « Rejets à traiter » from any
portal page until they have done so. The check is cached in the session for a few minutes, so that it
costs nothing on most requests; acknowledging clears the cache.

Place after AuthenticationMiddleware (and after SecondFactorMiddleware):
    "choeur.portal.lifecycle_views.middleware.RejectionAcknowledgementMiddleware",
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from choeur.invoices.lifecycle import user_blocked_by_rejections

SESSION_KEY = "choeur_rejets_bloquants"
RECHECK_SECONDS = 300
# Pages a blocked supplier must still reach: the acknowledgement page itself and the way out.
EXEMPT_URL_NAMES = ("portal:rejections_pending", "portal:logout", "portal:login", "portal:login_verify")
# Machine doors and files are not portal pages (the API has its own authentication).
EXEMPT_PREFIXES = ("/api/", "/cpro/", "/oauth/", "/admin/")


def forget_block(request: HttpRequest) -> None:
    """Drop the cached check (after an acknowledgement)."""
    if hasattr(request, "session"):
        request.session.pop(SESSION_KEY, None)


def _blocked(request: HttpRequest) -> bool:
    cached = request.session.get(SESSION_KEY)
    now = time.time()
    if cached and cached.get("user") == request.user.pk and now - cached.get("at", 0) < RECHECK_SECONDS:
        return bool(cached.get("blocked"))
    blocked = user_blocked_by_rejections(user=request.user)
    request.session[SESSION_KEY] = {"user": request.user.pk, "at": now, "blocked": blocked}
    return blocked


class RejectionAcknowledgementMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt_paths: tuple[str, ...] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not self._is_exempt(request.path) and _blocked(request):
            target = reverse("portal:rejections_pending")
            if request.method == "GET" and not getattr(request, "htmx", False):
                target = f"{target}?{urlencode({'next': request.get_full_path()})}"
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(target)
            return HttpResponseRedirect(target)
        return self.get_response(request)

    def _is_exempt(self, path: str) -> bool:
        if self._exempt_paths is None:
            self._exempt_paths = tuple(reverse(name) for name in EXEMPT_URL_NAMES)
        if path in self._exempt_paths or path.startswith(EXEMPT_PREFIXES):
            return True
        # Static files only: MEDIA_URL defaults to "/" (documents go through the portal's own views anyway).
        static_url = settings.STATIC_URL or "/static/"
        return path.startswith(static_url if static_url.startswith("/") else f"/{static_url}")
