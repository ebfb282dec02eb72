"""Two-factor services: TOTP enrolment, backup codes, disabling, throttling."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from choeur.accounts import services
from choeur.core.errors import ApplicationError
from choeur.core.models import AuditEntry
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice) -> str:
    """The code an authenticator app would show now."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def enrolled(user, django_capture_on_commit_callbacks) -> tuple[TOTPDevice, list[str]]:
    device = services.totp_device_start(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        codes = services.totp_device_confirm(user=user, device=device, code=code_for(device))
    device.refresh_from_db()
    return device, codes


def test_enrolment_confirms_the_device_and_returns_ten_single_use_backup_codes(django_capture_on_commit_callbacks):
    user = UserFactory()
    assert not services.otp_has_device(user=user)
    start = services.totp_device_start(user=user)
    # Reloading the enrolment page keeps the same secret (the QR code already scanned stays right).
    assert services.totp_device_start(user=user).pk == start.pk
    assert not services.otp_has_device(user=user)

    device, codes = enrolled(user, django_capture_on_commit_callbacks)

    assert device.confirmed
    assert services.otp_has_device(user=user)
    assert len(codes) == len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert AuditEntry.objects.filter(action="accounts.otp.enrolled", target_id=str(user.pk)).exists()
    assert "Double authentification activée" in mail.outbox[-1].subject


def test_enrolment_refuses_a_wrong_code_and_stays_unconfirmed():
    user = UserFactory()
    device = services.totp_device_start(user=user)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    with pytest.raises(ApplicationError) as exc:
        services.totp_device_confirm(user=user, device=device, code=wrong)
    assert exc.value.field == "code"
    assert "incorrect" in exc.value.message
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=user).exists()


def test_start_is_refused_when_already_enrolled(django_capture_on_commit_callbacks):
    user = UserFactory()
    enrolled(user, django_capture_on_commit_callbacks)
    with pytest.raises(ApplicationError) as exc:
        services.totp_device_start(user=user)
    assert exc.value.code == "double_authentification_active"


def test_code_check_accepts_current_code_once_and_spaces(django_capture_on_commit_callbacks):
    user = UserFactory()
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        device, _ = enrolled(user, django_capture_on_commit_callbacks)
    with time_machine.travel(now + timedelta(seconds=60), tick=False):
        code = code_for(device)
        assert services.otp_code_check(user=user, code=f"{code[:3]} {code[3:]}").device.pk == device.pk
        # Replaying the same code is refused.
        assert services.otp_code_check(user=user, code=code).device is None


def test_backup_code_works_once(django_capture_on_commit_callbacks):
    user = UserFactory()
    _, codes = enrolled(user, django_capture_on_commit_callbacks)
    check = services.otp_code_check(user=user, code=codes[0].upper())
    assert isinstance(check.device, StaticDevice)
    assert StaticToken.objects.filter(device__user=user).count() == 9
    later = timezone.now() + timedelta(minutes=5)  # past the throttling delay of the failure below
    assert services.otp_code_check(user=user, code=codes[0]).device is None
    with time_machine.travel(later, tick=False):
        assert services.otp_code_check(user=user, code=codes[1]).device is not None


def test_wrong_codes_are_throttled_with_a_french_message(django_capture_on_commit_callbacks):
    user = UserFactory()
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        device, _ = enrolled(user, django_capture_on_commit_callbacks)
    with time_machine.travel(now + timedelta(minutes=1), tick=False):
        wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
        assert services.otp_code_check(user=user, code=wrong).device is None
        assert services.otp_code_check(user=user, code=wrong).device is None
        # Even the right code waits for the throttling delay: guessing is slowed down.
        check = services.otp_code_check(user=user, code=code_for(device))
    assert check.device is None
    assert "Trop de codes erronés" in check.message
    with time_machine.travel(now + timedelta(minutes=2), tick=False):
        assert services.otp_code_check(user=user, code=code_for(device)).device is not None


def test_disable_requires_a_valid_code_and_removes_every_device(django_capture_on_commit_callbacks):
    user = UserFactory()
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        device, codes = enrolled(user, django_capture_on_commit_callbacks)
    with time_machine.travel(now + timedelta(minutes=1), tick=False):
        with pytest.raises(ApplicationError) as exc:
            services.otp_disable(user=user, code="000000" if code_for(device) != "000000" else "111111")
    assert exc.value.field == "code"
    assert services.otp_has_device(user=user)

    with time_machine.travel(now + timedelta(minutes=10), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            services.otp_disable(user=user, code=codes[3])
    assert not services.otp_has_device(user=user)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action="accounts.otp.disabled").exists()
    assert "désactivée" in mail.outbox[-1].subject


def test_regenerating_backup_codes_invalidates_the_old_ones(django_capture_on_commit_callbacks):
    user = UserFactory()
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        device, old_codes = enrolled(user, django_capture_on_commit_callbacks)
    with time_machine.travel(now + timedelta(minutes=1), tick=False):
        new_codes = services.backup_codes_regenerate(user=user, code=code_for(device))
    assert set(new_codes).isdisjoint(old_codes)
    with time_machine.travel(now + timedelta(minutes=2), tick=False):
        assert services.otp_code_check(user=user, code=old_codes[0]).device is None
    with time_machine.travel(now + timedelta(minutes=10), tick=False):
        assert services.otp_code_check(user=user, code=new_codes[0]).device is not None
