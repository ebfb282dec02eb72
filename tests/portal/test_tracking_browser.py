"""Following an invoice in Chromium, from both sides: the buyer processes it, the supplier sees each step;
a suspension is completed; a recycling goes to another service; a rejection is acknowledged."""

import pytest
from playwright.sync_api import expect

from choeur.directory.enums import EspaceCode
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import Invoice
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.directory.factories import ServiceFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, member_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = InvoiceStatus


def login(page, user):
    page.goto("/connexion/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/connexion/" not in page.url, f"Connexion refusée pour {user.email}"


@pytest.fixture
def parties(browser, live_server):
    supplier = StructureFactory(raison_sociale="Menuiserie Lambert")
    buyer = StructureFactory(public=True, raison_sociale="Commune de Belair")
    seller = member_of(supplier, EspaceCode.FACTURES_EMISES)
    clerk = member_of(buyer, EspaceCode.FACTURES_RECUES)
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(10_000)
    supplier_page = context.new_page()
    login(supplier_page, seller)
    yield supplier, buyer, seller, clerk, supplier_page
    context.close()


def new_invoice(supplier, buyer, number, **kwargs):
    return InvoiceFactory(sent=True, with_lines=True, supplier=supplier, recipient=buyer, number=number, **kwargs)


def open_action(page, action):
    """Open the action's disclosure (the page shows one action's fields at a time)."""
    block = page.locator(f"#action-{action}")
    if block.get_attribute("open") is None:
        block.locator("summary").click()
    expect(block.locator("button[type=submit]")).to_be_visible()
    return block


def act(page, action, *, confirm=False, **fields):
    block = open_action(page, action)
    if confirm:
        block.locator("label", has_text="Je confirme").click()  # the DSFR checkbox is drawn by its label
    for label, value in fields.items():
        field = block.get_by_label(label)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    with page.expect_navigation():
        block.locator("button[type=submit]").click()


def shown_status(page):
    return page.locator("#invoice-status").get_attribute("data-status")


def test_buyer_processes_up_to_payment_and_the_supplier_sees_each_step(page, parties):
    supplier, buyer, seller, clerk, supplier_page = parties
    invoice = new_invoice(supplier, buyer, "FA-2026-501")
    login(page, clerk)
    page.goto("/factures/recues/")
    page.get_by_role("link", name="FA-2026-501").click()
    steps = [
        ("service_fait", S.SERVICE_FAIT, {}),
        ("mandater", S.MANDATEE, {"Numéro de mandat": "MDT-2026-77"}),
        ("mettre_a_disposition_comptable", S.MISE_A_DISPOSITION_COMPTABLE, {}),
        ("comptabiliser", S.COMPTABILISEE, {}),
        ("mettre_en_paiement", S.MISE_EN_PAIEMENT, {"confirm": True}),
    ]
    for action, status, fields in steps:
        if action == "mettre_en_paiement":
            # Irreversible: without the confirmation nothing happens, and the form says why.
            act(page, action)
            expect(page.locator("#action-mettre_en_paiement")).to_contain_text("Cochez la case de confirmation")
            assert Invoice.objects.get(pk=invoice.pk).status == S.COMPTABILISEE
        act(page, action, **fields)
        expect(page.locator("#invoice-status")).to_have_attribute("data-status", status)
        supplier_page.goto(f"/factures/{invoice.pk}/")
        assert shown_status(supplier_page) == status
        assert supplier_page.locator(f'#timeline tr[data-status="{status}"]').count() == 1
    assert "Numéro de mandat : MDT-2026-77" in supplier_page.locator("#timeline").inner_text()
    assert "Facture mise en paiement" in supplier_page.locator("#next-step").inner_text()
    supplier_page.goto("/factures/emises/")
    row = supplier_page.locator(f'tr[data-invoice="{invoice.pk}"]')
    assert row.locator('[data-status="MISE_EN_PAIEMENT"]').count() == 1


def test_suspension_completed_then_processing_continues(page, parties, tmp_path):
    supplier, buyer, seller, clerk, supplier_page = parties
    invoice = new_invoice(supplier, buyer, "FA-2026-502")
    login(page, clerk)
    page.goto(f"/factures/{invoice.pk}/")
    act(page, "suspendre", Motif="BON_DE_LIVRAISON_MANQUANT", **{"Commentaire pour le fournisseur": "Joindre le PV."})
    expect(page.locator("#invoice-status")).to_have_attribute("data-status", S.SUSPENDUE)

    supplier_page.goto(f"/factures/{invoice.pk}/")
    assert "Joindre le PV." in supplier_page.locator("#timeline").inner_text()
    assert "suspendu" in supplier_page.locator("#payment-clock").inner_text()
    proof = tmp_path / "pv-reception.pdf"
    proof.write_bytes(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    block = open_action(supplier_page, "completer")
    # What the buyer asked is shown beside the answer.
    expect(block.locator("#action-completer-request")).to_contain_text("Joindre le PV.")
    block.get_by_label("Pièces jointes").set_input_files(str(proof))
    block.get_by_label("Commentaire pour le destinataire").fill("Voici le procès-verbal.")
    with supplier_page.expect_navigation():
        block.locator("button[type=submit]").click()
    expect(supplier_page.locator("#invoice-status")).to_have_attribute("data-status", S.COMPLETEE)

    page.goto(f"/factures/{invoice.pk}/")
    assert page.get_by_role("link", name="pv-reception.pdf").count() == 1
    act(page, "service_fait")
    expect(page.locator("#invoice-status")).to_have_attribute("data-status", S.SERVICE_FAIT)
    supplier_page.goto(f"/factures/{invoice.pk}/")
    assert shown_status(supplier_page) == S.SERVICE_FAIT


def test_recycling_to_another_service_and_acknowledging_a_rejection(page, parties):
    supplier, buyer, seller, clerk, supplier_page = parties
    ServiceFactory(structure=buyer, code="MEDIATHEQUE", libelle="Médiathèque")
    to_recycle = new_invoice(supplier, buyer, "FA-2026-503")
    to_reject = new_invoice(supplier, buyer, "FA-2026-504")
    login(page, clerk)
    page.goto(f"/factures/{to_recycle.pk}/")
    act(page, "a_recycler", Motif="ERREUR_CODE_SERVICE", **{"Commentaire pour le fournisseur": "Médiathèque."})
    expect(page.locator("#invoice-status")).to_have_attribute("data-status", S.A_RECYCLER)
    page.goto(f"/factures/{to_reject.pk}/")
    act(
        page, "rejeter", confirm=True, Motif="ERREUR_TVA", **{"Commentaire pour le fournisseur": "Taux de TVA erroné."}
    )
    expect(page.locator("#invoice-status")).to_have_attribute("data-status", S.REJETEE)

    # The supplier's synthèse points at both.
    supplier_page.goto("/factures/emises/")
    synthesis = supplier_page.locator("#synthese-title").locator("xpath=..").inner_text()
    assert "À recycler : 1" in synthesis and "Rejetées non traitées : 1" in synthesis
    supplier_page.goto(f"/factures/{to_recycle.pk}/")
    block = open_action(supplier_page, "recycler")
    block.get_by_label("Code du service exécutant").fill("MEDIATHEQUE")
    with supplier_page.expect_navigation():
        block.locator("button[type=submit]").click()
    expect(supplier_page.locator("#invoice-status")).to_have_attribute("data-status", S.MISE_A_DISPOSITION)
    assert Invoice.objects.get(pk=to_recycle.pk).recipient_service.code == "MEDIATHEQUE"

    supplier_page.goto("/factures/emises/")
    with supplier_page.expect_navigation():
        supplier_page.get_by_role("button", name="Traiter la sélection").click()
    assert "1 facture traitée" in supplier_page.locator("main").inner_text()
    assert Invoice.objects.get(pk=to_reject.pk).rejet_traite

    # The buyer finds the recycled invoice under its new service.
    page.goto("/factures/recues/?service=MEDIATHEQUE")
    assert page.locator(f'tr[data-invoice="{to_recycle.pk}"]').count() == 1
