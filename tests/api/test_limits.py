"""Rate limit (429 + Retry-After) and body size limit (413) of /cpro/ and /api/v1/, in each API's error shape."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from choeur.api.limits import Rate, parse_rate
from choeur.api.models import ApiCallLog
from tests.api.native_client import NativeClient, assert_problem

MIDDLEWARE = "choeur.api.limits.ApiLimitsMiddleware"


@pytest.fixture
def limited(settings):
    # Installed right after SecurityMiddleware (config/settings.py), before anything reads the body.
    security = settings.MIDDLEWARE.index("django.middleware.security.SecurityMiddleware")
    assert settings.MIDDLEWARE[security + 1] == MIDDLEWARE
    settings.CHOEUR_API_RATE_LIMIT = "3/min"
    cache.clear()
    yield settings
    cache.clear()


def test_parse_rate():
    assert parse_rate("600/min") == Rate(600, 60)
    assert parse_rate("100/10s") == Rate(100, 10)
    assert parse_rate("20000/jour") == Rate(20000, 86400)
    assert parse_rate("") is None and parse_rate("0/min") is None
    with pytest.raises(ValueError):
        parse_rate("beaucoup")


def test_native_rate_limit_per_client(limited, client, world):
    api = NativeClient(client, world.fournisseur, scope="structures:read", name="debit")
    other = NativeClient(client, world.autre, scope="structures:read", name="debit-autre")
    for _ in range(3):
        assert api.get("structures").status_code == 200
    refused = api.get("structures")
    body = assert_problem(refused, 429, "trop_de_requetes")
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Retry-After" in body["detail"] or "Réessayez" in body["detail"]
    # Another client has its own budget.
    assert other.get("structures").status_code == 200
    # The first refusal of the window is traced, with the client.
    log = ApiCallLog.objects.get(http_status=429)
    assert log.client_id == "client-fournisseur" and log.outcome == "trop_de_requetes"
    assert log.operation == "structures"
    api.get("structures")
    assert ApiCallLog.objects.filter(http_status=429).count() == 1


def test_cpro_rate_limit_answers_the_chorus_envelope(limited, cpro):
    for _ in range(3):
        assert cpro.get("transverses/v1/health-check").status_code == 200
    refused = cpro.get("transverses/v1/health-check")
    assert refused.status_code == 429
    assert refused["Retry-After"]
    body = refused.json()
    assert body["codeRetour"] == 10429 and body["libelle"].startswith("CHO_REQ_00.429 Débit dépassé")


def test_body_too_large_is_refused_before_reading(limited, client, world, cpro):
    limited.CHOEUR_API_MAX_BODY_BYTES = 100
    limited.CHOEUR_API_RATE_LIMIT = ""
    api = NativeClient(client, world.fournisseur, scope="invoices:write", name="taille")
    body = assert_problem(api.post("invoices/1/transitions", {"transition": "x" * 200}), 413, "corps_trop_volumineux")
    assert "octets" in body["detail"]
    response = cpro.post("structures/v1/rechercher", {"structure": {"raisonSociale": "x" * 200}})
    assert response.status_code == 413
    assert response.json()["codeRetour"] == 10413
    # Deposits may carry a flow: the flow limit (with the base64 overhead) applies there instead.
    limited.CHOEUR_FLOW_MAX_BYTES = 1000
    flows = NativeClient(client, world.fournisseur, scope="flows:write", name="taille-flux")
    response = flows.post("flows/base64", {"filename": "f.xml", "content_base64": "PHgvPg==" * 30})
    assert response.status_code != 413
    assert ApiCallLog.objects.filter(http_status=413).count() == 2


def test_other_paths_are_not_limited(limited, client, db):
    for _ in range(5):
        assert client.get("/connexion/").status_code != 429
