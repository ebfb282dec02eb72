"""A supplier enters an invoice with a line discount, a document-level remise and a charge; the generated
Factur-X passes the CEN rules; the buyer sees the same amounts on its invoice page and in the Chorus API.
Screenshots of the saisie and of the buyer's page, at 1280 px and 375 px, go to var/screenshots/."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from choeur.directory.demo import demo_structure
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.models import Invoice
from tests.api.conftest import account_header
from tests.flows.en16931_examples import ARTEFACTS_DIR, official_fatal_rules
from tests.portal.test_invoices_browser import (
    COMMUNE_USER,
    MARCHAND,
    _choose,
    _fill_line,
    _login,
    _logout,
    _pick_service,
    _references,
    _seed,
    _send,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
NNBSP = "\u202f"


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name} à {width} px : la page déborde de {overflow} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def _add_allowance_charge(page, index: int, nature: str, reason: str, amount: str, rate: str) -> None:
    page.get_by_role("button", name="Ajouter une remise ou une charge").click()
    page.locator(f"#id_ac-{index}-nature").select_option(nature)
    page.fill(f"#id_ac-{index}-reason", reason)
    page.fill(f"#id_ac-{index}-amount", amount)
    page.fill(f"#id_ac-{index}-vat_rate", rate)


def _consulter(invoice: Invoice) -> dict:
    api = demo_structure("commune").api
    client = Client()
    token = client.post(
        "/api/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": api.client_id,
            "client_secret": api.client_secret,
            "scope": "openid",
        },
    ).json()["access_token"]
    response = client.post(
        "/cpro/factures/v1/consulter/recipiendaire",
        data=json.dumps({"identifiantFactureCPP": invoice.pk}),
        content_type="application/json",
        headers={
            "Authorization": f"Bearer {token}",
            "cpro-account": account_header(api.cpro_login, api.cpro_password),
        },
    )
    assert response.status_code == 200, response.content
    return response.json()["facture"]


def test_a_discount_and_a_charge_on_the_whole_invoice_reach_the_buyer_unchanged(page):
    _seed()
    _login(page, MARCHAND)
    page.goto(reverse("portal:invoice_new"))
    page.get_by_role("button", name="Commencer la saisie").click()
    page.get_by_label("Coordonnées bancaires").select_option(index=1)
    _choose(page, "recipient", "Valfleurie", "Commune de Valfleurie-sur-Loire")
    _pick_service(page)
    page.get_by_role("button", name="Enregistrer et continuer").click()
    _references(page, "MARCH-2026-REM")

    # Lines: 4 × 250 at 20 %; 10 × 12 at 5,5 % less a 6 € line discount.
    _fill_line(page, 0, "Fauteuils de bureau", "4", "250", "20")
    page.get_by_role("button", name="Ajouter une ligne").click()
    _fill_line(page, 1, "Livres pour la médiathèque", "10", "12", "5,5")
    page.fill("#id_lines-1-discount_ht", "6")
    # On the whole invoice, at 20 %: a 50 € remise and a 30 € delivery charge.
    _add_allowance_charge(page, 0, "remise", "Remise de fidélité", "50", "20")
    _add_allowance_charge(page, 1, "charge", "Frais de livraison", "30", "20")
    # 1 000 + 114 − 50 + 30 = 1 094 HT; VAT 20 % on 980 = 196, 5,5 % on 114 = 6,27.
    expect(page.locator("#total-lines")).to_contain_text(f"1{NNBSP}114,00")
    expect(page.locator("#total-allowances")).to_contain_text("50,00")
    expect(page.locator("#total-charges")).to_contain_text("30,00")
    expect(page.locator("#total-ht")).to_contain_text(f"1{NNBSP}094,00")
    expect(page.locator("#total-tva")).to_contain_text("202,27")
    expect(page.locator("#total-ttc")).to_contain_text(f"1{NNBSP}296,27")
    _shoot(page, "saisie-remises-charges")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.get_by_role("button", name="Enregistrer et continuer").click()  # step 4: no attachment
    expect(page.locator("#allowance-charges")).to_contain_text("Frais de livraison")
    expect(page.locator("#amount-total_ttc")).to_contain_text(f"1{NNBSP}296,27")
    _send(page)

    invoice = Invoice.objects.get(number="MARCH-2026-REM")
    assert invoice.status == InvoiceStatus.MISE_A_DISPOSITION
    assert (invoice.line_total_ht, invoice.allowance_total_ht, invoice.charge_total_ht) == (
        Decimal("1114.00"),
        Decimal("50.00"),
        Decimal("30.00"),
    )
    assert (invoice.total_ht, invoice.total_tva, invoice.total_ttc) == (
        Decimal("1094.00"),
        Decimal("202.27"),
        Decimal("1296.27"),
    )
    xml = invoice.structured_xml.read()
    if ARTEFACTS_DIR.exists():
        assert official_fatal_rules(xml) == []
    from choeur.flows.validation import validate_bytes

    (report,) = validate_bytes(xml, filename="factur-x.xml", rules="en16931")
    assert [f.rule for f in report.findings if f.blocking] == []

    # The buyer's page shows the same amounts, remise and charge by name.
    _logout(page)
    _login(page, COMMUNE_USER)
    page.goto(reverse("portal:invoice_detail", kwargs={"pk": invoice.pk}))
    expect(page.locator("#allowance-charges")).to_contain_text("Remise de fidélité")
    expect(page.locator("#allowance-charges")).to_contain_text("Frais de livraison")
    expect(page.locator("#amount-allowance_total_ht")).to_contain_text("50,00")
    expect(page.locator("#amount-charge_total_ht")).to_contain_text("30,00")
    expect(page.locator("#amount-total_ttc")).to_contain_text(f"1{NNBSP}296,27")
    _shoot(page, "destinataire-remises-charges")

    # …and so does the Chorus-compatible API.
    facture = _consulter(invoice)
    totals = facture["montantTotal"]
    assert (totals["montantHtTotal"], totals["montantTVA"], totals["montantAPayer"]) == (1094.0, 202.27, 1296.27)
    assert (totals["montantRemisesHT"], totals["montantChargesHT"], totals["montantLignesHT"]) == (50.0, 30.0, 1114.0)
    assert sorted((r["remiseOuCharge"], r["motif"], r["montantHT"]) for r in facture["remisesEtCharges"]) == [
        ("CHARGE", "Frais de livraison", 30.0),
        ("REMISE", "Remise de fidélité", 50.0),
    ]
