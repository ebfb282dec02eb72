"""A technical account closed by repeated bad passwords: its gestionnaire sees it and lifts the lock."""

import pytest
from django.urls import reverse

from choeur.directory.models import ManagerAction
from choeur.directory.raccordement import (
    TECHNICAL_ACCOUNT_BACKOFF,
    technical_account_authenticate,
    technical_account_create,
    technical_account_locked_for,
)
from tests.directory.factories import RattachementFactory, StructureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def structure():
    return StructureFactory(raison_sociale="Constructions Garnier-Lefèvre")


@pytest.fixture
def gs(structure):
    return RattachementFactory(structure=structure, gs=True).user


@pytest.fixture
def locked(structure, gs):
    issued = technical_account_create(structure=structure, by=gs)
    for _ in range(8):
        TECHNICAL_ACCOUNT_BACKOFF.fail(issued.account.login)
    return issued


def test_the_list_shows_the_lock_and_unlocking_lifts_it(client, structure, gs, locked):
    client.force_login(gs)
    page = client.get(reverse("portal:raccordement_structure", args=[structure.pk])).content.decode()
    assert "Verrouillé" in page
    assert "8 mots de passe erronés" in page
    assert "Déverrouiller" in page

    response = client.post(
        reverse("portal:raccordement_technical_account_unlock", args=[structure.pk, locked.account.pk]), follow=True
    )

    assert "est déverrouillé" in response.content.decode()
    assert technical_account_locked_for(locked.account) is None
    assert technical_account_authenticate(login=locked.account.login, password=locked.password) is not None
    assert ManagerAction.objects.filter(structure=structure, action="technical_account.unlocked").exists()
    assert (
        "Verrouillé" not in client.get(reverse("portal:raccordement_structure", args=[structure.pk])).content.decode()
    )


def test_only_a_gestionnaire_of_the_structure_unlocks(client, structure, locked):
    stranger = RattachementFactory(structure=StructureFactory(), gs=True).user
    member = RattachementFactory(structure=structure).user
    url = reverse("portal:raccordement_technical_account_unlock", args=[structure.pk, locked.account.pk])
    for user in (stranger, member):
        client.force_login(user)
        assert client.post(url).status_code in (403, 404)
    assert technical_account_locked_for(locked.account) is not None


def test_unlocking_an_open_account_says_so(client, structure, gs):
    issued = technical_account_create(structure=structure, by=gs)
    client.force_login(gs)
    response = client.post(
        reverse("portal:raccordement_technical_account_unlock", args=[structure.pk, issued.account.pk]), follow=True
    )
    assert "pas verrouillé" in response.content.decode()


def test_get_is_refused(client, structure, gs, locked):
    client.force_login(gs)
    url = reverse("portal:raccordement_technical_account_unlock", args=[structure.pk, locked.account.pk])
    assert client.get(url).status_code == 405
