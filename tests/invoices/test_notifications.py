"""Notifications of status changes: sent after the commit, to the supplier's contact address and to the
people following the espace, as each chose (at once, weekly digest, never); never twice; never for a
rolled-back action; the webhook signal leaves too."""

import datetime

import pytest
from django.db import transaction

from choeur.core.scheduler import registered_jobs, scheduler_tick
from choeur.directory.enums import EspaceCode
from choeur.invoices import tasks
from choeur.invoices.enums import Channel, InvoiceStatus, NotificationFrequency
from choeur.invoices.lifecycle import invoice_process
from choeur.invoices.models import InvoiceStatusChange, Notification
from choeur.invoices.notifications import (
    notification_preference_set,
    notification_preferences_for,
    notifications_for,
    notifications_mark_read,
    notifications_send_digests,
    notifications_unread_count,
)
from choeur.invoices.services import invoice_send
from choeur.invoices.signals import invoice_status_changed
from tests.directory.factories import StructureFactory
from tests.invoices.factories import InvoiceFactory, issuer_for, member_of

pytestmark = pytest.mark.django_db

S = InvoiceStatus
F = NotificationFrequency


@pytest.fixture
def invoice():
    return InvoiceFactory(sent=True, with_lines=True, supplier__email="compta@fournisseur.example", number="F-NOTIF-1")


@pytest.fixture
def buyer(invoice):
    return member_of(invoice.recipient, EspaceCode.FACTURES_RECUES)


@pytest.fixture
def seller(invoice):
    return issuer_for(invoice.supplier)


def process(invoice, by, transition, **kwargs):
    return invoice_process(invoice=invoice, by=by, structure=invoice.recipient, transition=transition, **kwargs)


def addressees(mailoutbox):
    return sorted(address for message in mailoutbox for address in message.to)


def test_a_status_change_is_announced_after_the_commit(
    invoice, buyer, seller, mailoutbox, django_capture_on_commit_callbacks
):
    colleague = member_of(invoice.recipient, EspaceCode.FACTURES_RECUES)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        process(
            invoice,
            buyer,
            "suspendre",
            motif="PIECE_JUSTIFICATIVE_MANQUANTE",
            comment="Joignez le procès-verbal de réception.",
        )
        assert mailoutbox == []  # Nothing leaves before the commit.
    assert len(callbacks) == 1
    # The actor is not told about their own action.
    assert addressees(mailoutbox) == sorted(
        ["compta@fournisseur.example", seller.notification_email, colleague.notification_email]
    )
    contact_mail = next(m for m in mailoutbox if m.to == ["compta@fournisseur.example"])
    assert contact_mail.subject == "[Chœur] Facture F-NOTIF-1 : suspendue"
    assert "Motif : Pièce justificative manquante" in contact_mail.body
    assert "Joignez le procès-verbal de réception." in contact_mail.body
    assert "Prochaine étape : Le fournisseur complète la facture" in contact_mail.body
    assert "http://" in contact_mail.body and "mot de passe" in contact_mail.body
    assert contact_mail.alternatives and "<strong>« Suspendue »</strong>" in contact_mail.alternatives[0].content
    # In-app rows for the people, one per person; none for the actor.
    assert set(Notification.objects.filter(user__isnull=False).values_list("user_id", flat=True)) == {
        seller.pk,
        colleague.pk,
    }
    assert notifications_unread_count(user=seller) == 1
    assert notifications_unread_count(user=buyer) == 0
    row = notifications_for(user=seller).get()
    assert (row.title, row.espace, row.structure) == (
        "Facture F-NOTIF-1 : suspendue",
        "FACTURES_EMISES",
        invoice.supplier,
    )


def test_nothing_leaves_for_a_rolled_back_action(invoice, buyer, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                process(invoice, buyer, "service_fait")
                raise RuntimeError("panne après la transition")
    assert mailoutbox == []
    assert not Notification.objects.exists()
    assert invoice.__class__.objects.get(pk=invoice.pk).status == S.MISE_A_DISPOSITION


def test_weekly_digest_and_none_preferences(invoice, buyer, seller, mailoutbox, django_capture_on_commit_callbacks):
    notification_preference_set(
        user=seller, structure=invoice.supplier, espace=EspaceCode.FACTURES_EMISES, frequency=F.WEEKLY
    )
    silent = member_of(invoice.supplier, EspaceCode.FACTURES_EMISES)
    notification_preference_set(
        user=silent, structure=invoice.supplier, espace=EspaceCode.FACTURES_EMISES, frequency=F.NONE
    )
    with django_capture_on_commit_callbacks(execute=True):
        process(invoice, buyer, "service_fait")
    with django_capture_on_commit_callbacks(execute=True):
        process(invoice, buyer, "mandater", numero_dp_mandat="MDT-1")
    # Only the contact address was e-mailed at once; the weekly reader has in-app rows; the silent one nothing.
    assert addressees(mailoutbox) == ["compta@fournisseur.example"] * 2
    assert not Notification.objects.filter(user=silent).exists()
    assert Notification.objects.filter(user=seller, frequency=F.WEEKLY, emailed_at__isnull=True).count() == 2
    mailoutbox.clear()
    assert notifications_send_digests() == 1
    assert addressees(mailoutbox) == [seller.notification_email]
    digest = mailoutbox[0]
    assert "2 changement(s)" in digest.subject
    assert "Facture F-NOTIF-1 : service fait" in digest.body and "Facture F-NOTIF-1 : mandatée" in digest.body
    # Sent once.
    assert notifications_send_digests() == 0
    assert len(mailoutbox) == 1


def test_the_digest_job_is_scheduled(invoice, buyer, seller, mailoutbox, django_capture_on_commit_callbacks):
    import choeur.invoices.periodic  # noqa: F401  (run_periodic imports it)

    assert "invoices.notifications_digest" in registered_jobs()
    assert "invoices.tacit_validation" in registered_jobs()
    notification_preference_set(
        user=seller, structure=invoice.supplier, espace=EspaceCode.FACTURES_EMISES, frequency=F.WEEKLY
    )
    with django_capture_on_commit_callbacks(execute=True):
        process(invoice, buyer, "service_fait")
    mailoutbox.clear()
    job = registered_jobs()["invoices.notifications_digest"]
    now = datetime.datetime(2026, 3, 9, 8, 0, tzinfo=datetime.UTC)
    assert scheduler_tick(now=now, jobs={job.name: job}) == [job.name]
    assert addressees(mailoutbox) == [seller.notification_email]


def test_a_task_run_twice_tells_nobody_twice(invoice, buyer, seller, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        process(invoice, buyer, "service_fait")
    sent = len(mailoutbox)
    change = InvoiceStatusChange.objects.get(invoice=invoice)
    tasks.invoice_status_changed.call(change.pk)
    assert len(mailoutbox) == sent
    assert Notification.objects.filter(status_change=change).count() == 2  # Contact address + seller.


def test_the_webhook_signal_is_sent_with_the_change(invoice, buyer, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, change, **kwargs):
        received.append((sender, change.to_status, change.invoice_id))

    invoice_status_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            process(invoice, buyer, "service_fait", channel=Channel.PORTAIL)
    finally:
        invoice_status_changed.disconnect(receiver)
    assert received == [(InvoiceStatusChange, S.SERVICE_FAIT, invoice.pk)]


def test_a_failing_mail_server_does_not_stop_the_webhooks(
    invoice, buyer, monkeypatch, django_capture_on_commit_callbacks
):
    received = []

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("serveur SMTP injoignable")

    monkeypatch.setattr("choeur.invoices.notifications._send", broken)
    invoice_status_changed.connect(
        lambda sender, change, **kw: received.append(change.pk), weak=False, dispatch_uid="t"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            process(invoice, buyer, "service_fait")
    finally:
        invoice_status_changed.disconnect(dispatch_uid="t")
    assert len(received) == 1


def test_a_sending_announces_the_arrival_not_the_transient_deposit(mailoutbox, django_capture_on_commit_callbacks):
    draft = InvoiceFactory(with_lines=True, supplier__email="facturation@pme.example")
    user = issuer_for(draft.supplier)
    receiver = member_of(draft.recipient, EspaceCode.FACTURES_RECUES)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_send(invoice=draft, by=user)
    # One e-mail per address, for the arrival (the platform's step): the depositor is told it arrived too.
    subjects = sorted((m.to[0], m.subject) for m in mailoutbox)
    title = f"[Chœur] Facture {draft.number} : mise à disposition du destinataire"
    expected = [("facturation@pme.example", title), (receiver.notification_email, title), (user.email, title)]
    assert subjects == sorted(expected)


def test_a_payment_not_reported_is_not_announced_to_the_supplier(mailoutbox, django_capture_on_commit_callbacks):
    recipient = StructureFactory(public=True, mise_en_paiement_non_remontee=True)
    invoice = InvoiceFactory(sent=True, with_lines=True, recipient=recipient, supplier__email="c@pme.example")
    seller = issuer_for(invoice.supplier)
    buyer = member_of(recipient, EspaceCode.FACTURES_RECUES)
    colleague = member_of(recipient, EspaceCode.FACTURES_RECUES)
    with django_capture_on_commit_callbacks(execute=True):
        process(invoice, buyer, "mettre_en_paiement")
    assert addressees(mailoutbox) == [colleague.notification_email]
    assert not Notification.objects.filter(user=seller).exists()


def test_notification_centre_marks_read_and_bounds_to_the_structures(
    invoice, buyer, seller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        process(invoice, buyer, "service_fait")
        process(invoice, buyer, "mandater", numero_dp_mandat="M")
    assert notifications_unread_count(user=seller) == 2
    first = notifications_for(user=seller).last()
    assert notifications_mark_read(user=buyer, ids=[first.pk]) == 0  # Not theirs.
    assert notifications_mark_read(user=seller, ids=[first.pk]) == 1
    assert notifications_unread_count(user=seller) == 1
    assert notifications_mark_read(user=seller) == 1
    assert notifications_unread_count(user=seller) == 0


def test_preferences_cover_the_espaces_the_person_reads(invoice, seller):
    rows = notification_preferences_for(user=seller)
    assert [(r.structure, r.espace, r.frequency) for r in rows] == [
        (invoice.supplier, EspaceCode.FACTURES_EMISES, F.IMMEDIATE)
    ]
    notification_preference_set(
        user=seller, structure=invoice.supplier, espace=EspaceCode.FACTURES_EMISES, frequency=F.NONE
    )
    assert notification_preferences_for(user=seller)[0].frequency == F.NONE
    from choeur.core.errors import ApplicationError, NotFoundError

    with pytest.raises(ApplicationError, match="Fréquence « SOUVENT » inconnue"):
        notification_preference_set(
            user=seller, structure=invoice.supplier, espace=EspaceCode.FACTURES_EMISES, frequency="SOUVENT"
        )
    with pytest.raises(NotFoundError):
        notification_preference_set(
            user=seller, structure=invoice.recipient, espace=EspaceCode.FACTURES_RECUES, frequency=F.NONE
        )
