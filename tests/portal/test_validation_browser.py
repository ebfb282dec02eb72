"""A sous-traitant's A9 validated by the titulaire in Chromium, then in the buyer's « Factures reçues »."""

import pytest

from choeur.directory.enums import EspaceCode
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import Invoice
from choeur.invoices.selectors import invoices_received
from choeur.invoices.services import invoice_send
from choeur.invoices.validation_circuit import invoice_validate
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.directory.factories import RattachementFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, issuer_for, member_of, open_espace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_titulaire_validates_a_subcontractor_invoice_which_reaches_the_buyer(page):
    titulaire = StructureFactory(raison_sociale="Bâtir Ensemble")
    draft = InvoiceFactory(
        with_lines=True,
        a9=True,
        valideur=titulaire,
        number="ST-PLOMB-12",
        recipient=StructureFactory(public=True, raison_sociale="Commune de Belair"),
    )
    invoice = invoice_send(invoice=draft, by=issuer_for(draft.supplier))
    assert invoice.status == InvoiceStatus.A_VALIDER_1

    open_espace(titulaire, EspaceCode.FACTURES_A_VALIDER)
    person = UserFactory(email="claire.martin@batir-ensemble.fr")
    RattachementFactory(user=person, structure=titulaire, role="GESTIONNAIRE_SECONDAIRE")
    buyer = member_of(invoice.recipient, EspaceCode.FACTURES_RECUES)
    assert not invoices_received(user=buyer).exists()

    page.goto("/connexion/")
    page.fill("#id_username", person.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/connexion/" not in url)

    page.goto("/factures/a-valider/")
    queue = page.get_by_role("table", name="1 facture à valider, par échéance")
    assert "ST-PLOMB-12" in queue.inner_text() and "15 jours" in queue.inner_text().lower()
    queue.get_by_role("link", name="ST-PLOMB-12").click()

    page.wait_for_url("**/factures/a-valider/*/")
    assert "sans réponse, la facture sera validée tacitement" in page.locator("#echeance").inner_text()
    assert page.get_by_role("link", name="Document de la facture ST-PLOMB-12").is_visible()

    # Validating without ticking « titulaire » is refused, and says why.
    page.get_by_role("button", name="Valider", exact=True).click()
    page.get_by_text("Cochez la case pour confirmer que vous êtes le titulaire").wait_for()
    page.locator("label", has_text="Je certifie être le titulaire du marché").click()
    page.get_by_label("Message au fournisseur (facultatif)").fill("Travaux réceptionnés le 3 mars.")
    page.get_by_role("button", name="Valider", exact=True).click()

    page.wait_for_url("**/factures/a-valider/")
    main = page.locator("main").inner_text()
    assert "Facture ST-PLOMB-12 validée : elle est mise à disposition de Commune de Belair." in main
    assert "Aucune facture n'attend votre validation." in main

    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.MISE_A_DISPOSITION
    assert list(invoices_received(user=buyer).values_list("number", flat=True)) == ["ST-PLOMB-12"]


def test_supplier_names_the_right_valideur_with_the_annuaire_search(page):
    wrong = StructureFactory(raison_sociale="Menuiserie Voisine")
    draft = InvoiceFactory(with_lines=True, a9=True, valideur=wrong, number="ST-ELEC-3")
    supplier_user = issuer_for(draft.supplier)
    invoice = invoice_send(invoice=draft, by=supplier_user)
    invoice_validate(
        invoice=invoice,
        by=None,
        structure=wrong,
        decision="ERREUR_VALIDEUR",
        comment="Le titulaire est Bâtir Ensemble.",
        channel="API",
    )
    right = StructureFactory(raison_sociale="Bâtir Ensemble")

    page.goto("/connexion/")
    page.fill("#id_username", supplier_user.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/connexion/" not in url)

    page.goto("/factures/a-valider/")
    page.get_by_role("link", name="Corriger le valideur de la facture ST-ELEC-3").click()
    assert "« Le titulaire est Bâtir Ensemble. »" in page.locator("main").inner_text()
    page.get_by_label("SIRET ou raison sociale exacte du valideur").fill(right.identifier[:9])
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("button", name="Désigner Bâtir Ensemble").click()

    page.wait_for_url("**/factures/a-valider/")
    assert "transmise à Bâtir Ensemble, qui a 15 jours pour la valider" in page.locator("main").inner_text()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.valideur) == (InvoiceStatus.A_VALIDER_1, right)
