"""Bearer tokens issued by /api/oauth/token, resolved to their live API client (choeur.api.auth)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from choeur.api.auth import TokenProblem, TokenRefused, bearer_authenticate
from choeur.directory.raccordement import api_client_create, api_client_revoke
from tests.directory.factories import RattachementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def gp():
    return RattachementFactory(gp=True).user


@pytest.fixture
def issued(gp):
    return api_client_create(structure=gp.rattachements.get().structure, by=gp, label="Logiciel")


@pytest.fixture
def token(client, issued):
    response = client.post(
        "/api/oauth/token",
        {
            "grant_type": "client_credentials",
            "client_id": issued.client_id,
            "client_secret": issued.client_secret,
            "scope": "openid",
        },
    )
    return response.json()["access_token"]


def test_token_gives_its_api_client(issued, token):
    holder = bearer_authenticate(f"Bearer {token}")
    assert holder.api_client == issued.client
    assert holder.client_id == issued.client_id
    assert holder.scopes == frozenset({"openid"})


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (None, TokenProblem.MISSING),
        ("", TokenProblem.MISSING),
        ("Basic dXNlcjpwYXNz", TokenProblem.MALFORMED),
        ("Bearer", TokenProblem.MALFORMED),
        ("Bearer inconnu", TokenProblem.UNKNOWN),
    ],
)
def test_bad_headers(token, header, problem):
    with pytest.raises(TokenRefused) as exc:
        bearer_authenticate(header)
    assert exc.value.problem == problem


def test_expired_token(issued, token):
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        with pytest.raises(TokenRefused) as exc:
            bearer_authenticate(f"Bearer {token}")
    assert exc.value.problem == TokenProblem.EXPIRED
    assert exc.value.client_id == issued.client_id


def test_revocation_deletes_the_token(gp, issued, token):
    api_client_revoke(client=issued.client, by=gp)
    with pytest.raises(TokenRefused) as exc:
        bearer_authenticate(f"Bearer {token}")
    assert exc.value.problem == TokenProblem.UNKNOWN


def test_client_of_an_inactive_structure_is_unusable(issued, token):
    structure = issued.client.structure
    structure.is_active = False
    structure.save()
    with pytest.raises(TokenRefused) as exc:
        bearer_authenticate(f"Bearer {token}")
    assert exc.value.problem == TokenProblem.CLIENT_UNUSABLE
