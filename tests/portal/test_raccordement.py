"""« Raccordement API » pages: gestionnaires only, secrets shown once, never listed afterwards."""

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse
from oauth2_provider.models import Application

from choeur.directory.models import ApiClient, TechnicalAccount
from choeur.directory.raccordement import api_client_create, technical_account_create
from tests.directory.factories import RattachementFactory, StructureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def structure():
    return StructureFactory(raison_sociale="Constructions Garnier-Lefèvre")


@pytest.fixture
def gp(structure):
    return RattachementFactory(structure=structure, gp=True).user


@pytest.fixture
def gs(structure):
    return RattachementFactory(structure=structure, gs=True).user


def _url(name, *args):
    return reverse(f"portal:{name}", args=args)


def test_login_is_required(client, structure):
    for url in (_url("raccordement"), _url("raccordement_structure", structure.pk)):
        response = client.get(url)
        assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_single_managed_structure_opens_directly(client, gp, structure):
    client.force_login(gp)
    response = client.get(_url("raccordement"))
    assert response.status_code == 302
    assert response["Location"] == _url("raccordement_structure", structure.pk)


def test_index_lists_managed_structures_only(client, gp, structure):
    other = StructureFactory(raison_sociale="Autre entreprise gérée")
    RattachementFactory(user=gp, structure=other, gs=True)
    RattachementFactory(user=gp, structure=StructureFactory(raison_sociale="Simple rattachement"))
    client.force_login(gp)
    content = client.get(_url("raccordement")).content.decode()
    assert "Constructions Garnier-Lefèvre" in content and "Autre entreprise gérée" in content
    assert "Simple rattachement" not in content


def test_user_without_managed_structure_is_told_why(client):
    user = RattachementFactory().user
    client.force_login(user)
    assert "Vous n'êtes gestionnaire d'aucune structure" in client.get(_url("raccordement")).content.decode()


def test_technical_account_password_is_shown_once(client, gp, structure):
    client.force_login(gp)
    response = client.post(_url("raccordement_technical_account_create", structure.pk))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    account = TechnicalAccount.objects.get(structure=structure)
    password = response.context["secret"]
    assert password in response.content.decode()
    assert check_password(password, account.password_hash)
    assert "Copiez ce secret maintenant" in response.content.decode()

    listing = client.get(_url("raccordement_structure", structure.pk)).content.decode()
    assert account.login in listing and "Actif" in listing
    assert password not in listing


def test_api_client_secret_is_shown_once(client, gs, structure):
    client.force_login(gs)
    response = client.post(_url("raccordement_api_client_create", structure.pk), {"label": "Logiciel Facturo"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    application = Application.objects.get(choeur_client__structure=structure)
    assert check_password(secret, application.client_secret)
    assert application.client_id in response.content.decode() and secret in response.content.decode()

    listing = client.get(_url("raccordement_api_clients", structure.pk)).content.decode()
    assert "Logiciel Facturo" in listing and application.client_id in listing
    assert secret not in listing
    # The page uses the new credentials for real: the token endpoint accepts them.
    token = client.post(
        "/api/oauth/token",
        {"grant_type": "client_credentials", "client_id": application.client_id, "client_secret": secret},
    )
    assert token.status_code == 200


def test_api_client_label_is_required(client, gp, structure):
    client.force_login(gp)
    response = client.post(_url("raccordement_api_client_create", structure.pk), {"label": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["label"]
    assert not ApiClient.objects.exists()


def test_simple_user_is_refused(client, structure):
    user = RattachementFactory(structure=structure).user
    client.force_login(user)
    for url in (_url("raccordement_structure", structure.pk), _url("raccordement_api_clients", structure.pk)):
        response = client.get(url)
        assert response.status_code == 403
        assert "Seuls les gestionnaires" in response.content.decode()
    assert client.post(_url("raccordement_technical_account_create", structure.pk)).status_code == 403
    assert client.post(_url("raccordement_api_client_create", structure.pk), {"label": "x"}).status_code == 403
    assert not TechnicalAccount.objects.exists() and not ApiClient.objects.exists()


def test_gestionnaire_of_another_structure_gets_not_found(client, structure):
    outsider = RattachementFactory(gp=True).user
    client.force_login(outsider)
    assert client.get(_url("raccordement_structure", structure.pk)).status_code == 404
    assert client.post(_url("raccordement_technical_account_create", structure.pk)).status_code == 404


def test_revocation_after_confirmation(client, gs, gp, structure):
    issued = technical_account_create(structure=structure, by=gp)
    client.force_login(gs)
    url = _url("raccordement_technical_account_revoke", structure.pk, issued.account.pk)

    confirm = client.get(url)
    assert confirm.status_code == 200 and "Révoquer le compte technique" in confirm.content.decode()
    response = client.post(url, follow=True)

    issued.account.refresh_from_db()
    assert issued.account.revoked_at is not None
    assert "Révoqué" in response.content.decode()


def test_api_client_revocation(client, gp, structure):
    issued = api_client_create(structure=structure, by=gp, label="Logiciel")
    client.force_login(gp)
    client.post(_url("raccordement_api_client_revoke", structure.pk, issued.client.pk))
    issued.client.refresh_from_db()
    assert issued.client.revoked_at is not None


def test_cannot_touch_credentials_of_another_structure(client, gp, structure):
    other_gp = RattachementFactory(gp=True)
    foreign = technical_account_create(structure=other_gp.structure, by=other_gp.user)
    client.force_login(gp)
    url = _url("raccordement_technical_account_revoke", structure.pk, foreign.account.pk)
    assert client.post(url).status_code == 404
    foreign.account.refresh_from_db()
    assert foreign.account.revoked_at is None


def test_password_reset_is_for_the_gestionnaire_principal_only(client, gp, gs, structure):
    issued = technical_account_create(structure=structure, by=gp)
    url = _url("raccordement_technical_account_reset", structure.pk, issued.account.pk)

    client.force_login(gs)
    assert (
        "Réinitialiser le mot de passe"
        not in client.get(_url("raccordement_structure", structure.pk)).content.decode()
    )
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403

    client.force_login(gp)
    assert "Réinitialiser le mot de passe" in client.get(_url("raccordement_structure", structure.pk)).content.decode()
    response = client.post(url)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    new_password = response.context["secret"]
    issued.account.refresh_from_db()
    assert check_password(new_password, issued.account.password_hash)
    assert not check_password(issued.password, issued.account.password_hash)
