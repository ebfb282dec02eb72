"""Personas × every structures view: who sees what. Outside one's structures, private data is a 404."""

import time

import pytest
from django.urls import reverse

from choeur.directory import services
from choeur.directory.enums import EspaceCode
from choeur.portal.accounts_views.reauth import REAUTH_SESSION_KEY
from tests.accounts.factories import UserFactory
from tests.directory.factories import BankAccountFactory, RattachementFactory, ServiceFactory, StructureFactory

pytestmark = pytest.mark.django_db

PERSONAS = ("gp", "gs", "simple", "pending", "outsider", "staff")
MEMBERS = {"gp", "gs", "simple"}
MANAGERS = {"gp", "gs"}


@pytest.fixture
def world():
    """A private structure with one person per persona, and a second structure nobody here belongs to."""
    structure = StructureFactory(raison_sociale="Menuiserie Secrète")
    services.structure_defaults_ensure(structure=structure)
    people = {
        "gp": RattachementFactory(structure=structure, gp=True),
        "gs": RattachementFactory(structure=structure, gs=True),
        "simple": RattachementFactory(structure=structure),
        "pending": RattachementFactory(structure=structure, pending=True),
    }
    users = {name: r.user for name, r in people.items()}
    users["outsider"] = UserFactory()
    users["staff"] = UserFactory(staff=True)
    # The outsider manages their own structure: they have a « gestionnaire » page of their own.
    RattachementFactory(user=users["outsider"], gp=True, structure=StructureFactory(raison_sociale="Autre Maison"))
    bank = BankAccountFactory(structure=structure, label="Compte très privé")
    service = ServiceFactory(structure=structure, code="ATELIER")
    services.service_update(by=users["gp"], service=service, libelle="Atelier (modifié)")
    return {"structure": structure, "people": people, "users": users, "bank": bank, "service": service}


def _urls(world):
    s = world["structure"].pk
    p = world["people"]
    return {
        "structure_detail": reverse("portal:structure_detail", args=[s]),
        "structure_edit": reverse("portal:structure_edit", args=[s]),
        "structure_services": reverse("portal:structure_services", args=[s]),
        "service_create": reverse("portal:service_create", args=[s]),
        "service_edit": reverse("portal:service_edit", args=[s, world["service"].pk]),
        "structure_bank_accounts": reverse("portal:structure_bank_accounts", args=[s]),
        "bank_account_create": reverse("portal:bank_account_create", args=[s]),
        "bank_account_edit": reverse("portal:bank_account_edit", args=[s, world["bank"].pk]),
        "bank_account_toggle": reverse("portal:bank_account_toggle", args=[s, world["bank"].pk]),
        "structure_users": reverse("portal:structure_users", args=[s]),
        "rattachement_deactivate": reverse("portal:rattachement_deactivate", args=[s, p["simple"].pk]),
        "structure_transfer": reverse("portal:structure_transfer", args=[s]),
        "structure_espaces": reverse("portal:structure_espaces", args=[s]),
        "gestionnaire_rattachement": reverse("portal:gestionnaire_rattachement", args=[p["pending"].pk]),
        "gestionnaire_rights": reverse("portal:gestionnaire_rights", args=[p["simple"].pk]),
        "gestionnaire_filtered": reverse("portal:gestionnaire_history") + f"?structure={s}",
    }


# Expected status by view: members / managers / GP only; everybody else outside gets a 404.
EXPECTED = {
    "structure_detail": ("members", 200),
    "structure_edit": ("managers", 200),
    "structure_services": ("members", 200),
    "service_create": ("managers", 200),
    "service_edit": ("managers", 200),
    "structure_bank_accounts": ("members", 200),
    "bank_account_create": ("managers", 200),
    "bank_account_edit": ("managers", 200),
    "bank_account_toggle": ("managers", 200),
    "structure_users": ("members", 200),
    "rattachement_deactivate": ("managers", 200),
    "structure_transfer": ("gp", 200),
    "structure_espaces": ("members", 200),
    "gestionnaire_rattachement": ("managers_only_404", 200),
    "gestionnaire_rights": ("managers_only_404", 200),
    "gestionnaire_filtered": ("managers_only_404", 200),
}


def _expected_status(view: str, persona: str) -> int:
    scope, ok = EXPECTED[view]
    if scope == "members":
        return ok if persona in MEMBERS else 404
    if scope == "managers":
        if persona in MANAGERS:
            return ok
        return 403 if persona in MEMBERS else 404
    if scope == "gp":
        if persona == "gp":
            return ok
        return 403 if persona in MEMBERS else 404
    # Gestionnaire pages address a request or a person directly: outside one's managed structures, 404.
    return ok if persona in MANAGERS else 404


@pytest.mark.parametrize("persona", PERSONAS)
def test_persona_matrix(client, world, persona):
    """Every view of a structure, for one persona: the expected status, and no private data in refusals."""
    user = world["users"][persona]
    client.force_login(user)
    session = client.session
    session[REAUTH_SESSION_KEY] = time.time()  # bank pages: re-authenticated, to test the scope alone
    session.save()
    wrong = []
    for view, url in _urls(world).items():
        response = client.get(url)
        expected = _expected_status(view, persona)
        content = response.content.decode()
        if response.status_code != expected:
            wrong.append(f"{view}: {response.status_code} au lieu de {expected}")
        elif response.status_code == 403 and "Accès réservé" not in content:
            wrong.append(f"{view}: page 403 sans explication")
        if response.status_code != 200 and ("Compte très privé" in content or world["bank"].bic in content):
            wrong.append(f"{view}: données privées dans un refus")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_open_to_everybody_logged_in(client, world, persona):
    client.force_login(world["users"][persona])
    for name in ("structures", "structure_search", "rattachement_lookup", "gestionnaire",
                 "gestionnaire_subscriptions", "gestionnaire_users", "gestionnaire_history"):  # fmt: skip
        assert client.get(reverse(f"portal:{name}")).status_code == 200, name


@pytest.mark.parametrize("persona", ("pending", "outsider", "staff"))
def test_gestionnaire_pages_hide_other_structures(client, world, persona):
    client.force_login(world["users"][persona])
    for name in ("gestionnaire", "gestionnaire_subscriptions", "gestionnaire_users", "gestionnaire_history"):
        content = client.get(reverse(f"portal:{name}")).content.decode()
        assert "Menuiserie Secrète" not in content, name
        assert world["users"]["simple"].email not in content, name


def test_outsider_export_has_only_their_structure(client, world):
    client.force_login(world["users"]["outsider"])
    content = client.get(reverse("portal:gestionnaire_export")).getvalue().decode("utf-8-sig")
    assert "Autre Maison" in content and "Menuiserie Secrète" not in content


@pytest.mark.parametrize("persona", ("simple", "pending", "staff"))
def test_export_refused_to_non_managers(client, world, persona):
    client.force_login(world["users"][persona])
    assert client.get(reverse("portal:gestionnaire_export")).status_code == 403


def test_anonymous_is_sent_to_login(client, world):
    for url in _urls(world).values():
        response = client.get(url)
        assert response.status_code == 302 and reverse("portal:login") in response["Location"], url


def test_bank_pages_need_fresh_reauthentication_after_scope(client, world):
    client.force_login(world["users"]["gp"])
    response = client.get(reverse("portal:bank_account_create", args=[world["structure"].pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:reauth"))
    # The outsider gets the 404, not the password prompt.
    client.force_login(world["users"]["outsider"])
    response = client.get(reverse("portal:bank_account_create", args=[world["structure"].pk]))
    assert response.status_code == 404


def test_public_structure_shows_public_data_to_outsider(client):
    structure = StructureFactory(public=True, raison_sociale="Commune de Valbonne", engagement_obligatoire=True)
    services.structure_defaults_ensure(structure=structure)
    BankAccountFactory(structure=structure, label="Compte du trésor")
    gp = RattachementFactory(structure=structure, gp=True)
    client.force_login(UserFactory())
    response = client.get(reverse("portal:structure_detail", args=[structure.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Commune de Valbonne" in content and "Numéro d'engagement obligatoire" in content
    assert "Compte du trésor" not in content and gp.user.email not in content
    assert "Demander un rattachement" in content
    for name in ("structure_bank_accounts", "structure_users", "structure_services", "structure_espaces"):
        assert client.get(reverse(f"portal:{name}", args=[structure.pk])).status_code == 404, name


def test_posts_outside_scope_are_404_and_change_nothing(client, world):
    structure = world["structure"]
    client.force_login(world["users"]["outsider"])
    posts = {
        reverse("portal:espace_toggle", args=[structure.pk]): {"code": EspaceCode.ENGAGEMENTS, "action": "ouvrir"},
        reverse("portal:rattachement_role", args=[structure.pk, world["people"]["simple"].pk]): {
            "role": "GESTIONNAIRE_SECONDAIRE"
        },
        reverse("portal:structure_edit", args=[structure.pk]): {"raison_sociale": "Piratée", "pays": "FR"},
        reverse("portal:gestionnaire_rattachement", args=[world["people"]["pending"].pk]): {"decision": "valider"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url
    structure.refresh_from_db()
    assert structure.raison_sociale == "Menuiserie Secrète"
    assert not structure.espaces.filter(code=EspaceCode.ENGAGEMENTS).exists()
    world["people"]["pending"].refresh_from_db()
    assert world["people"]["pending"].status == "EN_COURS_DE_VALIDATION"
    # The outsider's bulk form cannot reach another structure's request either.
    response = client.post(
        reverse("portal:gestionnaire"), {"ids": [world["people"]["pending"].pk], "decision": "valider"}
    )
    assert response.status_code == 200
    world["people"]["pending"].refresh_from_db()
    assert world["people"]["pending"].status == "EN_COURS_DE_VALIDATION"
