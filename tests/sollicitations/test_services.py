import datetime

import pytest
import time_machine

from choeur.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from choeur.sollicitations import selectors
from choeur.sollicitations.enums import RecipientKind
from choeur.sollicitations.enums import SollicitationStatus as S
from choeur.sollicitations.models import Sollicitation, SollicitationDesk, SollicitationMessage
from choeur.sollicitations.services import sollicitation_act, sollicitation_create
from choeur.sollicitations.workflow import TRANSITIONS, available_transitions
from tests.accounts.factories import UserFactory
from tests.directory.factories import ServiceFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory
from tests.sollicitations.factories import make_sollicitation, personas, subcategory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_create_routes_to_the_desk_service_and_numbers_it():
    supplier, buyer, _ = personas()
    service = ServiceFactory(structure=buyer.structure)
    SollicitationDesk.objects.create(structure=buyer.structure, service=service)
    sollicitation = make_sollicitation(sender=supplier, recipient=buyer)
    assert sollicitation.status == S.OUVERTE
    assert sollicitation.recipient_service == service
    assert sollicitation.numero.startswith("SOL") and sollicitation.numero.endswith(f"{sollicitation.pk:07d}")
    assert sollicitation.messages.get().author_role == "EMETTEUR"


def test_from_an_invoice_the_recipient_and_reference_are_filled():
    supplier, buyer, _ = personas()
    invoice = InvoiceFactory(supplier=supplier.structure, recipient=buyer.structure, sent=True)
    sollicitation = sollicitation_create(
        by=supplier.user, sender_structure=supplier.structure, invoice=invoice,
        subcategory=subcategory(), subject="Facture suspendue", body="Que manque-t-il ?",
    )  # fmt: skip
    assert sollicitation.recipient_structure == buyer.structure
    assert sollicitation.reference == invoice.number


def test_an_invoice_of_another_structure_is_refused():
    supplier, buyer, outsider = personas()
    invoice = InvoiceFactory(recipient=buyer.structure, sent=True)
    with pytest.raises(PermissionDeniedError):
        sollicitation_create(
            by=supplier.user, sender_structure=supplier.structure, invoice=invoice,
            subcategory=subcategory(), subject="x", body="y",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"body": "   "}, "Message : écrivez votre message"),
        ({"subject": ""}, "Objet : indiquez"),
        ({"attachments": [("virus.exe", b"MZ...")]}, "l'extension .exe n'est pas acceptée"),
        ({"attachments": [("gros.pdf", PDF + b"0" * (10 * 1024 * 1024))]}, "10 Mo au plus"),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_saved(kwargs, message):
    supplier, buyer, _ = personas()
    with pytest.raises(ApplicationError, match=message):
        make_sollicitation(sender=supplier, recipient=buyer, **kwargs)
    assert not Sollicitation.objects.exists() and not SollicitationMessage.objects.exists()


def test_a_recipient_that_does_not_accept_sollicitations_is_refused():
    supplier, buyer, _ = personas()
    SollicitationDesk.objects.create(structure=buyer.structure, accepts_sollicitations=False)
    with pytest.raises(ApplicationError, match="ne reçoit pas de sollicitations"):
        make_sollicitation(sender=supplier, recipient=buyer)
    private = StructureFactory()
    with pytest.raises(ApplicationError, match="n'est pas une structure publique"):
        sollicitation_create(
            by=supplier.user, sender_structure=supplier.structure, recipient_structure=private,
            subcategory=subcategory(), subject="x", body="y",
        )  # fmt: skip


def test_the_full_conversation_with_a_complement_an_answer_and_a_relance():
    supplier, buyer, _ = personas()
    sollicitation = make_sollicitation(sender=supplier, recipient=buyer)
    assert list(selectors.sollicitations_to_process(user=buyer.user)) == [sollicitation]
    sollicitation = sollicitation_act(
        sollicitation=sollicitation, action="demander_complement", by=buyer.user, body="Joignez le bon de livraison."
    )
    assert sollicitation.status == S.EN_ATTENTE_COMPLEMENT and sollicitation.first_answer_at is not None
    assert not selectors.sollicitations_to_process(user=buyer.user).exists()
    sollicitation = sollicitation_act(
        sollicitation=sollicitation, action="completer", by=supplier.user, body="Le voici.",
        attachments=[("bon-livraison.pdf", PDF)],
    )  # fmt: skip
    assert sollicitation.status == S.COMPLEMENT_RECU
    assert list(selectors.sollicitations_to_process(user=buyer.user)) == [sollicitation]
    sollicitation = sollicitation_act(
        sollicitation=sollicitation, action="repondre", by=buyer.user, body="Reçu, merci."
    )
    sollicitation = sollicitation_act(sollicitation=sollicitation, action="cloturer", by=buyer.user)
    assert sollicitation.status == S.CLOTUREE and sollicitation.closed_at is not None
    sollicitation = sollicitation_act(
        sollicitation=sollicitation, action="relancer", by=supplier.user, body="Toujours pas payée."
    )
    assert sollicitation.status == S.RELANCEE and sollicitation.closed_at is None
    assert list(selectors.sollicitations_to_process(user=buyer.user)) == [sollicitation]
    attachment = sollicitation.messages.get(action="completer").attachments.get()
    assert attachment.name == "bon-livraison.pdf" and attachment.file.mime_type == "application/pdf"
    assert [c.transition for c in sollicitation.status_changes.all()] == [
        "demander_complement", "completer", "repondre", "cloturer", "relancer",
    ]  # fmt: skip


def test_a_closed_sollicitation_reopens_only_within_the_delay():
    supplier, buyer, _ = personas()
    sollicitation = make_sollicitation(sender=supplier, recipient=buyer)
    sollicitation = sollicitation_act(sollicitation=sollicitation, action="cloturer", by=supplier.user)
    with time_machine.travel(datetime.timedelta(days=29)):
        assert "relancer" in {t.name for t in available_transitions(sollicitation, supplier.user)}
    with time_machine.travel(datetime.timedelta(days=31)):
        with pytest.raises(ApplicationError, match="plus de 30 jours"):
            sollicitation_act(sollicitation=sollicitation, action="relancer", by=supplier.user, body="Et alors ?")
    sollicitation.refresh_from_db()
    assert sollicitation.status == S.CLOTUREE


def test_an_action_not_allowed_in_the_state_or_the_role_is_refused():
    supplier, buyer, outsider = personas()
    sollicitation = make_sollicitation(sender=supplier, recipient=buyer)
    with pytest.raises(ApplicationError, match="impossible à l'état « Ouverte »"):
        sollicitation_act(sollicitation=sollicitation, action="relancer", by=supplier.user, body="x")
    with pytest.raises(PermissionDeniedError, match="n'est pas ouvert à votre rôle"):
        sollicitation_act(sollicitation=sollicitation, action="repondre", by=supplier.user, body="x")
    with pytest.raises(PermissionDeniedError, match="pas accès"):
        sollicitation_act(sollicitation=sollicitation, action="repondre", by=outsider.user, body="x")
    with pytest.raises(ApplicationError, match="Message : écrivez"):
        sollicitation_act(sollicitation=sollicitation, action="repondre", by=buyer.user, body="")
    sollicitation.refresh_from_db()
    assert sollicitation.status == S.OUVERTE and sollicitation.messages.count() == 1


def test_transfer_to_another_structure_then_to_support_and_not_to_oneself():
    supplier, buyer, outsider = personas()
    sollicitation = make_sollicitation(sender=supplier, recipient=buyer)
    with pytest.raises(ApplicationError, match="déjà adressée à votre structure"):
        sollicitation_act(
            sollicitation=sollicitation, action="transferer", by=buyer.user, body="x", transfer_to=buyer.structure
        )
    sollicitation = sollicitation_act(
        sollicitation=sollicitation, action="transferer", by=buyer.user, body="Pour vous.",
        transfer_to=outsider.structure,
    )  # fmt: skip
    assert sollicitation.recipient_structure == outsider.structure and sollicitation.status == S.OUVERTE
    with pytest.raises(NotFoundError):
        selectors.sollicitation_get(user=buyer.user, pk=sollicitation.pk)
    sollicitation = sollicitation_act(
        sollicitation=sollicitation, action="transferer", by=outsider.user, body="Hors compétence.",
        transfer_to_support=True,
    )  # fmt: skip
    assert sollicitation.recipient_kind == RecipientKind.SUPPORT
    staff = UserFactory(is_staff=True)
    assert list(selectors.sollicitations_to_process(user=staff)) == [sollicitation]


def test_nobody_reads_a_sollicitation_of_another_structure():
    supplier, buyer, outsider = personas()
    sollicitation = make_sollicitation(sender=supplier, recipient=buyer)
    for user in (supplier.user, buyer.user):
        assert selectors.sollicitation_get(user=user, pk=sollicitation.pk) == sollicitation
    with pytest.raises(NotFoundError):
        selectors.sollicitation_get(user=outsider.user, pk=sollicitation.pk)
    assert not selectors.sollicitations_received(user=outsider.user).exists()
    assert not selectors.sollicitations_sent(user=outsider.user).exists()
    assert not available_transitions(sollicitation, outsider.user)


def test_every_transition_is_available_exactly_from_its_sources():
    supplier, buyer, _ = personas()
    sollicitation = make_sollicitation(sender=supplier, recipient=buyer)
    for status in S.values:
        Sollicitation.objects.filter(pk=sollicitation.pk).update(status=status, closed_at=None)
        sollicitation.refresh_from_db()
        if status == S.CLOTUREE:
            from django.utils import timezone

            sollicitation.closed_at = timezone.now()
        names = {t.name for t in available_transitions(sollicitation, supplier.user)} | {
            t.name for t in available_transitions(sollicitation, buyer.user)
        }
        assert names == {t.name for t in TRANSITIONS if status in t.sources}, status
