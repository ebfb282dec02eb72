"""Re-authentication before sensitive actions: `reauth_required`, `reauth_is_fresh`, the `portal:reauth` page."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from choeur.portal.accounts_views.reauth import reauth_is_fresh, reauth_mark, reauth_required
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@reauth_required
def sensitive_view(request):
    return HttpResponse("coordonnées bancaires")


def _request(user, path="/structures/1/banque/?onglet=iban"):
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore()
    return request


def test_fresh_only_after_marking_and_for_the_configured_time(settings):
    settings.CHOEUR_REAUTH_SECONDS = 300
    request = _request(UserFactory())
    assert not reauth_is_fresh(request)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        reauth_mark(request)
        assert reauth_is_fresh(request)
    with time_machine.travel(start + timedelta(seconds=299), tick=False):
        assert reauth_is_fresh(request)
    with time_machine.travel(start + timedelta(seconds=301), tick=False):
        assert not reauth_is_fresh(request)


def test_anonymous_is_never_fresh():
    request = _request(AnonymousUser())
    request.session["choeur_reauth_at"] = timezone.now().timestamp()
    assert not reauth_is_fresh(request)


def test_decorator_redirects_to_reauth_with_next_then_lets_through():
    request = _request(UserFactory())
    response = sensitive_view(request)
    assert response.status_code == 302
    assert response["Location"] == (f"{reverse('portal:reauth')}?next=%2Fstructures%2F1%2Fbanque%2F%3Fonglet%3Diban")
    reauth_mark(request)
    assert sensitive_view(request).content.decode() == "coordonnées bancaires"


def test_decorator_sends_anonymous_users_to_login():
    response = sensitive_view(_request(AnonymousUser()))
    assert response["Location"].startswith(reverse("portal:login"))


def test_reauth_page_checks_the_password_and_goes_to_next(client):
    user = UserFactory()
    client.force_login(user)
    url = f"{reverse('portal:reauth')}?next=/mon-compte/"
    page = client.get(url).content.decode()
    assert "Confirmer votre identité" in page
    assert 'name="code"' not in page

    wrong = client.post(url, {"password": "pas le bon", "next": "/mon-compte/"})
    assert "Mot de passe incorrect" in wrong.content.decode()
    assert not reauth_is_fresh(wrong.wsgi_request)

    ok = client.post(url, {"password": DEFAULT_PASSWORD, "next": "/mon-compte/"})
    assert ok["Location"] == "/mon-compte/"
    assert reauth_is_fresh(ok.wsgi_request)


def test_reauth_refuses_an_external_next(client):
    client.force_login(UserFactory())
    response = client.post(reverse("portal:reauth"), {"password": DEFAULT_PASSWORD, "next": "https://pirate.example/"})
    assert response["Location"] == reverse("portal:profile")


def test_reauth_asks_for_the_code_when_the_user_has_a_device(client):
    user = UserFactory()
    device = TOTPDevice.objects.create(user=user, confirmed=True)
    client.force_login(user)
    url = reverse("portal:reauth")
    missing = client.post(url, {"password": DEFAULT_PASSWORD})
    assert "Saisissez le code affiché par votre application." in missing.content.decode()
    assert not reauth_is_fresh(missing.wsgi_request)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    ok = client.post(url, {"password": DEFAULT_PASSWORD, "code": code})
    assert ok.status_code == 302
    assert reauth_is_fresh(ok.wsgi_request)
