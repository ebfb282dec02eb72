"""Start-up checks: a weak secret key or DEBUG on a public host stops the process with a French message."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from choeur.core import checks


def test_weak_secret_key_is_an_error_saying_what_to_set(settings):
    settings.SECRET_KEY = "court"
    [error] = checks.check_secret_key_strength(None)
    assert error.id == "choeur.E002"
    assert "CHOEUR_SECRET_KEY" in error.hint


def test_long_but_repetitive_key_is_weak(settings):
    settings.SECRET_KEY = "a" * 80
    assert checks.check_secret_key_strength(None)


def test_django_insecure_key_is_weak(settings):
    settings.SECRET_KEY = "django-insecure-" + "x1y2z3w4v5" * 6
    assert checks.check_secret_key_strength(None)


def test_random_key_passes(settings):
    import secrets

    settings.SECRET_KEY = secrets.token_urlsafe(50)
    assert checks.check_secret_key_strength(None) == []


def test_debug_with_public_host_is_an_error(settings):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["localhost", "factures.example.fr"]
    [error] = checks.check_debug_on_public_host(None)
    assert "factures.example.fr" in error.msg
    assert "CHOEUR_DEBUG=false" in error.hint


def test_debug_on_loopback_only_is_fine(settings):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", ".localhost"]
    assert checks.check_debug_on_public_host(None) == []


def test_production_settings_without_debug_are_fine(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["factures.example.fr"]
    assert checks.check_debug_on_public_host(None) == []


@pytest.mark.django_db
def test_check_deploy_refuses_a_weak_key(settings):
    settings.SECRET_KEY = "trop-courte"
    with pytest.raises(SystemCheckError, match="clé secrète est trop faible"):
        call_command("check", "--deploy", "--fail-level", "ERROR")


@pytest.mark.django_db
def test_https_redirect_spares_the_probes(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    response = client.get("/connexion/")
    assert response.status_code == 301 and response["Location"].startswith("https://")


def test_proxy_ssl_header_is_read_from_the_environment(monkeypatch):
    import importlib

    import config.settings as production_settings

    monkeypatch.setenv("CHOEUR_PROXY_SSL_HEADER", "X-Forwarded-Proto")
    monkeypatch.setenv("CHOEUR_HSTS_SECONDS", "31536000")
    try:
        reloaded = importlib.reload(production_settings)
        assert reloaded.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
        assert reloaded.SECURE_HSTS_SECONDS == 31536000
    finally:
        monkeypatch.delenv("CHOEUR_PROXY_SSL_HEADER")
        monkeypatch.delenv("CHOEUR_HSTS_SECONDS")
        importlib.reload(production_settings)
