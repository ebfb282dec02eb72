"""The « Parcours de formation » in Chromium: each demonstration started from the parcours page with its
one-click sign-in, played as its persona, and the trainees' end state checked."""

import os

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from choeur.directory.demo import demo_seed
from choeur.invoices import demo as invoices_demo
from choeur.invoices.enums import InvoiceStatus as S
from choeur.invoices.models import Invoice
from choeur.portal.formation_views.parcours import DEMONSTRATIONS_BY_SLUG
from choeur.works.demo import PENDING_A4, demo_works_seed
from tests.portal.test_accessibility_browser import _tab_to
from tests.portal.test_tracking_browser import open_action

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CHOEUR_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.fixture
def demo(settings):
    settings.CHOEUR_DEMO_MODE = True
    demo_seed()
    invoices_demo._vat_numbers_ensure()
    specs = {s.number: s for s in invoices_demo.DEMO_INVOICES}
    invoices_demo._create(specs["FM-2026-0107"])  # suspended: the « suivi » demonstration completes it
    demo_works_seed()


def _start(page, slug):
    """From the parcours page, the demonstration's one-click sign-in; returns at its start page."""
    demonstration = DEMONSTRATIONS_BY_SLUG[slug]
    page.context.clear_cookies()
    page.goto("/formation/")
    section = page.locator(f"#{slug}")
    section.get_by_role("button", name=f"Commencer comme {demonstration.persona.first_name}").click()
    page.wait_for_url(f"**{demonstration.start_url}")
    person = f"{demonstration.persona.first_name} {demonstration.persona.last_name}"
    expect(page.get_by_role("link", name=person)).to_be_visible()  # signed in as the persona
    return demonstration


def test_the_parcours_page_and_its_print_version(page, demo):
    page.goto("/formation/")
    expect(page.get_by_role("heading", name="Parcours de formation", level=1)).to_be_visible()
    assert page.locator("section.choeur-demonstration").count() == len(DEMONSTRATIONS_BY_SLUG)
    _shot(page, "formation-1280")
    page.emulate_media(media="print")
    assert not page.locator("header.fr-header").is_visible()  # the handout prints the content only
    assert not page.get_by_role("button", name="Commencer comme Philippe Marchand").first.is_visible()
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/formation/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(page, "formation-375")


def test_suivi_d_une_facture_to_the_completed_invoice(page, demo, tmp_path):
    _start(page, "suivi-facture")
    page.get_by_role("link", name="FM-2026-0107").first.click()
    expect(page.locator("#invoice-status")).to_have_attribute("data-status", S.SUSPENDUE)
    # The status badge explains itself: its « ? » opens the meaning in place.
    page.locator("#invoice-status + details.choeur-help > summary").click()
    expect(page.get_by_text("Il manque une pièce ou une information.")).to_be_visible()
    proof = tmp_path / "bon-de-livraison.pdf"
    proof.write_bytes(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    block = open_action(page, "completer")  # the invoice page shows one action at a time
    block.get_by_label("Pièces jointes").set_input_files(str(proof))
    block.get_by_label("Commentaire pour le destinataire").fill("Voici le bon de livraison signé.")
    with page.expect_navigation():
        block.locator("button[type=submit]").click()
    expect(page.locator("#invoice-status")).to_have_attribute("data-status", S.COMPLETEE)
    assert Invoice.objects.get(number="FM-2026-0107").status == S.COMPLETEE


def test_factures_de_travaux_a_valider_to_the_etat_d_acompte_sent_to_the_moa(page, demo):
    _start(page, "factures-travaux-a-valider")
    page.get_by_role("link", name="2026-TRX-014/2").click()
    page.get_by_label("Quantité, ligne 1").fill("100")
    page.get_by_label("Raison de la correction, ligne 1").fill("Métré contradictoire")
    page.get_by_role("button", name="Établir l'état d'acompte et le transmettre").click()
    page.get_by_text("1 montant(s) corrigé(s)").wait_for()
    dossier = Invoice.objects.get(number=PENDING_A4).works_piece.dossier
    assert [p.cadre_code for p in dossier.pieces.order_by("position")] == ["A4", "A15"]
    last = dossier.pieces.order_by("position").last().invoice
    assert last.status in {S.MISE_A_DISPOSITION_MOA, S.TRANSMISE_MOA}


def test_saisie_starts_at_the_first_step_for_each_invoicing_persona(page, demo):
    """Saisie, cotraitant, sous-traitant: each persona reaches the saisie (its end is walked, keyboard only,
    by test_accessibility_browser.test_an_invoice_saisie_completed_with_the_keyboard_only)."""
    for slug in ("saisie-facture", "facture-cotraitant", "facture-sous-traitant"):
        _start(page, slug)
        _tab_to(page, page.get_by_role("button", name="Commencer la saisie"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/etape/1/")
        expect(page.get_by_label("Cadre de facturation")).to_be_visible()


def test_depot_and_flux_start_where_the_file_is_chosen(page, demo):
    _start(page, "depot-facture-services")
    expect(page.get_by_label("Fichier de la facture")).to_be_visible()
    _start(page, "depot-flux")
    expect(page.get_by_role("heading", level=1)).to_contain_text("flux")
    _start(page, "sollicitations")  # its pages come with the sollicitations' portal (the start falls back)
    assert reverse("portal:home") in page.url or "sollicitations" in page.url
