"""The home page: what Chœur is for each kind of visitor, and signed-in users' own shortcuts."""

import html
import re

import pytest
from django.urls import reverse

from choeur.directory.enums import EspaceCode
from tests.accounts.factories import UserFactory
from tests.directory.factories import StructureFactory
from tests.invoices.factories import InvoiceFactory, member_of

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_each_kind_of_visitor_finds_what_it_is_for_and_the_way_in(client):
    response = client.get(reverse("portal:home"))
    page = response.content.decode()
    for card in ("visitor-supplier", "visitor-buyer", "visitor-moe", "visitor-integrator"):
        assert f'id="{card}"' in page
    assert f'href="{reverse("portal:register")}"' in page
    assert f'href="{reverse("portal:login")}"' in page
    assert f'href="{reverse("native:openapi-view")}"' in page
    assert 'id="shortcuts"' not in page


def test_a_buyer_sees_what_waits_for_processing(client):
    supplier, buyer = StructureFactory(), StructureFactory(public=True)
    clerk = member_of(buyer, EspaceCode.FACTURES_RECUES)
    for n in range(2):
        InvoiceFactory(sent=True, supplier=supplier, recipient=buyer, number=f"FA-40{n}")
    client.force_login(clerk)
    response = client.get(reverse("portal:home"))
    assert "Factures reçues à traiter : 2" in text(response)
    assert "?statut=a_traiter" in response.content.decode()
    assert "Factures émises à reprendre" not in text(response)  # no « Factures émises » espace


def test_a_supplier_sees_its_own_shortcuts(client):
    supplier = StructureFactory()
    seller = member_of(supplier, EspaceCode.FACTURES_EMISES)
    InvoiceFactory(supplier=supplier, recipient=StructureFactory(public=True))  # a draft
    client.force_login(seller)
    page = text(client.get(reverse("portal:home")))
    assert "Brouillons : 1" in page and "Saisir une facture" in page
    assert "Factures reçues à traiter" not in page


def test_a_user_without_structure_is_told_to_join_one(client):
    client.force_login(UserFactory())
    assert "Rejoindre ou créer une structure" in text(client.get(reverse("portal:home")))
