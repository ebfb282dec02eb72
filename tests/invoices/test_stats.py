"""Statistics (stats.py): volume per month, time from deposit to payment, returns by reason."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from choeur.directory.enums import EspaceCode
from choeur.invoices import search, stats
from choeur.invoices.enums import InvoiceStatus
from choeur.invoices.lifecycle import invoice_process
from tests.directory.factories import StructureFactory
from tests.invoices.factories import InvoiceFactory, member_of

pytestmark = pytest.mark.django_db

S = InvoiceStatus


def paris(year, month, day, hour=10):
    return timezone.make_aware(datetime.datetime(year, month, day, hour))


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
def seller(supplier):
    return member_of(supplier, EspaceCode.FACTURES_EMISES)


def scope(user, side):
    return search.dashboard_queryset(user=user, side=side)


def pay_after(invoice, clerk, days):
    with time_machine.travel(invoice.deposited_at + datetime.timedelta(days=days), tick=False):
        invoice_process(invoice=invoice, by=clerk, structure=invoice.recipient, transition="mettre_en_paiement")


def test_volume_per_month_counts_paris_months_and_keeps_empty_ones(supplier, buyer, seller):
    InvoiceFactory(sent=True, supplier=supplier, recipient=buyer, deposited_at=paris(2026, 3, 5), total_ttc=10)
    # 31 March at 23:30 in Paris is 21:30 UTC: still March.
    InvoiceFactory(sent=True, supplier=supplier, recipient=buyer, deposited_at=paris(2026, 3, 31, 23), total_ttc=5)
    InvoiceFactory(sent=True, supplier=supplier, recipient=buyer, deposited_at=paris(2026, 5, 1), total_ttc=7)
    InvoiceFactory(sent=True, supplier=supplier, recipient=buyer, deposited_at=paris(2025, 1, 1))  # too old
    volumes = stats.volume_per_month(scope(seller, search.ISSUED), months=4, today=datetime.date(2026, 5, 20))
    assert [(v.label, v.count, v.total_ttc) for v in volumes] == [
        ("févr. 2026", 0, Decimal("0.00")),
        ("mars 2026", 2, Decimal("15.00")),
        ("avr. 2026", 0, Decimal("0.00")),
        ("mai 2026", 1, Decimal("7.00")),
    ]
    assert [v.percent for v in volumes] == [0.0, 100.0, 0.0, 50.0]


def test_payment_times_buckets_median_and_legal_delay(supplier, buyer, clerk, seller):
    for days in (5, 25, 45):
        pay_after(InvoiceFactory(sent=True, supplier=supplier, recipient=buyer), clerk, days)
    InvoiceFactory(sent=True, supplier=supplier, recipient=buyer)  # not paid yet: not counted
    times = stats.payment_times(scope(seller, search.ISSUED), side=search.ISSUED)
    assert (times.count, times.median_days, times.mean_days) == (3, 25, 25.0)
    assert times.within_delay == 2  # a commune: 30 days
    assert {b.label: int(b.value) for b in times.buckets} == {
        "≤ 10 j": 1,
        "11–20 j": 0,
        "21–30 j": 1,
        "31–50 j": 1,
        "51–60 j": 0,
        "> 60 j": 0,
    }
    assert times.by_counterpart == [{"name": "Commune de Belair", "count": 3, "median_days": 25, "percent": 100.0}]


def test_unreported_payments_stay_out_of_the_suppliers_figures(supplier, buyer, clerk, seller):
    buyer.mise_en_paiement_non_remontee = True
    buyer.save()
    pay_after(InvoiceFactory(sent=True, supplier=supplier, recipient=buyer), clerk, 12)
    assert stats.payment_times(scope(seller, search.ISSUED), side=search.ISSUED).count == 0
    assert stats.payment_times(scope(clerk, search.RECEIVED), side=search.RECEIVED).count == 1


def test_returns_by_reason_as_a_share_of_deposits(supplier, buyer, clerk):
    other = StructureFactory(raison_sociale="Atelier Voisin")
    invoices = [InvoiceFactory(sent=True, supplier=supplier, recipient=buyer) for _ in range(3)]
    invoices.append(InvoiceFactory(sent=True, supplier=other, recipient=buyer))
    for invoice, transition, motif in (
        (invoices[0], "rejeter", "ERREUR_MONTANT"),
        (invoices[1], "rejeter", "ERREUR_MONTANT"),
        (invoices[2], "suspendre", "PIECE_ILLISIBLE"),
    ):
        invoice_process(
            invoice=invoice, by=clerk, structure=buyer, transition=transition, motif=motif, comment="À revoir."
        )
    returns = stats.return_reasons(scope(clerk, search.RECEIVED), side=search.RECEIVED)
    assert returns.deposited == 4
    assert [(r["transition"], r["motif_label"], r["count"], r["rate"]) for r in returns.rows] == [
        ("rejeter", "Montant erroné", 2, 50.0),
        ("suspendre", "Pièce jointe illisible ou incomplète", 1, 25.0),
    ]
    per = {row["name"]: row for row in returns.by_counterpart}
    assert per["Menuiserie Lambert"] == {
        "name": "Menuiserie Lambert",
        "deposited": 3,
        "rejected": 2,
        "returned": 3,
        "rejection_rate": 66.7,
    }
    assert per["Atelier Voisin"]["rejected"] == 0


def test_side_stats_ignore_other_structures(supplier, buyer, clerk, seller):
    InvoiceFactory(sent=True, supplier=supplier, recipient=buyer)
    InvoiceFactory(sent=True)  # someone else's
    figures = stats.side_stats(scope(seller, search.ISSUED), side=search.ISSUED)
    assert figures.total_deposited == 1
    assert sum(v.count for v in figures.volumes) == 1
