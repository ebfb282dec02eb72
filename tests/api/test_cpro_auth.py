"""The two credentials of /cpro/: every refusal says which one is wrong, in the envelope, with the right HTTP
status; nothing secret is ever traced."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from choeur.api.models import ApiCallLog
from choeur.core.models import AuditEntry
from choeur.directory.raccordement import api_client_revoke, technical_account_revoke
from tests.api.conftest import TECH_PASSWORD, account_header, issue_token
from tests.directory.factories import RattachementFactory

OPERATION = "utilisateurs/v1/monCompte/recuperer/rattachements"


def assert_envelope(response, status: int, code: int, *words: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"codeRetour", "libelle"}
    assert body["codeRetour"] == code
    for word in words:
        assert word in body["libelle"]
    return body


def test_valid_credentials_act_for_the_structure(cpro, world):
    response = cpro.post(OPERATION, {})
    assert response.status_code == 200
    assert response.json()["listeStructureRattachement"][0]["idStructure"] == world.refs["structure:fournisseur"]


def test_without_token(cpro):
    response = cpro.post(OPERATION, {}, Authorization=None)
    assert_envelope(response, 401, 10001, "Authorization: Bearer")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Basic dG90bzp0aXRp", "Bearer", "Bearer a b", "jeton-fournisseur"])
def test_malformed_authorization_header(cpro, header):
    assert_envelope(cpro.post(OPERATION, {}, Authorization=header), 401, 10002, "mal formé")


def test_unknown_token(cpro):
    assert_envelope(cpro.post(OPERATION, {}, Authorization="Bearer inconnu"), 401, 10002, "inconnu")


def test_expired_token(cpro, world, frozen):
    frozen.shift(timedelta(hours=1, seconds=1))
    assert_envelope(cpro.post(OPERATION, {}), 401, 10003, "expiré")


def test_token_of_a_revoked_client(cpro, world):
    # Revocation deletes the client's tokens; a token issued afterwards by a bug would still be refused.
    gp = RattachementFactory(structure=world.fournisseur.structure, gp=True).user
    api_client_revoke(client=world.fournisseur.client, by=gp)
    assert_envelope(cpro.post(OPERATION, {}), 401, 10002)
    issue_token(world.fournisseur.client, token="jeton-apres-revocation")
    response = cpro.post(OPERATION, {}, Authorization="Bearer jeton-apres-revocation")
    assert_envelope(response, 401, 10004, "révoqué")


def test_token_without_the_cpro_scope(cpro, world):
    issue_token(world.fournisseur.client, token="jeton-natif", scope="structures:read")
    response = cpro.post(OPERATION, {}, Authorization="Bearer jeton-natif")
    assert_envelope(response, 403, 10102, "openid")


def test_without_technical_account(cpro):
    assert_envelope(cpro.post(OPERATION, {}, **{"cpro-account": None}), 401, 10005, "cpro-account")


@pytest.mark.parametrize(
    "value",
    [
        "pas du base64 !",
        base64.b64encode(b"sans-deux-points").decode(),
        base64.b64encode(b":mot-de-passe-sans-login").decode(),
        base64.b64encode(b"\xff\xfe:x").decode(),
    ],
    ids=["pas-base64", "sans-separateur", "sans-identifiant", "pas-utf8"],
)
def test_malformed_technical_account(cpro, value):
    assert_envelope(cpro.post(OPERATION, {}, **{"cpro-account": value}), 401, 10006, "cpro-account")


def test_technical_account_in_clear_is_refused(cpro, world):
    value = f"{world.fournisseur.login}:{TECH_PASSWORD}"
    assert_envelope(cpro.post(OPERATION, {}, **{"cpro-account": value}), 401, 10006, "base64")


def test_technical_account_without_padding_is_accepted(cpro, world):
    value = account_header(world.fournisseur.login, TECH_PASSWORD).rstrip("=")
    assert cpro.post(OPERATION, {}, **{"cpro-account": value}).status_code == 200


@pytest.mark.parametrize("login, password", [("TECH_1_FOURNISSEUR@cpro.choeur", "faux"), ("TECH_1_INCONNU@x", "x")])
def test_wrong_technical_account(cpro, login, password):
    response = cpro.post(OPERATION, {}, **{"cpro-account": account_header(login, password)})
    assert_envelope(response, 401, 10007, "Compte technique refusé")


def test_revoked_technical_account(cpro, world):
    gp = RattachementFactory(structure=world.fournisseur.structure, gp=True).user
    technical_account_revoke(account=world.fournisseur.account, by=gp)
    assert_envelope(cpro.post(OPERATION, {}), 401, 10007)


def test_expired_technical_account(cpro, world):
    account = world.fournisseur.account
    account.expires_at = timezone.now() - timedelta(seconds=1)
    account.save(update_fields=["expires_at"])
    assert_envelope(cpro.post(OPERATION, {}), 401, 10007)


def test_technical_account_of_another_structure(cpro, world):
    """Both secrets are valid but belong to two structures: 403, and the audit chain keeps a trace."""
    response = cpro.post(OPERATION, {}, **{"cpro-account": account_header(world.autre.login, TECH_PASSWORD)})
    assert_envelope(response, 403, 10101, "deux structures")
    entry = AuditEntry.objects.get(action="api.cpro.credentials_mismatch")
    assert entry.actor_kind == AuditEntry.ActorKind.API
    assert entry.structure_id == world.refs["structure:fournisseur"]
    assert entry.data["login"] == world.autre.login
    assert TECH_PASSWORD not in str(entry.data)


def test_health_check_needs_the_token_only(cpro, client):
    response = cpro.get("transverses/v1/health-check", **{"cpro-account": None})
    assert response.status_code == 200
    assert response.json()["statusCode"] == "OK"
    assert client.get("/cpro/transverses/v1/health-check").status_code == 401


def test_token_from_the_token_endpoint(client, world):
    """The whole PISTE sequence of a Chorus client: client_credentials, then a call with both headers."""
    token = client.post(
        "/api/oauth/token",
        {
            "grant_type": "client_credentials",
            "client_id": "client-fournisseur",
            "client_secret": "secret-fournisseur-0123456789",
            "scope": "openid",
        },
    )
    assert token.status_code == 200, token.content
    access_token = token.json()["access_token"]
    response = client.post(
        f"/cpro/{OPERATION}",
        data="{}",
        content_type="application/json",
        headers={
            "Authorization": f"Bearer {access_token}",
            "cpro-account": account_header(world.fournisseur.login, TECH_PASSWORD),
        },
    )
    assert response.status_code == 200
    assert response.json()["codeRetour"] == 0


def test_every_call_is_traced_without_secrets(cpro, world):
    cpro.post(OPERATION, {})
    cpro.post(OPERATION, {}, **{"cpro-account": account_header(world.fournisseur.login, "mauvais-mot-de-passe")})
    cpro.post(OPERATION, {}, Authorization="Bearer jeton-inconnu")
    ok, refused, unknown = ApiCallLog.objects.order_by("pk")
    assert (ok.http_status, ok.outcome, ok.operation) == (200, "0", OPERATION)
    assert ok.structure_id == world.refs["structure:fournisseur"]
    assert ok.api_client_id == world.fournisseur.client.pk
    assert ok.technical_account_id == world.fournisseur.account.pk
    assert ok.client_id == "client-fournisseur"
    assert (refused.http_status, refused.outcome, refused.account_login) == (401, "10007", world.fournisseur.login)
    assert refused.technical_account_id is None
    assert (unknown.http_status, unknown.outcome, unknown.client_id) == (401, "10002", "")
    for log in ApiCallLog.objects.all():
        values = " ".join(str(value) for value in log.__dict__.values())
        for secret in (TECH_PASSWORD, "mauvais-mot-de-passe", "jeton-fournisseur", "jeton-inconnu"):
            assert secret not in values
