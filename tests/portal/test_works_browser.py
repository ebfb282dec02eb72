"""The works journey in Chromium: the company deposits a projet de décompte mensuel (A4); the MOE corrects one
line with a reason and issues the état d'acompte (A15); the MOA validates (A19); the payer sees it in its
« Factures reçues » and marks it paid; the company follows each step, the changed amount and the deadlines."""

import pytest
from django.urls import reverse

from tests.accounts.factories import DEFAULT_PASSWORD
from tests.works.factories import works_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(browser, live_server, user):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/connexion/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/connexion/" not in page.url, "connexion refusée"
    return page


def test_monthly_works_payment_from_draft_to_payment(browser, live_server):
    m = works_market()

    # 1. The company deposits its projet de décompte mensuel.
    company = login(browser, live_server, m.user("titulaire"))
    company.goto(reverse("portal:works_dossiers"))
    company.get_by_role("link", name="Déposer un projet de décompte").click()
    company.get_by_label("Numéro de la pièce").fill("PDM-2026-03")
    for n, (designation, quantity, unit, price) in enumerate(
        [("Gros œuvre — fondations", "1", "LS", "12000"), ("Maçonnerie — murs porteurs", "40", "MTK", "150")], 1
    ):
        company.get_by_label(f"Désignation, ligne {n}").fill(designation)
        company.get_by_label(f"Quantité, ligne {n}").fill(quantity)
        company.get_by_label(f"Unité, ligne {n}").select_option(unit)
        company.get_by_label(f"Prix unitaire HT, ligne {n}").fill(price)
    company.get_by_role("button", name="Déposer la pièce").click()
    company.wait_for_url("**/travaux/dossiers/*/")
    state = company.locator("#etat").inner_text()
    assert "Mise à disposition de la maîtrise d'œuvre" in state
    assert "Délai de la maîtrise d'œuvre : jusqu'au" in state and "le délai de paiement court depuis" in state
    dossier_url = company.url

    # 2. The MOE finds it in its queue, corrects line 2 with a reason and issues the état d'acompte.
    moe = login(browser, live_server, m.user("moe"))
    moe.goto(reverse("portal:works_queue"))
    moe.get_by_role("link", name="MT-2026-001/1").click()
    moe.get_by_label("Quantité, ligne 2").fill("30")
    moe.get_by_label("Raison de la correction, ligne 2").fill("Constat de chantier : 30 m² réalisés sur 40")
    moe.get_by_role("button", name="Prévisualiser les montants").click()
    preview = moe.get_by_role("table", name="Aperçu : le projet de l'entreprise et votre état d'acompte")
    preview.wait_for()
    assert "4500,00 €" in preview.inner_text() and "Constat de chantier" in preview.inner_text()
    assert moe.url.endswith(dossier_url.split(live_server.url)[-1])  # HTMX: the page stayed where it was
    moe.get_by_role("button", name="Établir l'état d'acompte et le transmettre").click()
    moe.get_by_text("1 montant(s) corrigé(s)").wait_for()
    comparison = moe.get_by_role("table", name="côte à côte").inner_text()
    assert "6000,00 €" in comparison and "4500,00 €" in comparison and "montant modifié" in comparison.lower()

    # 3. The MOA validates; the A19 reaches the payer, who marks it paid.
    moa = login(browser, live_server, m.user("moa"))
    moa.goto(dossier_url)
    moa.get_by_role("button", name="Valider l'état d'acompte").click()
    moa.get_by_text("elle est dans les « Factures reçues »").wait_for()
    moa.goto(reverse("portal:invoices_received"))
    assert "A19-" in moa.locator("main").inner_text()
    moa.goto(dossier_url)
    moa.get_by_role("button", name="Mettre en paiement").click()
    moa.get_by_text("mise en paiement.").wait_for()

    # 4. The company sees every step, the changed amount with its reason, and the deadlines.
    company.goto(dossier_url)
    pieces = company.get_by_role("table", name="Pièces du dossier, dans l'ordre").inner_text()
    assert "PDM-2026-03" in pieces and "A15-" in pieces and "A19-" in pieces
    # Each status is followed by its « ? » help, which names the status again for screen readers: count cells.
    cells = company.get_by_role("table", name="Pièces du dossier, dans l'ordre").locator("tbody tr td:nth-child(7)")
    assert sum(text.strip().startswith("Associée") for text in cells.all_inner_texts()) == 2
    assert "Mise en paiement" in pieces
    comparison = company.get_by_role("table", name="A4 n° PDM-2026-03 et A15").inner_text()
    assert "Constat de chantier : 30 m² réalisés sur 40" in comparison and "4500,00 €" in comparison
    state = company.locator("#etat").inner_text()
    assert "Corrections contestables par l'entreprise jusqu'au" in state
    assert "Date limite de paiement" in state
    history = company.locator("#historique").inner_text()
    assert "Montants corrigés" in history and "a validé" in history
    assert company.get_by_role("button", name="Contester les corrections").is_visible()
