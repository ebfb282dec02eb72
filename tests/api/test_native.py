"""The native API skeleton: OAuth2 scopes, problem+json errors, cursor pagination, OpenAPI 3.1."""

from __future__ import annotations

from datetime import timedelta

import pytest

from choeur.api.models import ApiCallLog
from tests.api.conftest import issue_token
from tests.directory.factories import ServiceFactory, StructureFactory


@pytest.fixture
def native(client, world):
    issue_token(world.fournisseur.client, token="jeton-natif", scope="structures:read")
    issue_token(world.fournisseur.client, token="jeton-openid", scope="openid")

    class Native:
        def get(self, path: str, *, token: str | None = "jeton-natif", **params):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return client.get(f"/api/v1/{path}", params, headers=headers)

        def follow(self, url: str, *, token: str = "jeton-natif"):
            """GET an absolute `next` URL as given by the API."""
            return client.get(url, headers={"Authorization": f"Bearer {token}"})

        def request(self, method: str, path: str, *, token: str = "jeton-natif"):
            return client.generic(method, f"/api/v1/{path}", headers={"Authorization": f"Bearer {token}"})

    return Native()


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(f"/api/v1/problemes/{code}")
    assert body["title"] and body["detail"] and body["instance"].startswith("/api/v1/")
    return body


def test_list_own_and_public_structures(native, world):
    response = native.get("structures")
    assert response.status_code == 200
    ids = {s["id"] for s in response.json()["results"]}
    assert ids == {
        world.refs["structure:fournisseur"],
        world.refs["structure:commune"],
        world.refs["structure:hopital"],
        world.refs["structure:commune_inactive"],
    }
    own = next(s for s in response.json()["results"] if s["is_own"])
    assert own["identifier"] == "40000001400011"
    assert own["services_url"].endswith(f"/api/v1/structures/{own['id']}/services")


def test_filters(native, world):
    data = native.get("structures", q="valfleurie", kind="PUBLIQUE").json()
    assert [s["id"] for s in data["results"]] == [world.refs["structure:commune"]]


def test_read_one_structure_and_its_services(native, world):
    commune = world.refs["structure:commune"]
    structure = native.get(f"structures/{commune}").json()
    assert structure["routing"]["code_service_required"] is True
    services = native.get(f"structures/{commune}/services").json()
    assert {s["code"] for s in services["results"]} == {"FACTURES_PUBLIQUES", "VOIRIE", "ECOLES", "ANCIEN"}
    assert next(s for s in services["results"] if s["code"] == "ECOLES")["valid_from"] == "2025-01-01"


def test_cursor_pagination_walks_every_page(native, world):
    for _ in range(7):
        StructureFactory(public=True)
    expected = {s["id"] for s in native.get("structures", limit=200).json()["results"]}
    seen, pages = [], 0
    response = native.get("structures", limit=3)
    while True:
        data = response.json()
        pages += 1
        seen += [s["id"] for s in data["results"]]
        assert len(data["results"]) <= 3
        if data["next"] is None:
            assert data["next_cursor"] is None
            break
        assert f"cursor={data['next_cursor']}" in data["next"]
        response = native.follow(data["next"])
    assert len(seen) == len(set(seen)) == len(expected) == 11
    assert set(seen) == expected
    assert seen == sorted(seen)
    assert pages == 4


def test_services_are_paginated_too(native, world):
    commune = world["structure:commune"]
    for _ in range(4):
        ServiceFactory(structure=commune)
    first = native.get(f"structures/{commune.pk}/services", limit=5).json()
    second = native.get(f"structures/{commune.pk}/services", limit=5, cursor=first["next_cursor"]).json()
    assert len(first["results"]) == 5 and len(second["results"]) == 3 and second["next"] is None
    assert not {s["id"] for s in first["results"]} & {s["id"] for s in second["results"]}


def test_invalid_cursor(native):
    body = assert_problem(native.get("structures", cursor="n'importe quoi"), 400, "curseur_invalide")
    assert body["errors"][0]["field"] == "cursor"


def test_validation_errors_list_each_field(native):
    body = assert_problem(native.get("structures", limit=0, kind="AUTRE"), 400, "requete_invalide")
    fields = {error["field"]: error for error in body["errors"]}
    assert set(fields) == {"limit", "kind"}
    assert "supérieur ou égal à 1" in fields["limit"]["message"]
    assert fields["kind"]["code"] == "literal_error"


def test_missing_token(native):
    response = native.get("structures", token=None)
    assert_problem(response, 401, "jeton_absent")
    assert 'error="invalid_request"' in response["WWW-Authenticate"]
    log = ApiCallLog.objects.latest("pk")
    assert (log.api, log.operation, log.http_status, log.outcome) == ("NATIVE", "structures", 401, "jeton_absent")


def test_invalid_and_expired_tokens(native, frozen):
    response = native.get("structures", token="inconnu")
    assert_problem(response, 401, "jeton_invalide")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    frozen.shift(timedelta(hours=2))
    assert_problem(native.get("structures"), 401, "jeton_expire")


def test_scope_is_enforced(native):
    response = native.get("structures", token="jeton-openid")
    body = assert_problem(response, 403, "portee_insuffisante")
    assert "structures:read" in body["detail"]
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_private_structure_of_another_is_not_found(native, world):
    foreign = assert_problem(native.get(f"structures/{world.refs['structure:autre_prive']}"), 404, "introuvable")
    missing = assert_problem(native.get("structures/987654321"), 404, "introuvable")
    assert foreign["title"] == missing["title"]
    assert_problem(native.get(f"structures/{world.refs['structure:autre_prive']}/services"), 404, "introuvable")


def test_unknown_path_and_wrong_method(native):
    assert_problem(native.get("factures"), 404, "introuvable")
    response = native.request("DELETE", "structures")
    assert_problem(response, 405, "methode_non_autorisee")
    assert response["Allow"] == "GET"


def test_problem_types_are_documented(client, db):
    response = client.get("/api/v1/problemes/portee_insuffisante")
    assert response.status_code == 200
    assert response.json()["status"] == 403
    assert_problem(client.get("/api/v1/problemes/inconnu"), 404, "introuvable")


def test_openapi_and_docs(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/v1/structures/{structure_id}/services" in schema["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_cpro_docs(client, db):
    schema = client.get("/cpro/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert "/cpro/structures/v1/rechercher" in schema["paths"]
    assert client.get("/cpro/docs").status_code == 200
