"""The error pages are French DSFR pages with a way out, with DEBUG off as in production."""

import pytest
from django.test import Client, RequestFactory
from django.views import defaults

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


def _text(response) -> str:
    return response.content.decode()


def test_an_unknown_address_gets_the_french_404_page(client):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    content = _text(response)
    assert "Page non trouvée" in content and "Erreur 404" in content
    assert "Not Found" not in content
    assert 'href="/"' in content and 'lang="fr"' in content


def test_an_invoice_out_of_reach_gets_the_404_page_inside_the_portal(client, django_user_model):
    user = django_user_model.objects.create_user(email="curieux@example.org", password="x-Secret-1234", is_active=True)
    client.force_login(user)
    response = client.get("/factures/999999/")
    assert response.status_code == 404
    content = _text(response)
    assert "Page non trouvée" in content
    assert "Se déconnecter" in content  # the portal's own header, with the user still signed in


def test_permission_denied_gets_the_french_403_page():
    request = RequestFactory().get("/structures/1/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = defaults.permission_denied(request, PermissionError())
    assert response.status_code == 403
    content = _text(response)
    assert "Accès refusé" in content and "Erreur 403" in content and "Se connecter" in content
    assert "Forbidden" not in content


def test_a_server_error_gets_the_french_500_page_without_needing_the_database():
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    content = _text(response)
    assert "Erreur inattendue" in content and "Erreur 500" in content
    assert "dsfr.min.css" in content and "Server Error" not in content


def test_a_post_without_csrf_token_gets_the_french_csrf_page():
    response = Client(enforce_csrf_checks=True).post("/connexion/", {"username": "a@example.org", "password": "x"})
    assert response.status_code == 403
    content = _text(response)
    assert "Votre formulaire a expiré" in content and "rien n'a été enregistré" in content
    assert "CSRF verification failed" not in content
