"""The foundation's whole journey in one browser session: a newcomer registers, activates from the e-mailed
link, and creates their structure (after seeing the error for an invalid SIRET). The rattachement half of the
journey is in test_structures_browser.py."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from choeur.directory.enums import RattachementStatus, Role
from choeur.directory.identifiers import make_siret
from choeur.directory.models import Rattachement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIRET = make_siret("83456711", "0002")
WRONG_SIRET = SIRET[:-1] + str((int(SIRET[-1]) + 1) % 10)
PASSWORD = "Une phrase de passe bien longue 2026"


def test_register_activate_then_create_a_structure(page):
    mail.outbox.clear()
    page.goto("/inscription/")
    page.fill("#id_email", "lea.fontaine@exemple.fr")
    page.fill("#id_first_name", "Léa")
    page.fill("#id_last_name", "Fontaine")
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url("**/inscription/courriel-envoye/")

    link = re.search(r"https?://[^/\s]+(/activation/[A-Za-z0-9_\-]+/)", mail.outbox[-1].body).group(1)
    page.goto(link)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Activer mon compte").click()
    page.wait_for_url("**/bienvenue/")

    page.get_by_role("link", name="Créer une structure").click()
    page.get_by_role("link", name="Rechercher ou créer une structure").click()
    page.get_by_label("SIRET ou raison sociale").fill(WRONG_SIRET)
    page.get_by_role("button", name="Rechercher", exact=True).click()
    expect(page.get_by_text("la clé de contrôle ne correspond pas")).to_be_visible()

    page.get_by_label("SIRET ou raison sociale").fill(SIRET)
    page.get_by_role("button", name="Rechercher", exact=True).click()
    page.get_by_role("link", name="Créer la structure").click()
    page.get_by_label("Raison sociale").fill("Menuiserie Fontaine")
    page.get_by_role("button", name="Créer la structure").click()
    expect(page.get_by_role("heading", name="Menuiserie Fontaine", level=1)).to_be_visible()

    rattachement = Rattachement.objects.get(user__email="lea.fontaine@exemple.fr")
    assert rattachement.role == Role.GESTIONNAIRE_PRINCIPAL
    assert rattachement.status == RattachementStatus.VALIDEE
    assert rattachement.structure.services.filter(code="FACTURES_PUBLIQUES").exists()
