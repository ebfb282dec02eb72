"""Browser journey: create a structure after a search, then a colleague joins it."""

import re

import pytest
from playwright.sync_api import expect

from choeur.directory.identifiers import make_siret
from choeur.directory.models import Rattachement, Structure
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

SIRET = make_siret("83456789", "0001")
WRONG_SIRET = SIRET[:-1] + str((int(SIRET[-1]) + 1) % 10)


def _log_in(page, user):
    page.goto("/connexion/")
    page.get_by_role("textbox", name="Adresse électronique").fill(user.email)
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def _search(page, query):
    page.goto("/structures/rechercher/")
    page.get_by_label("SIRET ou raison sociale").fill(query)
    page.get_by_role("button", name="Rechercher", exact=True).click()


@pytest.mark.browser
def test_create_structure_then_colleague_joins(page, browser, live_server):
    founder = UserFactory(first_name="Claire", last_name="Fondatrice")
    colleague = UserFactory(first_name="Hugo", last_name="Collègue")

    _log_in(page, founder)
    page.get_by_role("link", name="Mes structures").first.click()
    page.get_by_role("link", name="Rechercher ou créer une structure").click()

    # An invalid SIRET: the search says what is wrong with it.
    page.get_by_label("SIRET ou raison sociale").fill(WRONG_SIRET)
    page.get_by_role("button", name="Rechercher", exact=True).click()
    expect(page.get_by_text("la clé de contrôle ne correspond pas")).to_be_visible()

    # The right one: not registered yet, so the creation is offered, the SIRET prefilled.
    _search(page, SIRET)
    expect(page.get_by_text("Aucune structure inscrite")).to_be_visible()
    page.get_by_role("link", name="Créer la structure").click()
    expect(page.get_by_role("textbox", name=re.compile(r"^Identifiant"))).to_have_value(SIRET)
    # A typo in the form is caught on the field.
    page.get_by_role("textbox", name=re.compile(r"^Identifiant")).fill(WRONG_SIRET)
    page.get_by_label("Raison sociale").fill("Charpentes Fondatrice")
    page.get_by_role("button", name="Créer la structure").click()
    expect(page.get_by_text("la clé de contrôle ne correspond pas")).to_be_visible()
    page.get_by_role("textbox", name=re.compile(r"^Identifiant")).fill(SIRET)
    page.get_by_role("button", name="Créer la structure").click()
    expect(page.get_by_role("heading", name="Charpentes Fondatrice", level=1)).to_be_visible()
    expect(page.get_by_text("vous en êtes le gestionnaire principal")).to_be_visible()
    structure = Structure.objects.get(identifier=SIRET)

    # The colleague, in another browser session, finds it and asks to join.
    other = browser.new_context(base_url=live_server.url, locale="fr-FR")
    other.set_default_timeout(10_000)
    colleague_page = other.new_page()
    try:
        _log_in(colleague_page, colleague)
        _search(colleague_page, SIRET[:9])
        colleague_page.get_by_role("link", name=re.compile("Demander un rattachement")).click()
        colleague_page.get_by_label("Message aux gestionnaires").fill("Je suis le nouveau conducteur de travaux.")
        colleague_page.get_by_role("button", name="Envoyer la demande").click()
        expect(colleague_page.get_by_text("est envoyée à ses gestionnaires")).to_be_visible()
        expect(colleague_page.get_by_text("En cours de validation").first).to_be_visible()

        # The gestionnaire approves it from « Activités du gestionnaire ».
        page.get_by_role("link", name="Activités du gestionnaire").click()
        expect(page.get_by_text(colleague.email)).to_be_visible()
        # DSFR draws the box on the label, which is what a person clicks.
        checkbox = page.get_by_label(f"Sélectionner la demande de {colleague.full_name}")
        page.locator(f"label[for='{checkbox.get_attribute('id')}']").click()
        expect(checkbox).to_be_checked()
        page.get_by_role("button", name="Valider la sélection").click()
        expect(page.get_by_text("1 demande de rattachement validée")).to_be_visible()
        assert Rattachement.objects.get(user=colleague, structure=structure).status == "VALIDEE"

        # The colleague now sees the structure and its espaces.
        colleague_page.goto("/structures/")
        colleague_page.get_by_role("link", name="Charpentes Fondatrice").click()
        expect(colleague_page.get_by_text("Sollicitations émises — modification")).to_be_visible()
        colleague_page.get_by_role("link", name="Espaces", exact=True).click()
        espaces = colleague_page.locator("#espaces")
        expect(espaces.get_by_role("row", name=re.compile("Factures émises"))).to_contain_text("Ouvert")
        colleague_page.get_by_role("combobox", name=re.compile(r"^Espace")).select_option(label="Factures émises")
        colleague_page.get_by_text("Consultation uniquement", exact=True).click()
        colleague_page.get_by_role("button", name="Envoyer la demande").click()
        expect(colleague_page.get_by_text("Demande en cours (consultation uniquement)")).to_be_visible()
    finally:
        other.close()
