"""Re-authentication for sensitive actions (bank details, security settings).

A recent login is not enough proof for actions that divert money or weaken an account: the person at
the keyboard must type their password again (and their TOTP code when they have a device). The moment
they did so is kept in the session; it stays valid `settings.CHOEUR_REAUTH_SECONDS`.
"""

from __future__ import annotations

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

REAUTH_SESSION_KEY = "choeur_reauth_at"


def reauth_mark(request: HttpRequest) -> None:
    """Record that the user has just proved their identity again."""
    request.session[REAUTH_SESSION_KEY] = time.time()


def reauth_is_fresh(request: HttpRequest) -> bool:
    """True when the user re-authenticated less than `CHOEUR_REAUTH_SECONDS` ago in this session."""
    if not request.user.is_authenticated:
        return False
    at = request.session.get(REAUTH_SESSION_KEY)
    if not isinstance(at, (int, float)):
        return False
    age = time.time() - at
    # A timestamp in the future (clock moved back) is not trusted either.
    return 0 <= age <= settings.CHOEUR_REAUTH_SECONDS


def reauth_url(next_url: str) -> str:
    """The re-authentication page, coming back to `next_url` afterwards."""
    return f"{reverse('portal:reauth')}?{urlencode({'next': next_url})}"


def reauth_required(view_func):
    """Decorator: send the user to `portal:reauth` unless they re-authenticated recently.

    Anonymous users go to the login page. For a POST, the user comes back to the same URL by GET
    (the form is shown again, nothing is lost but the unsent input).
    """

    @wraps(view_func)
    def _wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not reauth_is_fresh(request):
            return redirect(reauth_url(request.get_full_path()))
        return view_func(request, *args, **kwargs)

    return _wrapped
