import logging

import pytest

from choeur.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from choeur.core.models import AuditEntry
from choeur.invoices.enums import ActorRole, Channel, InvoiceStatus
from choeur.invoices.models import Invoice, InvoiceStatusChange
from choeur.invoices.workflow import (
    TRANSITIONS,
    TRANSITIONS_BY_NAME,
    invoice_transition,
    next_statuses,
    roles_of,
    transitions_from,
)
from tests.directory.factories import RattachementFactory, StructureFactory
from tests.invoices.factories import InvoiceFactory

S = InvoiceStatus


def test_table_is_consistent():
    names = [t.name for t in TRANSITIONS]
    assert len(names) == len(set(names))
    for transition in TRANSITIONS:
        assert transition.sources and transition.roles
        assert transition.target in S.values
        assert transition.sources <= set(S.values)
        assert transition.roles <= set(ActorRole.values)


@pytest.mark.parametrize("status", S.values)
@pytest.mark.parametrize("transition", [t.name for t in TRANSITIONS])
def test_transition_availability_matrix(status, transition):
    """Every (status × transition) pair: available exactly from the statuses the table lists."""
    definition = TRANSITIONS_BY_NAME[transition]
    available = {t.name for t in transitions_from(status)}
    assert (transition in available) == (status in definition.sources)


def test_next_statuses_by_role():
    assert next_statuses(S.BROUILLON, ActorRole.FOURNISSEUR) == [S.DEPOSEE]
    assert next_statuses(S.BROUILLON, ActorRole.DESTINATAIRE) == []
    # Other apps (works) may add rows leaving DEPOSEE: the standard ones come first, in table order.
    assert next_statuses(S.DEPOSEE, ActorRole.SYSTEME)[:2] == [S.MISE_A_DISPOSITION, S.A_VALIDER_1]
    assert next_statuses(S.A_VALIDER_1, ActorRole.VALIDEUR) == [
        S.VALIDEE_1,
        S.REFUSEE_1,
        S.ERREUR_FOURNISSEUR_SUR_VALIDEUR,
    ]
    assert next_statuses(S.A_VALIDER_1, ActorRole.SYSTEME) == [S.ABSENCE_VALIDATION_1_HORS_DELAI]
    # Works adds the MOE after a titulaire's validation of a sous-traitant's draft (A10): standard rows first.
    assert next_statuses(S.VALIDEE_1)[:2] == [S.MISE_A_DISPOSITION, S.A_VALIDER_2]
    assert next_statuses(S.REJETEE) == []


# --- invoice_transition --------------------------------------------------------------------------------------


def _actor_structure(invoice, role):
    return {
        ActorRole.SYSTEME: None,
        ActorRole.FOURNISSEUR: invoice.supplier,
        ActorRole.DESTINATAIRE: invoice.recipient,
        ActorRole.VALIDEUR: invoice.valideur2 if invoice.status == S.A_VALIDER_2 else invoice.valideur,
        ActorRole.MOE: invoice.moe,
        ActorRole.MOA: invoice.moa,
    }[role]


@pytest.mark.django_db
@pytest.mark.parametrize("transition", [t.name for t in TRANSITIONS])
def test_each_transition_applies_from_its_sources_for_its_role(transition):
    definition = TRANSITIONS_BY_NAME[transition]
    for source in sorted(definition.sources):
        invoice = InvoiceFactory(
            sent=True,
            a9=True,
            valideur2=StructureFactory(),
            moe=StructureFactory(moe=True),
            moa=StructureFactory(public=True),
            status=source,
        )
        role = sorted(definition.roles)[0]
        motif = "Prestation non conforme" if definition.motif_required else ""
        result = invoice_transition(
            invoice=invoice,
            transition=transition,
            actor_structure=_actor_structure(invoice, role),
            channel=Channel.PORTAIL,
            motif=motif,
        )
        assert result.status == definition.target
        assert Invoice.objects.get(pk=invoice.pk).status == definition.target
        change = InvoiceStatusChange.objects.get(invoice=invoice)
        assert (change.from_status, change.to_status, change.transition, change.actor_role) == (
            source,
            definition.target,
            transition,
            role,
        )


@pytest.mark.django_db
@pytest.mark.parametrize("transition", [t.name for t in TRANSITIONS])
def test_each_transition_is_refused_from_another_status(transition):
    definition = TRANSITIONS_BY_NAME[transition]
    other = next(s for s in (S.REJETEE, S.MISE_EN_PAIEMENT) if s not in definition.sources)
    invoice = InvoiceFactory(
        sent=True, a9=True, moe=StructureFactory(moe=True), moa=StructureFactory(public=True), status=other
    )
    role = sorted(definition.roles)[0]
    with pytest.raises(ApplicationError) as excinfo:
        invoice_transition(
            invoice=invoice,
            transition=transition,
            actor_structure=_actor_structure(invoice, role),
            channel=Channel.PORTAIL,
            motif="motif",
        )
    assert excinfo.value.code == "transition_impossible"
    assert f"impossible depuis le statut « {S(other).label} »" in excinfo.value.message
    assert not InvoiceStatusChange.objects.filter(invoice=invoice).exists()


@pytest.mark.django_db
def test_wrong_role_is_refused():
    invoice = InvoiceFactory(sent=True, a9=True, status=S.A_VALIDER_1)
    for structure in (invoice.supplier, invoice.recipient, StructureFactory(), None):
        with pytest.raises(PermissionDeniedError, match="action réservée à valideur"):
            invoice_transition(
                invoice=invoice, transition="valider_1", actor_structure=structure, channel=Channel.PORTAIL
            )
    with pytest.raises(PermissionDeniedError, match="réservée à système"):
        invoice_transition(
            invoice=invoice, transition="valider_tacitement_1", actor_structure=invoice.valideur, channel=Channel.API
        )


@pytest.mark.django_db
def test_valideur_acts_only_at_its_level():
    invoice = InvoiceFactory(sent=True, a9=True, valideur2=StructureFactory(), status=S.A_VALIDER_2)
    assert ActorRole.VALIDEUR not in roles_of(invoice, invoice.valideur)
    assert ActorRole.VALIDEUR in roles_of(invoice, invoice.valideur2)


@pytest.mark.django_db
def test_motif_is_required_for_a_refusal():
    invoice = InvoiceFactory(sent=True, a9=True, status=S.A_VALIDER_1)
    with pytest.raises(ApplicationError, match="Refuser la facture : indiquez un motif.") as excinfo:
        invoice_transition(
            invoice=invoice, transition="refuser_1", actor_structure=invoice.valideur, channel="PORTAIL"
        )
    assert excinfo.value.field == "motif"


@pytest.mark.django_db
def test_unknown_transition_and_channel():
    invoice = InvoiceFactory(sent=True)
    with pytest.raises(ApplicationError, match="Action inconnue"):
        invoice_transition(invoice=invoice, transition="payer", channel=Channel.PORTAIL)
    with pytest.raises(ApplicationError, match="Canal inconnu"):
        invoice_transition(invoice=invoice, transition="mettre_a_disposition", channel="FAX")


@pytest.mark.django_db
def test_a_person_must_belong_to_the_acting_structure():
    invoice = InvoiceFactory(sent=True, a9=True, status=S.A_VALIDER_1)
    stranger = RattachementFactory().user
    with pytest.raises(PermissionDeniedError, match="Vous n'êtes pas rattaché"):
        invoice_transition(
            invoice=invoice,
            transition="valider_1",
            actor=stranger,
            actor_structure=invoice.valideur,
            channel="PORTAIL",
        )
    member = RattachementFactory(structure=invoice.valideur).user
    invoice_transition(
        invoice=invoice, transition="valider_1", actor=member, actor_structure=invoice.valideur, channel="PORTAIL"
    )
    change = InvoiceStatusChange.objects.get(invoice=invoice)
    assert change.actor_user == member
    assert change.actor_label == member.email
    assert change.actor_structure == invoice.valideur


@pytest.mark.django_db
def test_stale_screen_gets_a_conflict():
    invoice = InvoiceFactory(sent=True, a9=True, status=S.A_VALIDER_1)
    Invoice.objects.filter(pk=invoice.pk).update(status=S.VALIDEE_1)
    with pytest.raises(ConflictError, match="rechargez la page"):
        invoice_transition(
            invoice=invoice,
            transition="valider_1",
            actor_structure=invoice.valideur,
            channel=Channel.PORTAIL,
            expected_status=S.A_VALIDER_1,
        )


@pytest.mark.django_db
def test_transition_is_audited_and_enqueues_its_side_effects(django_capture_on_commit_callbacks, caplog):
    invoice = InvoiceFactory(sent=True, status=S.DEPOSEE)
    with caplog.at_level(logging.INFO, logger="choeur.invoices.tasks"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            invoice_transition(invoice=invoice, transition="mettre_a_disposition", channel=Channel.SYSTEME)
    assert len(callbacks) == 1
    assert f"Facture {invoice.number} (id {invoice.pk}) : DEPOSEE → MISE_A_DISPOSITION" in caplog.text
    entry = AuditEntry.objects.for_object(invoice).get(action="invoices.invoice.mettre_a_disposition")
    assert entry.data["de"] == "DEPOSEE" and entry.data["vers"] == "MISE_A_DISPOSITION"
    assert entry.actor_kind == AuditEntry.ActorKind.SYSTEM
    invoice.refresh_from_db()
    assert invoice.status_changed_at == InvoiceStatusChange.objects.get(invoice=invoice).created_at
