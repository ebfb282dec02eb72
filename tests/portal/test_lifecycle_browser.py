"""Lifecycle pages in Chromium: a supplier reads the rejection of its invoice in the notification centre,
acknowledges it on « Rejets à traiter », and marks its notifications read (HTMX)."""

import pytest

from choeur.directory.enums import EspaceCode
from choeur.invoices.enums import Channel
from choeur.invoices.lifecycle import invoice_process
from choeur.invoices.models import Invoice
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.invoices.factories import InvoiceFactory, issuer_for, member_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supplier_reads_and_acknowledges_a_rejection(page):
    invoice = InvoiceFactory(sent=True, with_lines=True, number="F-NAV-2026-01")
    seller = issuer_for(invoice.supplier)
    buyer = member_of(invoice.recipient, EspaceCode.FACTURES_RECUES)
    # A real commit: the side-effect task runs and creates the notification.
    invoice_process(
        invoice=invoice,
        by=buyer,
        structure=invoice.recipient,
        transition="rejeter",
        motif="ERREUR_MONTANT",
        comment="Le montant TTC ne correspond pas au bon de commande.",
        channel=Channel.PORTAIL,
    )

    page.goto("/connexion/")
    page.fill("#id_username", seller.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/connexion/" not in url)

    page.goto("/notifications/")
    main = page.locator("main")
    assert "1 non lue" in main.inner_text().lower()  # The DSFR badge is upper-cased by CSS.
    assert "Facture F-NAV-2026-01 : rejetée" in main.inner_text()
    assert "Le montant TTC ne correspond pas" in main.inner_text()
    page.get_by_role("button", name="Tout marquer comme lu").click()
    page.get_by_text("Tout est lu", exact=False).wait_for()  # Swapped in by HTMX, no reload.
    assert page.url.endswith("/notifications/")

    page.goto("/factures/rejets-a-traiter/")
    assert "Montant erroné" in main.inner_text()
    # The DSFR checkbox is drawn by its label, which takes the click as a person's would.
    page.locator(f"label[for=facture-{invoice.pk}]").click()
    assert page.get_by_label("j'ai pris connaissance de la facture F-NAV-2026-01").is_checked()
    page.get_by_role("button", name="J'ai pris connaissance des factures cochées").click()
    page.get_by_text("Prise de connaissance enregistrée pour 1 facture(s).").wait_for()
    assert "Aucune facture rejetée ou suspendue" in main.inner_text()
    assert Invoice.objects.get(pk=invoice.pk).rejet_traite
