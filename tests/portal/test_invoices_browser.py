"""The saisie and the dépôt of invoices in Chromium, on the demo data set: an A1 with three lines at two VAT
rates for the demo commune (saved, resumed, sent, downloaded, received), a Factur-X that prefills the form,
and a sous-traitant's A9 naming the titulaire as valideur."""

import datetime
import io
import re

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from choeur.directory.demo import DEMO_USER_PASSWORD, demo_seed, demo_structure
from choeur.directory.models import Structure
from choeur.invoices.enums import Cadre, InvoiceStatus
from choeur.invoices.models import Invoice
from tests.conftest import corpus_path
from tests.invoices.factories import fr_vat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARCHAND = "philippe.marchand@fournitures-marchand.example"
DELMAS = "martine.delmas@peintures-delmas.example"
COMMUNE_USER = "isabelle.fontaine@valfleurie.example"


def _seed() -> None:
    demo_seed()
    # The generated Factur-X names the seller's VAT number (EN 16931 BR-S-02): give the demo suppliers one.
    for key in ("marchand", "delmas"):
        siret = demo_structure(key).siret
        Structure.objects.filter(identifier=siret).update(numero_tva=fr_vat(siret))


def _login(page, email: str) -> None:
    page.goto("/connexion/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_USER_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)


def _logout(page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state()


def _choose(page, target: str, query: str, name: str) -> None:
    label = "Rechercher le destinataire" if target == "recipient" else "Rechercher le valideur"
    page.get_by_label(label).fill(query)
    page.get_by_role("button", name=f"Choisir {name}").click()
    expect(page.locator(f"#{target}-chosen")).to_have_text(name)


def _pick_service(page) -> None:
    page.get_by_label("Service exécutant (obligatoire)").select_option(
        label="SERV_TECHNIQUES — Services techniques municipaux"
    )


def _fill_line(page, index: int, designation: str, quantity: str, price: str, rate: str) -> None:
    page.fill(f"#id_lines-{index}-designation", designation)
    page.fill(f"#id_lines-{index}-quantity", quantity)
    page.fill(f"#id_lines-{index}-unit_price_ht", price)
    page.fill(f"#id_lines-{index}-vat_rate", rate)


def _references(page, number: str) -> None:
    page.get_by_label("Numéro de facture").fill(number)
    page.get_by_label("Date de facture").fill((timezone.localdate() - datetime.timedelta(days=1)).isoformat())
    page.get_by_label("Mode de paiement").select_option("VIREMENT")
    page.get_by_label("Numéro de marché (facultatif)").fill("2026-TRX-014")
    page.get_by_role("button", name="Enregistrer et continuer").click()


def _send(page) -> None:
    expect(page.get_by_text("Pré-contrôle réussi")).to_be_visible()
    page.locator("label", has_text="Je certifie l'exactitude des informations").click()
    page.get_by_role("button", name="Valider et envoyer").click()
    page.wait_for_load_state()


def test_supplier_enters_an_a1_with_two_vat_rates_saves_resumes_sends_and_the_commune_receives_it(page):
    _seed()
    _login(page, MARCHAND)
    page.goto(reverse("portal:invoice_new"))
    page.get_by_role("button", name="Commencer la saisie").click()

    # Step 1: parties; the commune's requirement appears as soon as it is chosen.
    page.get_by_label("Coordonnées bancaires").select_option(index=1)
    _choose(page, "recipient", "Valfleurie", "Commune de Valfleurie-sur-Loire")
    expect(page.get_by_text("Code service obligatoire")).to_be_visible()
    _pick_service(page)
    expect(page.get_by_label("Service exécutant (obligatoire)")).to_have_value(
        str(Structure.objects.get(identifier=demo_structure("commune").siret).services.get(code="SERV_TECHNIQUES").pk)
    )
    page.get_by_role("button", name="Enregistrer et continuer").click()

    # Step 2: references.
    _references(page, "MARCH-2026-001")

    # Step 3: three lines at 20 % and 5.5 %, totals computed live by the server.
    _fill_line(page, 0, "Ramettes de papier A4", "10", "4,50", "20")
    page.get_by_role("button", name="Ajouter une ligne").click()
    _fill_line(page, 1, "Classeurs à levier", "5", "3,20", "20")
    page.get_by_role("button", name="Ajouter une ligne").click()
    _fill_line(page, 2, "Livres pour la médiathèque", "4", "12", "5,5")
    expect(page.locator("#line-net-2")).to_contain_text("48,00")
    expect(page.locator("#total-ht")).to_contain_text("109,00")
    expect(page.locator("#total-tva")).to_contain_text("14,84")
    expect(page.locator("#total-ttc")).to_contain_text("123,84")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_text("Brouillon enregistré")).to_be_visible()

    # Resume later from the list of drafts.
    page.goto(reverse("portal:invoice_new"))
    page.get_by_role("link", name="Reprendre le brouillon MARCH-2026-001").click()
    expect(page.locator("#id_lines-2-designation")).to_have_value("Livres pour la médiathèque")
    expect(page.locator("#total-ttc")).to_contain_text("123,84")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.get_by_role("button", name="Enregistrer et continuer").click()  # step 4: no attachment
    _send(page)

    invoice = Invoice.objects.get(number="MARCH-2026-001")
    assert invoice.status == InvoiceStatus.MISE_A_DISPOSITION
    assert [str(v.rate) for v in invoice.vat_lines.all()] == ["20.00", "5.50"]
    expect(page.get_by_text(f"Certificat de dépôt n° {invoice.certificate_number}")).to_be_visible()

    try:
        document_url = reverse("portal:invoice_download", kwargs={"pk": invoice.pk, "kind": "document"})
        certificate_url = reverse("portal:invoice_download", kwargs={"pk": invoice.pk, "kind": "certificat"})
        received_url = reverse("portal:invoices_received")
    except NoReverseMatch:
        pytest.skip("Les pages de suivi (téléchargement, factures reçues) ne sont pas encore en place.")
    document = page.request.get(document_url)
    assert document.ok and document.body().startswith(b"%PDF-")
    assert "factur-x.xml" in PdfReader(io.BytesIO(document.body())).attachments
    certificate = page.request.get(certificate_url)
    assert certificate.ok and certificate.body().startswith(b"%PDF-")
    certificate_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(certificate.body())).pages)
    assert invoice.document_sha256 in re.sub(r"\s", "", certificate_text)

    _logout(page)
    _login(page, COMMUNE_USER)
    page.goto(received_url)
    expect(page.get_by_role("link", name="MARCH-2026-001")).to_be_visible()


def test_uploading_a_facturx_prefills_the_form(page):
    _seed()
    path = corpus_path("zugferd", "ZUGFeRDv2", "correct", "intarsys", "BASIC", "zugferd_2p0_BASIC_Einfach.pdf")
    _login(page, MARCHAND)
    page.goto(reverse("portal:invoice_upload"))
    page.get_by_label("Fichier de la facture").set_input_files(str(path))
    page.get_by_role("button", name="Déposer la facture").click()
    expect(page.locator("#summary-number")).to_have_text("471102")
    expect(page.locator("#amount-total_ttc")).to_contain_text("235,62")
    page.get_by_role("link", name="2. Références").click()
    expect(page.get_by_label("Numéro de facture")).to_have_value("471102")
    expect(page.get_by_label("Date de facture")).to_have_value("2018-03-05")
    page.get_by_role("link", name="3. Lignes et montants").click()
    expect(page.locator("#id_lines-0-designation")).to_have_value(re.compile("Trennblätter A4"))
    expect(page.locator("#id_lines-0-unit_price_ht")).to_have_value("9,9")


def test_sous_traitant_deposits_an_a9_naming_the_titulaire_as_valideur(page):
    _seed()
    _login(page, DELMAS)
    page.goto(reverse("portal:invoice_new"))
    page.get_by_role("button", name="Commencer la saisie").click()
    page.get_by_label("Cadre de facturation").select_option(Cadre.A9.value)
    page.get_by_label("Coordonnées bancaires").select_option(index=1)
    _choose(page, "recipient", "Valfleurie", "Commune de Valfleurie-sur-Loire")
    _pick_service(page)
    _choose(page, "valideur", "Garnier", "Constructions Garnier-Lefèvre")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    _references(page, "DELMAS-2026-07")
    _fill_line(page, 0, "Peinture des salles de classe", "1", "2400", "20")
    expect(page.locator("#total-ttc")).to_contain_text("2\u202f880,00")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.get_by_role("button", name="Enregistrer et continuer").click()
    _send(page)

    invoice = Invoice.objects.get(number="DELMAS-2026-07")
    assert invoice.cadre == Cadre.A9
    assert invoice.valideur.raison_sociale == "Constructions Garnier-Lefèvre"
    assert invoice.status == InvoiceStatus.A_VALIDER_1
    expect(page.get_by_text("en attente de validation par Constructions Garnier-Lefèvre")).to_be_visible()
