"""Accessibility in Chromium: axe-core on the main pages of every persona (no serious or critical violation),
and an invoice saisie completed with the keyboard only."""

import os
import re

import pytest
from django.urls import reverse

from choeur.directory.demo import DEMO_USER_PASSWORD, demo_seed
from choeur.invoices import demo as invoices_demo
from choeur.invoices.models import Invoice
from choeur.works.demo import demo_works_seed
from choeur.works.models import Dossier
from tests.portal.axe import axe_source, axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CHOEUR_SCREENSHOTS")

MARCHAND = "philippe.marchand@fournitures-marchand.example"
COMMUNE = "isabelle.fontaine@valfleurie.example"
ETAT = "francois.lambert@dra-arvelle.example"
LUMEN_MOE = None  # read from the demo (first person of « lumen »)
GARNIER = "helene.garnier@garnier-lefevre.example"

# The main pages of each persona. Callables receive the seeded objects (ids known only after seeding).
PERSONA_PAGES = {
    "visiteur": (None, ["/", "/connexion/", "/inscription/", "/mot-de-passe-oublie/", "/aide/", "/aide/statuts/",
                        "/aide/cadre/?role=titulaire&document=facture", "/aide/circuits/", "/aide/champs/",
                        "/annuaire/", "/accessibilite/", "/formation/"]),
    "fournisseur": (MARCHAND, ["/factures/emises/", "/factures/saisir/", "/factures/deposer/", "draft:1", "draft:2",
                               "draft:3", "draft:4", "draft:5", "invoice:FM-2026-0107", "/factures/statistiques/",
                               "/flux/", "/flux/deposer/", "/structures/", "/mon-compte/", "/notifications/",
                               "/factures/rejets-a-traiter/"]),
    "acheteur": (ETAT, ["/factures/recues/", "invoice:FM-2026-0107", "/gestionnaire/", "/raccordement/",
                        "/structures/"]),
    "commune": (COMMUNE, ["/factures/recues/", "/travaux/", "dossier:2"]),
    "maitrise_oeuvre": ("lumen", ["/travaux/a-valider/", "/travaux/", "dossier:2", "/travaux/marches/"]),
    "titulaire": (GARNIER, ["/factures/a-valider/", "/travaux/", "/travaux/deposer/", "dossier:3"]),
}  # fmt: skip


def _seed():
    demo_seed()
    specs = {s.number: s for s in (*invoices_demo.DEMO_INVOICES, *invoices_demo.DEMO_DRAFTS)}
    invoices_demo._vat_numbers_ensure()
    for number in ("FM-2026-0107", "FM-2026-0109"):
        invoices_demo._create(specs[number])
    demo_works_seed()


def _url(spec: str) -> str:
    if spec.startswith("draft:"):
        draft = Invoice.objects.get(number="FM-2026-0109")
        return reverse("portal:invoice_draft_step", args=[draft.pk, int(spec.split(":")[1])])
    if spec.startswith("invoice:"):
        return reverse("portal:invoice_detail", args=[Invoice.objects.get(number=spec.split(":")[1]).pk])
    if spec.startswith("dossier:"):
        dossier = Dossier.objects.order_by("pk")[int(spec.split(":")[1]) - 1]
        return reverse("portal:works_dossier", args=[dossier.pk])
    return spec


def _login(page, email: str) -> None:
    if "@" not in email:
        from choeur.directory.demo import demo_structure

        email = demo_structure(email).people[0].email
    page.goto("/connexion/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_USER_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)


def test_axe_finds_no_serious_violation_on_the_main_pages_of_every_persona(page, settings):
    settings.CHOEUR_DEMO_MODE = True
    source = axe_source()
    _seed()
    problems = []
    for persona, (email, pages) in PERSONA_PAGES.items():
        page.context.clear_cookies()
        if email:
            _login(page, email)
        for spec in pages:
            response = page.goto(_url(spec))
            assert response.status == 200, f"{persona} : {spec} répond {response.status}"
            page.wait_for_load_state("networkidle")
            problems += [f"{persona} — {line}" for line in axe_violations(page, source)]
    assert problems == [], f"{len(problems)} violation(s) axe graves ou critiques :\n" + "\n".join(problems)


def _tab_to(page, locator, *, limit: int = 200) -> None:
    """Press Tab until `locator` has the focus: it is reached by the keyboard, in the page's focus order."""
    target = locator.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(el) => el === document.activeElement", target):
            return
    raise AssertionError(f"{locator} n'est pas atteint au clavier en {limit} tabulations")


def test_an_invoice_saisie_completed_with_the_keyboard_only(page):
    """From « Commencer la saisie » to « Valider et envoyer »: Tab, typing, Space and Enter; never a click."""
    import datetime

    from django.utils import timezone
    from playwright.sync_api import expect

    from choeur.directory.models import Structure
    from choeur.invoices.enums import InvoiceStatus
    from tests.invoices.factories import fr_vat

    demo_seed()
    siret = __import__("choeur.directory.demo", fromlist=["demo_structure"]).demo_structure("marchand").siret
    Structure.objects.filter(identifier=siret).update(numero_tva=fr_vat(siret))
    _login(page, MARCHAND)
    page.goto(reverse("portal:invoice_new"))
    _tab_to(page, page.get_by_role("button", name="Commencer la saisie"))
    page.keyboard.press("Enter")

    # Step 1: parties.
    page.wait_for_url("**/etape/1/")
    _tab_to(page, page.get_by_label("Coordonnées bancaires"))
    page.keyboard.press("ArrowDown")
    _tab_to(page, page.get_by_label("Rechercher le destinataire"))
    page.keyboard.type("Valfleurie")  # the results come as you type
    choose = page.get_by_role("button", name="Choisir Commune de Valfleurie-sur-Loire")
    choose.wait_for()
    _tab_to(page, choose)
    page.keyboard.press("Enter")
    expect(page.locator("#recipient-chosen")).to_have_text("Commune de Valfleurie-sur-Loire")
    service = page.get_by_label("Service exécutant (obligatoire)")
    _tab_to(page, service)
    page.keyboard.type("SERV_T")
    expect(service).not_to_have_value("")
    _tab_to(page, page.get_by_role("button", name="Enregistrer et continuer"))
    page.keyboard.press("Enter")

    # Step 2: references; each field has its « ? » (opened here with the keyboard).
    page.wait_for_url("**/etape/2/")
    _tab_to(page, page.locator("summary[title='Aide : Numéro de facture']"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("unique pour votre structure : il ne peut servir qu'une fois")).to_be_visible()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/saisie-aide-1280.png", full_page=True)
        page.set_viewport_size({"width": 375, "height": 800})
        page.screenshot(path=f"{SHOTS}/saisie-aide-375.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
    _tab_to(page, page.get_by_label("Numéro de facture"))
    page.keyboard.type("CLAVIER-2026-001")
    _tab_to(page, page.get_by_label("Date de facture"))
    # A date whose day equals its month reads the same whatever order the browser's date field shows.
    today = timezone.localdate()
    invoice_date = max(d for d in (datetime.date(today.year - 1, 12, 12), *[datetime.date(today.year, k, k)
                       for k in range(1, 13)]) if d < today)  # fmt: skip
    page.keyboard.type(invoice_date.strftime("%d%m%Y"))
    _tab_to(page, page.get_by_label("Mode de paiement"))
    page.keyboard.type("Vir")
    _tab_to(page, page.get_by_role("button", name="Enregistrer et continuer"))
    page.keyboard.press("Enter")

    # Step 3: one line; the totals follow.
    page.wait_for_url("**/etape/3/")
    for field, text in (("designation", "Ramettes de papier A4"), ("quantity", "10"), ("unit_price_ht", "4,50"),
                        ("vat_rate", "20")):  # fmt: skip
        _tab_to(page, page.locator(f"#id_lines-0-{field}"))
        page.keyboard.press("Control+A")
        page.keyboard.type(text)
    expect(page.locator("#total-ttc")).to_contain_text("54,00")
    _tab_to(page, page.get_by_role("button", name="Enregistrer et continuer"))
    page.keyboard.press("Enter")

    # Step 4: no attachment; step 5: certify and send.
    page.wait_for_url("**/etape/4/")
    _tab_to(page, page.get_by_role("button", name="Enregistrer et continuer"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Pré-contrôle réussi")).to_be_visible()
    _tab_to(page, page.get_by_label(re.compile("Je certifie l'exactitude des informations")))
    page.keyboard.press("Space")
    _tab_to(page, page.get_by_role("button", name="Valider et envoyer"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Certificat de dépôt n°")).to_be_visible(timeout=30_000)
    invoice = Invoice.objects.get(number="CLAVIER-2026-001")
    assert invoice.status == InvoiceStatus.MISE_A_DISPOSITION
    assert str(invoice.total_ttc) == "54.00"
    assert invoice.invoice_date == invoice_date
