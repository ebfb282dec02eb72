"""The payer's clock of a works payment starts at the MOE's reception of the company's draft, not at the deposit
of the A19 the payer receives."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from choeur.invoices.lifecycle import invoice_payment_clock_view
from choeur.works.services import works_moa_validate, works_moe_transmit, works_piece_deposit
from tests.works.factories import a4_lines, works_market

pytestmark = pytest.mark.django_db


def test_a19_clock_starts_at_the_moe_reception_of_the_a4():
    m = works_market()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        a4 = works_piece_deposit(
            marche=m.marche, cadre="A4", by=m.user("titulaire"), structure=m.titulaire, lines=a4_lines()
        )
    dossier = a4.dossier
    with time_machine.travel(start + timedelta(days=6)):
        works_moe_transmit(dossier=dossier, by=m.user("moe"), structure=m.moe)
    with time_machine.travel(start + timedelta(days=12)):
        a19 = works_moa_validate(dossier=dossier, by=m.user("moa"), structure=m.moa)
    dossier.refresh_from_db()
    assert a19.invoice.deposited_at - start >= timedelta(days=12)

    with time_machine.travel(start + timedelta(days=13)):
        view = invoice_payment_clock_view(invoice=a19.invoice)
    assert view["start"] == timezone.localtime(dossier.moe_received_at) == timezone.localtime(start)
    assert view["start_reason"] == "réception de la demande de paiement par la maîtrise d'œuvre"
    assert view["deadline"] == timezone.localdate(start) + timedelta(days=30)
    assert view["days_left"] == 30 - 13


def test_an_a19_without_a_recorded_start_keeps_its_deposit():
    """Without the works record (e.g. data before the record existed), the deposit still starts the clock."""
    m = works_market()
    a4 = works_piece_deposit(
        marche=m.marche, cadre="A4", by=m.user("titulaire"), structure=m.titulaire, lines=a4_lines()
    )
    works_moe_transmit(dossier=a4.dossier, by=m.user("moe"), structure=m.moe)
    a19 = works_moa_validate(dossier=a4.dossier, by=m.user("moa"), structure=m.moa)
    change = a19.invoice.status_changes.get(transition="mettre_a_disposition")
    # The history is append-only: simulate the old shape through a queryset update of the JSON alone.
    type(change).objects.filter(pk=change.pk).update(data={"dossier": a4.dossier.reference})
    view = invoice_payment_clock_view(invoice=a19.invoice)
    assert view["start"] == timezone.localtime(a19.invoice.deposited_at)
    assert view["start_reason"] == "dépôt de la facture sur Chœur"
