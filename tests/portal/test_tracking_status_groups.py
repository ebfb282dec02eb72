"""Status filters grouped as users think (à traiter, en cours, payées…), detailed statuses one level below."""

import html
import re

import pytest
from django.urls import reverse

from choeur.directory.enums import EspaceCode
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.lifecycle import invoice_process
from choeur.invoices.status_groups import ISSUED, RECEIVED, status_groups
from choeur.portal.tracking_views.forms import ISSUED_STATUSES, RECEIVED_STATUSES
from tests.directory.factories import StructureFactory
from tests.invoices.factories import InvoiceFactory, member_of

pytestmark = pytest.mark.django_db

S = InvoiceStatus


def visible_text(response) -> str:
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize(("side", "statuses"), [(ISSUED, ISSUED_STATUSES), (RECEIVED, RECEIVED_STATUSES)])
def test_each_status_of_a_side_is_in_exactly_one_group(side, statuses):
    groups = status_groups(side=side, statuses=[s.value for s in statuses])
    members = [s for g in groups for s in g.statuses]
    assert sorted(members) == sorted(s.value for s in statuses)
    assert len(groups) <= 8


@pytest.fixture
def parties():
    supplier = StructureFactory(raison_sociale="Menuiserie Lambert")
    buyer = StructureFactory(public=True, raison_sociale="Commune de Belair")
    clerk = member_of(buyer, EspaceCode.FACTURES_RECUES)
    invoices = [
        InvoiceFactory(sent=True, with_lines=True, supplier=supplier, recipient=buyer, number=f"FA-3{n}")
        for n in range(4)
    ]
    invoice_process(invoice=invoices[1], by=clerk, structure=buyer, transition="service_fait")
    invoice_process(invoice=invoices[2], by=clerk, structure=buyer, transition="suspendre",
                    motif="AUTRE_PIECE", comment="Attestation.")  # fmt: skip
    invoice_process(invoice=invoices[3], by=clerk, structure=buyer, transition="mettre_en_paiement")
    return supplier, buyer, clerk, invoices


def test_the_supplier_filter_leads_with_groups_and_keeps_the_57_statuses_below(client, parties):
    supplier, *_ = parties
    client.force_login(member_of(supplier, EspaceCode.FACTURES_EMISES))
    page = client.get(reverse("portal:invoices_issued")).content.decode()
    select = re.search(r'<select name="statut".*?</select>', page, re.S).group(0)
    groups, detailed = select.split('label="Statuts détaillés"')
    assert '<optgroup label="Regroupements">' in groups
    assert re.findall(r'<option value="([a-z_]+)"', groups) == [
        "brouillons", "a_corriger", "suspendues", "a_recycler", "en_cours", "payees", "rejetees", "closes",
    ]  # fmt: skip
    assert len(re.findall(r"<option ", detailed)) == len(ISSUED_STATUSES)


def test_the_received_list_counts_by_group_and_filters_on_one(client, parties):
    _, _, clerk, invoices = parties
    client.force_login(clerk)
    response = client.get(reverse("portal:invoices_received"))
    text = visible_text(response)
    for expected in ("À traiter : 1", "En cours : 1", "Suspendues : 1", "Payées : 1"):
        assert expected in text
    response = client.get(reverse("portal:invoices_received"), {"statut": "en_cours"})
    page = response.content.decode()
    assert f'data-invoice="{invoices[1].pk}"' in page
    assert all(f'data-invoice="{i.pk}"' not in page for i in (invoices[0], invoices[2], invoices[3]))
    # The detailed statuses are still reachable, one level below.
    response = client.get(reverse("portal:invoices_received"), {"statut": S.SERVICE_FAIT})
    assert f'data-invoice="{invoices[1].pk}"' in response.content.decode()
    assert 'id="status-details" open' in response.content.decode()


def test_the_a_traiter_tile_filters_on_its_group(client, parties):
    _, buyer, clerk, invoices = parties
    client.force_login(clerk)
    page = client.get(reverse("portal:invoices_received")).content.decode()
    assert 'href="?statut=a_traiter">À traiter : 1' in page


@pytest.mark.parametrize("name", ["portal:invoices_issued", "portal:invoices_received"])
def test_no_raw_status_code_is_shown_as_text(client, parties, name):
    supplier, _, clerk, _ = parties
    user = clerk if name.endswith("received") else member_of(supplier, EspaceCode.FACTURES_EMISES)
    client.force_login(user)
    text = visible_text(client.get(reverse(name)))
    codes = {s.value for s in S if "_" in s.value}
    shown = set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", text)) & codes
    assert not shown


def test_an_unknown_group_says_what_to_fix(client, parties):
    _, _, clerk, _ = parties
    client.force_login(clerk)
    text = visible_text(client.get(reverse("portal:invoices_received"), {"statut": "nimporte"}))
    assert "Filtres à corriger" in text
