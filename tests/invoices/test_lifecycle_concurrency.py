"""Two people act on one invoice at the same moment: exactly one wins, the other is told someone acted
first (ConflictError, HTTP 409 on the API) and nothing of theirs is written.

Real threads on real connections: on PostgreSQL the row lock (`select_for_update`) serialises them; on
SQLite the write transaction (`transaction_mode = IMMEDIATE`) does. The SQLite test database is in memory
with a shared cache, whose table locks fail at once instead of waiting as the production file database
does (`timeout`): the runner then retries, standing in for that wait.
"""

import threading
import time

import pytest
from django.db import OperationalError, connection

from choeur.core.errors import ConflictError
from choeur.directory.enums import EspaceCode
from choeur.invoices.enums import Channel, InvoiceStatus
from choeur.invoices.lifecycle import invoice_complete, invoice_process
from choeur.invoices.models import Invoice, InvoiceStatusChange
from tests.invoices.factories import InvoiceFactory, issuer_for, member_of

S = InvoiceStatus


def race(*actions):
    """Run the callables at once (a barrier releases them together); return what each returned or raised."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=10)
            for _ in range(200):
                try:
                    results[index] = action()
                except OperationalError as exc:
                    if connection.vendor != "sqlite" or "locked" not in str(exc):
                        raise
                    time.sleep(0.02)
                    continue
                break
        except Exception as exc:  # noqa: BLE001 — the outcome is what the test inspects.
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_recipients_act_at_once_exactly_one_wins():
    invoice = InvoiceFactory(sent=True, with_lines=True)
    alice = member_of(invoice.recipient, EspaceCode.FACTURES_RECUES)
    bob = member_of(invoice.recipient, EspaceCode.FACTURES_RECUES)
    seen = invoice.status

    def certify():
        return invoice_process(
            invoice=Invoice.objects.get(pk=invoice.pk),
            by=alice,
            structure=invoice.recipient,
            transition="service_fait",
            expected_status=seen,
        )

    def reject():
        return invoice_process(
            invoice=Invoice.objects.get(pk=invoice.pk),
            by=bob,
            structure=invoice.recipient,
            transition="rejeter",
            motif="ERREUR_MONTANT",
            comment="Montant faux.",
            expected_status=seen,
        )

    results = race(certify, reject)
    winners = [r for r in results if isinstance(r, Invoice)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], ConflictError)
    assert "entre-temps : rechargez la page" in losers[0].message
    final = Invoice.objects.get(pk=invoice.pk).status
    assert final == winners[0].status
    assert InvoiceStatusChange.objects.filter(invoice=invoice).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_supplier_completing_races_a_recipient_rejecting():
    invoice = InvoiceFactory(sent=True, with_lines=True, status=S.SUSPENDUE)
    buyer = member_of(invoice.recipient, EspaceCode.FACTURES_RECUES)
    seller = issuer_for(invoice.supplier)

    def complete():
        return invoice_complete(
            invoice=invoice,
            by=seller,
            structure=invoice.supplier,
            comment="Pièce envoyée par courrier.",
            channel=Channel.PORTAIL,
            expected_status=S.SUSPENDUE,
        )

    def reject():
        return invoice_process(
            invoice=invoice,
            by=buyer,
            structure=invoice.recipient,
            transition="rejeter",
            motif="AUTRE_REJET",
            comment="Trop tard.",
            channel=Channel.API,
            expected_status=S.SUSPENDUE,
        )

    results = race(complete, reject)
    assert sum(isinstance(r, Invoice) for r in results) == 1, results
    assert sum(isinstance(r, ConflictError) for r in results) == 1, results
    assert InvoiceStatusChange.objects.filter(invoice=invoice).count() == 1
