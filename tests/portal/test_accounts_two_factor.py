"""2FA pages and the gestionnaire 2FA requirement (SecondFactorMiddleware)."""

import base64
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.factories import UserFactory
from tests.directory.factories import RattachementFactory

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _wrong(device: TOTPDevice) -> str:
    return f"{(int(_code(device)) + 1) % 1_000_000:06d}"


def test_enrolment_shows_qr_and_secret_then_backup_codes_once(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get(reverse("portal:two_factor_enrol"))
    content = page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert 'src="data:image/svg+xml;base64,' in content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = base64.b32encode(device.bin_key).decode()
    shown = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', content).group(1)
    assert shown.replace(" ", "") == secret

    bad = client.post(reverse("portal:two_factor_enrol"), {"code": _wrong(device)})
    assert "Ce code est incorrect" in bad.content.decode()
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        done = client.post(reverse("portal:two_factor_enrol"), {"code": _code(device)})
    content = done.content.decode()
    assert "Vos codes de secours" in content and "ne seront plus jamais affichés" in content
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", content)
    assert len(codes) == 10
    assert set(codes) == set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    device.refresh_from_db()
    assert device.confirmed
    # The enrolling session counts as verified.
    status = client.get(reverse("portal:two_factor"))
    assert status.wsgi_request.user.is_verified()
    assert "Codes de secours restants : 10" in status.content.decode()
    assert client.get(reverse("portal:two_factor_enrol"))["Location"] == reverse("portal:two_factor")


def test_disable_needs_a_code(client):
    user = UserFactory()
    device = TOTPDevice.objects.create(user=user, confirmed=True)
    client.force_login(user)
    refused = client.post(reverse("portal:two_factor_disable"), {"code": _wrong(device)}, follow=True)
    assert "Double authentification non désactivée" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False):
        done = client.post(reverse("portal:two_factor_disable"), {"code": _code(device)}, follow=True)
    assert "La double authentification est désactivée" in done.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()


# --- Gestionnaires must use 2FA when the platform says so --------------------------------------------


@pytest.fixture
def require_2fa(settings):
    settings.CHOEUR_REQUIRE_2FA_FOR_GESTIONNAIRES = True


def test_gestionnaire_without_device_is_sent_to_enrolment(client, require_2fa):
    rattachement = RattachementFactory(gp=True)
    client.force_login(rattachement.user)
    response = client.get(reverse("portal:profile"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:two_factor_enrol")
    enrol = client.get(reverse("portal:two_factor_enrol"))
    assert enrol.status_code == 200
    assert "la plateforme exige la double authentification" in enrol.content.decode()
    # Logging out stays possible.
    assert client.post(reverse("portal:logout")).status_code == 302


def test_gestionnaire_with_device_but_unverified_session_is_sent_to_the_code_step(client, require_2fa):
    rattachement = RattachementFactory(gs=True)
    device = TOTPDevice.objects.create(user=rattachement.user, confirmed=True)
    client.force_login(rattachement.user)
    response = client.get("/mon-compte/?page=1")
    assert response["Location"] == f"{reverse('portal:login_verify')}?next=%2Fmon-compte%2F%3Fpage%3D1"
    verified = client.post(reverse("portal:login_verify"), {"code": _code(device), "next": "/mon-compte/?page=1"})
    assert verified["Location"] == "/mon-compte/?page=1"
    assert client.get(reverse("portal:profile")).status_code == 200


def test_htmx_requests_get_a_client_redirect(client, require_2fa):
    rattachement = RattachementFactory(gp=True)
    client.force_login(rattachement.user)
    response = client.get(reverse("portal:profile"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("portal:two_factor_enrol")


@pytest.mark.parametrize(
    "traits",
    [{}, {"gp": True, "pending": True}, {"gs": True, "refused": True}],
    ids=["utilisateur_simple", "gestionnaire_en_attente", "gestionnaire_refuse"],
)
def test_non_gestionnaires_are_not_forced(client, require_2fa, traits):
    rattachement = RattachementFactory(**traits)
    client.force_login(rattachement.user)
    assert client.get(reverse("portal:profile")).status_code == 200


def test_gestionnaires_are_not_forced_when_the_setting_is_off(client, settings):
    settings.CHOEUR_REQUIRE_2FA_FOR_GESTIONNAIRES = False
    rattachement = RattachementFactory(gp=True)
    client.force_login(rattachement.user)
    assert client.get(reverse("portal:profile")).status_code == 200
