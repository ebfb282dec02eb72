"""Engagements juridiques in Chromium, on the demo data set: the commune imports its EJs from a CSV, the
supplier's invoice form proposes one (live when the recipient is chosen, then in the number field), and once
the invoice is sent and paid the commune's EJ page shows what it consumed."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from choeur.directory.demo import DEMO_USER_PASSWORD, demo_seed, demo_structure
from choeur.directory.models import EngagementJuridique, Structure
from choeur.invoices.enums import Channel, InvoiceStatus
from choeur.invoices.lifecycle import invoice_process
from choeur.invoices.models import Invoice
from tests.invoices.factories import fr_vat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARCHAND = "philippe.marchand@fournitures-marchand.example"
COMMUNE_USER = "isabelle.fontaine@valfleurie.example"
PAID = ("service_fait", "mandater", "mettre_a_disposition_comptable", "comptabiliser", "mettre_en_paiement")


def _login(page, email: str) -> None:
    page.goto("/connexion/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_USER_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)


def _logout(page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state()


def test_buyer_imports_ejs_supplier_invoices_one_and_the_buyer_sees_the_consumption(page):
    demo_seed()
    marchand_siret = demo_structure("marchand").siret
    Structure.objects.filter(identifier=marchand_siret).update(numero_tva=fr_vat(marchand_siret))
    csv = (
        "numero_engagement;type;siret_fournisseur;code_service;montant_ttc;devise;date_notification;etat;objet\n"
        f"BC-2026-0450;Bon de commande;{marchand_siret};SERV_TECHNIQUES;1 000,00;EUR;02/03/2026;Commandé;"
        "Fournitures des ateliers\n"
        f"BC-2026-0451;Bon de commande;{marchand_siret};MEDIATHEQUE;300,00;EUR;02/03/2026;;Livres\n"
    ).encode()

    # The commune imports its EJs; a file with a bad line first, refused whole with the line said.
    _login(page, COMMUNE_USER)
    page.goto(reverse("portal:engagements"))
    page.get_by_role("link", name="Importer un fichier (CSV, XLSX)").click()
    bad = csv + f"BC-2026-0452;;{marchand_siret};;12,5x;EUR;02/03/2026;;\n".encode()
    page.get_by_label("Fichier des engagements").set_input_files(
        files=[{"name": "engagements.csv", "mimeType": "text/csv", "buffer": bad}]
    )
    page.get_by_role("button", name="Importer").click()
    expect(page.locator("#import-errors")).to_contain_text("Ligne 4 : le montant TTC « 12,5x » n'est pas un nombre")
    assert not EngagementJuridique.objects.exists()
    page.get_by_label("Fichier des engagements").set_input_files(
        files=[{"name": "engagements.csv", "mimeType": "text/csv", "buffer": csv}]
    )
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_text("2 engagement(s) lu(s) : 2 créé(s)")).to_be_visible()
    expect(page.locator("#engagement-table")).to_contain_text("BC-2026-0450")
    _logout(page)

    # The supplier's invoice form proposes the EJ as soon as the commune and its service are chosen.
    _login(page, MARCHAND)
    page.goto(reverse("portal:engagements_received"))
    expect(page.locator("#engagement-table")).to_contain_text("BC-2026-0450")
    page.goto(reverse("portal:invoice_new"))
    page.get_by_role("button", name="Commencer la saisie").click()
    page.get_by_label("Coordonnées bancaires").select_option(index=1)
    page.get_by_label("Rechercher le destinataire").fill("Valfleurie")
    page.get_by_role("button", name="Choisir Commune de Valfleurie-sur-Loire").click()
    expect(page.locator("#recipient-engagements")).to_contain_text("BC-2026-0451")
    page.get_by_label("Service exécutant (obligatoire)").select_option(
        label="SERV_TECHNIQUES — Services techniques municipaux"
    )
    expect(page.locator("#recipient-engagements")).to_contain_text("BC-2026-0450")
    expect(page.locator("#recipient-engagements")).not_to_contain_text("BC-2026-0451")
    page.get_by_role("button", name="Enregistrer et continuer").click()

    number = page.get_by_label("Numéro d'engagement (bon de commande)")
    expect(number).to_have_attribute("list", "engagements-proposes")
    expect(page.locator("#engagements-proposed")).to_contain_text("1\u202f000,00\u00a0€")
    page.get_by_label("Numéro de facture").fill("MARCH-EJ-001")
    page.get_by_label("Date de facture").fill((timezone.localdate() - datetime.timedelta(days=1)).isoformat())
    page.get_by_label("Mode de paiement").select_option("VIREMENT")
    number.fill("BC-2026-0450")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.fill("#id_lines-0-designation", "Visserie et quincaillerie")
    page.fill("#id_lines-0-quantity", "1")
    page.fill("#id_lines-0-unit_price_ht", "250")
    page.fill("#id_lines-0-vat_rate", "20")
    expect(page.locator("#total-ttc")).to_contain_text("300,00")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.get_by_role("button", name="Enregistrer et continuer").click()  # no attachment
    expect(page.get_by_text("Pré-contrôle réussi")).to_be_visible()
    expect(page.locator("#engagement-warning")).to_have_count(0)
    page.locator("label", has_text="Je certifie l'exactitude des informations").click()
    # Sending renders the Factur-X (WeasyPrint): on a shared machine it takes longer than a click's 10 s.
    page.get_by_role("button", name="Valider et envoyer").click(timeout=90_000)
    expect(page.get_by_text("Facture MARCH-EJ-001 envoyée")).to_be_visible(timeout=90_000)
    invoice = Invoice.objects.get(number="MARCH-EJ-001")
    assert invoice.status == InvoiceStatus.MISE_A_DISPOSITION and invoice.numero_engagement == "BC-2026-0450"
    _logout(page)

    # The commune processes it up to the mise en paiement.
    commune = invoice.recipient
    clerk = get_user_model().objects.get(email=COMMUNE_USER)
    for transition in PAID:
        invoice = invoice_process(
            invoice=invoice,
            by=clerk,
            structure=commune,
            transition=transition,
            numero_dp_mandat="M-2026-0450" if transition == "mandater" else "",
            channel=Channel.PORTAIL,
        )
    assert invoice.status == InvoiceStatus.MISE_EN_PAIEMENT

    # The commune's EJ page shows the consumption.
    _login(page, COMMUNE_USER)
    page.goto(reverse("portal:engagements"))
    page.get_by_role("link", name="BC-2026-0450").click()
    expect(page.locator("#ej-invoiced")).to_have_text("300,00\u00a0€")
    expect(page.locator("#ej-validated")).to_have_text("300,00\u00a0€")
    expect(page.locator("#ej-paid")).to_have_text("300,00\u00a0€")
    expect(page.locator("#ej-remaining")).to_have_text("700,00\u00a0€")
    expect(page.locator("#engagement-invoices")).to_contain_text("MARCH-EJ-001")
    expect(page.locator("#engagement-invoices")).to_contain_text("Mise en paiement")
