"""The main navigation offers each user the entries their roles and open espaces allow, and nothing that
answers 403: a supplier used to see « Factures reçues », « Factures à valider », « Raccordement API »…"""

import re

import pytest

from choeur.accounts.models import User
from choeur.directory.demo import demo_seed

pytestmark = pytest.mark.django_db

MARCHAND = "philippe.marchand@fournitures-marchand.example"  # supplier, gestionnaire principal
CHEVALIER = "mehdi.chevalier@fournitures-marchand.example"  # supplier, utilisateur simple
COMMUNE = "isabelle.fontaine@valfleurie.example"  # public buyer, gestionnaire principal


@pytest.fixture
def seeded():
    demo_seed()


def _nav(client, email: str) -> dict[str, str]:
    client.force_login(User.objects.get(email=email))
    html = client.get("/").content.decode()
    nav = html[html.index('id="header-navigation"') : html.index("</nav>", html.index('id="header-navigation"'))]
    links = re.findall(r'<a class="fr-nav__link" href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    return {label.strip(): href for href, label in links}


def test_a_supplier_sees_his_own_spaces_and_not_the_buyer_s(client, seeded):
    nav = _nav(client, MARCHAND)
    assert {"Saisir une facture", "Factures émises", "Dépôt de flux", "Mes structures"} <= set(nav)
    assert "Factures reçues" not in nav
    assert "Factures à valider (sous-traitance, cotraitance)" not in nav
    assert "Raccordement API" in nav and "Activités du gestionnaire" in nav  # he manages his structure


def test_a_simple_user_gets_no_gestionnaire_entries(client, seeded):
    nav = _nav(client, CHEVALIER)
    assert "Activités du gestionnaire" not in nav and "Raccordement API" not in nav
    assert "Factures reçues" not in nav


def test_a_public_buyer_sees_the_received_invoices(client, seeded):
    nav = _nav(client, COMMUNE)
    assert "Factures reçues" in nav


@pytest.mark.parametrize("email", [MARCHAND, CHEVALIER, COMMUNE])
def test_no_entry_of_the_navigation_leads_to_a_refusal(client, seeded, email):
    for label, href in _nav(client, email).items():
        response = client.get(href)
        assert response.status_code in (200, 302), f"{label} ({href}) répond {response.status_code}"
        assert "Accès refusé" not in response.content.decode(), f"{label} ({href}) refuse l'accès"
