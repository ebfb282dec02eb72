"""The world every API test runs in: a supplier with its raccordement (API client, access token, technical
account), public recipients with services, and a second private structure whose data must stay out of
reach. Time is frozen so that dates in golden answers are stable."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from oauth2_provider.models import AccessToken

from choeur.directory.enums import RattachementStatus, Role
from choeur.directory.raccordement import api_client_create, technical_account_create
from choeur.directory.services import structure_defaults_ensure
from tests.accounts.factories import UserFactory
from tests.directory.factories import BankAccountFactory, RattachementFactory, ServiceFactory, StructureFactory

FROZEN_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TECH_PASSWORD = "Mot-de-passe-technique-2026"


def account_header(login: str, password: str) -> str:
    return base64.b64encode(f"{login}:{password}".encode()).decode()


@dataclass
class Raccordement:
    """The credentials of one structure: what a Chorus client is configured with."""

    structure: object
    client: object
    token: str
    account: object
    login: str
    password: str = TECH_PASSWORD

    def headers(self, **overrides) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "cpro-account": account_header(self.login, self.password),
        }
        headers.update(overrides)
        return {key: value for key, value in headers.items() if value is not None}


@dataclass
class World:
    refs: dict[str, int] = field(default_factory=dict)
    objects: dict[str, object] = field(default_factory=dict)

    def add(self, kind: str, name: str, obj) -> object:
        self.refs[f"{kind}:{name}"] = obj.pk
        self.objects[f"{kind}:{name}"] = obj
        return obj

    def __getitem__(self, key: str):
        return self.objects[key]


def issue_token(client, *, token: str, scope: str = "openid", expires_in: int = 3600) -> str:
    AccessToken.objects.create(
        application=client.application,
        token=token,
        expires=timezone.now() + timedelta(seconds=expires_in),
        scope=scope,
    )
    return token


def make_raccordement(structure, *, name: str, scope: str = "openid") -> Raccordement:
    issued_client = api_client_create(
        structure=structure,
        by=None,
        label=f"Logiciel de facturation {name}",
        client_id=f"client-{name}",
        client_secret=f"secret-{name}-0123456789",
        check_permission=False,
    )
    issued_account = technical_account_create(
        structure=structure,
        by=None,
        login=f"TECH_1_{name.upper()}@cpro.choeur",
        password=TECH_PASSWORD,
        check_permission=False,
    )
    token = issue_token(issued_client.client, token=f"jeton-{name}", scope=scope)
    return Raccordement(
        structure=structure,
        client=issued_client.client,
        token=token,
        account=issued_account.account,
        login=issued_account.account.login,
    )


@pytest.fixture
def frozen():
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db, frozen) -> World:
    world = World()
    fournisseur = world.add(
        "structure",
        "fournisseur",
        StructureFactory(
            identifier="40000001400011",
            raison_sociale="Menuiserie Dupont",
            libelle="",
            numero_tva="FR40400000010",
            numero_rcs="RCS Lyon 400 000 010",
            email="contact@menuiserie-dupont.example",
            telephone="04 72 00 00 00",
        ),
    )
    autre = world.add(
        "structure",
        "autre_prive",
        StructureFactory(identifier="40000002200014", raison_sociale="Plomberie Martin", ville="Villeurbanne"),
    )
    commune = world.add(
        "structure",
        "commune",
        StructureFactory(
            commune=True,
            identifier="21690123100011",
            raison_sociale="Commune de Valfleurie",
            code_postal="69770",
            ville="Valfleurie",
        ),
    )
    hopital = world.add(
        "structure",
        "hopital",
        StructureFactory(
            hopital=True,
            identifier="26690001800018",
            raison_sociale="Centre hospitalier de Montclair",
            code_postal="69300",
            ville="Montclair",
            is_moa=True,
        ),
    )
    ferme = world.add(
        "structure",
        "commune_inactive",
        StructureFactory(
            public=True,
            identifier="21690999400016",
            raison_sociale="Ancien syndicat des eaux",
            is_active=False,
        ),
    )
    for structure in (fournisseur, autre, commune, hopital, ferme):
        structure_defaults_ensure(structure=structure)
        world.add(
            "service",
            f"{_short(structure, world)}:FACTURES_PUBLIQUES",
            structure.services.get(code="FACTURES_PUBLIQUES"),
        )
    world.add(
        "service",
        "commune:VOIRIE",
        ServiceFactory(structure=commune, code="VOIRIE", libelle="Service de la voirie", engagement_obligatoire=True),
    )
    world.add(
        "service",
        "commune:ECOLES",
        ServiceFactory(
            structure=commune,
            code="ECOLES",
            libelle="Service des écoles",
            description="Restauration et entretien des écoles",
            adresse="2 place de la Mairie",
            code_postal="69770",
            ville="Valfleurie",
            valid_from=date(2025, 1, 1),
        ),
    )
    world.add(
        "service",
        "commune:ANCIEN",
        ServiceFactory(
            structure=commune, code="ANCIEN", libelle="Ancien service des fêtes", valid_until=date(2025, 12, 31)
        ),
    )
    world.add("bank", "fournisseur:principal", BankAccountFactory(structure=fournisseur, label="Compte principal"))
    world.add(
        "bank",
        "fournisseur:affacturage",
        BankAccountFactory(structure=fournisseur, label="Compte d'affacturage", iban="FR7630004000031234567890143"),
    )
    BankAccountFactory(structure=fournisseur, label="Ancien compte", is_active=False)
    world.add("bank", "autre_prive:principal", BankAccountFactory(structure=autre, label="Compte de Plomberie Martin"))
    for espace in fournisseur.espaces.all():
        world.add("espace", f"fournisseur:{espace.code}", espace)

    agent = world.add("user", "agent", UserFactory(email="agent.comptable@menuiserie-dupont.example"))
    rattachement = world.add(
        "rattachement",
        "agent",
        RattachementFactory(
            user=agent, structure=fournisseur, role=Role.UTILISATEUR_SIMPLE, message="Comptable de l'entreprise"
        ),
    )
    rattachement.services.add(fournisseur.services.get(code="FACTURES_PUBLIQUES"))
    world.add("user", "demandeur", UserFactory(email="nouvelle.recrue@menuiserie-dupont.example"))
    world.add(
        "rattachement",
        "demandeur",
        RattachementFactory(
            user=world["user:demandeur"],
            structure=fournisseur,
            status=RattachementStatus.EN_COURS_DE_VALIDATION,
            message="Je rejoins le service comptable",
        ),
    )
    world.add("user", "etranger", UserFactory(email="quelqu.un@plomberie-martin.example"))
    RattachementFactory(user=world["user:etranger"], structure=autre)

    world.fournisseur = make_raccordement(fournisseur, name="fournisseur")
    world.add("account", "fournisseur", world.fournisseur.account)
    world.autre = make_raccordement(autre, name="autre")
    world.add("account", "autre_prive", world.autre.account)
    return world


def _short(structure, world: World) -> str:
    for key, obj in world.objects.items():
        if key.startswith("structure:") and obj.pk == structure.pk:
            return key.split(":", 1)[1]
    raise KeyError(structure)


@pytest.fixture
def cpro(client, world):
    """POST/GET on /cpro/ with the supplier's credentials (overridable per call)."""

    class Cpro:
        def post(self, path: str, body=None, *, raw: str | None = None, raccordement=None, **headers):
            raccordement = raccordement or world.fournisseur
            data = raw if raw is not None else ("" if body is None else json.dumps(body))
            return client.post(
                f"/cpro/{path}",
                data=data,
                content_type="application/json;charset=utf-8",
                headers=raccordement.headers(**headers),
            )

        def get(self, path: str, *, raccordement=None, **headers):
            raccordement = raccordement or world.fournisseur
            return client.get(f"/cpro/{path}", headers=raccordement.headers(**headers))

    return Cpro()
