"""The PISTE-style token endpoint: form-encoded client_credentials, JSON answer, French errors."""

import base64
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from choeur.directory.models import ApiClient
from choeur.directory.raccordement import api_client_create, api_client_revoke
from tests.directory.factories import RattachementFactory, StructureFactory

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/oauth/token"


@pytest.fixture
def gp():
    return RattachementFactory(structure=StructureFactory(), gp=True).user


@pytest.fixture
def issued(gp):
    return api_client_create(structure=gp.rattachements.get().structure, by=gp, label="Logiciel de facturation")


def _token(client, client_id, client_secret, **extra):
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret, **extra}
    return client.post(TOKEN_URL, data)


def test_piste_token_request_succeeds(client, issued):
    response = _token(client, issued.client_id, issued.client_secret, scope="openid")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "openid"
    token = AccessToken.objects.get(application=issued.client.application)
    assert token.user is None
    assert ApiClient.objects.get(pk=issued.client.pk).last_used_at is not None


def test_scope_defaults_to_openid(client, issued):
    response = _token(client, issued.client_id, issued.client_secret)
    assert response.status_code == 200
    assert response.json()["scope"] == "openid"


def test_basic_auth_is_accepted_too(client, issued):
    credentials = base64.b64encode(f"{issued.client_id}:{issued.client_secret}".encode()).decode()
    response = client.post(TOKEN_URL, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("case", ["wrong_secret", "unknown_client", "no_secret"])
def test_bad_credentials_answer_invalid_client(client, issued, case):
    client_id, secret = {
        "wrong_secret": (issued.client_id, issued.client_secret + "x"),
        "unknown_client": ("inconnu", issued.client_secret),
        "no_secret": (issued.client_id, ""),
    }[case]

    response = _token(client, client_id, secret, scope="openid")

    assert response.status_code in (400, 401)
    body = response.json()
    assert body["error"] == "invalid_client"
    assert "client_secret" in body["error_description"]
    assert not AccessToken.objects.exists()


def test_revoked_client_gets_no_token(client, gp, issued):
    api_client_revoke(client=issued.client, by=gp)

    response = _token(client, issued.client_id, issued.client_secret, scope="openid")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "révoqué" in response.json()["error_description"]
    assert not AccessToken.objects.exists()


def test_expired_client_gets_no_token(client, issued):
    with time_machine.travel(issued.client.expires_at + timedelta(minutes=1), tick=False):
        response = _token(client, issued.client_id, issued.client_secret, scope="openid")
    assert response.status_code == 401
    assert "expiré" in response.json()["error_description"]


def test_client_of_an_inactive_structure_gets_no_token(client, issued):
    structure = issued.client.structure
    structure.is_active = False
    structure.save()
    response = _token(client, issued.client_id, issued.client_secret)
    assert response.json()["error"] == "invalid_client"


def test_toolkit_application_without_structure_is_refused(client):
    application = Application.objects.create(
        name="Créée à la main",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret="secret-connu-123",
    )
    response = _token(client, application.client_id, "secret-connu-123")
    assert response.status_code == 401
    assert "aucune structure" in response.json()["error_description"]


def test_unknown_scope_is_refused(client, issued):
    response = _token(client, issued.client_id, issued.client_secret, scope="admin")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_token_lifetime_is_one_hour(client, issued):
    _token(client, issued.client_id, issued.client_secret)
    token = AccessToken.objects.get()
    assert abs((token.expires - timezone.now()).total_seconds() - 3600) < 60
