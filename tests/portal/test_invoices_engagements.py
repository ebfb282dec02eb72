"""The saisie proposes the engagements juridiques the recipient addressed to the supplier (live when the
recipient or its service changes), warns without blocking when the invoice exceeds what remains, and a
recipient that requires an EJ number still requires one."""

import html
from decimal import Decimal

import pytest
from django.urls import reverse

from choeur.directory.enums import EngagementState
from choeur.invoices.enums import InvoiceStatus, ModeDepot
from choeur.invoices.models import Invoice
from choeur.invoices.services import invoice_precheck
from tests.directory.factories import EngagementFactory, ServiceFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, add_lines, issuer_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplier():
    return StructureFactory(raison_sociale="Menuiserie Lambert")


@pytest.fixture
def buyer():
    return StructureFactory(public=True, raison_sociale="Commune de Belair")


@pytest.fixture
def user(supplier):
    return issuer_for(supplier)


@pytest.fixture
def logged(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def draft(supplier, user):
    return Invoice.objects.create(supplier=supplier, created_by=user, mode_depot=ModeDepot.SAISIE_WEB)


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_choosing_the_recipient_lists_its_open_ejs_for_this_supplier(logged, draft, supplier, buyer):
    voirie = ServiceFactory(structure=buyer, code="VOIRIE")
    ecoles = ServiceFactory(structure=buyer, code="ECOLES")
    EngagementFactory(structure=buyer, supplier=supplier, number="BC-VOIRIE", service=voirie, amount_ttc=Decimal(900))
    EngagementFactory(structure=buyer, supplier=supplier, number="BC-ECOLES", service=ecoles)
    EngagementFactory(structure=buyer, supplier=supplier, number="BC-TOUS")
    EngagementFactory(structure=buyer, supplier=supplier, number="BC-CLOS", state=EngagementState.CLOTURE)
    EngagementFactory(structure=buyer, number="BC-AUTRE-FOURNISSEUR")
    EngagementFactory(supplier=supplier, number="BC-AUTRE-ACHETEUR")
    url = reverse("portal:invoice_party_pick", args=[draft.pk])
    body = text(logged.get(url, {"target": "recipient", "structure": buyer.pk}))
    assert "BC-VOIRIE" in body and "BC-ECOLES" in body and "BC-TOUS" in body
    assert "BC-CLOS" not in body and "AUTRE" not in body
    assert "900,00\u00a0€" in body
    body = text(logged.get(url, {"target": "recipient", "structure": buyer.pk, "recipient_service": voirie.pk}))
    assert "BC-VOIRIE" in body and "BC-TOUS" in body and "BC-ECOLES" not in body


def test_the_references_step_suggests_the_ej_numbers(logged, draft, supplier, buyer):
    EngagementFactory(structure=buyer, supplier=supplier, number="BC-2026-9", label="Menuiseries école")
    Invoice.objects.filter(pk=draft.pk).update(recipient=buyer)
    body = text(logged.get(reverse("portal:invoice_draft_step", args=[draft.pk, 2])))
    assert 'list="engagements-proposes"' in body
    assert '<datalist id="engagements-proposes"><option value="BC-2026-9">Menuiseries école' in body


def test_no_ej_no_datalist(logged, draft, buyer):
    Invoice.objects.filter(pk=draft.pk).update(recipient=buyer)
    body = text(logged.get(reverse("portal:invoice_draft_step", args=[draft.pk, 2])))
    assert "datalist" not in body


def test_the_summary_warns_when_the_invoice_exceeds_what_remains(logged, supplier, buyer, user):
    ej = EngagementFactory(structure=buyer, supplier=supplier, number="BC-1", amount_ttc=Decimal("100.00"))
    InvoiceFactory(
        supplier=supplier,
        recipient=buyer,
        numero_engagement="BC-1",
        status=InvoiceStatus.MISE_A_DISPOSITION,
        total_ttc=Decimal("60.00"),
    )
    draft = add_lines(InvoiceFactory(supplier=supplier, recipient=buyer, numero_engagement="bc-1", created_by=user))
    body = text(logged.get(reverse("portal:invoice_draft_step", args=[draft.pk, 5])))
    assert 'id="engagement-warning"' in body
    assert f"ce qui reste de l'engagement {ej.number} (40,00\u00a0€ sur 100,00\u00a0€)" in body
    assert "Vous pouvez l'envoyer" in body
    # A warning, not a finding: nothing to correct before sending.
    assert not [f for f in invoice_precheck(invoice=draft) if f.field == "numero_engagement"]


def test_a_recipient_requiring_an_ej_number_still_requires_one(supplier):
    hopital = StructureFactory(hopital=True)
    EngagementFactory(structure=hopital, supplier=supplier, number="BC-H")
    draft = add_lines(InvoiceFactory(supplier=supplier, recipient=hopital, numero_engagement=""))
    assert "ENGAGEMENT_OBLIGATOIRE" in [f.code for f in invoice_precheck(invoice=draft)]
    draft.numero_engagement = "BC-H"
    assert "ENGAGEMENT_OBLIGATOIRE" not in [f.code for f in invoice_precheck(invoice=draft)]


def test_the_summary_warns_when_the_number_matches_no_ej_of_the_recipient(logged, supplier, buyer, user):
    EngagementFactory(structure=buyer, supplier=supplier, number="BC-1")
    draft = add_lines(InvoiceFactory(supplier=supplier, recipient=buyer, numero_engagement="BC-9", created_by=user))
    body = text(logged.get(reverse("portal:invoice_draft_step", args=[draft.pk, 5])))
    assert (
        "« BC-9 » ne correspond à aucun engagement ouvert que Commune de Belair vous a adressé (proposés : BC-1)"
        in body
    )
