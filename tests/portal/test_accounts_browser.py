"""Account journeys in Chromium: register, activate by the e-mailed link, log in."""

import re

import pytest
from django.core import mail

from tests.accounts.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Une phrase de passe bien longue 2026"


def test_register_activate_and_land_logged_in(page):
    mail.outbox.clear()
    page.goto("/inscription/")
    page.fill("#id_email", "margaux.petit@exemple.fr")
    page.fill("#id_first_name", "Margaux")
    page.fill("#id_last_name", "Petit")
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url("**/inscription/courriel-envoye/")
    assert "margaux.petit@exemple.fr" in page.locator("main").inner_text()

    # The live server runs in this process: its locmem outbox is ours.
    assert len(mail.outbox) == 1
    path = re.search(r"https?://[^/\s]+(/activation/[A-Za-z0-9_\-]+/)", mail.outbox[0].body).group(1)
    page.goto(path)
    assert page.get_by_role("heading", name="Choisir votre mot de passe").is_visible()
    page.fill("#id_password1", "court")
    page.fill("#id_password2", "court")
    page.get_by_role("button", name="Activer mon compte").click()
    assert "minimum 12 caractères" in page.locator("main").inner_text()

    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Activer mon compte").click()
    page.wait_for_url("**/bienvenue/")
    main = page.locator("main").inner_text()
    assert "Votre compte est activé et vous êtes connecté." in main
    assert page.get_by_role("link", name="Créer une structure").is_visible()
    assert page.get_by_role("link", name="Demander un rattachement").is_visible()
    assert page.get_by_role("button", name="Se déconnecter").is_visible()


def test_login_with_a_wrong_password_shows_the_french_error(page):
    UserFactory(email="jules.moreau@exemple.fr")
    page.goto("/connexion/")
    page.fill("#id_username", "jules.moreau@exemple.fr")
    page.fill("#id_password", "ce n'est pas le bon")
    page.keyboard.press("Enter")
    error = page.locator(".fr-error-text, .errorlist").first
    error.wait_for()
    assert "Adresse électronique ou mot de passe incorrect" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Se connecter").is_visible()
