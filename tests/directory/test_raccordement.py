"""Technical accounts and OAuth2 clients: secrets shown once and stored hashed, expiry, revocation,
who may do what."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import check_password, identify_hasher
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.core.models import AuditEntry
from choeur.directory.models import ManagerAction, TechnicalAccount
from choeur.directory.raccordement import (
    TECHNICAL_ACCOUNT_VALIDITY,
    api_client_create,
    api_client_revoke,
    raccordement_can_manage,
    technical_account_authenticate,
    technical_account_create,
    technical_account_reset_password,
    technical_account_revoke,
)
from tests.directory.factories import RattachementFactory, StructureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def structure():
    return StructureFactory()


@pytest.fixture
def gp(structure):
    return RattachementFactory(structure=structure, gp=True).user


@pytest.fixture
def gs(structure):
    return RattachementFactory(structure=structure, gs=True).user


def test_technical_account_password_is_shown_once_and_stored_hashed(structure, gp):
    issued = technical_account_create(structure=structure, by=gp)

    account = TechnicalAccount.objects.get(pk=issued.account.pk)
    assert account.login.startswith("TECH_1_") and account.login.endswith("@cpro.choeur")
    assert len(account.login) == len("TECH_1_") + 12 + len("@cpro.choeur")
    assert issued.password not in account.password_hash
    identify_hasher(account.password_hash)  # a real Django hash, not the plaintext
    assert check_password(issued.password, account.password_hash)
    assert len(issued.password) >= 30
    expected = timezone.now() + TECHNICAL_ACCOUNT_VALIDITY
    assert abs((account.expires_at - expected).total_seconds()) < 60
    assert TECHNICAL_ACCOUNT_VALIDITY == timedelta(days=424)


def test_creation_is_recorded_without_the_secret(structure, gp):
    issued = technical_account_create(structure=structure, by=gp)

    action = ManagerAction.objects.get(structure=structure, action="technical_account.created")
    assert issued.account.login in action.description and issued.password not in action.description
    entry = AuditEntry.objects.get(action="directory.technical_account.created")
    assert entry.structure_id == structure.pk and entry.actor_user == gp
    assert issued.password not in str(entry.data)


def test_authenticate_accepts_the_right_password_and_records_the_use(structure, gp):
    issued = technical_account_create(structure=structure, by=gp)

    account = technical_account_authenticate(login=issued.account.login, password=issued.password)

    assert account == issued.account
    assert TechnicalAccount.objects.get(pk=account.pk).last_used_at is not None


@pytest.mark.parametrize("login_case", ["wrong_password", "unknown_login", "empty"])
def test_authenticate_refuses_bad_credentials(structure, gp, login_case):
    issued = technical_account_create(structure=structure, by=gp)
    login, password = {
        "wrong_password": (issued.account.login, issued.password + "x"),
        "unknown_login": ("TECH_1_INCONNU000000@cpro.choeur", issued.password),
        "empty": ("", ""),
    }[login_case]

    assert technical_account_authenticate(login=login, password=password) is None
    assert TechnicalAccount.objects.get(pk=issued.account.pk).last_used_at is None


def test_authenticate_refuses_an_expired_account(structure, gp):
    issued = technical_account_create(structure=structure, by=gp)

    with time_machine.travel(timezone.now() + timedelta(days=423), tick=False):
        assert technical_account_authenticate(login=issued.account.login, password=issued.password) is not None
    with time_machine.travel(timezone.now() + timedelta(days=425), tick=False):
        assert technical_account_authenticate(login=issued.account.login, password=issued.password) is None


def test_authenticate_refuses_a_revoked_account(structure, gp, gs):
    issued = technical_account_create(structure=structure, by=gp)

    technical_account_revoke(account=issued.account, by=gs)

    assert technical_account_authenticate(login=issued.account.login, password=issued.password) is None
    assert ManagerAction.objects.filter(action="technical_account.revoked", actor=gs).exists()
    with pytest.raises(ApplicationError, match="déjà révoqué"):
        technical_account_revoke(account=issued.account, by=gp)


def test_only_the_gestionnaire_principal_resets_the_password(structure, gp, gs):
    issued = technical_account_create(structure=structure, by=gs)

    with pytest.raises(PermissionDeniedError, match="gestionnaire principal"):
        technical_account_reset_password(account=issued.account, by=gs)

    reset = technical_account_reset_password(account=issued.account, by=gp)
    assert reset.password != issued.password
    assert technical_account_authenticate(login=issued.account.login, password=issued.password) is None
    assert technical_account_authenticate(login=issued.account.login, password=reset.password) is not None
    assert ManagerAction.objects.filter(action="technical_account.password_reset", actor=gp).exists()


def test_reset_renews_the_expiry(structure, gp):
    issued = technical_account_create(structure=structure, by=gp)
    with time_machine.travel(timezone.now() + timedelta(days=500), tick=False):
        reset = technical_account_reset_password(account=issued.account, by=gp)
        assert technical_account_authenticate(login=issued.account.login, password=reset.password) is not None


@pytest.mark.parametrize("persona", ["simple", "pending_gp", "other_structure_gp", "anonymous"])
def test_non_gestionnaires_are_refused(structure, persona):
    from django.contrib.auth.models import AnonymousUser

    user = {
        "simple": lambda: RattachementFactory(structure=structure).user,
        "pending_gp": lambda: RattachementFactory(structure=structure, gp=True, pending=True).user,
        "other_structure_gp": lambda: RattachementFactory(gp=True).user,
        "anonymous": AnonymousUser,
    }[persona]()

    assert not raccordement_can_manage(user=user, structure=structure)
    with pytest.raises(PermissionDeniedError, match="Seuls les gestionnaires"):
        technical_account_create(structure=structure, by=user)
    with pytest.raises(PermissionDeniedError):
        api_client_create(structure=structure, by=user, label="Mon logiciel")
    assert not TechnicalAccount.objects.exists() and not Application.objects.exists()


def test_api_client_secret_is_shown_once_and_hashed_by_the_toolkit(structure, gp):
    issued = api_client_create(structure=structure, by=gp, label="  Logiciel   Facturo ")

    application = Application.objects.get(client_id=issued.client_id)
    assert issued.client.label == "Logiciel Facturo"
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert application.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    assert application.hash_client_secret
    assert application.client_secret != issued.client_secret
    assert check_password(issued.client_secret, application.client_secret)
    entry = AuditEntry.objects.get(action="directory.api_client.created")
    assert issued.client_secret not in str(entry.data)
    assert ManagerAction.objects.filter(action="api_client.created", structure=structure).exists()


def test_api_client_needs_a_label(structure, gp):
    with pytest.raises(ApplicationError) as exc:
        api_client_create(structure=structure, by=gp, label="   ")
    assert exc.value.field == "label"


def test_api_client_revocation_deletes_its_access_tokens(structure, gp, gs):
    issued = api_client_create(structure=structure, by=gp, label="Logiciel")
    application = issued.client.application
    AccessToken.objects.create(
        application=application, token="jeton-en-cours", expires=timezone.now() + timedelta(hours=1), scope="openid"
    )
    other = api_client_create(structure=structure, by=gp, label="Autre")
    AccessToken.objects.create(
        application=other.client.application, token="autre-jeton", expires=timezone.now() + timedelta(hours=1)
    )

    api_client_revoke(client=issued.client, by=gs)

    assert not AccessToken.objects.filter(application=application).exists()
    assert AccessToken.objects.filter(application=other.client.application).exists()
    issued.client.refresh_from_db()
    assert issued.client.revoked_at is not None and not issued.client.is_usable
    assert AuditEntry.objects.filter(action="directory.api_client.revoked").exists()


def test_inactive_structure_gets_no_credentials(gp, structure):
    structure.is_active = False
    structure.save()
    with pytest.raises(ApplicationError, match="inactive"):
        technical_account_create(structure=structure, by=gp)
