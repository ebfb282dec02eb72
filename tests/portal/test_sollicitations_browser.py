"""Sollicitations in Chromium: a supplier asks about a suspended invoice from its page; the buyer's service sees
it in « à traiter », asks for a document; the supplier replies with it; the buyer answers and closes; the
supplier re-sends it and it shows as relancée. And a request for a new public structure, processed by an
administrator, after which the structure is in the annuaire. Every page is checked at 1280 and 375 px."""

import pytest
from playwright.sync_api import expect

from choeur.directory.enums import EspaceCode
from choeur.directory.models import Structure
from choeur.invoices.enums import InvoiceStatus
from choeur.sollicitations.models import Sollicitation, SollicitationCategory, SollicitationSubCategory
from choeur.sollicitations.referential import categories_seed
from tests.accounts.factories import UserFactory
from tests.directory.factories import StructureFactory
from tests.invoices.factories import InvoiceFactory, member_of
from tests.portal.test_tracking_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _referential(db):
    categories_seed(SollicitationCategory, SollicitationSubCategory)


def switch_to(page, user):
    page.context.clear_cookies()
    login(page, user)


def act(page, action: str, *, message: str = "", file=None):
    """Choose the action in the one action form, wait for its fields, fill them and submit."""
    form = page.locator("#action-form")
    select = form.get_by_label("Action")
    if select.input_value() != action:
        with page.expect_response(lambda r: f"action={action}" in r.url):
            select.select_option(action)
    if file is not None:
        expect(form.get_by_label("Pièces jointes")).to_be_visible()
        form.get_by_label("Pièces jointes").set_input_files(str(file))
    if message:
        form.get_by_label("Message").fill(message)
    with page.expect_navigation():
        form.get_by_role("button", name="Valider").click()


def status(page) -> str:
    return page.locator("#sollicitation-status").get_attribute("data-status")


def test_a_question_about_a_suspended_invoice_answered_closed_and_relancee(page, tmp_path):
    supplier = StructureFactory(raison_sociale="Menuiserie Lambert")
    buyer = StructureFactory(public=True, raison_sociale="Commune de Belair")
    seller = member_of(supplier, EspaceCode.FACTURES_EMISES)
    clerk = member_of(buyer, EspaceCode.FACTURES_RECUES)
    invoice = InvoiceFactory(sent=True, with_lines=True, supplier=supplier, recipient=buyer, number="FA-2026-801")
    invoice.status = InvoiceStatus.SUSPENDUE
    invoice.save(update_fields=["status"])

    login(page, seller)
    page.goto(f"/factures/{invoice.pk}/")
    with page.expect_navigation():
        page.locator("#ask-question").click()
    expect(page.locator("#sollicitation-form")).to_be_visible()
    assert "Commune de Belair" in page.locator(".fr-callout").inner_text()
    page.get_by_label("Message").fill("Bonjour, quelle pièce manque-t-il pour payer la facture FA-2026-801 ?")
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer la sollicitation").click()
    assert status(page) == "OUVERTE"
    sollicitation = Sollicitation.objects.get()

    switch_to(page, clerk)
    page.goto("/sollicitations/recues/")
    to_process = page.locator("#to-process")
    expect(to_process.locator(f'tr[data-sollicitation="{sollicitation.pk}"]')).to_have_count(1)
    with page.expect_navigation():
        to_process.get_by_role("link", name=sollicitation.numero).click()
    act(page, "demander_complement", message="Joignez le bon de livraison signé, s'il vous plaît.")
    assert status(page) == "EN_ATTENTE_COMPLEMENT"

    switch_to(page, seller)
    page.goto("/sollicitations/emises/")
    with page.expect_navigation():
        page.locator("#sollicitation-table").get_by_role("link", name=sollicitation.numero).click()
    proof = tmp_path / "bon-livraison.pdf"
    proof.write_bytes(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    act(page, "completer", message="Le voici.", file=proof)
    assert status(page) == "COMPLEMENT_RECU"

    switch_to(page, clerk)
    page.goto("/sollicitations/recues/")
    expect(page.locator(f'#to-process tr[data-sollicitation="{sollicitation.pk}"]')).to_have_count(1)
    page.goto(f"/sollicitations/{sollicitation.pk}/")
    expect(page.get_by_role("link", name="bon-livraison.pdf")).to_have_count(1)
    act(page, "repondre", message="Merci, le paiement reprend.")
    assert status(page) == "REPONDUE"
    act(page, "cloturer")
    assert status(page) == "CLOTUREE"

    switch_to(page, seller)
    page.goto(f"/sollicitations/{sollicitation.pk}/")
    act(page, "relancer", message="Toujours rien reçu après trois semaines.")
    assert status(page) == "RELANCEE"
    page.goto("/sollicitations/emises/")
    row = page.locator(f'#sollicitation-table tr[data-sollicitation="{sollicitation.pk}"]')
    expect(row).to_contain_text("Relancée")

    switch_to(page, clerk)
    page.goto("/sollicitations/recues/")
    expect(page.locator(f'#to-process tr[data-sollicitation="{sollicitation.pk}"]')).to_contain_text("Relancée")


def test_a_public_structure_requested_by_sollicitation_is_created_by_an_administrator(page):
    supplier = StructureFactory(raison_sociale="Menuiserie Lambert")
    seller = member_of(supplier, EspaceCode.FACTURES_EMISES)
    admin = UserFactory(staff=True)

    login(page, seller)
    page.goto("/sollicitations/nouvelle/")
    with page.expect_response(lambda r: "/sollicitations/nouvelle/champs/" in r.url):
        page.get_by_label("Catégorie et sous-catégorie").select_option("COMPTE.CREATION_STRUCTURE_PUBLIQUE")
    page.get_by_label("SIRET de la structure à créer").fill("21690123100011")
    page.get_by_label("Raison sociale").fill("Commune de Saint-Exemple")
    page.get_by_label("Adresse", exact=True).fill("1 place de la Mairie")
    page.get_by_label("Code postal").fill("69100")
    page.get_by_label("Ville").fill("Saint-Exemple")
    page.get_by_label("Objet").fill("Inscrire notre client public")
    page.get_by_label("Message").fill("Notre client n'est pas dans l'annuaire : merci de créer sa structure.")
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer la sollicitation").click()
    assert status(page) == "OUVERTE"
    sollicitation = Sollicitation.objects.get()

    switch_to(page, admin)
    page.goto("/sollicitations/recues/")
    with page.expect_navigation():
        page.locator("#to-process").get_by_role("link", name=sollicitation.numero).click()
    expect(page.locator("#request-data")).to_contain_text("21690123100011")
    act(page, "traiter_demande", message="Bienvenue sur la plateforme.")
    assert status(page) == "REPONDUE"
    expect(page.locator("#request-data")).to_be_visible()
    assert Structure.objects.filter(identifier="21690123100011", kind="PUBLIQUE").exists()

    switch_to(page, seller)
    page.goto("/annuaire/?q=Saint-Exemple")
    expect(page.get_by_text("Commune de Saint-Exemple").first).to_be_visible()
    page.goto(f"/sollicitations/{sollicitation.pk}/")
    expect(page.locator("#sollicitation-status")).to_have_attribute("data-status", "REPONDUE")
