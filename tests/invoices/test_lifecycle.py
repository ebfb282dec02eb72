"""The recipient's processing and the supplier's answers (lifecycle.py): rights, coded reasons, mandate
number, completion, recycling, acknowledgement of rejections, and the actions offered to each person."""

import datetime
from datetime import timedelta

import pytest
from django.utils import timezone

from choeur.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from choeur.core.models import AuditEntry
from choeur.directory.enums import EspaceCode, Habilitation, SubscriptionStatus
from choeur.directory.models import EspaceSubscription
from choeur.invoices.enums import Channel, InvoiceEventAction, InvoiceStatus
from choeur.invoices.lifecycle import (
    MOTIFS,
    RECIPIENT_TRANSITIONS,
    invoice_action_structure,
    invoice_actions_for,
    invoice_complete,
    invoice_process,
    invoice_recycle,
    invoice_rejection_acknowledge,
    rejections_pending,
    status_changes_for,
    status_for_supplier,
    user_blocked_by_rejections,
)
from choeur.invoices.models import Invoice, InvoiceAttachment, InvoiceEvent, InvoiceStatusChange
from choeur.invoices.selectors import invoices_received
from choeur.invoices.workflow import TRANSITIONS_BY_NAME
from tests.directory.factories import RattachementFactory, ServiceFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory, issuer_for, member_of, open_espace

pytestmark = pytest.mark.django_db

S = InvoiceStatus
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def invoice():
    return InvoiceFactory(sent=True, with_lines=True)


@pytest.fixture
def buyer(invoice):
    return member_of(invoice.recipient, EspaceCode.FACTURES_RECUES)


@pytest.fixture
def seller(invoice):
    return issuer_for(invoice.supplier)


def process(invoice, by, transition, **kwargs):
    return invoice_process(invoice=invoice, by=by, structure=invoice.recipient, transition=transition, **kwargs)


def reject(invoice, by, **kwargs):
    return process(invoice, by, "rejeter", motif="ERREUR_MONTANT", comment="Le total ne correspond pas.", **kwargs)


def status_of(invoice):
    return Invoice.objects.get(pk=invoice.pk).status


# --- Recipient processing -------------------------------------------------------------------------------------


def test_full_processing_up_to_payment(invoice, buyer):
    process(invoice, buyer, "service_fait")
    process(invoice, buyer, "mandater", numero_dp_mandat="MDT-2026-0042")
    process(invoice, buyer, "mettre_a_disposition_comptable")
    process(invoice, buyer, "comptabiliser")
    result = process(invoice, buyer, "mettre_en_paiement", expected_status=S.COMPTABILISEE)
    assert result.status == S.MISE_EN_PAIEMENT
    stored = Invoice.objects.get(pk=invoice.pk)
    assert stored.numero_dp_mandat == "MDT-2026-0042"
    changes = list(InvoiceStatusChange.objects.for_invoice(invoice))
    assert [c.to_status for c in changes] == [
        S.SERVICE_FAIT,
        S.MANDATEE,
        S.MISE_A_DISPOSITION_COMPTABLE,
        S.COMPTABILISEE,
        S.MISE_EN_PAIEMENT,
    ]
    assert all(c.actor_user == buyer and c.actor_structure == invoice.recipient for c in changes)
    assert changes[1].data == {"numero_dp_mandat": "MDT-2026-0042"}
    assert AuditEntry.objects.for_object(invoice).filter(action="invoices.invoice.mandater").exists()


def test_optional_steps_may_be_skipped_but_order_is_kept(invoice, buyer):
    process(invoice, buyer, "mandater", numero_dp_mandat="M1")
    with pytest.raises(ApplicationError, match="Constater le service fait : impossible depuis le statut « Mandatée »"):
        process(invoice, buyer, "service_fait")
    process(invoice, buyer, "mettre_en_paiement")
    assert status_of(invoice) == S.MISE_EN_PAIEMENT


@pytest.mark.parametrize("numero, message", [("", "indiquez le numéro de mandat"), ("X" * 51, "50 caractères")])
def test_mandater_needs_a_valid_mandate_number(invoice, buyer, numero, message):
    with pytest.raises(ApplicationError, match=message) as excinfo:
        process(invoice, buyer, "mandater", numero_dp_mandat=numero)
    assert excinfo.value.field == "numero_dp_mandat"
    assert status_of(invoice) == S.MISE_A_DISPOSITION
    assert Invoice.objects.get(pk=invoice.pk).numero_dp_mandat == ""


@pytest.mark.parametrize("transition", list(MOTIFS))
def test_returns_need_a_coded_reason_and_a_comment(invoice, buyer, transition):
    with pytest.raises(ApplicationError, match="choisissez un motif") as excinfo:
        process(invoice, buyer, transition, comment="Voir la commande.")
    assert excinfo.value.code == "motif_obligatoire"
    with pytest.raises(ApplicationError, match="Motifs possibles :") as excinfo:
        process(invoice, buyer, transition, motif="PARCE_QUE", comment="Voir la commande.")
    assert excinfo.value.code == "motif_inconnu"
    code, label = MOTIFS[transition][0]
    with pytest.raises(ApplicationError, match="expliquez au fournisseur") as excinfo:
        process(invoice, buyer, transition, motif=code)
    assert excinfo.value.field == "comment"
    assert status_of(invoice) == S.MISE_A_DISPOSITION
    assert not InvoiceStatusChange.objects.filter(invoice=invoice).exists()
    # A code in any case, or the exact label, is accepted; the code is what is stored.
    process(invoice, buyer, transition, motif=code.lower(), comment="Voir la commande.")
    change = InvoiceStatusChange.objects.get(invoice=invoice)
    assert (change.motif, change.comment, change.data["motif_libelle"]) == (code, "Voir la commande.", label)


def test_motif_label_is_accepted(invoice, buyer):
    process(invoice, buyer, "rejeter", motif="Facture déjà reçue (doublon)", comment="Déjà reçue le 3 mars.")
    assert InvoiceStatusChange.objects.get(invoice=invoice).motif == "DOUBLE_FACTURE"


@pytest.mark.parametrize("transition", ["completer", "recycler", "deposer", "valider_1", "inventee"])
def test_only_recipient_actions_are_processed(invoice, buyer, transition):
    with pytest.raises(ApplicationError, match="inconnue pour une facture reçue") as excinfo:
        process(invoice, buyer, transition)
    assert excinfo.value.code == "transition_inconnue"


def test_a_person_needs_the_received_invoices_espace_with_modification(invoice):
    # A utilisateur simple with a consultation-only subscription to « Factures reçues ».
    espace = open_espace(invoice.recipient, EspaceCode.FACTURES_RECUES)
    rattachement = RattachementFactory(structure=invoice.recipient)
    subscription = EspaceSubscription.objects.create(
        rattachement=rattachement,
        espace=espace,
        habilitation=Habilitation.CONSULTATION_UNIQUEMENT,
        status=SubscriptionStatus.VALIDEE,
    )
    with pytest.raises(PermissionDeniedError, match="« Factures reçues » avec l'habilitation « modification »"):
        process(invoice, rattachement.user, "service_fait")
    assert invoice_actions_for(invoice=invoice, user=rattachement.user) == []
    subscription.habilitation = Habilitation.MODIFICATION
    subscription.save()
    process(invoice, rattachement.user, "service_fait")
    assert status_of(invoice) == S.SERVICE_FAIT


def test_the_supplier_cannot_process_its_own_invoice(invoice, seller):
    open_espace(invoice.supplier, EspaceCode.FACTURES_RECUES)
    with pytest.raises(PermissionDeniedError, match="action réservée à destinataire"):
        invoice_process(
            invoice=invoice, by=seller, structure=invoice.supplier, transition="service_fait", channel=Channel.PORTAIL
        )
    assert status_of(invoice) == S.MISE_A_DISPOSITION


def test_without_a_person_only_a_machine_channel_acts(invoice):
    with pytest.raises(PermissionDeniedError, match="connectez-vous"):
        process(invoice, None, "service_fait")
    result = process(invoice, None, "service_fait", channel=Channel.API)
    assert result.status == S.SERVICE_FAIT
    change = InvoiceStatusChange.objects.get(invoice=invoice)
    assert change.actor_user is None and change.channel == Channel.API
    assert invoice.recipient.designation in change.actor_label


def test_a_stale_screen_gets_a_conflict_and_changes_nothing(invoice, buyer):
    seen = invoice.status
    process(invoice, buyer, "service_fait", expected_status=seen)
    with pytest.raises(ConflictError, match="passée au statut « Service fait » entre-temps"):
        reject(Invoice.objects.get(pk=invoice.pk), buyer, expected_status=seen)
    assert status_of(invoice) == S.SERVICE_FAIT
    assert InvoiceStatusChange.objects.filter(invoice=invoice).count() == 1


# --- Supplier: completion ---------------------------------------------------------------------------------


def suspend(invoice, buyer):
    return process(invoice, buyer, "suspendre", motif="PIECE_JUSTIFICATIVE_MANQUANTE", comment="Joignez le PV.")


def test_complete_a_suspended_invoice_then_processing_continues(invoice, buyer, seller):
    suspend(invoice, buyer)
    result = invoice_complete(
        invoice=invoice,
        by=seller,
        structure=invoice.supplier,
        comment="PV de réception joint.",
        attachments=[("pv-reception.pdf", PDF)],
        channel=Channel.PORTAIL,
        expected_status=S.SUSPENDUE,
    )
    assert result.status == S.COMPLETEE
    attachment = InvoiceAttachment.objects.get(invoice=invoice)
    assert (attachment.name, attachment.added_in_status) == ("pv-reception.pdf", S.SUSPENDUE)
    assert attachment.added_by == seller
    assert InvoiceEvent.objects.filter(invoice=invoice, action=InvoiceEventAction.AJOUT_PIECE_JOINTE).exists()
    change = InvoiceStatusChange.objects.for_invoice(invoice).last()
    assert (change.transition, change.comment, change.data) == (
        "completer",
        "PV de réception joint.",
        {"pieces_jointes": ["pv-reception.pdf"]},
    )
    process(invoice, buyer, "service_fait", expected_status=S.COMPLETEE)
    assert status_of(invoice) == S.SERVICE_FAIT


def test_complete_with_a_comment_only(invoice, buyer, seller):
    suspend(invoice, buyer)
    invoice_complete(invoice=invoice, by=seller, structure=invoice.supplier, comment="Déjà envoyé", channel="PORTAIL")
    assert status_of(invoice) == S.COMPLETEE


def test_complete_needs_something(invoice, buyer, seller):
    suspend(invoice, buyer)
    with pytest.raises(ApplicationError, match="joignez au moins une pièce ou écrivez un commentaire"):
        invoice_complete(invoice=invoice, by=seller, structure=invoice.supplier, comment="  ", channel="PORTAIL")
    assert status_of(invoice) == S.SUSPENDUE


def test_a_bad_attachment_leaves_everything_unchanged(invoice, buyer, seller):
    suspend(invoice, buyer)
    with pytest.raises(ApplicationError, match="l'extension .exe n'est pas acceptée"):
        invoice_complete(
            invoice=invoice,
            by=seller,
            structure=invoice.supplier,
            attachments=[("pv.pdf", PDF), ("outil.exe", b"MZ")],
            channel=Channel.PORTAIL,
        )
    assert status_of(invoice) == S.SUSPENDUE
    assert not InvoiceAttachment.objects.filter(invoice=invoice).exists()


def test_only_the_supplier_completes_and_only_a_suspended_invoice(invoice, buyer, seller):
    with pytest.raises(ApplicationError, match="seule une facture suspendue se complète"):
        invoice_complete(invoice=invoice, by=seller, structure=invoice.supplier, comment="x", channel="PORTAIL")
    suspend(invoice, buyer)
    open_espace(invoice.recipient, EspaceCode.FACTURES_EMISES)
    with pytest.raises(PermissionDeniedError, match="réservée au fournisseur"):
        invoice_complete(invoice=invoice, by=buyer, structure=invoice.recipient, comment="x", channel="PORTAIL")
    stranger = member_of(StructureFactory())
    with pytest.raises(PermissionDeniedError, match="Factures émises"):
        invoice_complete(invoice=invoice, by=stranger, structure=invoice.supplier, comment="x", channel="PORTAIL")
    assert status_of(invoice) == S.SUSPENDUE


# --- Supplier: recycling ----------------------------------------------------------------------------------


def to_recycle(invoice, buyer):
    return process(invoice, buyer, "a_recycler", motif="ERREUR_DESTINATAIRE", comment="Facturez la métropole.")


def test_recycle_to_another_recipient_keeps_the_number(invoice, buyer, seller):
    old_recipient = invoice.recipient
    to_recycle(invoice, buyer)
    assert invoices_received(user=buyer).filter(pk=invoice.pk).exists()
    metropole = StructureFactory(public=True)
    service = ServiceFactory(structure=metropole)
    result = invoice_recycle(
        invoice=invoice,
        by=seller,
        structure=invoice.supplier,
        recipient=metropole,
        recipient_service=service,
        numero_engagement="EJ-77",
        channel=Channel.PORTAIL,
        expected_status=S.A_RECYCLER,
    )
    assert result.status == S.MISE_A_DISPOSITION
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.number, stored.recipient, stored.recipient_service, stored.numero_engagement) == (
        invoice.number,
        metropole,
        service,
        "EJ-77",
    )
    assert [c.transition for c in InvoiceStatusChange.objects.for_invoice(invoice)] == [
        "a_recycler",
        "recycler",
        "mettre_a_disposition",
    ]
    recycled = InvoiceStatusChange.objects.get(invoice=invoice, transition="recycler")
    assert recycled.data["avant"]["destinataire"] == old_recipient.identifier
    assert recycled.data["apres"] == {
        "destinataire": metropole.identifier,
        "service": service.code,
        "engagement": "EJ-77",
    }
    # The old recipient no longer sees it; the new one does.
    assert not invoices_received(user=buyer).filter(pk=invoice.pk).exists()
    assert invoices_received(user=member_of(metropole)).filter(pk=invoice.pk).exists()


def test_recycle_to_another_service_of_the_same_recipient(invoice, buyer, seller):
    to_recycle(invoice, buyer)
    service = ServiceFactory(structure=invoice.recipient)
    invoice_recycle(
        invoice=invoice,
        by=seller,
        structure=invoice.supplier,
        recipient=invoice.recipient,
        recipient_service=service,
        channel=Channel.API,
    )
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.status, stored.recipient_service) == (S.MISE_A_DISPOSITION, service)


def test_recycle_without_any_change_is_refused(invoice, buyer, seller):
    to_recycle(invoice, buyer)
    with pytest.raises(ApplicationError, match="modifiez le destinataire"):
        invoice_recycle(
            invoice=invoice, by=seller, structure=invoice.supplier, recipient=invoice.recipient, channel="PORTAIL"
        )
    assert status_of(invoice) == S.A_RECYCLER


def test_recycle_runs_the_routing_checks_and_changes_nothing_on_failure(invoice, buyer, seller):
    to_recycle(invoice, buyer)
    commune = StructureFactory(commune=True)
    with pytest.raises(ApplicationError, match="exige un code service") as excinfo:
        invoice_recycle(invoice=invoice, by=seller, structure=invoice.supplier, recipient=commune, channel="PORTAIL")
    assert excinfo.value.code == "CONTROLES"
    assert excinfo.value.extra["findings"][0]["code"] == "SERVICE_OBLIGATOIRE"
    foreign_service = ServiceFactory()
    with pytest.raises(ApplicationError, match="n'appartient pas à"):
        invoice_recycle(
            invoice=invoice,
            by=seller,
            structure=invoice.supplier,
            recipient=commune,
            recipient_service=foreign_service,
            channel="PORTAIL",
        )
    with pytest.raises(ApplicationError, match="n'est pas une structure publique"):
        invoice_recycle(
            invoice=invoice, by=seller, structure=invoice.supplier, recipient=StructureFactory(), channel="PORTAIL"
        )
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.status, stored.recipient_id) == (S.A_RECYCLER, invoice.recipient_id)
    assert stored.recipient_service_id is None


def test_recycle_only_from_a_recycler(invoice, seller):
    with pytest.raises(ApplicationError, match="seule une facture à recycler se recycle"):
        invoice_recycle(
            invoice=invoice,
            by=seller,
            structure=invoice.supplier,
            recipient=StructureFactory(public=True),
            channel="PORTAIL",
        )
    assert Invoice.objects.get(pk=invoice.pk).recipient_id == invoice.recipient_id


# --- Supplier: acknowledgement of rejections ----------------------------------------------------------------


def age(invoice, days):
    Invoice.objects.filter(pk=invoice.pk).update(status_changed_at=timezone.now() - timedelta(days=days))


def test_rejection_is_pending_then_blocks_after_seven_days_until_acknowledged(invoice, buyer, seller):
    assert list(rejections_pending(user=seller)) == []
    reject(invoice, buyer)
    assert list(rejections_pending(user=seller)) == [invoice]
    assert not user_blocked_by_rejections(user=seller)
    age(invoice, 6)
    assert not user_blocked_by_rejections(user=seller)
    age(invoice, 8)
    assert user_blocked_by_rejections(user=seller)
    # The recipient's people are not blocked by the supplier's rejections.
    assert not user_blocked_by_rejections(user=buyer)
    done = invoice_rejection_acknowledge(invoices=[invoice], by=seller, structure=invoice.supplier, channel="PORTAIL")
    assert done == [invoice]
    stored = Invoice.objects.get(pk=invoice.pk)
    assert stored.rejet_traite and stored.status == S.REJETEE
    event = InvoiceEvent.objects.get(invoice=invoice, action=InvoiceEventAction.TRAITEMENT_REJET)
    assert event.actor_user == seller
    assert list(rejections_pending(user=seller)) == []
    assert not user_blocked_by_rejections(user=seller)
    # Acknowledging again changes nothing.
    again = invoice_rejection_acknowledge(invoices=[invoice.pk], by=seller, structure=invoice.supplier, channel="API")
    assert again == []
    assert InvoiceEvent.objects.filter(invoice=invoice).count() == 1


def test_suspension_is_acknowledged_until_the_next_suspension(invoice, buyer, seller):
    suspend(invoice, buyer)
    age(invoice, 10)
    assert user_blocked_by_rejections(user=seller)
    invoice_rejection_acknowledge(invoices=[invoice], by=seller, structure=invoice.supplier, channel="PORTAIL")
    assert InvoiceEvent.objects.filter(invoice=invoice, action=InvoiceEventAction.ACQUITTEMENT_SUSPENSION).exists()
    assert not user_blocked_by_rejections(user=seller)
    assert list(rejections_pending(user=seller)) == []
    assert not Invoice.objects.get(pk=invoice.pk).rejet_traite
    invoice_complete(invoice=invoice, by=seller, structure=invoice.supplier, comment="Voilà", channel="PORTAIL")
    suspend(invoice, buyer)
    assert list(rejections_pending(user=seller)) == [invoice]


def test_acknowledge_refuses_other_statuses_and_other_structures(invoice, buyer, seller):
    with pytest.raises(ApplicationError, match="n'est ni rejetée ni suspendue"):
        invoice_rejection_acknowledge(invoices=[invoice], by=seller, structure=invoice.supplier, channel="PORTAIL")
    other = InvoiceFactory(sent=True, status=S.REJETEE)
    reject(invoice, buyer)
    with pytest.raises(NotFoundError, match="introuvable"):
        invoice_rejection_acknowledge(
            invoices=[invoice, other], by=seller, structure=invoice.supplier, channel="PORTAIL"
        )
    # All or nothing.
    assert not Invoice.objects.get(pk=invoice.pk).rejet_traite
    with pytest.raises(ApplicationError, match="choisissez au moins une facture"):
        invoice_rejection_acknowledge(invoices=[], by=seller, structure=invoice.supplier, channel="PORTAIL")


def test_consultation_only_people_are_not_blocked(invoice, buyer):
    espace = open_espace(invoice.supplier, EspaceCode.FACTURES_EMISES)
    rattachement = RattachementFactory(structure=invoice.supplier)
    EspaceSubscription.objects.create(
        rattachement=rattachement,
        espace=espace,
        habilitation=Habilitation.CONSULTATION_UNIQUEMENT,
        status=SubscriptionStatus.VALIDEE,
    )
    reject(invoice, buyer)
    age(invoice, 30)
    assert not user_blocked_by_rejections(user=rattachement.user)
    assert list(rejections_pending(user=rattachement.user)) == []


# --- What each person may do ------------------------------------------------------------------------------


def test_actions_offered_follow_the_table_and_the_roles(invoice, buyer, seller):
    assert [t.name for t in invoice_actions_for(invoice=invoice, user=buyer)] == list(RECIPIENT_TRANSITIONS)
    assert invoice_actions_for(invoice=invoice, user=seller) == []
    assert invoice_action_structure(invoice=invoice, user=buyer, transition="rejeter") == invoice.recipient
    suspend(invoice, buyer)
    invoice.refresh_from_db()
    assert [t.name for t in invoice_actions_for(invoice=invoice, user=seller)] == ["completer"]
    assert [t.name for t in invoice_actions_for(invoice=invoice, user=buyer)] == ["rejeter"]
    assert invoice_action_structure(invoice=invoice, user=seller, transition="completer") == invoice.supplier
    assert invoice_action_structure(invoice=invoice, user=buyer, transition="completer") is None
    stranger = member_of(StructureFactory(public=True))
    assert invoice_actions_for(invoice=invoice, user=stranger) == []


def test_actions_offered_are_those_the_service_accepts(invoice, buyer):
    for transition in invoice_actions_for(invoice=invoice, user=buyer):
        assert TRANSITIONS_BY_NAME[transition.name] is transition
    assert "mettre_a_disposition" not in [t.name for t in invoice_actions_for(invoice=invoice, user=buyer)]


# --- Payment status hidden from suppliers -------------------------------------------------------------------


def test_a_recipient_that_does_not_report_payment_hides_it_from_the_supplier(invoice, buyer):
    process(invoice, buyer, "comptabiliser")
    process(invoice, buyer, "mettre_en_paiement")
    invoice.refresh_from_db()
    assert status_for_supplier(invoice) == S.MISE_EN_PAIEMENT
    invoice.recipient.mise_en_paiement_non_remontee = True
    invoice.recipient.save()
    invoice.refresh_from_db()
    assert status_for_supplier(invoice) == S.COMPTABILISEE
    assert [c.to_status for c in status_changes_for(invoice=invoice, structure=invoice.supplier)] == [S.COMPTABILISEE]
    assert len(status_changes_for(invoice=invoice, structure=invoice.recipient)) == 2


# --- Immutability -------------------------------------------------------------------------------------------


def test_a_sent_invoice_content_cannot_change_but_lifecycle_fields_move(invoice, buyer):
    process(invoice, buyer, "mandater", numero_dp_mandat="M-9")
    stored = Invoice.objects.get(pk=invoice.pk)
    for field, value in [
        ("number", "AUTRE-1"),
        ("total_ttc", stored.total_ttc + 1),
        ("invoice_date", datetime.date(2020, 1, 1)),
        ("recipient", StructureFactory(public=True)),
        ("numero_engagement", "EJ-X"),
    ]:
        fresh = Invoice.objects.get(pk=invoice.pk)
        setattr(fresh, field, value)
        with pytest.raises(ApplicationError, match="Une facture envoyée ne se modifie pas"):
            fresh.save()
    with pytest.raises(ApplicationError, match="ne se supprime pas"):
        stored.delete()
    stored.rejet_traite = True
    stored.save()
    assert Invoice.objects.get(pk=invoice.pk).numero_dp_mandat == "M-9"
