"""Demo data: idempotent seeding, published credentials that really work, nothing real."""

import json

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from oauth2_provider.models import AccessToken, Application
from stdnum import iban
from stdnum.fr import siret as stdnum_siret

from choeur.core.models import AuditEntry
from choeur.directory import demo
from choeur.directory.enums import PublicCategory, Role, StructureKind
from choeur.directory.models import (
    ApiClient,
    BankAccount,
    EspaceSubscription,
    ManagerAction,
    Rattachement,
    Service,
    Structure,
    StructureEspace,
    TechnicalAccount,
)
from choeur.directory.raccordement import technical_account_authenticate, technical_account_revoke
from tests.directory.factories import RattachementFactory

pytestmark = pytest.mark.django_db
MODELS = (
    get_user_model(),
    Structure,
    Service,
    Rattachement,
    StructureEspace,
    EspaceSubscription,
    BankAccount,
    TechnicalAccount,
    ApiClient,
    Application,
    ManagerAction,
    AuditEntry,
)


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def seeded():
    demo.demo_seed()


def _credentials_json(capsys) -> dict:
    call_command("demo_credentials", "--json")
    return json.loads(capsys.readouterr().out)


def test_seeding_twice_changes_nothing(capsys):
    call_command("seed_demo")
    first = _counts()
    assert "créé" in capsys.readouterr().out
    hashes = dict(TechnicalAccount.objects.values_list("login", "password_hash"))

    call_command("seed_demo")

    assert _counts() == first
    assert "rien n'a changé" in capsys.readouterr().out
    assert dict(TechnicalAccount.objects.values_list("login", "password_hash")) == hashes


def test_data_set_covers_every_role_and_setting(seeded):
    buyers = {s.key: Structure.objects.get(identifier=s.siret) for s in demo.DEMO_BUYERS}
    commune, hopital, etat = buyers["commune"], buyers["hopital"], buyers["etat"]
    assert commune.public_category == PublicCategory.COLLECTIVITE and commune.code_service_obligatoire
    assert commune.services.active().count() >= 3
    assert hopital.public_category == PublicCategory.ETABLISSEMENT_SANTE and hopital.engagement_obligatoire
    assert etat.public_category == PublicCategory.ETAT and etat.engagement_ou_service
    assert all(b.kind == StructureKind.PUBLIQUE and b.services.count() > 1 for b in buyers.values())
    assert Structure.objects.get(identifier=demo.demo_structure("lumen").siret).is_moe
    market = demo.DEMO_MARKETS[0]
    assert market["groupement"]["mandataire"] == "garnier"
    assert len(market["groupement"]["cotraitants"]) >= 1
    for supplier in demo.DEMO_SUPPLIERS:
        structure = Structure.objects.get(identifier=supplier.siret)
        assert structure.kind == StructureKind.PRIVEE
        roles = set(Rattachement.objects.validated().filter(structure=structure).values_list("role", flat=True))
        assert roles == set(Role.values)
        account = structure.bank_accounts.get()
        iban.validate(account.iban)
    assert get_user_model().objects.filter(is_staff=True, email=demo.DEMO_PLATFORM_ADMIN.email).exists()
    for structure in demo.DEMO_STRUCTURES:
        assert stdnum_siret.is_valid(structure.siret)
    assert len({s.siret for s in demo.DEMO_STRUCTURES}) == len(demo.DEMO_STRUCTURES)


def test_demo_credentials_json_structure(seeded, capsys):
    data = _credentials_json(capsys)

    assert set(data) == {"users", "api", "structures"}
    assert all(set(u) == {"email", "password", "role", "siret"} for u in data["users"])
    assert all(set(a) == {"siret", "client_id", "client_secret", "cpro_login", "cpro_password"} for a in data["api"])
    assert all(set(s) == {"siret", "raison_sociale", "publique"} for s in data["structures"])
    supplier_sirets = {s.siret for s in demo.DEMO_SUPPLIERS}
    api_sirets = [a["siret"] for a in data["api"]]
    assert api_sirets[: len(supplier_sirets)] == [s.siret for s in demo.DEMO_SUPPLIERS]
    assert set(api_sirets) >= supplier_sirets
    assert len(data["users"]) == 1 + sum(len(s.people) for s in demo.DEMO_STRUCTURES)
    assert {s["publique"] for s in data["structures"]} == {True, False}


def test_every_demo_password_logs_in(seeded, capsys, rf):
    for user in _credentials_json(capsys)["users"]:
        # Axes (login throttling) needs the request, as the login form gives it.
        request = rf.post("/connexion/")
        assert authenticate(request, username=user["email"], password=user["password"]) is not None, user["email"]


def test_every_demo_api_client_gets_a_token_and_its_technical_account_works(seeded, capsys, client):
    api = _credentials_json(capsys)["api"]
    assert api
    for item in api:
        response = client.post(
            "/api/oauth/token",
            {
                "grant_type": "client_credentials",
                "client_id": item["client_id"],
                "client_secret": item["client_secret"],
                "scope": "openid",
            },
        )
        assert response.status_code == 200, (item["client_id"], response.content)
        assert response.json()["token_type"] == "Bearer"
        account = technical_account_authenticate(login=item["cpro_login"], password=item["cpro_password"])
        assert account is not None and account.structure.identifier == item["siret"]
    assert AccessToken.objects.count() == len(api)


def test_credentials_are_hashed_in_the_database(seeded):
    for structure in demo.DEMO_STRUCTURES:
        application = Application.objects.get(client_id=structure.api.client_id)
        assert structure.api.client_secret not in application.client_secret
        account = TechnicalAccount.objects.get(login=structure.api.cpro_login)
        assert structure.api.cpro_password not in account.password_hash


def test_changed_credentials_are_not_printed_and_reseed_restores_them(seeded, capsys):
    garnier = demo.demo_structure("garnier")
    gp = get_user_model().objects.get(email=garnier.people[0].email)
    technical_account_revoke(account=TechnicalAccount.objects.get(login=garnier.api.cpro_login), by=gp)
    user = get_user_model().objects.get(email=garnier.people[2].email)
    user.set_password("Un-autre-mot-de-passe-2026")
    user.save()

    data = _credentials_json(capsys)
    assert garnier.siret not in [a["siret"] for a in data["api"]]
    assert garnier.people[2].email not in [u["email"] for u in data["users"]]
    call_command("demo_credentials", "--json")
    assert "seed_demo" in capsys.readouterr().err

    demo.demo_seed()
    data = _credentials_json(capsys)
    assert garnier.siret in [a["siret"] for a in data["api"]]
    assert garnier.people[2].email in [u["email"] for u in data["users"]]


def test_demo_credentials_refuses_when_not_seeded():
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("demo_credentials")


def test_readable_table(seeded, capsys):
    call_command("demo_credentials")
    out = capsys.readouterr().out
    assert "Utilisateurs du portail" in out and demo.DEMO_USER_PASSWORD in out
    assert demo.demo_structure("hopital").raison_sociale in out


def test_seeding_refuses_a_database_in_real_use():
    RattachementFactory(gp=True)
    with pytest.raises(Exception, match="instance réelle"):
        demo.demo_seed()
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    demo.demo_seed(force=True)
    assert Structure.objects.filter(identifier=demo.demo_structure("commune").siret).exists()


def test_only_fictitious_addresses():
    for structure in demo.DEMO_STRUCTURES:
        for person in structure.people:
            assert person.email.endswith(".example")
    assert demo.DEMO_PLATFORM_ADMIN.email.endswith(".example")
