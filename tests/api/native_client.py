"""A small client of the native API for tests: bearer tokens with the scopes asked, JSON in and out."""

from __future__ import annotations

import json

from tests.api.conftest import issue_token

ALL_SCOPES = (
    "structures:read invoices:read invoices:write flows:write webhooks:manage engagements:read engagements:write "
    "sollicitations:read sollicitations:write"
)


class NativeClient:
    def __init__(self, client, raccordement, *, scope: str = ALL_SCOPES, name: str | None = None):
        self.client = client
        self.token = issue_token(
            raccordement.client, token=f"jeton-natif-{name or raccordement.client.pk}-{abs(hash(scope))}", scope=scope
        )

    def _headers(self, token):
        token = self.token if token is None else token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, *, token: str | None = None, **params):
        return self.client.get(f"/api/v1/{path}", params, headers=self._headers(token))

    def follow(self, url: str):
        return self.client.get(url, headers=self._headers(None))

    def post(self, path: str, body=None, *, token: str | None = None, raw: str | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            f"/api/v1/{path}", data=data, content_type="application/json", headers=self._headers(token)
        )

    def patch(self, path: str, body, *, token: str | None = None):
        return self.client.patch(
            f"/api/v1/{path}", data=json.dumps(body), content_type="application/json", headers=self._headers(token)
        )

    def delete(self, path: str, *, token: str | None = None):
        return self.client.delete(f"/api/v1/{path}", headers=self._headers(token))

    def upload(self, path: str, files: dict, *, token: str | None = None):
        return self.client.post(f"/api/v1/{path}", data=files, headers=self._headers(token))


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body
