"""Django admin: platform administrators create public structures (with inline services) and name GPs."""

import pytest
from django.urls import reverse

from choeur.directory.enums import DEFAULT_SERVICE_CODE, EspaceCode, Role
from choeur.directory.identifiers import make_siret
from choeur.directory.models import ManagerAction, Rattachement, Structure
from tests.accounts.factories import UserFactory
from tests.directory.factories import StructureFactory

pytestmark = pytest.mark.django_db

SIRET = make_siret("21690123", "0001")


def _form(**overrides):
    data = {
        "identifier_type": "SIRET",
        "identifier": SIRET,
        "kind": "PUBLIQUE",
        "public_category": "COLLECTIVITE",
        "is_active": "on",
        "raison_sociale": "Commune de Valfleurie",
        "pays": "FR",
        "code_postal": "69100",
        "ville": "Valfleurie",
        "code_service_obligatoire": "on",
        "gestionnaire_principal_email": "",
        "services-TOTAL_FORMS": "1",
        "services-INITIAL_FORMS": "0",
        "services-MIN_NUM_FORMS": "0",
        "services-MAX_NUM_FORMS": "1000",
        "services-0-code": "VOIRIE",
        "services-0-libelle": "Service de la voirie",
        "services-0-is_active": "on",
        "services-0-mise_en_paiement": "on",
        "espaces-TOTAL_FORMS": "0",
        "espaces-INITIAL_FORMS": "0",
        "espaces-MIN_NUM_FORMS": "0",
        "espaces-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


@pytest.fixture
def staff_client(client):
    staff = UserFactory(staff=True)
    client.force_login(staff)
    client.staff = staff
    return client


def test_staff_creates_public_structure_with_inline_services(staff_client):
    response = staff_client.post(reverse("admin:directory_structure_add"), _form())
    assert response.status_code == 302, response.content.decode()[:2000]
    structure = Structure.objects.get(identifier=SIRET)
    assert structure.is_public and structure.code_service_obligatoire
    assert set(structure.services.values_list("code", flat=True)) == {DEFAULT_SERVICE_CODE, "VOIRIE"}
    assert structure.espaces.filter(code=EspaceCode.FACTURES_RECUES).exists()
    assert not structure.rattachements.exists()
    assert ManagerAction.objects.get(structure=structure).actor == staff_client.staff


def test_invalid_siret_and_default_service_refused_in_admin(staff_client):
    response = staff_client.post(reverse("admin:directory_structure_add"), _form(identifier="12345678901234"))
    assert response.status_code == 200
    assert "clé de contrôle" in response.content.decode()
    response = staff_client.post(
        reverse("admin:directory_structure_add"), _form(**{"services-0-code": DEFAULT_SERVICE_CODE})
    )
    assert response.status_code == 200
    assert "créé automatiquement" in response.content.decode()
    assert not Structure.objects.exists()


def test_private_structure_in_admin_needs_a_gp(staff_client):
    user = UserFactory()
    data = _form(kind="PRIVEE", public_category="", code_service_obligatoire="")
    response = staff_client.post(reverse("admin:directory_structure_add"), data)
    assert response.status_code == 200 and not Structure.objects.exists()
    response = staff_client.post(
        reverse("admin:directory_structure_add"), {**data, "gestionnaire_principal_email": user.email}
    )
    assert response.status_code == 302
    assert Rattachement.objects.get(structure__identifier=SIRET).user == user


def test_staff_names_gp_on_existing_structure(staff_client):
    structure = StructureFactory(public=True)
    user = UserFactory()
    url = reverse("admin:directory_structure_change", args=[structure.pk])
    default = structure.services.get()
    # The existing default service is the inline's only (initial) form.
    data = _form(
        raison_sociale=structure.raison_sociale,
        gestionnaire_principal_email=user.email,
        **{
            "services-INITIAL_FORMS": "1",
            "services-0-id": str(default.pk),
            "services-0-structure": str(structure.pk),
            "services-0-code": DEFAULT_SERVICE_CODE,
            "services-0-libelle": default.libelle,
        },
    )
    response = staff_client.post(url, data)
    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        [f.formset.errors for f in response.context["inline_admin_formsets"]],
    )
    assert Rattachement.objects.get(structure=structure, user=user).role == Role.GESTIONNAIRE_PRINCIPAL


def test_bank_accounts_are_read_only_in_admin(staff_client):
    assert staff_client.get(reverse("admin:directory_bankaccount_add")).status_code == 403


def test_engagements_are_listed_and_searched_in_admin(staff_client):
    from tests.directory.factories import EngagementFactory

    EngagementFactory(number="BC-ADMIN-1")
    EngagementFactory(number="BC-ADMIN-2")
    url = reverse("admin:directory_engagementjuridique_changelist")
    page = staff_client.get(url, {"q": "ADMIN-1"}).content.decode()
    assert "BC-ADMIN-1" in page and "BC-ADMIN-2" not in page
