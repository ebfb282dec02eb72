"""« Mon compte »: profile, contact address, password change, rattachements (read-only)."""

import pytest
from django.core import mail
from django.urls import reverse

from choeur.core.models import AuditEntry
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.directory.factories import RattachementFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Une phrase de passe bien longue 2026"


def test_profile_requires_login(client):
    assert client.get(reverse("portal:profile"))["Location"].startswith(reverse("portal:login"))


def test_profile_shows_login_email_read_only_and_rattachements(client):
    user = UserFactory(email="moi@exemple.fr")
    RattachementFactory(user=user, gp=True, structure__raison_sociale="Menuiserie Dupuis")
    RattachementFactory(user=user, pending=True, structure__raison_sociale="Atelier Martin")
    RattachementFactory(structure__raison_sociale="Structure d'un autre")
    client.force_login(user)
    content = client.get(reverse("portal:profile")).content.decode()
    assert 'value="moi@exemple.fr" readonly' in content
    assert "Menuiserie Dupuis" in content and "Gestionnaire principal" in content
    assert "Atelier Martin" in content and "En cours de validation" in content
    assert "Structure d&#x27;un autre" not in content


def test_profile_update_keeps_login_email_and_sets_contact_email(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="moi@exemple.fr")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:profile"),
            {
                "first_name": "Anne",
                "last_name": "Roux",
                "phone": "",
                "contact_email": "factures@exemple.fr",
                "email": "pirate@exemple.fr",
            },
        )
    assert response["Location"] == reverse("portal:profile")
    user.refresh_from_db()
    assert (user.email, user.contact_email, user.first_name) == ("moi@exemple.fr", "factures@exemple.fr", "Anne")
    assert AuditEntry.objects.filter(action="accounts.user.contact_email_changed").exists()
    assert mail.outbox[-1].to == ["moi@exemple.fr"]


def test_profile_shows_field_errors(client):
    client.force_login(UserFactory())
    content = client.post(
        reverse("portal:profile"), {"first_name": "", "last_name": "Roux", "phone": "abc", "contact_email": "x@"}
    ).content.decode()
    assert "Saisissez votre prénom." in content
    assert "Saisissez une adresse de contact valide" in content


def test_profile_phone_rule_comes_from_the_service(client):
    client.force_login(UserFactory())
    content = client.post(
        reverse("portal:profile"), {"first_name": "A", "last_name": "B", "phone": "abc"}
    ).content.decode()
    assert "Le numéro de téléphone n&#x27;est pas valide" in content


def test_password_change_keeps_the_session(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    client.force_login(user)
    url = reverse("portal:password_change")
    wrong = client.post(url, {"old_password": "faux", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert "Votre mot de passe actuel est incorrect" in wrong.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(
            url, {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )
    assert ok["Location"] == reverse("portal:profile")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get(reverse("portal:profile")).status_code == 200
    assert "Votre mot de passe Chœur a été modifié" in mail.outbox[-1].subject
