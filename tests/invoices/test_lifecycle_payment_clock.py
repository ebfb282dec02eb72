"""The payment clock as both sides see it (lifecycle.invoice_payment_clock_view): start, délai per
structure, suspension, lateness, payment, and what a supplier is not told."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from choeur.invoices.enums import Channel, InvoiceStatus
from choeur.invoices.lifecycle import invoice_complete, invoice_payment_clock_view, invoice_process
from tests.directory.factories import StructureFactory
from tests.invoices.factories import InvoiceFactory, issuer_for, member_of

pytestmark = pytest.mark.django_db

S = InvoiceStatus
PARIS = datetime.timezone(datetime.timedelta(hours=1))
DEPOSIT = datetime.datetime(2026, 2, 2, 10, 0, tzinfo=PARIS)


def day(n):
    """`n` days after the deposit, at noon."""
    return DEPOSIT + datetime.timedelta(days=n, hours=2)


def deposited(**kwargs):
    with time_machine.travel(DEPOSIT, tick=False):
        invoice = InvoiceFactory(sent=True, with_lines=True, **kwargs)
    return invoice


def act(invoice, when, transition, **kwargs):
    with time_machine.travel(when, tick=False):
        buyer = member_of(invoice.recipient)
        structure = invoice.recipient
        return invoice_process(
            invoice=invoice, by=buyer, structure=structure, transition=transition, channel=Channel.API, **kwargs
        )


def view(invoice, n, **kwargs):
    invoice.refresh_from_db()
    return invoice_payment_clock_view(invoice=invoice, today=day(n).date(), **kwargs)


def test_thirty_days_from_the_deposit_for_a_local_authority():
    invoice = deposited()
    clock = view(invoice, 10)
    assert clock["applicable"]
    assert clock["start"].date() == DEPOSIT.date()
    assert clock["delay_days"] == 30
    assert clock["deadline"] == datetime.date(2026, 3, 4)
    assert (clock["days_left"], clock["days_late"], clock["is_late"]) == (20, 0, False)
    assert clock["interest"] == Decimal("0.00") and clock["indemnity"] == Decimal("0.00")
    assert "30 jours" in clock["explanation"] and "04/03/2026" in clock["explanation"]


def test_fifty_days_for_a_public_health_establishment_and_a_configured_delay():
    assert view(deposited(recipient=StructureFactory(hopital=True)), 0)["delay_days"] == 50
    assert view(deposited(recipient=StructureFactory(public=True, payment_delay_days=20)), 0)["delay_days"] == 20


def test_late_payment_accrues_interest_and_the_fixed_indemnity():
    invoice = deposited()
    amount = invoice.montant_a_payer
    clock = view(invoice, 40)
    assert (clock["days_left"], clock["days_late"], clock["is_late"]) == (-10, 10, True)
    # ECB rate of 1 January 2026 (2.15 %) + 8 points, on 10 days.
    assert clock["interest_rate"] == Decimal("10.15")
    expected = (amount * Decimal("10.15") / 100 * 10 / 365).quantize(Decimal("0.01"))
    assert clock["interest"] == expected
    assert clock["indemnity"] == Decimal("40.00")
    assert clock["total_due"] == expected + Decimal("40.00")
    assert "intérêts moratoires" in clock["explanation"] and "40,00" in clock["explanation"]


def test_suspension_stops_the_clock_and_completion_restarts_it():
    invoice = deposited()
    act(invoice, day(10), "suspendre", motif="PIECE_JUSTIFICATIVE_MANQUANTE", comment="PV manquant")
    clock = view(invoice, 15)
    assert clock["suspended"] and clock["deadline"] is None and clock["days_left"] is None
    assert clock["suspended_days"] == 5
    assert "suspendu" in clock["explanation"]
    with time_machine.travel(day(25), tick=False):
        invoice_complete(
            invoice=invoice,
            by=issuer_for(invoice.supplier),
            structure=invoice.supplier,
            comment="PV joint",
            channel=Channel.PORTAIL,
        )
    clock = view(invoice, 30)
    # 20 days were left at the suspension: the deadline moves by the 15 days of suspension.
    assert not clock["suspended"]
    assert clock["deadline"] == day(45).date()
    assert clock["suspended_days"] == 15
    assert clock["days_left"] == 15


def test_payment_stops_the_clock():
    invoice = deposited()
    act(invoice, day(35), "mettre_en_paiement")
    clock = view(invoice, 60)
    assert clock["paid_on"] == day(35).date()
    assert clock["days_late"] == 5
    assert "mise en paiement le" in clock["explanation"]


def test_a_payment_not_reported_to_suppliers_is_not_shown_to_them():
    invoice = deposited(recipient=StructureFactory(public=True, mise_en_paiement_non_remontee=True))
    act(invoice, day(20), "mettre_en_paiement")
    assert view(invoice, 40)["paid_on"] == day(20).date()
    supplier_view = view(invoice, 40, for_supplier=True)
    assert supplier_view["paid_on"] is None
    assert "ne transmet pas" in supplier_view["explanation"]


@pytest.mark.parametrize("transition, motif", [("rejeter", "ERREUR_MONTANT"), ("a_recycler", "ERREUR_DESTINATAIRE")])
def test_no_clock_for_a_rejected_invoice_or_one_to_recycle(transition, motif):
    invoice = deposited()
    act(invoice, day(3), transition, motif=motif, comment="Voir commentaire")
    clock = view(invoice, 10)
    assert not clock["applicable"]
    assert clock["deadline"] is None and clock["explanation"]


def test_no_clock_for_a_draft_or_a_credit_note():
    assert not invoice_payment_clock_view(invoice=InvoiceFactory())["applicable"]
    credit_note = InvoiceFactory(sent=True, avoir=True)
    clock = invoice_payment_clock_view(invoice=credit_note)
    assert not clock["applicable"] and "avoir" in clock["explanation"]
