"""Back-off on failed credentials (`cpro-account` passwords, client secrets at the token endpoint) and the
remembered verification of a technical password."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth import hashers

from choeur.core.throttle import Backoff
from choeur.directory.raccordement import (
    TECHNICAL_ACCOUNT_BACKOFF,
    api_client_create,
    technical_account_authenticate,
    technical_account_create,
    technical_account_reset_password,
)
from tests.api.conftest import TECH_PASSWORD, account_header
from tests.directory.factories import RattachementFactory, StructureFactory

OPERATION = "utilisateurs/v1/monCompte/recuperer/rattachements"
TOKEN_URL = "/api/oauth/token"


def test_backoff_doubles_after_the_free_failures():
    policy = Backoff(scope="test", free_failures=2, max_wait_seconds=8)
    assert [policy.fail("k", now=100.0) for _ in range(7)] == [None, None, 1, 2, 4, 8, 8]
    assert policy.retry_after("k", now=100.0) == 8
    assert policy.retry_after("k", now=108.5) is None
    policy.reset("k")
    assert policy.failures("k") == 0


def test_bad_passwords_get_429_with_retry_after_then_the_good_one_works_again(cpro, world, frozen):
    login = world.fournisseur.login
    bad = account_header(login, "mauvais")
    statuses = [cpro.post(OPERATION, {}, **{"cpro-account": bad}).status_code for _ in range(7)]

    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    refused = cpro.post(OPERATION, {}, **{"cpro-account": bad})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    body = refused.json()
    assert body["codeRetour"] == 10429
    assert "Trop de mots de passe erronés" in body["libelle"]

    # Even the right password waits while the account is closed, and it is not hashed meanwhile.
    with mock.patch("choeur.directory.raccordement.check_password") as check:
        assert cpro.post(OPERATION, {}).status_code == 429
        check.assert_not_called()

    TECHNICAL_ACCOUNT_BACKOFF.reset(login)
    assert cpro.post(OPERATION, {}).status_code == 200
    assert TECHNICAL_ACCOUNT_BACKOFF.failures(login) == 0


def test_a_verified_password_is_not_hashed_again(cpro, world):
    assert cpro.post(OPERATION, {}).status_code == 200
    with mock.patch("choeur.directory.raccordement.check_password", wraps=hashers.check_password) as check:
        for _ in range(3):
            assert cpro.post(OPERATION, {}).status_code == 200
        check.assert_not_called()
        # A wrong password is never taken for the remembered one.
        bad = account_header(world.fournisseur.login, TECH_PASSWORD + "x")
        assert cpro.post(OPERATION, {}, **{"cpro-account": bad}).status_code == 401
        assert check.call_count == 1


@pytest.mark.django_db
def test_a_new_password_forgets_the_old_one():
    structure = StructureFactory()
    gp = RattachementFactory(structure=structure, gp=True).user
    issued = technical_account_create(structure=structure, by=gp)
    assert technical_account_authenticate(login=issued.account.login, password=issued.password) is not None

    renewed = technical_account_reset_password(account=issued.account, by=gp)

    assert technical_account_authenticate(login=issued.account.login, password=issued.password) is None
    assert technical_account_authenticate(login=issued.account.login, password=renewed.password) is not None


@pytest.fixture
def issued(db):
    gp = RattachementFactory(structure=StructureFactory(), gp=True).user
    return api_client_create(structure=gp.rattachements.get().structure, by=gp, label="Logiciel")


def _token(client, client_id, secret, **extra):
    return client.post(
        TOKEN_URL, {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}, **extra
    )


def test_bad_client_secrets_get_429_after_a_few(client, issued, frozen):
    statuses = [_token(client, issued.client_id, "mauvais").status_code for _ in range(7)]

    assert all(status in (400, 401) for status in statuses[:5])
    assert statuses[5:] == [429, 429]
    refused = _token(client, issued.client_id, issued.client_secret)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["error"] == "temporarily_unavailable"
    assert "client_secret" in refused.json()["error_description"]


def test_token_backoff_per_ip_covers_many_client_ids(client, issued, frozen):
    statuses = [_token(client, f"inconnu-{n}", "mauvais").status_code for n in range(22)]
    assert statuses[-1] == 429
    # Another address is not concerned.
    assert _token(client, issued.client_id, issued.client_secret, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_a_good_secret_resets_the_client_counter(client, issued, frozen):
    for _ in range(4):
        _token(client, issued.client_id, "mauvais")
    assert _token(client, issued.client_id, issued.client_secret).status_code == 200
    assert [_token(client, issued.client_id, "mauvais").status_code for _ in range(5)][-1] != 429
