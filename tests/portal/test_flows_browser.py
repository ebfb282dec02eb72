"""Depositing a zip of three invoices (one broken) in Chromium, then reading the CR."""

import pytest

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.flows.factories import buyer_structure, subscribe, supplier_structure
from tests.flows.fixtures import invoice_xml, zip_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_invoices_menu(page) -> None:
    """Open « Factures » in the main navigation (a DSFR menu: its script may still be starting)."""
    page.wait_for_load_state("load")
    button = page.get_by_role("button", name="Factures", exact=True)
    for _ in range(3):
        button.click()
        if button.get_attribute("aria-expanded") == "true":
            return
        page.wait_for_timeout(300)
    raise AssertionError("Le menu « Factures » ne s'ouvre pas.")


def click_in_invoices_menu(page, name: str) -> None:
    """Click an entry of « Factures »; the menu may fold again while the DSFR script starts: reopen it then."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    link = page.locator("#menu-factures").get_by_role("link", name=name)
    for _ in range(3):
        open_invoices_menu(page)
        try:
            link.click(timeout=3_000)
            return
        except PlaywrightTimeoutError:
            page.wait_for_timeout(300)
    raise AssertionError(f"L'entrée « {name} » du menu « Factures » reste inaccessible.")


def test_deposit_a_zip_and_read_the_partial_cr(page, tmp_path):
    supplier = supplier_structure(raison_sociale="Menuiserie Lambert")
    buyer = buyer_structure(raison_sociale="Commune de Belair")
    user = UserFactory(email="claire.lambert@menuiserie.fr")
    subscribe(user, supplier)

    def xml(number: str, **kwargs) -> bytes:
        return invoice_xml(supplier_siret=supplier.identifier, buyer_siret=buyer.identifier, number=number, **kwargs)

    archive = tmp_path / "lot_novembre.zip"
    archive.write_bytes(zip_of({"f1.xml": xml("NAV-1"), "f2.xml": xml("NAV-2", broken=True), "f3.xml": xml("NAV-3")}))

    page.goto("/connexion/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_load_state()

    click_in_invoices_menu(page, "Dépôt de flux")
    page.get_by_role("link", name="Déposer un flux").click()
    page.get_by_label("Fichier de factures").set_input_files(str(archive))
    page.get_by_role("button", name="Déposer le flux").click()

    page.wait_for_url("**/flux/*/")
    status = page.locator("#flow-status")
    status.get_by_text("IN_INTEGRE_PARTIEL").wait_for()
    text = status.inner_text()
    assert "intégré partiellement" in text.lower()
    assert "2 intégrées" in text and "1 rejetée" in text
    rejected = page.get_by_role("table", name="Factures rejetées et motifs").inner_text()
    assert "NAV-2" in rejected and "BR-CO-16" in rejected and "montant à payer" in rejected
    integrated = page.get_by_role("table", name="Factures intégrées").inner_text()
    assert "NAV-1" in integrated and "NAV-3" in integrated
    assert page.get_by_role("link", name="Télécharger le compte rendu (PDF)").is_visible()

    # The list shows the flow with its state.
    # Back to the list through the breadcrumb (the open menu would cover it otherwise).
    page.locator(".fr-breadcrumb").get_by_role("link", name="Dépôt de flux", exact=True).click()
    assert "lot_novembre.zip" in page.locator("main").inner_text()
