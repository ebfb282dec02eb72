"""Login, lock-out, TOTP second step, logout and password reset."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from choeur.core.models import AuditEntry
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/connexion/"
NEW_PASSWORD = "Une phrase de passe bien longue 2026"


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _login(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN, {"username": email, "password": password, **extra})


def test_login_page_is_french(client):
    content = client.get(reverse("portal:login")).content.decode()
    assert "Connexion à Chœur" in content
    assert "Adresse électronique" in content and "Mot de passe oublié" in content


def test_login_with_the_right_password_logs_in_and_follows_next(client):
    user = UserFactory(email="agent@exemple.fr")
    response = _login(client, "AGENT@exemple.fr", next="/mon-compte/")
    assert response.status_code == 302
    assert response["Location"] == "/mon-compte/"
    assert client.get("/mon-compte/").wsgi_request.user == user


def test_login_with_a_wrong_password_shows_a_french_error(client):
    UserFactory(email="agent@exemple.fr")
    response = _login(client, "agent@exemple.fr", "mauvais mot de passe")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Adresse électronique ou mot de passe incorrect" in content
    assert f"après {settings.AXES_FAILURE_LIMIT} essais infructueux" in content
    assert not response.wsgi_request.user.is_authenticated


def test_login_of_an_account_never_activated_says_to_activate(client):
    UserFactory(email="nouveau@exemple.fr", inactive=True, password=None)
    user = UserFactory._meta.model.objects.get(email="nouveau@exemple.fr")
    user.set_unusable_password()
    user.save()
    content = _login(client, "nouveau@exemple.fr", "peu importe").content.decode()
    assert "Votre compte n&#x27;est pas encore activé" in content
    assert reverse("portal:activation_resend") in content


def test_lockout_after_the_failure_limit_even_with_the_right_password(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(email="cible@exemple.fr")
    for _ in range(4):
        assert _login(client, "cible@exemple.fr", "essai erroné").status_code == 200
    fifth = _login(client, "Cible@exemple.fr", "essai erroné")
    assert fifth.status_code == 429
    content = fifth.content.decode()
    assert "Compte temporairement bloqué" in content
    assert "15 minutes" in content
    assert reverse("portal:password_reset") in content

    locked = _login(client, "cible@exemple.fr", DEFAULT_PASSWORD)
    assert locked.status_code == 429
    assert not locked.wsgi_request.user.is_authenticated


def test_password_reset_sends_a_french_link_and_unlocks(client, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://choeur.exemple.gouv.fr"
    user = UserFactory(email="oubli@exemple.fr")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "oubli@exemple.fr", "essai erroné")
    assert _login(client, "oubli@exemple.fr", DEFAULT_PASSWORD).status_code == 429

    response = client.post(reverse("portal:password_reset"), {"email": "oubli@exemple.fr"})
    assert response["Location"] == reverse("portal:password_reset_done")
    message = mail.outbox[-1]
    assert message.subject == "Réinitialisation de votre mot de passe Chœur"
    assert "valable 60 minutes" in message.body
    link = re.search(r"https://choeur\.exemple\.gouv\.fr(/mot-de-passe-oublie/\S+/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choisir un nouveau mot de passe" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]
    weak = client.post(set_password_url, {"new_password1": "court", "new_password2": "court"})
    assert "minimum 12 caractères" in weak.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == reverse("portal:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="accounts.user.password_changed", data__reason="reset").exists()
    # Unlocked: the new password works at once.
    assert _login(client, "oubli@exemple.fr", NEW_PASSWORD).status_code == 302


def test_logout_is_a_post(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("portal:logout"))
    assert response.status_code == 302
    assert not client.get("/").wsgi_request.user.is_authenticated


# --- TOTP second step --------------------------------------------------------------------------------


@pytest.fixture
def user_with_totp():
    user = UserFactory(email="double@exemple.fr")
    device = TOTPDevice.objects.create(user=user, name="Application", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Secours", confirmed=True)
    StaticToken.objects.create(device=static, token="secours123")
    return user, device


def test_login_with_a_device_asks_for_the_code_before_logging_in(client, user_with_totp):
    user, device = user_with_totp
    response = _login(client, "double@exemple.fr", next="/mon-compte/")
    assert response["Location"] == reverse("portal:login_verify")
    # Not logged in yet.
    assert not client.get("/").wsgi_request.user.is_authenticated
    assert client.get("/mon-compte/")["Location"].startswith(reverse("portal:login"))

    page = client.get(reverse("portal:login_verify")).content.decode()
    assert "Vérification en deux étapes" in page
    wrong = f"{(int(_code(device)) + 1) % 1_000_000:06d}"
    bad = client.post(reverse("portal:login_verify"), {"code": wrong})
    assert "Ce code est incorrect ou a expiré" in bad.content.decode()
    assert not bad.wsgi_request.user.is_authenticated

    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        ok = client.post(reverse("portal:login_verify"), {"code": _code(device)})
        assert ok["Location"] == "/mon-compte/"
        request = client.get("/mon-compte/").wsgi_request
    assert request.user == user
    assert request.user.is_verified()


def test_backup_code_completes_the_login_and_warns(client, user_with_totp):
    _login(client, "double@exemple.fr")
    response = client.post(reverse("portal:login_verify"), {"code": "SECOURS 123"}, follow=True)
    content = response.content.decode()
    assert response.wsgi_request.user.is_verified()
    assert "code de secours ; il vous en reste 0" in content


def test_the_code_step_expires(client, user_with_totp):
    _, device = user_with_totp
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _login(client, "double@exemple.fr")
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        response = client.post(reverse("portal:login_verify"), {"code": _code(device)})
    assert response["Location"] == reverse("portal:login")
    assert not client.get("/").wsgi_request.user.is_authenticated


def test_code_step_without_a_pending_login_goes_back_to_login(client):
    response = client.get(reverse("portal:login_verify"))
    assert response["Location"] == reverse("portal:login")
