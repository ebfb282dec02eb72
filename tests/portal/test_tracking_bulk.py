"""« Traitement en masse » on « Factures reçues »: select, confirm, apply through the lifecycle service."""

import html

import pytest
from django.urls import reverse
from django.utils.formats import number_format

from choeur.directory.enums import EspaceCode, Habilitation, SubscriptionStatus
from choeur.directory.models import EspaceSubscription
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.lifecycle import invoice_process
from choeur.invoices.models import Invoice, InvoiceStatusChange
from tests.directory.factories import RattachementFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, member_of, open_espace

pytestmark = pytest.mark.django_db

S = InvoiceStatus


@pytest.fixture
def supplier():
    return StructureFactory(raison_sociale="Menuiserie Lambert")


@pytest.fixture
def buyer():
    return StructureFactory(public=True, raison_sociale="Commune de Belair")


@pytest.fixture
def clerk(buyer):
    return member_of(buyer, EspaceCode.FACTURES_RECUES)


@pytest.fixture
def invoices(supplier, buyer):
    return [
        InvoiceFactory(sent=True, with_lines=True, supplier=supplier, recipient=buyer, number=f"FA-{n}")
        for n in (201, 202, 203)
    ]


def text(response) -> str:
    return html.unescape(response.content.decode())


def statuses(invoices):
    return [Invoice.objects.get(pk=i.pk).status for i in invoices]


def select(client, invoices, action, **extra):
    data = {"invoices": [i.pk for i in invoices], "action": action, **extra}
    return client.post(reverse("portal:invoices_bulk_select"), data)


def test_the_received_list_offers_checkboxes_and_the_open_actions(client, clerk, invoices):
    client.force_login(clerk)
    page = text(client.get(reverse("portal:invoices_received")))
    assert 'id="bulk-all"' in page and 'Tout<span class="fr-sr-only"> sélectionner sur la page' in page
    assert all(f'value="{i.pk}" id="bulk-{i.pk}"' in page for i in invoices)
    assert '<option value="service_fait">' in page


def test_no_bulk_form_when_nothing_listed_can_be_processed(client, clerk, buyer, invoices):
    for invoice in invoices:
        invoice_process(invoice=invoice, by=clerk, structure=buyer, transition="rejeter", motif="DOUBLE_FACTURE",
                        comment="Doublon.")  # fmt: skip
    client.force_login(clerk)
    assert 'id="bulk-form"' not in text(client.get(reverse("portal:invoices_received")))


def test_the_issued_list_has_no_bulk_processing(client, supplier, invoices):
    client.force_login(member_of(supplier, EspaceCode.FACTURES_EMISES))
    assert 'id="bulk-form"' not in text(client.get(reverse("portal:invoices_issued")))


def test_selecting_nothing_or_no_action_says_what_to_do(client, clerk, invoices):
    client.force_login(clerk)
    response = client.post(reverse("portal:invoices_bulk_select"), {"action": "service_fait"}, follow=True)
    assert "Cochez au moins une facture" in text(response)
    response = select(client, invoices, "", retour="statut=MISE_A_DISPOSITION")
    assert response.status_code == 302 and response.url.endswith("/factures/recues/?statut=MISE_A_DISPOSITION")
    assert "Choisissez l'action" in text(client.get(response.url))


def test_confirmation_lists_invoices_total_and_what_is_excluded(client, clerk, buyer, invoices):
    invoice_process(invoice=invoices[2], by=clerk, structure=buyer, transition="service_fait")
    client.force_login(clerk)
    response = select(client, invoices, "service_fait")
    assert response.status_code == 302 and response.url == reverse("portal:invoices_bulk_confirm")
    page = text(client.get(response.url))
    total = sum(i.total_ttc for i in invoices[:2])
    assert "2 factures pour un total de" in page
    assert f"pour un total de {number_format(total, 2, force_grouping=True)} € TTC" in page
    assert "FA-201" in page and "FA-202" in page
    assert "1 facture cochée ne sera pas traitée" in page and "FA-203 : au statut « Service fait »" in page
    assert statuses(invoices) == [S.MISE_A_DISPOSITION, S.MISE_A_DISPOSITION, S.SERVICE_FAIT]  # nothing yet


def test_applying_processes_each_invoice_through_the_lifecycle_once(client, clerk, invoices):
    client.force_login(clerk)
    select(client, invoices, "service_fait")
    response = client.post(reverse("portal:invoices_bulk_apply"), follow=True)
    assert "« Constater le service fait » : 3 factures traitées." in text(response)
    assert statuses(invoices) == [S.SERVICE_FAIT] * 3
    assert InvoiceStatusChange.objects.filter(invoice__in=invoices, to_status=S.SERVICE_FAIT).count() == 3
    # A reload of the application re-posts nothing: the selection is gone.
    again = client.post(reverse("portal:invoices_bulk_apply"), follow=True)
    assert "déjà été appliqué" in text(again)
    assert InvoiceStatusChange.objects.filter(invoice__in=invoices, to_status=S.SERVICE_FAIT).count() == 3


def test_a_suspension_needs_motif_and_comment_shown_again_after_a_redirect(client, clerk, invoices):
    client.force_login(clerk)
    select(client, invoices, "suspendre")
    response = client.post(reverse("portal:invoices_bulk_apply"), {"motif": "", "comment": ""})
    assert response.status_code == 302 and response.url == reverse("portal:invoices_bulk_confirm")
    page = text(client.get(response.url))
    assert "Ce champ est obligatoire" in page or "obligatoire" in page
    assert statuses(invoices) == [S.MISE_A_DISPOSITION] * 3
    response = client.post(
        reverse("portal:invoices_bulk_apply"),
        {"motif": "PIECE_JUSTIFICATIVE_MANQUANTE", "comment": "Joindre le bon de livraison."},
        follow=True,
    )
    assert "3 factures traitées" in text(response)
    assert statuses(invoices) == [S.SUSPENDUE] * 3


def test_a_final_step_needs_its_acknowledgement(client, clerk, invoices):
    client.force_login(clerk)
    select(client, invoices, "rejeter")
    page = text(client.get(reverse("portal:invoices_bulk_confirm")))
    assert "ces 3 factures" in page and "ne pourra pas être annulée" in page
    client.post(reverse("portal:invoices_bulk_apply"), {"motif": "DOUBLE_FACTURE", "comment": "Doublon."})
    assert statuses(invoices) == [S.MISE_A_DISPOSITION] * 3
    assert "Cochez la case de confirmation" in text(client.get(reverse("portal:invoices_bulk_confirm")))
    client.post(
        reverse("portal:invoices_bulk_apply"), {"motif": "DOUBLE_FACTURE", "comment": "Doublon.", "confirm": "on"}
    )
    assert statuses(invoices) == [S.REJETEE] * 3


def test_an_invoice_processed_meanwhile_is_refused_and_named(client, clerk, buyer, invoices):
    client.force_login(clerk)
    select(client, invoices, "service_fait")
    client.get(reverse("portal:invoices_bulk_confirm"))
    invoice_process(invoice=invoices[0], by=clerk, structure=buyer, transition="suspendre",
                    motif="AUTRE_PIECE", comment="Attestation.")  # fmt: skip
    response = client.post(reverse("portal:invoices_bulk_apply"), follow=True)
    page = text(response)
    assert "2 factures traitées, 1 refusée : FA-201 (passée au statut « Suspendue »" in page
    assert statuses(invoices) == [S.SUSPENDUE, S.SERVICE_FAIT, S.SERVICE_FAIT]


def test_invoices_of_another_buyer_are_ignored(client, clerk, supplier, invoices):
    other = InvoiceFactory(sent=True, supplier=supplier, recipient=StructureFactory(public=True), number="FA-999")
    client.force_login(clerk)
    select(client, [*invoices, other], "service_fait")
    page = text(client.get(reverse("portal:invoices_bulk_confirm")))
    assert "FA-999" not in page
    client.post(reverse("portal:invoices_bulk_apply"))
    assert Invoice.objects.get(pk=other.pk).status == S.MISE_A_DISPOSITION


def test_a_reader_without_modification_cannot_process(client, buyer, invoices):
    espace = open_espace(buyer, EspaceCode.FACTURES_RECUES)
    rattachement = RattachementFactory(structure=buyer)
    EspaceSubscription.objects.create(
        rattachement=rattachement,
        espace=espace,
        habilitation=Habilitation.CONSULTATION_UNIQUEMENT,
        status=SubscriptionStatus.VALIDEE,
    )
    reader = rattachement.user
    client.force_login(reader)
    select(client, invoices, "service_fait")
    response = client.get(reverse("portal:invoices_bulk_confirm"), follow=True)
    assert "ne s'applique à aucune des factures" in text(response)
    assert statuses(invoices) == [S.MISE_A_DISPOSITION] * 3
