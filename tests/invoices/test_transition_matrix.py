"""Every (status × transition × role) of the transition table, generated from the table itself and from
InvoiceStatus / ActorRole: an allowed triple moves the invoice and logs it; any other is refused with the
French message that says why (wrong status, or action reserved to another role), and nothing changes.

One invoice per (transition, role) serves every status: its status is laid down with `update()` before each
attempt, so the whole matrix runs in seconds rather than creating thousands of invoices.
"""

import contextlib
import re

import pytest

from choeur.core.errors import ApplicationError, PermissionDeniedError
from choeur.directory.enums import EspaceCode
from choeur.invoices.enums import ActorRole, Channel, InvoiceStatus
from choeur.invoices.lifecycle import MOTIFS, RECIPIENT_TRANSITIONS, invoice_process
from choeur.invoices.models import Invoice, InvoiceStatusChange
from choeur.invoices.workflow import TRANSITIONS, TRANSITIONS_BY_NAME, invoice_transition
from tests.directory.factories import StructureFactory
from tests.invoices.factories import InvoiceFactory, member_of

pytestmark = pytest.mark.django_db

# The works app adds its rows to the table when imported: cover the whole table, whatever the import order.
with contextlib.suppress(ImportError):
    import choeur.works.workflow  # noqa: F401

S = InvoiceStatus
VALIDEUR_TURNS = (S.A_VALIDER_1, S.A_VALIDER_2)


def party_invoice():
    """An invoice where each role is played by a distinct structure."""
    return InvoiceFactory(
        sent=True,
        a9=True,
        valideur2=StructureFactory(),
        moe=StructureFactory(moe=True),
        moa=StructureFactory(public=True),
    )


def actor_for(invoice, role, status):
    return {
        ActorRole.SYSTEME: None,
        ActorRole.FOURNISSEUR: invoice.supplier,
        ActorRole.DESTINATAIRE: invoice.recipient,
        ActorRole.VALIDEUR: invoice.valideur2 if status == S.A_VALIDER_2 else invoice.valideur,
        ActorRole.MOE: invoice.moe,
        ActorRole.MOA: invoice.moa,
    }[role]


def expected_allowed(definition, status, role) -> bool:
    if status not in definition.sources or role not in definition.roles:
        return False
    # A valideur plays its role only at its level's turn.
    return role != ActorRole.VALIDEUR or status in VALIDEUR_TURNS


def set_status(invoice, status):
    Invoice.objects.filter(pk=invoice.pk).update(status=status)


@pytest.mark.parametrize("role", ActorRole.values)
@pytest.mark.parametrize("transition", [t.name for t in TRANSITIONS])
def test_every_status_for_this_transition_and_role(transition, role):
    definition = TRANSITIONS_BY_NAME[transition]
    invoice = party_invoice()
    outcomes = {}
    for status in S.values:
        set_status(invoice, status)
        attempt = dict(
            invoice=invoice,
            transition=transition,
            actor_structure=actor_for(invoice, role, status),
            channel=Channel.PORTAIL,
            motif="MOTIF" if definition.motif_required else "",
        )
        if expected_allowed(definition, status, role):
            result = invoice_transition(**attempt)
            assert result.status == definition.target, status
            change = InvoiceStatusChange.objects.filter(invoice=invoice).latest("id")
            assert (change.from_status, change.to_status, change.actor_role) == (status, definition.target, role)
            outcomes[status] = "ok"
            continue
        with pytest.raises(ApplicationError) as excinfo:
            invoice_transition(**attempt)
        error = excinfo.value
        if status not in definition.sources:
            assert error.code == "transition_impossible", status
            assert f"{definition.label} : impossible depuis le statut « {S(status).label} »" in error.message
        else:
            assert isinstance(error, PermissionDeniedError), status
            assert f"{definition.label} : action réservée à" in error.message
        assert Invoice.objects.get(pk=invoice.pk).status == status
        outcomes[status] = "refused"
    # Exactly one logged change per allowed attempt: a refusal logs nothing.
    assert InvoiceStatusChange.objects.filter(invoice=invoice).count() == list(outcomes.values()).count("ok")
    # The matrix is not vacuous: every transition is allowed somewhere for each of its roles.
    if role in definition.roles and role != ActorRole.VALIDEUR:
        assert "ok" in outcomes.values()


@pytest.mark.parametrize("transition", [t.name for t in TRANSITIONS if t.motif_required])
def test_a_reason_is_required_whatever_the_status(transition):
    definition = TRANSITIONS_BY_NAME[transition]
    invoice = party_invoice()
    source = sorted(definition.sources)[0]
    set_status(invoice, source)
    role = sorted(definition.roles)[0]
    with pytest.raises(ApplicationError, match="indiquez un motif"):
        invoice_transition(
            invoice=invoice, transition=transition, actor_structure=actor_for(invoice, role, source), channel="API"
        )
    assert Invoice.objects.get(pk=invoice.pk).status == source


@pytest.mark.parametrize("transition", RECIPIENT_TRANSITIONS)
def test_recipient_service_over_every_status(transition):
    """The same matrix through `invoice_process`, for a person of the recipient."""
    definition = TRANSITIONS_BY_NAME[transition]
    invoice = party_invoice()
    buyer = member_of(invoice.recipient, EspaceCode.FACTURES_RECUES)
    extra = {"numero_dp_mandat": "M-1"} if transition == "mandater" else {}
    if transition in MOTIFS:
        extra = {"motif": MOTIFS[transition][0][0], "comment": "Détail du motif."}
    for status in S.values:
        set_status(invoice, status)
        call = dict(invoice=invoice, by=buyer, structure=invoice.recipient, transition=transition, **extra)
        if status in definition.sources:
            assert invoice_process(**call).status == definition.target
        else:
            with pytest.raises(
                ApplicationError, match=re.escape(f"impossible depuis le statut « {S(status).label} »")
            ):
                invoice_process(**call)
            assert Invoice.objects.get(pk=invoice.pk).status == status
