"""Registration and activation pages."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from choeur.accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Une phrase de passe bien longue 2026"


def _register(client, django_capture_on_commit_callbacks, email="sophie.bernard@exemple.fr"):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("portal:register"),
            {"email": email, "first_name": "Sophie", "last_name": "Bernard", "phone": "06 12 34 56 78"},
        )


def _activation_path() -> str:
    match = re.search(r"https?://[^/\s]+(/activation/[A-Za-z0-9_\-]+/)", mail.outbox[-1].body)
    assert match
    return match.group(1)


def test_register_page_is_french_and_labelled(client):
    content = client.get(reverse("portal:register")).content.decode()
    assert "Créer un compte" in content
    for label in ("Adresse électronique de connexion", "Prénom", "Nom", "Téléphone (facultatif)"):
        assert label in content


def test_register_creates_inactive_account_and_tells_to_check_mail(client, django_capture_on_commit_callbacks):
    response = _register(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:register_done")
    user = User.objects.get(email="sophie.bernard@exemple.fr")
    assert not user.is_active
    assert len(mail.outbox) == 1
    page = client.get(response["Location"]).content.decode()
    assert "sophie.bernard@exemple.fr" in page and "60 minutes" in page


def test_register_with_a_known_address_invites_to_log_in_and_creates_nothing(
    client, django_capture_on_commit_callbacks
):
    UserFactory(email="sophie.bernard@exemple.fr")
    response = _register(client, django_capture_on_commit_callbacks, email="Sophie.Bernard@exemple.fr")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Un compte existe déjà avec cette adresse électronique" in content
    assert reverse("portal:login") in content and reverse("portal:password_reset") in content
    assert User.objects.count() == 1
    assert mail.outbox == []


def test_register_shows_field_errors_in_french(client):
    response = client.post(
        reverse("portal:register"), {"email": "pas-une-adresse", "first_name": "", "last_name": "X"}
    )
    content = response.content.decode()
    assert "Saisissez une adresse électronique valide" in content
    assert "Saisissez votre prénom." in content
    assert not User.objects.exists()


def test_activation_link_lets_choose_a_password_logs_in_and_offers_structures(
    client, django_capture_on_commit_callbacks
):
    _register(client, django_capture_on_commit_callbacks)
    path = _activation_path()
    page = client.get(path)
    assert page.status_code == 200
    assert "Choisir votre mot de passe" in page.content.decode()

    response = client.post(path, {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:welcome")
    welcome = client.get(response["Location"])
    content = welcome.content.decode()
    assert welcome.wsgi_request.user.email == "sophie.bernard@exemple.fr"
    assert "Créer une structure" in content and "Demander un rattachement" in content
    assert f'href="{reverse("portal:structures")}"' in content


def test_activation_form_shows_password_rules_and_mismatch(client, django_capture_on_commit_callbacks):
    _register(client, django_capture_on_commit_callbacks)
    path = _activation_path()
    content = client.post(path, {"password1": "court", "password2": "court"}).content.decode()
    assert "Il doit contenir au minimum 12 caractères" in content
    content = client.post(path, {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD + "x"}).content.decode()
    assert "Les deux mots de passe ne sont pas identiques" in content
    assert not User.objects.get().is_active


def test_expired_link_says_so_and_offers_a_new_one(client, django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _register(client, django_capture_on_commit_callbacks)
    path = _activation_path()
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        response = client.get(path)
    assert response.status_code == 410
    content = response.content.decode()
    assert "Lien d&#x27;activation expiré" in content or "Lien d'activation expiré" in content
    assert "a expiré" in content
    assert reverse("portal:activation_resend") in content

    with time_machine.travel(start + timedelta(minutes=62), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            resent = client.post(reverse("portal:activation_resend"), {"email": "sophie.bernard@exemple.fr"})
        assert "un nouveau lien vient d" in resent.content.decode()
        assert len(mail.outbox) == 2
        assert client.get(_activation_path()).status_code == 200


def test_used_link_invites_to_log_in(client, django_capture_on_commit_callbacks):
    _register(client, django_capture_on_commit_callbacks)
    path = _activation_path()
    client.post(path, {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
    client.logout()
    response = client.get(path)
    assert response.status_code == 410
    content = response.content.decode()
    assert "déjà été utilisé" in content
    assert f'href="{reverse("portal:login")}"' in content


def test_unknown_link_is_a_404_with_a_french_message(client):
    response = client.get(reverse("portal:activate", args=["inconnu"]))
    assert response.status_code == 404
    assert "Ce lien d&#x27;activation est inconnu" in response.content.decode()


def test_resend_page_does_not_tell_whether_the_address_exists(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:activation_resend"), {"email": "personne@exemple.fr"})
    assert "Si un compte en attente d" in response.content.decode()
    assert mail.outbox == []
